"""Small scenarios built in code for the engine tests."""

from __future__ import annotations

import copy
from pathlib import Path

from simulator.scenario.load import load_scenario, validate_data
from simulator.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))

BASE = {
    "schema_version": 2,
    "name": "test store",
    "seed": 7,
    "population": {
        "shoppers": 20000,
        "mix": {
            "prospect": 0.4,
            "nonmember_buyer": 0.2,
            "enrolled": 0.1,
            "first_purchase": 0.1,
            "repeat": 0.1,
            "dormant": 0.06,
            "churned": 0.04,
        },
        "segments": {
            "sms_sensitive": {"share": 0.3, "states": ["nonmember_buyer", "repeat"]},
            "high_value": {"share": 0.2, "states": ["repeat"], "rate_multiplier": 2.0},
            "fan": {"share": 0.3},
        },
        "purchase_rate": {"r": 0.3, "alpha": 4.0, "time_unit_days": 7},
        "dropout": {"a": 0.8, "b": 2.4},
        "basket": {"p": 6.0, "q": 4.0, "v": 80.0},
    },
    "calendar": {
        "start": "2021-10-20",
        "end": "2021-11-15",
        "phases": [
            {"name": "presale", "start": "2021-10-20", "end": "2021-10-31", "presale": True},
            {"name": "first_wave", "start": "2021-11-01", "end": "2021-11-03", "traffic": 5.0},
            {"name": "peak_day", "start": "2021-11-11", "end": "2021-11-11", "traffic": 10.0},
        ],
    },
    "benefits": {
        "coupon": {  # 20 off 199
            "type": "member_coupon",
            "offer": {"amount_off": 20, "min_spend": 199},
            "effects": {"enrol": 0.3},
            "online": {"phases": ["first_wave", "peak_day"]},
        },
        "gift_pack": {  # 10 off 99
            "type": "new_member_gift",
            "offer": {"amount_off": 10, "min_spend": 99},
        },
        "member_price": {
            "type": "member_price",
            "offer": {"percent_off": 0.05},
        },
        "winback": {  # 30 off 99
            "type": "winback_coupon",
            "offer": {"amount_off": 30, "min_spend": 99},
            "effects": {"reactivation": 0.2},
        },
        "lockin": {  # a gift with the first order, costed when granted
            "type": "lockin_gift",
            "target": {"states": ["prospect", "nonmember_buyer"]},
            "offer": {"gift_value": 5},
            "effects": {"enrol": 2.0},
            "grant_cost": 1.5,
        },
    },
    "channels": {
        "sms": {
            "kind": "sms",
            "cost_per_contact": 0.05,
            "daily_capacity": 1500,
            "frequency_cap": 3,
            "fatigue": 0.3,
            "response_lift": 1.0,
        },
        "push": {"kind": "push", "frequency_cap": 5, "response_lift": 0.3},
        "live": {"kind": "livestream", "cost_per_contact": 0.01, "response_lift": 0.8},
    },
    "plan": {
        "coupon_sms": {
            "channel": "sms",
            "benefit": "coupon",
            "audience": ["sms_sensitive"],
            "when": {"dates": ["2021-11-01", "2021-11-11"]},
            "budget": 120,
        },
        "coupon_push": {
            "channel": "push",
            "benefit": "coupon",
            "audience": ["members"],
            "when": {"phases": ["first_wave", "peak_day"]},
        },
        "winback_sms": {
            "channel": "sms",
            "benefit": "winback",
            "audience": ["dormant", "churned"],
            "when": {"dates": ["2021-10-25", "2021-11-05"]},
        },
        "lockin_live": {
            "channel": "live",
            "benefit": "lockin",
            "audience": ["fan"],
            "when": {"phases": ["presale"]},
        },
        "sprint_sms": {
            "channel": "sms",
            "audience": ["recent_buyers"],
            "exclude": ["campaign_buyers"],
            "when": {"dates": ["2021-11-11"]},
        },
    },
}


def scenario(**changes) -> Scenario:
    """BASE with top-level sections updated (a dict merges one level deep; {} empties it)."""
    data = copy.deepcopy(BASE)
    for key, value in changes.items():
        if value and isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key].update(value)
        else:
            data[key] = value
    return validate_data(data)


def shipped_text(name: str) -> str:
    """A shipped scenario's text, its assumption files named by absolute path (for a copy)."""
    text = (ROOT / "scenarios" / name).read_text(encoding="utf-8")
    return text.replace("assumptions/", f"{ROOT / 'scenarios' / 'assumptions'}/")


def shipped(name: str) -> Scenario:
    """A scenario from scenarios/."""
    return load_scenario(ROOT / "scenarios" / name)
