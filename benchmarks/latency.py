"""Latency of the teacher and of every exported student of a study, from one run.

    python benchmarks/latency.py --study demo --storage sqlite:///runs/demo-i5/study.db [--export DIR]

Exports the study's Pareto front (`rosearch-optuna export`, unless --export names a folder that
already holds one), then times the study's teacher with the same settings (PyTorch and ONNX Runtime,
each latency.batch_sizes, latency.seq_len tokens, latency.threads threads, median after warm-up) and
writes benchmarks/latency.json and a markdown table to stdout.
"""

from __future__ import annotations

import argparse
import json
import copy
import tempfile
import time
from pathlib import Path

from _common import prepared_study

from rosearch.student.cost import count_params
from rosearch.config import with_storage
from rosearch.export.onnx import TOLERANCE, export_onnx, max_abs_diff
from rosearch.export.run import ExportOptions, export
from rosearch.export.write import parity_batches
from rosearch.latency import latency_report, onnx_session, probe_inputs, seq_len
from rosearch.student.pipeline import StudentPipeline
from rosearch.table import format_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", default="demo")
    parser.add_argument("--storage")
    parser.add_argument("--export", help="a folder with manifest.json from an earlier export (default: export now)")
    args = parser.parse_args()
    cfg, prep, _, _ = prepared_study(args.study)
    cfg = with_storage(cfg, args.storage)
    start = time.perf_counter()
    if args.export and (Path(args.export) / "manifest.json").is_file():
        out_dir = Path(args.export)
        rows = json.loads((out_dir / "manifest.json").read_text())
    else:
        out_dir = Path(args.export or Path(cfg.runs_dir) / cfg.name / "export")
        rows = export(cfg, ExportOptions(out_dir, progress=False))
    export_seconds = time.perf_counter() - start

    teacher = copy.deepcopy(prep.teacher).cpu().eval()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "teacher.onnx"
        export_onnx(teacher, path, example=probe_inputs(2, 16, len(prep.tokenizer)))
        session = onnx_session(str(path), threads=cfg.latency.threads)
        texts = prep.splits["dev"]["text"][:8]
        diff = max(max_abs_diff(teacher, session, b) for b in parity_batches(prep.tokenizer, texts, cfg.data.max_length))
        t_latency = latency_report(StudentPipeline(teacher, prep.tokenizer, cfg.data.max_length), length=seq_len(cfg), cfg=cfg.latency,
                                   onnx_path=str(path))
    teacher_params = count_params(teacher)
    record = {
        "study": cfg.name, "storage": cfg.search.storage, "export": str(out_dir), "export_seconds": export_seconds,
        "teacher": {"params": teacher_params, "latency": t_latency, "onnx_max_abs_diff": diff, "tolerance": TOLERANCE},
        "students": [{**r, "latency": json.loads((out_dir / r["folder"] / "metrics.json").read_text())["latency"]} for r in rows],
    }
    Path(__file__).with_name("latency.json").write_text(json.dumps(record, indent=2) + "\n")

    batches = [str(b) for b in cfg.latency.batch_sizes]
    header = ["model", "params", "compression", "dev acc", "under attack"] + [f"{rt} b{b} (ms)" for rt in ("PyTorch", "ORT") for b in batches] + ["speed-up b1 (PyTorch)"]

    def cells(lat: dict) -> list[str]:
        return [f"{lat[rt][b]:.2f}" for rt in ("pytorch", "onnxruntime") for b in batches]

    t1 = t_latency["pytorch"][batches[0]]
    teacher_acc = prep.teacher_metrics.get("dev_accuracy", float("nan"))
    table = [["teacher", f"{teacher_params / 1e6:.2f}M", "1.0×", f"{teacher_acc:.1%}", "–", *cells(t_latency), "1.0×"]]
    for s in record["students"]:
        lat = s["latency"]
        table.append([f"trial #{s['trial']}", f"{s['params'] / 1e6:.2f}M", f"{teacher_params / s['params']:.1f}×", f"{s['accuracy']:.1%}",
                      f"{s['attack_accuracy']:.1%}", *cells(lat), f"{t1 / lat['pytorch'][batches[0]]:.1f}×"])
    print(format_table(header, table, style="markdown"))
    print(f"\nteacher ONNX vs PyTorch max |Δlogit| {diff:.1e}; export of {len(rows)} student(s) took {export_seconds:.0f} s; "
          f"latency: {seq_len(cfg)} tokens, {cfg.latency.threads} thread(s), median of {cfg.latency.repeats} after {cfg.latency.warmup} warm-up")


if __name__ == "__main__":
    main()
