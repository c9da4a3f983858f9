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


def model_cached(repo_id: str) -> bool:
    """Whether the local Hugging Face cache holds `repo_id` (its config.json)."""
    from huggingface_hub import try_to_load_from_cache

    return isinstance(try_to_load_from_cache(repo_id, "config.json"), str)


def dataset_cached(name: str, subset: str | None) -> bool:
    """Whether `datasets` can build `name` (`subset`) from its local cache alone (HF_HUB_OFFLINE=1)."""
    import datasets

    try:
        datasets.load_dataset_builder(name, subset)
    except Exception:  # noqa: BLE001 - offline, every "not cached" surfaces as some error of datasets
        return False
    return True


def require_cached(models: list[str], datasets_: list[tuple[str, str | None]], *, hint: str = "") -> None:
    """With HF_HUB_OFFLINE=1: name every hub resource missing from the local cache, at once."""
    missing = [f"model '{m}'" for m in models if not model_cached(m)]
    missing += [f"dataset '{n}'" + (f" ({s})" if s else "") for n, s in datasets_ if not dataset_cached(n, s)]
    if missing:
        raise ResourceUnavailable(
            "HF_HUB_OFFLINE=1 is set, and the local Hugging Face cache lacks: " + ", ".join(missing) + ". "
            "Download them on a machine with the hub (they go to the same cache), or unset HF_HUB_OFFLINE."
            + (f" {hint}" if hint else "")
        )
