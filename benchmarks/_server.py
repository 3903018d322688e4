"""Start a real terrafuse server for a benchmark (same helper as the end-to-end tests)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.server import ServerProcess  # noqa: E402

__all__ = ["ROOT", "ServerProcess"]
