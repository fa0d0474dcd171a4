"""Regression gates: the statistics, stored baselines, and a run's keeper that joins them to results."""
