"""`promosim calibrate response`: lifts of a randomised test, and the parameters they give.

Prints, per group and treatment arm, each measure of the arm against the control with its
standard error and 95% interval (or, with --json, the same as JSON on stdout); with --channel,
--benefit or --offer-depth it writes an assumptions file of the mapped parameters
(docs/calibration.md, "From a randomised test"). Bad files and impossible mappings exit 2.
"""

from __future__ import annotations

import sys
from pathlib import Path

from simulator.cli.common import BadInput, positive_int, positive_number, print_table

LABELS = {
    "visit_rate": "visit rate",
    "conversion_given_visit": "conversion | visit",
    "conversion": "conversion",
    "spend_per_customer": "spend / customer",
    "spend_per_converter": "spend / converter",
}


def _number(x: float | None, digits: int = 4) -> str:
    """A table cell: 4 significant digits, blank when undefined."""
    return "" if x is None else f"{x:.{digits}g}"


def _rows(comparisons) -> list[tuple[str, ...]]:
    """Table rows: group, arm, measure, control, arm, difference, SE, 95% CI, relative, SE."""
    rows = []
    for c in comparisons:
        for m, label in LABELS.items():
            d, r = c.difference[m], c.relative[m]
            ci = d.ci
            rows.append(
                (
                    c.group,
                    c.arm,
                    label,
                    _number(c.control[m].value),
                    _number(c.treated[m].value),
                    _number(d.value),
                    _number(d.se),
                    "" if ci is None else f"[{ci[0]:.4g}, {ci[1]:.4g}]",
                    "" if r.value is None else f"{r.value:+.2%}",
                    "" if r.se is None else f"{r.se:.2%}",
                )
            )
    return rows


def _print(fit) -> None:
    """The comparison table, the arms' sizes, the mapped parameters and the notes."""
    exp = fit.experiment
    print(f"{exp.source}: {exp.n_customers:,} customers, arms {', '.join(exp.arms)}")
    header = ("group", "arm", "measure", "control", "arm", "difference", "SE", "95% CI",
              "relative", "SE")  # fmt: skip
    print_table(_rows(fit.comparisons), header)
    if fit.mapped:
        print(
            f"\nparameters from arm {fit.arm!r} (window {fit.window.days} days, "
            f"{fit.window.contacts} contact day(s) per customer; delta-method SE):"
        )
        print_table(
            [
                (m.path, _number(m.estimate.value), _number(m.estimate.se), m.how)
                for m in fit.mapped
            ],
            ("parameter", "estimate", "SE", "from"),
        )
    for note in fit.notes:
        print(f"note: {note}")


def cmd_calibrate_response(args) -> int:
    """Read the test, compare arms, map the chosen arm and write the assumptions file."""
    from simulator.files import atomic_write_text, check_output_file, to_json
    from simulator.fitting.response.calibrate import Request, dumps_assumptions, fit_response
    from simulator.fitting.response.experiment_file import read_experiment
    from simulator.fitting.response.mapping import Window

    request = Request(
        arm=args.arm,
        channel=args.channel,
        benefit=args.benefit,
        offer_depth=args.offer_depth,
        max_log_odds=args.max_log_odds,
    )
    out = None
    if request.maps_anything:
        out = Path(args.out or f"calibration/assumptions/{Path(args.experiment).stem}.yaml")
        check_output_file(out)
    window = Window(args.window_days, args.contacts_per_customer)
    fit = fit_response(read_experiment(args.experiment), window, request)
    if args.json:
        sys.stdout.write(to_json(fit.as_dict() | {"assumptions_file": str(out) if out else None}))
    else:
        _print(fit)
    if out is not None:
        try:
            atomic_write_text(out, dumps_assumptions(fit))
        except OSError as exc:
            raise BadInput(f"cannot write {out}: {exc.strerror or exc}") from None
        if not args.json:
            print(f"written to {out}")
    return 0


def add_parser(subparsers) -> None:
    """Add `response` to the subparsers of `calibrate`."""
    r = subparsers.add_parser(
        "response",
        help="estimate a touch's response from a randomised test; write an assumptions file",
        description=__doc__.splitlines()[0],
    )
    r.add_argument(
        "experiment",
        help="CSV: customer_id, arm (control or a treatment), visited, converted, spend, "
        "optional segment columns (yes/no)",
    )
    r.add_argument("--arm", help="the treatment arm to translate (default: the only one)")
    r.add_argument(
        "--channel", metavar="NAME", help="write channels.NAME.response_lift (+ by segment)"
    )
    offer = r.add_mutually_exclusive_group()
    offer.add_argument(
        "--benefit",
        metavar="NAME",
        help="write benefits.NAME.effects.purchase (a mind-share benefit's log-odds)",
    )
    offer.add_argument(
        "--offer-depth",
        type=positive_number,
        metavar="D",
        help="the tested price offer's relative depth for a typical customer (0.1 = 10%%): "
        "write population.offer_response.depth_scale instead",
    )
    r.add_argument(
        "--max-log-odds",
        type=positive_number,
        default=1.5,
        help="the population's offer_response.max_log_odds, for --offer-depth (default 1.5)",
    )
    r.add_argument(
        "--window-days",
        type=positive_int,
        default=1,
        help="days of the test window the outcomes cover (default 1)",
    )
    r.add_argument(
        "--contacts-per-customer",
        type=positive_int,
        default=1,
        help="contact days of each treated customer in the window (default 1)",
    )
    r.add_argument(
        "--out",
        help="assumptions file to write (default: calibration/assumptions/<file stem>.yaml)",
    )
    r.add_argument("--json", action="store_true", help="print the estimates as JSON")
    r.set_defaults(func=cmd_calibrate_response)
