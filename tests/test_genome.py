from __future__ import annotations

import optuna
import pytest

from rosearch.config import SpaceConfig
from rosearch.search.genome import Genome, Node, from_params, heads_param, suggest, to_params, validate

SPACES = {
    "default": SpaceConfig(),
    "odd-hidden": SpaceConfig(hidden_sizes=[48, 96, 100], heads=[1, 2, 3, 4, 8]),
    "no-attention": SpaceConfig(ops=["conv3", "skip", "ffn"]),
    "one-node": SpaceConfig(n_nodes=1, n_cells=[1]),
    "input-stage-gene": SpaceConfig(input_stages=["none", "recognizer"]),
}


def _sampled(space: SpaceConfig, n: int = 60, seed: int = 0) -> list[tuple[optuna.trial.FrozenTrial, Genome]]:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    out = []
    for _ in range(n):
        trial = study.ask()
        genome = suggest(trial, space)
        study.tell(trial, 0.0)
        out.append((study.trials[-1], genome))
    return out


@pytest.mark.parametrize("name", SPACES)
def test_genome_params_genome_round_trip(name: str) -> None:
    space = SPACES[name]
    for frozen, genome in _sampled(space):
        assert frozen.params == to_params(genome, space)
        assert from_params(frozen.params, space) == genome
        assert Genome.from_dict(genome.to_dict()) == genome
        assert validate(genome, space) == []


@pytest.mark.parametrize("name", SPACES)
def test_impossible_head_counts_are_never_sampled(name: str) -> None:
    for _, genome in _sampled(SPACES[name], n=100):
        if genome.n_heads is not None:
            assert genome.hidden_size % genome.n_heads == 0


def test_conditional_parameters_follow_the_structure() -> None:
    for frozen, genome in _sampled(SPACES["default"], n=100):
        assert (heads_param(genome.hidden_size) in frozen.params) == ("attention" in genome.ops_used)
        assert ("ffn_multiplier" in frozen.params) == ("ffn" in genome.ops_used)
        for i, node in enumerate(genome.nodes):
            assert all(0 <= s < i + 2 for s in node.inputs)


@pytest.mark.parametrize(
    "genome, problem",
    [
        (Genome(64, 64, 1, (Node((0, 1), ("attention", "skip")),) * 3, n_heads=3), "divide"),
        (Genome(64, 64, 1, (Node((0, 5), ("skip", "skip")),) * 3), "reads state 5"),
        (Genome(64, 64, 1, (Node((0, 1), ("skip", "skip")),) * 3, n_heads=2), "exactly when attention"),
        (Genome(64, 64, 1, (Node((0, 1), ("ffn", "skip")),) * 3), "exactly when ffn"),
        (Genome(65, 64, 1, (Node((0, 1), ("skip", "skip")),) * 3), "hidden_size=65"),
        (Genome(64, 64, 1, (Node((0, 1), ("skip", "skip")),) * 2), "2 nodes"),
    ],
)
def test_validate_names_what_is_wrong(genome: Genome, problem: str) -> None:
    assert any(problem in p for p in validate(genome, SpaceConfig()))


def test_nsga2_runs_on_the_encoding() -> None:
    """NSGA-II evolves genomes of the space (crossover and mutation never leave it) and its front is
    exactly the trials no other trial dominates (maximise hidden size, minimise cells)."""
    space = SpaceConfig()
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=optuna.samplers.NSGAIISampler(population_size=4, seed=0))
    genomes: dict[int, Genome] = {}

    def objective(trial: optuna.Trial) -> tuple[int, int]:
        genome = suggest(trial, space)
        genomes[trial.number] = genome
        return genome.hidden_size, genome.n_cells

    study.optimize(objective, n_trials=16)
    assert all(validate(g, space) == [] for g in genomes.values())
    trials = study.trials

    def dominated(t: optuna.trial.FrozenTrial) -> bool:
        return any(u.values[0] >= t.values[0] and u.values[1] <= t.values[1] and u.values != t.values for u in trials)

    assert {t.number for t in study.best_trials} == {t.number for t in trials if not dominated(t)}
    assert any(t.values[1] != 1 or t.values[0] != 256 for t in trials if dominated(t))  # the front is a strict subset
