"""The CEL boundary: compiling conditions against the field catalogue, and values crossing into CEL."""
