"""Tests for writing, reading and validating fitted-parameter files (simulator.clv.params_file)."""

import os
import re
import shutil
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from simulator.clv import params_file
from simulator.clv.params_file import FittedParams, ParamsFileError, read_params, write_params

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "calibration" / "params" / "cdnow_master.yaml"


def example(**changes) -> dict:
    """A valid file body as a dict, with optional field changes."""
    body = {
        "model": "bgnbd",
        "source": "calibration/data/CDNOW_master.txt",
        "time_unit_days": 7,
        "n_customers": 23570,
        "calibration_end": "1997-09-30",
        "bgnbd": {"r": 0.25, "alpha": 4.8, "a": 0.72, "b": 2.16},
        "bgnbd_se": {"r": 0.004, "alpha": 0.13, "a": 0.05, "b": 0.2},
        "log_likelihood": -95368.4,
        "gamma_gamma": {"p": 6.3, "q": 3.6, "v": 15.0},
        "gamma_gamma_se": {"p": 0.4, "q": 0.09, "v": 1.3},
    }
    body.update(changes)
    return body


def test_round_trip_is_exact_and_commented(tmp_path):
    """A written file reads back equal, starts with the provenance comment and leaves no temp."""
    params = FittedParams.model_validate(example())
    path = write_params(tmp_path / "fit.yaml", params)
    assert read_params(path) == params
    first = path.read_text().splitlines()[0]
    assert first.startswith("# Fitted by `promosim calibrate bgnbd` on calibration/data/")
    assert first.endswith("BG/NBD rates are per week.")
    assert [p.name for p in tmp_path.iterdir()] == ["fit.yaml"]


def test_per_day_scales_alpha_only():
    """Rates per week become rates per day: alpha is multiplied by 7, r, a and b are kept."""
    day = FittedParams.model_validate(example()).per_day()
    assert (day.r, day.alpha, day.a, day.b) == (0.25, pytest.approx(4.8 * 7), 0.72, 2.16)


def test_missing_standard_errors_are_null_with_the_reason(tmp_path):
    """A standard error that does not exist is written and read as null, with a note; without
    the note the file is refused."""
    se = {"r": None, "alpha": 0.1, "a": 0.1, "b": 0.1, "note": "singular information"}
    params = FittedParams.model_validate(example(bgnbd_se=se))
    path = write_params(tmp_path / "fit.yaml", params)
    assert "bgnbd_se: {r: null, alpha: 0.1, a: 0.1, b: 0.1, note: singular information}" in (
        path.read_text()
    )
    back = read_params(path)
    assert back.bgnbd_se.r is None and back.bgnbd_se.note == "singular information"
    del se["note"]
    path.write_text(yaml.safe_dump(example(bgnbd_se=se)))
    with pytest.raises(ParamsFileError, match=r"bgnbd_se: .*null: give the reason in `note`"):
        read_params(path)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("bgnbd: {r: .nan, alpha: 4.8, a: 0.72, b: 2.16}", "bgnbd.r"),
        ("bgnbd: {r: 0.25, alpha: .inf, a: 0.72, b: 2.16}", "bgnbd.alpha"),
        ("bgnbd_se: {r: .nan, alpha: 0.1, a: 0.1, b: 0.1}", "bgnbd_se.r"),
        ("gamma_gamma: {p: 6.3, q: .inf, v: 15.0}", "gamma_gamma.q"),
        ("log_likelihood: .nan", "log_likelihood"),
    ],
)
def test_nan_and_inf_are_refused_naming_the_field(tmp_path, text, field):
    """No NaN or infinity reaches a scenario: estimates, errors and the likelihood are finite."""
    body = yaml.safe_dump(example(), sort_keys=False, default_flow_style=None)
    key = text.split(":", 1)[0]
    lines = [text if line.startswith(f"{key}:") else line for line in body.splitlines()]
    path = tmp_path / "bad.yaml"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ParamsFileError) as info:
        read_params(path)
    assert f"{path}:" in str(info.value) and f": {field}: " in str(info.value)


def test_boundary_warnings_and_penalizer_are_kept(tmp_path):
    """A fit written despite a boundary warning keeps it; a penalised one its coefficient."""
    params = FittedParams.model_validate(
        example(warnings=["a and b grow without bound"], penalizer=0.01)
    )
    back = read_params(write_params(tmp_path / "fit.yaml", params))
    assert back.warnings == ["a and b grow without bound"] and back.penalizer == 0.01


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"colour": "red"}, "colour"),
        ({"bgnbd": {"r": -1, "alpha": 4.8, "a": 0.72, "b": 2.16}}, "bgnbd.r"),
        ({"bgnbd": {"r": 1, "alpha": 4.8, "a": 0.72}}, "bgnbd.b"),
        ({"time_unit_days": 0}, "time_unit_days"),
        ({"calibration_end": "30/09/1997"}, "calibration_end"),
        ({"model": "pareto"}, "model"),
    ],
)
def test_invalid_files_name_the_field(tmp_path, changes, field):
    """Unknown keys and out-of-range values raise ParamsFileError: FILE:LINE: field: problem."""
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(example(**changes)))
    with pytest.raises(ParamsFileError) as info:
        read_params(path)
    assert re.match(rf"^{re.escape(str(path))}:\d+: {re.escape(field)}: \S", str(info.value))


def test_problems_are_reported_at_their_line(tmp_path):
    """Each problem is one line naming the file, the line of the field and what was expected."""
    path = tmp_path / "bad.yaml"
    path.write_text(
        "model: bgnbd\n"
        "source: x\n"
        "time_unit_days: 7\n"
        "n_customers: 10\n"
        "calibration_end: 1997-09-30\n"
        "bgnbd: {r: 0.25, alpha: 4.8, a: 0.72, b: -2}\n"
        "bgnbd_se: {r: 0.1, alpha: 0.1, a: 0.1, b: 0.1}\n"
        "log_likelihood: -1.0\n"
        "colour: red\n"
    )
    with pytest.raises(ParamsFileError) as info:
        read_params(path)
    assert str(info.value).splitlines() == [
        f"{path}:6: bgnbd.b: Input should be greater than 0 (got -2)",
        f"{path}:9: colour: unknown key 'colour'; expected one of: model, source, "
        "time_unit_days, n_customers, calibration_end, bgnbd, bgnbd_se, log_likelihood, "
        "gamma_gamma, gamma_gamma_se, penalizer, warnings",
    ]


def test_unreadable_and_non_mapping_files(tmp_path):
    """A missing file or a YAML list is a ParamsFileError too."""
    with pytest.raises(ParamsFileError, match="cannot read"):
        read_params(tmp_path / "absent.yaml")
    path = tmp_path / "list.yaml"
    path.write_text("- 1\n- 2\n")
    with pytest.raises(ParamsFileError, match="expected a mapping"):
        read_params(path)


def test_shipped_cdnow_master_file():
    """The shipped fit of the CDNOW master validates and holds the master's estimates."""
    params = read_params(SHIPPED)
    assert params.n_customers == 23570 and params.time_unit_days == 7
    assert str(params.calibration_end) == "1997-09-30"
    assert params.bgnbd.r == pytest.approx(0.2516, rel=1e-3)
    assert params.bgnbd.alpha == pytest.approx(4.789, rel=1e-3)
    assert params.log_likelihood == pytest.approx(-95368.44, abs=0.1)
    assert params.gamma_gamma is not None and params.gamma_gamma.q > 1


def test_a_file_is_read_once_until_it_changes(tmp_path, monkeypatch):
    """Reading a file again (by any spelling of its path) reuses the first read until it changes.

    The result is frozen, so callers sharing it cannot change it for each other.
    """
    reads = []
    read_yaml = params_file.read_yaml
    monkeypatch.setattr(params_file, "read_yaml", lambda *a: reads.append(a[0]) or read_yaml(*a))
    monkeypatch.chdir(tmp_path)
    path = write_params(tmp_path / "fit.yaml", FittedParams.model_validate(example()))
    first = read_params(path)
    assert read_params("fit.yaml") is first and read_params(str(path)) is first
    assert len(reads) == 1
    with pytest.raises(ValidationError):
        first.bgnbd.r = 1.0

    write_params(path, FittedParams.model_validate(example(source="another fit")))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert read_params(path).source == "another fit"
    assert len(reads) == 2


def test_a_scenario_and_its_models_read_the_file_once(tmp_path, monkeypatch):
    """Loading a scenario checks its params file; every model built from it reuses that read."""
    from simulator.engine.population import resolve_params
    from simulator.scenario.load import load_scenario

    reads = []
    read_yaml = params_file.read_yaml
    monkeypatch.setattr(params_file, "read_yaml", lambda *a: reads.append(a[0]) or read_yaml(*a))
    shutil.copy(SHIPPED, tmp_path / "fitted.yaml")
    scenario = ROOT / "scenarios" / "double11_2021.yaml"
    text = yaml.safe_load(scenario.read_text(encoding="utf-8"))
    text.pop("assumption_files", None)  # the files are relative to scenarios/
    pop = text["population"]
    for key in ("purchase_rate", "dropout", "basket"):
        pop.pop(key, None)
    pop["params_file"] = "fitted.yaml"
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(text), encoding="utf-8")
    sc = load_scenario(tmp_path / "s.yaml")
    for _ in range(3):
        resolve_params(sc.population, tmp_path)
    assert reads == [tmp_path / "fitted.yaml"]


@pytest.mark.parametrize("source", ["1e6", "0o17", "017", "yes", "1:00:00", "~", "2021-01-01"])
def test_any_source_text_reads_back(tmp_path, source):
    """The writer quotes text the reader would take for a number, a date or a YAML 1.1 literal."""
    params = FittedParams.model_validate(example(source=source))
    assert read_params(write_params(tmp_path / "fit.yaml", params)).source == source


def test_special_and_hostile_files_are_refused_quickly(tmp_path):
    """A FIFO is not opened for reading; an alias bomb is refused while it is read."""
    os.mkfifo(tmp_path / "pipe.yaml")
    with pytest.raises(ParamsFileError, match="not a regular file"):
        read_params(tmp_path / "pipe.yaml")
    bomb = tmp_path / "bomb.yaml"
    levels = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"l{k}: &l{k} [{', '.join([f'*l{k - 1}'] * 10)}]" for k in range(1, 9)]
    bomb.write_text(SHIPPED.read_text() + "\n".join(levels) + "\n")
    with pytest.raises(ParamsFileError, match="values once aliases are expanded"):
        read_params(bomb)
