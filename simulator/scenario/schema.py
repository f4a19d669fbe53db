"""Scenario files, schema v2: the pydantic models of every section.

Types and ranges are checked here, field by field; `checks` adds the checks across sections
and `load` reads the YAML (with `extends:` and overrides). Field meanings are documented in
docs/scenario.md.
"""

from __future__ import annotations

import typing
from datetime import date, timedelta
from typing import Annotated, Literal

from pydantic import Field

from simulator.domain.benefits import BENEFIT_TYPES, DELIVERIES
from simulator.domain.channels import CHANNEL_KINDS
from simulator.domain.lifecycle import AUDIENCES, SEGMENTS, STATES
from simulator.scenario.assumptions import MAX_ASSUMPTIONS, Distribution
from simulator.yamlfiles import Day, StrictModel

MAX_BENEFITS = 32  # held benefits are bits of a uint32
MAX_CHANNELS = 16
MAX_DAYS = 3000  # days are int16 in the population arrays
MAX_KPI_WINDOWS = 8  # each takes 2 bits of a shopper's uint16 `window_buys` (engine/shoppers.py)

# Largest values, so that whatever a file holds the engine computes finite numbers; the reasons
# are in docs/scenario.md ("Limits"). With at most 2e9 shoppers over 3000 days (6e12 shopper-
# days), sums of costs, GMV and counts stay far below float64's 1.8e308 and int64's 9.2e18.
MAX_SHOPPERS = 2_000_000_000
MAX_SEED = 2**63 - 1  # seeds are hashed as uint64; int64 keeps them exact everywhere
"""Shoppers, and contacts a channel makes a day: rescaled by --shoppers up to 2e9 times, a
daily capacity stays below 4e18, within the engine's int64 counters."""
MAX_MONEY = 1e9
"""Yuan per contact, redemption or grant."""
MAX_BUDGET = 1e12
"""Yuan a touch may spend (a budget), before rescaling."""
MAX_FACTOR = 1000.0
"""Multipliers and relative lifts: products of up to 32 benefit lifts, 16 channel lifts and 7
segment multipliers stay finite, and a purchase rate within float32."""
MIN_PARAMETER, MAX_PARAMETER = 1e-6, 1e6
"""Range of the BG/NBD and Gamma-Gamma parameters, time units and half-lives: a rate
r/alpha per day stays finite in the float32 the engine keeps it in."""

StateName = Literal[STATES]  # type: ignore[valid-type]
SegmentName = Literal[SEGMENTS]  # type: ignore[valid-type]
AudienceName = Literal[tuple(AUDIENCES)]  # type: ignore[valid-type]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS = typing.get_args(Weekday)
Name = Annotated[str, Field(min_length=1)]  # a phase, benefit, channel or touch name
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Factor = Annotated[float, Field(gt=0.0, le=MAX_FACTOR)]  # multiplies a rate or a basket
Lift = Annotated[float, Field(ge=0.0, le=MAX_FACTOR)]  # relative: 0.2 = +20%
Money = Annotated[float, Field(ge=0.0, le=MAX_MONEY)]
Parameter = Annotated[float, Field(ge=MIN_PARAMETER, le=MAX_PARAMETER)]


# ----------------------------------------------------------------------------- population
class SegmentSpec(StrictModel):
    """Share of shoppers in a segment, which states can be in it and how it shifts behaviour.

    With `by`, the segment is the top `share` of those states' shoppers by their own purchase
    rate or spend rate (rate x expected basket), so it differs from the rest as real targeted
    groups do, without moving the population off its fitted parameters; without it, membership
    is a keyed draw and the multipliers set the difference.
    """

    share: Probability | None = None  # required unless the population is a customer table
    states: list[StateName] = Field(default_factory=lambda: list(STATES), min_length=1)
    by: Literal["purchase_rate", "spend_rate"] | None = None
    rate_multiplier: Factor = 1.0
    basket_multiplier: Factor = 1.0
    price_sensitivity: Factor = 1.0  # multiplies the members' price sensitivity


class PurchaseRate(StrictModel):
    """BG/NBD purchase rate heterogeneity: lambda ~ Gamma(shape r, rate alpha) per time unit."""

    r: Parameter
    alpha: Parameter
    time_unit_days: Annotated[float, Field(ge=1e-3, le=MAX_PARAMETER)] = 1.0


class Dropout(StrictModel):
    """BG/NBD dropout heterogeneity: p ~ Beta(a, b), the chance to go inactive after a purchase.

    BG/NBD lets a shopper drop out only after a repeat purchase, so a first-time buyer stays
    active until they buy again; `after_first_purchase` lets them drop out right after the first
    one too (MBG/NBD, Batislam, Denizel & Filiztekin 2007): one-off buyers, as in big sales.
    """

    a: Parameter
    b: Parameter
    after_first_purchase: bool = False


class Basket(StrictModel):
    """Gamma-Gamma spend: z ~ Gamma(p, nu) per order, nu ~ Gamma(q, v); mean p*v/(q-1)."""

    p: Parameter
    q: Annotated[float, Field(gt=1.0, le=MAX_PARAMETER)]
    v: Parameter


class OfferResponse(StrictModel):
    """How shoppers respond to offer terms (docs/model.md "Offers"; defaults are assumptions)."""

    sensitivity_sigma: Annotated[float, Field(ge=0.0, le=5.0)] = 0.6
    depth_scale: Annotated[float, Field(ge=1e-3, le=10.0)] = 0.15
    max_log_odds: Annotated[float, Field(ge=0.0, le=10.0)] = 1.5
    topup_per_yuan_saved: Annotated[float, Field(ge=0.0, le=100.0)] = 3.0


class DemandTiming(StrictModel):
    """When shoppers buy what they need (docs/model.md "Need and anticipation").

    pull_forward_share: share of the orders an offer or a contact adds (beyond the shopper's own
    need) that are bought ahead of a later need, which is then met from stock (assumption: about
    a third of a store promotion's bump is purchases moved in time, van Heerde, Gupta & Wittink
    2003, JMR 40(4)). wait_share: chance that a need arising while the shopper holds an offer
    usable within wait_days, but not today, waits for it (assumption). wait_days: how far ahead
    a held offer makes shoppers wait (assumption).
    """

    pull_forward_share: Probability = 0.33
    wait_share: Probability = 0.5
    wait_days: Annotated[int, Field(ge=0, le=60)] = 14


class PresaleResponse(StrictModel):
    """Pre-sale goods, deposits and balance payment (docs/model.md "Pre-sale").

    goods_share: share of the orders on pre-sale days that are pre-sale goods bought by a deposit
    (assumption: pre-sale goods lead the pre-sale pages, in-stock goods are the rest);
    deposit_share: the deposit as a share of the list price (Tmall pre-sale deposits are about
    10-20%: the platform's 2019 rules give 100 on 1,000; assumption 0.15); payment_rate: chance
    the balance is paid on the final-payment day without any reminder (assumption: no public
    Tmall figure was found; the deposit is forfeited if unpaid, which keeps most buyers paying).
    """

    goods_share: Probability = 0.6
    deposit_share: Annotated[float, Field(gt=0.0, le=1.0)] = 0.15
    payment_rate: Annotated[float, Field(gt=0.0, le=1.0)] = 0.88


class Population(StrictModel):
    """The shoppers of one store at the campaign's start.

    Drawn from shares and fitted parameters (mix, segments, params_file or inline rates), or,
    with `customers`, the store's own customers from a table `promosim population build` wrote:
    states, segments and histories from the table, each customer's latent rates drawn from the
    posterior given their history (docs/calibration.md "A store's own customers"). `shoppers` then
    samples the table and defaults to all of it (`scenario.load` fills it in).
    """

    shoppers: Annotated[int, Field(ge=1, le=MAX_SHOPPERS)] | None = None
    mix: dict[StateName, Probability] = Field(default_factory=dict)
    segments: dict[SegmentName, SegmentSpec] = Field(default_factory=dict)
    params_file: str | None = None
    customers: str | None = None
    purchase_rate: PurchaseRate | None = None
    dropout: Dropout | None = None
    basket: Basket | None = None
    prospect_rate_scale: Factor = 0.3
    conversion_per_visit: Annotated[float, Field(ge=MIN_PARAMETER, le=1.0)] = 0.1
    enrol_per_visit: Probability = 0.02
    dormant_after_days: Annotated[int, Field(ge=1, le=MAX_DAYS)] = 180
    churn_after_days: Annotated[int, Field(ge=1, le=MAX_DAYS)] = 365
    recent_buyer_days: Annotated[int, Field(ge=1, le=MAX_DAYS)] = 360
    initial_alive: dict[StateName, Probability] = Field(
        default_factory=lambda: {"dormant": 0.3, "churned": 0.05}
    )
    fatigue_half_life_days: Annotated[float, Field(gt=0.0, le=MAX_PARAMETER)] = 7.0
    offer_response: OfferResponse = Field(default_factory=OfferResponse)
    demand_timing: DemandTiming = Field(default_factory=DemandTiming)
    presale: PresaleResponse = Field(default_factory=PresaleResponse)


# ----------------------------------------------------------------------------- calendar
class Phase(StrictModel):
    """A named window of the campaign with its platform traffic multiplier."""

    name: Name
    start: Day
    end: Day
    traffic: Factor = 1.0
    presale: bool = False
    final_payment: Day | None = None  # pre-sale: balance day (default: the day after the phase)

    @property
    def payment_day(self) -> date:
        """Day the balance of the phase's deposits is paid: final_payment, else the next day."""
        return self.final_payment or self.end + timedelta(days=1)


HOURS_IN_DAY = 24
TMALL_PEAK_PROFILE = (
    29.9, 8.3, 4.0, 1.6, 1.6, 1.6, 1.6, 2.4, 4.2, 4.1, 3.8, 3.8,
    2.8, 2.6, 2.6, 2.0, 2.0, 2.0, 2.1, 3.4, 3.4, 3.4, 3.4, 3.4,
)  # fmt: skip
"""Share (%) of a Tmall peak day's traffic in each hour, 00:00-01:00 first: the default profile.

From Tmall's published running GMV of 11.11.2016 (10 bn yuan at 00:06:52, 20 at 00:15:45, 30 at
00:40, 40 at 01:13, 50 at 02:30, 60 at 07:41, 70 at 09:40, 80.7 at 12:00, 84.1 at 13:00, 90.3 at
15:00, 100 at 18:55:36, 120.7 at 24:00; chinainternetwatch.com/19176/double-11-2016), linearly
interpolated to the hours: a 30% opening hour, an early-morning trough, a moderate day and a rise
from 19:00. Assumption: a store's visits follow the platform's GMV by hour (the seeds time their
touches to it: 00:00 opening, 20:00 and 23:00 countdown, 004)."""


class Hours(StrictModel):
    """Days split into hours, so touches can be timed (docs/model.md "Hours of the day")."""

    days: Annotated[list[Day], Field(min_length=1)]
    profile: Annotated[
        list[Annotated[float, Field(ge=0.0, le=MAX_FACTOR)]],
        Field(min_length=HOURS_IN_DAY, max_length=HOURS_IN_DAY),
    ] = Field(default_factory=lambda: list(TMALL_PEAK_PROFILE))


class Calendar(StrictModel):
    """Campaign days (inclusive), phases, traffic overrides, hourly days, old-member cut-off.

    old_member_cutoff: a member at the start of that day is an old member from then on (the
    platform grades a sale by who was a member when its pre-sale opened; docs/model.md). Default
    (`Scenario.cutoff`): the first day of the first phase with `presale: true`, else the first day.
    """

    start: Day
    end: Day
    phases: list[Phase] = Field(default_factory=list)
    traffic_days: dict[Day, Factor] = Field(default_factory=dict)
    hours: Hours | None = None
    old_member_cutoff: Day | None = None


class Window(StrictModel):
    """Days a benefit is online or a touch is sent: phases, dates or a range, then weekdays.

    Empty phases, dates and range mean the whole calendar.
    """

    phases: list[str] = Field(default_factory=list)
    dates: list[Day] = Field(default_factory=list)
    start: Day | None = None
    end: Day | None = None
    weekdays: list[Weekday] = Field(default_factory=list)


class KpiWindow(StrictModel):
    """Days a KPI window covers: a date range (inclusive) or contiguous phases, not both."""

    start: Day | None = None
    end: Day | None = None
    phases: list[str] = Field(default_factory=list)


class TouchWindow(Window):
    """Days a touch is sent, and its hour on hourly days (`calendar.hours`; 0 on other days)."""

    hour: Annotated[int, Field(ge=0, lt=HOURS_IN_DAY)] = 0


# ----------------------------------------------------------------------------- benefits
class Target(StrictModel):
    """Who may get a benefit: states (default: all the type allows) and segments (any of)."""

    states: Annotated[list[StateName], Field(min_length=1)] | None = None
    segments: list[SegmentName] = Field(default_factory=list)


class Effects(StrictModel):
    """Effects that are not offer terms (docs/model.md): enrolment lift, purchase, reactivation.

    enrol: relative lift of the enrolment chance (0.2 = +20%); purchase: log-odds added to the
    purchase chance of a visit, for mind-share benefits only (price benefits act through their
    terms); reactivation: chance that a contact delivering it wakes a latent-inactive shopper;
    pull_forward: share of the orders added on a day it is usable that are bought ahead of need
    (default: the population's `demand_timing.pull_forward_share`; 1: the benefit only moves
    purchases in time).
    payment: log-odds added to the chance of paying a pre-sale balance (payment reminders only).
    """

    enrol: Lift = 0.0
    purchase: Annotated[float, Field(ge=0.0, le=10.0)] = 0.0
    reactivation: Probability = 0.0
    pull_forward: Probability | None = None
    payment: Annotated[float, Field(ge=0.0, le=10.0)] = 0.0


class Offer(StrictModel):
    """What the shopper gets (docs/model.md "Offers"); which terms a type may state: its class."""

    amount_off: Money = 0.0
    percent_off: Annotated[float, Field(ge=0.0, le=0.9)] = 0.0
    min_spend: Money = 0.0
    per_spend: Annotated[float, Field(gt=0.0, le=MAX_MONEY)] | None = None
    gift_value: Money = 0.0
    points_per_yuan: Annotated[float, Field(ge=0.0, le=100.0)] = 0.0
    point_value: Money = 0.0


class Benefit(StrictModel):
    """One benefit (权益) on offer."""

    type: Literal[tuple(BENEFIT_TYPES)]  # type: ignore[valid-type]
    delivery: Literal[DELIVERIES] | None = None  # type: ignore[valid-type]
    target: Target = Field(default_factory=Target)
    offer: Offer = Field(default_factory=Offer)
    effects: Effects = Field(default_factory=Effects)
    grant_cost: Money = 0.0  # cost of each delivery or grant (a mailed trial pack), not use
    valid_days: Annotated[int, Field(ge=1, le=MAX_DAYS)] | None = None  # after enrolment
    online: Window = Field(default_factory=Window)
    label: str = ""

    @property
    def how_delivered(self) -> str:
        """Delivery: the explicit one, else the type's default."""
        return self.delivery or BENEFIT_TYPES[self.type].delivery

    @property
    def states(self) -> list[str]:
        """States that may use it: the explicit target, else all the type allows."""
        if self.target.states is not None:
            return list(self.target.states)
        return list(BENEFIT_TYPES[self.type].states)


# ----------------------------------------------------------------------------- channels, plan
class Channel(StrictModel):
    """A contact channel (触达渠道)."""

    kind: Literal[tuple(CHANNEL_KINDS)]  # type: ignore[valid-type]
    reach: Annotated[list[AudienceName], Field(min_length=1)] | None = None
    cost_per_contact: Money = 0.0
    daily_capacity: Annotated[int, Field(ge=0, le=MAX_SHOPPERS)] | None = None
    frequency_cap: Annotated[int, Field(ge=1, le=255)] | None = None
    fatigue: Lift = 0.0
    response_lift: Lift = 0.0
    response_by_segment: dict[SegmentName, Factor] = Field(default_factory=dict)
    awareness: Probability = 1.0  # chance a delivered offer is noticed (and so held)


class Touch(StrictModel):
    """A touch of the plan: push a benefit (or a bare reminder) through a channel to an audience."""

    channel: str
    benefit: str | None = None
    audience: list[AudienceName] = Field(default_factory=lambda: ["all"], min_length=1)
    exclude: list[AudienceName] = Field(default_factory=list)
    when: TouchWindow = Field(default_factory=TouchWindow)
    budget: Annotated[float, Field(ge=0.0, le=MAX_BUDGET)] | None = None


class Scenario(StrictModel):
    """A whole scenario file."""

    schema_version: Literal[2]
    name: str
    description: str = ""
    seed: Annotated[int, Field(ge=0, le=MAX_SEED)] = 0
    margin: Probability | None = None  # gross margin at list price: gives incremental profit
    population: Population
    calendar: Calendar
    benefits: dict[Name, Benefit] = Field(default_factory=dict)
    channels: dict[Name, Channel] = Field(default_factory=dict)
    plan: dict[Name, Touch] = Field(default_factory=dict)
    windows: dict[Name, KpiWindow] = Field(default_factory=dict)  # KPI windows, reported apart
    # what the scenario is unsure of: field path -> distribution (docs/scenario.md "assumptions")
    assumptions: Annotated[dict[str, Distribution], Field(max_length=MAX_ASSUMPTIONS)] = Field(
        default_factory=dict
    )
    assumption_files: list[str] = Field(default_factory=list)

    @property
    def days(self) -> list[date]:
        """Every calendar day, in order."""
        n = (self.calendar.end - self.calendar.start).days + 1
        return [self.calendar.start + timedelta(days=k) for k in range(n)]

    @property
    def cutoff(self) -> date:
        """The old-member cut-off day: as stated, else the first pre-sale day, else the start."""
        if self.calendar.old_member_cutoff is not None:
            return self.calendar.old_member_cutoff
        presale = [ph.start for ph in self.calendar.phases if ph.presale]
        return min(presale) if presale else self.calendar.start

    def window_range(self, name: str) -> tuple[date, date]:
        """First and last day of a KPI window (its phases' span, or its range)."""
        w = self.windows[name]
        if not w.phases:
            return w.start, w.end
        phases = [ph for ph in self.calendar.phases if ph.name in w.phases]
        return min(ph.start for ph in phases), max(ph.end for ph in phases)
