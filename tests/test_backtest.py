"""Backtest of the engine on CDNOW: the cohort replayed in the engine tracks BG/NBD; the CLI.

Engine-vs-formula tolerances are t intervals (99.9%) from the replication-to-replication spread;
the fast runs use Fader & Hardie's 2,357-customer sample and a few replications.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from synthetic_logs import bgnbd_log

from simulator import cli
from simulator.clv.bgnbd import BGNBDFit, conditional_expected_purchases, expected_purchases
from simulator.clv.gamma_gamma import expected_spend
from simulator.clv.params_file import read_params
from simulator.clv.summaries import cdnow_sample
from simulator.clv.transactions import CDNOW_CAL_END, date_of_day, load_transactions
from simulator.fitting.backtest.calibration import BacktestError, cal_end_of_weeks
from simulator.fitting.backtest.cohort import X_GROUPS, simulate_cohort
from simulator.fitting.backtest.result import seasonal_peaks
from simulator.fitting.backtest.run import run_backtest
from simulator.scenario.load import validate_data

ROOT = Path(__file__).resolve().parents[1]
MASTER = ROOT / "calibration" / "data" / "CDNOW_master.txt"
BAD = Path(__file__).resolve().parent / "data" / "bad_transactions"
REPS = 8
BAD_LINES = {
    "bad_date.csv": 4,
    "bad_date.txt": 3,
    "empty.txt": 1,
    "extra_field.txt": 2,
    "header_only.csv": 2,
    "missing_column.csv": 1,
    "missing_field.txt": 3,
    "non_numeric.txt": 4,
    "non_numeric_id.txt": 2,
}


@pytest.fixture(scope="module")
def sample():
    """The 2,357-customer CDNOW sample."""
    return cdnow_sample(load_transactions(MASTER))


@pytest.fixture(scope="module")
def backtest(sample):
    """A 39-week backtest of the sample with a few engine replications."""
    return run_backtest(sample, 39, reps=REPS, seed=5)


@pytest.fixture(scope="module")
def sample_csv(sample, tmp_path_factory):
    """The sample written as a CSV log (customer_id,date,amount)."""
    path = tmp_path_factory.mktemp("logs") / "cdnow_sample.csv"
    with path.open("w") as f:
        f.write("customer_id,date,amount\n")
        for c, d, a in zip(
            sample.customer_ids[sample.customer], sample.day, sample.amount, strict=True
        ):
            f.write(f"{c},{date_of_day(d)},{a:.2f}\n")
    return path


def t_bound(per_rep: np.ndarray) -> np.ndarray:
    """Half-width of a 99.9% t interval of the mean over replications (axis 0)."""
    return (
        stats.t.ppf(0.9995, len(per_rep) - 1) * per_rep.std(axis=0, ddof=1) / np.sqrt(len(per_rep))
    )


def test_weeks_count_from_the_first_transaction_day(sample):
    """Week 39 of CDNOW ends on 1997-09-30, as in the paper."""
    assert date_of_day(cal_end_of_weeks(sample, 39)) == CDNOW_CAL_END


def test_engine_tracks_the_bgnbd_expectation(backtest):
    """Every week's engine cumulative repeat count agrees with the analytic cohort expectation."""
    cum = backtest.engine_cum
    gap = np.abs(cum.mean(axis=0) - backtest.analytic_cum)
    assert np.all(gap <= t_bound(cum) + 1e-9), np.max(gap - t_bound(cum))
    assert backtest.accuracy()["mapd_engine_vs_analytic_pct"] < 2.0
    # the published holdout figure: 1,882 actual repeat transactions in weeks 40-78
    assert backtest.accuracy()["actual_holdout"] == 1882


def test_headline_is_the_holdout_periods_error(backtest):
    """The sample's holdout: 1,882 actual against BG/NBD's 1,666.7 (−11.4%), while the
    cumulative curve's MAPE over the same weeks is 2.6% (its counts include calibration's)."""
    hold, acc = backtest.holdout(), backtest.accuracy()
    assert hold["weeks"] == [40, 78] and hold["actual"] == 1882
    assert hold["bgnbd"] == pytest.approx(1666.65, abs=0.01)
    assert hold["error_bgnbd_pct"] == pytest.approx(-11.44, abs=0.01)
    assert acc["mape_analytic_vs_actual_pct"] == pytest.approx(2.63, abs=0.01)
    per_rep = backtest.engine_cum[:, -1] - backtest.engine_cum[:, 38]
    assert hold["engine"] == pytest.approx(per_rep.mean())
    assert abs(hold["engine"] - hold["bgnbd"]) <= t_bound(per_rep)
    assert hold["seasonal_peaks"] == [] and hold["error_bgnbd_without_peaks_pct"] is None


def test_holdout_revenue_is_bgnbd_times_gamma_gamma(backtest, sample):
    """Revenue: the actual amounts of weeks 40-78 against Σ E[Y|history] × E[spend|x, m]."""
    hold = backtest.holdout()
    cal = backtest.calibration
    rfm = cal.rfm
    days = sample.day > cal_end_of_weeks(sample, 39)
    days &= sample.day <= cal_end_of_weeks(sample, 78)
    assert hold["revenue_actual"] == pytest.approx(sample.amount[days].sum())
    y = conditional_expected_purchases(39, rfm.x, rfm.t_x, rfm.T, *cal.bgnbd.params)
    spend = expected_spend(rfm.x, rfm.mean_spend, *cal.gamma_gamma.params)
    assert hold["revenue_forecast"] == pytest.approx(y @ spend)
    assert hold["revenue_error_pct"] == pytest.approx(-15.6, abs=0.1)
    # the engine's GMV of the holdout days: its transactions times Gamma-Gamma's mean spend
    e = backtest.engine
    assert e.holdout_revenue.shape == (REPS,) and np.all(e.holdout_revenue > 0)
    assert hold["revenue_engine"] == pytest.approx(e.holdout_revenue.mean())


def test_engine_holdout_matches_conditional_expectation_of_its_own_customers(backtest):
    """Simulated holdout purchases agree with E[Y | x, t_x, T] of the simulated histories."""
    e = backtest.engine
    assert np.all(e.cond_n.sum(axis=1) == backtest.n_customers)
    diff = e.cond_holdout.sum(axis=1) - e.cond_expected.sum(axis=1)
    assert abs(diff.mean()) <= t_bound(diff)
    rows = backtest.conditional_rows()
    assert [r["x"] for r in rows] == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert sum(r["customers"] for r in rows) == backtest.n_customers


def test_customers_enter_on_their_first_purchase_day():
    """Nobody buys before entering, and entrants buy from the next day on."""
    n, entry = 3000, 10
    sc = validate_data(
        {
            "schema_version": 2,
            "name": "entry",
            "population": {
                "shoppers": n,
                "mix": {"nonmember_buyer": 1.0},
                "purchase_rate": {"r": 2.0, "alpha": 4.0, "time_unit_days": 1.0},
                "dropout": {"a": 1.0, "b": 20.0},
                "basket": {"p": 2.0, "q": 3.0, "v": 10.0},
                "conversion_per_visit": 1.0,
                "enrol_per_visit": 0.0,
                "initial_alive": {},
            },
            "calendar": {"start": "2020-01-01", "end": "2020-01-21"},
        }
    )
    bg = BGNBDFit.of(
        2.0,
        4.0 / 7,
        1.0,
        20.0,
        log_likelihood=0.0,
        se={},
        n_customers=n,
        n_unique_rows=1,
        converged=True,
        iterations=0,
    )
    runs = simulate_cohort(sc, np.full(n, entry), 13, bg, reps=2, seed=1)
    assert np.all(runs.weekly[:, 0] == 0)
    # days 11-13: the BG/NBD expectation over 3 days, not 2 or 4 (an entry day off by one)
    low, high = (n * float(expected_purchases(t, 2.0, 4.0, 1.0, 20.0)) for t in (2.5, 3.5))
    assert np.all((low < runs.weekly[:, 1]) & (runs.weekly[:, 1] < high)), (runs.weekly, low, high)
    assert np.all(runs.cond_n.sum(axis=1) == n) and runs.cond_n.shape[1] == X_GROUPS


def test_backtest_needs_a_holdout(sample):
    """At least one week must be left for the holdout."""
    with pytest.raises(BacktestError, match="between 1 and 77"):
        run_backtest(sample, 78, reps=1)


# ----------------------------------------------------------------------------- CLI
def test_calibrate_bgnbd_writes_the_published_fit(sample_csv, tmp_path, capsys):
    """The sample as CSV refits to the published estimates; --cal-end gives the same file."""
    out = tmp_path / "params" / "sample.yaml"
    assert (
        cli.main(["calibrate", "bgnbd", str(sample_csv), "--cal-weeks", "39", "--out", str(out)])
        == 0
    )
    printed = capsys.readouterr().out
    assert "log-likelihood -9,582.4" in printed and "std. error" in printed
    assert "time: load" in printed
    fitted = read_params(out)
    assert fitted.calibration_end == CDNOW_CAL_END
    got = fitted.bgnbd
    assert (got.r, got.alpha, got.a, got.b) == pytest.approx((0.243, 4.414, 0.793, 2.426), abs=1e-3)
    gg = fitted.gamma_gamma  # the published Gamma-Gamma fit of the same sample (test_gamma_gamma)
    assert (gg.p, gg.q, gg.v) == pytest.approx((6.25, 3.74, 15.44), abs=0.005)
    assert 0 < fitted.bgnbd_se.r < got.r  # a standard error, and a precise estimate
    same = tmp_path / "by_date.yaml"
    assert (
        cli.main(
            ["calibrate", "bgnbd", str(sample_csv), "--cal-end", "1997-09-30", "--out", str(same)]
        )
        == 0
    )
    assert same.read_text() == out.read_text()


def test_backtest_command_writes_its_files(tmp_path, capsys):
    """A folder holding other files is refused untouched; an empty one gets the result."""
    out = tmp_path / "bt"
    out.mkdir()
    (out / "stale.txt").write_text("old")
    args = ["backtest", str(MASTER), "--sample", "--cal-weeks", "39", "--reps", "3"]
    args += ["--seed", "2", "--out", str(out)]
    assert cli.main(args) == 2
    assert "stale.txt" in capsys.readouterr().err
    assert (out / "stale.txt").read_text() == "old"
    (out / "stale.txt").unlink()
    assert cli.main(args) == 0
    printed = capsys.readouterr().out
    headline = printed.index("holdout weeks 40-78, repeat transactions: actual 1,882; BG/NBD 1,667")
    assert "(-11.4%)" in printed and "holdout revenue: actual 70,976.39" in printed
    assert headline < printed.index("cumulative curve over weeks 40-78 (its counts include")
    assert "MAPE engine vs actual" in printed
    assert sorted(p.name for p in out.iterdir()) == [
        ".promosim.json",
        "backtest.json",
        "conditional.csv",
        "conditional.png",
        "tracking.png",
        "weekly.csv",
    ]
    data = json.loads((out / "backtest.json").read_text())
    assert data["meta"]["customers"] == 2357 and data["meta"]["reps"] == 3
    assert list(data)[:4] == ["meta", "fit", "holdout", "accuracy"]
    assert data["holdout"]["actual"] == 1882 and data["holdout"]["seasonal_peaks"] == []
    assert data["fit"]["warnings"] == []
    # the models compared by holdout log-likelihood (Fader-Hardie's sample: BG/NBD by 2.9 nats)
    models = data["models"]
    assert [s["model"] for s in models["scores"]] == ["bgnbd", "paretonbd"]
    assert models["best"] == "bgnbd" and models["holdout_actual"] == 1882
    assert len(data["weekly"]["engine_cumulative_mean"]) == 78
    weekly = list(csv.DictReader((out / "weekly.csv").open()))
    assert len(weekly) == 78 and weekly[39]["period"] == "holdout"
    assert int(weekly[-1]["actual_cumulative"]) == int(data["accuracy"]["actual_cum_at_end"])
    assert len(list(csv.DictReader((out / "conditional.csv").open()))) == X_GROUPS


@pytest.mark.parametrize("name", sorted(BAD_LINES))
def test_bad_transaction_files_exit_2_naming_the_line(name, tmp_path, capsys):
    """Both commands refuse a bad file with its line and write nothing."""
    path = BAD / name
    out = tmp_path / "p.yaml"
    assert cli.main(["calibrate", "bgnbd", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}, line {BAD_LINES[name]}:"), err
    assert not out.exists()
    assert (
        cli.main(
            ["backtest", str(path), "--cal-weeks", "1", "--out", str(tmp_path / "b"), "--quiet"]
        )
        == 2
    )
    assert f"line {BAD_LINES[name]}:" in capsys.readouterr().err
    assert not (tmp_path / "b").exists()


def test_bad_file_as_a_user_sees_it():
    """Under `python -m` too: exit 2, one error line, no traceback."""
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "simulator.cli",
            "calibrate",
            "bgnbd",
            str(BAD / "bad_date.txt"),
            "--out",
            "/nonexistent/never.yaml",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 2
    assert res.stderr.startswith("error: ") and "line 3" in res.stderr
    assert "Traceback" not in res.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["calibrate", "bgnbd", str(MASTER), "--cal-weeks", "100"], "after the last transaction"),
        (["calibrate", "bgnbd", str(MASTER), "--cal-end", "1996-12-31"], "before the first"),
        (["backtest", str(MASTER), "--cal-weeks", "78"], "between 1 and 77"),
        (["backtest", str(BAD / "bad_date.csv"), "--sample", "--cal-weeks", "3"], "CDNOW-format"),
    ],
)
def test_periods_outside_the_log_exit_2(args, message, tmp_path, capsys):
    """Periods the log cannot support are user errors."""
    assert cli.main([*args, "--out", str(tmp_path / "x")]) == 2
    assert message in capsys.readouterr().err


# ----------------------------------------------------------------------------- seasonal peaks
def test_seasonal_peaks_rule():
    """A week 1.5x its typical count and 4 sd above it is a peak; an overall bias, Poisson noise
    and a scatter the holdout shows in every week are not."""
    rng = np.random.default_rng(0)
    forecast = np.linspace(500, 400, 39)
    biased = rng.poisson(0.8 * forecast).astype(float)  # 20% below in every week: no peak
    assert seasonal_peaks(biased, forecast) == []
    spiked = biased.copy()
    spiked[7] = 1.6 * 0.8 * forecast[7]
    assert seasonal_peaks(spiked, forecast) == [7]
    small = spiked.copy()
    small[7] = 1.4 * 0.8 * forecast[7]  # 9 sd but only 1.4x typical: ordinary wobble
    assert seasonal_peaks(small, forecast) == []
    # weeks scattering 3 times Poisson's sd: the same 1.6x week is then within 4 sd of noise
    wobbly = 0.8 * forecast + 3 * np.sqrt(0.8 * forecast) * rng.standard_normal(39)
    wobbly[7] = 1.3 * 0.8 * forecast[7]
    assert seasonal_peaks(wobbly, forecast) == []
    assert seasonal_peaks(np.zeros(3), np.zeros(3)) == []


def test_a_november_spike_in_the_holdout_is_warned_about(tmp_path, capsys):
    """A synthetic BG/NBD log (3,000 customers, 52 weeks from 2019-01-07) with 5% of the active
    customers buying once more in week 46 (to 2019-11-24): that week, and only it, is named,
    and the holdout error without it is printed; the same log without the spike has no peak."""
    params = (0.25, 4.8, 0.7, 2.2)
    calm = bgnbd_log(tmp_path / "calm.csv", 3000, 52, params, 0)
    assert (
        run_backtest(load_transactions(calm, "csv"), 39, reps=2).holdout()["seasonal_peaks"] == []
    )
    log = bgnbd_log(tmp_path / "log.csv", 3000, 52, params, 0, spike_week=46, spike_share=0.05)
    out = tmp_path / "bt"
    args = ["backtest", str(log), "--cal-weeks", "39", "--reps", "2", "--out", str(out)]
    assert cli.main(args) == 0
    printed = capsys.readouterr()
    hold = json.loads((out / "backtest.json").read_text())["holdout"]
    assert [p["week"] for p in hold["seasonal_peaks"]] == [46]
    assert hold["seasonal_peaks"][0]["week_end"] == "2019-11-24"
    assert "warning: week 46 (to 2019-11-24) is a peak the model cannot know" in printed.err
    assert abs(hold["error_bgnbd_without_peaks_pct"]) < abs(hold["error_bgnbd_pct"])
    assert "holdout error of BG/NBD without the peak weeks" in printed.out
