"""promosim: agent-based simulation of shoppers in e-commerce promotions (Tmall Double 11).

Membership benefits, channels and phase schedules, compared on the platform's KPIs with honest
uncertainty. This module is the public API: notebooks, scripts and the docs import from
`simulator` only. Names load on first use (PEP 562), so `import simulator` stays cheap and the
command line does not pay for charts or Dask it does not use.

    import simulator as ps
    sc = ps.load_scenario("scenarios/double11_2021.yaml")
    run = ps.simulate(sc, shoppers=100_000)
    base = ps.simulate(ps.no_campaign(sc), shoppers=100_000)
    ps.compute_kpis(run, base)["roi"]

Where each concept lives, in layers from the top (a module imports only from layers below its
own; `tests/test_architecture.py` checks it): `simulator.cli` (the `promosim` command) >
`.sweeps` > `.reports` (charts) > `.fitting` (BG/NBD calibration, backtest, targets) >
`.analysis` (KPI registry, replications, comparison) > `.engine` (random numbers, shopper
fields, plan, the Numba day step, the Mesa and reference models) > `.scenario` (YAML schema and
loading) > `.clv` (transaction logs, BG/NBD, Gamma-Gamma, customer tables) > `.domain`
(lifecycle, benefits, channels) > `files`, `yamlfiles`, `formatting` > `errors`.
"""

from __future__ import annotations

import importlib
import os

# One BLAS thread unless the user says otherwise (set before numpy loads): the fits invert 4x4
# matrices and profile likelihoods with many small L-BFGS-B steps, where BLAS threads only
# contend with the engine's Numba threads (5x slower on a busy 2-core machine, measured).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"

# public name -> (module, attribute)
_API = {
    # scenarios
    "load_scenario": ("simulator.scenario.load", "load_scenario"),
    "Scenario": ("simulator.scenario.schema", "Scenario"),
    "STATES": ("simulator.domain.lifecycle", "STATES"),
    # running
    "PromotionModel": ("simulator.engine.model", "PromotionModel"),
    "ReferenceModel": ("simulator.engine.reference.model", "ReferenceModel"),
    "simulate": ("simulator.engine.run", "simulate"),
    "no_campaign": ("simulator.engine.run", "no_campaign"),
    "RunResult": ("simulator.engine.run", "RunResult"),
    # KPIs, replications, comparison
    "compute_kpis": ("simulator.analysis.kpis", "compute_kpis"),
    "HEADLINE": ("simulator.analysis.kpis", "HEADLINE"),
    "replicate": ("simulator.analysis.experiment", "replicate"),
    "run_comparison": ("simulator.analysis.experiment", "run_comparison"),
    "compare": ("simulator.analysis.experiment", "compare"),
    "FUNNEL": ("simulator.analysis.experiment", "FUNNEL"),
    "mean_ci": ("simulator.analysis.stats", "mean_ci"),
    # sweeps
    "Design": ("simulator.sweeps", "Design"),
    "parse_grid": ("simulator.sweeps", "parse_grid"),
    "parse_range": ("simulator.sweeps", "parse_range"),
    "plan_scenario_sweep": ("simulator.sweeps", "plan_scenario_sweep"),
    "run_sweep": ("simulator.sweeps", "run_sweep"),
    "write_outputs": ("simulator.sweeps", "write_outputs"),
    # transaction logs and customer-lifetime-value fits
    "load_transactions": ("simulator.clv.transactions", "load_transactions"),
    "LogLayout": ("simulator.clv.transactions", "LogLayout"),
    "cdnow_sample": ("simulator.clv.summaries", "cdnow_sample"),
    "summarise_transactions": ("simulator.clv.summaries", "summarise"),
    "day_number": ("simulator.clv.transactions", "day_number"),
    "CDNOW_START": ("simulator.clv.transactions", "CDNOW_START"),
    "CDNOW_CAL_END": ("simulator.clv.transactions", "CDNOW_CAL_END"),
    "fit_bgnbd": ("simulator.clv.bgnbd", "fit_bgnbd"),
    "fit_gamma_gamma": ("simulator.clv.gamma_gamma", "fit_gamma_gamma"),
    "fit_pareto_nbd": ("simulator.clv.pareto_nbd", "fit_pareto_nbd"),
    "fit_bgbb": ("simulator.clv.bgbb", "fit_bgbb"),
    "discrete_summary": ("simulator.clv.discrete", "discrete_summary"),
    "yearly_windows": ("simulator.clv.discrete", "yearly_windows"),
    "fit_sbg": ("simulator.clv.sbg", "fit_sbg"),
    "compare_models": ("simulator.clv.holdout", "compare_models"),
    "FittedParams": ("simulator.clv.params_file", "FittedParams"),
    "read_params": ("simulator.clv.params_file", "read_params"),
    "write_params": ("simulator.clv.params_file", "write_params"),
    "dumps_params": ("simulator.clv.params_file", "dumps_params"),
    # fitting the simulator
    "run_backtest": ("simulator.fitting.backtest.run", "run_backtest"),
    "load_problem": ("simulator.fitting.targets.problem", "load_problem"),
    "fit_targets": ("simulator.fitting.targets.search", "fit"),
    "fitted_yaml": ("simulator.fitting.targets.fitted_yaml", "fitted_yaml"),
    # charts and tables
    "daily_rows": ("simulator.reports.daily_table", "daily_rows"),
    "plot_run": ("simulator.reports.run_plots", "plot_run"),
    "plot_lifecycle": ("simulator.reports.run_plots", "plot_lifecycle"),
    "plot_daily_gmv": ("simulator.reports.run_plots", "plot_daily_gmv"),
    "shade_phases": ("simulator.reports.run_plots", "shade_phases"),
    "format_dates": ("simulator.reports.charts", "format_dates"),
    "plot_comparison": ("simulator.reports.compare_plots", "plot_comparison"),
    "plot_tracking": ("simulator.reports.backtest_plots", "plot_tracking"),
    "plot_conditional": ("simulator.reports.backtest_plots", "plot_conditional"),
    "plot_targets": ("simulator.reports.targets_plots", "plot_targets"),
}

__all__ = sorted(_API)


def __getattr__(name: str):
    """Import a public name's module on first use and cache the name here."""
    try:
        module, attr = _API[name]
    except KeyError:
        raise AttributeError(f"module 'simulator' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
