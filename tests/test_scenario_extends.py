"""Scenario files that extend another: merge rules and where errors are reported."""

from __future__ import annotations

import os

import pytest
from helpers import ROOT

from simulator.engine.run import no_campaign
from simulator.scenario.load import MAX_EXTENDS, ScenarioError, load_scenario, merge

D11 = (ROOT / "scenarios" / "double11_2021.yaml").resolve()


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_merge_rules():
    base = {"a": {"x": 1, "y": 2}, "b": [1, 2], "c": 3}
    assert merge(base, {"a": {"y": 5, "z": 6}, "b": [9], "c": None}) == {
        "a": {"x": 1, "y": 5, "z": 6},
        "b": [9],
    }
    assert base == {"a": {"x": 1, "y": 2}, "b": [1, 2], "c": 3}  # not modified


def test_shipped_variants_share_the_population():
    base = load_scenario(D11)
    for name in ("no_campaign", "double11_sms_heavy", "double11_mindshare"):
        variant = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
        assert variant.population == base.population
        assert variant.calendar == base.calendar
    empty = load_scenario(ROOT / "scenarios" / "no_campaign.yaml")
    assert not empty.channels and not empty.plan
    # the platform's discount stays, as in the engine's no-campaign run
    assert (
        empty.benefits
        == no_campaign(base).benefits
        == {"platform_discount": base.benefits["platform_discount"]}
    )
    sms = load_scenario(ROOT / "scenarios" / "double11_sms_heavy.yaml")
    assert "paid_media" not in sms.channels and "recruit_paid" not in sms.plan
    assert sms.channels["sms"].daily_capacity == 300000
    assert sms.channels["sms"].cost_per_contact == base.channels["sms"].cost_per_contact


def test_error_in_child_names_child_file_and_line(tmp_path):
    child = write(
        tmp_path,
        "child.yaml",
        f"extends: {D11}\nname: c\nchannels:\n  sms: {{cost_per_contact: -3}}\n",
    )
    with pytest.raises(ScenarioError) as e:
        load_scenario(child)
    assert f"{child}:4: channels.sms.cost_per_contact" in str(e.value)


def test_error_in_inherited_value_names_parent_file(tmp_path):
    bad_base = write(
        tmp_path,
        "base.yaml",
        D11.read_text().replace("cost_per_contact: 0.045", "cost_per_contact: -1"),
    )
    child = write(tmp_path, "child.yaml", "extends: base.yaml\nname: c\n")
    with pytest.raises(ScenarioError) as e:
        load_scenario(child)
    assert f"{bad_base}:" in str(e.value) and "channels.sms.cost_per_contact" in str(e.value)
    assert str(e.value).endswith(f"(extended by {child})")


def test_cycles_and_missing_parents_are_rejected(tmp_path):
    write(tmp_path, "a.yaml", "extends: b.yaml\nname: a\n")
    write(tmp_path, "b.yaml", "extends: a.yaml\nname: b\n")
    with pytest.raises(ScenarioError, match="cycle"):
        load_scenario(tmp_path / "a.yaml")
    write(tmp_path, "c.yaml", "extends: nowhere.yaml\nname: c\n")
    with pytest.raises(ScenarioError, match="file not found"):
        load_scenario(tmp_path / "c.yaml")


def test_a_long_chain_of_extends_is_refused(tmp_path):
    """Each file extends the next, 1,000 deep: a clear error, not a RecursionError."""
    for k in range(1000):
        write(tmp_path, f"s{k}.yaml", f"extends: s{k + 1}.yaml\nname: s{k}\n")
    with pytest.raises(ScenarioError) as e:
        load_scenario(tmp_path / "s0.yaml")
    message = str(e.value)
    assert message.startswith(f"{tmp_path / f's{MAX_EXTENDS}.yaml'}:1: extends: ")
    assert f"more than {MAX_EXTENDS} files extend one another" in message


def test_extending_a_fifo_does_not_hang(tmp_path):
    """A parent that is a named pipe is refused by its type, never opened for reading."""
    os.mkfifo(tmp_path / "pipe.yaml")
    child = write(tmp_path, "child.yaml", "extends: pipe.yaml\nname: c\n")
    with pytest.raises(ScenarioError, match="not a regular file") as e:
        load_scenario(child)
    assert str(e.value).endswith(f"(extended by {child})")
    empty = write(tmp_path, "empty.yaml", "extends: ''\nname: c\n")
    with pytest.raises(ScenarioError, match="expected the path of another scenario file"):
        load_scenario(empty)


def test_a_parent_path_that_is_not_text_is_refused(tmp_path):
    """`extends: "\\ud800"` names no file any system can open: an error, not a traceback."""
    child = write(tmp_path, "child.yaml", 'extends: "\\ud800"\nname: c\n')
    with pytest.raises(ScenarioError, match="extends: lone surrogate"):
        load_scenario(child)
