"""The simulation engine: random numbers, shopper state, the compiled plan, the day step.

`rng` (counter-based draws), `population` (shopper arrays and their initial draw), `plan`
(a scenario compiled to flat arrays), `counters` (the day's counter layout), `kernel` (the
Numba day step), `workers` (threads over chunks), `model` (`PromotionModel`, the Mesa model),
`run` (a whole calendar, `RunResult`) and `reference` (the plain-Mesa executable
specification the kernel must match shopper by shopper).
"""
