"""`python -m simulator.cli`: the `promosim` command."""

import sys

from simulator.cli import main

sys.exit(main())
