"""`promosim calibrate response`: bad files, recovery of known lifts, and the file it writes
(a scenario naming it in `assumption_files` runs like one with its points inline).

Tolerances: each estimate within 3 standard errors of the truth it estimates (the test's
synthetic data are drawn from known per-day rules, `response_synth`), and 95% intervals that
cover the truth in 93-97.5% of the 1,760 intervals of 20 seeds (binomial sd of the share 0.5%,
more as the intervals of one seed are correlated).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
import response_synth as synth
import yaml
from helpers import BASE

from simulator.analysis.kpis import compute_kpis
from simulator.cli.app import main
from simulator.engine.run import simulate
from simulator.fitting.response.calibrate import Request, dumps_assumptions, fit_response
from simulator.fitting.response.estimate import MEASURES, NO_SEGMENT, compare_all
from simulator.fitting.response.experiment_file import (
    Experiment,
    ExperimentFileError,
    read_experiment,
)
from simulator.fitting.response.mapping import (
    Arm,
    MappingError,
    Window,
    purchase_shift,
    visit_lift,
)
from simulator.scenario.assumptions import Assumption, AssumptionsFile
from simulator.scenario.load import load_scenario

EXAMPLE = Path(__file__).parent / "data" / "experiment_sms.csv"
WINDOW = Window(days=7, contacts=2)
HEADER = "customer_id,arm,visited,converted,spend"
GOOD = f"{HEADER}\na,control,1,1,20\nb,sms,0,0,0\n"


# ----------------------------------------------------------------------------- bad files
BAD = [
    ("", 1, "the file is empty"),
    ("\n\n", 1, "the file is empty"),
    (f"{HEADER}\n", 2, "no customers after the header"),
    ("customer_id,arm,visited,converted\na,control,1,1\n", 1, "lacks column(s) spend"),
    (f"{HEADER},hi_value\na,control,1,1,2,yes\n", 1, "unknown column(s) hi_value"),
    (f"{HEADER},fan,fan\na,control,1,1,2,yes,no\n", 1, "column(s) fan repeated"),
    (f"{HEADER}\na,control,1,1\n", 2, "spend is ''"),  # a short line has empty values
    (f"{HEADER}\na,control,1,1,2\nb,sms,0,0,0,7\n", 3, "found 6 fields where earlier lines have 5"),
    ("\n" + f"{HEADER}\na,control,1,1,2\nb,sms,0,0,0,7\n", 4, "found 6 fields"),
    (f"{HEADER}\na,control,1,1,2\nb,sms,2,0,0\n", 3, "visited is '2'"),
    (f"{HEADER}\na,control,1,yes,2\n", 2, "converted is 'yes'"),
    (f"{HEADER}\na,control,1,1,2\nb,sms,0,1,5\n", 3, "converted is 1 but visited is 0"),
    (f"{HEADER}\na,control,1,1,-2\n", 2, "spend is '-2'"),
    (f"{HEADER}\na,control,1,1,nan\n", 2, "spend is 'nan'"),
    (f"{HEADER}\na,control,1,1,inf\n", 2, "spend is 'inf'"),
    (f"{HEADER}\na,control,1,1,abc\n", 2, "spend is 'abc'"),
    (f"{HEADER}\na,control,1,0,3\n", 2, "spend is above 0 but converted is 0"),
    (f"{HEADER}\na,control,1,1,2\n\na,sms,0,0,0\n", 4, "customer 'a' is also on line 2"),
    (f"{HEADER}\n,control,1,1,2\n", 2, "the customer_id is missing"),
    (f"{HEADER}\na,,1,1,2\n", 2, "the arm is missing"),
    (f"{HEADER},fan\na,control,1,1,2,maybe\n", 2, "segment fan is 'maybe'"),
]


@pytest.mark.parametrize(("text", "line", "problem"), BAD)
def test_bad_file_names_file_line_and_expectation(tmp_path, text, line, problem):
    path = tmp_path / "test.csv"
    path.write_text(text)
    with pytest.raises(ExperimentFileError) as exc:
        read_experiment(path)
    message = str(exc.value)
    assert message.startswith(f"{path}, line {line}: ") and problem in message, message
    assert "; expected " in message


def test_no_control_arm_is_rejected(tmp_path):
    path = tmp_path / "test.csv"
    path.write_text(f"{HEADER}\na,sms,1,1,2\nb,email,0,0,0\n")
    with pytest.raises(ExperimentFileError, match="no customer is in arm 'control'") as exc:
        read_experiment(path)
    assert str(exc.value).startswith(f"{path}: ") and "arms found: email, sms" in str(exc.value)


def test_arm_with_no_customers_and_unmappable_arm_are_rejected(tmp_path):
    path = tmp_path / "test.csv"
    path.write_text(GOOD)
    exp = read_experiment(path)
    with pytest.raises(MappingError, match="arm 'email' has no customers in .*test.csv"):
        fit_response(exp, Window(), Request(arm="email", channel="sms"))
    with pytest.raises(MappingError, match="control arm.s visit rate is 1"):  # all visited
        fit_response(exp, Window(), Request(channel="sms"))
    with pytest.raises(MappingError, match="contacts-per-customer"):
        Window(days=3, contacts=4)


def test_cli_exit_codes(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text(f"{HEADER}\na,control,1,0,3\n")
    assert main(["calibrate", "response", str(bad)]) == 2
    assert f"error: {bad}, line 2: spend is above 0" in capsys.readouterr().err
    out = tmp_path / "a.yaml"
    args = ["calibrate", "response", str(EXAMPLE), "--arm", "ghost", "--channel", "sms"]
    assert main([*args, "--out", str(out)]) == 2
    assert "arm 'ghost' has no customers" in capsys.readouterr().err and not out.exists()


def test_cli_writes_json_and_a_valid_assumptions_file(tmp_path, capsys):
    out = tmp_path / "sms.yaml"
    args = ["calibrate", "response", str(EXAMPLE), "--arm", "sms_coupon", "--channel", "sms"]
    args += ["--benefit", "member_day", "--window-days", "7", "--contacts-per-customer", "2"]
    assert main([*args, "--out", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["arms"] == ["control", "sms", "sms_coupon"]
    assert {c["group"] for c in report["comparisons"]} == {
        "all",
        "sms_sensitive",
        "fan",
        NO_SEGMENT,
    }
    assert len(report["comparisons"]) == 8 and report["assumptions_file"] == str(out)
    written = AssumptionsFile.model_validate(yaml.safe_load(out.read_text()))
    assert (
        set(written.assumptions)
        == set(report["parameters"])
        == {
            "channels.sms.response_lift",
            "channels.sms.response_by_segment.sms_sensitive",
            "channels.sms.response_by_segment.fan",
            "benefits.member_day.effects.purchase",
        }
    )
    assert main(["calibrate", "response", str(EXAMPLE)]) == 0  # the table only
    assert "spend / converter" in capsys.readouterr().out


# ----------------------------------------------------------------------------- recovery
def experiment(cols: dict) -> Experiment:
    """An Experiment straight from synthetic columns (what read_experiment gives)."""
    arms = tuple(synth.ARMS)
    return Experiment(
        arms=arms,
        arm=np.array([arms.index(a) for a in cols["arm"]]),
        visited=cols["visited"].astype(bool),
        converted=cols["converted"].astype(bool),
        spend=cols["spend"].astype(float),
        segments={s: cols[s] == "yes" for s in synth.SEGMENT_SHARES},
        source="synthetic",
    )


def true_levels(arm: str, group: str) -> dict[str, float]:
    """Expected measures of an arm in a group (a mixture of the segments for `all`)."""
    shares = {**synth.SEGMENT_SHARES, None: 1.0 - sum(synth.SEGMENT_SHARES.values())}
    if group != "all":
        return synth.truth(arm, None if group == NO_SEGMENT else group)
    parts = {s: synth.truth(arm, s) for s in shares}
    mixed = [
        sum(shares[s] * parts[s][m] for s in shares)
        for m in ("visit_rate", "conversion", "spend_per_customer")
    ]
    return synth.measures(*mixed)


def errors_in_se(exp: Experiment) -> list[tuple[str, float]]:
    """(what, (estimate - truth) / SE) of every difference, relative change and parameter."""
    out = []
    for arm in ("sms", "sms_coupon"):
        fit = fit_response(exp, WINDOW, Request(arm=arm, channel="sms", benefit="b"))
        assert not [n for n in fit.notes if "not written" in n], fit.notes  # all mapped
        for c in (c for c in fit.comparisons if c.arm == arm):
            control, treated = true_levels("control", c.group), true_levels(arm, c.group)
            for m in MEASURES:
                for kind, est, true in [
                    ("difference", c.difference[m], treated[m] - control[m]),
                    ("relative", c.relative[m], treated[m] / control[m] - 1),
                ]:
                    out.append((f"{arm} {c.group} {m} {kind}", (est.value - true) / est.se))
        lift, shift = synth.ARMS[arm]
        truths = {"response_lift": lift, "effects.purchase": shift}
        truths |= {f"response_by_segment.{s}": synth.MULTIPLIER[s] for s in synth.SEGMENT_SHARES}
        for m in fit.mapped:
            name = m.path.split(".", 2)[2]
            out.append((f"{arm} {name}", (m.estimate.value - truths[name]) / m.estimate.se))
    return out


def test_estimates_recover_known_lifts_within_3_se(tmp_path):
    path = tmp_path / "synthetic.csv"
    synth.write_csv(path, synth.draw(20_000, seed=11))
    errors = errors_in_se(read_experiment(path))
    assert len(errors) == 2 * 4 * 5 * 2 + 2 * 4  # arms x groups x measures x kinds + mapped
    far = [(what, round(z, 2)) for what, z in errors if not abs(z) < 3.0]
    assert not far


def test_intervals_cover_the_truth_at_their_level():
    z = np.array(
        [z for seed in range(20) for _, z in errors_in_se(experiment(synth.draw(20_000, seed)))]
    )
    coverage = float(np.mean(np.abs(z) < 1.959963984540054))
    assert 0.93 <= coverage <= 0.975, coverage


# ----------------------------------------------------------------------------- in a scenario
def scenario_data() -> dict:
    """A small scenario with the SMS channel and a mind-share benefit the file maps to."""
    data = copy.deepcopy(BASE)
    data["population"]["shoppers"] = 3000
    data["channels"]["sms"]["response_by_segment"] = {"sms_sensitive": 1.0, "fan": 1.0}
    data["benefits"]["member_day"] = {"type": "member_day", "effects": {"purchase": 0.1}}
    data["plan"] = {
        "sms": {"channel": "sms", "audience": ["all"], "when": {"dates": ["2021-11-03"]}},
        "sms_coupon": {
            "channel": "sms",
            "benefit": "coupon",
            "audience": ["members"],
            "when": {"dates": ["2021-11-05", "2021-11-11"]},
        },
    }
    return data


def test_assumptions_file_points_run_like_the_numbers_inline(tmp_path):
    fit = fit_response(
        read_experiment(EXAMPLE),
        WINDOW,
        Request(arm="sms_coupon", channel="sms", benefit="member_day"),
    )
    file = tmp_path / "sms.yaml"
    file.write_text(dumps_assumptions(fit))
    spec = AssumptionsFile.model_validate(yaml.safe_load(file.read_text()))
    points = {path: Assumption(path, dist).point for path, dist in spec.assumptions.items()}
    assert len(points) == 4 and all(v > 0 for v in points.values())
    base = tmp_path / "store.yaml"
    base.write_text(yaml.safe_dump(scenario_data()))
    with_file = tmp_path / "store_tested.yaml"
    with_file.write_text(yaml.safe_dump({**scenario_data(), "assumption_files": [file.name]}))
    inline_data = scenario_data()
    sms = inline_data["channels"]["sms"]
    sms["response_lift"] = points["channels.sms.response_lift"]
    for seg in ("sms_sensitive", "fan"):
        sms["response_by_segment"][seg] = points[f"channels.sms.response_by_segment.{seg}"]
    inline_data["benefits"]["member_day"]["effects"]["purchase"] = points[
        "benefits.member_day.effects.purchase"
    ]
    inline = tmp_path / "inline.yaml"
    inline.write_text(yaml.safe_dump(inline_data))
    tested = load_scenario(with_file)
    assert tested.channels["sms"].response_lift == points["channels.sms.response_lift"]
    runs = (tested, load_scenario(inline), load_scenario(base))
    kpis = [compute_kpis(simulate(sc)) for sc in runs]
    assert kpis[0] == kpis[1]
    assert kpis[0] != kpis[2]  # the points changed something


# ----------------------------------------------------------------------------- the mapping
def test_one_day_window_maps_to_the_plain_ratio_and_log_odds():
    """W = K = 1: the lift is the visit rate ratio - 1, the shift the conversion-given-visit
    log-odds difference, with the same standard errors as the comparison's."""
    fit = fit_response(read_experiment(EXAMPLE), Window(), Request(arm="sms", channel="sms"))
    c = next(c for c in fit.comparisons if c.arm == "sms" and c.group == NO_SEGMENT)
    cells = Arm.of(c.control), Arm.of(c.treated)
    for mapped, plain in [
        (visit_lift(Window(), *cells), c.relative["visit_rate"]),
        (purchase_shift(Window(), *cells), c.log_odds),
    ]:
        assert mapped.value == pytest.approx(plain.value, rel=1e-9)
        assert mapped.se == pytest.approx(plain.se, rel=1e-5)


def test_offer_depth_maps_the_shift_to_depth_scale(tmp_path, capsys):
    out = tmp_path / "coupon.yaml"
    args = ["calibrate", "response", str(EXAMPLE), "--arm", "sms_coupon", "--offer-depth", "0.1"]
    args += ["--window-days", "7", "--contacts-per-customer", "2"]
    assert main([*args, "--out", str(out)]) == 0
    capsys.readouterr()
    spec = AssumptionsFile.model_validate(yaml.safe_load(out.read_text()))
    ((path, dist),) = spec.assumptions.items()
    assert path == "population.offer_response.depth_scale" and dist.dist == "lognormal"
    exp = read_experiment(EXAMPLE)
    c = next(c for c in compare_all(exp) if c.arm == "sms_coupon" and c.group == "all")
    shift = purchase_shift(WINDOW, Arm.of(c.control), Arm.of(c.treated)).value
    # the median shopper (β = 1) at depth 0.1 gets the measured shift
    assert 1.5 * (1 - np.exp(-0.1 / dist.median)) == pytest.approx(shift, rel=1e-12)


def test_an_estimate_below_the_field_is_said_and_a_lone_control_refused(tmp_path):
    fit = fit_response(read_experiment(EXAMPLE), WINDOW, Request(arm="sms", benefit="x"))
    (m,) = fit.mapped
    assert m.estimate.value < 0 and m.dist.point == 0.0  # the SMS arm carries no offer
    assert fit.notes == [
        f"{m.path}: the estimate {m.estimate.value:.4g} is below the field's least value 0; "
        "its point is 0 and draws are truncated there"
    ]
    path = tmp_path / "test.csv"
    path.write_text(f"{HEADER}\na,control,1,1,2\n")
    with pytest.raises(MappingError, match="has only the control arm"):
        fit_response(read_experiment(path), Window(), Request(channel="sms"))
