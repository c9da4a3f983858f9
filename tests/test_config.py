from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from rosearch.config import StudyConfig, accepted_hashes, config_hash, load_study, project_root, to_dict
from rosearch.config._build import build
from rosearch.errors import ConfigError

ROOT = project_root()


@pytest.mark.parametrize("path", sorted((ROOT / "studies").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_study_loads(path: Path) -> None:
    cfg = load_study(str(path))
    assert cfg.name == path.stem
    assert cfg.search.objectives


@pytest.mark.parametrize("path", sorted((ROOT / "configs").rglob("*.yaml")), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_config_piece_builds(path: Path) -> None:
    section = {"spaces": "space", "attacks": "attack", "kd": "kd", "baselines": "baselines"}[path.parent.name]
    raw = {section: yaml.safe_load(path.read_text())}
    if section == "baselines":  # a baseline genome must lie in the space of the same name
        raw["space"] = yaml.safe_load((ROOT / "configs" / "spaces" / f"{path.stem}.yaml").read_text())
    cfg = build(StudyConfig, raw, "")
    assert getattr(cfg, section) is not None


# (yaml mapping, key the message must name, a word the fix must contain)
BAD = [
    ({"data": {"source": "parquet"}}, "data.source", "embedded"),
    ({"data": {"max_length": 2}}, "data.max_length", "between"),
    ({"data": {"dev_fraction": 1.5}}, "data.dev_fraction", "[0, 1)"),
    ({"data": {"source": "csv"}}, "data.files", "train"),
    ({"data": {"txt_column": "x"}}, "data.txt_column", "text_column"),
    ({"teacher": {"init": "scratch", "finetune": None}}, "teacher.finetune", "finetune"),
    ({"teacher": {"scratch": {"hidden_size": 30, "num_heads": 4}}}, "teacher.scratch.num_heads", "divide"),
    ({"space": {"ops": ["attention", "lstm"]}}, "space.ops[1]", "conv3"),
    ({"space": {"hidden_sizes": [63], "heads": [2, 4]}}, "space.hidden_sizes", "divides"),
    ({"space": {"n_cells": []}}, "space.n_cells", "at least one"),
    ({"space": {"n_nodes": 0}}, "space.n_nodes", "1 to 8"),
    ({"kd": {"alpha": 1.5}}, "kd.alpha", "[0, 1]"),
    ({"kd": {"lr": "fast"}}, "kd.lr", "number"),
    ({"kd": {"mixed_precision": "fp8"}}, "kd.mixed_precision", "bf16"),
    ({"attack": {"recipe": "hotflip"}}, "attack.recipe", "deepwordbug"),
    ({"attack": {"n_examples": 0}}, "attack.n_examples", "greater than 0"),
    ({"attack": {"recipe": {"name": "deepwordbug", "max_candidates": 5}}}, "attack.recipe.max_candidates", "textfooler"),
    ({"attack": {"recipe": {"name": "pwws", "max_word_share": 0}}}, "attack.recipe.max_word_share", "(0, 1]"),
    ({"attack": {"evaluation": ["pruthi", {"name": "nope"}]}}, "attack.evaluation[1].name", "pwws"),
    ({"attack": {"recipe": "pruthi", "evaluation": ["pruthi"]}}, "attack.evaluation", "once"),
    ({"search": {"sampler": "cmaes"}}, "search.sampler", "nsga2"),
    ({"search": {"objectives": [{"metric": "bleu", "direction": "maximize"}]}}, "search.objectives[0].metric", "accuracy"),
    ({"search": {"objectives": [{"metric": "accuracy", "direction": "up"}]}}, "search.objectives[0].direction", "maximize"),
    ({"search": {"population_size": 1}}, "search.population_size", "2 or more"),
    ({"fitness": {"size": -1}}, "fitness.size", "0 or more"),
    ({"name": "my study!"}, "name", "letters"),
    ({"seed": 1.5}, "seed", "integer"),
    ({"search": {"max_latency_ms": 0}}, "search.max_latency_ms", "greater than 0"),
    ({"latency": {"batch_sizes": []}}, "latency.batch_sizes", "at least one"),
    ({"latency": {"repeats": 0}}, "latency.repeats", "greater than 0"),
    ({"kd": {"epochs": float("nan")}}, "kd.epochs", "finite"),
    ({"space": {"dropout": float("inf")}}, "space.dropout", "finite"),
    ({"fitness": {"size": float("nan")}}, "fitness.size", "finite"),
    ({"name": ".."}, "name", "Start with a letter"),
    ({"attack": {"eval_examples": 0}}, "attack.eval_examples", "greater than 0"),
    ({"baselines": [{"name": "x"}]}, "baselines[0].genome", "exactly one"),
    ({"baselines": [{"name": "a", "bert": {}}, {"name": "a", "bert": {}}]}, "baselines", "its own name"),
    ({"baselines": [{"name": "b", "bert": {"hidden_size": 30, "num_heads": 4}}]}, "baselines[0].bert.num_heads", "divide"),
    ({"baselines": [{"name": "g", "genome": {"hidden_size": 64}}]}, "baselines[0].genome", "Not a genome"),
    ({"baselines": [{"name": "g", "genome": {"hidden_size": 99, "embedding_size": 64, "n_cells": 1,
                                              "nodes": [{"inputs": [0, 1], "ops": ["skip", "skip"]}] * 3}}]}, "baselines[0].genome", "hidden_size=99"),
    ({"latency": {"seq_len": 4096}}, "latency.seq_len", "data.max_length"),
    ({"kd": {"a2t": {"every": 0}}}, "kd.a2t.every", "greater than 0"),
    ({"kd": {"a2t": {"start": -1}}}, "kd.a2t.start", "≥ 0"),
    ({"kd": {"a2t": {"kinds": ["swap", "homoglyph"]}}}, "kd.a2t.kinds[1]", "keyboard"),
    ({"kd": {"strategy": ["vanilla", "a2t2"]}}, "kd.strategy", "a2t"),
]


@pytest.mark.parametrize("raw, key, fix", BAD, ids=[b[1] for b in BAD])
def test_bad_config_names_key_value_and_fix(raw: dict, key: str, fix: str) -> None:
    with pytest.raises(ConfigError) as info:
        build(StudyConfig, raw, "")
    assert info.value.key == key
    assert fix in str(info.value)
    assert "got" in str(info.value)


def test_yaml_scientific_notation_is_a_number() -> None:
    cfg = build(StudyConfig, {"kd": {"lr": "5e-5"}}, "")
    assert cfg.kd.lr == pytest.approx(5e-5)


def test_hash_ignores_run_settings_but_not_results_settings() -> None:
    base = build(StudyConfig, {}, "")
    assert config_hash(base) == config_hash(build(StudyConfig, {"search": {"n_trials": 99}, "runs_dir": "elsewhere"}, ""))
    assert config_hash(base) != config_hash(build(StudyConfig, {"kd": {"lr": 0.01}}, ""))


def test_config_round_trips_through_dict() -> None:
    cfg = load_study("demo")
    assert build(StudyConfig, to_dict(cfg), "") == cfg


def test_unknown_study_lists_known_ones() -> None:
    with pytest.raises(ConfigError, match="demo"):
        load_study("no-such-study")


def test_piece_path_is_resolved_from_study_file(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text("space: configs/spaces/tiny.yaml\n")
    assert load_study(str(tmp_path / "s.yaml")).space.hidden_sizes == [16, 32]
    (tmp_path / "t.yaml").write_text("space: configs/spaces/nope.yaml\n")
    with pytest.raises(ConfigError, match="space"):
        load_study(str(tmp_path / "t.yaml"))


@pytest.mark.parametrize("study, stored, stop23", [("demo", "44352fd4a552e5db", "9b9a7da2d9b774c1"), ("tiny", "d0ebfb0e764a7180", "9efc9a4aa3e9e65d")])
def test_new_settings_at_their_defaults_keep_stored_studies_resumable(study, stored, stop23) -> None:
    """`stored`: the hash of studies made before the vocabulary gene (commit 55c5fe1, computed by
    checking that commit out); a setting added since, at its default, must not change it, or
    `optimize` would refuse to resume them. `stop23`: the hash the code of 4f8c3cc–f195732 stored
    (it hashed the vocabulary settings at their defaults), still accepted. (Change the constants
    only when the study file itself changes: the demo's were recomputed on 2026-12-03, when its space
    gained the normaliser and synonym stage genes, again when it gained the vocabulary gene, when
    it gained the vote and the embedding-swap evaluation recipe, and when it became a
    multi-fidelity search on a sandwich-rule supernet.)"""
    cfg = load_study(study)
    assert config_hash(cfg) == stored
    assert accepted_hashes(cfg) == {stored, stop23}
    for dotted, value in (("space.vocabularies", ["full", "seen:3"]), ("search.fidelity", {"cheap_epochs": 0.25}), ("space.fgws_min_count", 8)):
        assert config_hash(load_study(study, overrides={dotted: value})) not in {stored, stop23}


@pytest.mark.parametrize("study, draw, expected", [
    ("demo", "text", "44352fd4a552e5db"),  # the default: the demo's hash without the setting
    ("demo", "word", "f9a42aa7e3bcf159"),  # the other draw: another study
    ("tiny", "word", "d0ebfb0e764a7180"),  # no vote in the space: the draw changes no trial, so no hash
    ("tiny", "text", "d0ebfb0e764a7180"),
])
def test_the_vote_draw_is_hashed_only_where_a_vote_is_searched_and_not_at_its_default(study, draw, expected) -> None:
    assert config_hash(load_study(study, overrides={"space.vote_draw": draw})) == expected
