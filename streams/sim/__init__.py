"""The bank simulator: synthetic customers and their events, with the truth to score against.

Where to look, in the order the data flows:

* ``scenario``: what to simulate (customers and their mix, days, seed, start, broken messages).
* ``personas``: who the customers are (the ``bank`` or ``card_only`` mix) and the seeded story
  (``Plan``) each of them lives; ``rhythms``: slow customers' own gaps, their stretching, pauses.
* ``truth``: what really happened to each customer, read from the plans (``ground_truth``).
* ``calendar``, ``merchants``, ``banks``, ``draws``: what every customer shares: business days
  and seasons, card spend categories, counterparty bank codes, the random draws.
* ``profile``: one customer's drawn rates, amounts and schedules.
* ``customer``: one customer's days played out as serialized events; ``broken`` adds the
  deliberately broken messages.
* ``generator``: all customers merged into one event-time ordered stream of ``event.SimEvent``.
* ``produce`` (to Kafka) and ``jsonl`` (to files): where the stream goes.
"""
