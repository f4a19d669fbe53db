"""Bit layouts, codes and the per-shopper field table: derived from their lists, checked on load."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import scenario

from simulator.domain.benefits import (
    BENEFIT_TYPES,
    COUPON,
    DELIVERIES,
    DELIVERY,
    GIFT,
    NO_OFFER,
    OFFER_CLASS,
    OFFER_CLASSES,
    OFFER_TERMS,
    ON_ENROL,
    PLATFORM,
    POINTS,
    PRICE,
    STORE,
)
from simulator.domain.layouts import LayoutError, bit_masks, codes
from simulator.domain.lifecycle import (
    AUDIENCES,
    DERIVED_TAGS,
    FLAG,
    FLAGS,
    SEGMENT_BITS,
    SEGMENTS,
    STATE0,
    STATES,
    state_bit,
)
from simulator.engine.counters import AMOUNT, COUNT, FLOAT_FIXED, INT_FIXED
from simulator.engine.plan import compile_plan
from simulator.engine.population import initialise, resolve_params
from simulator.engine.shoppers import (
    DRAWN,
    FIELDS,
    ShopperField,
    Shoppers,
    allocate,
    bytes_per_shopper,
)


def test_bit_masks_one_bit_each_in_list_order():
    assert bit_masks(("a", "b", "c"), width=8) == {"a": 1, "b": 2, "c": 4}


def test_too_many_names_for_the_bits_fail_loudly():
    with pytest.raises(LayoutError, match="9 names do not fit 8 bits"):
        bit_masks(tuple("abcdefghi"), width=8)
    with pytest.raises(LayoutError, match="do not fit int8"):
        codes(tuple(f"s{k}" for k in range(129)), np.int8)


def test_a_name_twice_fails_loudly():
    with pytest.raises(LayoutError, match="names listed twice: b"):
        bit_masks(("a", "b", "b"), width=8)
    with pytest.raises(LayoutError, match="names listed twice: x"):
        codes(("x", "x"), np.int8)


def test_an_eighth_segment_shifts_the_tag_word_instead_of_colliding():
    """The tag word derived from longer lists still has one distinct bit per name, or fails."""
    grown = bit_masks(SEGMENTS + ("new_segment",) + STATES + DERIVED_TAGS, width=32)
    assert len(set(grown.values())) == len(grown)
    assert grown["recent_buyers"] == AUDIENCES["recent_buyers"] << 1
    with pytest.raises(LayoutError):
        bit_masks(SEGMENTS + tuple(f"s{k}" for k in range(20)) + STATES + DERIVED_TAGS, 32)


def test_tag_word_layout():
    """Segments are the low bits (a shopper's segments byte), then states, then derived tags."""
    assert list(AUDIENCES) == list(SEGMENTS + STATES + DERIVED_TAGS)
    assert sorted(AUDIENCES.values()) == [1 << k for k in range(len(AUDIENCES))]
    assert SEGMENT_BITS == (1 << len(SEGMENTS)) - 1
    assert [state_bit(s) for s in STATES] == [1 << (STATE0 + k) for k in range(len(STATES))]
    assert list(FLAG) == list(FLAGS) and max(FLAG.values()) < 256


def test_codes_are_bound_by_name():
    """The constants the kernel tests are the codes of their names, and the plan compiles them."""
    assert (STORE, ON_ENROL) == (DELIVERY["store"], DELIVERY["on_enrol"])
    assert (NO_OFFER, COUPON, PRICE, PLATFORM, GIFT, POINTS) == tuple(
        OFFER_CLASS[k] for k in ("none", "coupon", "price", "platform", "gift", "points")
    )
    assert sorted(DELIVERY.values()) == list(range(len(DELIVERIES)))
    assert sorted(OFFER_CLASS.values()) == list(range(len(OFFER_CLASSES)))
    assert set(OFFER_TERMS) == set(OFFER_CLASSES)
    assert {t.offer for t in BENEFIT_TYPES.values()} <= set(OFFER_CLASSES)
    sc = scenario()
    plan = compile_plan(sc)
    benefits = list(sc.benefits.values())
    assert plan.ben_delivery.tolist() == [DELIVERY[b.how_delivered] for b in benefits]
    assert plan.ben_offer.tolist() == [OFFER_CLASS[BENEFIT_TYPES[b.type].offer] for b in benefits]
    assert len({b.how_delivered for b in benefits}) > 1  # the check compares different codes


def test_counters_are_named_after_their_lists():
    assert COUNT._fields == INT_FIXED and AMOUNT._fields == FLOAT_FIXED
    # the state counts come first, state k in column k: the model adds the day's changes there
    assert [getattr(COUNT, s) for s in STATES] == list(range(len(STATES)))


def test_birthday_is_a_property_of_the_benefit_type():
    bday = {"type": "birthday_gift", "effects": {"purchase": 1.0}}
    sc = scenario(benefits={"bday": bday})  # added to the base scenario's benefits
    plan = compile_plan(sc)
    assert plan.ben_birthday_month.tolist() == [name == "bday" for name in sc.benefits]
    assert [name for name, t in BENEFIT_TYPES.items() if t.birthday_month] == ["birthday_gift"]
    once = [name for name, t in BENEFIT_TYPES.items() if t.once]
    assert once == ["birthday_gift", "challenge_plan"]
    assert plan.ben_once.tolist() == [name == "bday" for name in sc.benefits]


def test_shoppers_follow_the_field_table():
    assert Shoppers._fields == tuple(f.name for f in FIELDS)
    s = allocate(10, 3)
    for field, array in zip(FIELDS, s, strict=True):
        assert array.dtype == field.dtype
        assert array.shape == ((10, 3) if field.per_capped_channel else (10,))
    assert s.n == 10 and s.nbytes == 10 * bytes_per_shopper(3)


def test_a_field_whose_bits_do_not_fit_its_dtype_fails():
    with pytest.raises(LayoutError, match="segments: 9 bits do not fit uint8"):
        ShopperField("segments", np.uint8, DRAWN, "segment bits", bits=9).check()
    ShopperField("segments", np.uint8, DRAWN, "segment bits", bits=8).check()


def test_initialise_sets_every_field():
    """Start from two different garbage fillings: every byte is set by the initial draw."""
    sc = scenario()
    params = resolve_params(sc.population)._replace(seed=np.uint64(sc.seed))
    filled = []
    for garbage in (0x00, 0xA5):
        s = allocate(3000, 2)
        for array in s:
            array.view(np.uint8).fill(garbage)
        initialise(s, params)
        filled.append(s)
    for field, a, b in zip(FIELDS, *filled, strict=True):
        assert np.array_equal(a.view(np.uint8), b.view(np.uint8)), field.name
    start = {f.name: f.start for f in FIELDS if f.start is not DRAWN}
    assert all((getattr(filled[0], name) == value).all() for name, value in start.items())
