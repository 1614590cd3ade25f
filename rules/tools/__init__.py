"""Analyst tools: rule test cases, explain, and the generated rules guide tables."""
