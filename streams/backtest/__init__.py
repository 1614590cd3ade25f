"""Offline backtesting: event files, replay without Kafka, scorecards, the churn model fit."""
