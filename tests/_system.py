"""System programs a few tests need (Chromium + ChromeDriver, Virtuoso): skip with the reason when one is
missing, so a newcomer's `pytest` runs green without them; `.ci/run` installs them all and sets
KG_REQUIRE_ALL=1, which turns those skips into failures (CI must run every test)."""

from __future__ import annotations

import os
import shutil


def find(program: str, env: str) -> str | None:
    """The program's path: $env when set (a path, or empty to pretend it is absent), else from PATH or /usr/bin."""
    if env in os.environ:
        path = os.environ[env]
        return path if path and os.access(path, os.X_OK) else None
    found = shutil.which(program) or f"/usr/bin/{program}"
    return found if os.access(found, os.X_OK) else None


def need(*programs: tuple[str, str | None], install: str) -> None:
    """Skip the calling test or fixture unless every (name, path) has a path; fail instead under KG_REQUIRE_ALL=1."""
    missing = [name for name, path in programs if path is None]
    if not missing:
        return
    import pytest  # here, not at the top: benchmarks/bench_scale.py imports _virtuoso without pytest

    reason = f"{' and '.join(missing)} not installed ({install}; `bash .ci/run` installs it)"
    if os.environ.get("KG_REQUIRE_ALL") == "1":
        pytest.fail(f"KG_REQUIRE_ALL=1 but {reason}", pytrace=False)
    pytest.skip(reason)
