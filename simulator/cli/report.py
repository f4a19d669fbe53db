"""`promosim report DIR`: the campaign review of a run, compare, sweep or optimize folder.

One self-contained HTML page (style inline, charts embedded, no script) and a Markdown version,
by default written into the folder as report.html and report.md and added to the folder's
marker (so the folder stays promosim's, and a rerun of its command replaces them with it).
`--out FILE` writes one file elsewhere. An existing file is replaced only when promosim wrote
it (its first line is the report's provenance line), or with --force; every file appears whole
or not at all. Exit codes: 0 written; 2 a folder that is not a finished result, a corrupt one,
or a file that may not be replaced.
"""

from __future__ import annotations

import sys
from pathlib import Path

from simulator.cli.common import BadInput


def cmd_report(args) -> int:
    """Read the folder, build the report, write it (HTML and Markdown, or one to --out)."""
    from simulator.files import (
        OutputError,
        add_to_marker,
        atomic_write_text,
        check_output_file,
        check_replace_file,
    )
    from simulator.reports.report_build import build_report
    from simulator.reports.report_folder import REPORT_FILES, ReportError, open_folder
    from simulator.reports.report_html import PROVENANCE, render_html, render_markdown

    folder = open_folder(args.dir)
    targets = _targets(args, folder.path, REPORT_FILES)
    for path in targets.values():
        check_output_file(path)
        check_replace_file(path, force=args.force, written_by=PROVENANCE)
    try:
        report = build_report(folder, source=args.dir)
    except (KeyError, TypeError, AttributeError, IndexError, ValueError) as exc:
        raise ReportError(
            f"{args.dir} does not hold the fields a {folder.kind} result has ({exc!r}); rerun the "
            "command that wrote it"
        ) from None
    inside = [p.name for p in targets.values() if p.parent.resolve() == folder.path.resolve()]
    if folder.marker is not None and inside:
        add_to_marker(folder.path, inside)  # first: a file written after it is listed already
    try:
        for fmt, path in targets.items():
            if fmt == "html":
                text = render_html(report, folder.path)
            else:
                text = render_markdown(report, folder.path, path)
            atomic_write_text(path, text)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    if not args.quiet:
        for line in report.headline:
            print(line)
        print("written: " + ", ".join(str(p) for p in targets.values()), file=sys.stdout)
    return 0


def _targets(args, folder: Path, names: tuple[str, str]) -> dict[str, Path]:
    """The files to write: {"html": path, "md": path}, or the one format --out names."""
    if args.out is None:
        targets = {"html": folder / names[0], "md": folder / names[1]}
        return {"md": targets["md"]} if args.markdown else targets
    out = Path(args.out)
    if out.suffix.lower() in (".md", ".markdown") and not args.markdown:
        raise BadInput(
            f"--out {out} is a Markdown file name; add --markdown, or name an .html file"
        )
    return {"md" if args.markdown else "html": out}


def add_parser(subparsers) -> None:
    """Add `report` to the top-level subparsers."""
    r = subparsers.add_parser(
        "report",
        help="write a campaign report (HTML and Markdown) of a run, compare, sweep or optimize "
        "folder",
    )
    r.add_argument("dir", help="a folder written by promosim run, compare, sweep or optimize")
    r.add_argument(
        "--out",
        help="write the report to this file instead (HTML, or Markdown with --markdown); "
        "default: DIR/report.html and DIR/report.md",
    )
    r.add_argument(
        "--markdown",
        action="store_true",
        help="write Markdown only (charts referred to by relative path)",
    )
    r.add_argument(
        "--force",
        action="store_true",
        help="replace an existing --out file that promosim did not write",
    )
    r.add_argument("--quiet", action="store_true", help="print nothing but errors")
    r.set_defaults(func=cmd_report)
