"""From a redemption rate to the scenario parameter that produces it: a channel's awareness.

In the model a delivered coupon is granted, held with the channel's `awareness` (a keyed draw
independent of everything else), and a held coupon is used by the first order that qualifies
while it is online (docs/model.md "Redemption"). So a campaign's redemption rate is

    redemptions / grants = awareness x q

where q, the share of held coupons that get used, follows from the shoppers' purchase rates over
the validity window, the coupon's terms (threshold, depth) and the targeting; it is not a free
parameter. `use_rates` measures q by simulating the scenario with the mapped channels' awareness
at 1, and `awareness_assumptions` divides each type's rate distribution by it. What the model
calls awareness thus carries everything between a mailed coupon and a household wanting to use
it (noticing it, wanting the product) that the log does not split.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from simulator.errors import UserError
from simulator.fitting.campaign_logs import TypeFit, beta_of
from simulator.formatting import round_sig
from simulator.scenario.assumptions import AssumptionsFile
from simulator.scenario.schema import Scenario


class MappingError(UserError, ValueError):
    """A channel mapping the scenario cannot honour (an unknown channel, no coupon touch, ...)."""


@dataclass(frozen=True)
class UseRate:
    """Held coupons used, by the touches of one channel, simulated with awareness 1."""

    channel: str
    grants: int
    redemptions: int

    @property
    def q(self) -> float:
        """Share of held coupons used."""
        return self.redemptions / self.grants

    @property
    def se(self) -> float:
        """Binomial standard error of q (Monte Carlo error of the simulation)."""
        return math.sqrt(self.q * (1 - self.q) / self.grants)


def channel_benefits(scenario: Scenario, channel: str) -> list[str]:
    """The benefits the channel's touches deliver; each must be delivered by this channel only.

    Raises:
        MappingError: the channel is unknown, delivers nothing, or shares a benefit with another.
    """
    if channel not in scenario.channels:
        raise MappingError(
            f"{scenario.name}: no channel {channel!r}; expected one of "
            f"{', '.join(scenario.channels) or '(none)'}"
        )
    mine = {t.benefit for t in scenario.plan.values() if t.channel == channel and t.benefit}
    if not mine:
        raise MappingError(f"{scenario.name}: no touch of channel {channel!r} delivers a benefit")
    shared = {
        t.benefit for t in scenario.plan.values() if t.channel != channel and t.benefit in mine
    }
    if shared:
        raise MappingError(
            f"{scenario.name}: {', '.join(sorted(shared))} is also delivered by another "
            f"channel, so its redemptions cannot be told apart by channel {channel!r}"
        )
    return sorted(mine)


def use_rates(
    scenario: Scenario,
    channels: list[str],
    *,
    shoppers: int | None = None,
    seed: int | None = None,
    base_dir: Path = Path("."),
) -> dict[str, UseRate]:
    """Simulate the scenario with the channels' awareness at 1; q per channel."""
    from simulator.engine.run import simulate
    from simulator.scenario.load import with_values

    delivered = {ch: channel_benefits(scenario, ch) for ch in channels}
    everyone = with_values(scenario, {f"channels.{ch}.awareness": 1.0 for ch in channels}, base_dir)
    run = simulate(everyone, shoppers=shoppers, seed=seed, base_dir=base_dir)
    layout = run.layout
    grants = layout.by_benefit(run.daily_int, layout.grants_by_benefit).sum(axis=0)
    used = layout.by_benefit(run.daily_int, layout.redemptions_by_benefit).sum(axis=0)
    index = {name: j for j, name in enumerate(layout.benefits)}
    out = {}
    for ch, names in delivered.items():
        cols = [index[b] for b in names]
        out[ch] = UseRate(ch, int(np.sum(grants[cols])), int(np.sum(used[cols])))
        if out[ch].grants == 0:
            raise MappingError(
                f"{scenario.name}: the touches of channel {ch!r} granted nothing in the "
                "simulation; expected them to reach shoppers"
            )
    return out


def awareness_beta(fit: TypeFit, use: UseRate) -> tuple[float, float]:
    """Beta(a, b) of awareness = rate / q, matched to the rate Beta's mean and variance / q^2.

    Raises:
        MappingError: the type's rate is not below q: no awareness up to 1 gives it.
    """
    mean_rate = fit.mu
    var_rate = fit.between_sd**2 + fit.mu_se**2
    mean, var = mean_rate / use.q, var_rate / use.q**2
    if mean >= 1 or var >= mean * (1 - mean):
        raise MappingError(
            f"type {fit.type}: its redemption rate ({mean_rate:.1%}) is not well below the "
            f"share of held coupons the scenario's shoppers use ({use.q:.1%} through channel "
            f"{use.channel!r}), so no awareness up to 1 reproduces it; expected coupon terms, "
            "validity windows or targeting under which more held coupons are used"
        )
    return beta_of(mean, var)


def awareness_assumptions(
    fits: dict[str, TypeFit], uses: dict[str, UseRate], channel_of: dict[str, str], source: str
) -> AssumptionsFile:
    """The assumptions file: `channels.<channel>.awareness` as a Beta per campaign type."""
    entries = {}
    for t, ch in channel_of.items():
        a, b = awareness_beta(fits[t], uses[ch])
        entries[f"channels.{ch}.awareness"] = {
            "dist": "beta",
            "a": round_sig(a, 6),
            "b": round_sig(b, 6),
        }
    note = (
        "Awareness per campaign type = its redemption rate / q, q the share of held coupons "
        "used when every coupon is noticed (simulated: "
        + ", ".join(f"{ch} {uses[ch].q:.4f}" for ch in channel_of.values())
        + "). The rate of a campaign of a type is a beta-binomial fit across its campaigns; "
        "the Beta's variance is the campaign-to-campaign spread plus the squared standard "
        "error of the mean rate. Awareness here carries everything between a delivered "
        "coupon and wanting to use it (noticing, wanting the product); incremental spend is "
        "not identified by the log (docs/completejourney.md)."
    )
    return AssumptionsFile.model_validate(
        {"kind": "assumptions", "source": source, "note": note, "assumptions": entries}
    )


def dumps_assumptions(found: AssumptionsFile, command: str) -> str:
    """The file's YAML text, headed by the command that wrote it."""
    import yaml

    from simulator.yamlfiles.loader import YamlDumper

    body = found.model_dump(mode="json", exclude_none=True)
    return f"# Written by `{command}`.\n" + yaml.dump(
        body, Dumper=YamlDumper, sort_keys=False, default_flow_style=None, width=100
    )
