"""Server settings from the environment (``STEPWELL_*``), with command-line overrides."""

from __future__ import annotations

import os
from dataclasses import dataclass, field


def _flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in {"1", "true", "yes", "on"}


@dataclass
class Settings:
    """Everything that configures one Stepwell process."""

    database_url: str = field(
        default_factory=lambda: os.environ.get("STEPWELL_DATABASE_URL", "sqlite:///stepwell.db")
    )
    host: str = field(default_factory=lambda: os.environ.get("STEPWELL_HOST", "127.0.0.1"))
    port: int = field(default_factory=lambda: int(os.environ.get("STEPWELL_PORT", "8080")))
    account_id: str = field(
        default_factory=lambda: os.environ.get("STEPWELL_ACCOUNT_ID", "123456789012")
    )
    default_region: str = field(
        default_factory=lambda: os.environ.get("STEPWELL_REGION", "us-east-1")
    )
    allow_reset: bool = field(default_factory=lambda: _flag("STEPWELL_ALLOW_RESET"))
    run_engine: bool = True
    node_id: str = field(default_factory=lambda: f"node-{os.getpid()}")
    lease_seconds: float = 30.0
    idle_poll_seconds: float = 0.2
