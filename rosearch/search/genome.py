"""The student genome and its exact mapping to Optuna define-by-run parameters.

A genome describes one cell (AdaBERT/DARTS style) that the student repeats `n_cells` times, each
repetition with its own weights. The cell's inputs are the outputs of the two previous cells
(state 0 = c_{k-2}, state 1 = c_{k-1}; both are the embeddings for the first cell). Node i takes
two of the states 0 … i+1 (the cell inputs and the nodes before it), applies one operation to each
and sums them; the cell's output is the mean of its nodes, added to c_{k-1} and layer-normalised.

Encoding (one Optuna parameter each):
    hidden_size, embedding_size, n_cells            always
    node{i}_in{j}   in 0 … i+1,  node{i}_op{j}     always (j = 0, 1)
    n_heads_h{hidden}                              only if an attention op is used; its choices are
                                                   the head counts dividing that hidden size, so an
                                                   impossible head count cannot be sampled
    ffn_multiplier                                 only if an ffn op is used
    input_stage, vocabulary                        each when the space offers more than one
The conditional parameters are the structure's own (RoSearch/AdaBERT give attention heads only to
attention operations); NSGA-II samples them at random when a parent lacks them.
"""

from __future__ import annotations

from typing import Any, Iterator

import optuna

from rosearch.config.schema import KDConfig, SpaceConfig, strategies
from rosearch.student.genome import Genome, Node
from rosearch.student.space import head_choices, validate

__all__ = ["Genome", "Node", "from_params", "head_choices", "heads_param", "random_genomes", "suggest", "suggest_strategy", "to_params", "trial_strategy", "validate"]


def heads_param(hidden_size: int) -> str:
    return f"n_heads_h{hidden_size}"


def suggest(trial: optuna.Trial, space: SpaceConfig) -> Genome:
    """Sample a genome through Optuna's define-by-run API."""
    hidden = trial.suggest_categorical("hidden_size", space.hidden_sizes)
    embedding = trial.suggest_categorical("embedding_size", space.embedding_sizes)
    n_cells = trial.suggest_categorical("n_cells", space.n_cells)
    nodes = []
    for i in range(space.n_nodes):
        inputs = tuple(trial.suggest_categorical(f"node{i}_in{j}", list(range(i + 2))) for j in range(2))
        ops = tuple(trial.suggest_categorical(f"node{i}_op{j}", space.ops) for j in range(2))
        nodes.append(Node(inputs, ops))  # type: ignore[arg-type]
    used = {op for node in nodes for op in node.ops}
    n_heads = trial.suggest_categorical(heads_param(hidden), head_choices(space, hidden)) if "attention" in used else None
    ffn = trial.suggest_categorical("ffn_multiplier", space.ffn_multipliers) if "ffn" in used else None
    stages = space.input_stages
    stage = trial.suggest_categorical("input_stage", stages) if len(stages) > 1 else stages[0]
    vocabularies = space.vocabularies
    vocabulary = trial.suggest_categorical("vocabulary", vocabularies) if len(vocabularies) > 1 else vocabularies[0]
    return Genome(hidden, embedding, n_cells, tuple(nodes), n_heads, ffn, stage, vocabulary)


def random_genomes(space: SpaceConfig, seed: int) -> Iterator[Genome]:
    """Genomes drawn uniformly from `space`, endlessly: Optuna's random sampler (seeded) on the
    search's own encoding, so they are distributed as NSGA-II's first generation draws them."""
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    while True:
        trial = study.ask()
        genome = suggest(trial, space)
        study.tell(trial, 0.0)
        yield genome


def to_params(genome: Genome, space: SpaceConfig) -> dict[str, Any]:
    """The Optuna parameters that `suggest` would have drawn for this genome in `space`."""
    params: dict[str, Any] = {
        "hidden_size": genome.hidden_size,
        "embedding_size": genome.embedding_size,
        "n_cells": genome.n_cells,
    }
    for i, node in enumerate(genome.nodes):
        for j in range(2):
            params[f"node{i}_in{j}"] = node.inputs[j]
            params[f"node{i}_op{j}"] = node.ops[j]
    if genome.n_heads is not None:
        params[heads_param(genome.hidden_size)] = genome.n_heads
    if genome.ffn_multiplier is not None:
        params["ffn_multiplier"] = genome.ffn_multiplier
    if len(space.input_stages) > 1:
        params["input_stage"] = genome.input_stage
    if len(space.vocabularies) > 1:
        params["vocabulary"] = genome.vocabulary
    return params


def from_params(params: dict[str, Any], space: SpaceConfig) -> Genome:
    """Rebuild a genome from a trial's parameters (replays `suggest` on a FixedTrial)."""
    return suggest(optuna.trial.FixedTrial(params), space)


def suggest_strategy(trial: optuna.Trial, kd: KDConfig) -> str:
    """The trial's distillation strategy: fixed when the study names one, else a categorical
    parameter `kd_strategy` the sampler searches together with the architecture."""
    names = strategies(kd)
    return names[0] if len(names) == 1 else trial.suggest_categorical("kd_strategy", names)


def trial_strategy(trial: optuna.trial.FrozenTrial, kd: KDConfig) -> str:
    """The strategy a finished trial used (to rebuild its student)."""
    from rosearch.search import record

    return record.strategy(trial, strategies(kd)[0])
