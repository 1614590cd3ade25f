"""Kafka plumbing of the worker: topics, admin, transport, committed offsets."""
