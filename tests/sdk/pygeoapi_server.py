"""A real pygeoapi server on loopback, run from its own cached virtual environment.

pygeoapi pins its own Flask, pydantic and friends, so it does not go into the project's
environment: ``tests.support.venvs.cached_environment`` builds a separate one once and later runs
reuse it.
:class:`PygeoapiServer` writes a minimal configuration (the built-in ``hello-world`` process and
the TinyDB job manager, which runs jobs asynchronously), generates its OpenAPI document with
``pygeoapi openapi generate`` and serves it with Flask on a free loopback port.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.support.postgres import free_port
from tests.support.venvs import cached_environment

PYGEOAPI_VERSION = "0.21.0"
"""The pygeoapi the tests run against (pinned so the cached environment's key says what it holds)."""

# The contact fields pygeoapi's landing page and OpenAPI document read without defaults.
_CONTACT_FIELDS = (
    "name", "position", "address", "city", "stateorprovince", "postalcode", "country",
    "phone", "fax", "email", "url", "hours", "instructions", "role",
)  # fmt: skip


def pygeoapi_environment(request: pytest.FixtureRequest) -> Path:
    """The Python of a cached virtual environment with ``pygeoapi==PYGEOAPI_VERSION``."""
    return cached_environment(request, "pygeoapi", [f"pygeoapi=={PYGEOAPI_VERSION}"])


def pygeoapi_config(url: str, port: int, folder: Path) -> dict[str, Any]:
    """A minimal pygeoapi configuration: ``hello-world`` and an asynchronous TinyDB job manager.

    ``url`` is where clients reach the server; pygeoapi builds every link (and the ``Location``
    of new jobs) from it, so it must carry the real port.
    """
    return {
        "server": {
            "bind": {"host": "127.0.0.1", "port": port},
            "url": url,
            "mimetype": "application/json; charset=UTF-8",
            "encoding": "utf-8",
            "language": "en-US",
            "pretty_print": False,
            "limits": {"default_items": 50, "max_items": 1000},
            "map": {"url": "http://127.0.0.1/tiles/{z}/{x}/{y}.png", "attribution": "none"},  # HTML only
            # TinyDB is pygeoapi's manager that honours ``Prefer: respond-async``; the default
            # (Dummy) runs everything synchronously. Results are written to ``output_dir``.
            "manager": {
                "name": "TinyDB",
                "connection": str(folder / "jobs.db"),
                "output_dir": str(folder / "out"),
            },
        },
        "logging": {"level": "WARNING", "logfile": str(folder / "pygeoapi.log")},
        # The schema asks for fewer, but pygeoapi's OpenAPI generator and landing page read
        # every one of these keys directly.
        "metadata": {
            "identification": {
                "title": "terrafuse test pygeoapi",
                "description": "pygeoapi for the terrafuse OGC client's end-to-end tests",
                "keywords": ["test"],
                "keywords_type": "theme",
                "terms_of_service": "https://example.org/terms",
                "url": "https://example.org",
            },
            "license": {"name": "CC-BY 4.0", "url": "https://creativecommons.org/licenses/by/4.0/"},
            "provider": {"name": "terrafuse tests", "url": "https://example.org"},
            "contact": dict.fromkeys(_CONTACT_FIELDS, "n/a"),
        },
        "resources": {"hello-world": {"type": "process", "processor": {"name": "HelloWorld"}}},
    }


class PygeoapiServer:
    """pygeoapi served by Flask (``flask run``, no reloader) on a free loopback port.

    Args:
        python: the Python of an environment with pygeoapi (see :func:`pygeoapi_environment`).
        folder: where the configuration, OpenAPI document, job database, results and log go.
    """

    def __init__(self, python: Path, folder: Path) -> None:
        self.python = python
        self.folder = folder
        self.port = free_port()
        self.config_path = folder / "pygeoapi-config.yml"
        self.openapi_path = folder / "pygeoapi-openapi.yml"
        self.log_path = folder / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")},
            "PYGEOAPI_CONFIG": str(self.config_path),
            "PYGEOAPI_OPENAPI": str(self.openapi_path),
        }

    @property
    def url(self) -> str:
        """The API's root URL (its landing page)."""
        return f"http://127.0.0.1:{self.port}"

    def _bin(self, name: str) -> str:
        return str(self.python.parent / name)

    def prepare(self) -> None:
        """Write the configuration and generate its OpenAPI document (pygeoapi needs both)."""
        (self.folder / "out").mkdir(parents=True, exist_ok=True)
        config = pygeoapi_config(self.url, self.port, self.folder)
        self.config_path.write_text(yaml.safe_dump(config, sort_keys=False))
        args = [self._bin("pygeoapi"), "openapi", "generate", str(self.config_path)]
        done = subprocess.run(
            [*args, "--output-file", str(self.openapi_path)],
            capture_output=True,
            text=True,
            timeout=180,
            env=self.env,
        )
        if done.returncode != 0 or not self.openapi_path.exists():
            raise RuntimeError(f"pygeoapi openapi generate failed:\n{done.stdout}\n{done.stderr[-3000:]}")

    def start(self, timeout: float = 120.0) -> PygeoapiServer:
        """Prepare, start the server in its own process group and wait until it answers."""
        self.prepare()
        # ``pygeoapi serve`` runs Flask in debug mode with the reloader (a second process that
        # restarts on file changes); ``flask run`` without it is one plain, threaded server.
        args = [self.python, "-m", "flask", "--app", "pygeoapi.flask_app", "run"]
        args += ["--host", "127.0.0.1", "--port", str(self.port), "--no-reload", "--no-debugger"]
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child process owns it
        self.proc = subprocess.Popen(
            [str(a) for a in args],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self.env,
            cwd=self.folder,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"pygeoapi exited with {self.proc.returncode}:\n{self.logs()}")
            try:
                if httpx.get(f"{self.url}/processes?f=json", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"pygeoapi did not answer within {timeout} s:\n{self.logs()}")

    def logs(self) -> str:
        """What the server printed so far, then pygeoapi's own log."""
        texts = [
            p.read_text(errors="replace") for p in (self.log_path, self.folder / "pygeoapi.log") if p.exists()
        ]
        return "\n".join(texts)[-5000:]

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL for whatever is left of its process group)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=20)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
