"""The model card (README.md) of an exported student: pure text from its metrics and provenance."""

from __future__ import annotations

from typing import Any

from rosearch.stats import format_ci
from rosearch.table import format_table


def _pct(x: float) -> str:
    return f"{x:.1%}"


def _count(x: int | None) -> str:
    return "–" if x is None else f"{x:,}"


def latency_table(latency: dict[str, Any]) -> str:
    runtimes = [r for r in ("pytorch", "onnxruntime") if r in latency]
    batches = list(latency[runtimes[0]])
    whole = " (input stages + model)" if "stage" in latency else ""
    rows = [[("PyTorch" if r == "pytorch" else "ONNX Runtime") + whole, *(f"{latency[r][b]:.2f}" for b in batches)] for r in runtimes]
    if "stage" in latency:
        rows.append(["of which input stages (" + " → ".join(latency["stages"]) + ")", *(f"{latency['stage'][b]:.2f}" for b in batches)])
    return format_table(["runtime", *(f"batch {b} (ms)" for b in batches)], rows, style="markdown")


#: What each input stage is, for the card (by stage name), and how ONNX Runtime users run it.
STAGE_NOTES = {
    "normalizer": ("text normalisation: Unicode NFKC, invisible characters removed, accents on Latin letters "
                   "dropped, letters of other scripts that look Latin folded (Unicode's confusables), digits and symbols "
                   "inside words read as letters (`normalize.py`, `normalizer.json`)",
                   'from normalize import TextNormalizer; text = TextNormalizer.load("normalizer.json")(text)'),
    "recognizer": ("word recognition: misspelt words mapped back to the training vocabulary (`recognizer.py`, `recognizer.json`)",
                   'from recognizer import WordRecognizer; text = WordRecognizer.load("recognizer.json")(text)'),
    "fgws": ("frequency-guided synonyms: words rare in the training text replaced by their most frequent synonym "
             "(`synonyms.py`, `fgws.json`)",
             'from synonyms import SynonymCanonicalizer; text = SynonymCanonicalizer.load("fgws.json")(text)'),
    "vote": ("random-substitution voting: the model classifies several copies of the text, words swapped at random for "
             "synonyms the training text uses, and answers their mean class probabilities (`vote.py`, `vote.json`; the "
             "saved tokenizer sends the copies, the saved model averages them)",
             'from vote import SubstitutionVote; copies = SubstitutionVote.load("vote.json").variants(text)'),
}


def stage_note(stages: list[str]) -> str:
    """The card's paragraph on the student's input stages (run in this order), "" without any."""
    if not stages:
        return ""
    what = "; then ".join(STAGE_NOTES[s][0] for s in stages)
    code = "`, then `".join(STAGE_NOTES[s][1] for s in stages)
    vote = (" The graph scores each copy: a text's answer is the mean of its copies' softmax probabilities "
            "(the latency figures count every copy)." if "vote" in stages else "")
    return f"""
**Input stages.** This student reads text through {what}. Every robustness figure above attacked
the stages + model together. The saved tokenizer runs them: load it with
`AutoTokenizer.from_pretrained(folder, trust_remote_code=True)` (or pass `trust_remote_code=True`
to `pipeline`). **ONNX Runtime users must run them themselves before the graph**, in this order:
`{code}`, then tokenize as above.{vote}
"""


def _vocabulary(m: dict[str, Any]) -> str:
    rule = m.get("vocabulary", "full")
    if rule == "full":
        return ""
    return (f" Its embedding table holds only the word pieces of its task (vocabulary `{rule}`, see rosearch.student.vocab); "
            "the saved tokenizer is the teacher's, and the model maps each of its ids to a row (pieces without one read "
            "the row of a kept piece), so it needs no other tokenizer.")


def _calibration(m: dict[str, Any]) -> str:
    if "ece" not in m:
        return "–"
    return f"{m['ece']:.3f}; {m['ece_calibrated']:.3f} after temperature scaling (T = {m['temperature']:.2f}, fitted on dev)"


def model_card(m: dict[str, Any]) -> str:
    """`m` is the export's metrics.json content."""
    teacher, lat, onnx = m["teacher"], m["latency"], m["onnx"]
    calibrated = m.get("attacks_calibrated", {})
    scaled = f"under attack at T = {m['temperature']:.2f}" if calibrated else None
    attack_table = format_table(
        ["recipe", "clean", "under attack", *([scaled] if scaled else []), "attack success", "words perturbed", "queries/example", "n"],
        [[name, format_ci(a["clean_accuracy"], a.get("clean_ci")), format_ci(a["accuracy_under_attack"], a.get("under_attack_ci")),
          *([format_ci(calibrated[name]["accuracy_under_attack"], calibrated[name].get("under_attack_ci"))] if scaled else []),
          _pct(a["success_rate"]), _pct(a["avg_perturbed_share"]), f"{a['avg_queries']:.1f}", str(a["n"])] for name, a in m["attacks"].items()],
        style="markdown",
    )
    skipped = "".join(f"\n- `{name}` was not run: {why}" for name, why in m.get("attacks_skipped", {}).items())
    training = (
        f"re-distilled for {m['retrain_epochs']:g} epoch(s) on the whole training split after the search"
        + (f", with KD strategy `{m['retrain_strategy']}` instead of the search's" if m.get("retrain_strategy") else "")
        if m["retrain_epochs"] else "distilled exactly as during the search (same genome, seed and settings)"
    )
    search = m["search_metrics"]
    labels = (" Labels: " + ", ".join(f"{i} = {name}" for i, name in enumerate(m["labels"])) + ".") if m.get("labels") else ""
    stage = stage_note(m["input_stage"].split("+") if m.get("input_stage") else [])
    origin = (f"of a **hand-designed** architecture, the baseline `{m['baseline']}` of Optuna study `{m['study']}`\n(trial #{m['trial']}, "
              "trained and measured exactly like the searched students)" if m.get("baseline") else
              f"found by **RoSearch**-style architecture search (Optuna study `{m['study']}`,\ntrial #{m['trial']})")
    return f"""---
library_name: transformers
pipeline_tag: text-classification
tags: [rosearch, knowledge-distillation, adversarial-robustness, neural-architecture-search, optuna]
---

# {m['name']}

A small text classifier {origin} and trained by knowledge distillation (`{m['kd_strategy']}` strategy) from the
teacher `{teacher['model']}` ({teacher['params'] / 1e6:.1f}M parameters, dev accuracy {_pct(teacher['dev_accuracy'])}).
It has **{m['params']:,} parameters**, {m['compression']:.1f}× fewer than the teacher. It was {training}.{_vocabulary(m)}

## Architecture

{m['architecture']}

The cell (drawn in `architecture.svg`) is repeated with separate weights; its inputs are the
outputs of the two previous cells, each node sums two operations of earlier states, and the cell's
output is the layer-normalised sum of the previous cell and the mean of its nodes. Token and
position embeddings come first; a masked mean over tokens and a two-layer head come last.

## Metrics

| metric | value |
|---|---|
| clean accuracy, dev ({m['n_dev']} examples) | {format_ci(m['accuracy'], m.get('accuracy_ci'))} |
| clean accuracy, test ({m['n_test']} examples) | {format_ci(m['test_accuracy'], m.get('test_accuracy_ci'))} |
| accuracy under `{m['search_recipe']}` (the search's attack), {m['n_attack']} evaluation examples | {format_ci(m['attack_accuracy'], m.get('attack_accuracy_ci'))} |
| parameters | {m['params']:,} |
| of which outside the embedding tables | {_count(m.get('non_embedding_params'))} |
| FLOPs per sequence of {m['flops_seq_len']} tokens | {m['flops'] / 1e6:.2f} M |
| RoSearch fitness | {m['fitness']:.3f} |
| expected calibration error, dev (15 bins) | {_calibration(m)} |
| search-time accuracy / under attack (in-trial subset) | {_pct(search['accuracy'])} / {_pct(search['attack_accuracy'])} |

Intervals are 95% Wilson intervals. **Robustness** (TextAttack recipes, on the study's evaluation
set: dev examples the teacher classifies correctly, disjoint from the small subset the search
selected on; "clean" is the student's accuracy on that set; "at T": the same attack on the
student's logits divided by the temperature fitted on dev, which changes no prediction, only the
confidence a score-based attack reads — an over-confident student can look robust until then):

{attack_table}
{skipped}

**Latency** (median of {lat['repeats']} runs after {lat['warmup']} warm-up runs, {lat['seq_len']} tokens,
{lat['threads']} CPU thread(s), {m['machine']}):

{latency_table(lat)}

## Data

{m['data']}{labels}

## How to load

```python
from transformers import AutoModelForSequenceClassification, AutoTokenizer

model = AutoModelForSequenceClassification.from_pretrained("path/to/this/folder", trust_remote_code=True)
tokenizer = AutoTokenizer.from_pretrained("path/to/this/folder")
logits = model(**tokenizer(["a gripping, beautifully acted film"], truncation=True, return_tensors="pt")).logits
```

**Input length.** The student was trained on texts of at most {m['max_length']} tokens, and the
tokenizer saved here truncates there (`model_max_length` {m['max_length']}; pass `truncation=True`).
Longer inputs still run (tokens past {m['max_length']} share the last position embedding), but
predictions on them are outside what was measured.

`trust_remote_code=True` runs `model.py`, `genome.py` and `ops.py` from this folder (PyTorch and
Transformers only). With rosearch-optuna installed, `rosearch.load_student("path/to/this/folder")`
loads it without remote code. ONNX Runtime:

```python
import onnxruntime as ort

session = ort.InferenceSession("path/to/this/folder/model.onnx")
batch = tokenizer(["a gripping, beautifully acted film"], truncation=True, return_tensors="np")
logits = session.run(["logits"], {{"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}})[0]
```

`model.onnx` (opset {onnx['opset']}, dynamic batch and length) agrees with PyTorch within
{onnx['tolerance']:g} (largest absolute logit difference measured at export: {onnx['max_abs_diff']:.1e}).
{stage}
## Limitations

Robustness was measured against the recipes above only, on {m['n_attack']} examples; it is
evidence, not a guarantee, against other attacks or other data. The student inherits the
teacher's biases and the data's domain.
"""
