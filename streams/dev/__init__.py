"""Developer tooling: the whole pipeline on embedded servers, supervised, with a console."""
