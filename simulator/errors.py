"""The base class of every error a user's input causes (a scenario, a data file, an option).

`promosim` catches it in one place (`simulator.cli.app.main`): the message on stderr, exit
code 2, no traceback. Each module raises its own subclass, so the API can still tell them apart.
"""


class UserError(Exception):
    """Bad input, reported as `error: message` with exit code 2."""
