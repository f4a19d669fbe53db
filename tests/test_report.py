"""`promosim report DIR`: one self-contained HTML page and a Markdown file per result folder.

Folders of `run`, `compare` and `sweep` are made small (2,000 shoppers); an `optimize` folder
and the compare/run fields of the output contract (pairs, verdicts, touches) are synthetic, so
the report is tested on what those commands promise to write. The browser test opens each page
in the system's headless Chromium: no console error, every image loaded.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from browser import CHROMIUM, system_chromium

from simulator.cli import main
from simulator.files import MARKER, check_output_dir, read_marker, to_json, write_marker

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["--shoppers", "2000", "--quiet"]
NEW_FIELD = "field_added_later"  # a field another command adds to its rows: the report shows it


def promosim(argv, capsys):
    """Run promosim in-process: (exit code, stdout, stderr); never a traceback."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:
        code = int(exc.code)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """A run, a compare, a sweep and a synthetic optimize folder, each without a report."""
    base = tmp_path_factory.mktemp("results")
    d11, none = "scenarios/double11_2021.yaml", "scenarios/no_campaign.yaml"
    grid = ["--grid", "benefits.member_coupon.offer.amount_off=10,20"]
    commands = {
        "run": ["run", d11, "--reps", "4"],
        "compare": ["compare", none, d11, "--reps", "4"],
        "sweep": ["sweep", d11, *grid, "--reps", "1"],
    }
    for name, argv in commands.items():
        assert main([*argv, *SMALL, "--out", str(base / name)]) in (0, None)
    _add_contract_fields(base)
    _synthetic_optimize(base / "compare", base / "optimize")
    return base


def _add_contract_fields(base: Path) -> None:
    """The touch economics, pairs and verdicts the contract promises, with a field added later."""
    touch = {
        "channel": "sms",
        "benefit": "member_coupon",
        "contacts": 1200,
        "spend": 8224.0,
        "budget": 100000.0,
        "budget_use": 0.08224,
        "redemptions": 37,
        "roi": None,
        "roi_note": "incremental cost's CI includes zero",
        NEW_FIELD: 1.5,
    }
    kpis = json.loads((base / "run" / "kpis.json").read_text())
    kpis["touches"] = {"coupon_sms": touch}
    (base / "run" / "kpis.json").write_text(to_json(kpis))
    cmp = json.loads((base / "compare" / "comparison.json").read_text())
    cmp["pairs"] = [
        {
            "a": "double11_2021",
            "b": "no_campaign",
            "kpi": "incremental_gmv",
            "diff": 28773.0,
            "ci_low": 16625.0,
            "ci_high": 40922.0,
            "excludes_zero": True,
            "p_a_beats_b": None,
        }
    ]
    cmp["verdicts"] = [
        {
            "a": "double11_2021",
            "b": "no_campaign",
            "dominance": "trade-off",
            "text": "double11_2021 gains 28.8k GMV [16.6k, 40.9k] for 63.6k more "
            "cost than no_campaign.",
            NEW_FIELD: "shown",
        }
    ]
    cmp["touches"] = [{"scenario": "double11_2021", "touch": "coupon_sms", **touch}]
    (base / "compare" / "comparison.json").write_text(to_json(cmp))


def _synthetic_optimize(compare: Path, out: Path) -> None:
    """An optimize folder as the contract describes it, made of a compare folder's files."""
    shutil.copytree(compare, out)
    (out / MARKER).unlink()
    trials = [
        {"number": k, "objective": 1000.0 * k, "cost": 400.0 * k, "amount_off": 5 + k}
        for k in range(30)
    ]
    optimize = {
        "meta": {
            "scenario": "scenarios/double11_2021.yaml",
            "objective": "incremental_gmv",
            "budget": 500000,
            "trials": 30,
            "seed": 1,
        },
        "start": {"objective": 12000.0},
        "best": {
            "params": {"benefits.member_coupon.offer.amount_off": 34, "audience": "all"},
            "objective": 29000.0,
            "cost": 11600.0,
        },
        "trials": trials,
        "pareto": [{"cost": t["cost"], "incremental_gmv": t["objective"]} for t in trials[::10]],
    }
    (out / "optimize.json").write_text(to_json(optimize))
    (out / "best.yaml").write_text("# the best plan\n")
    write_marker(out, "optimize")


@pytest.fixture(scope="module")
def reports(folders):
    """Each folder with its report written by `promosim report DIR` (the default place)."""
    for kind in ("run", "compare", "sweep", "optimize"):
        assert main(["report", str(folders / kind), "--quiet"]) == 0
    return folders


KINDS = ("run", "compare", "sweep", "optimize")


@pytest.mark.parametrize("kind", KINDS)
def test_report_is_one_self_contained_page_with_every_chart(reports, kind):
    folder = reports / kind
    html = (folder / "report.html").read_text()
    assert html.startswith("<!-- Written by `promosim report`")
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//|file:)""", html)
    sources = re.findall(r'<img src="([^"]+)"', html)
    charts = list(folder.rglob("*.png"))
    assert charts and len(sources) == len(charts)
    assert all(s.startswith("data:image/png;base64,") for s in sources)
    for heading in ("Key figures", "Charts", "Assumptions", "Settings"):
        assert f"<h2>{heading}</h2>" in html
    text = re.sub(r"data:image/png;base64,[^\"]+", "", html)
    assert not re.search(r"\de[+-]\d", text)  # numbers for people: 8.88M, not 8.88e+06
    md = (folder / "report.md").read_text()
    linked = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert len(linked) == len(charts) and all((folder / p).is_file() for p in linked)


def test_run_report_headline_kpis_with_cis_and_assumptions(reports):
    html = (reports / "run" / "report.html").read_text()
    assert "the campaign added" in html and "95% CI" in html and "ROI" in html
    assert re.search(r"member GMV penetration</td><td[^>]*>\d+\.\d%", html)  # a share in %
    assert "channels.sms.response_lift" in html  # the scenario's stated assumptions
    assert "Values drawn" in html  # --reps 4 draws them: one row per draw
    assert "Touch economics" in html and "budget use" in html and "8.2%" in html
    assert NEW_FIELD.replace("_", " ") in html  # a field added to the rows later appears


def test_compare_report_verdicts_pairs_and_touches(reports):
    html = (reports / "compare" / "report.html").read_text()
    headline = html.split('<div class="headline">')[1].split("</div>")[0]
    assert "double11_2021 gains 28.8k GMV" in headline
    assert "Strategy against strategy" in html and "Pairs" in html and "shown" in html
    assert "Difference from the baseline" in html and "Under the stated assumptions" in html
    assert "channels.sms.response_lift" in html  # read from meta.scenario_files


def test_sweep_and_optimize_reports_say_what_was_best(reports):
    sweep = (reports / "sweep" / "report.html").read_text()
    assert "Best incremental GMV" in sweep and re.search(r"amount_off = (10|20)\b", sweep)
    opt = (reports / "optimize" / "report.html").read_text()
    assert "30 plans evaluated" in opt and "29.0k" in opt and "12.0k" in opt
    assert "The best 20 of 30 trials" in opt and "Pareto front" in opt


@pytest.mark.parametrize("kind", KINDS)
def test_report_joins_the_folder_which_its_command_may_still_replace(reports, kind, capsys):
    folder = reports / kind
    assert {"report.html", "report.md"} <= set(read_marker(folder)["files"])
    check_output_dir(folder, read_marker(folder)["command"])  # not refused as foreign
    before = (folder / "report.html").stat().st_mtime_ns
    code, _, _ = promosim(["report", folder, "--quiet"], capsys)  # its own file is replaced
    assert code == 0 and (folder / "report.html").stat().st_mtime_ns >= before
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]


def copy(folder: Path, to: Path) -> Path:
    """A copy of a result folder without its report."""
    shutil.copytree(folder, to, ignore=shutil.ignore_patterns("report.*"))
    return to


def test_report_refuses_bad_folders_in_one_line(tmp_path, reports, capsys):
    cases = {"missing": tmp_path / "nope"}
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "notes.txt").write_text("mine")
    cases["not a result"] = plain
    corrupt = copy(reports / "run", tmp_path / "corrupt")
    (corrupt / "kpis.json").write_text('{"gmv": 1,')
    cases["corrupt JSON"] = corrupt
    wrong = copy(reports / "run", tmp_path / "wrong")
    (wrong / "kpis.json").write_text("[1, 2]")
    cases["wrong shape"] = wrong
    other = tmp_path / "other"
    other.mkdir()
    (other / "fit.json").write_text("{}")
    write_marker(other, "calibrate targets")
    cases["another command's"] = other
    unfinished = copy(reports / "sweep", tmp_path / "unfinished")
    (unfinished / MARKER).unlink()
    cases["unfinished sweep"] = unfinished
    for what, folder in cases.items():
        code, _, err = promosim(["report", folder], capsys)
        assert code == 2, what
        assert err.startswith("error: ") and err.count("\n") == 1, (what, err)
        assert not (folder / "report.html").exists(), what


def test_report_never_replaces_a_file_promosim_did_not_write(tmp_path, reports, capsys):
    folder = copy(reports / "run", tmp_path / "run")
    (folder / "report.html").write_text("my own notes")
    code, _, err = promosim(["report", folder], capsys)
    assert code == 2 and "--force" in err
    assert (folder / "report.html").read_text() == "my own notes"
    mine = tmp_path / "mine.html"
    mine.write_text("mine")
    code, _, _ = promosim(["report", folder, "--out", mine], capsys)
    assert code == 2 and mine.read_text() == "mine"
    code, _, _ = promosim(["report", folder, "--out", tmp_path / "r.md"], capsys)
    assert code == 2  # a Markdown name without --markdown
    out = tmp_path / "elsewhere" / "review.md"
    code, _, _ = promosim(["report", folder, "--out", out, "--markdown", "--quiet"], capsys)
    assert code == 0
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", out.read_text())
    assert links and all((out.parent / p).is_file() for p in links)  # relative to the file
    assert read_marker(folder)["files"] == read_marker(reports / "run")["files"]


def watch(page) -> list[str]:
    """The console errors, page errors and failed requests of a page, as they happen."""
    problems = []
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("requestfailed", lambda r: problems.append(f"failed {r.url[:80]}"))
    return problems


def test_reports_open_in_headless_chromium_with_every_image_loaded(reports, tmp_path):
    sync_playwright = system_chromium()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            for kind in KINDS:
                page = browser.new_page(viewport={"width": 1200, "height": 900})
                problems = watch(page)
                page.goto((reports / kind / "report.html").as_uri(), wait_until="load")
                loaded = page.evaluate(
                    "Array.from(document.images).map(i => i.complete && i.naturalWidth > 0)"
                )
                shot = tmp_path / f"report_{kind}.png"  # an artifact to look at; one page whole
                page.screenshot(path=str(shot), full_page=kind == "run")
                assert problems == [], kind
                assert loaded and all(loaded), (kind, loaded)
                assert page.title() and page.locator("h2").count() >= 4
                page.close()
        finally:
            browser.close()
