"""Fitting the simulator to data: the cohort backtest and calibration to campaign targets."""
