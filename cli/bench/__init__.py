"""`ordo bench`: benchmarks, each against a baseline measured in the same run (the baseline
workflow lives here, not among the production workflows)."""
