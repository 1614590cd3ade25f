"""Where signalbank's state and results go: the Redis profile store and the output sinks."""
