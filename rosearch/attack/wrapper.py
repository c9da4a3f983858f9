"""A TextAttack model wrapper that pads each query batch only to its longest text."""

from __future__ import annotations

from typing import Callable

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase


def make_wrapper(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, *, max_length: int,
                 preprocess: Callable[[str], str] | None = None):
    """TextAttack's HuggingFaceModelWrapper, except for padding.

    Why not the stock wrapper: it pads every query to the tokenizer's model_max_length (512 for
    BERT tokenizers), about 8× the work for short sentences (docs/offline.md). Here a query batch is
    padded to its own longest text, truncated at the study's max_length like training data. The
    students are padding-invariant, so the predictions are the same; get_grad is inherited.
    """
    from textattack.models.wrappers import HuggingFaceModelWrapper

    class DynamicPaddingWrapper(HuggingFaceModelWrapper):
        def __call__(self, text_input_list: list[str]) -> torch.Tensor:
            if preprocess is not None:  # the input stage: part of the model under attack
                text_input_list = [preprocess(t) for t in text_input_list]
            inputs = self.tokenizer(
                text_input_list, padding=True, truncation=True, max_length=max_length, return_tensors="pt"
            ).to(next(self.model.parameters()).device)
            with torch.inference_mode():
                return self.model(**inputs).logits.float()

    model.eval()
    return DynamicPaddingWrapper(model, tokenizer)
