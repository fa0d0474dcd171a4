"""A run: the harness session, a case's rounds, gates and budgets, and the results file."""
