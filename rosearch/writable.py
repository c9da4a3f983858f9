"""Whether a folder can be written, found out by trying: `os.access` answers yes to root even
where a write fails (read-only mounts, /proc), and no to nothing that will fail later."""

from __future__ import annotations

import tempfile
from pathlib import Path


def cannot_write(folder: Path) -> str | None:
    """Why files cannot be created in `folder` (made if missing), or None when they can. Leaves
    nothing behind: the probe file and any folders made for it are removed."""
    folder = Path(folder)
    created = [p for p in (folder, *folder.parents) if not p.exists()]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        return err.strerror or str(err)
    finally:
        for made in created:  # deepest first
            try:
                made.rmdir()
            except OSError:
                break
    return None
