"""Faust application, topic catalogue and command-line commands of signalbank."""
