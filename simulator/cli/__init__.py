"""`promosim`, the command line: one module per command, `app` assembles them."""

from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `promosim` command (`app.main`).

    `app` is imported here, not with the package, so that `python -m simulator.cli.bench
    --child ...` runs the bench module once, without the other commands.
    """
    from simulator.cli.app import main as run_app

    return run_app(argv)
