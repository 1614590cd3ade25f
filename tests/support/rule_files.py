"""A minimal valid rule file, and writing rule files into a test's folder."""

from __future__ import annotations

import textwrap
from pathlib import Path

#: One valid churn rule: tests edit it (``GOOD_RULE.replace(...)``) to make the file they need.
GOOD_RULE = """\
rules:
  - id: churn.quiet
    kind: churn
    description: Quiet customer
    when: profile.days_since_activity > 30.0
    weight: 0.3
    reason: "Silent for {profile.days_since_activity} days"
"""


def write(tmp_path: Path, text: str, name: str = "r.yaml") -> Path:
    """Write ``text`` (dedented) as ``name`` in ``tmp_path``; return its path."""
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path
