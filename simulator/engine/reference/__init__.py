"""The promotion model as plain Mesa agents: the readable, executable specification of the kernel.

`model.ReferenceModel` runs the same model as `PromotionModel` with one `shopper.ShopperAgent`
per shopper and ordinary Python attributes, one shopper at a time in id order. It draws the same
counter-based random numbers (`numbers`, over `simulator.engine.rng`, keyed by seed, decision,
day and shopper), so on the same seed it reproduces the engine's per-shopper state and daily
counters exactly; the equivalence test (tests/test_reference_equivalence.py) checks that day by
day. It is slow (pure Python) and exists to be read and compared against, not to run campaigns.

Floats: the engine stores rate and fatigue as float32 and computes in float64; the agents keep
those attributes as Python floats rounded to float32 (`numbers.f32`), so every expression sees
the same values and rounds the same way. Dropout and basket scale are not stored by the engine
(it derives them from their keyed draws when a shopper buys); the agents hold them as exact
float64 values.
"""
