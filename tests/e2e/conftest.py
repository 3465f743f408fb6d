"""Browser tests: Debian's chromium driven by Playwright (no browser download)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.acceptance.conftest import hall  # noqa: F401 - the running hall fixture, shared with acceptance
from tests.conftest import ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """A headless chromium, as the kiosk and board machines run it."""
    if not Path(CHROMIUM).exists():
        pytest.skip("browser tests need Debian's chromium (scripts/test.sh installs it when run as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


def screenshot_path(name: str) -> Path:
    """Where a test leaves a screenshot for a person to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name
