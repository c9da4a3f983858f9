"""A TextAttack model wrapper that pads each query batch only to its longest text and answers
each distinct model input once."""

from __future__ import annotations

import torch

from rosearch.student.pipeline import StudentPipeline

#: The most model inputs one wrapper remembers; past it the cache starts afresh (memory stays
#: bounded on long attacks; a forgotten input only costs one more forward pass).
CACHE_LIMIT = 50_000


def make_wrapper(pipeline: StudentPipeline):
    """TextAttack's HuggingFaceModelWrapper over the whole pipeline (stages + tokenizer + model),
    except for padding and a cache of the model's inputs.

    Why not the stock wrapper: it pads every query to the tokenizer's model_max_length (512 for
    BERT tokenizers), about 8× the work for short sentences (docs/offline.md). Here a query batch is
    padded to its own longest text, truncated at the study's max_length like training data. The
    students are padding-invariant, so the predictions are the same; get_grad is inherited.

    Why a cache of our own: TextAttack's goal function caches by the *attacked* text, but with an
    input stage many different attacked texts reach the model as one text (the recogniser maps a
    typo back to the word it misspells: most of Pruthi's and DeepWordBug's candidates undo
    themselves). Each distinct text after the stages runs the model once per wrapper (one attack);
    TextAttack still counts every query, so query counts and budgets are unchanged.
    """
    from rosearch.attack.resources import import_textattack

    import_textattack()  # first: it points NLTK at our stop words (A2T builds a wrapper before any attack ran)
    from textattack.models.wrappers import HuggingFaceModelWrapper

    class DynamicPaddingWrapper(HuggingFaceModelWrapper):
        def __init__(self, pipeline: StudentPipeline) -> None:
            super().__init__(pipeline.model, pipeline.tokenizer)
            self.pipeline = pipeline
            self.answered: dict[str, torch.Tensor] = {}  # model input text -> its logits

        def __call__(self, text_input_list: list[str]) -> torch.Tensor:
            text_input_list = [self.pipeline.preprocess(t) for t in text_input_list]  # the stages: part of the model under attack
            new = list(dict.fromkeys(t for t in text_input_list if t not in self.answered))
            if len(self.answered) + len(new) > CACHE_LIMIT:
                self.answered = {t: v for t, v in self.answered.items() if t in text_input_list}
            if new:
                self.answered.update(zip(new, self.pipeline.logits(new, preprocessed=True)))
            return torch.stack([self.answered[t] for t in text_input_list])

    pipeline.model.eval()
    return DynamicPaddingWrapper(pipeline)
