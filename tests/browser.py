"""The system's Chromium for the browser tests (the report's page, the dashboard)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("PROMOSIM_CHROMIUM", "/usr/bin/chromium"))


def system_chromium():
    """playwright's sync_playwright for the system Chromium, or a skip.

    A failure instead when PROMOSIM_BROWSER_TESTS=1 (CI, whose .ci/run installs Chromium).
    Never a downloaded browser: launch with executable_path=CHROMIUM.
    """
    required = os.environ.get("PROMOSIM_BROWSER_TESTS") == "1"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if required:
            pytest.fail("PROMOSIM_BROWSER_TESTS=1 but the playwright package is not installed")
        pytest.skip("the playwright package is not installed")
    if not CHROMIUM.is_file():
        if required:
            pytest.fail(f"PROMOSIM_BROWSER_TESTS=1 but there is no Chromium at {CHROMIUM}")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    return sync_playwright
