"""`ordo chaos`: faults injected into a running embedded stack, each followed by the checks
that nothing was lost and nothing doubled; `--soak`: a steady load over time."""
