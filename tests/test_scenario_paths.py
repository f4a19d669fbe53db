"""Dotted paths into scenario mappings and lists (simulator.scenario.paths)."""

from __future__ import annotations

import datetime as dt

import pytest

from simulator.scenario import paths

DATA = {
    "calendar": {
        "phases": [{"name": "warmup", "traffic": 1.0}, {"name": "peak", "traffic": 10.0}],
        "traffic_days": {dt.date(2021, 11, 11): 3.0},
    },
    "plan": {"sms": {"audience": ["members"], "budget": None}},
}


def test_get_reads_keys_by_text_and_lists_by_index():
    """Date keys match their text, numbers index lists; a path leading nowhere gives None."""
    assert paths.get(DATA, "calendar.phases.1.traffic") == 10.0
    assert paths.get(DATA, "calendar.traffic_days.2021-11-11") == 3.0
    assert paths.get(DATA, "calendar.phases.2.traffic") is None
    assert paths.get(DATA, "plan.sms.budget.x") is None
    assert paths.trail(DATA, "calendar.phases.7") == [
        DATA,
        DATA["calendar"],
        DATA["calendar"]["phases"],
    ]


def test_is_list():
    """A list value is a list field; a value inside a list or a missing path is not."""
    assert paths.is_list(DATA, "plan.sms.audience")
    assert not paths.is_list(DATA, "plan.sms.audience.0")
    assert not paths.is_list(DATA, "plan.sms.reach")


def test_set_value_sets_existing_and_new_last_keys():
    """The last key may be new in a mapping; a date key is set under its own key."""
    data = {"calendar": {"traffic_days": {dt.date(2021, 11, 11): 3.0}, "phases": [{"t": 1}]}}
    paths.set_value(data, "calendar.traffic_days.2021-11-11", 4.0)
    paths.set_value(data, "calendar.phases.0.t", 2)
    paths.set_value(data, "calendar.new", 1)
    assert data == {
        "calendar": {"traffic_days": {dt.date(2021, 11, 11): 4.0}, "phases": [{"t": 2}], "new": 1}
    }


@pytest.mark.parametrize(
    ("dotted", "depth", "why"),
    [
        ("calender.end", 0, "'calender' does not exist in the top level; defined: calendar, plan"),
        ("calendar.phases.2.traffic", 2, "calendar.phases is a list of 2; expected an index 0..1"),
        ("plan.sms.budget.cap", 3, "plan.sms.budget is a value (None), not a section with fields"),
    ],
)
def test_set_value_says_which_key_fails_and_why(dotted, depth, why):
    """A missing key, an index out of range or a key under a value is a PathError."""
    with pytest.raises(paths.PathError) as info:
        paths.set_value({**DATA}, dotted, 1)
    assert (info.value.depth, info.value.why) == (depth, why)
