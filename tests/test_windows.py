"""KPI windows and the old-member cut-off: windows add up, buyers are distinct, bad ones refused.

One small scenario with a build-up phase before the pre-sale (so the default cut-off, the
pre-sale's first day, lies inside the calendar) is run once with its baseline; the windows split
its calendar into adjacent parts.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from helpers import BASE, scenario

from simulator import cli
from simulator.analysis.kpis import compute_kpis, split_windows
from simulator.domain.lifecycle import ENROLLED, JOINED, OLD_MEMBER
from simulator.engine.model import PromotionModel
from simulator.engine.run import no_campaign, simulate
from simulator.scenario.schema import MAX_KPI_WINDOWS

SHOPPERS = 20000
CALENDAR = {
    "start": "2021-10-10",
    "end": "2021-11-15",
    "phases": [
        {"name": "buildup", "start": "2021-10-10", "end": "2021-10-19"},
        *BASE["calendar"]["phases"],
    ],
}
WINDOWS = {
    "buildup": {"phases": ["buildup"]},
    "presale": {"phases": ["presale"]},
    "november": {"start": "2021-11-01", "end": "2021-11-15"},
    "sale": {"start": "2021-10-20", "end": "2021-11-15"},
    "everything": {"start": "2021-10-10", "end": "2021-11-15"},
}
CUTOFF_DAY = 10  # 2021-10-20, the pre-sale's first day (the default cut-off)
# (union, its adjacent parts)
UNIONS = [("sale", ("presale", "november")), ("everything", ("buildup", "sale"))]
SUMS = (
    "gmv",
    "gmv_list",
    "discounts",
    "old_member_gmv",
    "new_member_gmv",
    "cost",
    "benefit_cost",
    "contact_cost",
    "orders",
    "visits",
    "contacts",
    "new_members",
    "incremental_gmv",
    "redemptions_benefit_coupon",
    "new_members_channel_live",
)


def windowed(**calendar):
    """The helpers' scenario with a build-up phase and the windows above; calendar changes."""
    return scenario(calendar={**CALENDAR, **calendar}, windows=WINDOWS)


@pytest.fixture(scope="module")
def parts():
    """KPIs of one run with its baseline, by part ("" the whole calendar, else a window)."""
    sc = windowed()
    run = simulate(sc, shoppers=SHOPPERS)
    base = simulate(no_campaign(sc), shoppers=SHOPPERS)
    return split_windows(compute_kpis(run, base))


def test_the_cutoff_defaults_to_the_presale_opening():
    sc = windowed()
    assert (sc.cutoff - sc.calendar.start).days == CUTOFF_DAY
    assert windowed(old_member_cutoff="2021-11-01").cutoff.day == 1
    no_presale = [{**ph, "presale": False} for ph in CALENDAR["phases"]]
    assert scenario(calendar={**CALENDAR, "phases": no_presale}).cutoff == sc.calendar.start


@pytest.mark.parametrize("union,halves", UNIONS)
def test_sums_over_adjacent_windows_add_up(parts, union, halves):
    """GMV, cost, orders, enrolments, ... over adjacent windows sum to their union's."""
    for kpi in SUMS:
        whole = parts[union][kpi]
        total = sum(parts[h][kpi] for h in halves)
        assert math.isclose(whole, total, rel_tol=1e-9, abs_tol=1e-6), (kpi, whole, total)
    assert parts[union]["gmv"] > 0 and all(parts[h]["orders"] > 0 for h in halves)


@pytest.mark.parametrize("union,halves", UNIONS)
def test_distinct_buyers_of_a_union(parts, union, halves):
    """A buyer of both parts is one buyer of the union: max(parts) <= union <= sum(parts)."""
    for kpi in ("member_buyers", "non_member_buyers", "buyers"):
        counts = [parts[h][kpi] for h in halves]
        assert max(counts) <= parts[union][kpi] <= sum(counts), kpi
        assert parts[union][kpi] < sum(counts), f"{kpi}: no shopper bought in both parts"


def test_old_member_buyers_after_the_cutoff_are_distinct(parts):
    """Windows from the cut-off on: who is an old member no longer changes inside them."""
    counts = [parts[h]["old_member_buyers"] for h in ("presale", "november")]
    assert max(counts) <= parts["sale"]["old_member_buyers"] <= sum(counts)


def test_a_window_of_the_whole_calendar_is_the_top_level(parts):
    """The same function on every day: identical values (None where the top level has None)."""
    assert parts["everything"] == parts[""]


def test_state_at_the_end_is_the_window_last_day(parts):
    """final_* of a window: the state counts at the end of its last day."""
    assert parts["november"]["final_repeat"] == parts[""]["final_repeat"]
    assert sum(parts["buildup"][f"final_{s}"] for s in ("prospect", "enrolled", "repeat")) > 0
    assert parts["buildup"]["final_enrolled"] != parts[""]["final_enrolled"]


def test_roi_to_date_counts_the_cost_before_the_window(parts):
    """roi books the window's own cost; roi_to_date the cost from the calendar's start."""
    sale = parts["sale"]
    assert sale["cost_to_date"] == pytest.approx(parts["buildup"]["cost"] + sale["cost"])
    assert sale["roi_to_date"] == pytest.approx(sale["incremental_gmv"] / sale["cost_to_date"])
    assert parts[""]["roi_to_date"] == parts[""]["roi"]


def test_a_build_up_recruit_is_an_old_member_from_the_cutoff():
    """Per shopper: enrolled before the cut-off, new member until it, old member from it on."""
    model = PromotionModel(windowed(), shoppers=SHOPPERS)
    for _ in range(CUTOFF_DAY):
        model.step()
    flags, state = model.shoppers.flags.copy(), model.shoppers.state.copy()
    recruits = (flags & JOINED) != 0
    assert recruits.sum() > 50 and not (flags[recruits] & OLD_MEMBER).any()
    model.step()  # the cut-off day
    after = model.shoppers.flags
    assert ((after[recruits] & OLD_MEMBER) != 0).all()
    newly_old = ((after & OLD_MEMBER) != 0) & ((flags & OLD_MEMBER) == 0)
    assert (state[newly_old] >= ENROLLED).all() and newly_old.sum() == recruits.sum()
    enrolled_today = ((after & JOINED) != 0) & ~recruits
    assert enrolled_today.any() and not (after[enrolled_today] & OLD_MEMBER).any()


def test_old_member_gmv_before_the_cutoff_excludes_the_recruits():
    """Moving the cut-off moves the recruits' GMV from new to old members, from its day on only.

    The plan names no old/new-member audience, so the cut-off changes no behaviour: member GMV
    is the same every day, and old-member GMV before the cut-off is that of a run whose
    cut-off is the last day.
    """
    cutoff = simulate(windowed(), shoppers=SHOPPERS)
    later = simulate(windowed(old_member_cutoff=CALENDAR["end"]), shoppers=SHOPPERS)
    old, old_late = cutoff.series("gmv_old_member"), later.series("gmv_old_member")
    member = old + cutoff.series("gmv_new_member")
    np.testing.assert_allclose(member, old_late + later.series("gmv_new_member"), rtol=1e-12)
    np.testing.assert_array_equal(old[:CUTOFF_DAY], old_late[:CUTOFF_DAY])
    assert cutoff.series("gmv_new_member")[:CUTOFF_DAY].sum() > 0  # the recruits bought
    assert (old[CUTOFF_DAY:-1] >= old_late[CUTOFF_DAY:-1]).all()
    assert old[CUTOFF_DAY:].sum() > old_late[CUTOFF_DAY:].sum()


def bad_windows_cases():
    """(windows or calendar change, field path in the message, what the message says)."""
    many = {f"w{k}": {"phases": ["presale"]} for k in range(MAX_KPI_WINDOWS + 1)}
    return [
        ({"windows": {"late": {"start": "2021-11-01", "end": "2021-12-31"}}}, "windows.late",
         "outside the calendar"),
        ({"windows": {"gap": {"phases": ["presale", "peak_day"]}}}, "windows.gap.phases",
         "contiguous"),
        ({"windows": {"odd": {"phases": ["nope"]}}}, "windows.odd.phases.0", "unknown phase"),
        ({"windows": {"both": {"phases": ["presale"], "start": "2021-10-20",
                               "end": "2021-10-21"}}}, "windows.both", "not both"),
        ({"windows": many}, "windows", f"at most {MAX_KPI_WINDOWS} windows"),
        ({"calendar": {**CALENDAR, "old_member_cutoff": "2022-01-01"}},
         "calendar.old_member_cutoff", "outside the calendar"),
    ]  # fmt: skip


@pytest.mark.parametrize("change,path,says", bad_windows_cases())
def test_bad_windows_are_refused(tmp_path, capsys, change, path, says):
    """`promosim validate`: exit 2, the file, line, field path and what was expected."""
    import yaml

    data = json.loads(json.dumps({**BASE, "calendar": CALENDAR, **change}, default=str))
    file = tmp_path / "bad.yaml"
    file.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    assert cli.main(["validate", str(file)]) == 2
    err = capsys.readouterr().err
    line = next(x for x in err.splitlines() if f": {path}: " in x)
    assert f"{file}:" in line and says in line and "Traceback" not in err


def test_kpis_json_has_the_windows(tmp_path):
    """`promosim run` writes the whole calendar's KPIs at the top, each window's under it."""
    import yaml

    data = json.loads(json.dumps({**BASE, "calendar": CALENDAR, "windows": WINDOWS}, default=str))
    file = tmp_path / "windows.yaml"
    file.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    out = tmp_path / "out"
    args = ["run", str(file), "--shoppers", "3000", "--out", str(out), "--no-plots", "--quiet"]
    assert cli.main(args) == 0
    k = json.loads((out / "kpis.json").read_text())
    assert list(k["windows"]) == list(WINDOWS)
    assert k["windows"]["everything"]["gmv"] == k["gmv"]
    assert {"roi", "roi_to_date", "member_buyers"} <= set(k["windows"]["sale"])
