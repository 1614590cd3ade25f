"""Allow ``python -m streams`` as an alias of the ``signalbank`` console script."""

from streams.app import main

main()
