"""A real worker with a login on its customer pages, and a headless Chromium to open its staff page.

The worker is ``signalbank worker`` as production runs it (``streams.dev.run.WorkerProcess``) on a
broker of its own (the end-to-end test counts everything on the session broker). Chromium is
Debian's ``chromium`` and ``chromium-driver``; without them a test skips, except in CI (``CI=true``),
where it fails: the browser test must not silently stop running there.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from streams.access import token_line
from streams.dev.embedded import EmbeddedKafka, EmbeddedRedis
from streams.dev.run import WorkerProcess
from streams.dev.scrape import scrape, total
from tests.support.workers import running_worker

CHROMIUM = os.environ.get("SIGNALBANK_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("SIGNALBANK_CHROMEDRIVER", "/usr/bin/chromedriver")
#: Flags that work on a machine without a network: no background connections, no sandbox (root).
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


@dataclass(frozen=True)
class StaffWorker:
    """The running worker, its broker's bootstrap address and its web server's base URL."""

    process: WorkerProcess
    bootstrap: str

    @property
    def base(self) -> str:
        return self.process.metrics_url.rsplit("/", 1)[0]


@contextlib.contextmanager
def logged_in_worker(redis_server: EmbeddedRedis, user: str, token: str) -> Iterator[StaffWorker]:
    """A worker on an emptied Redis and a new broker, accepting ``token`` as ``user``."""
    with (
        EmbeddedKafka() as broker,
        running_worker(
            broker.url,
            broker.bootstrap,
            redis_server.url,
            name="staff-page",
            partitions=2,
            web_tokens=token_line(user, token),
        ) as process,
    ):
        yield StaffWorker(process, broker.bootstrap)


def wait_until_read(worker: WorkerProcess, count: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while total(scrape(worker.metrics_url), "signalbank_events_total") < count:
        assert time.monotonic() < deadline, f"worker did not read {count} events in {timeout:.0f}s"
        time.sleep(0.05)


def get_json(url: str, token: str | None = None) -> tuple[int, Any]:
    """GET ``url`` (with a bearer token, if given): status and decoded body."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read() or b"null")


def headers_of(url: str, token: str | None = None) -> dict[str, str]:
    """The response headers of a GET of ``url`` (with a bearer token, if given)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:
        return dict(response.headers.items())


def chromium_or_skip() -> None:
    """Skip without Chromium, or fail in CI, where the browser test must run."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not shutil.which(path)]
    if not missing:
        return
    message = f"{' and '.join(missing)} missing: apt-get install chromium chromium-driver (.ci/run does)"
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(message)
    pytest.skip(message)


@contextlib.contextmanager
def chromium(width: int = 1280, height: int = 900) -> Iterator[Any]:
    """A headless Chromium driven by selenium, on a new empty profile removed afterwards."""
    chromium_or_skip()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="signalbank-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"{what} not within {timeout:.0f}s"
        time.sleep(0.05)
    return value


def full_page_screenshot(driver: Any, path: Path) -> None:
    """The whole page, not just the window: the window is made as tall as the page first."""
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    width = int(driver.execute_script("return window.outerWidth"))
    driver.set_window_size(width, height + 120)
    path.parent.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(path)), f"no screenshot written to {path}"
