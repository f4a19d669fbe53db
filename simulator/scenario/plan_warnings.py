"""Warnings about a valid scenario whose plan cannot do what it says, found before simulating.

A warning is not an error: the scenario runs. `promosim validate`, `run` and `compare` print them
(`run` also lists them in run.json). What needs a run to see (a touch that contacted nobody, a
budget barely used, a capacity taken by earlier touches) is in `analysis.run_warnings`.
"""

from __future__ import annotations

from simulator.domain.lifecycle import SEGMENTS
from simulator.scenario.schema import Scenario


def undefined_segments(sc: Scenario) -> list[str]:
    """Audiences, reaches and targets naming a segment the population gives no shopper.

    A segment nobody is in (no `population.segments` entry, or share 0) makes the name match
    nobody: a touch aimed only at it contacts no one, a benefit targeted only at it is never used.
    A customer table's segments are its own (`population build` prints who is in each).
    """
    pop = sc.population
    if pop.customers is not None:
        return []
    defined = {name for name, spec in pop.segments.items() if spec.share > 0}

    def missing(names) -> list[str]:
        return [n for n in names if n in SEGMENTS and n not in defined]

    uses = []
    for name, touch in sc.plan.items():
        uses += [(f"plan.{name}.audience", n) for n in missing(touch.audience)]
        uses += [(f"plan.{name}.exclude", n) for n in missing(touch.exclude)]
    for name, channel in sc.channels.items():
        uses += [(f"channels.{name}.reach", n) for n in missing(channel.reach or [])]
    for name, benefit in sc.benefits.items():
        uses += [(f"benefits.{name}.target.segments", n) for n in missing(benefit.target.segments)]
    return [
        f"{where} names segment '{segment}', which no shopper is in (population.segments "
        "defines it with no share): it matches nobody"
        for where, segment in uses
    ]
