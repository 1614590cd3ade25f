"""Reading rule files: YAML with positions, the rule models, and validation into a Ruleset."""
