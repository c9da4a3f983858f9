"""The student genome: the architecture record every trial stores and every student is built from.

Pure data (no Optuna, no torch): it is copied next to exported students so that
`AutoModelForSequenceClassification.from_pretrained(dir, trust_remote_code=True)` can rebuild them
without rosearch installed. The mapping to Optuna parameters is in rosearch/search/genome.py.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Node:
    """One intermediate node: two (input state, operation) pairs, summed."""

    inputs: tuple[int, int]
    ops: tuple[str, str]


@dataclass(frozen=True)
class Genome:
    """Everything needed to build a student; the canonical record stored with every trial."""

    hidden_size: int
    embedding_size: int
    n_cells: int
    nodes: tuple[Node, ...]
    n_heads: int | None = None  # set iff an attention op is used
    ffn_multiplier: int | None = None  # set iff an ffn op is used
    input_stage: str = "none"  # "recognizer": a word-recognition stage runs on the text first
    vocabulary: str = "full"  # which word pieces get an embedding row (rosearch.student.vocab): full, seen:K, top:N

    @property
    def ops_used(self) -> set[str]:
        return {op for node in self.nodes for op in node.ops}

    @property
    def ffn_size(self) -> int | None:
        return None if self.ffn_multiplier is None else self.ffn_multiplier * self.hidden_size

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["nodes"] = [{"inputs": list(n.inputs), "ops": list(n.ops)} for n in self.nodes]
        if self.vocabulary == "full":
            del data["vocabulary"]  # the default, left out: genomes stored before the gene existed read the same
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Genome:
        """The genome a mapping describes; ValueError/TypeError naming the first field that is not
        exactly what `to_dict` writes (a float width, a string, a node with one or three inputs
        would otherwise be silently truncated or fail deep inside training)."""
        if not isinstance(data, dict):
            raise TypeError(f"a genome is a mapping, got {type(data).__name__}")
        unknown = sorted(set(data) - _FIELDS)
        if unknown:
            raise ValueError(f"unknown genome key(s) {', '.join(map(str, unknown))}; known: {', '.join(sorted(_FIELDS))}")
        for name in ("hidden_size", "embedding_size", "n_cells", "nodes"):
            if name not in data:
                raise KeyError(name)
        raw_nodes = data["nodes"]
        if not isinstance(raw_nodes, (list, tuple)) or not raw_nodes:
            raise ValueError("nodes must be a non-empty list of {inputs: [a, b], ops: [op, op]}")
        nodes = []
        for i, n in enumerate(raw_nodes):
            if not isinstance(n, dict) or set(n) != {"inputs", "ops"}:
                raise ValueError(f"nodes[{i}] must be a mapping with exactly inputs and ops")
            for part in ("inputs", "ops"):
                if not isinstance(n[part], (list, tuple)) or len(n[part]) != 2:
                    raise ValueError(f"nodes[{i}].{part} must list exactly 2 entries, got {n[part]!r}"[:300])
            inputs = tuple(_whole(v, f"nodes[{i}].inputs", low=0) for v in n["inputs"])
            ops = tuple(_text(v, f"nodes[{i}].ops") for v in n["ops"])
            nodes.append(Node(inputs, ops))  # type: ignore[arg-type]
        return cls(
            hidden_size=_whole(data["hidden_size"], "hidden_size"),
            embedding_size=_whole(data["embedding_size"], "embedding_size"),
            n_cells=_whole(data["n_cells"], "n_cells"),
            nodes=tuple(nodes),
            n_heads=None if data.get("n_heads") is None else _whole(data["n_heads"], "n_heads"),
            ffn_multiplier=None if data.get("ffn_multiplier") is None else _whole(data["ffn_multiplier"], "ffn_multiplier"),
            input_stage=_text(data.get("input_stage", "none"), "input_stage"),
            vocabulary=_text(data.get("vocabulary", "full"), "vocabulary"),
        )

    def describe_sizes(self) -> str:
        """The global genes in words, e.g. "2 cell(s) × hidden 64, embeddings 32 (2 heads)"."""
        extra = []
        if self.n_heads is not None:
            extra.append(f"{self.n_heads} head" + ("s" if self.n_heads != 1 else ""))
        if self.ffn_size is not None:
            extra.append(f"ffn {self.ffn_size}")
        if self.input_stage != "none":
            names = {"recognizer": "word recognition", "normalizer": "text normalisation", "fgws": "frequency-guided synonyms"}
            extra.append(" + ".join(names.get(s, s) for s in self.input_stage.split("+")))
        if self.vocabulary != "full":
            extra.append(f"vocabulary {self.vocabulary}")
        head = f"{self.n_cells} cell(s) × hidden {self.hidden_size}, embeddings {self.embedding_size}"
        return head + (f" ({', '.join(extra)})" if extra else "")

    def describe_nodes(self) -> list[str]:
        """One line per node, e.g. "n0 = conv3(c[k-1]) + skip(c[k-2])"."""
        return [f"n{i} = " + " + ".join(f"{op}({_state_name(s)})" for s, op in zip(node.inputs, node.ops))
                for i, node in enumerate(self.nodes)]

    def describe(self) -> str:
        """The architecture in words, e.g. for logs and model cards."""
        return self.describe_sizes() + "; cell: " + "; ".join(self.describe_nodes())


_FIELDS = {"hidden_size", "embedding_size", "n_cells", "nodes", "n_heads", "ffn_multiplier", "input_stage", "vocabulary"}


def _whole(value: Any, name: str, *, low: int = 1) -> int:
    """An integer as YAML/JSON writes one: not a bool, a float or a string of digits."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be a whole number, got {value!r}"[:300])
    if value < low:
        raise ValueError(f"{name} must be at least {low}, got {value}")
    return value


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a name (a string), got {value!r}"[:300])
    return value


def _state_name(state: int) -> str:
    return {0: "c[k-2]", 1: "c[k-1]"}.get(state, f"n{state - 2}")
