"""Faust agents of signalbank and the framework-free batch pipeline they drive."""
