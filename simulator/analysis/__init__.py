"""What a run means: the KPIs, replications with confidence intervals, and comparisons."""
