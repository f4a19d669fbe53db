"""The shopper lifecycle: states, segments, per-shopper flags and the audience tags built from them.

This is the one place that names the lifecycle. A shopper's observed state is one of `STATES`
(int8 in the population arrays); segments are bits of a uint8; flags record history. Audiences
(who a channel reaches, who a touch targets, who a benefit is for) are bit masks over a 32-bit
*tag word* that the kernel derives per shopper and day from state, segments, flags and recency, so
nothing derived is stored. Every code and bit below is derived from its list of names
(`layouts`): a name added to a list shifts the others or fails loudly, it never takes another's bit.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from simulator.domain.layouts import LayoutError, bit_masks, codes

# Observed lifecycle states, in the order a shopper moves through them; a shopper's state is the
# int8 code of its name.
STATES = (
    "prospect",  # knows the store at most (fans, browsers, cart users): never bought
    "nonmember_buyer",  # has bought, never enrolled
    "enrolled",  # member with zero purchases as a member
    "first_purchase",  # member who has made exactly one purchase as a member
    "repeat",  # member with two or more purchases as a member (active old member)
    "dormant",  # member with no purchase or enrolment for `dormant_after_days`
    "churned",  # member with no purchase or enrolment for `churn_after_days`
)
STATE = codes(STATES, np.int8)
PROSPECT = STATE["prospect"]
NONMEMBER_BUYER = STATE["nonmember_buyer"]
ENROLLED = STATE["enrolled"]
FIRST_PURCHASE = STATE["first_purchase"]
REPEAT = STATE["repeat"]
DORMANT = STATE["dormant"]
CHURNED = STATE["churned"]
# Members are the states from `enrolled` on: the engine tests membership as state >= ENROLLED.
MEMBER_STATES = ("enrolled", "first_purchase", "repeat", "dormant", "churned")
if STATES[ENROLLED:] != MEMBER_STATES:
    raise LayoutError("the member states must be the last states, from enrolled on")

# Segments: one bit each of a shopper's segments byte (and the low bits of the tag word). They
# cut across states.
SEGMENTS = (
    "sms_sensitive",  # responded to SMS in the last 180 days and bought
    "fan",  # follows the store
    "iron_fan",  # livestream iron fan
    "group_member",  # in one of the store's Taobao groups
    "high_value",  # top-tier member (the 80/20 head)
    "cart_favourite",  # has the store's goods in favourites or cart
    "points_user",  # interacts with points games
)

# Flags: bits of a shopper's uint8 flags (history, not observable labels).
FLAGS = (
    "alive",
    "ever_bought",
    "old_member",
    "bought_as_member",
    "bought_as_nonmember",
    "joined",
    "member_buyer",
)
FLAG = bit_masks(FLAGS, width=8)
ALIVE = np.uint8(FLAG["alive"])  # latent BG/NBD activity: an inactive shopper no longer buys
EVER_BOUGHT = np.uint8(FLAG["ever_bought"])  # any purchase before or during the campaign
OLD_MEMBER = np.uint8(FLAG["old_member"])  # member at the start of the old-member cut-off day
BOUGHT_AS_MEMBER = np.uint8(FLAG["bought_as_member"])  # made a member purchase in the campaign
BOUGHT_AS_NONMEMBER = np.uint8(FLAG["bought_as_nonmember"])  # made a non-member purchase in it
JOINED = np.uint8(FLAG["joined"])  # enrolled during the calendar (new unless also OLD_MEMBER)
MEMBER_BUYER = np.uint8(FLAG["member_buyer"])  # has made a member purchase (ever)

# The tag word: a uint32 the kernel derives per shopper and day (see `tags`), one bit per audience
# name a scenario may use: the segments (first, so a shopper's segments byte is its low bits), the
# states, then the tags derived from flags and recency.
DERIVED_TAGS = (
    "recent_buyers",  # last purchase within `recent_buyer_days`
    "members",
    "buyers",  # has ever bought
    "campaign_buyers",  # has bought during this campaign
    "old_members",
    "new_members",  # enrolled during this campaign and not an old member (the cut-off)
    "all",  # every shopper
    "ordered_today",  # has ordered today: before the touch's hour on an hourly day (never at a
    # normal day's contacts, which come before the day's orders)
    "unpaid_deposit",  # holds a pre-sale deposit whose balance is not paid yet
)
AUDIENCES: dict[str, int] = bit_masks(SEGMENTS + STATES + DERIVED_TAGS, width=32)
SEGMENT_BITS = sum(AUDIENCES[name] for name in SEGMENTS)  # the tag bits that are segments
STATE0 = AUDIENCES[STATES[0]].bit_length() - 1  # the tag bit of state k is STATE0 + k
TAG_RECENT_BUYER = AUDIENCES["recent_buyers"]
TAG_MEMBER = AUDIENCES["members"]
TAG_BUYER = AUDIENCES["buyers"]
TAG_CAMPAIGN_BUYER = AUDIENCES["campaign_buyers"]
TAG_OLD_MEMBER = AUDIENCES["old_members"]
TAG_NEW_MEMBER = AUDIENCES["new_members"]
TAG_ALL = AUDIENCES["all"]
TAG_ORDERED_TODAY = AUDIENCES["ordered_today"]
TAG_UNPAID_DEPOSIT = AUDIENCES["unpaid_deposit"]


def state_bit(state: str) -> int:
    """Tag bit of a lifecycle state."""
    return AUDIENCES[state]


def audience_mask(names: list[str]) -> int:
    """Union of the tag bits of audience names (0 for an empty list)."""
    mask = 0
    for name in names:
        mask |= AUDIENCES[name]
    return mask


@nb.njit(cache=True)
def observed_state(state, last_active, day, dormant_after, churn_after):
    """Recency label of a member: dormant or churned after that many days without activity."""
    if state < ENROLLED:
        return state
    idle = day - last_active
    if idle >= churn_after:
        return CHURNED
    if idle >= dormant_after:
        return DORMANT
    return state


@nb.njit(cache=True)
def relabelled(state, last_active, day, dormant_after, churn_after):
    """observed_state(...) != state, in bit operations.

    The busy-shopper filter runs it for everyone every day, where the branches of
    `observed_state` cost more than all the rest.
    """
    idle = day - last_active
    churned = idle >= churn_after
    dormant = (idle >= dormant_after) & ~churned
    return (state >= ENROLLED) & ((churned & (state != CHURNED)) | (dormant & (state != DORMANT)))


@nb.njit(cache=True)
def tags(state, segments, flags, last_purchase, day, recent_days, deposit):
    """The shopper's tag word for audience matching (see the TAG_* bits).

    deposit: the list value the shopper has locked by pre-sale deposits (0: none).
    """
    t = np.uint32(segments) | np.uint32(1 << (STATE0 + state)) | np.uint32(TAG_ALL)
    if deposit != 0:
        t |= np.uint32(TAG_UNPAID_DEPOSIT)
    if state >= ENROLLED:
        t |= np.uint32(TAG_MEMBER)
    if flags & EVER_BOUGHT:
        t |= np.uint32(TAG_BUYER)
        if day - last_purchase < recent_days:
            t |= np.uint32(TAG_RECENT_BUYER)
    if flags & (BOUGHT_AS_MEMBER | BOUGHT_AS_NONMEMBER):
        t |= np.uint32(TAG_CAMPAIGN_BUYER)
    if flags & OLD_MEMBER:
        t |= np.uint32(TAG_OLD_MEMBER)
    elif flags & JOINED:  # a build-up recruit is an old member after the cut-off
        t |= np.uint32(TAG_NEW_MEMBER)
    if last_purchase == day:
        t |= np.uint32(TAG_ORDERED_TODAY)
    return t
