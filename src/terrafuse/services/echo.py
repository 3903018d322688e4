"""``echo``: returns its inputs. A test process shaped as the OGC CITE suite expects.

Its first input is a plain string and the first output has the same id; ``pause`` makes a
run take that many seconds (cancellable), so "results not ready" and dismiss can be tested.
"""

from __future__ import annotations

import time
from typing import Any

from terrafuse.services.base import InputDescription, OutputDescription, RunContext, ServiceDescription

_BINARY = {"type": "string", "contentEncoding": "base64", "contentMediaType": "application/octet-stream"}

DESCRIPTION = ServiceDescription(
    id="echo",
    version="1.0.0",
    title="Echo",
    description="Returns the values it is given. Useful to test clients and the platform itself.",
    keywords=("test", "echo"),
    inputs={
        "string_input": InputDescription(
            title="String input",
            description="Any text; echoed as the output of the same id.",
            schema={"type": "string"},
            # Optional like every input here: the OGC test suite sends some inputs alone.
            min_occurs=0,
        ),
        "pause": InputDescription(
            title="Pause",
            description="Seconds to wait before answering (0-60).",
            schema={"type": "number", "minimum": 0, "maximum": 60, "default": 0},
            min_occurs=0,
        ),
        "double_input": InputDescription(
            title="Number input",
            schema={"type": "number", "format": "double"},
            min_occurs=0,
        ),
        "array_input": InputDescription(
            title="Array input",
            # No minItems: for an array of numbers the OGC test suite sends [].
            schema={"type": "array", "items": {"type": "number"}},
            min_occurs=0,
        ),
        "binary_input": InputDescription(
            title="Binary input",
            description="Base64-encoded bytes, inline or by reference.",
            schema=_BINARY,
            min_occurs=0,
        ),
    },
    outputs={
        "string_input": OutputDescription(title="String output", schema={"type": "string"}),
        "double_input": OutputDescription(
            title="Number output", schema={"type": "number", "format": "double"}
        ),
        "array_input": OutputDescription(
            title="Array output", schema={"type": "array", "items": {"type": "number"}}
        ),
        "binary_input": OutputDescription(title="Binary output", schema=_BINARY),
    },
    inline=True,
)

# Pause in short steps so a dismiss stops the run within this many seconds.
_STEP = 0.05


class Echo:
    """The echo service."""

    description = DESCRIPTION

    def check_inputs(self, inputs: dict[str, Any]) -> None:
        """Nothing to check beyond the schemas."""

    def run(self, ctx: RunContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Wait ``pause`` seconds (reporting progress), then return the echoable inputs."""
        pause = float(inputs.get("pause") or 0)
        deadline = time.monotonic() + pause
        while (left := deadline - time.monotonic()) > 0:
            time.sleep(min(_STEP, left))
            ctx.progress(1 - max(left - _STEP, 0) / pause)
        return {k: v for k, v in inputs.items() if k in DESCRIPTION.outputs}


ECHO = Echo()
