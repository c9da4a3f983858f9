"""A folder cache for the expensive, genome-independent work of a study (the prepare stage).

Entries are folders named by kind and a hash of everything they depend on; each is built in a
temporary folder and renamed into place, so a crash never leaves a half-written entry. The last
file written into an entry is its completeness marker (`.complete.json`: every file's size and
sha256). An entry whose marker is missing, or whose files no longer match it (a truncated
`model.safetensors`, an emptied `metrics.json`, a disk that filled up, an edit by hand), is named,
removed and rebuilt instead of failing every later run.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Callable

#: The marker file inside every complete entry.
MARKER = ".complete.json"
Log = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


def sha256_file(path: Path) -> str:
    """The sha256 of a file's bytes, read in blocks (model weights are large)."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MARKER)


def write_marker(folder: Path) -> None:
    """Record every file of `folder` (size and sha256) in its marker, written last and atomically."""
    listing = {str(p.relative_to(folder)): {"size": p.stat().st_size, "sha256": sha256_file(p)} for p in _files(folder)}
    tmp = folder / (MARKER + ".tmp")
    tmp.write_text(json.dumps({"files": listing}, indent=1, sort_keys=True))
    os.replace(tmp, folder / MARKER)


def damage(folder: Path) -> str | None:
    """Why the entry in `folder` is not the complete one its marker describes, or None when it is."""
    marker = folder / MARKER
    try:
        listing = json.loads(marker.read_text())["files"]
    except FileNotFoundError:
        return "it has no completeness marker (an older rosearch, or an interrupted copy)"
    except (OSError, ValueError, KeyError, TypeError):
        return f"its marker {MARKER} is unreadable"
    if not isinstance(listing, dict):
        return f"its marker {MARKER} is unreadable"
    for name, expected in sorted(listing.items()):
        path = folder / name
        if not path.is_file():
            return f"{name} is missing"
        try:
            size = path.stat().st_size
            if size != expected.get("size"):
                return f"{name} has {size} bytes, {expected.get('size')} were written"
            if sha256_file(path) != expected.get("sha256"):
                return f"{name} no longer matches the checksum written with it"
        except OSError as err:
            return f"{name} cannot be read ({err.strerror or err})"
    return None  # files added later are not checked: datasets writes its own map caches beside the data


class DiskCache:
    def __init__(self, root: Path, *, log: Log = _stderr) -> None:
        self.root = Path(root)
        self.log = log

    def path(self, kind: str, key: str) -> Path:
        return self.root / kind / key

    def has(self, kind: str, key: str) -> bool:
        """A complete, undamaged entry exists."""
        final = self.path(kind, key)
        return final.is_dir() and damage(final) is None

    def get_or_build(self, kind: str, key: str, build: Callable[[Path], None]) -> Path:
        """The entry's folder, running `build(tmp_folder)` first if it does not exist yet (or is
        damaged: then it is named, removed and rebuilt)."""
        final = self.path(kind, key)
        if final.is_dir():
            why = damage(final)
            if why is None:
                return final
            self.log(f"cache: entry {final} is damaged ({why}); removing and rebuilding it")
            shutil.rmtree(final, ignore_errors=True)
        created = [p for p in (final.parent, *final.parent.parents) if not p.exists()]
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=final.parent))
        try:
            build(tmp)
            write_marker(tmp)
            os.replace(tmp, final)
        except BaseException as err:
            shutil.rmtree(tmp, ignore_errors=True)
            if isinstance(err, OSError) and final.is_dir() and damage(final) is None:  # another worker finished it first
                return final
            self._remove_empty(created)  # a failed build (e.g. a data error) leaves no empty folders
            raise
        return final

    @staticmethod
    def _remove_empty(folders: list[Path]) -> None:
        """Remove the folders this call created (deepest first) where nothing else was put in them."""
        for folder in folders:
            try:
                folder.rmdir()
            except OSError:  # not empty (another worker's entry) or already gone
                break
