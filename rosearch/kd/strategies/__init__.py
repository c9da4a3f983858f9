"""The distillation strategies, one file each behind one interface (`Strategy`, base.py), and the
registry that names them.

vanilla      logit KD from cached (or online) teacher logits
kdiga        + input-gradient alignment with the teacher
mate         adversarial masked-LM augmentation (MATE-KD, with labels)
zeroshot     the same game on out-of-domain text, no task data
consistency  logit KD on randomly perturbed copies with the clean texts' cached logits
a2t          logit KD plus adversarial texts from a cheap attack on the student at intervals
augment      logit KD on a larger transfer set: masked-LM variants labelled by the teacher

A new strategy: a `Strategy` subclass in a file of its own, added to a registry with
`STRATEGIES.with_strategy(MyStrategy())` (a new registry: nothing global changes) and passed to
`prepare_strategies` and `distill_student`; a built-in one is also named in
rosearch.config.kd.STRATEGIES so that study configs may choose it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from rosearch.kd.strategies.base import PrepareContext, Strategy, TrialContext

__all__ = ["STRATEGIES", "PrepareContext", "Registry", "Strategy", "TrialContext", "prepare_strategies"]

# name → "module:class" under rosearch.kd.strategies, imported when first asked for (so naming one
# strategy never imports the others' dependencies). The order is the order they are prepared in.
_BUILTIN = {
    "vanilla": "vanilla:Vanilla",
    "kdiga": "kdiga:KDIGA",
    "mate": "mate:MATE",
    "zeroshot": "zeroshot:ZeroShot",
    "consistency": "consistency:Consistency",
    "a2t": "a2t:A2T",
    "augment": "augment:Augment",
}


@dataclass(frozen=True)
class Registry:
    """Strategies by name: the built-in ones plus any added with `with_strategy`."""

    added: dict[str, Strategy] = field(default_factory=dict)

    def names(self) -> list[str]:
        return [*_BUILTIN, *(n for n in self.added if n not in _BUILTIN)]

    def get(self, name: str) -> Strategy:
        if name in self.added:
            return self.added[name]
        if name not in _BUILTIN:
            raise KeyError(f"no KD strategy {name!r}; known: {', '.join(self.names())}")
        module, cls = _BUILTIN[name].split(":")
        return getattr(importlib.import_module(f"rosearch.kd.strategies.{module}"), cls)()

    def with_strategy(self, strategy: Strategy) -> Registry:
        assert strategy.name, "a strategy needs a name"
        return Registry({**self.added, strategy.name: strategy})


STRATEGIES = Registry()


def prepare_strategies(ctx: PrepareContext, names: list[str], registry: Registry = STRATEGIES) -> dict[str, Any]:
    """Each named strategy's data for the study (`Prepared.strategy_data`), in the registry's order;
    strategies that prepare nothing are left out."""
    data = {}
    for name in registry.names():
        if name in names:
            prepared = registry.get(name).prepare(ctx)
            if prepared is not None:
                data[name] = prepared
    return data
