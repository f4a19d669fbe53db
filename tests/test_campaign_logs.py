"""Redemption from campaign logs (`promosim calibrate redemption`) and the Complete Journey case.

The Complete Journey tests read only the committed summary (calibration/completejourney/
campaigns.csv) and the scenario and assumptions file fitted to it; the data themselves are not
needed (derive_summary.py made the summary once).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import simulator as ps
from simulator.cli.app import main
from simulator.fitting.campaign_logs import fit_type, read_campaign_log, spend_gaps
from simulator.scenario.assumptions import read_assumptions_file

ROOT = Path(__file__).resolve().parent.parent
CJ = ROOT / "calibration" / "completejourney"
SUMMARY = CJ / "campaigns.csv"
SCENARIO = CJ / "campaigns.yaml"
CHANNELS = ["--channel", "A=mailer_a", "--channel", "B=mailer_b", "--channel", "C=mailer_c"]
HOUSEHOLDS = 2469


def _campaigns(rng, rates, n):
    """Redeemers of campaigns with the given rates and households targeted."""
    return rng.binomial(n, rates), np.full(len(rates), n)


def test_beta_binomial_recovers_a_known_rate_and_spread():
    """300 campaigns whose rates are Beta(mu phi, (1 - mu) phi): mu within 3 standard errors,
    the spread between campaigns within 15% (its sampling error with 300 campaigns is ~5%)."""
    rng = np.random.default_rng(7)
    mu, phi = 0.12, 60.0
    k, n = _campaigns(rng, rng.beta(mu * phi, (1 - mu) * phi, 300), 400)
    fit = fit_type("X", k, n)
    assert abs(fit.mu - mu) < 3 * fit.mu_se
    true_sd = math.sqrt(mu * (1 - mu) / (phi + 1))
    assert fit.between_sd == pytest.approx(true_sd, rel=0.15)
    assert fit.heterogeneity_p < 1e-6


def test_one_common_rate_gives_the_binomial_uncertainty():
    """Campaigns sharing one rate: no spread found, and the mean's standard error is the pooled
    binomial one (within 10%), so the fit is never more confident than the counts allow."""
    rng = np.random.default_rng(3)
    k, n = _campaigns(rng, np.full(20, 0.1), 1000)
    fit = fit_type("X", k, n)
    assert fit.between_sd < 0.005
    binomial = math.sqrt(fit.pooled * (1 - fit.pooled) / n.sum())
    assert fit.mu_se == pytest.approx(binomial, rel=0.1)
    a, b = fit.rate_beta()
    assert a / (a + b) == pytest.approx(fit.mu)
    var = a * b / ((a + b) ** 2 * (a + b + 1))
    assert var == pytest.approx(fit.between_sd**2 + fit.mu_se**2)


def test_complete_journey_summary_says_targeted_households_spent_about_three_times_more():
    """The committed summary: 27 campaigns, 4 of type A, and before any campaign of a type its
    targeted households spent 2.4-2.9 times the untargeted ones per week."""
    log = read_campaign_log(SUMMARY)
    assert len(log) == 27 and log.type.value_counts().to_dict() == {"B": 17, "C": 6, "A": 4}
    gaps = spend_gaps(log)
    assert {t: round(g.ratio_before, 2) for t, g in gaps.items()} == {
        "A": 2.82,
        "B": 2.42,
        "C": 2.58,
    }


def test_complete_journey_simulated_redemption_is_within_2_points_of_the_data():
    """The fitted scenario simulated on a seed other than the fit's (16), at 10x the panel's
    households so that Monte Carlo error is small: households redeeming / targeted per campaign
    type within 2 percentage points of the committed summary's. Across 10 seeds the simulated
    rate's SD is at most 0.3 points (docs/completejourney.md); the rest of the gap is the fitted
    mean (beta-binomial, 15.7% for A) against the pooled rate (16.6%)."""
    scenario = ps.load_scenario(SCENARIO)
    run = ps.simulate(scenario, shoppers=10 * HOUSEHOLDS, seed=2, base_dir=CJ)
    layout = run.layout
    grants = layout.by_benefit(run.daily_int, layout.grants_by_benefit).sum(axis=0)
    used = layout.by_benefit(run.daily_int, layout.redemptions_by_benefit).sum(axis=0)
    data = pd.read_csv(SUMMARY)
    assert list(layout.benefits) == [f"campaign_{c}" for c in data.campaign_id]
    sim = data.assign(grants=grants, used=used).groupby("type")[["grants", "used"]].sum()
    real = data.groupby("type")[["targeted", "redeemed"]].sum()
    assert np.allclose(sim.grants / 10, real.targeted, rtol=0.01)  # each campaign's size
    for t in ("A", "B", "C"):
        simulated = sim.used[t] / sim.grants[t]
        observed = real.redeemed[t] / real.targeted[t]
        assert abs(simulated - observed) < 0.02, (t, simulated, observed)


def test_calibrate_redemption_writes_what_the_scenario_runs(tmp_path, capsys):
    """The command on the committed summary prints the fit, the spend gap and what the log
    cannot identify, and writes an assumptions file with the three channels' awareness close to
    the committed one (fitted at 10x the households; here the panel's size, so q's Monte Carlo
    error is ~0.4 points); the scenario loads the committed file's points."""
    out = tmp_path / "redemption.yaml"
    argv = ["calibrate", "redemption", str(SUMMARY), "--scenario", str(SCENARIO), *CHANNELS]
    assert main([*argv, "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "2.82x" in text and "cannot identify" in text and "16.56%" in text
    written = read_assumptions_file(out).assumptions
    committed = read_assumptions_file(CJ / "redemption.assumptions.yaml").assumptions
    assert set(written) == set(committed) == {f"channels.mailer_{t}.awareness" for t in "abc"}
    for key, dist in committed.items():
        assert written[key].point == pytest.approx(dist.point, abs=0.01)
    scenario = ps.load_scenario(SCENARIO)
    for t in "abc":
        point = committed[f"channels.mailer_{t}.awareness"].point
        assert scenario.channels[f"mailer_{t}"].awareness == pytest.approx(point)


BAD_LOGS = {
    "no redeemed": ("campaign_id,type,targeted\n1,A,10\n", "line 1: no column redeemed"),
    "above targeted": (
        "campaign_id,type,targeted,redeemed\n1,A,10,3\n2,A,10,11\n",
        "line 3: redeemed (11) is above targeted (10)",
    ),
    "not a count": ("campaign_id,type,targeted,redeemed\n1,A,-4,0\n", "line 2: targeted is '-4'"),
    "nobody targeted": ("campaign_id,type,targeted,redeemed\n1,A,0,0\n", "line 2: targeted is 0"),
    "no type": ("campaign_id,type,targeted,redeemed\n1,,5,0\n", "line 2: type is empty"),
    "twice": ("campaign_id,type,targeted,redeemed\n1,A,5,0\n1,B,5,1\n", "line 3: campaign 1"),
    "bad spend": (
        "campaign_id,type,targeted,redeemed,before_targeted\n1,A,5,0,lots\n",
        "line 2: before_targeted is 'lots'",
    ),
    "no rows": ("campaign_id,type,targeted,redeemed\n", "no campaigns"),
}


@pytest.mark.parametrize("case", sorted(BAD_LOGS))
def test_bad_campaign_logs_exit_2_naming_file_and_line(case, tmp_path, capsys):
    """Each bad log: exit 2, no traceback, the file, line and what was expected."""
    text, expected = BAD_LOGS[case]
    log = tmp_path / "log.csv"
    log.write_text(text)
    argv = ["calibrate", "redemption", str(log), "--scenario", str(SCENARIO), *CHANNELS]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert str(log) in err and expected in err and "Traceback" not in err


def test_every_campaign_type_needs_a_channel_that_delivers_coupons(tmp_path, capsys):
    """A type without a channel, or a channel the scenario lacks: exit 2 before simulating."""
    argv = ["calibrate", "redemption", str(SUMMARY), "--scenario", str(SCENARIO)]
    assert main([*argv, "--channel", "A=mailer_a", "--out", str(tmp_path / "x.yaml")]) == 2
    assert "no channel for B, C" in capsys.readouterr().err
    wrong = ["--channel", "A=sms", "--channel", "B=mailer_b", "--channel", "C=mailer_c"]
    assert main([*argv, *wrong, "--out", str(tmp_path / "x.yaml")]) == 2
    assert "no channel 'sms'" in capsys.readouterr().err
    assert not (tmp_path / "x.yaml").exists()
