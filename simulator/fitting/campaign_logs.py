"""Redemption from campaign logs: grants and redemptions per campaign, fitted per campaign type.

A campaign log has one row per campaign: its `type`, the households it `targeted` (granted a
coupon) and those that `redeemed` at least one of its coupons; optionally the mean spend per
household per week of the targeted and the untargeted households before and during it
(`before_targeted`, `during_targeted`, `before_untargeted`, `during_untargeted`).

The redemption rate of a campaign type is fitted as a beta-binomial across its campaigns: each
campaign c has its own rate p_c ~ Beta(mu * phi, (1 - mu) * phi) and its redeemers are
Binomial(targeted_c, p_c). Campaigns of one type differ by more than binomial noise (in the
Complete Journey, type A's four campaigns redeem 10-19%, chi-square p = 0.0001), so a single
Beta posterior of the pooled rate would state the next campaign's rate to within a few tenths
of a percentage point when campaigns vary by several points. What a scenario should be unsure
of is the rate of a campaign of that type: `rate_beta` is a Beta with mean mu and the variance
of the campaign-to-campaign spread plus the squared standard error of mu (the estimate's own
uncertainty, large with few campaigns). docs/completejourney.md says what this does and does
not tell.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from simulator.errors import UserError
from simulator.yamlfiles.inputs import UnreadableInput, read_input_bytes

MAX_LOG_BYTES = 10_000_000
REQUIRED = ("campaign_id", "type", "targeted", "redeemed")
SPEND = ("before_targeted", "during_targeted", "before_untargeted", "during_untargeted")
LOG_PHI = (math.log(0.5), math.log(1e5))  # bounds of log(phi): phi at 1e5 is no spread at all
LOGIT_MU = (-15.0, 15.0)


class CampaignLogError(UserError, ValueError):
    """A campaign log that cannot be used: the message names the file, line and expectation."""


def read_campaign_log(path: str | Path):
    """The log's rows as a DataFrame, every value checked.

    Raises:
        CampaignLogError: the file is unreadable, lacks a column, or a row holds a value out of
            range (a count below 0, redeemed above targeted, a spend that is not a number >= 0).
    """
    import pandas as pd

    path = Path(path)
    try:
        data = read_input_bytes(path, MAX_LOG_BYTES, "a campaign log")
        frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    except (UnreadableInput, ValueError, pd.errors.ParserError) as exc:
        raise CampaignLogError(f"{path}: cannot read it as CSV: {exc}") from None
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise CampaignLogError(
            f"{path}, line 1: no column {', '.join(missing)}; expected a header with "
            f"{', '.join(REQUIRED)} (and optionally {', '.join(SPEND)})"
        )
    if frame.empty:
        raise CampaignLogError(f"{path}: no campaigns; expected one row per campaign")
    for col in ("targeted", "redeemed"):
        frame[col] = _counts(path, frame[col], col)
    _check_rows(path, frame)
    for col in SPEND:
        if col in frame.columns:
            frame[col] = _spend(path, frame[col], col)
    return frame


def _counts(path: Path, col, name: str) -> np.ndarray:
    """A column of whole numbers >= 0."""
    for i, text in enumerate(col):
        if not text.strip().isdigit():
            raise CampaignLogError(
                f"{path}, line {i + 2}: {name} is {text!r}; expected a whole number >= 0"
            )
    return col.astype(np.int64).to_numpy()


def _spend(path: Path, col, name: str) -> np.ndarray:
    """A column of numbers >= 0, empty where unknown (NaN)."""
    out = np.full(len(col), np.nan)
    for i, text in enumerate(col):
        if text.strip() == "":
            continue
        try:
            out[i] = float(text)
        except ValueError:
            out[i] = -1.0
        if not (math.isfinite(out[i]) and out[i] >= 0):
            raise CampaignLogError(
                f"{path}, line {i + 2}: {name} is {text!r}; expected a number >= 0 or nothing"
            )
    return out


def _check_rows(path: Path, frame) -> None:
    """Every campaign has a type, at least one targeted household and no more redeemers."""
    for i, row in enumerate(frame.itertuples()):
        where = f"{path}, line {i + 2}"
        if not str(row.type).strip():
            raise CampaignLogError(f"{where}: type is empty; expected the campaign's type")
        if row.targeted < 1:
            raise CampaignLogError(f"{where}: targeted is 0; expected at least 1 household")
        if row.redeemed > row.targeted:
            raise CampaignLogError(
                f"{where}: redeemed ({row.redeemed}) is above targeted ({row.targeted}); "
                "expected the households that redeemed among those targeted"
            )
    dup = frame.campaign_id[frame.campaign_id.duplicated()]
    if len(dup):
        line = int(dup.index[0]) + 2
        raise CampaignLogError(f"{path}, line {line}: campaign {dup.iloc[0]} appears twice")


@dataclass(frozen=True)
class TypeFit:
    """The beta-binomial fit of one campaign type's redemption rate."""

    type: str
    campaigns: int
    targeted: int
    redeemed: int
    mu: float  # mean redemption rate of a campaign of the type
    mu_se: float  # its standard error
    phi: float  # precision: the campaigns' rates ~ Beta(mu * phi, (1 - mu) * phi)
    phi_at_bound: bool  # no spread beyond binomial noise detected
    heterogeneity_p: float  # chi-square test of one common rate (small: campaigns differ)

    @property
    def pooled(self) -> float:
        """Households redeeming / households targeted over the type's campaigns."""
        return self.redeemed / self.targeted

    @property
    def between_sd(self) -> float:
        """Standard deviation of the campaigns' own rates."""
        return 0.0 if self.phi_at_bound else math.sqrt(self.mu * (1 - self.mu) / (self.phi + 1))

    def rate_beta(self) -> tuple[float, float]:
        """Beta(a, b) of a campaign's rate: mean mu, variance between_sd^2 + mu_se^2."""
        return beta_of(self.mu, self.between_sd**2 + self.mu_se**2)


def beta_of(mean: float, var: float) -> tuple[float, float]:
    """Beta(a, b) with this mean and variance (needs 0 < mean < 1, var < mean (1 - mean))."""
    common = mean * (1 - mean) / var - 1
    if not (0 < mean < 1 and common > 0):
        raise ValueError(f"no Beta has mean {mean:.4g} and variance {var:.4g}")
    return mean * common, (1 - mean) * common


def _negll(theta: np.ndarray, k: np.ndarray, n: np.ndarray) -> float:
    """Beta-binomial negative log-likelihood at (logit mu, log phi), without constant terms."""
    from scipy.special import betaln, expit

    mu, phi = expit(theta[0]), math.exp(theta[1])
    a, b = mu * phi, (1 - mu) * phi
    return -float(np.sum(betaln(k + a, n - k + b) - betaln(a, b)))


def _second_derivatives(f, x: np.ndarray, h: float = 1e-4) -> np.ndarray:
    """Central-difference Hessian of f at x."""
    d = len(x)
    H = np.empty((d, d))
    for i in range(d):
        for j in range(d):
            ei, ej = np.eye(d)[i] * h, np.eye(d)[j] * h
            H[i, j] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (
                4 * h * h
            )
    return H


def fit_type(name: str, k: np.ndarray, n: np.ndarray) -> TypeFit:
    """Maximum-likelihood beta-binomial of one type's campaigns (redeemed k of targeted n)."""
    from scipy import optimize, stats
    from scipy.special import expit, logit

    k, n = np.asarray(k, np.float64), np.asarray(n, np.float64)
    pooled = float(np.clip(k.sum() / n.sum(), 1e-6, 1 - 1e-6))
    res = optimize.minimize(
        _negll,
        x0=np.array([logit(pooled), math.log(50.0)]),
        args=(k, n),
        method="L-BFGS-B",
        bounds=[LOGIT_MU, LOG_PHI],
    )
    theta = res.x
    at_bound = bool(theta[1] >= LOG_PHI[1] - 1e-3)
    mu = float(expit(theta[0]))
    free = 1 if at_bound else 2  # with phi at its bound, only mu is estimated
    H = _second_derivatives(lambda t: _negll(np.r_[t, theta[free:]], k, n), theta[:free])
    try:
        var_logit = float(np.linalg.inv(H)[0, 0])
    except np.linalg.LinAlgError:
        var_logit = math.inf
    mu_se = mu * (1 - mu) * math.sqrt(max(var_logit, 0.0))
    expected = n * pooled
    chi2 = float(np.sum((k - expected) ** 2 / (expected * (1 - pooled))))
    return TypeFit(
        type=name,
        campaigns=len(k),
        targeted=int(n.sum()),
        redeemed=int(k.sum()),
        mu=mu,
        mu_se=mu_se,
        phi=math.exp(theta[1]),
        phi_at_bound=at_bound,
        heterogeneity_p=float(stats.chi2.sf(chi2, len(k) - 1)) if len(k) > 1 else math.nan,
    )


def fit_types(log) -> dict[str, TypeFit]:
    """A beta-binomial fit per campaign type of a log (`read_campaign_log`), by type name."""
    return {
        str(t): fit_type(str(t), g.redeemed.to_numpy(), g.targeted.to_numpy())
        for t, g in log.groupby("type", sort=True)
    }


@dataclass(frozen=True)
class SpendGap:
    """Targeted against untargeted households' spend, per household per week, for one type."""

    type: str
    campaigns: int  # campaigns with all four spend figures
    before_targeted: float
    before_untargeted: float
    during_targeted: float
    during_untargeted: float

    @property
    def ratio_before(self) -> float:
        """How many times the untargeted households' spend the targeted spent before."""
        return self.before_targeted / self.before_untargeted

    @property
    def naive_change(self) -> float:
        """(during - before) of the targeted minus that of the untargeted: not an effect."""
        return (self.during_targeted - self.before_targeted) - (
            self.during_untargeted - self.before_untargeted
        )


def spend_gaps(log) -> dict[str, SpendGap]:
    """Per type, the spend figures averaged over its campaigns weighted by households targeted.

    Empty when the log has no spend columns; a type whose campaigns all lack a figure is left out.
    """
    if not all(c in log.columns for c in SPEND):
        return {}
    known = log.dropna(subset=list(SPEND))
    out = {}
    for t, g in known.groupby("type", sort=True):
        w = g.targeted.to_numpy(np.float64)
        means = {c: float(np.average(g[c].to_numpy(np.float64), weights=w)) for c in SPEND}
        out[str(t)] = SpendGap(type=str(t), campaigns=len(g), **means)
    return out
