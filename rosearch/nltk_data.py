"""Our own NLTK data folder: the corpora TextAttack's recipes and our synonym substitutes read,
provided offline — English stop words from scikit-learn's list, WordNet from Debian's
`wordnet-base` files — in `<download cache>/nltk_data`, put first on NLTK's search path."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from rosearch.data.embedded import download_cache

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
        # a temporary file of this process's own: workers started together each write theirs, and
        # the last atomic replace wins with the same content
        fd, tmp = tempfile.mkstemp(prefix="english.", suffix=".tmp", dir=target.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("\n".join(sorted(ENGLISH_STOP_WORDS)) + "\n")
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
    target.parent.mkdir(parents=True, exist_ok=True)
    # Copied into a folder of this process's own, then moved in whole: workers started together
    # each copy, the first move wins, and no one ever reads or removes another's half copy.
    tmp = Path(tempfile.mkdtemp(prefix="wordnet.", suffix=".tmp", dir=target.parent))
    try:
        for path in source.iterdir():
            if path.is_file():
                shutil.copyfile(path, tmp / path.name)
        lines = [f"{i:02d}\t{name}\t{_SYNTACTIC_CATEGORY[name.split('.')[0]]}" for i, name in enumerate(_LEXNAMES)]
        (tmp / "lexnames").write_text("\n".join(lines) + "\n")  # written last: a folder holding it is complete
        if not (target / "lexnames").is_file():
            shutil.rmtree(target, ignore_errors=True)  # a broken folder from before: replaced
            try:
                os.replace(tmp, target)
            except OSError:  # another worker moved its complete copy in first
                if not (target / "lexnames").is_file():
                    raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return True
