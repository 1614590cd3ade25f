"""YAML rules written by analysts, their validation and the engine that evaluates them."""
