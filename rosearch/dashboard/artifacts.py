"""Files attached to trials and studies through Optuna's artifact store, for optuna-dashboard."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path
from typing import Any

import optuna
from optuna.artifacts import FileSystemArtifactStore, upload_artifact

from rosearch.config import StudyConfig


class TrialArtifacts:
    """A FileSystemArtifactStore folder (default: <runs_dir>/<study>/artifacts).

    Several workers on a shared database must share this folder too (e.g. a network mount), or
    the dashboard will not find every file.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.store = FileSystemArtifactStore(str(self.folder))

    @classmethod
    def for_study(cls, cfg: StudyConfig) -> TrialArtifacts:
        """The study's store: <runs_dir>/<study name>/artifacts (optuna-dashboard --artifact-dir)."""
        return cls(Path(cfg.runs_dir) / cfg.name / "artifacts")

    def upload(self, target: optuna.Trial | optuna.Study, name: str, rows: list[dict[str, Any]]) -> str:
        """Upload `rows` as a JSON-lines file called `name`; returns the artifact id."""
        return self.upload_text(target, name, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "application/jsonl")

    def upload_csv(self, target: optuna.Trial | optuna.Study, name: str, rows: list[dict[str, Any]]) -> str:
        """Upload `rows` as CSV (optuna-dashboard previews CSV files as tables)."""
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else ["empty"])
        writer.writeheader()
        writer.writerows(rows)
        return self.upload_text(target, name, buffer.getvalue(), "text/csv")

    def upload_text(self, target: optuna.Trial | optuna.Study, name: str, text: str, mimetype: str) -> str:
        """Upload `text` as a file called `name` (e.g. an SVG picture: image/svg+xml)."""
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / name
            path.write_text(text, encoding="utf-8")
            return upload_artifact(artifact_store=self.store, file_path=str(path), study_or_trial=target, mimetype=mimetype)
