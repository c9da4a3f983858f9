"""manifest.csv and manifest.json: one row per exported student."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any


def manifest_row(folder: str, m: dict[str, Any]) -> dict[str, Any]:
    """The flat summary of one export's metrics.json."""
    row: dict[str, Any] = {
        "folder": folder, "trial": m["trial"], "baseline": m.get("baseline") or "", "kd_strategy": m["kd_strategy"], "retrain_epochs": m["retrain_epochs"],
        "accuracy": m["accuracy"], "test_accuracy": m["test_accuracy"], "attack_accuracy": m["attack_accuracy"],
    }
    for name, a in m["attacks"].items():
        row[f"under_{name}"] = a["accuracy_under_attack"]
    row.update(params=m["params"], non_embedding_params=m.get("non_embedding_params"), vocabulary=m.get("vocabulary", "full"),
               flops=m["flops"], compression=m["compression"], fitness=m["fitness"])
    for runtime, short in (("pytorch", "pt"), ("onnxruntime", "ort"), ("stage", "stage")):  # runtimes: stages included
        for batch, ms in m["latency"].get(runtime, {}).items():
            row[f"{short}_b{batch}_ms"] = ms
    row["onnx_max_abs_diff"] = m["onnx"]["max_abs_diff"]
    return row


def write_manifest(out_dir: Path, rows: list[dict[str, Any]]) -> tuple[Path, Path]:
    columns = list(dict.fromkeys(k for row in rows for k in row))
    csv_path, json_path = out_dir / "manifest.csv", out_dir / "manifest.json"
    with csv_path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    json_path.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return csv_path, json_path
