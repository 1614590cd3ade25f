"""The rules control plane: publishing rulesets, following them in workers, watching a folder."""
