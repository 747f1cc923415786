"""Headless Chromium for browser tests: Debian's package, installed when missing and possible."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


def install_chromium() -> str:
    """Try Debian's chromium package; the reason it failed otherwise."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return "chromium is not installed and this user cannot install it"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        subprocess.run(["apt-get", "update", "-qq"], env=env, timeout=300, check=False,
                       capture_output=True)
        done = subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], env=env,
                              timeout=600, capture_output=True, text=True)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"installing chromium failed: {exc}"
    return "" if done.returncode == 0 else f"apt-get install chromium failed: {done.stderr[-300:]}"


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = find_chromium()
    if path is None:
        reason = install_chromium()
        path = find_chromium()
        if path is None:
            print(f"\nSKIP browser tests: {reason}")
            pytest.skip(reason)
    return path


@pytest.fixture(scope="module")  # sync Playwright runs a loop in this thread while it is open
def browser(chromium_path: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield b
        b.close()
