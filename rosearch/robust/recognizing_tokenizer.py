"""The tokenizer of an exported student with the word-recognition input stage: a BERT fast
tokenizer that runs the recogniser (`recognizer.json`, rosearch.robust.recognizer) on every text
before tokenizing. Copied next to the weights with `recognizer.py` (relative import only), so
`AutoTokenizer.from_pretrained(folder, trust_remote_code=True)` and `pipeline(...)` give the
predictions the attacks measured, without rosearch installed."""

from __future__ import annotations

import os
from typing import Any

from transformers import BertTokenizerFast

from .recognizer import WordRecognizer


def _recognise(recognizer: WordRecognizer, item: Any) -> Any:
    if isinstance(item, str):
        return recognizer(item)
    if isinstance(item, (list, tuple)):  # pairs, or pre-split words
        return type(item)(_recognise(recognizer, x) for x in item)
    return item


class RecognizingBertTokenizerFast(BertTokenizerFast):
    """BertTokenizerFast with a word recogniser in front (see the module docstring)."""

    vocab_files_names = {**BertTokenizerFast.vocab_files_names, "recognizer_file": "recognizer.json"}
    slow_tokenizer_class = None  # the fast tokenizer only: no slow twin to record in auto_map

    def __init__(self, *args: Any, recognizer_file: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.recognizer = WordRecognizer.load(recognizer_file) if recognizer_file else None

    def _batch_encode_plus(self, batch_text_or_text_pairs: Any, *args: Any, **kwargs: Any) -> Any:
        if self.recognizer is not None:
            batch_text_or_text_pairs = [_recognise(self.recognizer, x) for x in batch_text_or_text_pairs]
        return super()._batch_encode_plus(batch_text_or_text_pairs, *args, **kwargs)

    def _encode_plus(self, text: Any, text_pair: Any = None, *args: Any, **kwargs: Any) -> Any:
        if self.recognizer is not None:
            text, text_pair = _recognise(self.recognizer, text), _recognise(self.recognizer, text_pair)
        return super()._encode_plus(text, text_pair, *args, **kwargs)

    def save_vocabulary(self, save_directory: str, filename_prefix: str | None = None) -> tuple[str, ...]:
        files = super().save_vocabulary(save_directory, filename_prefix)
        if self.recognizer is None:
            return files
        path = os.path.join(save_directory, (filename_prefix + "-" if filename_prefix else "") + "recognizer.json")
        self.recognizer.save(path)
        return (*files, path)
