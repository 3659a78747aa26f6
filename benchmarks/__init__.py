"""carepool's benchmarks: speed and memory targets, measured beside a comparison in one run."""
