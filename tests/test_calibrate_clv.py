"""Tests for `promosim calibrate clv` (--model, --compare-models), the model params files and
the holdout comparison (simulator.clv.holdout), on the CDNOW 1/10th sample."""

from pathlib import Path

import numpy as np
import pytest
import yaml

from simulator.cli import main
from simulator.clv.bgbb import simulate_bgbb
from simulator.clv.holdout import compare_models
from simulator.clv.params_file import (
    BGBBFile,
    FittedParams,
    ParamsFileError,
    ParetoNBDFile,
    read_params,
)
from simulator.clv.summaries import cdnow_sample
from simulator.clv.transactions import CDNOW_CAL_END, date_of_day, day_number, load_transactions

ROOT = Path(__file__).resolve().parents[1]
MASTER = ROOT / "calibration" / "data" / "CDNOW_master.txt"


@pytest.fixture(scope="module")
def sample():
    """Fader & Hardie's CDNOW 1/10th sample (2,357 customers)."""
    return cdnow_sample(load_transactions(MASTER))


@pytest.fixture(scope="module")
def sample_csv(sample, tmp_path_factory):
    """The sample written as a `customer_id,date,amount` CSV log."""
    path = tmp_path_factory.mktemp("log") / "cdnow_sample.csv"
    dates = [date_of_day(int(d)).isoformat() for d in sample.day]
    ids = sample.customer_ids[sample.customer]
    rows = (f"{c},{d},{float(a)!r}\n" for c, d, a in zip(ids, dates, sample.amount, strict=True))
    path.write_text("customer_id,date,amount\n" + "".join(rows))
    return path


def calibrate(log, *options) -> int:
    """Run `promosim calibrate clv LOG OPTIONS`."""
    return main(["calibrate", "clv", str(log), *map(str, options)])


def test_paretonbd_file_is_written_and_refused_for_simulation(sample_csv, tmp_path):
    """--model paretonbd writes `model: paretonbd`; a simulation reading it is refused."""
    out = tmp_path / "pn.yaml"
    assert calibrate(sample_csv, "--model", "paretonbd", "--cal-weeks", "39", "--out", out) == 0
    fitted = read_params(out, simulate=False)
    assert isinstance(fitted, ParetoNBDFile) and fitted.n_customers == 2357
    assert fitted.paretonbd.r == pytest.approx(0.553, abs=5e-4)
    assert fitted.gamma_gamma is not None and str(fitted.calibration_end) == "1997-09-30"
    assert out.read_text().startswith("# Fitted by `promosim calibrate clv --model paretonbd`")
    with pytest.raises(ParamsFileError, match=r"pn.yaml:2: model: a Pareto/NBD fit cannot drive"):
        read_params(out)


def test_bgnbd_through_clv_writes_the_calibrate_bgnbd_file(sample_csv, tmp_path):
    """--model bgnbd is `calibrate bgnbd`: the same file, byte for byte."""
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    assert calibrate(sample_csv, "--cal-weeks", "39", "--out", a) == 0
    assert main(["calibrate", "bgnbd", str(sample_csv), "--cal-weeks", "39", "--out", str(b)]) == 0
    assert a.read_text() == b.read_text()
    assert isinstance(read_params(a), FittedParams)


def test_bgbb_over_quarters(sample_csv, tmp_path, capsys):
    """--model bgbb over 91-day opportunities of the sample: a boundary fit (one dropout
    probability for all), exit 3 unless --allow-boundary; too few windows is an error (exit 2)."""
    out = tmp_path / "bb.yaml"
    assert calibrate(sample_csv, "--model", "bgbb", "--period-days", "91", "--out", out) == 3
    assert "gamma and delta grow without bound" in capsys.readouterr().err and not out.exists()
    quarters = ("--model", "bgbb", "--period-days", "91", "--out", out, "--allow-boundary")
    assert calibrate(sample_csv, *quarters) == 0
    fitted = read_params(out, simulate=False)
    assert isinstance(fitted, BGBBFile) and fitted.opportunities.startswith("6 windows")
    assert "gamma and delta grow without bound" in fitted.warnings[0]
    body = yaml.safe_load(out.read_text())
    assert set(body["bgbb"]) == {"alpha", "beta", "gamma", "delta"}
    assert "expected buyers" in capsys.readouterr().out
    assert (
        calibrate(sample_csv, "--model", "bgbb", "--window", "11-11", "--out", out, "--force") == 2
    )
    assert "BG/BB needs at least 2" in capsys.readouterr().err


def test_scenario_naming_another_model_is_rejected(sample_csv, tmp_path, capsys):
    """`promosim validate` of a scenario whose params file is Pareto/NBD: exit 2, says why."""
    assert calibrate(sample_csv, "--model", "paretonbd", "--out", tmp_path / "pn.yaml") == 0
    text = (ROOT / "scenarios" / "double11_2021.yaml").read_text()
    start, end = text.index("  purchase_rate:"), text.index("  prospect_rate_scale:")
    scenario = tmp_path / "sc.yaml"
    scenario.write_text(text[:start] + "  params_file: pn.yaml\n" + text[end:])
    capsys.readouterr()
    assert main(["validate", str(scenario)]) == 2
    err = capsys.readouterr().err
    assert "pn.yaml:2: model: a Pareto/NBD fit cannot drive a simulation" in err
    assert "--model bgnbd" in err


def test_holdout_comparison_on_the_cdnow_sample(sample):
    """BG/NBD predicts weeks 40-78 of the sample better than Pareto/NBD (measured figures)."""
    c = compare_models(sample, day_number(CDNOW_CAL_END))
    assert c.n_customers == 2357 and c.holdout_actual == 1882 and c.holdout_length == 39
    scores = {s.model: s for s in c.scores}
    assert c.best.model == "bgnbd"
    assert scores["bgnbd"].holdout_loglik == pytest.approx(-7573.589, abs=0.01)
    assert scores["paretonbd"].holdout_loglik == pytest.approx(-7576.531, abs=0.01)
    assert scores["bgnbd"].forecast == pytest.approx(1653.4, abs=0.1)
    assert scores["paretonbd"].forecast == pytest.approx(1665.5, abs=0.1)


def test_holdout_loglik_is_zero_without_a_holdout(sample):
    """With no holdout period the holdout log-likelihood is 0 and nothing is forecast."""
    end = int(sample.day.max())
    c = compare_models(sample, end, end)
    assert all(s.holdout_loglik == 0 and s.forecast == 0 for s in c.scores)
    assert np.isfinite([s.fit.log_likelihood for s in c.scores]).all()


def test_compare_models_cli(sample_csv, capsys):
    """--compare-models prints both models and names the best; no holdout is an error."""
    assert calibrate(sample_csv, "--cal-weeks", "39", "--compare-models") == 0
    out = capsys.readouterr().out
    assert "best by holdout log-likelihood: BG/NBD (+2.94 nats over Pareto/NBD)" in out
    assert "1,882 holdout transactions" in out
    assert calibrate(sample_csv, "--compare-models") == 2
    assert "needs a calibration period and a holdout" in capsys.readouterr().err


@pytest.mark.parametrize("model", ["foo", "[bgnbd]"])
def test_unknown_model_is_an_error_listing_the_models(tmp_path, model):
    """A params file naming no known model is refused at its `model` line."""
    path = tmp_path / "p.yaml"
    path.write_text(f"source: x\nmodel: {model}\n")
    with pytest.raises(
        ParamsFileError, match="p.yaml:2: model: expected one of: bgnbd, paretonbd, bgbb"
    ):
        read_params(path, simulate=False)


def test_bgbb_recovers_a_simulated_double11_store(tmp_path):
    """A log of yearly Double 11 buyers (BG/BB, known parameters) with purchases outside the
    sale and repeats within it: `--window 11-01..11-11` recovers the parameters within 3 SEs."""
    rng = np.random.default_rng(11)
    true = (1.0, 1.5, 0.5, 3.0)
    n = 3000
    x, t_x, _ = simulate_bgbb(n, 7, *true, rng=rng)
    rows = []
    for c in range(n):
        years = [2015] + ([2015 + int(t_x[c])] if x[c] else [])
        if x[c] > 1:  # the other purchases: any x - 1 of the years before the last
            years += (2015 + rng.choice(np.arange(1, t_x[c]), x[c] - 1, replace=False)).tolist()
        for year in years:
            rows.append(f"c{c},{year}-11-{rng.integers(1, 12):02d},10")
        rows.append(f"c{c},{years[-1]}-11-11,5")  # a second purchase in the same sale
        rows.append(f"c{c},2016-06-18,7")  # outside every window
    log = tmp_path / "double11.csv"
    log.write_text("customer_id,date,amount\n" + "\n".join(rows) + "\n")
    out = tmp_path / "bb.yaml"
    assert calibrate(log, "--model", "bgbb", "--window", "11-01..11-11", "--out", out) == 0
    fitted = read_params(out, simulate=False)
    assert fitted.n_customers == n and fitted.opportunities.startswith("8 windows")
    for name, value in zip(("alpha", "beta", "gamma", "delta"), true, strict=True):
        se = getattr(fitted.bgbb_se, name)
        assert abs(getattr(fitted.bgbb, name) - value) < 3 * se, name


def test_an_existing_out_is_replaced_only_with_force(sample_csv, tmp_path, capsys):
    """As for `calibrate bgnbd`: a file that exists is not overwritten without --force."""
    out = tmp_path / "mine.yaml"
    out.write_text("my notes\n")
    quarters = ("--model", "bgbb", "--period-days", "91", "--allow-boundary")
    assert calibrate(sample_csv, *quarters, "--out", out) == 2
    assert "--force" in capsys.readouterr().err and out.read_text() == "my notes\n"
    assert calibrate(sample_csv, *quarters, "--out", out, "--force") == 0
    assert isinstance(read_params(out, simulate=False), BGBBFile)
