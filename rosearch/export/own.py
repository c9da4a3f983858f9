"""Recognise a folder that rosearch's own `export` wrote, and load its tokenizer (with the input
stage it ships) through rosearch's installed classes: nothing from the folder is executed.

An exported student with the word recogniser names its tokenizer class in `tokenizer_config.json`
(`auto_map`: recognizing_tokenizer.RecognizingBertTokenizerFast) and ships that code, so plain
`AutoTokenizer` asks for `trust_remote_code`. A folder is taken for ours when its config is a
rosearch student, its auto_map names our class, and the code it ships is byte-for-byte the code
of this installed rosearch (sha256): then loading it with our class gives exactly what running the
folder's code would. Only data files are read from it (vocabulary, tokenizer.json, the stages' JSON).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rosearch.cache import sha256_file
from rosearch.errors import RosearchError

#: The class the export's auto_map names for AutoTokenizer.
RECOGNIZING_CLASS = "recognizing_tokenizer.RecognizingBertTokenizerFast"


def _own_sources() -> dict[str, Path]:
    """The code files an export with input stages ships, as this installed rosearch has them."""
    import rosearch.robust.normalize as normalize
    import rosearch.robust.recognizer as recognizer
    import rosearch.robust.recognizing_tokenizer as recognizing
    import rosearch.robust.synonyms as synonyms
    import rosearch.robust.vote as vote

    return {"recognizing_tokenizer.py": Path(recognizing.__file__), "recognizer.py": Path(recognizer.__file__),
            "normalize.py": Path(normalize.__file__), "synonyms.py": Path(synonyms.__file__), "vote.py": Path(vote.__file__)}


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def is_recognizing_export(folder: Path) -> bool:
    """The folder is a rosearch student whose tokenizer is our recognising tokenizer."""
    folder = Path(folder)
    if _read_json(folder / "config.json").get("model_type") != "rosearch-student":
        return False
    auto = _read_json(folder / "tokenizer_config.json").get("auto_map") or {}
    named = auto.get("AutoTokenizer") if isinstance(auto, dict) else None
    return isinstance(named, (list, tuple)) and RECOGNIZING_CLASS in named


def load_own_tokenizer(folder: Path) -> Any | None:
    """The recognising tokenizer of one of our exports, loaded with rosearch's own class; None when
    the folder is not such an export. Refuses (naming the file) an export whose shipped code is not
    this rosearch's: its behaviour could differ from what our class does."""
    folder = Path(folder)
    if not is_recognizing_export(folder):
        return None
    for name, ours in _own_sources().items():
        shipped = folder / name
        if not shipped.is_file() or sha256_file(shipped) != sha256_file(ours):
            raise RosearchError(
                f"{folder} looks like a rosearch export with the word recogniser, but its {name} is not this rosearch's "
                "(another version, or edited). Re-export it with this version, or, if you trust the folder's code, pass --trust-remote-code.")
    from rosearch.robust.recognizing_tokenizer import RecognizingBertTokenizerFast

    return RecognizingBertTokenizerFast.from_pretrained(str(folder))
