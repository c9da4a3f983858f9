"""How much of the objective space a set of students covers: the hypervolume of their front, and a
paired bootstrap over examples for it and for the difference of two fronts.

The space is the search's three objectives — clean accuracy, accuracy under attack (both up) and
size as a share of the teacher's parameters (down) — and the reference point, stated once here, is
the worst student worth counting: chance-level clean accuracy (0.5 for two labels: 1 / labels),
nothing held under attack, and the teacher's size. A front's hypervolume is then in units of
"accuracy above chance × robustness × size saved"; a single perfect, free student would score
(1 − chance). Optuna computes the volume (its WFG algorithm, the one behind its hypervolume
history plot); what Optuna does not do, and is written here, is the bootstrap: both figures are
proportions over examples, so a front's hypervolume has sampling noise that a comparison must show.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from optuna._hypervolume import compute_hypervolume


@dataclass(frozen=True)
class Outcomes:
    """One student as the bootstrap sees it: its size and each example's outcome."""

    params: float
    clean: np.ndarray  # [n_clean] bool: right on each clean example (the same examples for every student)
    held: np.ndarray  # [n_attacked] bool: still right after each attack (likewise)


def reference(num_labels: int) -> np.ndarray:
    """The reference point in loss space (every objective minimised): −chance, 0 held, size 1."""
    return np.array([-1.0 / num_labels, 0.0, 1.0])


def losses(points: Sequence[tuple[float, float, float]], teacher_params: float) -> np.ndarray:
    """(accuracy, attack accuracy, params) → minimised coordinates (−acc, −adv, params / teacher's)."""
    arr = np.asarray(points, dtype=float).reshape(-1, 3)
    return np.stack([-arr[:, 0], -arr[:, 1], arr[:, 2] / teacher_params], axis=1)


def hypervolume(points: Sequence[tuple[float, float, float]], *, teacher_params: float, num_labels: int) -> float:
    """The volume the points dominate up to the reference point (points not better than it in
    every objective add nothing)."""
    if not len(points):
        return 0.0
    loss, ref = losses(points, teacher_params), reference(num_labels)
    inside = loss[(loss < ref).all(axis=1)]
    return float(compute_hypervolume(inside, ref)) if len(inside) else 0.0


@dataclass(frozen=True)
class Comparison:
    """Two fronts' hypervolumes on the same examples, each with its bootstrap interval, and their
    difference (a − b) with its own."""

    a: float
    b: float
    a_ci: tuple[float, float]
    b_ci: tuple[float, float]
    difference_ci: tuple[float, float]
    resamples: int

    @property
    def difference(self) -> float:
        return self.a - self.b

    def to_dict(self) -> dict[str, float | list[float] | int]:
        return {"a": self.a, "b": self.b, "difference": self.difference, "a_ci": list(self.a_ci), "b_ci": list(self.b_ci),
                "difference_ci": list(self.difference_ci), "resamples": self.resamples}


def compare(a: Sequence[Outcomes], b: Sequence[Outcomes], *, teacher_params: float, num_labels: int, resamples: int = 2000,
            seed: int = 0, confidence: float = 0.95) -> Comparison:
    """Hypervolumes of fronts `a` and `b` with a paired percentile bootstrap: each resample draws
    the clean examples and the attacked examples with replacement, once for every point of both
    fronts (the students were measured on the same examples), and recomputes every figure."""
    points = [*a, *b]
    clean = np.stack([np.asarray(p.clean, dtype=float) for p in points])  # [P, n_clean]
    held = np.stack([np.asarray(p.held, dtype=float) for p in points])  # [P, n_attacked]
    params = np.array([p.params for p in points])
    rng = np.random.default_rng(seed)

    def volumes(acc: np.ndarray, adv: np.ndarray) -> tuple[float, float]:
        figures = list(zip(acc, adv, params))
        return (hypervolume(figures[:len(a)], teacher_params=teacher_params, num_labels=num_labels),
                hypervolume(figures[len(a):], teacher_params=teacher_params, num_labels=num_labels))

    va, vb = volumes(clean.mean(1), held.mean(1))
    draws = np.empty((resamples, 2))
    for i in range(resamples):
        c = rng.integers(0, clean.shape[1], clean.shape[1])
        h = rng.integers(0, held.shape[1], held.shape[1])
        draws[i] = volumes(clean[:, c].mean(1), held[:, h].mean(1))
    tail = 100 * (1 - confidence) / 2

    def interval(x: np.ndarray) -> tuple[float, float]:
        low, high = np.percentile(x, [tail, 100 - tail])
        return float(low), float(high)

    return Comparison(va, vb, interval(draws[:, 0]), interval(draws[:, 1]), interval(draws[:, 0] - draws[:, 1]), resamples)
