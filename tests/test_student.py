from __future__ import annotations

import itertools

import pytest
import torch

from rosearch.config import KNOWN_OPS, SpaceConfig
from rosearch.search.genome import Genome, Node, random_genomes
from rosearch.student import build_student, count_flops, count_params, register_auto_classes
from rosearch.student.ops import build_op

D = 16


@pytest.mark.parametrize("name", KNOWN_OPS)
def test_op_shape_and_padding_invariance(name: str) -> None:
    torch.manual_seed(0)
    op = build_op(name, D, n_heads=2, ffn_size=32, dropout=0.0).eval()
    x = torch.randn(1, 7, D)
    alone = op(x, torch.ones(1, 7, dtype=torch.bool))
    padded_x = torch.cat([x, torch.randn(1, 5, D) * 100], 1)  # garbage in the pads on purpose
    padded_mask = torch.cat([torch.ones(1, 7), torch.zeros(1, 5)], 1).bool()
    padded = op(padded_x, padded_mask)
    assert padded.shape == (1, 12, D)
    torch.testing.assert_close(padded[:, :7], alone, atol=1e-5, rtol=1e-5)
    assert padded[:, 7:].abs().max() == 0  # pads stay zero


def _genomes(n: int = 15) -> list[Genome]:
    space = SpaceConfig(hidden_sizes=[16, 32], embedding_sizes=[8, 16], n_cells=[1, 2], heads=[1, 2, 4])
    return list(itertools.islice(random_genomes(space, seed=1), n))


def _student(genome: Genome, basis: torch.Tensor | None = None):
    torch.manual_seed(0)
    return build_student(genome, vocab_size=100, num_labels=3, pad_token_id=0, max_position_embeddings=32, dropout=0.1, embedding_basis=basis).eval()


@pytest.mark.parametrize("genome", _genomes(), ids=lambda g: g.describe()[:60])
def test_padding_never_changes_a_prediction(genome: Genome) -> None:
    model = _student(genome)
    ids = torch.randint(1, 100, (1, 9))
    alone = model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits
    batch = torch.cat([ids, torch.zeros(1, 6, dtype=torch.long)], 1)
    mask = torch.cat([torch.ones(1, 9), torch.zeros(1, 6)], 1).long()
    torch.testing.assert_close(model(input_ids=batch, attention_mask=mask).logits, alone, atol=1e-5, rtol=1e-4)


def test_save_and_reload_give_the_same_logits(tmp_path) -> None:
    from transformers import AutoModelForSequenceClassification

    genome = Genome(16, 8, 2, (Node((0, 1), ("attention", "conv3")), Node((2, 1), ("ffn", "maxpool3"))), n_heads=2, ffn_multiplier=2)
    model = _student(genome)
    model.save_pretrained(tmp_path)
    register_auto_classes()
    again = AutoModelForSequenceClassification.from_pretrained(tmp_path).eval()
    ids = torch.randint(1, 100, (2, 5))
    torch.testing.assert_close(again(input_ids=ids).logits, model(input_ids=ids).logits)
    assert Genome.from_dict(again.config.genome) == genome


def test_params_and_flops_grow_with_the_architecture() -> None:
    small = Genome(16, 8, 1, (Node((0, 1), ("conv3", "skip")),))
    big = Genome(32, 8, 2, (Node((0, 1), ("conv3", "skip")),))
    ps, pb = count_params(_student(small)), count_params(_student(big))
    assert 0 < ps < pb
    fs, fb = count_flops(_student(small), seq_len=16), count_flops(_student(big), seq_len=16)
    assert 0 < fs < fb
    # one pointwise 16×16 linear over 16 tokens = 2·16·16·16 FLOPs; a zero-only cell has none of it
    zero = Genome(16, 16, 1, (Node((0, 1), ("zero", "skip")),))
    conv = Genome(16, 16, 1, (Node((0, 1), ("conv3", "skip")),))
    assert count_flops(_student(conv), seq_len=16) - count_flops(_student(zero), seq_len=16) == 2 * 16 * 16 * 16 + 2 * 16 * 16 * 3


def test_embedding_basis_starts_the_embeddings() -> None:
    genome = Genome(16, 8, 1, (Node((0, 1), ("conv3", "skip")),))
    basis = torch.randn(100, 12)
    model = _student(genome, basis)
    w = model.word_embeddings.weight.detach()
    ratio = w / basis[:, :8]
    assert torch.allclose(ratio, ratio[0, 0].expand_as(ratio), atol=1e-4)  # one common scale
