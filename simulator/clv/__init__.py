"""Customer-lifetime-value models of transaction logs, independent of the simulator.

Transaction logs (`transactions`: the CDNOW layout, and shop exports read by `exports` from
`export_files` and `export_values`, from bytes `logfile` reads safely, refunds netted by
`refunds`) and their per-customer summaries (`summaries`), BG/NBD (`bgnbd`) and Gamma-Gamma
(`gamma_gamma`) maximum likelihood fits, the checks that a fit can be trusted and its
profile-likelihood intervals (`fit_checks`), and the fitted-parameter file a scenario's
population can name (`params_file`). Alternatives that are fitted and reported but not
simulated: Pareto/NBD (`pareto_nbd`), BG/BB at discrete opportunities (`bgbb`, summaries from
`discrete`), sBG membership renewal (`sbg`), sharing `mle`; `holdout` ranks BG/NBD and
Pareto/NBD by holdout log-likelihood. A store's own customers as a table (`customer_table`,
built by `customer_build` from member and prospect lists, `customer_lists`, and segment rules,
`segment_rules`).
"""
