"""Fitting a scenario to campaign targets: the method of simulated moments.

A targets file (docs/calibration.md) names KPI targets, each with a value, a tolerance, a weight,
the days it is measured over and optionally a comparison with the no-campaign baseline, and the
free parameters: dotted scenario paths with bounds. The distance of a parameter vector is
Σ weight × ((achieved − target) / tolerance)², where "achieved" is the KPI's mean over R
replications. Every evaluation runs the same replication seeds (common random numbers), so two
nearby parameter vectors meet the same shoppers and the same draws and the distance changes only
where the parameters act: it is a deterministic, nearly smooth function of the parameters and a
derivative-free simplex search can follow it.

The search is Nelder-Mead (adaptive for three or more parameters) in the unit box: each parameter
is mapped linearly onto [0, 1] by its bounds and scipy clips the simplex to the box, so a
parameter can end exactly on a bound, where the report says so. Nelder-Mead suits this problem:
it needs no gradients (the KPIs are counts, flat at the scale of one shopper), it moves several
parameters at once (targets here depend on several parameters each), and it converges in a few
dozen evaluations per parameter, where differential evolution would need hundreds.

Counts and money (new members, GMV, contacts, ...) grow with the number of shoppers; shares,
rates and ratios do not. The fit runs at `shoppers` and reports extensive KPIs multiplied by
population / shoppers, where population is the targets file's `population` (the store size its
counts describe) or else the scenario's `population.shoppers`.

The file and its schema are in `spec`, measuring a target in a run (and what the fit knows about
each KPI) in `measure`, the problem and its distance in `problem`, the search and its report in
`search`, and the fitted scenario file in `fitted_yaml`; the chart is
`simulator.reports.targets_plots`.
"""
