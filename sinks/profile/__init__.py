"""The rolling customer profile: event deltas, the Redis store, and the view the rules read."""
