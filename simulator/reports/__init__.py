"""Charts and output tables of runs, comparisons, sweeps and backtests (matplotlib `Figure`)."""
