"""The simulation engine: random numbers, shopper state, the compiled plan, the day step.

`rng` (counter-based draws), `shoppers` (the table of per-shopper fields and their arrays),
`population` (the shoppers' initial draw), `plan` (a scenario compiled to flat arrays),
`counters` (the day's counter layout), `kernel` (the Numba day step, in the order of a day) with
its pieces `steps` (one function per step), `audience` (who a touch may reach, which benefits a
shopper may use), `busy` (which shoppers have anything to do) and `eligible` (shoppers by
priority bin, for capacities), `workers` (threads over chunks), `jit` (the Numba decorators
of hot code), `model` (`PromotionModel`, the Mesa model), `run` (a whole calendar,
`RunResult`) and `reference` (the plain-Mesa executable specification the kernel must match
shopper by shopper).
"""
