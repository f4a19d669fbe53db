"""Scenario input checks (simulator.scenario: schema, load, checks).

Every bad input is a ScenarioError with one line per problem, `FILE:LINE: dotted.path: message`,
naming what was expected.
"""

import difflib
import math
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.domain.benefits import BENEFIT_TYPES
from simulator.domain.channels import CHANNEL_KINDS
from simulator.domain.lifecycle import AUDIENCES
from simulator.scenario import schema
from simulator.scenario.load import ScenarioError, load_scenario
from simulator.scenario.schema import Scenario
from simulator.yamlfiles import StrictModel

ROOT = Path(__file__).resolve().parents[1]
BAD = Path(__file__).resolve().parent / "data" / "bad_scenarios"
EXPECTED = yaml.safe_load((BAD / "expected.yaml").read_text(encoding="utf-8"))
BAD_FILES = sorted(p.name for p in BAD.glob("*.yaml") if p.name != "expected.yaml")
PARAMS = ROOT / "calibration" / "params" / "cdnow_master.yaml"
DOC = ROOT / "docs" / "scenario.md"

# The scenario every file in tests/data/bad_scenarios is a one-defect copy of (after the
# first comment line, so file line N is line N-1 here).
MINIMAL = """\
schema_version: 2
name: minimal
population:
  shoppers: 1000
  mix: {prospect: 0.5, nonmember_buyer: 0.2, repeat: 0.2, dormant: 0.1}
  segments:
    fan: {share: 0.3}
  purchase_rate: {r: 0.25, alpha: 5.0, time_unit_days: 7}
  dropout: {a: 0.8, b: 2.4}
  basket: {p: 6.0, q: 4.0, v: 80.0}
  dormant_after_days: 180
  churn_after_days: 365
calendar:
  start: 2021-11-01
  end: 2021-11-11
  phases:
    - {name: warmup, start: 2021-11-01, end: 2021-11-10}
    - {name: peak, start: 2021-11-11, end: 2021-11-11, traffic: 10.0}
benefits:
  member_coupon:
    type: member_coupon
    effects: {enrol: 0.5}
    offer: {amount_off: 20, min_spend: 199}
    online: {phases: [peak]}
channels:
  sms: {kind: sms, cost_per_contact: 0.05, daily_capacity: 100, frequency_cap: 3}
plan:
  coupon_sms:
    channel: sms
    benefit: member_coupon
    audience: [members]
    when: {dates: [2021-11-10]}
"""
LINE_FORMAT = r"^{file}(:\d+)?: [^:\s][^:]*: \S.*$"


@pytest.fixture(scope="module")
def minimal(tmp_path_factory) -> Path:
    """The minimal valid scenario as a file (module-scoped so hypothesis can reuse it)."""
    path = tmp_path_factory.mktemp("scenario") / "minimal.yaml"
    path.write_text(MINIMAL, encoding="utf-8")
    return path


def problem_of(path: Path, overrides: dict | None = None) -> ScenarioError:
    """The ScenarioError that loading `path` raises (fails the test if it loads)."""
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, overrides=overrides)
    return info.value


# ----------------------------------------------------------------------------- bad files
def test_every_bad_file_has_expectations():
    """The folder and expected.yaml list the same files, and there is one file per defect."""
    assert sorted(EXPECTED) == BAD_FILES
    assert len(BAD_FILES) >= 45


@pytest.mark.parametrize("name", BAD_FILES)
def test_bad_scenario_is_rejected(name):
    """One defect, one problem (or as stated); each line names the path, line and expected value."""
    expected = EXPECTED[name]
    if isinstance(expected, list):
        expected = {"problems": 1, "contains": expected}
    err = problem_of(BAD / name)
    message = str(err)
    assert len(err.problems) == expected["problems"], message
    for part in expected["contains"]:
        assert part in message, f"{part!r} not in {message!r}"
    for line in message.splitlines():
        assert re.match(LINE_FORMAT.format(file=re.escape(str(BAD / name))), line), line
    assert "Traceback" not in message


@pytest.mark.parametrize(
    "name",
    [
        n
        for n in BAD_FILES
        if n not in ("empty.yaml", "comment_only.yaml", "not_utf8.yaml", "top_level_list.yaml")
    ],
)
def test_bad_file_is_the_minimal_scenario_with_one_defect(name):
    """Each bad file differs from MINIMAL in a few lines, after a comment naming the defect."""
    lines = (BAD / name).read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# One defect: ")
    diff = list(difflib.ndiff(MINIMAL.splitlines(), lines[1:]))
    assert sum(d.startswith("+ ") for d in diff) <= 5, name
    assert sum(d.startswith("- ") for d in diff) <= 3, name


# ----------------------------------------------------------------------------- good files
@pytest.mark.parametrize("path", sorted((ROOT / "scenarios").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_scenarios_load(path):
    """Every scenario shipped in scenarios/ validates."""
    sc = load_scenario(path)
    assert isinstance(sc, Scenario) and sc.name


def test_minimal_scenario_loads(minimal):
    """The minimal scenario loads with its values and the documented defaults."""
    sc = load_scenario(minimal)
    assert sc.population.shoppers == 1000
    assert len(sc.days) == 11
    assert sc.benefits["member_coupon"].how_delivered == "touch"
    assert sc.benefits["member_coupon"].states == [
        "enrolled",
        "first_purchase",
        "repeat",
        "dormant",
        "churned",
    ]
    assert sc.plan["coupon_sms"].exclude == []
    assert sc.population.conversion_per_visit == 0.1
    assert sc.population.initial_alive == {"dormant": 0.3, "churned": 0.05}


def test_quoted_dates_are_dates(tmp_path):
    """A quoted ISO date is read as a date, also as a traffic_days key."""
    text = MINIMAL.replace("start: 2021-11-01\n  end", 'start: "2021-11-01"\n  end').replace(
        "  phases:\n", '  traffic_days: {"2021-11-05": 2.0}\n  phases:\n', 1
    )
    path = tmp_path / "quoted.yaml"
    path.write_text(text, encoding="utf-8")
    sc = load_scenario(path)
    assert str(sc.calendar.start) == "2021-11-01"
    assert [str(d) for d in sc.calendar.traffic_days] == ["2021-11-05"]


def test_params_file_instead_of_inline_rates(tmp_path):
    """A fitted params file replaces purchase_rate, dropout and basket."""
    shutil.copy(PARAMS, tmp_path / "fitted.yaml")
    text = MINIMAL.replace(
        "  purchase_rate: {r: 0.25, alpha: 5.0, time_unit_days: 7}\n"
        "  dropout: {a: 0.8, b: 2.4}\n"
        "  basket: {p: 6.0, q: 4.0, v: 80.0}\n",
        "  params_file: fitted.yaml\n",
    )
    path = tmp_path / "fitted_scenario.yaml"
    path.write_text(text, encoding="utf-8")
    assert load_scenario(path).population.params_file == "fitted.yaml"

    # a params file that does not validate, and one without the basket fit
    (tmp_path / "fitted.yaml").write_text("bgnbd: {r: 1}\n", encoding="utf-8")
    message = str(problem_of(path))
    assert f"{path}:8: population.params_file: invalid params file" in message
    fitted = yaml.safe_load(PARAMS.read_text(encoding="utf-8"))
    del fitted["gamma_gamma"], fitted["gamma_gamma_se"]
    (tmp_path / "fitted.yaml").write_text(yaml.safe_dump(fitted), encoding="utf-8")
    message = str(problem_of(path))
    assert ":8: population.params_file:" in message and "no gamma_gamma section" in message


def test_missing_file_is_a_scenario_error(tmp_path):
    """A path that does not exist is reported, not raised as OSError."""
    message = str(problem_of(tmp_path / "nope.yaml"))
    assert "nope.yaml: (top level): cannot read file" in message


def test_problems_are_all_reported(tmp_path):
    """Independent problems are reported together, one line each, in the FILE:LINE form."""
    text = (
        MINIMAL.replace("amount_off: 20,", "amount_off: -1,")
        .replace("frequency_cap: 3", "frequency_cap: 0")
        .replace("audience: [members]", "audience: [members, vips]")
    )
    path = tmp_path / "three.yaml"
    path.write_text(text, encoding="utf-8")
    err = problem_of(path)
    lines = str(err).splitlines()
    assert len(lines) == 3
    for line in lines:
        assert re.match(rf"^{re.escape(str(path))}:\d+: \S+: \S", line), line
    assert {".".join(map(str, p)) for p, _ in err.problems} == {
        "benefits.member_coupon.offer.amount_off",
        "channels.sms.frequency_cap",
        "plan.coupon_sms.audience.1",
    }


# ----------------------------------------------------------------------------- overrides
def test_override_is_applied(minimal):
    """A good override changes the value; the file is not touched."""
    sc = load_scenario(
        minimal,
        overrides={
            "benefits.member_coupon.offer.amount_off": 5,
            "calendar.phases.1.traffic": 12.5,
            "population.enrol_per_visit": 0.05,
        },
    )
    assert sc.benefits["member_coupon"].offer.amount_off == 5
    assert sc.calendar.phases[1].traffic == 12.5
    assert sc.population.enrol_per_visit == 0.05
    assert load_scenario(minimal).benefits["member_coupon"].offer.amount_off == 20


def test_bad_override_value_names_the_path(minimal):
    """An override is validated like the file; the message blames the override."""
    err = problem_of(minimal, {"benefits.member_coupon.offer.amount_off": -1})
    message = str(err)
    assert len(err.problems) == 1
    assert "benefits.member_coupon.offer.amount_off" in message
    assert "greater than or equal to 0 (got -1)" in message
    assert "set by override benefits.member_coupon.offer.amount_off" in message
    message = str(problem_of(minimal, {"channels.sms.frequency_cap": "3"}))
    assert "channels.sms.frequency_cap: Input should be a valid integer (got '3')" in message
    message = str(problem_of(minimal, {"population.churn_after_days": 100}))
    assert "population.churn_after_days: must be greater than dormant_after_days (180)" in message


@pytest.mark.parametrize(
    "dotted, expect",
    [
        (
            "benefits.member_cupon.offer.amount_off",
            "'member_cupon' does not exist in benefits; defined: member_coupon",
        ),
        ("nope.value", "'nope' does not exist in the top level"),
        ("population.shoppers.per_day", "population.shoppers is a value (1000)"),
        ("calendar.phases.7.traffic", "calendar.phases is a list of 2; expected an index 0..1"),
        ("calendar..start", "expected dot-separated field names"),
    ],
)
def test_bad_override_path_is_rejected(minimal, dotted, expect):
    """A path that does not lead to a field is rejected before validation."""
    message = str(problem_of(minimal, {dotted: 1}))
    assert f"override path '{dotted}'" in message and expect in message


def test_override_of_an_unknown_field_lists_the_allowed_ones(minimal):
    """A new last key is an unknown field, reported with the allowed keys."""
    message = str(problem_of(minimal, {"benefits.member_coupon.offer.amount": 1}))
    assert "benefits.member_coupon.offer.amount: unknown key 'amount'" in message
    assert "expected one of: amount_off, percent_off, min_spend, per_spend, gift_value" in message


# ----------------------------------------------------------------------------- properties
PROBABILITIES = [
    "population.enrol_per_visit",
    "population.segments.fan.share",
    "benefits.member_coupon.effects.reactivation",
    "channels.sms.awareness",
    "margin",
]
NON_NEGATIVE = [  # (field, the largest value it takes)
    ("benefits.member_coupon.offer.amount_off", schema.MAX_MONEY),
    ("benefits.member_coupon.offer.min_spend", schema.MAX_MONEY),
    ("channels.sms.cost_per_contact", schema.MAX_MONEY),
    ("benefits.member_coupon.effects.enrol", schema.MAX_FACTOR),
]
finite = {"allow_nan": False, "allow_infinity": False}
FAST = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def loaded_value(path, field, value):
    """The value at the dotted path `field` of the scenario loaded with it overridden."""
    node = load_scenario(path, overrides={field: value})
    for key in field.split("."):
        if isinstance(node, dict | list):
            node = node[int(key) if isinstance(node, list) else key]
        else:
            node = getattr(node, key)
    return node


@FAST
@given(field=st.sampled_from(PROBABILITIES), value=st.floats(0.0, 1.0))
def test_probabilities_in_range_are_accepted(minimal, field, value):
    """Any probability in [0, 1] loads and is kept as given."""
    assert loaded_value(minimal, field, value) == value


@FAST
@given(
    field=st.sampled_from(PROBABILITIES),
    value=st.floats(min_value=1.0, exclude_min=True, **finite)
    | st.floats(max_value=0.0, exclude_max=True, **finite)
    | st.just(float("nan")),
)
def test_probabilities_out_of_range_are_rejected(minimal, field, value):
    """A probability outside [0, 1] (or NaN) is rejected with its path named."""
    err = problem_of(minimal, {field: value})
    assert [".".join(map(str, p)) for p, _ in err.problems] == [field]
    assert f": {field}: " in str(err)


@FAST
@given(field=st.sampled_from(NON_NEGATIVE), fraction=st.floats(0.0, 1.0))
def test_non_negative_values_are_accepted(minimal, field, fraction):
    """Costs and lifts from 0 to their maximum load and are kept as given."""
    field, top = field
    assert loaded_value(minimal, field, fraction * top) == fraction * top


@FAST
@given(
    field=st.sampled_from(NON_NEGATIVE),
    value=st.floats(max_value=0.0, exclude_max=True, **finite) | st.just(float("inf")),
)
def test_negative_values_are_rejected(minimal, field, value):
    """A negative (or infinite) cost or lift is rejected with its path named."""
    field, _ = field
    err = problem_of(minimal, {field: value})
    assert [".".join(map(str, p)) for p, _ in err.problems] == [field]


@FAST
@given(cap=st.integers(-1000, 1000))
def test_frequency_cap_range(minimal, cap):
    """frequency_cap loads for 1..255 and is rejected, with its path, otherwise."""
    if 1 <= cap <= 255:
        assert (
            load_scenario(minimal, overrides={"channels.sms.frequency_cap": cap})
            .channels["sms"]
            .frequency_cap
            == cap
        )
    else:
        assert "channels.sms.frequency_cap" in str(
            problem_of(minimal, {"channels.sms.frequency_cap": cap})
        )


@FAST
@given(days=st.integers(0, 20))
def test_phase_end_inside_or_outside_the_calendar(minimal, days):
    """The last phase may end on any calendar day and not after the calendar."""
    end = f"2021-11-{11 + days:02d}" if days < 20 else "2021-12-01"
    overrides = {"calendar.phases.1.end": end, "calendar.end": "2021-11-21"}
    if 11 + days <= 21 and days < 20:
        assert str(load_scenario(minimal, overrides=overrides).calendar.phases[1].end) == end
    else:
        message = str(problem_of(minimal, overrides))
        assert "calendar.phases.1: phase 'peak'" in message and "lies outside" in message


# ----------------------------------------------------------------------------- bounds
BOUNDS = [  # (field, the largest value the engine represents, a value beyond it)
    ("population.shoppers", schema.MAX_SHOPPERS, schema.MAX_SHOPPERS + 1),
    ("channels.sms.daily_capacity", schema.MAX_SHOPPERS, 10**30),
    ("channels.sms.frequency_cap", 255, 256),
    ("channels.sms.cost_per_contact", schema.MAX_MONEY, 1.0e308),
    ("channels.sms.response_lift", schema.MAX_FACTOR, 1e300),
    ("channels.sms.fatigue", schema.MAX_FACTOR, 1e300),
    ("benefits.member_coupon.offer.amount_off", schema.MAX_MONEY, 1.0e308),
    ("benefits.member_coupon.effects.enrol", schema.MAX_FACTOR, 1e300),
    ("plan.coupon_sms.budget", schema.MAX_BUDGET, 1e300),
    ("calendar.phases.1.traffic", schema.MAX_FACTOR, 1e300),
    ("population.segments.fan.rate_multiplier", schema.MAX_FACTOR, 1e300),
    ("population.segments.fan.basket_multiplier", schema.MAX_FACTOR, 1e300),
    ("population.segments.fan.price_sensitivity", schema.MAX_FACTOR, 1e300),
    ("population.prospect_rate_scale", schema.MAX_FACTOR, 1e300),
    ("population.purchase_rate.r", schema.MAX_PARAMETER, 1e300),
    ("population.purchase_rate.alpha", schema.MAX_PARAMETER, 1e300),
    ("population.purchase_rate.time_unit_days", schema.MAX_PARAMETER, 1e300),
    ("population.dropout.a", schema.MAX_PARAMETER, 1e300),
    ("population.basket.q", schema.MAX_PARAMETER, 1e300),
    ("population.basket.v", schema.MAX_PARAMETER, 1e300),
    ("population.fatigue_half_life_days", schema.MAX_PARAMETER, 1e300),
    ("seed", 2**63 - 1, 2**63),
]


@pytest.mark.parametrize(("field", "top", "beyond"), BOUNDS, ids=[b[0] for b in BOUNDS])
def test_numbers_are_bounded_by_what_the_engine_represents(minimal, field, top, beyond):
    """The maximum loads; beyond it `validate` refuses, naming the field and the bound."""
    overrides = {field: top, "plan.coupon_sms.budget": 1000.0}
    assert loaded_value(minimal, field, top) == top or field == "plan.coupon_sms.budget"
    overrides[field] = beyond
    message = str(problem_of(minimal, overrides))
    assert f": {field}: Input should be less than or equal to " in message, message


@pytest.mark.parametrize(
    ("field", "tiny"),
    [
        ("population.purchase_rate.alpha", 1e-300),
        ("population.dropout.b", 5e-324),
        ("population.conversion_per_visit", 1e-9),
        ("population.purchase_rate.time_unit_days", 1e-9),
    ],
)
def test_rates_and_parameters_have_a_floor(minimal, field, tiny):
    """A parameter a rate is divided by may not be so small that the rate overflows."""
    message = str(problem_of(minimal, {field: tiny}))
    assert f": {field}: Input should be greater than or equal to " in message, message


def test_every_bound_at_once_runs_with_finite_kpis(minimal):
    """Every number at its maximum: the run's costs, GMV and ROI stay finite numbers."""
    from simulator.analysis.kpis import compute_kpis
    from simulator.engine.plan import compile_plan
    from simulator.engine.run import no_campaign, simulate

    top = {field: value for field, value, _ in BOUNDS if field != "population.shoppers"}
    top |= {"population.shoppers": 2000, "population.conversion_per_visit": 1e-6}
    sc = load_scenario(minimal, overrides=top)
    run = simulate(sc)
    kpis = compute_kpis(run, simulate(no_campaign(sc)))
    for name in ("gmv", "cost", "roi", "incremental_gmv"):
        assert kpis[name] is not None and math.isfinite(kpis[name]), (name, kpis[name])
    assert run.daily_float.max() < 1e300
    # capacities and budgets rescaled to the largest population stay representable
    plan = compile_plan(sc, scale=schema.MAX_SHOPPERS / 1)
    assert plan.ch_capacity.max() == schema.MAX_SHOPPERS**2 < np.iinfo(np.int64).max
    assert np.isfinite(plan.t_budget).all()


def test_the_issue_examples_are_refused_by_validate(tmp_path):
    """daily_capacity: 1e30 (an OverflowError in `run`) and a money amount of 1e308 (cost null)."""
    for old, new, field in [
        ("daily_capacity: 100", "daily_capacity: 1e30", "channels.sms.daily_capacity"),
        ("amount_off: 20,", "amount_off: 1.0e+308,", "benefits.member_coupon.offer.amount_off"),
        ("amount_off: 20,", "amount_off: 1e308,", "benefits.member_coupon.offer.amount_off"),
    ]:
        path = tmp_path / "big.yaml"
        path.write_text(MINIMAL.replace(old, new), encoding="utf-8")
        assert f"{path}:" in str(problem_of(path)) and field in str(problem_of(path))


# ----------------------------------------------------------------------------- names and literals
def test_an_empty_phase_name_is_refused(tmp_path):
    """An empty phase name would read as "no phase" in the outputs."""
    path = tmp_path / "empty_phase.yaml"
    path.write_text(MINIMAL.replace("{name: warmup,", "{name: '',"), encoding="utf-8")
    message = str(problem_of(path))
    assert f"{path}:17: calendar.phases.0.name: String should have at least 1 character" in message


@pytest.mark.parametrize("section", ["benefits", "channels", "plan"])
def test_an_empty_name_is_refused(minimal, tmp_path, section):
    """Benefit, channel and touch names are referenced by their text; '' is no name."""
    data = yaml.safe_load(MINIMAL)
    data[section][""] = data[section].popitem()[1]
    path = tmp_path / "empty_name.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert "invalid key '': String should have at least 1 character" in str(problem_of(path))


@pytest.mark.parametrize(
    ("old", "new", "field", "line"),
    [
        ("shoppers: 1000", "shoppers: 017", "population.shoppers", 4),
        ("shoppers: 1000", "shoppers: 0x10", "population.shoppers", 4),
        ("shoppers: 1000", "shoppers: 1:00:00", "population.shoppers", 4),
        ("traffic: 10.0}", "traffic: 10.0, presale: yes}", "calendar.phases.1.presale", 18),
        ("name: minimal", "name: no", "name", 2),
    ],
)
def test_yaml_1_1_literals_are_refused_at_their_field(tmp_path, old, new, field, line):
    """`017` is 15 in YAML 1.1 and 17 in YAML 1.2; such literals are errors, not guesses."""
    path = tmp_path / "literal.yaml"
    path.write_text(MINIMAL.replace(old, new), encoding="utf-8")
    message = str(problem_of(path))
    assert message.startswith(f"{path}:{line}: {field}: ambiguous value "), message


def test_a_number_is_not_a_date(tmp_path):
    """`calendar.start: 1630454400` is not 2021-09-01: nothing is converted."""
    path = tmp_path / "epoch.yaml"
    path.write_text(MINIMAL.replace("start: 2021-11-01\n  end", "start: 1635724800\n  end"))
    message = str(problem_of(path))
    assert f"{path}:14: calendar.start: expected a date YYYY-MM-DD, got 1635724800" in message


def test_a_merge_key_shares_settings(tmp_path):
    """`<<: *defaults` is YAML's merge key: merged, and not a duplicate key."""
    text = MINIMAL.replace(
        "channels:\n  sms: {kind: sms, cost_per_contact: 0.05, daily_capacity: 100, "
        "frequency_cap: 3}\n",
        "channels:\n  sms: &sms {kind: sms, cost_per_contact: 0.05, daily_capacity: 100}\n"
        "  sms2:\n    <<: *sms\n    daily_capacity: 50\n",
    )
    path = tmp_path / "merge.yaml"
    path.write_text(text, encoding="utf-8")
    sc = load_scenario(path)
    assert sc.channels["sms2"].daily_capacity == 50
    assert sc.channels["sms2"].cost_per_contact == sc.channels["sms"].cost_per_contact


# ----------------------------------------------------------------------------- params files
def params_scenario(tmp_path, fitted: dict) -> Path:
    """The minimal scenario naming a params file holding `fitted`."""
    (tmp_path / "fitted.yaml").write_text(yaml.safe_dump(fitted), encoding="utf-8")
    path = tmp_path / "with_params.yaml"
    path.write_text(
        MINIMAL.replace(
            "  purchase_rate: {r: 0.25, alpha: 5.0, time_unit_days: 7}\n"
            "  dropout: {a: 0.8, b: 2.4}\n"
            "  basket: {p: 6.0, q: 4.0, v: 80.0}\n",
            "  params_file: fitted.yaml\n",
        ),
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [("bgnbd", "alpha", 1e300), ("bgnbd", "r", 1e-300), ("gamma_gamma", "v", 1e300)],
)
def test_fitted_values_are_bounded_like_inline_ones(tmp_path, section, key, value):
    """A params file's estimates must lie where inline purchase_rate/dropout/basket may."""
    fitted = yaml.safe_load(PARAMS.read_text(encoding="utf-8"))
    fitted[section][key] = value
    message = str(problem_of(params_scenario(tmp_path, fitted)))
    assert ":8: population.params_file: " in message and f"{section}.{key}: Input should" in message


@pytest.mark.parametrize(
    "content",
    [os.urandom(4096), b"\xff\xfe" + "bgnbd: 1".encode("utf-16-le"), b"bgnbd:\x00\x01\x02"],
    ids=["random", "utf16", "nul"],
)
def test_a_binary_params_file_is_a_clear_error(tmp_path, content):
    """A binary params file is reported at the scenario's params_file line."""
    path = params_scenario(tmp_path, {})
    (tmp_path / "fitted.yaml").write_bytes(content)
    message = str(problem_of(path))
    assert f"{path}:8: population.params_file: invalid params file: " in message


# ----------------------------------------------------------------------------- the documentation
def test_doc_names_every_field_type_kind_and_audience():
    """docs/scenario.md mentions every schema field, benefit type, channel kind and audience."""
    doc = DOC.read_text(encoding="utf-8")
    models = [
        m
        for m in vars(schema).values()
        if isinstance(m, type) and issubclass(m, StrictModel) and m.__module__ == schema.__name__
    ]
    names = {f for m in models for f in m.model_fields}
    names |= set(BENEFIT_TYPES) | set(CHANNEL_KINDS) | set(AUDIENCES)
    missing = sorted(
        n for n in names if f"`{n}`" not in doc and f"`{n}." not in doc and f".{n}`" not in doc
    )
    assert not missing, missing


def test_doc_benefit_and_channel_tables_match_the_code():
    """Each benefit type's row shows its family and default delivery; each kind's row its reach."""
    rows = {
        line.split("|")[1].strip().split()[0].strip("`"): line
        for line in DOC.read_text(encoding="utf-8").splitlines()
        if line.startswith("| `")
    }
    for name, bt in BENEFIT_TYPES.items():
        cells = [c.strip() for c in rows[name].split("|")]
        assert cells[2] == bt.family and cells[4] == bt.delivery, rows[name]
    for kind, reach in CHANNEL_KINDS.items():
        assert all(f"`{a}`" in rows[kind] for a in reach), rows[kind]


def test_doc_minimal_scenario_loads(tmp_path):
    """The example at the end of docs/scenario.md is valid."""
    doc = DOC.read_text(encoding="utf-8")
    example = doc.split("## A minimal scenario")[1].split("```yaml\n")[1].split("```")[0]
    path = tmp_path / "doc_example.yaml"
    path.write_text(example, encoding="utf-8")
    assert load_scenario(path).name == "minimal"
