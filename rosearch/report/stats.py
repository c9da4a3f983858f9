"""Architecture ↔ robustness statistics, as RoSearch reports them: which operations, cell shapes,
depths and widths go with robust students. Pure functions over (genome, robustness) pairs."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any, Collection

from scipy.stats import spearmanr

from rosearch.student.genome import Genome


def cell_depth(genome: Genome) -> int:
    """Longest chain of operations from a cell input to a node (1 when every node reads only the
    cell inputs)."""
    depth: list[int] = [0, 0]
    for node in genome.nodes:
        depth.append(1 + max(depth[s] for s in node.inputs))
    return max(depth[2:])


def cell_width(genome: Genome) -> int:
    """Nodes no other node reads: parallel branches that only meet in the cell's output mean."""
    read = {s for node in genome.nodes for s in node.inputs}
    return sum(1 for i in range(len(genome.nodes)) if i + 2 not in read)


def features(genome: Genome) -> dict[str, float]:
    """Numeric shape features of one student."""
    ops = [op for node in genome.nodes for op in node.ops]
    return {
        "n_cells (stack depth)": genome.n_cells,
        "hidden_size (width)": genome.hidden_size,
        "embedding_size": genome.embedding_size,
        "cell depth (longest op chain)": cell_depth(genome),
        "cell width (parallel branches)": cell_width(genome),
        "parametric ops per cell": sum(op not in ("skip", "zero", "maxpool3", "avgpool3") for op in ops),
        "attention ops per cell": ops.count("attention"),
    }


@dataclass
class Quarters:
    top: list[int]  # indices of the most robust quarter
    bottom: list[int]  # … and of the least robust quarter


def quarters(robustness: list[float]) -> Quarters:
    """The most and least robust quarter (ceil(n/4) students each, ties broken by order)."""
    k = max(1, math.ceil(len(robustness) / 4))
    order = sorted(range(len(robustness)), key=lambda i: (-robustness[i], i))
    return Quarters(top=order[:k], bottom=order[-k:])


def op_frequencies(genomes: list[Genome], q: Quarters) -> list[dict[str, Any]]:
    """Per operation: how often it fills an operation slot in the top vs bottom quarter."""
    def count(idx: list[int]) -> tuple[Counter, int]:
        c = Counter(op for i in idx for node in genomes[i].nodes for op in node.ops)
        return c, sum(2 * len(genomes[i].nodes) for i in idx)

    top, n_top = count(q.top)
    bottom, n_bottom = count(q.bottom)
    rows = [
        {"op": op, "top": top[op], "top_share": top[op] / n_top, "bottom": bottom[op], "bottom_share": bottom[op] / n_bottom}
        for op in sorted(set(top) | set(bottom))
    ]
    return sorted(rows, key=lambda r: -(r["top_share"] - r["bottom_share"]))


def feature_table(genomes: list[Genome], robustness: list[float], q: Quarters) -> list[dict[str, Any]]:
    """Per shape feature: mean in the top and bottom quarter, and Spearman's ρ with robustness
    over all students (nan when the feature or robustness is constant)."""
    rows = []
    table = [features(g) for g in genomes]
    for name in table[0] if table else []:
        values = [f[name] for f in table]
        rho = p = float("nan")
        if len(set(values)) > 1 and len(set(robustness)) > 1:
            result = spearmanr(values, robustness)
            rho, p = float(result.statistic), float(result.pvalue)
        rows.append({
            "feature": name,
            "top_mean": sum(values[i] for i in q.top) / len(q.top),
            "bottom_mean": sum(values[i] for i in q.bottom) / len(q.bottom),
            "spearman": rho,
            "spearman_p": p,
        })
    return rows


def category_counts(labels: list[str], q: Quarters, front: Collection[int] = ()) -> list[dict[str, Any]]:
    """A categorical choice (a lever: the KD strategy, the stage gene, the vocabulary): counts on the
    Pareto front (`front`: indices into `labels`), in the top and bottom quarter, and in all."""
    return [
        {"value": v, "front": sum(labels[i] == v for i in front), "top": sum(labels[i] == v for i in q.top),
         "bottom": sum(labels[i] == v for i in q.bottom), "all": labels.count(v)}
        for v in sorted(set(labels))
    ]
