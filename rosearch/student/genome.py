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

    @property
    def ops_used(self) -> set[str]:
        return {op for node in self.nodes for op in node.ops}

    @property
    def ffn_size(self) -> int | None:
        return None if self.ffn_multiplier is None else self.ffn_multiplier * self.hidden_size

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["nodes"] = [{"inputs": list(n.inputs), "ops": list(n.ops)} for n in self.nodes]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Genome:
        nodes = tuple(Node(tuple(n["inputs"]), tuple(n["ops"])) for n in data["nodes"])  # type: ignore[arg-type]
        return cls(
            hidden_size=int(data["hidden_size"]),
            embedding_size=int(data["embedding_size"]),
            n_cells=int(data["n_cells"]),
            nodes=nodes,
            n_heads=data.get("n_heads"),
            ffn_multiplier=data.get("ffn_multiplier"),
            input_stage=data.get("input_stage", "none"),
        )

    def describe_sizes(self) -> str:
        """The global genes in words, e.g. "2 cell(s) × hidden 64, embeddings 32 (2 heads)"."""
        extra = []
        if self.n_heads is not None:
            extra.append(f"{self.n_heads} head" + ("s" if self.n_heads != 1 else ""))
        if self.ffn_size is not None:
            extra.append(f"ffn {self.ffn_size}")
        if self.input_stage != "none":
            extra.append("word recognition" if self.input_stage == "recognizer" else self.input_stage)
        head = f"{self.n_cells} cell(s) × hidden {self.hidden_size}, embeddings {self.embedding_size}"
        return head + (f" ({', '.join(extra)})" if extra else "")

    def describe_nodes(self) -> list[str]:
        """One line per node, e.g. "n0 = conv3(c[k-1]) + skip(c[k-2])"."""
        return [f"n{i} = " + " + ".join(f"{op}({_state_name(s)})" for s, op in zip(node.inputs, node.ops))
                for i, node in enumerate(self.nodes)]

    def describe(self) -> str:
        """The architecture in words, e.g. for logs and model cards."""
        return self.describe_sizes() + "; cell: " + "; ".join(self.describe_nodes())


def _state_name(state: int) -> str:
    return {0: "c[k-2]", 1: "c[k-1]"}.get(state, f"n{state - 2}")
