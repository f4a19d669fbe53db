"""Loads the engine's compiled kernels into this process, for `promosim sweep`'s fork server.

The sweep forks its worker processes from a server that imports this module once: each worker
then starts with the kernels in memory instead of loading them from the cache (about 2 s each).
Only the serial paths run here (one small chunk), so no thread pool exists to be forked.
"""

from simulator.engine.run import simulate
from simulator.scenario.load import validate_data

_TINY = {
    "schema_version": 2,
    "name": "warm-up",
    "population": {
        "shoppers": 200,
        "mix": {"prospect": 0.5, "repeat": 0.5},
        "purchase_rate": {"r": 1.0, "alpha": 10.0},
        "dropout": {"a": 1.0, "b": 1.0},
        "basket": {"p": 2.0, "q": 3.0, "v": 10.0},
    },
    "calendar": {"start": "2021-11-01", "end": "2021-11-03"},
    "benefits": {"coupon": {"type": "member_coupon"}},
    "channels": {"sms": {"kind": "sms", "daily_capacity": 10, "frequency_cap": 2}},
    "plan": {"coupon_sms": {"channel": "sms", "benefit": "coupon", "audience": ["members"]}},
}

simulate(validate_data(_TINY))
