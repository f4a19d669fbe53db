"""Fits that can be trusted: boundary and degenerate fits found and explained, profile intervals,
the penalizer (`simulator.clv.fit_checks` through the BG/NBD and Gamma-Gamma fits).

The boundary cases are the issue's: a synthetic log where nobody drops out (p ~ 1e-6), and one
where everybody has the same dropout probability (Beta(a, b) with a + b = 10^6), 2,000 customers.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from synthetic_logs import bgnbd_log

from simulator import cli
from simulator.cli.calibrate_bgnbd import EXIT_BOUNDARY
from simulator.clv.bgnbd import PARAM_NAMES, fit_bgnbd, simulate_bgnbd
from simulator.clv.fit_checks import (
    FAR,
    PROFILE_DROP,
    Interval,
    check_fit,
    penalty,
    profile_interval,
    wald_interval,
)
from simulator.clv.gamma_gamma import fit_gamma_gamma, simulate_gamma_gamma
from simulator.clv.params_file import read_params
from simulator.clv.summaries import cdnow_sample, summarise
from simulator.clv.transactions import CDNOW_CAL_END, day_number, load_transactions

N = 2000
ROOT = Path(__file__).resolve().parents[1]
MASTER = ROOT / "calibration" / "data" / "CDNOW_master.txt"
SHIPPED = ROOT / "calibration" / "params" / "cdnow_master.yaml"


@pytest.fixture(scope="module")
def cdnow_fit_data():
    """(x, t_x, T) in weeks of the CDNOW 1/10th sample, 39-week calibration."""
    rfm = summarise(cdnow_sample(load_transactions(MASTER)), day_number(CDNOW_CAL_END))
    return rfm.x, rfm.t_x, rfm.T


def no_dropout(seed: int):
    """2,000 customers over 39 weeks who practically never drop out (p ~ Beta(1, 1e6))."""
    return simulate_bgnbd(N, 39, 0.25, 4.8, 1.0, 1e6, np.random.default_rng(seed))


def same_dropout(seed: int):
    """2,000 customers with one dropout probability, 0.3 (Beta(3e5, 7e5))."""
    return simulate_bgnbd(N, 39, 0.25, 4.8, 3e5, 7e5, np.random.default_rng(seed))


@pytest.mark.parametrize("seed", [0, 1])  # 0: standard errors exist, 1: they do not
def test_nobody_dropping_out_is_a_boundary_fit(seed):
    """a runs to 0 (p piles up at 0): the fit says so in words, whether or not its SEs exist."""
    fit = fit_bgnbd(*no_dropout(seed))
    assert fit.check.boundary
    assert "almost no customer appears to drop out" in fit.check.problems[0]
    assert fit.check.intervals["a"].open_low
    assert fit.check.intervals["a"].method == "profile"
    if any(math.isnan(v) for v in fit.se.values()):
        assert "not positive definite" in fit.check.problems[-1]
        assert "standard errors do not exist" in fit.check.se_note


@pytest.mark.parametrize("seed", [0, 1])
def test_one_dropout_probability_for_all_is_a_boundary_fit(seed):
    """a, b grow without bound together: no dropout heterogeneity, p a single value ≈ 0.3."""
    fit = fit_bgnbd(*same_dropout(seed))
    assert fit.check.boundary
    words = fit.check.problems[0]
    assert words.startswith("a and b grow without bound: the data cannot tell dropout")
    p = float(words.rsplit("a/(a+b) = ", 1)[1].split()[0])
    assert p == pytest.approx(0.3, abs=0.05)
    assert fit.check.intervals["a"].open_high and fit.check.intervals["b"].open_high


@pytest.mark.parametrize("seed", [0, 1])
def test_ordinary_fits_are_not_flagged(seed):
    """With dropout heterogeneity in the data (a 0.7, b 2.2) nothing is reported."""
    fit = fit_bgnbd(*simulate_bgnbd(N, 39, 0.25, 4.8, 0.7, 2.2, np.random.default_rng(seed)))
    assert not fit.check.boundary and fit.check.se_note is None
    assert {v.method for v in fit.check.intervals.values()} == {"wald"}


def test_penalizer_keeps_a_boundary_fit_finite_and_costs_little_elsewhere():
    """L2 on log-parameters pulls a back from 0; on an ordinary fit a small one barely moves it."""
    fit = fit_bgnbd(*no_dropout(0), penalizer=0.01)
    assert not fit.check.boundary and fit.penalizer == 0.01
    assert 0.05 < fit.a < 1 and all(math.isfinite(v) for v in fit.se.values())
    data = simulate_bgnbd(N, 39, 0.25, 4.8, 0.7, 2.2, np.random.default_rng(0))
    plain, small = fit_bgnbd(*data), fit_bgnbd(*data, penalizer=1e-4)
    for k in PARAM_NAMES:
        assert abs(small.as_dict()[k] - plain.as_dict()[k]) < plain.se[k], k


def test_penalty_is_symmetric_in_log_scale():
    """Halving or doubling a parameter costs the same; the gradient is that of coef·|d|²."""
    centre = np.zeros(2)
    half = penalty(np.log([0.5, 1.0]), centre, 0.1)[0]
    double = penalty(np.log([2.0, 1.0]), centre, 0.1)[0]
    assert half == pytest.approx(double) == pytest.approx(0.1 * math.log(2) ** 2)
    theta = np.array([0.3, -0.2])
    eps = 1e-6
    numeric = [
        (penalty(theta + eps * e, centre, 0.1)[0] - penalty(theta - eps * e, centre, 0.1)[0])
        / (2 * eps)
        for e in np.eye(2)
    ]
    assert penalty(theta, centre, 0.1)[1] == pytest.approx(numeric)


def test_profile_interval_of_a_normal_mean_is_the_wald_interval():
    """For a quadratic log-likelihood the profile interval is exactly estimate ± 1.96 se."""
    n, se_log = 100.0, 0.1

    def objective(theta):  # n·objective = ½ (θ0/se)² + ½ (θ1 − θ0)²·10: correlated, quadratic
        d0, d1 = theta[0], theta[1] - theta[0]
        f = 0.5 * (d0 / se_log) ** 2 + 5 * d1**2
        return f / n, np.array([d0 / se_log**2 - 10 * d1, 10 * d1]) / n

    got = profile_interval(objective, np.zeros(2), n, 0, step=0.05)
    # profiling θ1 out leaves ½(θ0/se)²: the 1.92 drop is at |θ0| = 1.96 se
    assert math.log(got.high) == pytest.approx(math.sqrt(2 * PROFILE_DROP) * se_log, rel=1e-3)
    assert math.log(got.low) == pytest.approx(-math.sqrt(2 * PROFILE_DROP) * se_log, rel=1e-3)
    wald = wald_interval(1.0, se_log)
    assert (got.low, got.high) == pytest.approx((wald.low, wald.high), rel=1e-3)


def test_a_flat_profile_is_open_beyond_a_factor_far():
    """A parameter the objective ignores has an interval open both ways, reported as running
    off the way it went from the fit's start."""

    def objective(theta):
        return 0.5 * theta[0] ** 2, np.array([theta[0], 0.0])

    got = profile_interval(objective, np.array([0.0, 3.0]), 1.0, 1)
    assert got.open_low and got.open_high and got.as_list() == [None, None]
    check = check_fit(
        ("x", "y"),
        np.array([0.0, 3.0]),
        {"x": 1.0, "y": math.nan},
        objective,
        1.0,
        centre=np.zeros(2),
    )
    assert check.problems[0].startswith("y grows without bound (y = 20.09)")
    assert math.log(FAR) > 9


def test_cdnow_profile_intervals_agree_with_the_standard_errors(cdnow_fit_data):
    """On the CDNOW sample (a well-determined fit) the profile and Wald intervals agree to 10%
    (b, the least determined, has the most skewed profile: 4.57 against 4.29 at the top)."""
    x, t_x, T = cdnow_fit_data
    wald, prof = fit_bgnbd(x, t_x, T), fit_bgnbd(x, t_x, T, profile=True)
    assert not prof.check.boundary
    assert prof.params == wald.params  # profiling changes no estimate
    for k in PARAM_NAMES:
        w, p = wald.check.intervals[k], prof.check.intervals[k]
        assert p.method == "profile" and w.method == "wald"
        assert (p.low, p.high) == pytest.approx((w.low, w.high), rel=0.1), k


def test_gamma_gamma_with_one_spend_level_is_a_boundary_fit():
    """Every customer with the same ν (no spend heterogeneity): q and v grow without bound."""
    rng = np.random.default_rng(3)
    x = rng.integers(1, 8, size=3000).astype(float)
    total = rng.gamma(6.0 * x, 1.0 / 0.4)  # ν = 0.4 for everyone: mean spend 15
    fit = fit_gamma_gamma(x, total / x)
    assert fit.check.boundary
    assert fit.check.problems[0].startswith("q and v grow without bound")
    ordinary = fit_gamma_gamma(x, simulate_gamma_gamma(x, 6.0, 3.7, 15.0, rng))
    assert not ordinary.check.boundary


def test_interval_lists():
    """Open ends are None in files."""
    assert Interval(0.0, 2.0, "profile").as_list() == [None, 2.0]
    assert Interval(1.0, math.inf, "profile").as_list() == [1.0, None]


# ----------------------------------------------------------------------------- the command
@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    """52-week synthetic CSV logs of 2,000 customers: nobody drops out; one dropout p for all;
    ordinary heterogeneity."""
    folder = tmp_path_factory.mktemp("logs")
    return {
        name: bgnbd_log(folder / f"{name}.csv", N, 52, params, seed=1)
        for name, params in {
            "no_dropout": (0.25, 4.8, 1.0, 1e6),
            "same_dropout": (0.25, 4.8, 3e5, 7e5),
            "ordinary": (0.25, 4.8, 0.7, 2.2),
        }.items()
    }


def calibrate(log, *extra) -> list[str]:
    """Arguments of `promosim calibrate bgnbd` on 39 of the log's weeks."""
    return ["calibrate", "bgnbd", str(log), "--cal-weeks", "39", *map(str, extra)]


def test_no_dropout_log_is_refused_with_the_meaning_and_exit_3(logs, tmp_path, capsys):
    """The issue's case: never "converged" with missing errors; a warning in words; no file."""
    out = tmp_path / "fit.yaml"
    assert cli.main(calibrate(logs["no_dropout"], "--out", out)) == EXIT_BOUNDARY == 3
    printed = capsys.readouterr()
    assert "converged" not in printed.out and "stopped at a boundary" in printed.out
    assert "warning: BG/NBD: a runs to 0 and b grows without bound" in printed.err
    assert "almost no customer appears to drop out" in printed.err
    assert f"so {out} was not written" in printed.err and "--allow-boundary" in printed.err
    assert "[0, inf]" in printed.out  # the profile intervals of a and b
    assert not out.exists()


def test_one_dropout_probability_log_names_the_single_p(logs, tmp_path, capsys):
    """a, b -> inf: "p is a single value a/(a+b) = 0.3"; written with --allow-boundary, warnings
    in the file, which a scenario can still read."""
    out = tmp_path / "fit.yaml"
    assert cli.main(calibrate(logs["same_dropout"], "--out", out)) == 3
    err = capsys.readouterr().err
    assert "a and b grow without bound: the data cannot tell dropout heterogeneity apart" in err
    assert "a single value a/(a+b) = 0.3" in err
    assert cli.main(calibrate(logs["same_dropout"], "--out", out, "--allow-boundary")) == 0
    written = read_params(out)
    assert written.warnings[0].startswith("BG/NBD: a and b grow without bound")


def test_boundary_fit_written_anyway_has_null_errors_with_the_reason(logs, tmp_path, capsys):
    """With --allow-boundary a fit without standard errors writes null and the reason."""
    out = tmp_path / "fit.yaml"
    assert cli.main(calibrate(logs["no_dropout"], "--out", out, "--allow-boundary")) == 0
    text = out.read_text()
    assert ".nan" not in text.lower()
    written = read_params(out)
    assert written.bgnbd_se.a is None and "not positive definite" in written.bgnbd_se.note
    assert written.bgnbd.a > 0


def test_penalizer_gives_a_finite_fit_that_is_written(logs, tmp_path, capsys):
    """--penalizer 0.01 keeps a and b finite: exit 0, the coefficient recorded in the file."""
    out = tmp_path / "fit.yaml"
    assert cli.main(calibrate(logs["no_dropout"], "--out", out, "--penalizer", "0.01")) == 0
    printed = capsys.readouterr()
    assert "L2 penalizer 0.01" in printed.out and "warning" not in printed.err
    written = read_params(out)
    assert written.penalizer == 0.01 and written.warnings is None
    assert 0.01 < written.bgnbd.a < 10 and written.bgnbd_se.a is not None


def test_ordinary_log_fits_without_warnings_and_profile_on_request(logs, tmp_path, capsys):
    """A log with heterogeneity in dropout and spend: exit 0, converged, Wald intervals; with
    --profile the intervals come from the profile likelihood."""
    out = tmp_path / "fit.yaml"
    assert cli.main(calibrate(logs["ordinary"], "--out", out)) == 0
    printed = capsys.readouterr()
    assert "converged in" in printed.out and printed.err == ""
    assert "95% intervals: θ·exp(±1.96·se/θ)" in printed.out
    assert cli.main(calibrate(logs["ordinary"], "--out", out, "--profile", "--force")) == 0
    assert "95% intervals: profile likelihood" in capsys.readouterr().out


def test_default_out_is_under_results_and_never_a_tracked_file(tmp_path, monkeypatch, capsys):
    """The issue's command no longer touches calibration/params/cdnow_master.yaml: the default is
    results/calibrate/<stem>.yaml, replaced only when promosim wrote it; an existing --out needs
    --force."""
    monkeypatch.chdir(tmp_path)
    tracked = tmp_path / "calibration" / "params" / "cdnow_master.yaml"
    tracked.parent.mkdir(parents=True)
    shutil.copy(SHIPPED, tracked)
    before = tracked.read_bytes()
    args = calibrate(MASTER)
    assert cli.main(args) == 0
    default = tmp_path / "results" / "calibrate" / "cdnow_master.yaml"
    assert "written to results/calibrate/cdnow_master.yaml" in capsys.readouterr().out
    assert read_params(default).n_customers == 23570 and tracked.read_bytes() == before
    assert cli.main(args) == 0  # its own previous file is replaced
    default.write_text("my notes\n")  # not a params file promosim wrote: refused, untouched
    assert cli.main(args) == 2
    assert "exists; it is replaced only with --force" in capsys.readouterr().err
    assert default.read_text() == "my notes\n"
    explicit = [*args, "--out", "calibration/params/cdnow_master.yaml"]
    assert cli.main(explicit) == 2
    assert "calibration/params/cdnow_master.yaml exists" in capsys.readouterr().err
    assert tracked.read_bytes() == before
    assert cli.main([*explicit, "--force"]) == 0
    assert read_params(tracked).n_customers == 23570
