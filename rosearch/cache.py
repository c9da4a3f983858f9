"""A folder cache for the expensive, genome-independent work of a study (the prepare stage).

Entries are folders named by kind and a hash of everything they depend on; each is built in a
temporary folder and renamed into place, so a crash never leaves a half-written entry.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable


class DiskCache:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, kind: str, key: str) -> Path:
        return self.root / kind / key

    def has(self, kind: str, key: str) -> bool:
        return self.path(kind, key).is_dir()

    def get_or_build(self, kind: str, key: str, build: Callable[[Path], None]) -> Path:
        """The entry's folder, running `build(tmp_folder)` first if it does not exist yet."""
        final = self.path(kind, key)
        if final.is_dir():
            return final
        created = [p for p in (final.parent, *final.parent.parents) if not p.exists()]
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=final.parent))
        try:
            build(tmp)
            os.replace(tmp, final)
        except BaseException as err:
            shutil.rmtree(tmp, ignore_errors=True)
            if isinstance(err, OSError) and final.is_dir():  # another worker finished the same entry first
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
