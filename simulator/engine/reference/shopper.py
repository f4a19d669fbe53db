"""A reference shopper's day: the steps of the kernel's documented order, one shopper at a time."""

from __future__ import annotations

import math

from simulator.domain.benefits import ON_ENROL, STORE
from simulator.domain.lifecycle import (
    CHURNED,
    DORMANT,
    ENROLLED,
    FIRST_PURCHASE,
    NONMEMBER_BUYER,
    PROSPECT,
    REPEAT,
    TAG_ALL,
    TAG_BUYER,
    TAG_CAMPAIGN_BUYER,
    TAG_MEMBER,
    TAG_NEW_MEMBER,
    TAG_OLD_MEMBER,
    TAG_ORDERED_TODAY,
    TAG_RECENT_BUYER,
    TAG_UNPAID_DEPOSIT,
)
from simulator.engine.counters import AMOUNT, COUNT, WINDOW_BUYER, WINDOW_BUYERS
from simulator.engine.reference.day import Day, Slot
from simulator.engine.reference.needs import ahead_share, meet_need, orders_at
from simulator.engine.reference.numbers import (
    decay_factor,
    f32,
    gamma,
    lift,
    priority_bin,
    substream,
    uniform,
)
from simulator.engine.reference.offers import buy_chance, purchase_log_odds, settle
from simulator.engine.reference.presale import is_deposit, place_deposit, settle_balance
from simulator.engine.reference.shopper_state import STATE_TAG, ShopperState
from simulator.engine.rng import PRIORITY_BINS
from simulator.engine.steps import MAX_ORDERS


class ShopperAgent(ShopperState):
    """One shopper: its state (`ShopperState`), what it is today, and its day, step by step."""

    # --- what the shopper is today
    def observed_state(self, d: int) -> int:
        """Lifecycle label on day d: a member idle long enough is dormant, then churned."""
        if self.state < ENROLLED:
            return self.state
        idle = d - max(self.last_purchase, self.enrol_day)
        if idle >= self.model.params.churn_after:
            return CHURNED
        if idle >= self.model.params.dormant_after:
            return DORMANT
        return self.state

    def tag_word(self, st: int, d: int) -> int:
        """Audience tags: segments, state, member, buyer, recent/campaign buyer, old/new member."""
        t = self.segments | STATE_TAG[st] | TAG_ALL
        if st >= ENROLLED:
            t |= TAG_MEMBER
        if self.ever_bought:
            t |= TAG_BUYER
            if d - self.last_purchase < self.model.params.recent_days:
                t |= TAG_RECENT_BUYER
        if self.bought_as_member or self.bought_as_nonmember:
            t |= TAG_CAMPAIGN_BUYER
        if self.old_member:
            t |= TAG_OLD_MEMBER
        elif self.joined:  # a build-up recruit is an old member after the cut-off
            t |= TAG_NEW_MEMBER
        if self.last_purchase == d:  # ordered in an earlier slot of the day
            t |= TAG_ORDERED_TODAY
        if self.deposit != 0:
            t |= TAG_UNPAID_DEPOSIT
        return t

    def targeted_by(self, b: int, st: int) -> bool:
        """Benefit b is for shoppers in state st with (any of) its segments."""
        plan = self.model.plan
        if not plan.ben_states[b] & STATE_TAG[st]:
            return False
        return plan.ben_segments[b] == 0 or (self.segments & plan.ben_segments[b]) != 0

    def reachable(self, t: int, st: int, tags: int) -> bool:
        """Touch t may contact the shopper: audience, channel reach, benefit target, cap."""
        plan = self.model.plan
        ch = plan.t_channel[t]
        if not tags & plan.t_audience[t] or tags & plan.t_exclude[t]:
            return False
        if not tags & plan.ch_reach[ch] or not tags & plan.ch_kind_reach[ch]:
            return False
        b = plan.t_benefit[t]
        if b >= 0 and not self.targeted_by(b, st):
            return False
        slot = plan.ch_cap_slot[ch]
        return slot < 0 or self.contacts[slot] < plan.ch_freq_cap[ch]

    def usable(self, day: Day, st: int, birthday_month: bool, online: int = -1) -> list[int]:
        """Benefits usable today as state st: online, and held, or a store benefit for st.

        A store benefit used once only must not be used yet; a birthday benefit needs the
        birthday month. online: the bits online (default: those of a visit, day.online).
        """
        plan = self.model.plan
        online = day.online if online < 0 else online
        out = []
        for b in range(len(plan.ben_states)):
            if not online >> b & 1:
                continue
            if plan.ben_birthday_month[b] and not birthday_month:
                continue
            if plan.ben_delivery[b] != STORE:
                # the holder keeps it whatever their state now, on-enrolment offers for their
                # valid days after enrolment
                if b in self.benefits_held and day.d - self.enrol_day <= plan.ben_valid_days[b]:
                    out.append(b)
            elif self.targeted_by(b, st) and not (plan.ben_once[b] and b in self.benefits_held):
                out.append(b)
        return out

    # --- the day
    def step_day(self, day: Day) -> None:
        """One day in the kernel's order, steps 2-7 slot by slot; counters go to the model."""
        st = self.observed_state(day.d)  # 1. the label is stored: dormant stays dormant
        contact_lift, first_channel = 1.0, -1
        self.orders_so_far = 0  # today's, for the buyer-day counters
        for slot in day.slots:
            lift, channel = self.receive_contacts(slot.draws, slot, st)  # 2.
            contact_lift *= lift
            first_channel = channel if first_channel < 0 else first_channel
            if day.payment_day and self.deposit != 0:  # pre-sale balance due, visiting or not
                st = settle_balance(self, slot.draws, st)
            if self.alive or self.waiting:
                st = self.visit(slot.draws, slot, st, contact_lift, first_channel)  # 3.-7.
        self.model.ints[COUNT.prospect + st] += 1  # the state counts come first
        self.state = st

    def receive_contacts(self, day: Day, slot: Slot, st: int) -> tuple[float, int]:
        """The slot's touches in plan order (tags as the slot starts); their lift, first channel."""
        plan, lay = self.model.plan, self.model.layout
        ints, floats = self.model.ints, self.model.floats
        contact_lift = 1.0
        first_channel = -1
        load = None  # fatigue load: decayed from the last contact day at the first contact today
        tags = self.tag_word(st, day.d) if slot.touches else 0
        for k in slot.touches:
            t = day.touches[k]
            if not self.reachable(t, st, tags):
                continue
            limit = day.threshold[k]
            if limit < PRIORITY_BINS and priority_bin(day.priority_keys[k], self.index) >= limit:
                continue  # over the touch's capacity or budget today
            ch = plan.t_channel[t]
            if plan.ch_cap_slot[ch] >= 0:  # counted only for frequency-capped channels
                self.contacts[plan.ch_cap_slot[ch]] += 1
            if load is None:
                days = day.d - self.last_contact
                load = self.fatigue * decay_factor(self.model.params.fatigue_decay, days)
            response = math.exp(-plan.ch_fatigue[ch] * load)  # fatigue damps the response
            by_segment = plan.ch_segment_response[ch][self.segments]
            contact_lift *= 1.0 + plan.ch_lift[ch] * by_segment * response
            load += 1.0
            if first_channel < 0:
                first_channel = ch
            ints[COUNT.contacts] += 1
            ints[lay.contacts_by_channel + ch] += 1
            ints[lay.contacts_by_touch + t] += 1
            floats[lay.cost_by_channel + ch] += plan.ch_cost[ch]
            floats[lay.cost_by_touch + t] += plan.ch_cost[ch]
            b = plan.t_benefit[t]
            if b < 0:
                continue  # a bare reminder
            if plan.ben_delivery[b] != STORE and b not in self.benefits_held:
                self.grant(b)  # a benefit already held is not granted (or costed) twice
                aware = plan.ch_awareness[ch]
                if aware >= 1.0 or uniform(day.aware_keys[k], self.index) < aware:
                    self.benefits_held.add(b)  # held only if noticed
            if not self.alive and plan.ben_react[b] > 0.0:
                if uniform(day.react_keys[k], self.index) < plan.ben_react[b] * response:
                    self.alive = True
                    ints[COUNT.reactivations] += 1
        if load is not None:  # contacted today: fatigue is kept as of its last contact
            self.fatigue = f32(load)
            self.last_contact = day.d
        return contact_lift, first_channel

    def grant(self, b: int) -> None:
        """Offer b handed over: counted, its grant cost charged."""
        lay = self.model.layout
        self.model.ints[lay.grants_by_benefit + b] += 1
        self.model.floats[lay.cost_by_benefit + b] += self.model.plan.ben_grant_cost[b]

    def visit(self, day: Day, slot: Slot, st: int, contact_lift: float, first_channel: int) -> int:
        """Visits, enrolment, orders and on-enrol grants; needs that waited; the new state.

        In a slot (`day` has its draw keys); on-enrolment grants are usable from the next slot.
        """
        plan, params, lay = self.model.plan, self.model.params, self.model.layout
        ints = self.model.ints
        i = self.index
        rate = self.rate * (params.prospect_scale if st == PROSPECT else 1.0)
        mean = rate * (day.traffic / params.conversion * slot.share) * contact_lift  # visits
        if not self.alive:
            mean = 0.0
        visit_u = uniform(day.visit, i)
        waiting_now = any(plan.awaited[day.d] >> b & 1 for b in self.benefits_held)
        released = 0 if waiting_now else self.waiting  # the wait is over: bought, visit or not
        visits = visit_u < mean
        if not visits and not released:
            return st
        birthday_month = plan.month_of_day[self.birthday] == day.month
        # 4. enrolment: what the shopper could use now or as a member draws them in
        joined_today = False
        if visits:
            ints[COUNT.visits] += 1
            if st < ENROLLED:
                now = self.usable(day, st, birthday_month)
                as_member = self.usable(day, ENROLLED, birthday_month)
                draw_in = sorted(set(now) | set(as_member))
                if uniform(day.enrol, i) < params.enrol_rate * lift(draw_in, plan.ben_enrol):
                    st = ENROLLED
                    self.enrol_day = day.d
                    self.joined = True
                    joined_today = True
                    ints[COUNT.enrolments] += 1
                    ints[lay.enrol_by_channel + first_channel + 1] += 1  # slot 0: organic
        # 5. orders with the offers usable now: the shopper's own need's, and those that offers
        # and contacts add; 6. dropout (drawn at each need) ends the day's orders
        used = self.usable(day, st, birthday_month)
        n_orders = n_need = 0
        if visits:
            log_odds = 0.0
            if used:
                expected = params.p * self.basket_scale
                log_odds = purchase_log_odds(plan, params, used, self.sensitivity, expected)
            chance = buy_chance(params, log_odds)
            n_orders, capped = orders_at(self, day, visit_u, chance, mean)
            need, _ = orders_at(self, day, visit_u, params.conversion, mean / contact_lift)
            n_need = min(need, n_orders)
            ints[COUNT.order_cap_days] += capped
            before = self.orders_so_far  # a buyer-day is counted once, however many slots
            ints[COUNT.buyer_days] += n_orders > 0 and before == 0
            ints[COUNT.multi_order_days] += n_orders + before > 1 and before <= 1
            self.orders_so_far += n_orders
        for k in range(MAX_ORDERS, MAX_ORDERS + released):  # the needs that waited, first
            st = self.purchase(day, st, used, k)
            ints[COUNT.deferred_orders] += 1
            used = self.usable(day, st, birthday_month)
        self.waiting -= released
        share = ahead_share(self, used)
        for k in range(n_orders):
            met = False
            if k < n_need:  # a need: a BG/NBD transaction, met from stock, deferred or bought
                self.drop_out(day, k)
                met = meet_need(self, day, k, waiting_now)
            else:  # added by offers and contacts: bought ahead of a later need, or not
                ints[COUNT.added_orders] += 1
                if self.stock < 255 and uniform(substream(day.ahead, k), i) < share:
                    self.stock += 1  # its dropout is drawn by the need it meets
                    ints[COUNT.bought_ahead] += 1
                else:
                    self.drop_out(day, k)  # bought for its own sake: a transaction
            if not met and is_deposit(self, day, k):
                place_deposit(self, day, k)  # paid on the final-payment day
            elif not met:
                st = self.purchase(day, st, used, k)
                used = self.usable(day, st, birthday_month)
            if not self.alive:
                break
        # 7. benefits granted on enrolment, usable from the next slot
        if joined_today:
            for b in range(len(plan.ben_states)):
                if plan.ben_delivery[b] == ON_ENROL and self.targeted_by(b, ENROLLED):
                    self.benefits_held.add(b)
                    self.grant(b)
        return st

    def purchase(self, day: Day, st: int, used: list[int], order: int) -> int:
        """Order number `order` of the day; returns the new state.

        Basket, settlement, GMV and buyer counters, lifecycle.
        """
        self.pay(day, st, used, self.basket(day, order))
        # 6. the lifecycle moves on (a need's BG/NBD dropout is drawn by the caller)
        self.last_purchase = day.d
        return self.advance_lifecycle(st)

    def basket(self, day: Day, order: int) -> float:
        """List value of the day's order number `order`: Gamma(p) x the shopper's scale."""
        gamma_draw = gamma(substream(day.basket, order), self.index, self.model.params.p)
        return gamma_draw * self.basket_scale

    def pay(self, day: Day, st: int, used: list[int], basket: float) -> float:
        """An order of `basket` at list price in state st; returns what is paid.

        Settlement, GMV and buyer counters; the caller moves the lifecycle on.
        """
        ints, floats = self.model.ints, self.model.floats
        basket, paid = settle(self, used, basket, self.sensitivity)
        self.count_window_buyer(day.d, st >= ENROLLED)
        floats[AMOUNT.gmv_list] += basket
        if not (self.bought_as_member or self.bought_as_nonmember):
            ints[COUNT.new_buyers] += 1
        if st < ENROLLED:
            floats[AMOUNT.gmv_nonmember] += paid
            ints[COUNT.orders_nonmember] += 1
            if not self.bought_as_nonmember:
                ints[COUNT.new_nonmember_buyers] += 1
            self.bought_as_nonmember = True
        else:
            if self.old_member:
                floats[AMOUNT.gmv_old_member] += paid
                ints[COUNT.orders_old_member] += 1
            else:
                floats[AMOUNT.gmv_new_member] += paid
                ints[COUNT.orders_new_member] += 1
            if not self.bought_as_member:
                ints[COUNT.new_member_buyers] += 1
                if self.old_member:
                    ints[COUNT.new_old_member_buyers] += 1
                if self.joined:
                    ints[COUNT.new_joined_buyers] += 1
            self.bought_as_member = True
        return paid

    def count_window_buyer(self, d: int, member: bool) -> None:
        """In each KPI window containing day d, the shopper's first member / non-member purchase.

        Counted per window: a buyer at the first purchase of either kind; at the first member
        purchase a member buyer, and an old-member buyer (old member now) or a joined buyer
        (enrolled in the window); at the first non-member purchase a non-member buyer.
        """
        plan, lay, ints = self.model.plan, self.model.layout, self.model.ints
        for w, start in enumerate(plan.window_start):
            if not plan.window_of_day[d] >> w & 1:
                continue
            as_member, as_non_member = self.window_buys >> 2 * w & 1, self.window_buys >> 2 * w & 2
            slot = lay.buyers_by_window + len(WINDOW_BUYERS) * w
            ints[slot + WINDOW_BUYER.buyers] += not (as_member or as_non_member)
            if member and not as_member:
                ints[slot + WINDOW_BUYER.member_buyers] += 1
                ints[slot + WINDOW_BUYER.old_member_buyers] += self.old_member
                ints[slot + WINDOW_BUYER.joined_buyers] += self.joined and self.enrol_day >= start
                self.window_buys |= 1 << 2 * w
            elif not member and not as_non_member:
                ints[slot + WINDOW_BUYER.non_member_buyers] += 1
                self.window_buys |= 2 << 2 * w

    def drop_out(self, day: Day, order: int) -> None:
        """BG/NBD dropout after a repeat purchase (MBG/NBD: after the first too)."""
        params = self.model.params
        if self.ever_bought or params.dropout_after_first:
            if uniform(substream(day.dropout, order), self.index) < self.dropout:
                self.alive = False
                self.model.ints[COUNT.dropouts] += 1

    def advance_lifecycle(self, st: int) -> int:
        """The state after a purchase (first purchase ever counted); returns it."""
        if st == PROSPECT:
            st = NONMEMBER_BUYER
        elif st >= ENROLLED:
            st = REPEAT if self.member_buyer else FIRST_PURCHASE
            self.member_buyer = True
        if not self.ever_bought:
            self.model.ints[COUNT.first_purchases] += 1
        self.ever_bought = True
        return st
