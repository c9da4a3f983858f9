"""Fail fast, with a clear message, when a Hugging Face hub resource cannot be reached.

Offline, `datasets` and `transformers` retry for 25-50 s before failing with a generic error. We
first try one TCP connection to the hub (3 s); if that fails and the user has not asked for the
local cache with HF_HUB_OFFLINE=1, the resource is reported missing at once.
"""

from __future__ import annotations

import functools
import os
import socket
from urllib.parse import urlparse

from rosearch.errors import ResourceUnavailable


@functools.lru_cache(maxsize=None)
def reachable(url: str | None = None, timeout: float = 3.0) -> bool:
    """Whether one TCP connection to `url`'s host opens (default: the Hugging Face hub endpoint)."""
    parsed = urlparse(url or os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((parsed.hostname or "huggingface.co", port), timeout=timeout):
            return True
    except OSError:
        return False


def hub_reachable() -> bool:
    return reachable()


def offline_mode() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")


def require_hub(what: str, *, hint: str = "") -> None:
    """Raise ResourceUnavailable unless the hub answers or the user chose its local cache."""
    if offline_mode() or hub_reachable():
        return
    raise ResourceUnavailable(
        f"{what} must come from the Hugging Face hub, which cannot be reached from this machine. "
        "If that is already in your local Hugging Face cache, set HF_HUB_OFFLINE=1 and run again."
        + (f" {hint}" if hint else "")
    )
