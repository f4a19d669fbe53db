"""A scenario: the YAML schema, loading with `extends:` and overrides, and its checks.

Depends only on `simulator.domain` and `simulator.clv` (a scenario may name a fitted
parameter file); the engine compiles a validated `Scenario`, and never sees YAML.
"""
