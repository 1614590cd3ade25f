"""``python -m bench``: the end-to-end benchmark (bench/e2e.py); ``make bench`` runs it."""

from bench.e2e import main

main()
