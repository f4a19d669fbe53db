"""`promosim`, the command line: one module per command, `app` assembles them."""

from simulator.cli.app import main

__all__ = ["main"]
