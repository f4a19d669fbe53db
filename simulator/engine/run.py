"""Running scenarios: one run, its no-campaign counterfactual, and the result object.

`simulate` steps a `PromotionModel` through its calendar and returns a `RunResult` (daily counters
plus what is needed to label them). `no_campaign` strips a scenario of benefits, channels and
touches: run on the same seed it is the counterfactual against which incremental GMV and ROI are
measured (common random numbers: the two runs differ only where the campaign acts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from simulator.domain.benefits import BENEFIT_TYPES
from simulator.engine.counters import Layout
from simulator.engine.model import PromotionModel
from simulator.engine.shoppers import Shoppers
from simulator.scenario.schema import Scenario


@dataclass
class RunResult:
    """Daily counters of one simulated run, with their labels."""

    scenario: Scenario
    seed: int
    shoppers: int
    layout: Layout
    dates: list[date]
    phases: list[str]  # phase name per day ("" outside every phase)
    presale: np.ndarray  # bool per day
    daily_int: np.ndarray  # [day, layout.int_names()]
    daily_float: np.ndarray  # [day, layout.float_names()]
    final: Shoppers | None = field(default=None, repr=False)  # end-of-run shopper arrays

    def series(self, name: str) -> np.ndarray:
        """One daily counter by name (see `Layout.int_names` / `Layout.float_names`)."""
        is_int, j = self.layout.columns[name]
        return self.daily_int[:, j] if is_int else self.daily_float[:, j]

    def daily_gmv(self) -> np.ndarray:
        """GMV per day: old members + new members + non-members."""
        return (
            self.series("gmv_old_member")
            + self.series("gmv_new_member")
            + self.series("gmv_nonmember")
        )

    def daily_orders(self) -> np.ndarray:
        """Orders per day: old members + new members + non-members."""
        return (
            self.series("orders_old_member")
            + self.series("orders_new_member")
            + self.series("orders_nonmember")
        )

    def daily_cost(self) -> np.ndarray:
        """Cost per day: benefit and contact costs (`counters.Layout.cost`)."""
        return self.layout.cost(self.daily_float)

    def total(self, name: str) -> float:
        """Sum of a daily counter over the calendar."""
        return self.series(name).sum()


def no_campaign(scenario: Scenario) -> Scenario:
    """The same store and calendar with no benefits, channels or touches of the brand's.

    The platform's own discounts (offer class `platform`) stay: they run without the campaign.
    """
    return scenario.model_copy(
        update={
            "name": f"{scenario.name} (no campaign)",
            "benefits": {
                name: b
                for name, b in scenario.benefits.items()
                if BENEFIT_TYPES[b.type].offer == "platform"
            },
            "channels": {},
            "plan": {},
        }
    )


def simulate(
    scenario: Scenario,
    *,
    seed: int | None = None,
    shoppers: int | None = None,
    threads: int | None = None,
    base_dir: str | Path = ".",
    progress: bool | tqdm = False,
    keep_final: bool = False,
    population: Shoppers | None = None,
    population_seed: int | None = None,
) -> RunResult:
    """Run one scenario through its calendar.

    Args:
        scenario: a validated scenario.
        seed: run seed (default: the scenario's).
        shoppers: population size (default: the scenario's).
        threads: Numba threads; results do not depend on it.
        base_dir: folder for relative paths inside the scenario.
        progress: True for a progress bar, or an existing tqdm bar to advance by one per day.
        keep_final: keep the end-of-run shopper arrays in the result.
        population: initial arrays drawn for population_seed (`population.draw_population`).
        population_seed: seed of the shoppers' traits (default: the run seed).
    """
    model = PromotionModel(
        scenario,
        seed=seed,
        shoppers=shoppers,
        threads=threads,
        base_dir=base_dir,
        population=population,
        population_seed=population_seed,
    )
    bar = (
        progress
        if isinstance(progress, tqdm)
        else tqdm(
            total=model.n_days, desc=scenario.name, unit="day", disable=not progress, leave=False
        )
    )
    while model.running:
        model.step()
        bar.update(1)
    if bar is not progress:
        bar.close()
    names = [ph.name for ph in scenario.calendar.phases]
    return RunResult(
        scenario=scenario,
        seed=model.run_seed,
        shoppers=model.shoppers.n,
        layout=model.layout,
        dates=scenario.days,
        phases=[names[k] if k >= 0 else "" for k in model.plan.phase],
        presale=model.plan.presale.copy(),
        daily_int=model.daily_int,
        daily_float=model.daily_float,
        final=model.shoppers if keep_final else None,
    )
