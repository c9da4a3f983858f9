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
import shutil
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterator

from rosearch.data.embedded import download_cache
from rosearch.errors import ResourceUnavailable
from rosearch.hub import offline_mode, reachable

log = logging.getLogger(__name__)

DEBIAN_WORDNET = Path("/usr/share/wordnet")
#: WordNet 3.0's lexicographer files (lexnames(5WN)); NLTK needs this file, Debian does not ship it.
_LEXNAMES = (
    "adj.all adj.pert adv.all noun.Tops noun.act noun.animal noun.artifact noun.attribute noun.body "
    "noun.cognition noun.communication noun.event noun.feeling noun.food noun.group noun.location "
    "noun.motive noun.object noun.person noun.phenomenon noun.plant noun.possession noun.process "
    "noun.quantity noun.relation noun.shape noun.state noun.substance noun.time verb.body verb.change "
    "verb.cognition verb.communication verb.competition verb.consumption verb.contact verb.creation "
    "verb.emotion verb.motion verb.perception verb.possession verb.social verb.stative verb.weather adj.ppl"
).split()
_SYNTACTIC_CATEGORY = {"noun": 1, "verb": 2, "adj": 3, "adv": 4}


def nltk_data_dir() -> Path:
    return download_cache() / "nltk_data"


def _register_nltk_dir(root: Path) -> None:
    paths = os.environ.get("NLTK_DATA", "")
    if str(root) not in paths.split(os.pathsep):
        os.environ["NLTK_DATA"] = os.pathsep.join(p for p in (str(root), paths) if p)
    import nltk

    if str(root) not in nltk.data.path:
        nltk.data.path.insert(0, str(root))


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
    _register_nltk_dir(root)
    return root


def ensure_wordnet(source: Path = DEBIAN_WORDNET) -> bool:
    """Provide NLTK's WordNet from Debian's files (copied: NLTK rejects symlinked corpora) plus the
    lexnames table Debian lacks. True when WordNet is available to NLTK afterwards."""
    import nltk

    _register_nltk_dir(nltk_data_dir())
    try:
        nltk.data.find("corpora/wordnet")
        return True
    except LookupError:
        pass
    if not (source / "data.noun").is_file():
        return False
    target = nltk_data_dir() / "corpora" / "wordnet"
    tmp = target.with_name("wordnet.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for path in source.iterdir():
        if path.is_file():
            shutil.copyfile(path, tmp / path.name)
    lines = [f"{i:02d}\t{name}\t{_SYNTACTIC_CATEGORY[name.split('.')[0]]}" for i, name in enumerate(_LEXNAMES)]
    (tmp / "lexnames").write_text("\n".join(lines) + "\n")
    shutil.rmtree(target, ignore_errors=True)
    os.replace(tmp, target)
    return True


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


CHECKS: dict[str, Callable[[], Missing | None]] = {
    "wordnet": _check_wordnet,
    "embeddings": _check_embeddings,
    "use": _check_use,
    "masked_lm": _check_masked_lm,
    "pos_tagger": _check_pos_tagger,
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
}


def missing_for(recipe: str) -> list[Missing]:
    return [m for m in (CHECKS[need]() for need in NEEDS[recipe]) if m is not None]


def preflight(recipe: str) -> None:
    """Raise ResourceUnavailable naming everything `recipe` lacks here, and how to get it."""
    missing = missing_for(recipe)
    if missing:
        items = "; ".join(f"{m.resource}: {m.how}" for m in missing)
        raise ResourceUnavailable(f"Attack recipe '{recipe}' cannot run on this machine. Missing: {items}. Offline, deepwordbug and pruthi always run.")
