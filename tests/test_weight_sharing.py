"""How the supernet's steps choose their paths (rosearch.search.weight_sharing): the sandwich
rule's extremes, the paths a step trains and the loss over them, and the cache key of a rule."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from rosearch.config import config_hash, load_study
from rosearch.config.space import SpaceConfig
from rosearch.search.weight_sharing import PathSampler, extreme, supernet_key
from rosearch.student.genome import Genome, Node

SPACE = SpaceConfig(hidden_sizes=[16, 32, 48], embedding_sizes=[16, 24], n_cells=[1, 2, 3], n_nodes=2, heads=[1, 2, 4, 3],
                    ffn_multipliers=[1, 2, 4])
ATTN_FFN = (Node((0, 1), ("attention", "ffn")), Node((2, 0), ("conv3", "skip")))
CONV = (Node((0, 1), ("conv3", "skip")), Node((2, 2), ("zero", "maxpool3")))


@pytest.mark.parametrize("genome, widest, expected", [
    (Genome(32, 16, 2, ATTN_FFN, n_heads=2, ffn_multiplier=2), True, Genome(48, 24, 3, ATTN_FFN, n_heads=2, ffn_multiplier=4)),
    (Genome(32, 24, 2, ATTN_FFN, n_heads=2, ffn_multiplier=2), False, Genome(16, 16, 1, ATTN_FFN, n_heads=2, ffn_multiplier=1)),
    # 3 heads do not divide 16: the nearest count that does (2, the smaller of 2 and 4)
    (Genome(48, 16, 3, ATTN_FFN, n_heads=3, ffn_multiplier=4), False, Genome(16, 16, 1, ATTN_FFN, n_heads=2, ffn_multiplier=1)),
    # no attention, no ffn: no head count or multiplier appears; the stage and vocabulary stay
    (Genome(16, 16, 1, CONV, input_stage="recognizer", vocabulary="seen:2"), True,
     Genome(48, 24, 3, CONV, input_stage="recognizer", vocabulary="seen:2")),
])
def test_an_extreme_keeps_the_wiring_and_takes_every_shared_dimension_to_its_end(genome, widest, expected) -> None:
    assert extreme(genome, SPACE, widest=widest) == expected


def test_uniform_trains_one_drawn_path_a_step_and_sandwich_the_two_extremes_and_a_drawn_one() -> None:
    uniform, sandwich = PathSampler(SPACE, seed=3), PathSampler(SPACE, seed=3, rule="sandwich")
    first, = uniform.draw()
    second, = uniform.draw()
    widest, narrowest, drawn = sandwich.draw()
    assert (widest.hidden_size, widest.embedding_size, widest.n_cells) == (48, 24, 3)
    assert (narrowest.hidden_size, narrowest.embedding_size, narrowest.n_cells) == (16, 16, 1)
    # the same seeded draws: the sandwich's extremes are the first two draws' wiring, its third the third draw
    third, = uniform.draw()
    assert drawn == third
    assert widest == extreme(first, SPACE, widest=True) and narrowest == extreme(second, SPACE, widest=False)
    assert len(sandwich.drawn) == 3 and len(uniform.drawn) == 3
    with pytest.raises(ValueError, match="bignas"):
        PathSampler(SPACE, seed=0, rule="bignas")


def test_the_step_loss_is_the_mean_over_the_steps_paths_each_run_on_its_own_path() -> None:
    sampler = PathSampler(SPACE, seed=1, rule="sandwich")
    net = SimpleNamespace(path=None)
    sampler.start(SimpleNamespace(accelerator=SimpleNamespace(unwrap_model=lambda m: net), model=None))
    sampler.before_step(None, 0)
    seen = []

    def kd(model, batch):  # noqa: ANN001 - a fake loss: the path's hidden size; like the logit-KD loss, it takes the cached logits out
        assert batch.pop("teacher_logits") == "cached"
        seen.append(net.path)
        return torch.tensor(float(net.path.hidden_size))

    loss = sampler.loss(kd)(None, {"teacher_logits": "cached"})
    assert seen == sampler.paths and len(seen) == 3
    assert loss.item() == pytest.approx(sum(p.hidden_size for p in sampler.paths) / 3)


def test_the_rule_keys_the_cached_supernet_and_the_study_only_off_its_default() -> None:
    prep = SimpleNamespace(keys={"teacher": "t"})

    def cfg(**fidelity):  # noqa: ANN202
        return load_study("tiny", overrides={"search.fidelity": {"estimate": "supernet", **fidelity}})

    assert supernet_key(cfg(), prep) == supernet_key(cfg(supernet_rule="uniform"), prep) != supernet_key(cfg(supernet_rule="sandwich"), prep)
    assert supernet_key(cfg(supernet_rule="sandwich"), prep) != supernet_key(cfg(supernet_rule="sandwich", supernet_epochs=2.0), prep)
    assert config_hash(cfg()) == config_hash(cfg(supernet_rule="uniform")) != config_hash(cfg(supernet_rule="sandwich"))
