"""Calibration: is a student's confidence its accuracy? Expected calibration error and the
temperature that calibrates it (Guo et al., 2017), over logits and labels. Pure functions.

Why it sits beside robustness: a score-based attack (DeepWordBug, PWWS) ranks its edits by how much
each lowers the true class's probability; an over-confident model's probabilities saturate, the
edits look alike, and the attack fails for want of a signal, not because the model is robust
(Raina et al., 2024). So every attacked student also gets its ECE on dev, and its accuracy under
attack again after dividing its logits by the temperature fitted on dev (which changes no
prediction). ECE is not in scikit-learn or scipy; the binning is the standard equal-width one.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax


def expected_calibration_error(logits: np.ndarray, labels: np.ndarray, *, bins: int = 15) -> float:
    """ECE: over `bins` equal-width bins of top-class confidence, the mean |accuracy − confidence|
    weighted by the share of examples in each bin (0 for no examples)."""
    logits, labels = np.asarray(logits, dtype=np.float64), np.asarray(labels)
    if len(labels) == 0:
        return 0.0
    probs = softmax(logits, axis=-1)
    confidence, predicted = probs.max(-1), probs.argmax(-1)
    right = (predicted == labels).astype(np.float64)
    # bin b holds confidences in (b/bins, (b+1)/bins]; a confidence of exactly 0 is impossible (≥ 1/K)
    index = np.clip(np.ceil(confidence * bins).astype(int) - 1, 0, bins - 1)
    total = 0.0
    for b in range(bins):
        inside = index == b
        if inside.any():
            total += inside.mean() * abs(right[inside].mean() - confidence[inside].mean())
    return float(total)


def nll(logits: np.ndarray, labels: np.ndarray, temperature: float = 1.0) -> float:
    """Mean negative log-likelihood of `labels` under softmax(logits / temperature)."""
    logp = log_softmax(np.asarray(logits, dtype=np.float64) / temperature, axis=-1)
    return float(-logp[np.arange(len(labels)), np.asarray(labels)].mean())


def fit_temperature(logits: np.ndarray, labels: np.ndarray, *, bounds: tuple[float, float] = (0.05, 20.0)) -> float:
    """The temperature T > 0 minimising the NLL of softmax(logits / T) (a bounded scalar search
    over log T; scipy)."""
    if len(labels) == 0:
        return 1.0
    low, high = np.log(bounds[0]), np.log(bounds[1])
    found = minimize_scalar(lambda log_t: nll(logits, labels, float(np.exp(log_t))), bounds=(low, high), method="bounded",
                            options={"xatol": 1e-4})
    return float(np.exp(found.x))
