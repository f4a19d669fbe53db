"""`promosim calibrate redemption`: redemption per campaign type from a campaign log.

Fits a beta-binomial per campaign type (`fitting.campaign_logs`), measures by simulation the
share of held coupons the scenario's shoppers use (`fitting.redemption_map`), and writes the
channels' awareness as an assumptions file a scenario names in `assumption_files`. Prints what
the log cannot identify. Exit codes: 0 written, 2 bad input (log, scenario, mapping, output).
"""

from __future__ import annotations

import sys
from pathlib import Path

from simulator.cli.common import BadInput, options, print_table

UNIDENTIFIED = (
    "What this log cannot identify:",
    "  - an incremental spend effect: targeted households already spent more before the "
    "campaigns (above), they were chosen, and no comparable household was held out, so the "
    "change of the targeted against the untargeted is not the campaign's effect;",
    "  - why a coupon was not used: awareness absorbs noticing it and wanting the product;",
    "  - a visit or purchase lift (channel response_lift, offer response): fitted redemption "
    "leaves them as the scenario states them.",
)


def _mapping(pairs: list[str]) -> dict[str, str]:
    """--channel TYPE=CHANNEL pairs as {type: channel}."""
    out = {}
    for pair in pairs:
        t, sep, ch = pair.partition("=")
        if not sep or not t or not ch:
            raise BadInput(f"--channel {pair!r}: expected TYPE=CHANNEL, e.g. A=mailer_a")
        out[t] = ch
    return out


def cmd_calibrate_redemption(args) -> int:
    """Fit, map, print and write the assumptions file."""
    from simulator.files import atomic_write_text, check_output_file
    from simulator.fitting.campaign_logs import fit_types, read_campaign_log, spend_gaps
    from simulator.fitting.redemption_map import (
        awareness_assumptions,
        dumps_assumptions,
        use_rates,
    )
    from simulator.scenario.load import load_scenario

    log = read_campaign_log(args.log)
    channel_of = _mapping(args.channel)
    fits = fit_types(log)
    unmapped = sorted(set(fits) - set(channel_of))
    unknown = sorted(set(channel_of) - set(fits))
    if unmapped or unknown:
        raise BadInput(
            f"--channel: every campaign type of {args.log} needs one channel; "
            + (f"no channel for {', '.join(unmapped)}" if unmapped else "")
            + ("; " if unmapped and unknown else "")
            + (f"no campaign of type {', '.join(unknown)}" if unknown else "")
        )
    out = Path(args.out or Path(args.log).with_suffix(".assumptions.yaml"))
    check_output_file(out)
    scenario = load_scenario(args.scenario)
    uses = use_rates(
        scenario,
        sorted(set(channel_of.values())),
        shoppers=args.shoppers,
        seed=args.seed,
        base_dir=Path(args.scenario).parent,
    )
    found = awareness_assumptions(fits, uses, channel_of, source=str(args.log))
    command = " ".join(["promosim", *sys.argv[1:]]) if sys.argv[1:] else "promosim calibrate"
    atomic_write_text(out, dumps_assumptions(found, command))
    _print_fits(fits)
    _print_mapping(fits, uses, channel_of, found)
    _print_spend(spend_gaps(log))
    print("\n".join(UNIDENTIFIED))
    print(f"written to {out}")
    return 0


def _print_fits(fits) -> None:
    """Per type: counts, pooled rate, beta-binomial mean and spread, heterogeneity test."""
    rows = [
        (
            t,
            str(f.campaigns),
            f"{f.targeted:,}",
            f"{f.redeemed:,}",
            f"{f.pooled:.2%}",
            f"{f.mu:.2%} ± {f.mu_se:.2%}",
            f"{f.between_sd:.2%}" + (" (none found)" if f.phi_at_bound else ""),
            f"{f.heterogeneity_p:.2g}",
        )
        for t, f in fits.items()
    ]
    print("Redemption by campaign type (households redeeming / targeted; beta-binomial):")
    print_table(
        rows,
        ("type", "campaigns", "targeted", "redeemed", "pooled", "mean ± se", "sd between", "p"),
    )
    print("(p: chi-square test that the type's campaigns share one rate)")


def _print_mapping(fits, uses, channel_of, found) -> None:
    """Per type: the channel, q, and the fitted awareness Beta with its 90% interval."""
    from scipy import stats

    rows = []
    for t, ch in channel_of.items():
        d = found.assumptions[f"channels.{ch}.awareness"]
        lo, hi = stats.beta(d.a, d.b).ppf([0.05, 0.95])
        u = uses[ch]
        rows.append(
            (
                t,
                ch,
                f"{u.q:.2%} ± {u.se:.2%}",
                f"{d.point:.3f}",
                f"Beta({d.a:.4g}, {d.b:.4g})",
                f"[{lo:.3f}, {hi:.3f}]",
            )
        )
    print("\nMapped to channels.<channel>.awareness = rate / q (q: held coupons used, simulated):")
    print_table(rows, ("type", "channel", "q", "awareness", "distribution", "90%"))


def _print_spend(gaps) -> None:
    """Per type: spend per household per week before and during, targeted vs untargeted."""
    if not gaps:
        print("\nNo spend columns: the log says nothing of spend before or during the campaigns.")
        return
    rows = [
        (
            t,
            str(g.campaigns),
            f"{g.before_targeted:.2f}",
            f"{g.before_untargeted:.2f}",
            f"{g.ratio_before:.2f}x",
            f"{g.naive_change:+.2f}",
        )
        for t, g in gaps.items()
    ]
    print("\nSpend per household per week (weighted by households targeted):")
    print_table(
        rows, ("type", "campaigns", "targeted before", "others before", "ratio", "naive change")
    )
    print(
        "(naive change: the targeted's change from before to during minus the others'; "
        "not an effect, see below)"
    )


def add_parser(subparsers) -> None:
    """Add `redemption` to the subparsers of `calibrate`."""
    r = subparsers.add_parser(
        "redemption",
        help="fit redemption per campaign type from a campaign log (docs/completejourney.md)",
        description="Fit each campaign type's redemption rate (beta-binomial across its "
        "campaigns) and write the mapped channels' awareness as an assumptions file.",
        parents=[
            options(
                "seed",
                shoppers="shoppers of the simulation that measures q (default: the scenario's)",
                out="assumptions file to write (default: <log>.assumptions.yaml)",
            )
        ],
    )
    r.add_argument(
        "log",
        help="campaign log CSV: campaign_id, type, targeted, redeemed (optionally "
        "before_targeted, during_targeted, before_untargeted, during_untargeted)",
    )
    r.add_argument("--scenario", required=True, help="scenario whose channels deliver the coupons")
    r.add_argument(
        "--channel",
        action="append",
        required=True,
        metavar="TYPE=CHANNEL",
        help="the scenario channel whose touches stand for a campaign type (repeat per type)",
    )
    r.set_defaults(func=cmd_calibrate_redemption)
