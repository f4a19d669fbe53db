"""`PromotionModel`: the Mesa model. One `step()` is one campaign day.

The model owns the population arrays and the compiled plan; a step decides each touch's capacity
threshold (channel capacity and touch budget, shared out in plan order), runs the Numba day kernel
and collects the day's counters with Mesa's DataCollector.
"""

from __future__ import annotations

import math
from pathlib import Path

import mesa
import numba as nb
import numpy as np

from simulator.domain.lifecycle import ENROLLED, OLD_MEMBER, STATES
from simulator.engine import rng
from simulator.engine.counters import AMOUNT, COUNT, Layout
from simulator.engine.eligible import CountedTouches, count_eligible
from simulator.engine.kernel import Counters, Today, WorkerBuffers, step_day
from simulator.engine.plan import NO_CAPACITY, compile_plan, day_slots
from simulator.engine.population import (
    customers_of,
    initialise,
    resolve_params,
    state_counts,
)
from simulator.engine.rng import PRIORITY_BINS
from simulator.engine.shoppers import Shoppers, allocate
from simulator.engine.workers import CHUNK, n_chunks, n_workers, on_workers, set_threads
from simulator.scenario.schema import Scenario

N_STATES = len(STATES)
MEMBER_GMV = [AMOUNT.gmv_old_member, AMOUNT.gmv_new_member]  # float counter columns
GMV = MEMBER_GMV + [AMOUNT.gmv_nonmember]


class PromotionModel(mesa.Model):
    """A store's shoppers through one campaign calendar under one scenario."""

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
        """Compile the scenario and draw the population.

        Args:
            scenario: a validated scenario.
            seed: run seed (default: the scenario's); all draws are keyed by it.
            shoppers: population size (default: the scenario's); capacities and budgets
                scale with it so the mix and the per-shopper exposure stay the same.
            threads: worker threads (default: all cores; `workers`). Results do not depend on it.
            base_dir: folder that relative paths in the scenario (params_file) start from.
            population: initial shopper arrays already drawn for this population section and
                population seed (see `draw_population`); copied, so one draw can start many
                scenarios.
            population_seed: seed of the shoppers' traits (initial state, segments, rates,
                spend, dropout, birthday); default: the run seed. Replications keep it fixed and
                vary `seed`, so they vary behaviour on one population.
        """
        self.run_seed = int(scenario.seed if seed is None else seed)
        super().__init__(seed=self.run_seed)
        set_threads(threads)
        self.scenario = scenario
        n = int(shoppers or scenario.population.shoppers)
        self.plan = compile_plan(scenario, scale=n / scenario.population.shoppers)
        self.population_seed = self.run_seed if population_seed is None else int(population_seed)
        self.params = resolve_params(scenario.population, Path(base_dir))._replace(
            seed=np.uint64(self.population_seed)
        )
        self.layout = Layout.of(scenario)
        lay = self.layout
        self.shoppers = allocate(n, int((self.plan.ch_cap_slot >= 0).sum()))
        if population is None:
            pop, start = scenario.population, scenario.calendar.start
            customers = customers_of(pop, Path(base_dir), start, n, self.params)
            initialise(self.shoppers, self.params, customers)
        else:
            for dst, src in zip(self.shoppers, population, strict=True):
                dst[...] = src[:, : dst.shape[1]] if dst.ndim == 2 else src
        self._state_counts = state_counts(self.shoppers.state)
        self.n_days = len(self.plan.traffic)
        self.daily_int = np.zeros((self.n_days, lay.n_int), np.int64)
        self.daily_float = np.zeros((self.n_days, lay.n_float), np.float64)
        chunks = n_chunks(n)
        self._counters = Counters(
            counts=np.zeros((chunks, lay.n_int), np.int64),
            amounts=np.zeros((chunks, lay.n_float), np.float64),
            blocks=lay.blocks,
        )
        # per-worker buffers of the busy-shopper filter (busy.busy_shoppers)
        self._is_busy = np.zeros((nb.config.NUMBA_NUM_THREADS, CHUNK), np.uint8)
        self._busy = np.zeros((nb.config.NUMBA_NUM_THREADS, CHUNK), np.int64)
        plan = self.plan
        cost = plan.ch_cost[plan.t_channel]
        self._limited = (plan.ch_capacity[plan.t_channel] != NO_CAPACITY) | (
            np.isfinite(plan.t_budget) & (cost > 0)
        )
        self._pending: dict = {}  # touch -> (priority histogram, bin bound) for _pending_day
        self._pending_day = -1
        self._eligible: dict = {}  # touch -> shoppers it could reach when last sent
        reporters = {
            "gmv": lambda m: m.today_float[GMV].sum(),
            "member_gmv": lambda m: m.today_float[MEMBER_GMV].sum(),
            "cost": lambda m: float(lay.cost(m.today_float)),
        }
        for name in ("visits", "enrolments", "contacts"):
            column = getattr(COUNT, name)
            reporters[name] = lambda m, j=column: int(m.today_int[j])
        self.datacollector = mesa.DataCollector(model_reporters=reporters)

    @property
    def day(self) -> int:
        """Index of the last simulated day (-1 before the first step)."""
        return self.steps - 1

    @property
    def today_int(self) -> np.ndarray:
        """Integer counters of the last simulated day."""
        return self.daily_int[self.day]

    @property
    def today_float(self) -> np.ndarray:
        """Float counters of the last simulated day."""
        return self.daily_float[self.day]

    def step(self) -> None:
        """Simulate one day (Mesa has already advanced `steps`)."""
        d = self.day
        if d >= self.n_days:
            self.running = False
            return
        if d == self.plan.old_member_cutoff and d > 0:
            self._cut_off_old_members()
        seed = np.uint64(self.run_seed)
        touches = np.flatnonzero(self.plan.touch_on[d]).astype(np.int64)
        thresholds = self._thresholds(d, touches)  # before the bounds: it updates _eligible
        slots = day_slots(self.plan.t_hour[touches], self.plan.hour_cum)
        following = self._limited_touches(d + 1)
        tomorrow = CountedTouches(
            touches=following,
            keys=rng.touch_keys(seed, d + 1, following),
            bounds=np.array([self._bin_bound(t, d) for t in following], np.int64),
        )
        today = Today(  # the touches by slot (the thresholds were shared out in plan order)
            day=d,
            seed=seed,
            touches=touches[slots.order],
            thresholds=thresholds[slots.order],
            priority_keys=rng.touch_keys(seed, d, touches)[slots.order],
            slot_bounds=slots.bounds,
            slot_share=slots.share,
            slot_hour=slots.hour,
            tomorrow=tomorrow,
        )
        hist = self._histograms(len(following))
        self._counters.counts.fill(0)
        self._counters.amounts.fill(0.0)
        args = (self.shoppers, self.plan, self.params, today, self._counters)
        on_workers(
            step_day,
            n_workers(len(self._counters.counts)),
            lambda w: (*args, WorkerBuffers(hist[w], self._is_busy[w], self._busy[w])),
        )
        self._pending = {
            t: (row, b)
            for t, row, b in zip(
                following.tolist(), hist.sum(axis=0), tomorrow.bounds.tolist(), strict=True
            )
        }
        self._pending_day = d + 1
        self.daily_int[d] = self._counters.counts.sum(axis=0)
        self._state_counts += self.daily_int[d, :N_STATES]  # the kernel counts changes
        self.daily_int[d, :N_STATES] = self._state_counts
        self.daily_float[d] = self._counters.amounts.sum(axis=0)
        self.datacollector.collect(self)
        if d == self.n_days - 1:
            self.running = False

    def _cut_off_old_members(self) -> None:
        """Every member at the start of the cut-off day is an old member from now on.

        (Members of day 0 are old from the draw, `population`.) The shoppers today's limited
        touches may reach were counted yesterday, before the change of flag: counted again.
        """
        self.shoppers.flags[self.shoppers.state >= ENROLLED] |= OLD_MEMBER
        self._pending_day = -1

    def _limited_touches(self, d: int) -> np.ndarray:
        """Touches sent on day d whose contacts a channel capacity or a budget can limit."""
        if d >= self.n_days:
            return np.zeros(0, np.int64)
        return np.flatnonzero(self.plan.touch_on[d] & self._limited).astype(np.int64)

    def _cap(self, t: int, d: int, left: float = math.inf) -> float:
        """Most contacts touch t may make on day d: channel capacity left and budget left."""
        plan = self.plan
        ch = plan.t_channel[t]
        cap = min(left, plan.ch_capacity[ch]) if plan.ch_capacity[ch] != NO_CAPACITY else left
        # (left: what earlier touches today left of the channel's capacity)
        cost = plan.ch_cost[ch]
        if math.isfinite(plan.t_budget[t]) and cost > 0:
            spent = self.daily_float[:d, self.layout.cost_by_touch + t].sum()
            cap = min(cap, max(0, math.floor((plan.t_budget[t] - spent) / cost + 1e-9)))
        return cap

    def _bin_bound(self, t: int, d: int) -> int:
        """Priority bins worth counting for touch t tomorrow: with room above the expected cut.

        From the shoppers the touch could reach last time, the cap binds around bin
        PRIORITY_BINS x cap / eligible; bins well above cannot be taken. If tomorrow's cut lands
        beyond the bound after all, `_thresholds` counts again in full, so results never depend
        on it.
        """
        eligible = self._eligible.get(int(t))
        cap = self._cap(t, d + 1)
        if eligible is None or not math.isfinite(cap):
            return PRIORITY_BINS
        return min(PRIORITY_BINS, int(PRIORITY_BINS * 1.5 * cap / max(eligible, 1.0)) + 64)

    def _histograms(self, k: int) -> np.ndarray:
        """Zeroed per-worker priority histograms for k touches.

        Always a fresh C-contiguous array: a strided view would make Numba compile a second
        version of the kernel mid-run.
        """
        return np.zeros((nb.config.NUMBA_NUM_THREADS, k, PRIORITY_BINS), np.int64)

    def _count_eligible(self, d: int, touches: np.ndarray) -> dict:
        """Full priority histograms of touches on day d, by a pass over the shoppers."""
        counted = CountedTouches(
            touches=touches,
            keys=rng.touch_keys(np.uint64(self.run_seed), d, touches),
            bounds=np.full(len(touches), PRIORITY_BINS, np.int64),
        )
        hist = self._histograms(len(touches))
        args = (self.shoppers, self.plan, self.params, d, counted)
        workers = n_workers(len(self._counters.counts))
        on_workers(count_eligible, workers, lambda w: (*args, hist[w]))
        return {
            t: (row, PRIORITY_BINS)
            for t, row in zip(touches.tolist(), hist.sum(axis=0), strict=True)
        }

    def _thresholds(self, d: int, today: np.ndarray) -> np.ndarray:
        """Priority-bin threshold per touch today so contacts stay within capacity and budget.

        Touches share a channel's capacity in plan order: each takes the shoppers with the lowest
        keyed priority it may reach, whole bins only, so the cap is never exceeded and the result
        does not depend on how the loop is split over threads. The histograms of the shoppers
        each touch may reach were counted during yesterday's step (up to a bin bound).
        """
        plan = self.plan
        thresholds = np.full(len(today), PRIORITY_BINS, np.int64)
        counts = self._pending if self._pending_day == d else {}
        missing = [t for t in today if self._limited[t] and t not in counts]
        if missing:
            counts = {**counts, **self._count_eligible(d, np.array(missing, np.int64))}
        left = np.where(plan.ch_capacity != NO_CAPACITY, plan.ch_capacity, np.inf)
        for k, t in enumerate(today):
            if not self._limited[t]:
                continue
            ch = plan.t_channel[t]
            cap = self._cap(t, d, left[ch])
            row, bound = counts[t]
            cum = np.cumsum(row)
            thresholds[k] = int(np.searchsorted(cum, cap, side="right"))
            if (
                thresholds[k] >= bound and bound < PRIORITY_BINS
            ):  # the cut lies beyond what was counted
                row, bound = self._count_eligible(d, np.array([t], np.int64))[t]
                cum = np.cumsum(row)
                thresholds[k] = int(np.searchsorted(cum, cap, side="right"))
            self._eligible[int(t)] = cum[-1] * PRIORITY_BINS / bound
            if plan.ch_capacity[ch] != NO_CAPACITY:
                left[ch] -= cum[thresholds[k] - 1] if thresholds[k] > 0 else 0
        return thresholds
