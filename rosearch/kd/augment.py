"""Transfer-set augmentation for KD, after TinyBERT's data augmentation (Jiao et al., 2020).

A small student distilled on a small training set sees the teacher's function at a few thousand
points only. TinyBERT widens the transfer set: in each copy of a sentence a share of its words is
masked and re-filled with one of a masked LM's top-k candidates, and the teacher labels every new
sentence with its own logits — so the student learns the teacher's outputs on many more (fluent,
in-domain) inputs. Here the masked LM is the study's generator (the teacher's encoder with a
masked-LM head, rosearch.kd.generator), and, unlike TinyBERT (one masked-LM call per word, plus
GloVe neighbours for multi-piece words), all chosen words of a text are masked in one call and only
whole words (one alphabetic WordPiece token, not followed by a continuation piece) are replaced.

Built once per study and cached (rosearch/kd/strategies/augment.py): the originals plus `copies` variants of each,
with columns text, labels, teacher_logits, source_index, copy. An original keeps its gold label;
a variant's label is the teacher's prediction on it (its words may have changed the meaning).
Hand-written: neither transformers nor datasets ships a masked-LM augmenter for KD transfer sets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import datasets
import torch
from accelerate import Accelerator
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from rosearch.config.schema import AugmentConfig
from rosearch.kd.generator import masked_logits
from rosearch.train import loader, model_device, predict_texts

if TYPE_CHECKING:
    from collections.abc import Callable


def word_tokens(tokenizer: PreTrainedTokenizerBase) -> tuple[torch.Tensor, torch.Tensor]:
    """(whole-word, continuation) flags over the vocabulary [V] bool: a whole-word token is
    alphabetic and not a WordPiece continuation (`##…`) nor a special token."""
    tokens = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
    special = set(tokenizer.all_special_ids)
    continuation = torch.tensor([t.startswith("##") for t in tokens])
    word = torch.tensor([i not in special and t.isalpha() for i, t in enumerate(tokens)])
    return word, continuation


def replaceable(input_ids: torch.Tensor, attention_mask: torch.Tensor, word: torch.Tensor, continuation: torch.Tensor) -> torch.Tensor:
    """Positions [B, L] holding a whole word: a whole-word token not followed by a continuation piece."""
    ids = input_ids.cpu()
    following = torch.zeros_like(ids, dtype=torch.bool)
    following[:, :-1] = continuation[ids[:, 1:]] & attention_mask.cpu()[:, 1:].bool()
    return (word[ids] & ~following & attention_mask.cpu().bool()).to(input_ids.device)


def choose_words(eligible: torch.Tensor, *, share: float, generator: torch.Generator) -> torch.Tensor:
    """round(share × eligible words) positions per row [B, L] bool, at least one where a row has any,
    drawn uniformly with `generator`."""
    chosen = torch.zeros_like(eligible)
    for b in range(eligible.shape[0]):
        where = eligible[b].nonzero(as_tuple=True)[0]
        if len(where) == 0:
            continue
        k = max(1, round(share * len(where)))
        pick = torch.randperm(len(where), generator=generator)[:k]
        chosen[b, where[pick.to(where.device)]] = True
    return chosen


@torch.no_grad()
def refill(generator_model: PreTrainedModel, input_ids: torch.Tensor, attention_mask: torch.Tensor, positions: torch.Tensor, *,
           mask_token_id: int, word: torch.Tensor, top_k: int, generator: torch.Generator) -> torch.Tensor:
    """`input_ids` with each chosen position replaced by one of the masked LM's `top_k` whole-word
    candidates other than the original token, picked uniformly (TinyBERT's rule)."""
    if not positions.any():
        return input_ids
    logits = masked_logits(generator_model, input_ids.masked_fill(positions, mask_token_id), attention_mask, positions).float()  # [M, V]
    logits = logits.masked_fill(~word.to(logits.device), float("-inf"))
    logits[torch.arange(len(logits)), input_ids[positions]] = float("-inf")  # never the word itself
    candidates = logits.topk(top_k, dim=-1).indices  # [M, k]
    pick = torch.randint(top_k, (len(candidates),), generator=generator).to(candidates.device)
    out = input_ids.clone()
    out[positions] = candidates[torch.arange(len(candidates)), pick]
    return out


def augmented_transfer_set(train: datasets.Dataset, tokenizer: PreTrainedTokenizerBase, generator_model: PreTrainedModel,
                           teacher: PreTrainedModel, cfg: AugmentConfig, *, seed: int, max_length: int, batch_size: int,
                           accelerator: Accelerator, log: Callable[[str], None] = print) -> datasets.Dataset:
    """`train` (tokenized, with labels and teacher_logits) plus `cfg.copies` masked-LM variants of
    each text, labelled by `teacher`; see the module docstring. `generator_model` is moved to the
    teacher's device (the caller's own copy); the teacher is read where it is."""
    device = model_device(teacher)
    generator_model = generator_model.to(device).eval()
    word, continuation = word_tokens(tokenizer)
    rng = torch.Generator().manual_seed(seed)
    plain = train.select_columns(["input_ids", "attention_mask"])
    texts: list[str] = []
    sources: list[int] = []
    copies: list[int] = []
    for c in range(1, cfg.copies + 1):
        start = 0
        for batch in loader(plain, tokenizer, batch_size=batch_size, shuffle=False):
            ids, attn = batch["input_ids"].to(device), batch["attention_mask"].to(device)
            chosen = choose_words(replaceable(ids, attn, word, continuation), share=cfg.word_share, generator=rng)
            new = refill(generator_model, ids, attn, chosen, mask_token_id=tokenizer.mask_token_id, word=word, top_k=cfg.top_k, generator=rng)
            texts += tokenizer.batch_decode([row[m.bool()] for row, m in zip(new.cpu(), attn.cpu())], skip_special_tokens=True)
            sources += list(range(start, start + len(ids)))
            copies += [c] * len(ids)
            start += len(ids)
        log(f"augment: copy {c} of {cfg.copies} ({len(train)} texts)")
    variants = datasets.Dataset.from_dict({"text": texts, "source_index": sources, "copy": copies}).map(
        lambda b: tokenizer(b["text"], truncation=True, max_length=max_length), batched=True, desc="tokenize variants")
    logits = predict_texts(teacher, variants, tokenizer, batch_size=batch_size, accelerator=accelerator)
    variants = variants.add_column("teacher_logits", logits.tolist()).add_column("labels", logits.argmax(-1).tolist())
    originals = train.select_columns(["text", "input_ids", "attention_mask", "labels", "teacher_logits"])
    originals = originals.add_column("source_index", list(range(len(train)))).add_column("copy", [0] * len(train))
    columns = originals.column_names
    return datasets.concatenate_datasets([originals, variants.select_columns(columns).cast(originals.features)])
