"""Plans that do not do what they say are warned about: before a run and from its counters."""

from __future__ import annotations

import copy
import json

from helpers import BASE, SCENARIOS, scenario

from simulator import cli
from simulator.analysis.run_warnings import run_warnings
from simulator.engine.run import simulate
from simulator.scenario.load import load_scenario, validate_data
from simulator.scenario.plan_warnings import undefined_segments

PLAN = BASE["plan"]


def test_a_segment_nobody_is_in_is_named():
    sc = scenario(
        plan={**PLAN, "to_groups": {"channel": "push", "audience": ["group_member"]}},
        benefits={"coupon": {**BASE["benefits"]["coupon"], "target": {"segments": ["iron_fan"]}}},
    )
    warnings = undefined_segments(sc)
    assert any("plan.to_groups.audience names segment 'group_member'" in w for w in warnings)
    assert any("benefits.coupon.target.segments names segment 'iron_fan'" in w for w in warnings)
    assert undefined_segments(scenario()) == []


def test_a_touch_that_reaches_nobody():
    sc = scenario(plan={**PLAN, "to_groups": {"channel": "push", "audience": ["group_member"]}})
    warnings = run_warnings(simulate(sc, shoppers=5000))
    assert any(w.startswith("plan.to_groups: contacted nobody on its 27 day(s)") for w in warnings)
    assert not any(w.startswith("plan.coupon_push") for w in warnings)


def test_a_budget_barely_used():
    plan = {**PLAN, "coupon_sms": {**PLAN["coupon_sms"], "budget": 1_000_000}}
    warnings = run_warnings(simulate(scenario(plan=plan), shoppers=5000))
    (used,) = [w for w in warnings if w.startswith("plan.coupon_sms: used")]
    assert "of its budget of 1,000,000" in used
    assert not any("budget" in w for w in run_warnings(simulate(scenario(), shoppers=5000)))


def test_a_capacity_used_by_earlier_touches():
    """Two SMS touches on one day, the first taking the whole capacity: the second is starved."""
    first = {"channel": "sms", "audience": ["all"], "when": {"dates": ["2021-11-11"]}}
    data = copy.deepcopy(BASE)
    data["plan"] = {"first": first, "second": {**first, "audience": ["members"]}}
    data["channels"]["sms"].update(daily_capacity=100, frequency_cap=None)
    warnings = run_warnings(simulate(validate_data(data), shoppers=20_000))
    assert warnings == [
        "plan.second: on 1 day(s) (first 2021-11-11) channel 'sms' had used its daily capacity "
        "of 100 on earlier touches (first); second made no contact those days"
    ]


def test_shipped_scenarios_warn_only_where_their_comments_say_so():
    for path in SCENARIOS:
        sc = load_scenario(path)
        warnings = undefined_segments(sc) + run_warnings(
            simulate(sc, shoppers=100_000, base_dir=path.parent)
        )
        text = path.read_text(encoding="utf-8")
        if "extends: double11_2021.yaml" in text:  # the comment may be in the parent
            text += (path.parent / "double11_2021.yaml").read_text(encoding="utf-8")
        for warning in warnings:
            touch = warning.split(":")[0].removeprefix("plan.")
            assert warned_before(text, touch), (path.name, warning)


def warned_before(text: str, touch: str) -> bool:
    """The comment block just above the touch's entry says `promosim run` warns about it."""
    lines = text.splitlines()
    at = next(k for k, line in enumerate(lines) if line.startswith(f"  {touch}:"))
    above = []
    for line in reversed(lines[:at]):
        if not line.lstrip().startswith("#"):
            break
        above.append(line)
    return any("Warned by `promosim run`" in line for line in above)


def test_run_prints_and_records_warnings(tmp_path, capsys):
    path = tmp_path / "store.yaml"
    data = {
        **BASE,
        "plan": {**PLAN, "to_groups": {"channel": "push", "audience": ["group_member"]}},
    }
    path.write_text(json.dumps(data, default=str), encoding="utf-8")
    out = tmp_path / "out"
    assert cli.main(["run", str(path), "--shoppers", "3000", "--out", str(out), "--no-plots"]) == 0
    err = capsys.readouterr().err
    assert "warning: plan.to_groups: contacted nobody" in err
    assert "warning: plan.to_groups.audience names segment 'group_member'" in err
    meta = json.loads((out / "run.json").read_text())
    assert any(w.startswith("plan.to_groups: contacted nobody") for w in meta["warnings"])
    assert cli.main(["validate", str(path)]) == 0
    assert "names segment 'group_member'" in capsys.readouterr().err
