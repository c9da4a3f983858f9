"""Report: architecture statistics (pure, table-driven) and the CLI report against the stored study."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from conftest import run_cli
from rosearch.report.stats import cell_depth, cell_width, category_counts, feature_table, op_frequencies, quarters
from rosearch.search.baselines import references
from rosearch.search.front import feasible
from rosearch.student.genome import Genome, Node


def _g(*nodes: tuple[tuple[int, int], tuple[str, str]], cells: int = 1, hidden: int = 32) -> Genome:
    ops = {op for _, pair in nodes for op in pair}
    return Genome(hidden, 16, cells, tuple(Node(i, o) for i, o in nodes), n_heads=2 if "attention" in ops else None, ffn_multiplier=2 if "ffn" in ops else None)


CHAIN = _g(((0, 1), ("conv3", "skip")), ((2, 2), ("ffn", "zero")), ((3, 0), ("attention", "skip")))  # n0 → n1 → n2
PARALLEL = _g(((0, 1), ("conv3", "skip")), ((0, 1), ("maxpool3", "zero")), ((1, 1), ("skip", "skip")))  # three branches


@pytest.mark.parametrize("genome, depth, width", [(CHAIN, 3, 1), (PARALLEL, 1, 3), (_g(((0, 1), ("skip", "skip")), ((2, 0), ("skip", "skip"))), 2, 1)],
                         ids=["chain", "parallel", "two-step"])
def test_cell_shape(genome, depth, width) -> None:
    assert cell_depth(genome) == depth and cell_width(genome) == width


@pytest.mark.parametrize("robustness, top, bottom", [
    ([0.1, 0.5, 0.3, 0.9], [3], [0]),
    ([0.1, 0.5, 0.3, 0.9, 0.2], [3, 1], [4, 0]),  # ceil(5/4) = 2 each
    ([0.4, 0.4], [0], [1]),  # ties: trial order
])
def test_quarters(robustness, top, bottom) -> None:
    q = quarters(robustness)
    assert q.top == top and q.bottom == bottom


def test_op_frequencies_and_features_compare_the_quarters() -> None:
    genomes = [CHAIN, PARALLEL, CHAIN, PARALLEL]
    q = quarters([0.9, 0.1, 0.8, 0.2])  # the chains are the robust ones
    rows = {r["op"]: r for r in op_frequencies(genomes, q)}
    assert rows["attention"] == {"op": "attention", "top": 1, "top_share": 1 / 6, "bottom": 0, "bottom_share": 0.0}
    assert rows["skip"]["top"] == 2 and rows["skip"]["bottom"] == 3
    assert op_frequencies(genomes, q)[0]["top_share"] - op_frequencies(genomes, q)[0]["bottom_share"] > 0  # most robust-leaning first
    features = {r["feature"]: r for r in feature_table(genomes, [0.9, 0.1, 0.8, 0.2], q)}
    depth = features["cell depth (longest op chain)"]
    assert depth["top_mean"] == 3 and depth["bottom_mean"] == 1 and depth["spearman"] == pytest.approx(math.sqrt(0.8))
    assert math.isnan(features["n_cells (stack depth)"]["spearman"])  # constant: no correlation
    assert category_counts(["kdiga", "vanilla", "kdiga", "vanilla"], q, front=[1, 2, 3]) == [
        {"value": "kdiga", "front": 1, "top": 1, "bottom": 0, "all": 2}, {"value": "vanilla", "front": 2, "top": 0, "bottom": 1, "all": 2}]


def test_report_cli_matches_the_study(tiny_study, tmp_path: Path) -> None:
    runs, study = tiny_study
    out = tmp_path / "report"
    done = run_cli("report", "--study", "tiny", "--runs-dir", str(runs), "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    for name in ("report.md", "report.json", "pareto.png", "pareto.html", "hypervolume.png", "hypervolume.html", "plotly.min.js"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    data = json.loads((out / "report.json").read_text())
    complete = [t for t in study.trials if t.state.name == "COMPLETE"]
    assert [r["trial"] for r in data["trials"]] == [t.number for t in complete]
    for row, trial in zip(data["trials"], complete):
        for key in ("accuracy", "attack_accuracy", "params", "latency_ms"):
            assert row[key] == trial.user_attrs["metrics"][key]
        assert row["fitness"] == trial.user_attrs["fitness"] and row["feasible"] == feasible(trial)
    assert sorted(r["trial"] for r in data["trials"] if r["pareto"]) == sorted(t.number for t in study.best_trials)
    history = data["hypervolume"]["history"]
    assert [n for n, _ in history] == [t.number for t in complete if feasible(t)]
    assert all(b[1] >= a[1] >= 0 for a, b in zip(history, history[1:]))  # hypervolume never shrinks
    arch = data["architecture"]
    slots = sum(2 * len(t.user_attrs["genome"]["nodes"]) for t in complete if t.number in arch["top_trials"])
    assert sum(r["top"] for r in arch["operations"]) == slots
    stages = [t.user_attrs["genome"].get("input_stage", "none") for t in complete]  # the stage gene counts with the cell's
    assert {r["value"]: r["all"] for r in arch["input_stages"]} == {s: stages.count(s) for s in set(stages)}
    assert sum(r["top"] for r in arch["input_stages"]) == arch["quarter_size"]
    front = [t for t in complete if t.number in arch["front_trials"]]
    assert sorted(arch["front_trials"]) == sorted(r["trial"] for r in data["trials"] if r["pareto"])
    assert {r["value"]: r["front"] for r in arch["input_stages"]} == {s: sum(t.user_attrs["genome"].get("input_stage", "none") == s for t in front)
                                                                      for s in set(stages)}

    md = (out / "report.md").read_text()
    for link in ("pareto.png", "pareto.html", "hypervolume.png", "## Architecture and robustness", "most robust quarter"):
        assert link in md
    for trial in study.best_trials:
        m = trial.user_attrs["metrics"]
        assert f"| #{trial.number}" in md and f"{m['accuracy']:.1%}" in md and f"{m['attack_accuracy']:.1%}" in md
    assert f"{history[-1][1]:.4g}" in md

    # RoSearch's headline opens the report: teacher, every baseline, the searched front, from the stored study
    assert md.index("## Headline") < md.index("## Pareto front")
    rows = {r["label"]: r for r in data["headline"]["rows"]}
    assert rows["teacher"]["accuracy"] == study.user_attrs["teacher"]["dev_accuracy"]
    baseline_trial = next(t for t in complete if t.user_attrs.get("baseline") == "transformer-tiny")
    assert baseline_trial.number == 0  # enqueued before the search
    row = rows["#0 transformer-tiny"]
    assert row["kind"] == "baseline" and row["accuracy"] == baseline_trial.user_attrs["metrics"]["accuracy"]
    reference = references(study)["bert-1x32"]["metrics"]
    assert rows["bert-1x32"]["kind"] == "baseline" and rows["bert-1x32"]["params"] == reference["params"]
    searched = [t for t in study.best_trials if not t.user_attrs.get("baseline")]
    assert {f"#{t.number}" for t in searched} <= {r["label"] for r in data["headline"]["rows"] if r["kind"] == "searched"}
    for label in ("teacher", "#0 transformer-tiny", "bert-1x32"):
        assert f"| {label} |" in md
    # flagged in the dashboard's note and in `show`
    from optuna_dashboard._note import get_note_from_system_attrs

    note = get_note_from_system_attrs(study._storage.get_study_system_attrs(study._study_id), baseline_trial._trial_id)["body"]
    assert "hand-designed baseline `transformer-tiny`" in note
    shown = run_cli("show", "--study", "tiny", "--runs-dir", str(runs), cwd=tmp_path)
    assert "Hand-designed baselines" in shown.stdout and "transformer-tiny" in shown.stdout and "bert-1x32" in shown.stdout


@pytest.mark.parametrize("student_held, baselines, expected", [
    # the larger baseline is the one compared; 8 discordant pairs all for the student: p = 2/256
    ([True] * 10, [("big", 2e6, [True, True] + [False] * 8), ("small", 5e5, [True] * 10)], ("big", 0.8, 2 / 256)),
    # no baseline of equal or larger size: no comparison
    ([True] * 4, [("small", 5e5, [True] * 4)], None),
    # the most robust of the larger baselines wins the comparison
    ([False] * 4, [("a", 2e6, [True] * 4), ("b", 3e6, [False] * 4)], ("a", -1.0, 0.125)),
], ids=["larger-baseline", "none-larger", "most-robust-larger"])
def test_headline_compares_with_the_best_baseline_of_equal_or_larger_size(student_held, baselines, expected) -> None:
    from rosearch.report.headline import Row, compare

    def row(label, kind, params, held):
        return Row(label, kind, label, params, 0.8, None, 1.0, {"deepwordbug": {"accuracy_under_attack": sum(held) / len(held), "held": held, "n": len(held)}})

    table = [row(name, "baseline", params, held) for name, params, held in baselines] + [row("#5", "searched", 1e6, student_held)]
    compare(table, ["deepwordbug"])
    versus = table[-1].versus
    if expected is None:
        assert versus is None
    else:
        name, difference, p = expected
        assert versus["baseline"] == name and versus["difference"] == pytest.approx(difference) and versus["p_value"] == pytest.approx(p)
        assert versus["recipes"]["deepwordbug"]["p_value"] == versus["p_value"]


def test_headline_compares_the_same_baseline_under_every_recipe() -> None:
    """The baseline is chosen under the search recipe; the other recipes compare with that one."""
    from rosearch.report.headline import Row, compare

    def row(label, kind, params, dwb, pwws):
        under = {name: {"accuracy_under_attack": sum(h) / len(h), "held": h, "n": len(h)} for name, h in (("deepwordbug", dwb), ("pwws", pwws)) if h}
        return Row(label, kind, label, params, 0.8, None, 1.0, under)

    table = [row("a", "baseline", 2e6, [True] * 2 + [False] * 8, [True] * 10),  # best under deepwordbug
             row("b", "baseline", 3e6, [False] * 10, [False] * 10),
             row("#3 (+2 ep)", "retrained", 1e6, [True] * 10, [False] * 10)]
    compare(table, ["deepwordbug", "pwws"])
    v = table[-1].versus
    assert v["baseline"] == "a" and v["difference"] == pytest.approx(0.8)
    assert v["recipes"]["pwws"]["difference"] == pytest.approx(-1.0) and v["recipes"]["pwws"]["p_value"] == pytest.approx(2 / 1024)


def test_architecture_picture_is_svg_with_every_edge() -> None:
    import xml.etree.ElementTree as ET

    from rosearch.report.architecture import genome_svg

    svg = genome_svg(CHAIN, title="trial #3")
    root = ET.fromstring(svg)  # well-formed
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "trial #3" in texts and "c[k-2]" in texts and "n2" in texts
    assert sorted(t for t in texts if t in {"conv3", "skip", "ffn", "zero", "attention"}) == sorted(op for n in CHAIN.nodes for op in n.ops)


def test_headline_lists_retrained_exports_with_their_stored_figures() -> None:
    """A student re-distilled by `export --retrain-epochs` is a row of its own (kind retrained) with the
    clean figures and evaluation-set results export stored, compared with the baselines like a trial."""
    import optuna

    from rosearch.report.headline import rows
    from rosearch.search.evaluations import key_for, record_retrained

    held = {"baseline": [True] * 3 + [False] * 7, "searched": [True] * 5 + [False] * 5, "retrained": [True] * 9 + [False]}

    def evaluation(h):
        return {"deepwordbug": {"accuracy_under_attack": sum(h) / len(h), "under_attack_ci": [0.0, 1.0], "n": len(h), "held": h}}

    study = optuna.create_study(directions=["maximize", "maximize"])
    for number, (name, params) in enumerate((("baseline", 3e6), ("searched", 1e6))):
        attrs = {"metrics": {"accuracy": 0.8, "attack_accuracy": 0.3, "params": params, "latency_ms": 1.0, "n_dev": 100}, "fitness": 1.0}
        if name == "baseline":
            attrs["baseline"] = "transformer-l"
        study.add_trial(optuna.trial.create_trial(values=[0.8, 0.3 + number], user_attrs=attrs))
    key = key_for(1, 3)
    study.set_user_attr("evaluations", {"0": evaluation(held["baseline"]), "1": evaluation(held["searched"]), key: evaluation(held["retrained"])})
    record_retrained(study, key, {"accuracy": 0.84, "accuracy_ci": [0.8, 0.88], "params": 1e6, "latency_ms": 1.1, "other": 1})
    table = {r.label: r for r in rows(study, recipes=["deepwordbug"])}
    retrained = table["#1 (+3 ep)"]
    assert retrained.kind == "retrained" and retrained.accuracy == 0.84 and retrained.accuracy_ci == [0.8, 0.88] and retrained.params == 1e6
    assert retrained.under_attack("deepwordbug") == 0.9
    # no baseline was re-distilled: compared with the baselines as the search trained them, and it says so
    assert retrained.versus["baseline"] == "#0 transformer-l" and retrained.versus["difference"] == pytest.approx(0.6)
    assert retrained.versus["budget"] == "search"
    assert table["#1"].kind == "searched" and table["#1"].versus["difference"] == pytest.approx(0.2)
    assert table["#1"].versus["budget"] == "same"

    # the baseline re-distilled with the same budget (`export --trial 0 --retrain-epochs 3`) is the one compared
    again = key_for(0, 3)
    study.set_user_attr("evaluations", {**study.user_attrs["evaluations"], again: evaluation([True] * 8 + [False] * 2)})
    record_retrained(study, again, {"accuracy": 0.83, "accuracy_ci": [0.79, 0.87], "params": 3e6,
                                    "latency": {"pytorch": {"1": 1.5, "32": 9.0}}})  # as export measures it
    table = {r.label: r for r in rows(study, recipes=["deepwordbug"])}
    baseline = table["#0 transformer-l (+3 ep)"]
    assert baseline.kind == "retrained baseline" and baseline.accuracy == 0.83 and baseline.versus is None and baseline.latency_ms == 1.5
    v = table["#1 (+3 ep)"].versus
    assert v["baseline"] == "#0 transformer-l (+3 ep)" and v["budget"] == "same" and v["difference"] == pytest.approx(0.1)
    assert table["#1"].versus["baseline"] == "#0 transformer-l"  # the search's own rows keep the search's baselines

    # re-distilled with another strategy: compared with baselines re-distilled with that strategy only
    other = key_for(1, 3, "augment")
    study.set_user_attr("evaluations", {**study.user_attrs["evaluations"], other: evaluation([True] * 10)})
    record_retrained(study, other, {"accuracy": 0.85, "accuracy_ci": [0.81, 0.89], "params": 1e6})
    v = {r.label: r for r in rows(study, recipes=["deepwordbug"])}["#1 (+3 ep, augment)"].versus
    assert v["baseline"] == "#0 transformer-l" and v["budget"] == "search"


def test_the_teacher_behind_the_stage_is_a_reference_row_after_the_teacher() -> None:
    import optuna

    from rosearch.report.headline import markdown_rows, rows
    from rosearch.search.evaluations import teacher_key

    study = optuna.create_study(directions=["maximize"])
    study.set_user_attr("teacher", {"dev_accuracy": 0.9, "params": 2e7})
    study.add_trial(optuna.trial.create_trial(values=[0.8], user_attrs={"metrics": {"accuracy": 0.8, "params": 1e6, "n_dev": 100}}))
    attacked = {"deepwordbug": {"accuracy_under_attack": 0.7, "under_attack_ci": [0.6, 0.8], "n": 10, "held": [True] * 7 + [False] * 3}}
    study.set_user_attr(f"evaluations:{teacher_key(['recognizer'])}", attacked)
    table = rows(study, recipes=["deepwordbug"])
    assert [(r.label, r.kind) for r in table[:2]] == [("teacher", "teacher"), ("teacher + recognizer", "teacher")]
    _, body = markdown_rows(table, ["deepwordbug"], 2e7)
    assert body[1][:5] == ["teacher + recognizer", "teacher", "20.00", "1.0×", "–"]  # no dev figure through the stage
    assert body[1][5] == "70.0% [60.0–80.0] (n=10)"


@pytest.mark.parametrize("key, name, shown", [
    ("teacher", None, "teacher"),
    ("teacher@recognizer", None, "teacher + recognizer"),
    ("ref:bert-4x256", None, "bert-4x256"),
    ("7", None, "#7"),
    ("7", "transformer-m", "#7 transformer-m"),
    ("7+3ep", None, "#7 (+3 ep)"),
    ("7+0.5ep", "transformer-m", "#7 transformer-m (+0.5 ep)"),
    ("7+3ep:augment", None, "#7 (+3 ep, augment)"),
])
def test_evaluation_keys_read_as_labels(key, name, shown) -> None:
    from rosearch.search.evaluations import display, is_reference, key_for, reference_key, retraining_of, trial_of

    assert display(key, name) == shown
    if key[0].isdigit():
        epochs, _, strategy = retraining_of(key).partition(":")
        assert key_for(int(trial_of(key)), float(epochs[:-2]) if epochs else 0, strategy or None) == key
        assert not is_reference(key) and trial_of(key) == "7"
    elif not key.startswith("teacher"):
        assert is_reference(key) and reference_key(shown) == key


def test_evaluations_are_one_attr_per_model_so_writers_of_different_models_never_collide(monkeypatch) -> None:
    """Recording a model writes that model's attr only, from what that model held: two processes
    that read the study before either wrote (the race of one shared attr, where the last writer
    drops the other's model) both keep their results; a model's recipes add up; an older study's
    single `evaluations` attr is still read and never rewritten."""
    import optuna

    from rosearch.search import evaluations

    storage = optuna.storages.InMemoryStorage()
    study = optuna.create_study(storage=storage, study_name="s")
    legacy = {"0": {"pruthi": {"n": 5}}, "1": {"pwws": {"n": 5}}}
    study.set_user_attr("evaluations", legacy)  # an older study
    before = evaluations.stored(study)
    real = evaluations.stored
    monkeypatch.setattr(evaluations, "stored", lambda _study: before)  # both writers read the study before either wrote
    evaluations.record(study, "2", {"deepwordbug": {"n": 10}})
    evaluations.record(study, "ref:bert-2x128", {"deepwordbug": {"n": 10}})
    evaluations.record(study, "0", {"deepwordbug": {"n": 10}})
    monkeypatch.setattr(evaluations, "stored", real)
    evaluations.record(study, "2", {"pruthi": {"n": 10}})
    assert study.user_attrs["evaluations"] == legacy
    assert sorted(study.user_attrs) == ["evaluations", "evaluations:0", "evaluations:2", "evaluations:ref:bert-2x128"]
    assert evaluations.stored(study) == {
        "0": {"pruthi": {"n": 5}, "deepwordbug": {"n": 10}},
        "1": {"pwws": {"n": 5}},
        "2": {"deepwordbug": {"n": 10}, "pruthi": {"n": 10}},
        "ref:bert-2x128": {"deepwordbug": {"n": 10}},
    }
    # re-distilled exports' clean figures likewise: one attr each, an older study's single attr read
    study.set_user_attr("retrained", {"0+3ep": {"accuracy": 0.8, "params": 1e6}})
    evaluations.record_retrained(study, "2+3ep", {"accuracy": 0.81, "params": 2e6, "latency": {"pytorch": {"1": 1.5}}, "other": 1})
    assert study.user_attrs["retrained:2+3ep"] == {"accuracy": 0.81, "params": 2e6, "latency_ms": 1.5}
    assert evaluations.retrained(study) == {"0+3ep": {"accuracy": 0.8, "params": 1e6}, "2+3ep": {"accuracy": 0.81, "params": 2e6, "latency_ms": 1.5}}


def test_pareto_figure_marks_baselines_with_bars_and_an_unattacked_teacher_as_a_line(tmp_path: Path, monkeypatch) -> None:
    from rosearch.report import figures

    drawn = {}
    monkeypatch.setattr(figures, "save_png", lambda fig, path: drawn.setdefault("fig", fig) and path)
    points = [{"trial": n, "accuracy": 0.78 + n / 100, "robustness": 0.1 * n, "params": 2e6 + n * 1e6, "feasible": True, "pareto": n > 0} for n in range(3)]
    marks = [{"label": "teacher", "accuracy": 0.865, "accuracy_ci": [0.843, 0.884], "params": 22.7e6, "robustness": math.nan, "robustness_ci": None},
             {"label": "#0 transformer-s", "accuracy": 0.799, "accuracy_ci": [0.774, 0.822], "params": 2.06e6, "robustness": 0.082,
              "robustness_ci": [0.061, 0.109]}]
    figures.pareto_png(points, tmp_path / "p.png", marks=marks)
    left, right = drawn["fig"].axes[:2]
    assert [line.get_xdata()[0] for line in left.lines if line.get_linestyle() == "--"] == [0.865]  # the teacher's clean accuracy
    assert left.get_xlim()[1] > 0.884 and "teacher (clean; not attacked)" in [t.get_text() for t in left.texts]
    assert "teacher" not in [t.get_text() for t in right.texts]  # no robustness figure: no mark against size
    assert "#0 transformer-s" in [t.get_text() for t in left.texts + right.texts]
