"""The strategy interface: a registry that names the seven built-in strategies, and a new strategy
written in a few lines (its own prepared data, a loss term and a hook) trained by the one loop."""

from __future__ import annotations

import pytest
import torch

from rosearch.config.schema import STRATEGIES as CONFIG_NAMES
from rosearch.kd.strategies import STRATEGIES, PrepareContext, Strategy, TrialContext, prepare_strategies
from rosearch.search.genome import Genome, Node
from rosearch.train import TrainPlan

GENOME = Genome(16, 16, 1, (Node((0, 1), ("conv3", "skip")), Node((2, 1), ("attention", "maxpool3"))), n_heads=2)


def test_the_registry_names_what_configs_may_choose() -> None:
    assert STRATEGIES.names() == list(CONFIG_NAMES)
    for name in CONFIG_NAMES:
        strategy = STRATEGIES.get(name)
        assert isinstance(strategy, Strategy) and strategy.name == name
    with pytest.raises(KeyError, match="no KD strategy 'nope'"):
        STRATEGIES.get("nope")


class Toy(Strategy):
    """Logit KD plus an L2 penalty on the logits, scaled by a number its `prepare` computes; a hook
    counts the steps it saw."""

    name = "toy"

    def __init__(self) -> None:
        self.steps_seen: list[int] = []

    def prepare(self, ctx: PrepareContext) -> float:
        return float(len(ctx.prep.splits["train"]))

    def plan(self, ctx: TrialContext) -> TrainPlan:
        kd, scale = ctx.kd_loss(), 1.0 / ctx.data

        def loss(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
            ids, mask = batch["input_ids"], batch["attention_mask"]
            return kd(model, batch) + scale * model(input_ids=ids, attention_mask=mask).logits.pow(2).mean()

        toy = self

        class Count:
            def start(self, run) -> None:  # noqa: ANN001
                toy.total = run.total

            def before_step(self, run, step: int) -> None:  # noqa: ANN001
                toy.steps_seen.append(step)

        return TrainPlan(ctx.loader(ctx.train_split()), loss, desc="distill (toy)", hooks=[Count()], details=lambda: {"seen": len(self.steps_seen)})


def test_a_registered_strategy_prepares_and_trains_a_tiny_student(tiny_prep) -> None:
    from rosearch.kd.distill import distill_student

    cfg, prep, accelerator, cache = tiny_prep
    toy = Toy()
    registry = STRATEGIES.with_strategy(toy)
    assert registry.names()[-1] == "toy" and STRATEGIES.names() == list(CONFIG_NAMES)  # a new registry; the built-in one unchanged
    ctx = PrepareContext(cfg, prep, source="", cache=cache, accelerator=accelerator, log=lambda _: None)
    prep = prep.with_strategies(prepare_strategies(ctx, ["toy"], registry))
    assert prep.strategy_data == {"toy": float(len(prep.splits["train"]))}
    student, fitted = distill_student(GENOME, cfg, prep, accelerator=accelerator, seed=0, strategy="toy", registry=registry, progress=False)
    assert fitted.steps == toy.total == len(toy.steps_seen) and toy.steps_seen == list(range(fitted.steps))
    assert fitted.details == {"seen": fitted.steps} and torch.isfinite(torch.tensor(fitted.last_loss))
    # the loss term changed the training: the same seed without it ends elsewhere
    vanilla, _ = distill_student(GENOME, cfg, prep, accelerator=accelerator, seed=0, progress=False)
    ids = torch.tensor([prep.splits["dev"][0]["input_ids"]])
    assert not torch.allclose(student(input_ids=ids).logits, vanilla(input_ids=ids).logits)


@pytest.fixture(scope="module")
def tiny_prep(tmp_path_factory):
    from rosearch.cache import DiskCache
    from rosearch.config import load_study
    from rosearch.prepare import prepare
    from rosearch.train import make_accelerator

    cfg = load_study("tiny")
    cache, accelerator = DiskCache(tmp_path_factory.mktemp("cache")), make_accelerator("no")
    return cfg, prepare(cfg, cache=cache, accelerator=accelerator, log=lambda _: None, progress=False), accelerator, cache
