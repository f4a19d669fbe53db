"""Customer-lifetime-value models of transaction logs, independent of the simulator.

Transaction logs (`transactions`: the CDNOW layout, and shop exports read by `exports` from
`export_files` and `export_values`, from bytes `logfile` reads safely, refunds netted by
`refunds`) and their per-customer summaries (`summaries`), BG/NBD (`bgnbd`) and Gamma-Gamma
(`gamma_gamma`) maximum likelihood fits, the checks that a fit can be trusted and its
profile-likelihood intervals (`fit_checks`), and the fitted-parameter file
a scenario's population can name (`params_file`).
"""
