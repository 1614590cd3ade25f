"""The customer profile: its shape, the field catalogue rules read, and how events and stored
state map onto it. Pure: no I/O, shared by rules/ and sinks/."""
