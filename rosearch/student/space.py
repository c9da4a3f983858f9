"""Whether a genome lies in a search space: the space's own rules, next to the genome.

Pure (no Optuna, no config import): `space` is anything with the search space's choice lists, the
`space` section of a study (rosearch.config.space.SpaceConfig) in practice. The study loader checks
baseline genomes with it; the Optuna encoding (rosearch.search.genome) offers only what it accepts.
"""

from __future__ import annotations

from typing import Protocol

from rosearch.student.genome import Genome


class Space(Protocol):
    """What validation reads of a search space."""

    hidden_sizes: list[int]
    embedding_sizes: list[int]
    n_cells: list[int]
    n_nodes: int
    heads: list[int]
    ffn_multipliers: list[int]
    ops: list[str]
    input_stages: list[str]
    vocabularies: list[str]


def head_choices(space: Space, hidden_size: int) -> list[int]:
    return [h for h in space.heads if hidden_size % h == 0]


def validate(genome: Genome, space: Space) -> list[str]:
    """Reasons this genome is outside `space` (empty when it is inside)."""
    problems = []
    for name, value, choices in (
        ("hidden_size", genome.hidden_size, space.hidden_sizes),
        ("embedding_size", genome.embedding_size, space.embedding_sizes),
        ("n_cells", genome.n_cells, space.n_cells),
    ):
        if value not in choices:
            problems.append(f"{name}={value} not in {choices}")
    if len(genome.nodes) != space.n_nodes:
        problems.append(f"{len(genome.nodes)} nodes, the space has {space.n_nodes}")
    for i, node in enumerate(genome.nodes):
        for s, op in zip(node.inputs, node.ops):
            if not 0 <= s < i + 2:
                problems.append(f"node {i} reads state {s}, only 0..{i + 1} exist")
            if op not in space.ops:
                problems.append(f"node {i} op {op!r} not in the space")
    if ("attention" in genome.ops_used) != (genome.n_heads is not None):
        problems.append("n_heads must be set exactly when attention is used")
    elif genome.n_heads is not None and genome.n_heads not in head_choices(space, genome.hidden_size):
        problems.append(f"n_heads={genome.n_heads} does not divide hidden_size={genome.hidden_size} or is not offered")
    if ("ffn" in genome.ops_used) != (genome.ffn_multiplier is not None):
        problems.append("ffn_multiplier must be set exactly when ffn is used")
    elif genome.ffn_multiplier is not None and genome.ffn_multiplier not in space.ffn_multipliers:
        problems.append(f"ffn_multiplier={genome.ffn_multiplier} not in {space.ffn_multipliers}")
    if genome.input_stage not in space.input_stages:
        problems.append(f"input_stage={genome.input_stage!r} not in {space.input_stages}")
    if genome.vocabulary not in space.vocabularies:
        problems.append(f"vocabulary={genome.vocabulary!r} not in {space.vocabularies}")
    return problems


