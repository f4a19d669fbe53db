"""The KPI tables of docs/kpis.md, generated from the KPI registry so the two cannot differ.

`python -m simulator.analysis.kpi_docs` rewrites the part of docs/kpis.md between the two marker
lines; tests/test_kpis.py fails when that part is not what the registry generates.
"""

from __future__ import annotations

from pathlib import Path

from simulator.analysis.kpi_registry import REGISTRY
from simulator.analysis.kpi_spec import Kpi

BEGIN = "<!-- KPI tables: generated from simulator/analysis/kpi_registry.py by `python -m simulator.analysis.kpi_docs`; do not edit -->"  # noqa: E501
END = "<!-- end of the generated KPI tables -->"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "kpis.md"


def uses(k: Kpi) -> str:
    """What the KPI is used for, in words: headline, compared, needs the baseline, better."""
    words = [
        word
        for word, flag in (
            ("headline", k.headline),
            ("compared", k.compared),
            ("needs the baseline", k.needs_baseline),
        )
        if flag
    ]
    if k.better:
        words.append({"max": "higher is better", "min": "lower is better"}[k.better])
    return ", ".join(words)


def table(kpis: list[Kpi]) -> list[str]:
    """A Markdown table: one row per KPI with key, formula, unit, aggregate and uses."""
    rows = ["| key | formula | unit | over days | use |", "|---|---|---|---|---|"]
    for k in kpis:
        rows.append(f"| `{k.name}` | {k.formula} | {k.unit} | {k.aggregate} | {uses(k)} |")
    return rows


def kpi_tables() -> str:
    """The generated part of docs/kpis.md, marker lines included."""
    lines = [
        BEGIN,
        "",
        *table([k for k in REGISTRY if k.reported]),
        "",
        "A targets fit (`docs/calibration.md`) can also use these, which `kpis.json` does not "
        "report:",
        "",
        *table([k for k in REGISTRY if not k.reported]),
        "",
        END,
    ]
    return "\n".join(lines)


def generated_part(text: str) -> str:
    """The text from the BEGIN marker line to the END marker line (empty when absent)."""
    if BEGIN not in text or END not in text:
        return ""
    return text[text.index(BEGIN) : text.index(END) + len(END)]


def update(path: Path = DOCS) -> None:
    """Replace the generated part of the docs file with the registry's tables."""
    text = path.read_text(encoding="utf-8")
    old = generated_part(text)
    if not old:
        raise SystemExit(f"{path}: the marker lines are missing ({BEGIN!r} ... {END!r})")
    path.write_text(text.replace(old, kpi_tables()), encoding="utf-8")


if __name__ == "__main__":
    update()
