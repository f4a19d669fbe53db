"""`promosim calibrate sbg COUNTS.csv`: fit the sBG renewal model to a cohort's active counts.

The CSV has the header ``period,active`` and one row per period from 0 (the cohort's size).
The fit uses the first --fit-periods renewals (default all), prints the estimates and the
projected survival and retention next to the actual counts, and writes them as JSON.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

from simulator.cli.common import BadInput, non_negative_number, positive_int, print_table
from simulator.cli.fit_report import fit_status, print_fit

EXIT_BOUNDARY = 3


def _projection(active, fit, horizon: int) -> list[dict]:
    """Per period: actual count (when known), projected survival, retention and active count."""
    import numpy as np

    from simulator.clv.sbg import retention, survival

    t = np.arange(horizon + 1)
    surv = survival(t, *fit.params)
    keep = retention(np.maximum(t, 1), *fit.params)
    return [
        {
            "period": int(k),
            "actual": int(active[k]) if k < len(active) else None,
            "expected_active": float(active[0] * surv[k]),
            "survival": float(surv[k]),
            "retention": float(keep[k]) if k > 0 else None,
        }
        for k in t
    ]


def cmd_calibrate_sbg(args) -> int:
    """Fit sBG to the first periods of the counts, print the projection and write it."""
    from simulator.clv.sbg import fit_sbg, read_counts
    from simulator.files import atomic_write_text, check_output_file

    out = Path(args.out or f"results/calibrate/{Path(args.counts).stem.lower()}_sbg.json")
    check_output_file(out)
    _, active = read_counts(args.counts)
    k = len(active) - 1 if args.fit_periods is None else args.fit_periods
    if k > len(active) - 1:
        raise BadInput(f"--fit-periods {k}: {args.counts} has renewals 1..{len(active) - 1}")
    try:
        fit = fit_sbg(active[: k + 1], penalizer=args.penalizer, profile=args.profile)
    except ValueError as exc:
        raise BadInput(f"{args.counts}: {exc}") from None
    horizon = max(len(active) - 1, k) + args.horizon
    rows = _projection(active, fit, horizon)
    print(
        f"{args.counts}: cohort of {int(active[0]):,}, fitted on renewals 1..{k}: "
        f"log-likelihood {fit.log_likelihood:,.4f}, {fit_status(fit)}"
    )
    print_fit(fit, tuple(fit.as_dict()))
    print_table(
        [
            (
                str(r["period"]) + ("" if r["period"] <= k else " *"),
                "-" if r["actual"] is None else f"{r['actual']:,}",
                f"{r['expected_active']:,.1f}",
                f"{r['survival']:.4f}",
                "-" if r["retention"] is None else f"{r['retention']:.4f}",
            )
            for r in rows
        ],
        ("period", "actual", "projected", "survival", "retention"),
    )
    print("* not used by the fit (holdout or forecast)")
    for text in fit.check.problems:
        print(f"warning: sBG: {text}", file=sys.stderr)
    if fit.check.problems and not args.allow_boundary:
        print(
            f"error: a boundary fit (warnings above), so {out} was not written; write it "
            "anyway with --allow-boundary",
            file=sys.stderr,
        )
        return EXIT_BOUNDARY
    body = {
        "model": "sbg",
        "source": str(args.counts),
        "fit_periods": k,
        "estimates": fit.as_dict(),
        "se": {n: v if math.isfinite(v) else None for n, v in fit.se.items()},
        "log_likelihood": fit.log_likelihood,
        "converged": fit.converged,
        "intervals": {n: ci.as_list() for n, ci in fit.check.intervals.items()},
        "warnings": list(fit.check.problems),
        "projection": rows,
    }
    try:
        atomic_write_text(out, json.dumps(body, indent=1, allow_nan=False) + "\n")
    except OSError as exc:
        raise BadInput(f"cannot write {out}: {exc.strerror or exc}") from None
    print(f"written to {out}")
    return 0


def add_parser(subparsers) -> None:
    """Add `sbg` to the subparsers of `calibrate`."""
    s = subparsers.add_parser(
        "sbg", help="fit the sBG membership-renewal model to a cohort's active counts"
    )
    s.add_argument("counts", help="CSV with the header `period,active`, periods 0, 1, 2, ...")
    s.add_argument(
        "--fit-periods",
        type=positive_int,
        metavar="K",
        help="fit on renewals 1..K only, the rest is a holdout (default: all)",
    )
    s.add_argument(
        "--horizon",
        type=positive_int,
        default=5,
        help="periods to project beyond the data (default 5)",
    )
    s.add_argument("--out", help="JSON file (default: results/calibrate/<file stem>_sbg.json)")
    s.add_argument(
        "--penalizer",
        type=non_negative_number,
        default=0.0,
        metavar="L",
        help="L2 penalty on the log-parameters, as for `calibrate bgnbd` (default 0)",
    )
    s.add_argument(
        "--profile", action="store_true", help="95%% intervals from the profile likelihood"
    )
    s.add_argument(
        "--allow-boundary",
        action="store_true",
        help=f"write the file even for a boundary fit (otherwise exit {EXIT_BOUNDARY})",
    )
    s.set_defaults(func=cmd_calibrate_sbg)
