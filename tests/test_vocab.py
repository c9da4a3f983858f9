"""The student's reduced vocabulary (rosearch.student.vocab) and the embedding table that reads it
(rosearch.student.model.VocabEmbedding): rules, back-offs, id mapping, out-of-vocabulary text."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rosearch.student import build_student, count_non_embedding_params, count_params
from rosearch.student.genome import Genome, Node
from rosearch.student.model import VocabEmbedding, token_table
from rosearch.student.vocab import Vocabulary, kept_ids, nearest_kept, parse_rule, piece_counts

#: counts of ids 0..7 in a training text; 0 = [PAD], 1 = [UNK], 2 = [CLS] are the special tokens
COUNTS = np.array([0, 0, 5, 9, 1, 3, 3, 0])


@pytest.mark.parametrize("rule, expected", [
    ("full", [0, 1, 2, 3, 4, 5, 6, 7]),
    ("seen:1", [0, 1, 2, 3, 4, 5, 6]),    # every piece seen once or more, and the specials
    ("seen:3", [0, 1, 2, 3, 5, 6]),       # 4 (seen once) dropped
    ("seen:10", [0, 1, 2]),               # nothing that frequent: the specials alone
    ("top:1", [0, 1, 2, 3]),              # the most frequent (3), plus the specials
    ("top:3", [0, 1, 2, 3, 5]),           # 3, 2 (special anyway), then 5 before 6: ties go to the lower id
    ("top:100", [0, 1, 2, 3, 4, 5, 6]),   # never a piece the text lacks
])
def test_rules_keep_the_frequent_pieces_and_the_special_tokens(rule, expected) -> None:
    assert kept_ids(COUNTS, rule, always=[0, 1, 2]).tolist() == expected


@pytest.mark.parametrize("rule", ["", "top", "top:", "top:0", "seen:-1", "seen:2.5", "all", "TOP:5", "top:5:unk"])
def test_a_malformed_rule_is_refused_with_the_grammar(rule) -> None:
    with pytest.raises(ValueError, match="full, seen:K"):
        parse_rule(rule)


def test_piece_counts_count_every_occurrence() -> None:
    assert piece_counts([[2, 3, 3], [], [3, 7]], 8).tolist() == [0, 0, 1, 3, 0, 0, 0, 1]


def test_nearest_back_off_goes_to_the_most_similar_kept_piece_never_a_special_token() -> None:
    table = np.array([[0, 1], [0, 1], [1, 0], [1, 0.1], [-1, 0], [0.9, 0.2], [-1, 0.1], [1, 0]], dtype=np.float32)
    assert nearest_kept(table, np.array([3, 4])).tolist() == [3, 3, 3, 3, 4, 3, 4, 3]
    v = Vocabulary.build("seen:3", COUNTS, special_ids=[0, 2], unk_id=1, backoff="nearest", table=table)
    assert v.kept.tolist() == [0, 1, 2, 3, 5, 6] and v.size == 6
    # kept ids read their own row; 4 and 7 (dropped) read the rows of their nearest kept words:
    # 4 ≈ -x → 6; 7 = x → 3 (cosine 0.995 against 5's 0.976), not [CLS] (2: cosine 1), a special token
    assert v.id_map.tolist() == [0, 1, 2, 3, 5, 4, 5, 3]
    unk = Vocabulary.build("seen:3", COUNTS, special_ids=[0, 2], unk_id=1, backoff="unk")
    assert unk.id_map.tolist() == [0, 1, 2, 3, 1, 4, 5, 1]  # dropped pieces read [UNK]'s row
    with pytest.raises(ValueError, match="embedding table"):
        Vocabulary.build("seen:3", COUNTS, special_ids=[0, 2], unk_id=1, backoff="nearest")


GENOME = Genome(16, 8, 1, (Node((0, 1), ("conv3", "skip")),), vocabulary="seen:3")


def _student(vocabulary: Vocabulary | None, genome: Genome = GENOME, basis: torch.Tensor | None = None):  # noqa: ANN202
    torch.manual_seed(0)
    return build_student(genome, vocab_size=8, num_labels=2, pad_token_id=0, max_position_embeddings=16, dropout=0.0,
                         embedding_basis=basis, vocabulary=vocabulary).eval()


def test_a_reduced_student_reads_tokenizer_ids_through_its_map() -> None:
    v = Vocabulary.build("seen:3", COUNTS, special_ids=[0, 2], unk_id=1, backoff="unk")
    student = _student(v)
    table = student.get_input_embeddings()
    assert isinstance(table, VocabEmbedding) and table.weight.shape == (6, 8)
    # round trip: every tokenizer id reads the row of its kept id, dropped ones [UNK]'s
    ids = torch.arange(8)
    torch.testing.assert_close(table(ids), table.weight[torch.from_numpy(v.id_map)])
    torch.testing.assert_close(token_table(table), table(ids))
    assert torch.equal(table(torch.tensor([4])), table(torch.tensor([1])))  # out of vocabulary = [UNK]
    assert not table.weight[0].any()  # the pad row starts at zero, as nn.Embedding's padding_idx does
    full = _student(None, Genome(16, 8, 1, GENOME.nodes))
    assert count_params(full) - count_params(student) == 2 * 8  # two rows fewer
    assert count_non_embedding_params(full) == count_non_embedding_params(student)  # the rest is the same architecture
    assert count_non_embedding_params(student) == count_params(student) - 6 * 8 - 16 * 8  # token and position tables left out


def test_rows_start_from_the_kept_pieces_basis_rows() -> None:
    basis = torch.arange(8 * 8, dtype=torch.float32).reshape(8, 8)
    v = Vocabulary.build("seen:3", COUNTS, special_ids=[0, 2], unk_id=1, backoff="unk")
    weight = _student(v, basis=basis).get_input_embeddings().weight.detach()
    kept = basis[torch.from_numpy(v.kept)]  # the kept pieces' rows, in order, rescaled to the init scale
    torch.testing.assert_close(weight, kept / kept.std() * 0.02 * 2)


def test_a_reduced_student_saves_and_reloads_with_its_map(tmp_path) -> None:
    from rosearch.student.model import RoSearchStudentForSequenceClassification

    v = Vocabulary.build("top:2", COUNTS, special_ids=[0, 2], unk_id=1, backoff="unk")
    student = _student(v)
    student.save_pretrained(tmp_path)
    loaded = RoSearchStudentForSequenceClassification.from_pretrained(tmp_path).eval()
    ids = torch.tensor([[2, 3, 4, 7, 6, 0]])
    torch.testing.assert_close(loaded(input_ids=ids).logits, student(input_ids=ids).logits)
    assert torch.equal(loaded.get_input_embeddings().id_map, torch.from_numpy(v.id_map))


def test_the_vocabulary_gene_and_its_table_go_together() -> None:
    v = Vocabulary.build("seen:3", COUNTS, special_ids=[0, 2], unk_id=1, backoff="unk")
    with pytest.raises(ValueError, match="vocabulary"):
        _student(None)  # a reduced gene without its vocabulary
    with pytest.raises(ValueError, match="vocabulary"):
        _student(v, Genome(16, 8, 1, GENOME.nodes))  # a full gene with one
    assert Genome.from_dict(GENOME.to_dict()) == GENOME and "vocabulary seen:3" in GENOME.describe()
    assert "vocabulary" not in Genome(16, 8, 1, GENOME.nodes).to_dict()  # genomes stored before the gene read the same
