"""Evaluating a ruleset on a profile and an event: churn score, signals, offers, tiers. Pure."""
