"""Virtual environments the tests build once and keep: other SDK versions, pygeoapi, the light SDK.

An environment lives in pytest's cache folder (or the system's temporary folder when the cache
plugin is off), keyed by its name, the Python version and what it installs, so later runs reuse
it. A lock keeps parallel runs from building it twice, and a marker written last means a
half-built one is rebuilt. A failure to build fails the test; it never skips it.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

import pytest

INSTALL_TIMEOUT = 900.0  # seconds; a cold pip install on a busy 2-core machine can take minutes


def clean_env() -> dict[str, str]:
    """This process's environment without what would leak its packages into another Python."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}


def cached_environment(
    request: pytest.FixtureRequest, name: str, requirements: Sequence[str], key: str | None = None
) -> Path:
    """The Python of a virtual environment holding ``requirements`` (pip requirement strings).

    ``key`` names what is installed when the requirements alone do not (e.g. a hash of the
    sources of a local path); by default the requirements are the key.
    """
    digest = key or uuid.uuid5(uuid.NAMESPACE_URL, " ".join(requirements)).hex[:8]
    full_key = f"{name}-py{sys.version_info.major}.{sys.version_info.minor}-{digest}"
    cache = getattr(request.config, "cache", None)  # absent under ``-p no:cacheprovider``
    root = (
        Path(cache.mkdir(full_key))
        if cache is not None
        else Path(tempfile.gettempdir()) / f"terrafuse-{full_key}"
    )
    root.mkdir(parents=True, exist_ok=True)
    venv, marker = root / "venv", root / "ready"
    python = venv / "bin" / "python"
    with open(root / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists() and python.exists():
            return python
        marker.unlink(missing_ok=True)
        started = time.monotonic()
        steps = (
            [sys.executable, "-m", "venv", "--clear", str(venv)],
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *requirements],
        )
        for step in steps:
            try:
                done = subprocess.run(
                    step, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, env=clean_env()
                )
            except subprocess.TimeoutExpired:
                pytest.fail(
                    f"preparing the {name} environment took over {INSTALL_TIMEOUT:.0f} s: {' '.join(step)}"
                )
            if done.returncode != 0:
                pytest.fail(
                    f"could not prepare the {name} environment: {' '.join(step)}\n{done.stderr[-3000:]}"
                )
        marker.write_text(f"built in {time.monotonic() - started:.1f} s\n")
    return python
