"""Native REST API under /v1 (placeholder router; filled in by the REST module)."""

from __future__ import annotations

from fastapi import APIRouter

from engine.services.context import ServiceContext


def router(ctx: ServiceContext) -> APIRouter:
    """The /v1 routes."""
    return APIRouter(prefix="/v1")
