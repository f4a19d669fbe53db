"""A scenario: the YAML schema, loading with `extends:` and overrides, and its checks.

`schema` holds the pydantic models, `load` reads a file (`load_scenario`), `checks` checks
across sections, and `paths` reads and sets fields by dotted path. Depends only on
`simulator.domain`, `simulator.clv` (a scenario may name a fitted parameter file) and
`simulator.yamlfiles`; the engine compiles a validated `Scenario`, and never sees YAML.
"""
