"""Pydantic models of every topic signalbank reads or writes, and their exported JSON Schemas."""
