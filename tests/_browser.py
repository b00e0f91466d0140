"""Headless Chromium for page tests: Debian's chromium + chromedriver (installed by .ci/run; without them
the page tests skip, see _system.py). KG_CHROMIUM / KG_CHROMEDRIVER point at other binaries."""

from __future__ import annotations

import shutil
import tempfile
from contextlib import contextmanager

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from _system import find, need

CHROMIUM = find("chromium", "KG_CHROMIUM")
CHROMEDRIVER = find("chromedriver", "KG_CHROMEDRIVER")


def require_chromium() -> None:
    """Skip the page tests when Chromium or its driver is missing (fail under KG_REQUIRE_ALL=1)."""
    need(
        ("Chromium", CHROMIUM),
        ("ChromeDriver", CHROMEDRIVER),
        install="Debian: apt-get install chromium chromium-driver",
    )


@contextmanager
def chromium(width: int = 1280, height: int = 1200):
    profile = tempfile.mkdtemp(prefix="kg-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--window-size={width},{height}",
        f"--user-data-dir={profile}",
    ):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
