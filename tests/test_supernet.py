"""The weight-sharing supernet (rosearch.student.supernet): every genome of a space is one of its
paths, and a student that inherits a path's weights computes what the path computes."""

from __future__ import annotations

import itertools

import numpy as np
import optuna
import pytest
import torch

from rosearch.config.space import SpaceConfig
from rosearch.search.genome import random_genomes
from rosearch.student import build_student
from rosearch.student.genome import Genome, Node
from rosearch.student.supernet import SuperNet, inherit
from rosearch.student.vocab import Vocabulary

SPACE = SpaceConfig(hidden_sizes=[16, 32], embedding_sizes=[16, 24], n_cells=[1, 3], n_nodes=2, heads=[1, 2, 4], ffn_multipliers=[1, 2])
SHAPE = dict(vocab_size=50, num_labels=3, pad_token_id=0, max_position_embeddings=12, dropout=0.1)


def _genomes(count: int) -> list[Genome]:
    return list(itertools.islice(random_genomes(SPACE, seed=0), count))


def _batch() -> dict[str, torch.Tensor]:
    ids = torch.randint(1, 50, (4, 10), generator=torch.Generator().manual_seed(1))
    mask = torch.ones_like(ids)
    mask[1, 6:] = 0  # padded texts
    mask[3, 2:] = 0
    return {"input_ids": ids * mask, "attention_mask": mask}


@pytest.fixture(scope="module")
def supernet() -> SuperNet:
    torch.manual_seed(0)
    net = SuperNet(SPACE, **SHAPE)
    with torch.no_grad():  # not the init's zero biases and unit norms: every slice must be the right one
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    return net.eval()


@pytest.mark.parametrize("genome", _genomes(24) + [
    Genome(16, 16, 3, (Node((0, 1), ("attention", "ffn")), Node((2, 2), ("conv3", "dilconv5"))), n_heads=4, ffn_multiplier=2),  # e = d: no projection
    Genome(16, 24, 1, (Node((1, 1), ("zero", "skip")), Node((0, 2), ("maxpool3", "avgpool3")))),  # no weighted op
], ids=lambda g: g.describe()[:60])
def test_an_inheriting_student_computes_its_path(supernet: SuperNet, genome: Genome) -> None:
    student = inherit(supernet, build_student(genome, **SHAPE), genome).eval()
    batch = _batch()
    with torch.no_grad():
        path = supernet(**batch, genome=genome).logits
        own = student(**batch).logits
    torch.testing.assert_close(own, path, atol=1e-5, rtol=1e-4)


def test_a_reduced_vocabulary_inherits_the_rows_of_its_pieces(supernet: SuperNet) -> None:
    genome = Genome(16, 16, 1, (Node((0, 1), ("conv3", "skip")), Node((2, 1), ("ffn", "zero"))), ffn_multiplier=1, vocabulary="top:10")
    kept = np.array([0, 3, 5, 7, 11, 13, 17, 19, 23, 29])
    id_map = np.zeros(50, dtype=np.int64)  # every dropped id backs off to row 1 (id 3)
    id_map[:] = 1
    id_map[kept] = np.arange(len(kept))
    vocabulary = Vocabulary(rule="top:10", kept=kept, id_map=id_map, backoff="unk")
    student = inherit(supernet, build_student(genome, vocabulary=vocabulary, **SHAPE), genome, vocabulary).eval()
    torch.testing.assert_close(student.word_embeddings.weight, supernet.word_embeddings.weight[torch.from_numpy(kept), :16])
    ids = torch.tensor([kept[:8].tolist()])  # text of kept pieces only: the path's answer
    with torch.no_grad():
        torch.testing.assert_close(student(input_ids=ids).logits, supernet(input_ids=ids, genome=genome).logits, atol=1e-5, rtol=1e-4)


def test_paths_share_their_weights(supernet: SuperNet) -> None:
    """Two genomes using the same op in the same place read the same weights: a step on one moves the other."""
    small = Genome(16, 16, 1, (Node((0, 1), ("conv3", "skip")), Node((2, 2), ("skip", "zero"))))
    large = Genome(32, 24, 3, (Node((0, 1), ("conv3", "attention")), Node((2, 0), ("ffn", "conv5"))), n_heads=2, ffn_multiplier=2)
    net = SuperNet(SPACE, **SHAPE)
    net(**_batch(), genome=large).logits.sum().backward()
    conv = net.cells[0][0][0]["conv3"]
    assert conv.pointwise.weight.grad[:16, :16].abs().sum() > 0 and conv.pointwise.weight.grad[:32, :32].abs().sum() > 0
    assert net.cells[0][0][0]["conv5"].pointwise.weight.grad is None  # not on the path
    assert net.cells[2][1][1]["conv5"].pointwise.weight.grad is not None
    net.zero_grad(set_to_none=True)
    net(**_batch(), genome=small).logits.sum().backward()
    assert conv.pointwise.weight.grad[16:].abs().sum() == 0 and conv.pointwise.weight.grad[:16, :16].abs().sum() > 0  # the small path's slice only
    assert net.cells[1][0][0]["conv3"].pointwise.weight.grad is None  # one cell: the second is not on its path


def test_a_study_distils_one_supernet_caches_it_and_estimates_its_candidates_from_it(tiny_study) -> None:
    """On the tiny study with search.fidelity.estimate "supernet": prepare distils the supernet
    (one sampled path a step, the one training loop) and caches it, a second prepare loads it, and
    the search's cheap estimates are inherited students measured as trials are."""
    from rosearch.config import load_study
    from rosearch.search import record
    from rosearch.search.objective import Objective
    from rosearch.search.weight_sharing import estimate
    from rosearch.session import make_accelerator, prepare_study

    runs, stored = tiny_study
    fidelity = {"estimate": "supernet", "supernet_epochs": 0.25, "attack_examples": 12, "promote_rank": 0}
    cfg = load_study("tiny", overrides={"runs_dir": str(runs), "search.fidelity": fidelity})
    accelerator = make_accelerator(cfg)
    logs: list[str] = []
    prep = prepare_study(cfg, accelerator, progress=False, out=logs.append)
    assert any("distilling one supernet" in line for line in logs) and not prep.supernet.training
    logs.clear()
    again = prepare_study(cfg, accelerator, progress=False, out=logs.append)
    assert not any("distilling one supernet" in line for line in logs)  # from the cache
    assert all(torch.equal(a, b) for a, b in zip(prep.supernet.state_dict().values(), again.supernet.state_dict().values()))

    genome = Genome.from_dict(stored.trials[-1].user_attrs["genome"])
    student, measured, seconds = estimate(prep.supernet, genome, cfg, prep, accelerator=accelerator, seed=0)
    assert seconds == 0 and 0 <= measured.metrics["accuracy"] <= 1 and measured.attacks[cfg.attack.recipe.name].metrics.n == cfg.attack.n_examples
    assert measured.metrics["params"] == sum(p.numel() for p in student.parameters())
    further, _, more = estimate(prep.supernet, genome, cfg, prep, accelerator=accelerator, seed=0, finetune_epochs=0.1)
    assert more > 0 and not torch.equal(further.classifier.weight, student.classifier.weight)  # distilled further from the inherited weights

    study = optuna.create_study(directions=["maximize", "maximize", "minimize"], sampler=optuna.samplers.RandomSampler(seed=1))
    study.set_metric_names(["accuracy", "attack_accuracy", "params"])
    study.optimize(Objective(cfg, prep, accelerator=accelerator, config_hash="h", progress=False), n_trials=2)
    first, second = study.trials
    assert record.level(first) == "full" and record.fidelity(first)["cheap"]["accuracy"] == first.values[0]  # the first trial is on the front
    assert record.fidelity(second)["cheap"]["params"] == second.values[2]
