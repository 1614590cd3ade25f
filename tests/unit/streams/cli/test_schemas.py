"""``signalbank schemas export``: a clean tree passes the check; bad input exits 2."""

from __future__ import annotations

from tests.unit.streams.cli.run import signalbank


def test_schemas_export_check_passes_on_a_clean_tree() -> None:
    result = signalbank("schemas", "export", "--check")
    assert result.returncode == 0, result.stderr


def test_schemas_export_rejects_an_unknown_option() -> None:
    result = signalbank("schemas", "export", "--chek")
    assert result.returncode == 2
    assert "No such option: --chek" in result.stderr
