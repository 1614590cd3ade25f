"""Allow ``python -m streams`` as an alias of the ``signalbank`` console script."""

from streams.cli.main import main

main()
