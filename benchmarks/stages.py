"""The input stages on the demo's hand-designed students: the clean predictions each changes, its
latency, and what it buys against what a user can paste and against word substitutions.

Each named genome baseline (default transformer-s, without a stage) is distilled once with its
demo-trial seed (the stages do not change training), then measured through six pipelines: no
stage, the normaliser, the word recogniser, the normaliser then the recogniser, the
frequency-guided synonym stage (fgws), and all three. For each: clean dev accuracy (n = all dev),
the share of dev predictions a stage leaves as they were against the pipeline without it (goal
≥ 99.5%; --genes adds the random-substitution vote's pipelines), the stages' latency per text, and on the study's evaluation set accuracy under
DeepWordBug, Pruthi, `unicode` (DeepWordBug with lookalikes, digits and symbols, accents and
fullwidth letters) and PWWS (WordNet synonyms; where WordNet is installed) — adaptive: every query
goes through the stages — and under four kinds of random noise (each word of three or more
letters edited with probability --noise: an invisible character inserted, a lookalike letter, a
digit or symbol for a letter, an accent). Each pipeline with a stage added is compared with the
one without it on the same examples (exact McNemar).

    python benchmarks/stages.py [--study demo] [--baselines transformer-s] [--trials N ... [--storage URL]]
        [--noise 0.5] [--genes G ...] [--recipes R ...] [--vote-draws word text] [--runs-dir runs]
        [--out benchmarks/stages.json]

--trials measures searched students too: each numbered trial of the stored study, distilled again
with its genome, seed and strategy, behind each of --genes (its architecture and vocabulary as
searched, its stages as given). --vote-draws measures each vote pipeline with each draw of the
copies (space.vote_draw), the second compared with the first. --genes and --recipes measure a part of the table (for one, `--recipes pwws embedding-swap` judges
the synonym stage by a WordNet attack and by one whose candidates come from elsewhere).
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import random
import time
from dataclasses import replace
from pathlib import Path

import torch

from _common import baseline_students, runnable_recipes, trial_students  # noqa: E402 - benchmarks/ is the script's folder
from rosearch.attack.unicode_recipe import ACCENTS, HOMOGLYPHS, SYMBOLS, one_edit
from rosearch.config import load_study
from rosearch.config.load import with_storage
from rosearch.config.schema import strategies
from rosearch.search.evaluate import measure_student
from rosearch.search.evaluations import summary
from rosearch.session import make_accelerator, prepare_study, quiet_libraries
from rosearch.robust.vote import SubstitutionVote
from rosearch.stats import format_ci, mcnemar, wilson
from rosearch.student.pipeline import StudentPipeline
from rosearch.table import format_table

RECIPES = ("deepwordbug", "pruthi", "unicode", "pwws")
GENES = ["none", "normalizer", "recognizer", "normalizer+recognizer", "fgws", "normalizer+fgws+recognizer",
         "vote", "fgws+vote", "normalizer+fgws+recognizer+vote"]
#: Each pipeline with a stage added, and the one it is compared with.
PAIRS = {"normalizer": "none", "normalizer+recognizer": "recognizer", "fgws": "none", "normalizer+fgws+recognizer": "normalizer+recognizer",
         "vote": "none", "fgws+vote": "fgws", "normalizer+fgws+recognizer+vote": "normalizer+fgws+recognizer"}
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u00ad", "\u2060", "\ufeff"]
NOISE = {
    "invisible": lambda w: [w[:i] + random.choice(INVISIBLE) + w[i:] for i in [random.randrange(1, len(w))]],
    "lookalike": lambda w: one_edit(w, HOMOGLYPHS),
    "symbol": lambda w: one_edit(w, SYMBOLS),
    "accent": lambda w: one_edit(w, ACCENTS),
}


def noisy(text: str, kind: str, rate: float, rng: random.Random) -> str:
    """`text` with each word of ≥ 3 letters edited by `kind` with probability `rate` (seeded)."""
    random.seed(rng.random())  # the edit tables draw from `random`, as TextAttack's transformations do
    words = text.split(" ")
    for i, w in enumerate(words):
        if len(w) >= 3 and w.isalpha() and w.isascii() and rng.random() < rate:
            edits = NOISE[kind](w)
            words[i] = edits[0] if edits else w
    return " ".join(words)


def predicted(pipeline: StudentPipeline, texts: list[str], *, batch: int = 64) -> list[int]:
    """The pipeline's predicted class of each text (stages, tokenizer, model; its vote), in batches."""
    return pipeline.predict_logits(texts, batch_size=batch).argmax(-1).tolist()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", default="demo")
    parser.add_argument("--baselines", nargs="*", default=["transformer-s"])
    parser.add_argument("--trials", nargs="+", type=int, default=[], help="also these trials of the study in --storage (searched students), each distilled again as it was")
    parser.add_argument("--storage", help="the study's storage URL for --trials (default: the study's own)")
    parser.add_argument("--noise", type=float, default=0.5, help="the share of words each kind of noise edits")
    parser.add_argument("--runs-dir", help="the runs folder whose prepare cache to use (default: the study's)")
    parser.add_argument("--genes", nargs="+", default=GENES[:6], choices=GENES, help="the pipelines to measure (default: the text stages')")
    parser.add_argument("--vote-rate", type=float, help="space.vote_rate for the vote's pipelines (default: the study's)")
    parser.add_argument("--vote-draws", nargs="+", choices=["word", "text"],
                        help="space.vote_draw for the vote's pipelines, one row each (default: the study's); the second is compared with the first")
    parser.add_argument("--recipes", nargs="+", default=list(RECIPES), help="the attacks (those this machine can run)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default="benchmarks/stages.json")
    args = parser.parse_args()
    quiet_libraries()
    torch.set_num_threads(args.threads)
    base = load_study(args.study, overrides={"runs_dir": args.runs_dir} if args.runs_dir else None)
    # the measured genes and the study's own (its baselines' genes must stay in the space)
    cfg = replace(base, space=replace(base.space, input_stages=list(dict.fromkeys([*args.genes, *base.space.input_stages])),
                                      vote_rate=args.vote_rate or base.space.vote_rate))
    accelerator = make_accelerator(cfg)
    prep = prepare_study(cfg, accelerator, progress=False)
    draws = args.vote_draws or [cfg.space.vote_draw]
    recipes = runnable_recipes(tuple(args.recipes))
    rng = random.Random(cfg.attack.seed)
    examples = prep.eval_examples
    noise = {kind: [noisy(e["text"], kind, args.noise, rng) for e in examples] for kind in NOISE}
    dev_texts = prep.splits["dev"]["text"]

    rows = []
    storage = args.storage or with_storage(cfg, None).search.storage
    students = itertools.chain(baseline_students(cfg, prep, accelerator, args.baselines),
                               trial_students(cfg, prep, accelerator, storage, args.trials) if args.trials else [])
    for name, _, student in students:
        for gene, draw in [(g, d) for g in args.genes for d in (draws if "vote" in g.split("+") else [None])]:
            t0 = time.perf_counter()
            pipeline = prep.pipeline(student, gene, max_length=cfg.data.max_length)
            if draw is not None:
                pipeline = replace(pipeline, vote=SubstitutionVote(prep.vote.table, copies=prep.vote.copies, rate=prep.vote.rate, seed=prep.vote.seed,
                                                                   draw=draw))
            m = measure_student(pipeline, cfg, prep, accelerator=accelerator, recipes=recipes, examples=examples, progress=False)
            predictions = predicted(pipeline, dev_texts)
            held = {kind: [p == e["label"] for p, e in zip(predicted(pipeline, texts), examples)] for kind, texts in noise.items()}
            rows.append({"baseline": name, "stages": gene, "vote_draw": draw, "metrics": m.metrics, "dev_correct": m.correct["dev"], "predictions": predictions,
                         "attacks": {k: {**r.metrics.to_dict(), "held": r.held()} for k, r in m.attacks.items()}, "noise": held,
                         "seconds": time.perf_counter() - t0})
            print(name, gene, draw or "", f"clean {m.metrics['accuracy']:.3f}", {k: round(v["accuracy_under_attack"], 3) for k, v in rows[-1]["attacks"].items()},
                  {k: round(sum(v) / len(v), 3) for k, v in held.items()}, f"stage {m.metrics.get('stage_latency_ms', 0):.3f} ms", flush=True)

    by = {(r["baseline"], r["stages"], r["vote_draw"]): r for r in rows}

    def first_draw(gene: str | None) -> str | None:
        return draws[0] if gene and "vote" in gene.split("+") else None

    for r in rows:
        # a vote drawn the second way is compared with the first; else a stage added, with the pipeline without it
        against = PAIRS.get(r["stages"])
        twin = (by.get((r["baseline"], r["stages"], draws[0])) if r["vote_draw"] not in (None, draws[0])
                else by.get((r["baseline"], against, first_draw(against))))
        if twin is not None:
            same = sum(a == b for a, b in zip(r["predictions"], twin["predictions"]))
            r["unchanged"] = {"k": same, "n": len(r["predictions"]), "share": same / len(r["predictions"]), "ci": list(wilson(same, len(r["predictions"])))}
            r["versus"] = versus(r, twin)
        # and a pipeline with word-substitution defences, with the same one without them (issue 20's "without the defence")
        plain = "+".join(n for n in r["stages"].split("+") if n not in ("fgws", "vote")) or "none"
        if plain != r["stages"] and plain != against and (r["baseline"], plain, None) in by:
            r["versus_plain"] = versus(r, by[(r["baseline"], plain, None)])
    record = {"study": cfg.name, "date": time.strftime("%Y-%m-%d"), "machine": f"{platform.machine()}, torch threads {args.threads}",
              "n_eval": len(examples), "n_dev": len(dev_texts), "noise_rate": args.noise, "strategy": strategies(cfg.kd)[0],
              "vote": {"copies": cfg.space.vote_copies, "rate": cfg.space.vote_rate},
              "rows": [{**{k: v for k, v in r.items() if k not in ("dev_correct", "predictions")},
                        "attacks": {k: summary(v) for k, v in r["attacks"].items()},
                        "noise": {k: {"accuracy": sum(v) / len(v), "ci": list(wilson(sum(v), len(v))), "n": len(v)} for k, v in r["noise"].items()}}
                       for r in rows]}
    Path(args.out).write_text(json.dumps(record, indent=1) + "\n")
    print("\n" + format_table(*table(record), style="markdown"))
    plain = [r for r in record["rows"] if "versus_plain" in r]
    if plain:
        attacks = list(plain[0]["attacks"])
        print("\n" + format_table(["student", "stages", "against", "clean", *attacks],
                                  [[r["baseline"], r["stages"] + (f" ({r['vote_draw']} draw)" if r["vote_draw"] else ""), r["versus_plain"]["against"],
                                    *(f"{100 * r['versus_plain'][k]['difference']:+.1f} (p={r['versus_plain'][k]['p_value']:.2g})" for k in ["clean", *attacks])]
                                   for r in plain], style="markdown"))


def versus(r: dict, twin: dict) -> dict:
    """Row `r` against `twin` on the same examples: exact McNemar on clean dev, each attack, each noise."""
    return {"against": twin["stages"] + (f" ({twin['vote_draw']} draw)" if twin["vote_draw"] else ""),
            "clean": mcnemar(r["dev_correct"], twin["dev_correct"]).to_dict(),
            **{k: mcnemar(r["attacks"][k]["held"], twin["attacks"][k]["held"]).to_dict() for k in r["attacks"]},
            **{f"noise:{k}": mcnemar(r["noise"][k], twin["noise"][k]).to_dict() for k in r["noise"]}}


def table(record: dict) -> tuple[list[str], list[list[str]]]:
    """The markdown table of a stored record; Δ and p against the same pipeline without the stage added."""
    attacks, noise = list(record["rows"][0]["attacks"]), list(record["rows"][0]["noise"])
    header = ["baseline", "stages", "dev predictions unchanged", "stage ms", "pipeline ms", "clean (dev)", *(f"under {a}" for a in attacks),
              *(f"noise: {k}" for k in noise)]

    def cell(value: float, ci, versus: dict | None) -> str:  # noqa: ANN001
        return format_ci(value, ci) + ("" if versus is None else f" ({100 * versus['difference']:+.1f}, p={versus['p_value']:.2g})")

    body = []
    for r in record["rows"]:
        m, v, u = r["metrics"], r.get("versus"), r.get("unchanged")
        body.append([r["baseline"], r["stages"] + (f" ({r['vote_draw']} draw)" if r.get("vote_draw") else ""), "–" if u is None else format_ci(u["share"], u["ci"]), f"{m.get('stage_latency_ms', 0):.3f}",
                     f"{m['latency_ms']:.2f}", cell(m["accuracy"], m.get("accuracy_ci"), v and v["clean"]),
                     *(cell(r["attacks"][a]["accuracy_under_attack"], r["attacks"][a]["under_attack_ci"], v and v[a]) for a in attacks),
                     *(cell(r["noise"][k]["accuracy"], r["noise"][k]["ci"], v and v[f"noise:{k}"]) for k in noise)])
    return header, body


if __name__ == "__main__":
    main()
