"""The Faust app as the settings configure it."""

from __future__ import annotations

from pathlib import Path

from streams.app import create_app
from streams.settings import Settings


def test_a_data_dir_whose_parents_do_not_exist_yet_is_created(tmp_path: Path) -> None:
    data_dir = tmp_path / "var" / "lib" / "signalbank"
    app = create_app(Settings(data_dir=data_dir, app_id="app-test"))
    app._create_directories()
    assert (data_dir / "faust").is_dir()
