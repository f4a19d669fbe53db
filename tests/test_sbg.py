"""Tests for the sBG renewal model (simulator.clv.sbg) and `promosim calibrate sbg`."""

import json

import numpy as np
import pytest

from simulator.cli import main
from simulator.clv.sbg import fit_sbg, negll_grad, read_counts, retention, survival

# Fader & Hardie (2007), "How to Project Customer Retention", Table 1: members of a 1,000
# cohort still active at years 0..7 (the calibration data of the paper's fits)
REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]
HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491]


@pytest.mark.parametrize(
    "counts, published", [(REGULAR, (0.704, 1.182)), (HIGH_END, (0.668, 3.806))]
)
def test_reproduces_the_papers_estimates(counts, published):
    """Fitted on years 0-7 (7 renewals), as in the paper: α and β to the published 3 decimals."""
    fit = fit_sbg(counts)
    assert fit.converged
    for got, want in zip(fit.params, published, strict=True):
        assert abs(got - want) <= 0.0005 + 1e-9
    assert all(0 < s < v for s, v in zip(fit.se.values(), fit.params, strict=True))


def test_loglik_at_one_one_matches_the_papers_spreadsheet():
    """At α = β = 1 the high-end cohort's log-likelihood is −2,115.5 (−2.115 per member)."""
    f, _ = negll_grad([1.0, 1.0], np.array(HIGH_END, dtype=float))
    assert -f == pytest.approx(-2115.5455, abs=1e-3)


def test_gradient_matches_finite_differences():
    """The analytic gradient equals central differences of the log-likelihood."""
    active = np.array(REGULAR, dtype=float)
    params = np.array([0.8, 1.5])
    _, g = negll_grad(params, active)
    for i in range(2):
        h = np.zeros(2)
        h[i] = 1e-6
        numeric = (negll_grad(params + h, active)[0] - negll_grad(params - h, active)[0]) / 2e-6
        assert g[i] == pytest.approx(numeric, rel=1e-6)


def test_survival_and_retention_agree():
    """S(t) = Π r_k, S(0) = 1, and retention rises towards 1 (the sorting effect)."""
    a, b = 0.704, 1.182
    t = np.arange(1, 13)
    assert survival(0, a, b) == 1.0
    np.testing.assert_allclose(survival(t, a, b), np.cumprod(retention(t, a, b)), rtol=1e-12)
    assert np.all(np.diff(retention(t, a, b)) > 0)


def test_bad_counts_are_rejected():
    """Rising counts, a single period or nobody leaving cannot be fitted."""
    for counts in ([1000, 900, 950], [1000], [1000, 1000, 1000], [0, 0]):
        with pytest.raises(ValueError):
            fit_sbg(counts)


def write_counts(path, counts):
    """A counts CSV in the documented layout."""
    path.write_text("period,active\n" + "".join(f"{k},{n}\n" for k, n in enumerate(counts)))
    return path


def test_read_counts_names_the_bad_line(tmp_path):
    """Each problem is reported with the file and line."""
    assert read_counts(write_counts(tmp_path / "ok.csv", HIGH_END))[1].tolist() == HIGH_END
    bad = {
        "header.csv": ("when,active\n0,10\n1,5\n", ":1: expected the header"),
        "order.csv": ("period,active\n0,10\n2,5\n", ":3: expected period 1, got 2"),
        "rise.csv": ("period,active\n0,10\n1,5\n2,6\n", ":4: 6 active is more than the 5"),
        "text.csv": ("period,active\n0,10\n1,five\n", ":3: expected two whole numbers"),
    }
    for name, (text, message) in bad.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(ValueError, match=message):
            read_counts(tmp_path / name)


def test_cli_fits_projects_and_writes_json(tmp_path, capsys):
    """`calibrate sbg` on all 7 renewals, projecting 5 more; bad input exits 2."""
    counts = write_counts(tmp_path / "high_end.csv", HIGH_END)
    out = tmp_path / "fit.json"
    assert main(["calibrate", "sbg", str(counts), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "alpha        0.6681" in printed and "12 *" in printed
    body = json.loads(out.read_text())
    assert body["model"] == "sbg" and body["fit_periods"] == 7
    assert body["estimates"]["beta"] == pytest.approx(3.806, abs=5e-4)
    assert [r["period"] for r in body["projection"]] == list(range(13))
    assert body["projection"][12]["actual"] is None
    assert main(["calibrate", "sbg", str(counts), "--fit-periods", "9", "--out", str(out)]) == 2
    (tmp_path / "flat.csv").write_text("period,active\n0,10\n1,10\n")
    assert main(["calibrate", "sbg", str(tmp_path / "flat.csv"), "--out", str(out)]) == 2
    assert "no member cancelled" in capsys.readouterr().err


def test_a_homogeneous_cohort_is_a_boundary_fit(tmp_path, capsys):
    """Counts halving every period (one churn probability for all) send α, β to infinity:
    `calibrate sbg` says so and exits 3 unless --allow-boundary, with null standard errors."""
    counts = write_counts(tmp_path / "geometric.csv", [1000, 500, 250, 125, 62])
    out = tmp_path / "fit.json"
    assert main(["calibrate", "sbg", str(counts), "--out", str(out)]) == 3
    err = capsys.readouterr().err
    assert "warning: sBG:" in err and "--allow-boundary" in err and not out.exists()
    assert main(["calibrate", "sbg", str(counts), "--out", str(out), "--allow-boundary"]) == 0
    body = json.loads(out.read_text())
    assert body["warnings"] and body["se"] == {"alpha": None, "beta": None}
    assert body["projection"][1]["retention"] == pytest.approx(0.5, abs=0.002)
