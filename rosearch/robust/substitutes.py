"""Word substitutes for the `synonym` perturbation: WordNet synonyms when WordNet is installed,
otherwise the nearest whole-word neighbours in the teacher's token-embedding matrix (cosine)."""

from __future__ import annotations

import functools
from typing import Callable, Sequence

import torch


def wordnet_synonyms() -> Callable[[str], Sequence[str]] | None:
    """WordNet's single-word synonyms of a word, or None when WordNet is not installed here."""
    from rosearch.nltk_data import ensure_wordnet

    if not ensure_wordnet():
        return None
    from nltk.corpus import wordnet

    @functools.lru_cache(maxsize=65536)
    def synonyms(word: str) -> tuple[str, ...]:
        names = {lemma.name().lower() for synset in wordnet.synsets(word) for lemma in synset.lemmas()}
        return tuple(sorted(n for n in names if n.isalpha() and n != word))

    return synonyms


def embedding_neighbours(embeddings: torch.Tensor, tokenizer, *, k: int = 8,  # noqa: ANN001
                         min_similarity: float | None = None) -> Callable[[str], Sequence[str]]:
    """The `k` whole-word vocabulary entries closest (cosine) to a word's own token embedding,
    nearest first, those below `min_similarity` left out; nothing for words the vocabulary splits
    into pieces."""
    vocab = tokenizer.get_vocab()
    words = sorted((i, w) for w, i in vocab.items() if w.isalpha() and len(w) >= 3)
    ids = torch.tensor([i for i, _ in words])
    names = [w for _, w in words]
    table = torch.nn.functional.normalize(embeddings.detach().float().cpu()[ids], dim=-1)  # [W, D]
    row = {w: j for j, w in enumerate(names)}

    @functools.lru_cache(maxsize=65536)
    def neighbours(word: str) -> tuple[str, ...]:
        j = row.get(word)
        if j is None:
            return ()
        scores = table @ table[j]  # [W]
        scores[j] = -2.0
        best = scores.topk(k)
        floor = -2.0 if min_similarity is None else min_similarity
        return tuple(names[int(i)] for s, i in zip(best.values, best.indices) if s >= floor)

    return neighbours


def substitutes_for(embeddings: torch.Tensor, tokenizer, *, source: str = "auto") -> tuple[str, Callable[[str], Sequence[str]]]:  # noqa: ANN001
    """(which source, the function): WordNet when asked or available, else embedding neighbours."""
    if source in ("auto", "wordnet"):
        found = wordnet_synonyms()
        if found is not None:
            return "wordnet", found
    return "embedding", embedding_neighbours(embeddings, tokenizer)


def synonym_source(embeddings: torch.Tensor, tokenizer) -> tuple[str, Callable[[str], Sequence[str]], list[str]]:  # noqa: ANN001
    """(which source, the synonyms function, the words it knows): WordNet's single-word lemmas when
    WordNet is installed, else the whole words of the tokenizer's vocabulary and their embedding
    neighbours."""
    source, synonyms = substitutes_for(embeddings, tokenizer)
    if source == "wordnet":
        from nltk.corpus import wordnet

        return source, synonyms, [w for w in wordnet.all_lemma_names() if w.isalpha()]
    return source, synonyms, [w for w in tokenizer.get_vocab() if w.isalpha() and len(w) >= 3]
