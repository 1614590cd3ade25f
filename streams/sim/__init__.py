"""The bank simulator: synthetic customers and their events, with the truth to score against."""
