"""The report's figures: Optuna's own plots (plotly → interactive HTML) and matplotlib PNGs.

HTML files share one plotly.min.js written next to them (include_plotlyjs="directory"), so they
open offline and the report folder stays small.
"""

from __future__ import annotations

import contextlib
import warnings
from pathlib import Path
from typing import Callable, Iterator, Sequence

import optuna

Target = Callable[[optuna.trial.FrozenTrial], float]


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Optuna marks its matplotlib plots and hypervolume history as experimental: known, not news."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        yield


def save_html(fig, path: Path) -> Path:  # noqa: ANN001 - plotly Figure
    fig.write_html(str(path), include_plotlyjs="directory", full_html=True)
    return path


def save_png(fig, path: Path) -> Path:  # noqa: ANN001 - matplotlib Figure
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(str(path), dpi=120)
    plt.close(fig)
    return path


def pareto_html(study: optuna.Study, targets: Sequence[Target], names: Sequence[str], path: Path) -> Path:
    """Optuna's Pareto-front plot (3-D when three targets); infeasible trials greyed out."""
    with _quiet():
        fig = optuna.visualization.plot_pareto_front(study, targets=lambda t: tuple(f(t) for f in targets), target_names=list(names))
    return save_html(fig, path)


def pareto_png(points: list[dict], path: Path, *, marks: Sequence[dict] = ()) -> Path:
    """Two panels: accuracy vs accuracy under attack (colour: parameters), and accuracy under attack
    vs parameters; Pareto-optimal students ringed, infeasible ones hollow. `marks` (teacher and
    baselines: label, accuracy, params, robustness and their `_ci`) are drawn as reference marks
    with their interval bars; a mark without a robustness figure (a teacher not attacked on the
    evaluation set) as a dashed line at its clean accuracy, its interval shaded."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.5))
    params = [p["params"] / 1e6 for p in points]
    for ax, x, y, xl, yl in (
        (a, "accuracy", "robustness", "clean accuracy (dev)", "accuracy under attack"),
        (b, "params", "robustness", "parameters (M)", "accuracy under attack"),
    ):
        xs = [p[x] / (1e6 if x == "params" else 1) for p in points]
        ys = [p[y] for p in points]
        feasible = [p["feasible"] for p in points]
        sc = ax.scatter([v for v, f in zip(xs, feasible) if f], [v for v, f in zip(ys, feasible) if f],
                        c=[v for v, f in zip(params, feasible) if f], cmap="viridis", s=40, label="feasible")
        ax.scatter([v for v, f in zip(xs, feasible) if not f], [v for v, f in zip(ys, feasible) if not f],
                   facecolors="none", edgecolors="grey", s=40, label="infeasible")
        front = [(xv, yv) for xv, yv, p in zip(xs, ys, points) if p["pareto"]]
        ax.scatter([f[0] for f in front], [f[1] for f in front], facecolors="none", edgecolors="red", s=140, linewidths=1.5, label="Pareto-optimal")
        for xv, yv, p in zip(xs, ys, points):
            if p["pareto"]:
                ax.annotate(f"#{p['trial']}", (xv, yv), textcoords="offset points", xytext=(6, 4), fontsize=8)
        for mark in marks:
            mx = mark[x] / (1e6 if x == "params" else 1)
            my = mark[y]
            if my != my:  # nan: not attacked (the teacher, usually): its clean accuracy as a line, its interval as a band
                if x == "accuracy":
                    ax.axvline(mx, color="black", ls="--", lw=1)
                    if mark.get("accuracy_ci"):
                        ax.axvspan(*mark["accuracy_ci"], color="grey", alpha=0.15, lw=0)
                    ax.annotate(f"{mark['label']} (clean; not attacked)", (mx, 0.98), xycoords=("data", "axes fraction"),
                                rotation=90, ha="right", va="top", fontsize=7)
                continue
            xerr = _err(mx, mark.get(f"{x}_ci")) if x != "params" else None
            ax.errorbar([mx], [my], xerr=xerr, yerr=_err(my, mark.get(f"{y}_ci")), fmt="D", color="black", ms=5, capsize=3,
                        label="teacher / baselines" if mark is marks[0] else None)
            ax.annotate(mark["label"], (mx, my), textcoords="offset points", xytext=(6, -10), fontsize=7)
        ax.set_xlabel(xl)
        ax.set_ylabel(yl)
        ax.grid(alpha=0.3)
    fig.colorbar(sc, ax=a, label="parameters (M)")
    b.legend(loc="best", fontsize=8)
    fig.suptitle("Students of the study: accuracy, robustness and size")
    return save_png(fig, path)


def _err(value: float, interval: Sequence[float] | None) -> list[list[float]] | None:
    """matplotlib's asymmetric error bar for one point, from its interval."""
    return None if not interval else [[value - interval[0]], [interval[1] - value]]


def hypervolume(study: optuna.Study, reference: list[float], html: Path, png: Path) -> list[tuple[int, float]]:
    """Optuna's hypervolume history (feasible trials) → (trial number, hypervolume) pairs."""
    with _quiet():
        fig = optuna.visualization.plot_hypervolume_history(study, reference_point=reference)
        save_html(fig, html)
        save_png(optuna.visualization.matplotlib.plot_hypervolume_history(study, reference_point=reference).figure, png)
    trace = fig.data[0]
    return [(int(x), float(y)) for x, y in zip(trace.x, trace.y)]


def importances(study: optuna.Study, target: Target, name: str, html: Path, png: Path) -> dict[str, float]:
    """fANOVA importance of each parameter for `target`, most important first (seeded: both figures
    show the same numbers, read back from the interactive one). Optuna uses the parameters every
    completed trial has."""
    with _quiet():
        fig = optuna.visualization.plot_param_importances(study, evaluator=_fanova(), target=target, target_name=name)
        save_html(fig, html)
        save_png(optuna.visualization.matplotlib.plot_param_importances(study, evaluator=_fanova(), target=target, target_name=name).figure, png)
    bars = fig.data[0]  # horizontal bars, least important first
    return dict(reversed([(str(p), float(v)) for p, v in zip(bars.y, bars.x)]))


def _fanova() -> optuna.importance.FanovaImportanceEvaluator:
    return optuna.importance.FanovaImportanceEvaluator(seed=0)
