"""Platform API: data (see the Fusion SDK's models; wire format in terrafuse.api.fusion.wire)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
