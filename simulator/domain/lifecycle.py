"""The shopper lifecycle: states, segments, per-shopper flags and the audience tags built from them.

This is the one place that names the lifecycle. A shopper's observed state is one of `STATES`
(int8 in the population arrays); segments are bits of a uint8; flags record history. Audiences
(who a channel reaches, who a touch targets, who a benefit is for) are bit masks over a 32-bit
*tag word* that the kernel derives per shopper and day from state, segments, flags and recency, so
nothing derived is stored.
"""

from __future__ import annotations

import numba as nb
import numpy as np

# Observed lifecycle states, in the order a shopper moves through them.
PROSPECT = 0  # knows the store at most (fans, browsers, cart users): never bought
NONMEMBER_BUYER = 1  # has bought, never enrolled
ENROLLED = 2  # member with zero purchases as a member
FIRST_PURCHASE = 3  # member who has made exactly one purchase as a member
REPEAT = 4  # member with two or more purchases as a member (active old member)
DORMANT = 5  # member with no purchase or enrolment for `dormant_after_days`
CHURNED = 6  # member with no purchase or enrolment for `churn_after_days`
STATES = (
    "prospect",
    "nonmember_buyer",
    "enrolled",
    "first_purchase",
    "repeat",
    "dormant",
    "churned",
)
MEMBER_STATES = ("enrolled", "first_purchase", "repeat", "dormant", "churned")

# Segments: one bit each of the uint8 `segments` array. They cut across states.
SEGMENTS = (
    "sms_sensitive",  # responded to SMS in the last 180 days and bought
    "fan",  # follows the store
    "iron_fan",  # livestream iron fan
    "group_member",  # in one of the store's Taobao groups
    "high_value",  # top-tier member (the 80/20 head)
    "cart_favourite",  # has the store's goods in favourites or cart
    "points_user",  # interacts with points games
)

# Flags: bits of the uint8 `flags` array (history, not observable labels).
ALIVE = np.uint8(1)  # latent BG/NBD activity: an inactive shopper buys no more unless reactivated
EVER_BOUGHT = np.uint8(2)  # any purchase before or during the campaign
OLD_MEMBER = np.uint8(4)  # member before the campaign's first day (never changes)
BOUGHT_AS_MEMBER = np.uint8(8)  # made a member purchase during the campaign
BOUGHT_AS_NONMEMBER = np.uint8(16)  # made a non-member purchase during the campaign
JOINED = np.uint8(32)  # enrolled during the campaign (a new member)
MEMBER_BUYER = np.uint8(64)  # has made a member purchase (before or during the campaign)

# Tag word bits, derived per shopper and day (see `tags`).
_SEG0 = 0  # bits 0-6: segments
SEGMENT_BITS = (1 << len(SEGMENTS)) - 1  # the tag bits that are segments
TAG_RECENT_BUYER = 1 << 7  # last purchase within `recent_buyer_days`
STATE0 = 8  # bits 8-14: one bit per state (also in benefit state masks)
TAG_MEMBER = 1 << 15
TAG_BUYER = 1 << 16  # has ever bought
TAG_CAMPAIGN_BUYER = 1 << 17  # has bought during this campaign
TAG_OLD_MEMBER = 1 << 18
TAG_NEW_MEMBER = 1 << 19  # enrolled during this campaign
TAG_ALL = 1 << 20  # every shopper

# Audience names a scenario may use, and their tag bits.
AUDIENCES: dict[str, int] = {name: 1 << (_SEG0 + k) for k, name in enumerate(SEGMENTS)}
AUDIENCES.update({name: 1 << (STATE0 + k) for k, name in enumerate(STATES)})
AUDIENCES.update(
    recent_buyers=TAG_RECENT_BUYER,
    members=TAG_MEMBER,
    buyers=TAG_BUYER,
    campaign_buyers=TAG_CAMPAIGN_BUYER,
    old_members=TAG_OLD_MEMBER,
    new_members=TAG_NEW_MEMBER,
    all=TAG_ALL,
)


def state_bit(state: str) -> int:
    """Tag bit of a lifecycle state."""
    return 1 << (STATE0 + STATES.index(state))


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
def tags(state, segments, flags, last_purchase, day, recent_days):
    """The shopper's tag word for audience matching (see the TAG_* bits)."""
    t = np.uint32(segments) | np.uint32(1 << (STATE0 + state)) | np.uint32(TAG_ALL)
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
    if flags & JOINED:
        t |= np.uint32(TAG_NEW_MEMBER)
    return t
