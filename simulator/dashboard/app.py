"""The dashboard's page (Solara): pick a scenario, edit it, run it, read the KPIs, compare two.

State per browser session: the scenario being edited (`state.Edited`), the run settings, the
job shown and the job kept as strategy A. Runs go to the server's shared worker
(`runner.RUNNER`); while one computes the page polls it four times a second and shows the
replications done so far. `promosim dashboard` sets the starting scenario and sizes through
PROMOSIM_DASHBOARD_* environment variables.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import solara

from simulator.dashboard import views
from simulator.dashboard.downloads import report_html
from simulator.dashboard.runner import RUNNER, Job
from simulator.dashboard.state import (
    SHOPPERS_RANGE,
    Edited,
    FormField,
    form_fields,
    parse_text,
    shipped,
    text_of,
)
from simulator.errors import UserError

START = Path(os.environ.get("PROMOSIM_DASHBOARD_SCENARIO", shipped()[0]))
START_SHOPPERS = int(os.environ.get("PROMOSIM_DASHBOARD_SHOPPERS", 200_000))
START_REPS = int(os.environ.get("PROMOSIM_DASHBOARD_REPS", 3))
CSS = """
table.promosim {border-collapse: collapse; font-size: 13px; margin: 4px 0 12px 0}
table.promosim th, table.promosim td {padding: 2px 10px; border-bottom: 1px solid #ddd}
table.promosim td:not(:first-child) {text-align: right; font-variant-numeric: tabular-nums}
"""

edited = solara.reactive(Edited.open(START))
bad_text = solara.reactive({})  # dotted path -> why the typed text is not a value
shoppers = solara.reactive(START_SHOPPERS)
reps = solara.reactive(START_REPS)
seed = solara.reactive(edited.value.scenario.seed if edited.value.scenario else 0)
shown = solara.reactive("")  # key of the job shown
kept = solara.reactive("")  # key of the job kept as strategy A


def job(key: str) -> Job | None:
    """The runner's job of a key, if any."""
    return RUNNER.jobs.get(key)


def open_scenario(path: str) -> None:
    """Start editing another scenario file; a file that cannot be read is said, not raised."""
    try:
        ed = Edited.open(path)
    except UserError as exc:
        bad_text.set({"": f"error: {exc}"})
        return
    edited.set(ed)
    bad_text.set({})
    if ed.scenario is not None:
        seed.set(ed.scenario.seed)


def set_field(f: FormField, text) -> None:
    """A control changed: parse its text as the YAML would be read, then validate the whole."""
    try:
        value = parse_text(f, text)
    except UserError as exc:
        bad_text.set({**bad_text.value, f.path: str(exc)})
        return
    bad_text.set({k: v for k, v in bad_text.value.items() if k != f.path})
    edited.set(edited.value.with_value(f.path, value))


def run() -> None:
    """Queue the edited scenario (or show the cached run)."""
    ed = edited.value
    if ed.scenario is None or bad_text.value:
        return
    shown.set(RUNNER.submit(ed.scenario, ed.base_dir, shoppers.value, reps.value, seed.value).key)


@solara.component
def Field(f: FormField, value, error: str):
    """One control of the form, with the CLI's message under it when its value is refused."""
    if f.kind in ("multi", "choice"):
        options = list(f.options)
        if f.kind == "multi":
            control, picked = solara.SelectMultiple, {"all_values": options, "values": value}
        else:
            control, picked = solara.Select, {"values": options, "value": value}
        control(f.label, on_value=lambda v: set_field(f, v), dense=True, **picked)
    else:
        solara.InputText(
            f.label,
            value=value,
            on_value=lambda v: set_field(f, v),
            continuous_update=False,
            error=error or False,
        )
    if error and f.kind in ("multi", "choice"):
        solara.Error(error, dense=True)


@solara.component
def Form():
    """The scenario's offers, touches or channels (one section shown), of one item or all.

    Only the chosen fields are drawn: the page redraws them at every edit.
    """
    section, set_section = solara.use_state("offers")
    item, set_item = solara.use_state("all")
    ed = edited.value
    fields = form_fields(ed.data)[section]
    items = list(dict.fromkeys(f.label.split(": ")[0] for f in fields))
    solara.ToggleButtonsSingle(
        value=section,
        values=["offers", "touches", "channels"],
        on_value=lambda v: (set_section(v), set_item("all")),
    )
    solara.Select(
        "show",
        values=["all", *items],
        value=item if item in items else "all",
        on_value=set_item,
        dense=True,
    )
    for f in fields:
        if item in ("all", f.label.split(": ")[0]):
            error = bad_text.value.get(f.path) or ed.problem_at(f.path)
            Field(f, text_of(ed.data, f), error)


@solara.component
def Picker():
    """Scenario file: a shipped one or a path; the run's size, replications and seed."""
    path, set_path = solara.use_state(str(edited.value.source))
    names = [str(p) for p in shipped()]
    with solara.Row():
        solara.Select(
            "shipped scenario",
            values=names,
            value=str(edited.value.source) if str(edited.value.source) in names else None,
            on_value=open_scenario,
        )
        solara.InputText("or a scenario file", value=path, on_value=set_path)
        solara.Button("open", on_click=lambda: open_scenario(path))
    with solara.Row():
        low = min(SHOPPERS_RANGE[0], START_SHOPPERS)
        solara.SliderInt(
            "shoppers",
            value=shoppers,
            min=low,
            max=SHOPPERS_RANGE[1],
            step=10_000 if low < SHOPPERS_RANGE[0] else 50_000,
            thumb_label=False,
        )
        solara.Text(f"{shoppers.value:,} shoppers")
        solara.InputInt("replications", value=reps, continuous_update=False)
        solara.InputInt("seed", value=seed, continuous_update=False)


def use_poll(j: Job) -> None:
    """While a job computes, redraw the calling component four times a second (a hook)."""
    _, tick = solara.use_state(0)

    def loop():
        while not j.done:
            time.sleep(0.25)
            tick(lambda t: t + 1)
        tick(lambda t: t + 1)

    solara.use_thread(loop, dependencies=[j.key])


@solara.component
def Results(j: Job):
    """KPIs, funnel, daily GMV and touch economics of the job shown."""
    use_poll(j)
    done = len(j.rep.kpis) if j.rep else 0
    if not j.done:
        solara.ProgressLinear(value=j.progress.share() * 100)
    status = f"run {j.key[:8]}, {j.label}: {done} of {j.reps} replications"
    if j.done and not j.error:
        status += f", {j.wall_s:.1f} s (first results after {j.first_s:.1f} s)"
    solara.Text(status, classes=["run-status"])
    if j.error:
        solara.Error(j.error)
    if j.kpis is None:
        return
    if j.done and not j.error:
        with solara.Row():
            solara.Button("keep as strategy A", on_click=lambda: kept.set(j.key))
            solara.FileDownload(
                lambda: report_html(j, str(edited.value.source)),
                filename=f"{edited.value.source.stem}_report.html",
                label="download HTML report",
            )
    solara.HTML(
        tag="div",
        unsafe_innerHTML=views.html_table(
            ("kpi", "value", "95% CI"), views.kpi_rows(j.kpis), "kpis"
        ),
    )
    with solara.Row():
        for png in j.charts:
            solara.Image(png)
    touches = views.touch_table(j.result.touches)
    if touches:
        solara.HTML(
            tag="div",
            unsafe_innerHTML="<b>touch economics</b>"
            + views.html_table(views.TOUCH_COLUMNS, touches, "touches"),
        )


@solara.component
def Strategies(a: Job, b: Job):
    """Strategy A (kept) and B (shown) side by side, and B against A pair by pair."""
    use_poll(b)
    if a.kpis is None or b.kpis is None or not (a.done and b.done):
        return
    solara.HTML(
        tag="div",
        unsafe_innerHTML="<b>strategy A (kept) and B (shown)</b>"
        + views.html_table(
            ("kpi", "A", "A 95% CI", "B", "B 95% CI"), views.side_by_side(a.kpis, b.kpis), "sides"
        ),
    )
    if (a.shoppers, a.seed, a.reps) != (b.shoppers, b.seed, b.reps):
        solara.Warning(
            "A and B ran on different shoppers, seed or replications: no pairwise "
            "comparison (run B with A's settings)"
        )
        return
    rows, text = views.pairwise(a.rep, b.rep)
    solara.Text(text, classes=["verdict"])
    if rows:
        solara.HTML(
            tag="div",
            unsafe_innerHTML=views.html_table(
                ("kpi", "B - A", "95% CI", "CI excludes 0"), rows, "pairs"
            ),
        )


@solara.component
def Page():
    """The dashboard."""
    solara.Style(CSS)
    solara.Title("promosim dashboard")
    ed = edited.value
    current, a = job(shown.value), job(kept.value)
    with solara.Column(style={"padding": "12px"}):
        solara.Text(
            "promosim dashboard: what if the offers, touches or channels change?",
            style={"font-size": "20px"},
        )
        Picker()
        with solara.Row():
            solara.Button(
                "run",
                on_click=run,
                color="primary",
                disabled=ed.scenario is None or bool(bad_text.value),
            )
            solara.FileDownload(
                lambda: ed.yaml_text().encode(),
                filename=f"{ed.source.stem}_edited.yaml",
                label="download scenario YAML",
            )
        if ed.message or bad_text.value.get(""):
            solara.Error(bad_text.value.get("") or f"error: {ed.message}", classes=["cli-error"])
        with solara.Columns([1, 2]):
            with solara.Column():
                Form()
            with solara.Column():
                if current is not None:
                    Results(current)
                if a is not None and current is not None and a is not current:
                    Strategies(a, current)
