"""Redis state: client, key names, profiles, cooldown claims and the silence schedule."""
