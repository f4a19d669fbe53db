"""Sections every kind of report has: charts, warnings, touch economics, assumptions, settings."""

from __future__ import annotations

from pathlib import Path

from simulator.errors import UserError
from simulator.formatting import report_number
from simulator.reports.report_folder import ResultFolder
from simulator.reports.report_model import Section, Table, cell, pairs_table, rows_table, words

# captions of the charts the commands write; any other PNG gets its file name in words
CAPTIONS = {
    "lifecycle.png": "Shoppers by lifecycle state over the calendar",
    "daily_gmv.png": "Daily GMV by member type, with the no-campaign baseline",
    "recruitment.png": "New members by channel",
    "kpi_bars.png": "Each strategy's KPIs as differences from the baseline, with 95% CIs",
    "increments.png": "Incremental GMV, cost and ROI against the baseline",
    "incremental_gmv.png": "Cumulative incremental GMV over the baseline, day by day",
    "funnel.png": "Member funnel of each strategy",
    "touches.png": "Touch economics: spend, budget use and marginal ROI per touch",
    "pareto.png": "Incremental GMV against cost of the plans tried (Pareto front)",
}
# scalar settings shown first, in this order, when a folder's metadata has them
SETTINGS_FIRST = ("scenario", "name", "seed", "shoppers", "days", "reps", "assumptions")


def caption(image: str) -> str:
    """A chart's caption: a known chart's, else its file name in words."""
    if image in CAPTIONS:  # a command's own chart, at the top of its folder
        return CAPTIONS[image]
    where = f" ({Path(image).parent.as_posix()}/)" if "/" in image else ""
    text = words(Path(image).stem)
    return text[:1].upper() + text[1:] + where


def charts_section(folder: ResultFolder) -> Section:
    """Every chart of the folder, captioned."""
    known = list(CAPTIONS)
    ordered = sorted(folder.images(), key=lambda f: known.index(f) if f in known else len(known))
    images = [(image, caption(image)) for image in ordered]
    text = [] if images else ["The folder has no charts (written with --no-plots?)."]
    return Section("Charts", paragraphs=text, images=images)


def warnings_section(warnings: list[str] | dict) -> Section:
    """What the plan did not do as it says (a list, or lists by scenario)."""
    if isinstance(warnings, dict):
        items = [f"{name}: {w}" for name, ws in warnings.items() for w in ws or []]
    else:
        items = list(warnings or [])
    if not items:
        return Section("Warnings", paragraphs=["None: every touch contacted shoppers as planned."])
    return Section("Warnings", bullets=items, warning=True)


def touches_section(touches, scenario: str | None = None) -> Section | None:
    """Touch economics: one row per touch (a run's mapping, or a comparison's rows)."""
    if not touches:
        return None
    if isinstance(touches, dict):
        touches = [{"touch": name, **fields} for name, fields in touches.items()]
    note = (
        "Spend is what the touch cost (contacts and the benefits it granted); budget use is "
        "spend over its budget. Marginal fields compare the plan with and without the touch "
        "(common random numbers) and are filled only with --touch-roi; a ROI whose incremental "
        "cost's CI includes zero is reported as such, not as a number."
    )
    where = f" of {scenario}" if scenario else ""
    return Section(f"Touch economics{where}", tables=[rows_table(touches, note=note)])


def assumptions_section(scenario_files: list[str], drawn: list[dict] | None = None) -> Section:
    """The scenarios' stated assumptions (distribution, point, 90% range); the values drawn."""
    section = Section("Assumptions")
    rows: dict[str, list] = {}
    for path in scenario_files:
        try:
            found = _assumptions_of(path)
        except (OSError, UserError) as exc:
            section.paragraphs.append(f"{path}: cannot read its assumptions here ({exc}).")
            continue
        for a in found:
            name = Path(path).stem
            if a.path in rows:
                rows[a.path][-1] += f", {name}"
                continue
            low, high = a.at(0.05), a.at(0.95)
            rows[a.path] = [
                a.path,
                _distribution(a.dist),
                report_number(a.point),
                f"[{report_number(low)}, {report_number(high)}]",
                name,
            ]
    if rows:
        section.paragraphs.append(
            "Behavioural numbers the results depend on, as the scenario files state them. The "
            "point value is what a run with fixed assumptions uses; with --assumptions draw "
            "each pair of replications draws them from the distribution."
        )
        head = ["field", "distribution", "point value", "90% range", "scenarios"]
        section.tables.append(Table(head, list(rows.values())))
    elif not section.paragraphs:
        section.paragraphs.append("The scenarios state no assumptions (`assumptions:`).")
    if drawn:
        table = rows_table([{"draw": k, **v} for k, v in enumerate(drawn)])
        table.title = "Values drawn (one row per parameter draw)"
        section.tables.append(table)
    return section


def _assumptions_of(path: str):
    """The resolved assumptions of a scenario file (`scenario.load.assumptions_of`)."""
    from simulator.scenario.load import assumptions_of, load_scenario

    return assumptions_of(load_scenario(path), Path(path).parent, path)


def _distribution(dist) -> str:
    """A distribution in words: "lognormal(median 0.4, sigma 0.4)"."""
    fields = dist.model_dump(exclude_none=True)
    kind = fields.pop("dist")
    fields.update({k: fields.pop(k) for k in ("low", "high") if k in fields})  # bounds last
    return f"{kind}({', '.join(f'{k} {cell(v, k)}' for k, v in fields.items())})"


def settings_section(meta: dict, extra: dict | None = None) -> Section:
    """The settings a result was made with: every scalar of its metadata, known ones first."""
    scalars = {
        k: v
        for k, v in {**meta, **(extra or {})}.items()
        if not isinstance(v, dict | list) and k not in ("warnings", "note")
    }
    ordered = {k: scalars[k] for k in SETTINGS_FIRST if k in scalars}
    ordered.update(scalars)
    section = Section("Settings", tables=[pairs_table(ordered)])
    if meta.get("note"):
        section.paragraphs.append(str(meta["note"]))
    return section
