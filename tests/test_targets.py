"""Fitting a scenario to KPI targets: recovery of known parameters, bad files, unmet targets."""

from __future__ import annotations

import copy
import json

import pytest
import yaml
from helpers import BASE

from simulator import cli
from simulator.fitting.targets.problem import load_problem
from simulator.fitting.targets.search import fit
from simulator.fitting.targets.spec import TargetsError, read_targets
from simulator.scenario.load import load_scenario

SHOPPERS = 3000  # runs at 3,000 of the scenario's 20,000 shoppers: counts are scaled by 20/3
TRUE = {"population.enrol_per_visit": 0.04, "population.offer_response.max_log_odds": 1.2}


@pytest.fixture
def scenario_file(tmp_path):
    """The helpers' test store as a scenario file, with an explicit enrolment rate."""
    data = copy.deepcopy(BASE)
    data["population"]["enrol_per_visit"] = 0.02
    data["population"]["offer_response"] = {"max_log_odds": 1.5}
    path = tmp_path / "store.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def write_targets(path, targets: dict, params: dict, **top) -> str:
    """A targets file from plain dicts."""
    path.write_text(yaml.safe_dump({**top, "targets": targets, "params": params}, sort_keys=False))
    return str(path)


TARGETS = {
    "recruits": {"kpi": "new_members", "value": 1.0, "tolerance": 1.0},
    "sale_lift": {
        "kpi": "gmv",
        "phases": ["first_wave", "peak_day"],
        "relative_to_baseline": True,
        "value": 1.0,
        "tolerance": 0.01,
    },
}
PARAMS = {
    "population.enrol_per_visit": [0.005, 0.1],
    "population.offer_response.max_log_odds": {"bounds": [0.3, 3], "start": 0.6},
}


def test_fit_recovers_known_parameters(scenario_file, tmp_path):
    """Targets taken from a run at known values are reached, and the values recovered."""
    tf = write_targets(tmp_path / "t.yaml", TARGETS, PARAMS)
    truth = load_problem(scenario_file, tf, shoppers=SHOPPERS, reps=2).evaluate(list(TRUE.values()))
    targets = copy.deepcopy(TARGETS)
    targets["recruits"].update(value=float(truth.mean[0]), tolerance=float(0.02 * truth.mean[0]))
    targets["sale_lift"].update(value=float(truth.mean[1]), tolerance=0.01)
    problem = load_problem(
        scenario_file,
        write_targets(tmp_path / "t.yaml", targets, PARAMS),
        shoppers=SHOPPERS,
        reps=2,
    )
    assert problem.starts == {
        "population.enrol_per_visit": 0.02,
        "population.offer_response.max_log_odds": 0.6,
    }
    # the counts are for the scenario's 20,000 shoppers, not the 3,000 simulated
    assert problem.scale == pytest.approx(20000 / SHOPPERS)
    result = fit(problem, max_evals=60)
    assert result.all_met, result.report()["targets"]
    for (name, value), got in zip(TRUE.items(), result.best.theta, strict=True):
        assert got == pytest.approx(value, rel=0.1), name
    assert result.best.distance < result.start.distance


def test_bad_targets_files_exit_2_naming_the_field(scenario_file, tmp_path, capsys):
    """Each kind of mistake is reported with the file, line and field, and exit code 2."""
    good_t = {"recruits": {"kpi": "new_members", "value": 100.0, "tolerance": 5.0}}
    good_p = {"population.enrol_per_visit": [0.005, 0.1]}
    cases = [
        (
            {"recruits": {"kpi": "new_members", "value": 100.0}},
            good_p,
            ":2: targets.recruits.tolerance: required field is missing",
        ),
        (
            {"recruits": {"kpi": "new_member", "value": 1.0, "tolerance": 1.0}},
            good_p,
            "targets.recruits.kpi: unknown KPI 'new_member'",
        ),
        (
            {"recruits": {**good_t["recruits"], "phases": ["peak"]}},
            good_p,
            "targets.recruits.phases.0: unknown phase 'peak'",
        ),
        (
            {"recruits": {**good_t["recruits"], "relative_to_baseline": "yes"}},
            good_p,
            "targets.recruits.relative_to_baseline: expected true, false, ratio or difference",
        ),
        (
            {"recruits": {**good_t["recruits"], "tolerance": 0}},
            good_p,
            "targets.recruits.tolerance: Input should be greater than 0",
        ),
        (
            {"recruits": {**good_t["recruits"], "weigth": 2}},
            good_p,
            "targets.recruits.weigth: unknown key 'weigth'",
        ),
        (good_t, {"population.enrol_per_visit": [0.1, 0.005]}, "expected lower < upper"),
        (
            good_t,
            {"population.enrol_rate": [0.0, 0.1]},
            "params.population.enrol_rate: the scenario rejects 0.0: population.enrol_rate: "
            "unknown key",
        ),
        (
            good_t,
            {"population.enrol_per_visit": [0.0, 2.0]},
            "params.population.enrol_per_visit: the scenario rejects 2.0",
        ),
    ]
    for k, (targets, params, expected) in enumerate(cases):
        tf = write_targets(tmp_path / f"bad{k}.yaml", targets, params)
        with pytest.raises(TargetsError) as err:
            load_problem(scenario_file, tf)
        assert expected in str(err.value) and f"bad{k}.yaml" in str(err.value)
        code = cli.main(["calibrate", "targets", str(scenario_file), tf, "--quiet"])
        assert code == 2
        assert expected in capsys.readouterr().err
    (tmp_path / "dup.yaml").write_text("targets: {}\ntargets: {}\nparams: {}\n")
    with pytest.raises(TargetsError, match=r"dup.yaml:2: targets: duplicate key"):
        read_targets(tmp_path / "dup.yaml")


def test_unreachable_target_is_reported_not_met(scenario_file, tmp_path, capsys):
    """A target beyond the bounds exits 1, says which and why; the outputs are written."""
    targets = {
        "recruits": {"kpi": "new_members", "value": 1.0e6, "tolerance": 1000.0},
        "share": {
            "kpi": "old_member_order_share",
            "phases": ["peak_day"],
            "value": 0.5,
            "tolerance": 0.5,
            "weight": 0,
        },
    }
    tf = write_targets(tmp_path / "t.yaml", targets, {"population.enrol_per_visit": [0.005, 0.1]})
    out = tmp_path / "out"
    saved = tmp_path / "fitted" / "store.yaml"
    code = cli.main(
        [
            "calibrate",
            "targets",
            str(scenario_file),
            tf,
            "--shoppers",
            "2000",
            "--reps",
            "2",
            "--max-evals",
            "12",
            "--out",
            str(out),
            "--save-fitted",
            str(saved),
        ]
    )
    assert code == 1
    printed = capsys.readouterr().out
    assert (
        "NOT MET recruits: unreachable within the bounds: needs population.enrol_per_visit "
        "higher, but it is at its upper bound 0.1" in printed
    )
    report = json.loads((out / "fit.json").read_text())
    assert not report["all_met"]
    assert [t["met"] for t in report["targets"]] == [False, True]
    assert report["params"]["population.enrol_per_visit"]["at_bound"] == "upper"
    assert (out / "targets.png").stat().st_size > 0
    assert json.loads(saved.with_suffix(".fit.json").read_text())["distance"] == report["distance"]
    for path in (out / "store.yaml", saved):  # extends the original: only the fitted value
        text = path.read_text()
        assert "extends: " in text and "enrol_per_visit: 0.1\n" in text
        assert load_scenario(path).population.enrol_per_visit == 0.1


def test_phase_slices_and_baseline_comparisons_add_up():
    """KPIs over phases partition the run's sums; ratios and differences use the same days."""
    from helpers import scenario

    from simulator.analysis.kpis import compute_kpis
    from simulator.engine.run import no_campaign, simulate
    from simulator.fitting.targets.measure import measure, target_value
    from simulator.fitting.targets.spec import TargetSpec

    sc = scenario()
    run, base = simulate(sc, shoppers=2000), simulate(no_campaign(sc), shoppers=2000)
    full = compute_kpis(run, base)
    phases = [ph.name for ph in sc.calendar.phases]

    def value(kpi, phases=None, rel=False):
        t = TargetSpec(kpi=kpi, value=0.0, tolerance=1.0, phases=phases, relative_to_baseline=rel)
        return target_value(t, run, base)

    outside = [d for d, ph in enumerate(run.phases) if not ph]
    assert (
        sum(value("new_members", [ph]) for ph in phases) + run.series("enrolments")[outside].sum()
        == full["new_members"]
    )
    assert value("gmv", rel=True) == pytest.approx(full["gmv"] / full["baseline_gmv"])
    assert value("gmv", rel="difference") == pytest.approx(full["incremental_gmv"])
    assert value("incremental_gmv") == pytest.approx(full["incremental_gmv"])
    first, orders = run.total("first_purchases"), full["orders"]
    assert measure(run, "new_customers") + measure(run, "old_customers") == orders
    assert measure(run, "old_customer_share") == pytest.approx(1 - first / orders)
    assert measure(run, "reach_touch_coupon_push") == run.series("contacts_touch_coupon_push").max()
