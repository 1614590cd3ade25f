"""Benchmarks that print their figures (speed targets are checked here, not in unit tests)."""
