"""Backtest: fit BG/NBD on a calibration period, then replay the same cohort through the engine.

The fitted rates drive a `PromotionModel` with no campaign (flat traffic, no benefits, channels
or touches; every visit a purchase), so the engine is the BG/NBD process in daily steps. A driver
here, not the kernel, makes each customer enter on their actual first-purchase day: everyone
starts latently inactive (inactive shoppers never visit), and after the model's step for day d the
customers who first bought on day d become active buyers with a trial purchase on d. The engine's
weekly cumulative repeat transactions are compared with the actual ones and with the analytic
BG/NBD expectation (Fader, Hardie & Lee 2005, Figure 3), and holdout purchases by calibration
frequency with the conditional expectation (their Figure 4).

Time conventions (shared with `clv.summaries.summarise`): day numbers are integers, a customer who
first bought on day f can repeat on days f+1.., and "the end of week k" is the last day of that
week, so a customer's age there is (last day - f) days, as T is at the end of calibration.

The calibration fit is in `calibration`, the cohort's engine runs in `cohort`, what they measure
in `result`, and `run.run_backtest` puts them together.
"""
