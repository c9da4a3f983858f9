"""Does the search find what hand design does not? The searched front against the baselines'
front on the evaluation set: each front's hypervolume with a paired bootstrap interval over
examples (rosearch.search.hypervolume), the interval of their difference, and for each searched
student the baselines that dominate it.

A baseline dominates a searched student when it is no larger and holds at least as many
evaluation examples both clean and under the search recipe; the paired exact McNemar tests on the
same examples say whether it is also significantly better on either (otherwise the two are alike
within noise). Pure: reads the headline's rows (rosearch.report.headline) with their stored
per-example outcomes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rosearch.report.headline import ALPHA, Row
from rosearch.search.hypervolume import Outcomes, compare
from rosearch.stats import mcnemar


def _outcomes(row: Row, recipe: str) -> Outcomes | None:
    e = row.under.get(recipe, {})
    if "held" not in e or "clean" not in e:  # not attacked, or attacked before per-example clean outcomes were stored
        return None
    return Outcomes(row.params, np.asarray(e["clean"], dtype=bool), np.asarray(e["held"], dtype=bool))


def dominators(student: Outcomes, baselines: list[tuple[Row, Outcomes]]) -> list[dict[str, Any]]:
    """The baselines no larger than `student` that hold at least its share of examples clean and
    under attack, with the paired tests (baseline against student)."""
    found = []
    for row, b in baselines:
        if b.params <= student.params and b.clean.mean() >= student.clean.mean() and b.held.mean() >= student.held.mean():
            clean, attack = mcnemar(b.clean, student.clean), mcnemar(b.held, student.held)
            found.append({"baseline": row.label, "clean": clean.to_dict(), "attack": attack.to_dict(),
                          "significant": min(clean.p_value, attack.p_value) < ALPHA})
    return found


def compare_fronts(table: list[Row], recipe: str, *, teacher_params: float, num_labels: int, resamples: int = 2000) -> dict[str, Any]:
    """{"recipe", "n", "searched", "baselines", hypervolumes and intervals, "dominated_by"}, or
    {"missing": why} when the figures are not there yet."""
    searched = [(r, o) for r in table if r.kind == "searched" for o in [_outcomes(r, recipe)] if o is not None]
    baselines = [(r, o) for r in table if r.kind == "baseline" for o in [_outcomes(r, recipe)] if o is not None]
    if not searched or not baselines:
        return {"missing": f"no searched student and baseline both attacked with {recipe} on the evaluation set with their per-example "
                           "clean outcomes (stored by `attack` since the fronts' comparison exists: attack again with --again)"}
    sizes = {(len(o.clean), len(o.held)) for _, o in searched + baselines}
    if len(sizes) != 1:
        return {"missing": f"the models were attacked on different numbers of examples ({sorted(sizes)}): attack them on the same set"}
    c = compare([o for _, o in searched], [o for _, o in baselines], teacher_params=teacher_params, num_labels=num_labels, resamples=resamples)
    return {"recipe": recipe, "n": sizes.pop()[1], "num_labels": num_labels, "searched": [r.label for r, _ in searched],
            "baselines": [r.label for r, _ in baselines], **c.to_dict(),
            "dominated_by": {r.label: dominators(o, baselines) for r, o in searched}}


def section(fronts: dict[str, Any]) -> list[str]:
    """The report's paragraph and table for `compare_fronts`'s result."""
    lines = ["### The searched front against the baselines' front", ""]
    if "missing" in fronts:
        return lines + [f"Not computed: {fronts['missing']}."]
    pts = lambda x: f"{x:.4f}"  # noqa: E731
    lines += [
        f"Hypervolume on the evaluation set (n = {fronts['n']}; clean accuracy and accuracy under {fronts['recipe']} on those "
        f"examples, size as a share of the teacher's; reference point: chance {1 / fronts['num_labels']:.2f}, 0 held, the teacher's "
        f"size), with 95% paired bootstrap intervals over examples ({fronts['resamples']} resamples):",
        "",
        "| front | students | hypervolume [95% CI] |",
        "|---|---|---|",
        f"| searched | {len(fronts['searched'])} | {pts(fronts['a'])} [{pts(fronts['a_ci'][0])}–{pts(fronts['a_ci'][1])}] |",
        f"| baselines | {len(fronts['baselines'])} | {pts(fronts['b'])} [{pts(fronts['b_ci'][0])}–{pts(fronts['b_ci'][1])}] |",
        f"| searched − baselines | | {fronts['difference']:+.4f} [{fronts['difference_ci'][0]:+.4f}–{fronts['difference_ci'][1]:+.4f}] |",
        "",
        "Each searched student and the baselines that dominate it (no larger, at least as accurate clean and under attack on the "
        "same examples; \"significantly\" when a paired exact McNemar test on either gives p < 0.05):",
        "",
    ]
    for label, found in fronts["dominated_by"].items():
        if not found:
            lines.append(f"- {label}: not dominated")
            continue
        lines.append(f"- {label}: dominated by " + "; ".join(
            f"{d['baseline']} ({'significantly' if d['significant'] else 'within noise'}: clean {100 * d['clean']['difference']:+.1f} pts, "
            f"p={d['clean']['p_value']:.2g}; under attack {100 * d['attack']['difference']:+.1f} pts, p={d['attack']['p_value']:.2g})"
            for d in found))
    return lines
