"""Offline resources TextAttack needs before it can even be imported.

`import textattack` builds a `StopwordModification()` at import time, which needs NLTK's English
stop-word list, and on its first import tries `nltk.download(...)` for several corpora (failing,
noisily, offline). We provide the stop words from scikit-learn's list (installed from the
registry) in our own NLTK data folder, and keep the first import's download chatter out of the
user's terminal (it is logged at debug level).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
from pathlib import Path
from types import ModuleType

from rosearch.data.embedded import download_cache

log = logging.getLogger(__name__)


def nltk_data_dir() -> Path:
    return download_cache() / "nltk_data"


def ensure_stopwords() -> Path:
    """Our NLTK data folder, holding corpora/stopwords/english; added to NLTK's search path."""
    root = nltk_data_dir()
    target = root / "corpora" / "stopwords" / "english"
    if not target.is_file():
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        tmp.write_text("\n".join(sorted(ENGLISH_STOP_WORDS)) + "\n", encoding="utf-8")
        os.replace(tmp, target)
    paths = os.environ.get("NLTK_DATA", "")
    if str(root) not in paths.split(os.pathsep):
        os.environ["NLTK_DATA"] = os.pathsep.join(p for p in (str(root), paths) if p)
    import nltk

    if str(root) not in nltk.data.path:
        nltk.data.path.insert(0, str(root))
    return root


def import_textattack() -> ModuleType:
    """`import textattack` with its resources in place and its first-import noise captured."""
    ensure_stopwords()
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        import textattack
    if sink.getvalue():
        log.debug("textattack import said:\n%s", sink.getvalue())
    return textattack
