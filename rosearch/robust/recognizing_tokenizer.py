"""The tokenizer of an exported student with input stages: a BERT fast tokenizer that runs the
text normaliser (`normalizer.json`, rosearch.robust.normalize), the frequency-guided synonym
stage (`fgws.json`, rosearch.robust.synonyms) and the word recogniser (`recognizer.json`,
rosearch.robust.recognizer) on every text before tokenizing, in that order, each where the student
has it; a voting student's (`vote.json`, rosearch.robust.vote) then sends each text as its
substituted copies, one row each, which the saved model averages (its config's vote_copies).
Copied next to the weights with `normalize.py`, `synonyms.py`, `recognizer.py` and `vote.py`
(relative imports only), so `AutoTokenizer.from_pretrained(folder, trust_remote_code=True)` and
`pipeline(...)` give the predictions the attacks measured, without rosearch installed."""

from __future__ import annotations

import os
from typing import Any, Callable

from transformers import BertTokenizerFast

from .normalize import TextNormalizer
from .recognizer import WordRecognizer
from .synonyms import SynonymCanonicalizer
from .vote import SubstitutionVote


def _through(stages: list[Callable[[str], str]], item: Any) -> Any:
    if isinstance(item, str):
        for stage in stages:
            item = stage(item)
        return item
    if isinstance(item, (list, tuple)):  # pairs, or pre-split words
        return type(item)(_through(stages, x) for x in item)
    return item


class RecognizingBertTokenizerFast(BertTokenizerFast):
    """BertTokenizerFast with the student's input stages in front (see the module docstring)."""

    vocab_files_names = {**BertTokenizerFast.vocab_files_names, "recognizer_file": "recognizer.json", "normalizer_file": "normalizer.json",
                         "fgws_file": "fgws.json", "vote_file": "vote.json"}
    slow_tokenizer_class = None  # the fast tokenizer only: no slow twin to record in auto_map

    def __init__(self, *args: Any, recognizer_file: str | None = None, normalizer_file: str | None = None, fgws_file: str | None = None,
                 vote_file: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.normalizer = TextNormalizer.load(normalizer_file) if normalizer_file else None
        self.recognizer = WordRecognizer.load(recognizer_file) if recognizer_file else None
        self.fgws = SynonymCanonicalizer.load(fgws_file) if fgws_file else None
        self.vote = SubstitutionVote.load(vote_file) if vote_file else None

    @property
    def _stages(self) -> list[Callable[[str], str]]:
        return [s for s in (self.normalizer, self.fgws, self.recognizer) if s is not None]

    def _batch_encode_plus(self, batch_text_or_text_pairs: Any, *args: Any, **kwargs: Any) -> Any:
        batch_text_or_text_pairs = [_through(self._stages, x) for x in batch_text_or_text_pairs]
        if self.vote is not None:
            if not all(isinstance(x, str) for x in batch_text_or_text_pairs):
                raise ValueError("A voting student classifies single texts (no pairs, no pre-split words).")
            batch_text_or_text_pairs = self.vote.expand(batch_text_or_text_pairs)  # each text: its copies, one row each
        return super()._batch_encode_plus(batch_text_or_text_pairs, *args, **kwargs)

    def _encode_plus(self, text: Any, text_pair: Any = None, *args: Any, **kwargs: Any) -> Any:
        if self.vote is not None:  # one text is its copies: a batch of rows, padded to the longest (as `pipeline` asks for none)
            from transformers.utils import PaddingStrategy

            if text_pair is not None:
                raise ValueError("A voting student classifies single texts (no pairs).")
            if kwargs.get("padding_strategy") in (None, PaddingStrategy.DO_NOT_PAD):
                kwargs["padding_strategy"] = PaddingStrategy.LONGEST
            return self._batch_encode_plus([text], *args, **kwargs)
        text, text_pair = _through(self._stages, text), _through(self._stages, text_pair)
        return super()._encode_plus(text, text_pair, *args, **kwargs)

    def save_vocabulary(self, save_directory: str, filename_prefix: str | None = None) -> tuple[str, ...]:
        files = super().save_vocabulary(save_directory, filename_prefix)
        prefix = filename_prefix + "-" if filename_prefix else ""
        for stage, name in ((self.normalizer, "normalizer.json"), (self.recognizer, "recognizer.json"), (self.fgws, "fgws.json"),
                            (self.vote, "vote.json")):
            if stage is not None:
                path = os.path.join(save_directory, prefix + name)
                stage.save(path)
                files = (*files, path)
        return files
