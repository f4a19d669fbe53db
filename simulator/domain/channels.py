"""Channel kinds: who each can physically reach.

A channel (触达渠道) in a scenario has a kind from `CHANNEL_KINDS`. The kind fixes the audience the
channel can ever reach (SMS needs a phone on file, so only buyers, members and holders of an unpaid
pre-sale deposit; livestream only fans; groups only group members); the scenario may narrow it
with `reach`, never widen it. Cost per
contact, daily capacity, frequency cap, fatigue and response lift are per channel in the scenario.
"""

from __future__ import annotations

CHANNEL_KINDS: dict[str, tuple[str, ...]] = {
    "sms": ("buyers", "members", "unpaid_deposit"),  # a deposit's order has the phone number
    "push": ("all",),  # app push / message box
    "storefront": ("all",),  # home-page live card, member tab
    "subscription": ("fan", "iron_fan", "members"),  # subscription feed
    "livestream": ("fan", "iron_fan"),
    "groups": ("group_member",),
    "exclusive_service": ("members",),  # 专属客服
    "paid_media": ("all",),
}
