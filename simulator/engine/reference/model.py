"""The reference model: the same shoppers, plan and days as `PromotionModel`, in plain Python."""

from __future__ import annotations

import math
import time
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import mesa
import numpy as np

from simulator.domain.lifecycle import ENROLLED
from simulator.engine import rng
from simulator.engine.counters import Layout
from simulator.engine.plan import NO_CAPACITY, Slots, compile_plan, day_slots
from simulator.engine.population import customers_of, resolve_params
from simulator.engine.reference.day import Day, Slot
from simulator.engine.reference.numbers import priority_bin, slot_key, stream_key, substream
from simulator.engine.reference.shopper import ShopperAgent
from simulator.engine.reference.shopper_state import initial_draw_keys
from simulator.engine.rng import PRIORITY_BINS
from simulator.engine.shoppers import FIELDS, ShopperField, Shoppers, shape
from simulator.scenario.schema import Scenario


def as_lists(named_tuple) -> SimpleNamespace:
    """A Plan or PopulationParams with its arrays as Python lists and numbers as Python scalars."""
    return SimpleNamespace(
        **{
            name: value.tolist() if isinstance(value, np.ndarray) else value
            for name, value in zip(named_tuple._fields, named_tuple, strict=True)
        }
    )


class ReferenceModel(mesa.Model):
    """The same shoppers, plan and days as `PromotionModel`, one Python agent per shopper."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        seed: int | None = None,
        shoppers: int | None = None,
        threads: int | None = None,
        base_dir: str | Path = ".",
        population: Shoppers | None = None,
        population_seed: int | None = None,
    ):
        """Compile the scenario and create the agents; arguments as `PromotionModel`'s.

        `threads` is accepted and ignored; `population` (arrays from `draw_population`) replaces
        the agents' own keyed initial draws. Traits are keyed by the population seed.
        """
        self.run_seed = int(scenario.seed if seed is None else seed)
        super().__init__(seed=self.run_seed)
        self.population_seed = self.run_seed if population_seed is None else int(population_seed)
        self.scenario = scenario
        n = int(shoppers or scenario.population.shoppers)
        self.plan = as_lists(compile_plan(scenario, scale=n / scenario.population.shoppers))
        resolved = resolve_params(scenario.population, Path(base_dir))
        self.params = as_lists(resolved)
        self.customers = customers_of(  # a customer table's sampled rows, or None
            scenario.population,
            Path(base_dir),
            scenario.calendar.start,
            n,
            resolved._replace(seed=np.uint64(self.population_seed)),
        )
        self.layout = Layout.of(scenario)
        self.n_days = len(self.plan.traffic)
        self.n_contact_slots = sum(1 for c in scenario.channels.values() if c.frequency_cap)
        self.daily_int = np.zeros((self.n_days, self.layout.n_int), np.int64)
        self.daily_float = np.zeros((self.n_days, self.layout.n_float), np.float64)
        self.ints: list[int] = []
        self.floats: list[float] = []
        self.init_keys = initial_draw_keys(self.population_seed, len(self.params.seg_share))
        self.shopper_agents = [ShopperAgent(self, i, population) for i in range(n)]

    @property
    def day(self) -> int:
        """Index of the last simulated day (-1 before the first step)."""
        return self.steps - 1

    def step(self) -> None:
        """Simulate one day: thresholds, then every shopper in id order, then the day's counters."""
        d = self.day
        if d >= self.n_days:
            self.running = False
            return
        if d == self.plan.old_member_cutoff:  # members now are old members from now on
            for agent in self.shopper_agents:
                agent.old_member = agent.old_member or agent.state >= ENROLLED
        seed = self.run_seed
        touches = [t for t, on in enumerate(self.plan.touch_on[d]) if on]
        k_contact = stream_key(seed, rng.CONTACT, d)
        k_react = stream_key(seed, rng.REACTIVATE, d)
        k_aware = stream_key(seed, rng.AWARE, d)
        priority_keys = [substream(k_contact, t) for t in touches]
        threshold = self.thresholds(d, touches, priority_keys)  # shared out in plan order
        slots = day_slots([self.plan.t_hour[t] for t in touches], np.array(self.plan.hour_cum))
        order = slots.order.tolist()  # the touches by slot
        day = Day(
            d=d,
            traffic=self.plan.traffic[d],
            online=self.plan.online[d],
            payment_online=self.plan.payment_online[d],
            presale=self.plan.presale[d],
            payment_day=self.plan.payment_day[d],
            month=self.plan.month[d],
            touches=[touches[k] for k in order],
            threshold=[threshold[k] for k in order],
            priority_keys=[priority_keys[k] for k in order],
            react_keys=[substream(k_react, touches[k]) for k in order],
            aware_keys=[substream(k_aware, touches[k]) for k in order],
            visit=stream_key(seed, rng.VISIT, d),
            enrol=stream_key(seed, rng.ENROL, d),
            buy=stream_key(seed, rng.BUY, d),
            basket=stream_key(seed, rng.BASKET, d),
            dropout=stream_key(seed, rng.DROPOUT, d),
            ahead=stream_key(seed, rng.AHEAD, d),
            wait=stream_key(seed, rng.WAIT, d),
            deposit=stream_key(seed, rng.PRESALE, d),
            payment=stream_key(seed, rng.PAYMENT, d),
        )
        day = replace(day, slots=self.slots(day, slots))
        self.ints = [0] * self.layout.n_int
        self.floats = [0.0] * self.layout.n_float
        for agent in self.shopper_agents:
            agent.step_day(day)
        self.daily_int[d] = self.ints
        self.daily_float[d] = self.floats
        if d == self.n_days - 1:
            self.running = False

    @staticmethod
    def slots(day: Day, slots: Slots) -> list[Slot]:
        """The day's slots, each with its draw keys: the day's, or a later slot's own."""
        out = []
        for s, hour in enumerate(slots.hour.tolist()):
            keys = ("visit", "enrol", "buy", "basket", "dropout", "ahead", "wait", "deposit")
            draws = replace(day, **{k: slot_key(getattr(day, k), hour) for k in keys})
            touches = range(int(slots.bounds[s]), int(slots.bounds[s + 1]))
            out.append(Slot(hour, touches, float(slots.share[s]), draws))
        return out

    def thresholds(self, d: int, touches: list[int], priority_keys: list[np.uint64]) -> list[int]:
        """Priority-bin threshold per touch today, so contacts stay within capacity and budget.

        A limited touch takes the lowest-priority bins of the shoppers it may reach (as they are at
        the start of the day), whole bins only, up to its cap; touches on a channel with a daily
        capacity share it in plan order.
        """
        plan, lay = self.plan, self.layout
        caps = []
        for t in touches:
            ch = plan.t_channel[t]
            cost = plan.ch_cost[ch]
            cap = math.inf if plan.ch_capacity[ch] == NO_CAPACITY else plan.ch_capacity[ch]
            if math.isfinite(plan.t_budget[t]) and cost > 0:
                spent = self.daily_float[:d, lay.cost_by_touch + t].sum()
                affordable = max(0, math.floor((plan.t_budget[t] - spent) / cost + 1e-9))
                cap = min(cap, affordable)
            caps.append(cap)
        threshold = [PRIORITY_BINS] * len(touches)
        limited = [math.isfinite(cap) for cap in caps]
        if not any(limited):
            return threshold
        # how many shoppers each limited touch may reach, by priority bin
        counts = [[0] * PRIORITY_BINS for _ in touches]
        for agent in self.shopper_agents:
            st = agent.observed_state(d)
            tags = agent.tag_word(st, d)
            for k, t in enumerate(touches):
                if limited[k] and agent.reachable(t, st, tags):
                    counts[k][priority_bin(priority_keys[k], agent.index)] += 1
        left = [float(c) for c in plan.ch_capacity]  # capacity not yet taken, per channel
        for k, t in enumerate(touches):
            if not limited[k]:
                continue
            ch = plan.t_channel[t]
            shared = plan.ch_capacity[ch] != NO_CAPACITY
            cap = min(caps[k], left[ch]) if shared else caps[k]
            taken = 0
            b = 0
            while b < PRIORITY_BINS and taken + counts[k][b] <= cap:
                taken += counts[k][b]
                b += 1
            threshold[k] = b
            if shared:
                left[ch] -= taken
        return threshold

    def to_arrays(self) -> Shoppers:
        """Every shopper's state in the engine's `Shoppers` layout and dtypes (for comparison)."""
        agents = self.shopper_agents

        def column(field: ShopperField) -> np.ndarray:
            values = [getattr(agent, field.name) for agent in agents]
            return np.array(values, field.dtype).reshape(
                shape(field, len(agents), self.n_contact_slots)
            )

        return Shoppers(*(column(field) for field in FIELDS))


def reference_agent_days_per_s(
    scenario: Scenario, shoppers: int = 2000, days: int | None = None, base_dir: str | Path = "."
) -> float:
    """Measured speed of the reference model: shoppers x days simulated per second of stepping."""
    model = ReferenceModel(scenario, shoppers=shoppers, base_dir=base_dir)
    days = model.n_days if days is None else min(days, model.n_days)
    start = time.perf_counter()
    for _ in range(days):
        model.step()
    return shoppers * days / (time.perf_counter() - start)
