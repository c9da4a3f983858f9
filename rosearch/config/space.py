"""The `space` section: the student search space (DARTS/AdaBERT-style cells)."""

from __future__ import annotations

from dataclasses import dataclass, field

from rosearch.config._checks import fraction, nonempty_positive, positive
from rosearch.errors import ConfigError
from rosearch.student.vocab import BACKOFFS, parse_rule


#: Every operation a cell node can apply (see rosearch/student/ops.py).
KNOWN_OPS = (
    "attention", "ffn", "conv3", "conv5", "conv7", "dilconv3", "dilconv5",
    "maxpool3", "avgpool3", "skip", "zero",
)


#: The input stages a student can have in front of its tokenizer, in the order they run: the text
#: normaliser (rosearch/robust/normalize.py), the frequency-guided synonym stage
#: (rosearch/robust/synonyms.py), the word recogniser (rosearch/robust/recognizer.py). The synonym
#: stage runs before the recogniser, which would otherwise turn a rare synonym it has never seen
#: into a training word one edit away (measured: benchmarks/RESULTS.md, the input stages). Last,
#: random-substitution voting (rosearch/robust/vote.py): not a text → text stage but the way the
#: model is asked (several substituted copies of the text, their probabilities averaged). A stage
#: gene's value is "none" or some of them in this order joined by "+", e.g. "normalizer+recognizer".
STAGE_ORDER = ("normalizer", "fgws", "recognizer", "vote")
#: How the vote draws its copies: rosearch.robust.vote.DRAWS (that file ships with exports on its
#: own, so it cannot import this one; a test keeps the two equal).
VOTE_DRAWS = ("text", "word")
INPUT_STAGES = ("none", "recognizer", "normalizer", "normalizer+recognizer", "fgws", "fgws+recognizer", "normalizer+fgws+recognizer",
                "vote", "normalizer+fgws+recognizer+vote")


def valid_stage_gene(gene: str) -> bool:
    """"none", or stages of STAGE_ORDER, each once and in that order, joined by "+"."""
    if gene == "none":
        return True
    names = gene.split("+")
    return all(n in STAGE_ORDER for n in names) and [STAGE_ORDER.index(n) for n in names] == sorted({STAGE_ORDER.index(n) for n in names})


def stage_names(gene: str) -> tuple[str, ...]:
    """The stages a stage gene's value runs, in order: () for "none"."""
    return () if gene == "none" else tuple(gene.split("+"))


@dataclass
class SpaceConfig:
    """The student search space: DARTS/AdaBERT-style cells of a few nodes, repeated `n_cells` times."""

    hidden_sizes: list[int] = field(default_factory=lambda: [64, 128, 256])
    # Width of the token embeddings (projected to hidden_size when they differ).
    embedding_sizes: list[int] = field(default_factory=lambda: [64, 128])
    n_cells: list[int] = field(default_factory=lambda: [1, 2, 3, 4])
    # Intermediate nodes per cell; each sums two operations applied to two earlier states.
    n_nodes: int = 3
    # Attention heads (only used when a node picks attention); a count is offered only for the
    # hidden sizes it divides.
    heads: list[int] = field(default_factory=lambda: [1, 2, 4])
    # Feed-forward width as a multiple of hidden_size (only used when a node picks ffn).
    ffn_multipliers: list[int] = field(default_factory=lambda: [1, 2, 4])
    ops: list[str] = field(default_factory=lambda: list(KNOWN_OPS))
    dropout: float = 0.1
    # The input stages in front of the student (a gene when more than one value is given): none, or
    # some of normalizer, fgws, recognizer, vote in that order joined by "+" (STAGE_ORDER above).
    input_stages: list[str] = field(default_factory=lambda: ["none"])
    # The fgws stage replaces words seen fewer times than this in the training text by their most
    # frequent synonym (rosearch.robust.synonyms).
    fgws_min_count: int = 4
    # The vote stage: copies of the text classified, each word with substitutes replaced with
    # probability vote_rate; substitutes are synonyms seen ≥ fgws_min_count times in training
    # (rosearch.robust.vote). Each copy is one more model pass.
    vote_copies: int = 8
    vote_rate: float = 0.25
    # How the copies are drawn: text (every copy redrawn for each text, as SAFER: an attack meets
    # fresh noise with each query) or word (each word's fate in each copy fixed by the word, so an
    # edit changes only the edited word's copies). rosearch.robust.vote.
    vote_draw: str = "text"
    # The student's vocabulary (a gene when more than one is given; rosearch.student.vocab): full
    # (every teacher word piece), seen:K (pieces seen ≥ K times in the training text) or top:N
    # (the N most frequent). Rows start from the teacher's embeddings like the full table's.
    vocabularies: list[str] = field(default_factory=lambda: ["full"])
    # Where a piece outside a reduced vocabulary goes: nearest (the kept piece closest in the
    # teacher's embedding space) or unk (the [UNK] row).
    vocabulary_backoff: str = "nearest"

    def __post_init__(self) -> None:
        nonempty_positive("hidden_sizes", self.hidden_sizes)
        nonempty_positive("embedding_sizes", self.embedding_sizes)
        nonempty_positive("n_cells", self.n_cells)
        nonempty_positive("heads", self.heads)
        nonempty_positive("ffn_multipliers", self.ffn_multipliers)
        if not 1 <= self.n_nodes <= 8:
            raise ConfigError("n_nodes", self.n_nodes, "Use 1 to 8 nodes per cell.")
        if not self.ops:
            raise ConfigError("ops", self.ops, f"Give at least one of: {', '.join(KNOWN_OPS)}.")
        for i, op in enumerate(self.ops):
            if op not in KNOWN_OPS:
                raise ConfigError(f"ops[{i}]", op, f"Use one of: {', '.join(KNOWN_OPS)}.")
        if set(self.ops) == {"zero"}:
            raise ConfigError("ops", self.ops, "A space of only 'zero' builds students that ignore their input.")
        if "attention" in self.ops:
            for h in self.hidden_sizes:
                if not any(h % n == 0 for n in self.heads):
                    raise ConfigError("hidden_sizes", h, f"No head count in heads {self.heads} divides it.")
        fraction("dropout", self.dropout, high_open=True)
        if not self.input_stages or len(set(self.input_stages)) != len(self.input_stages):
            raise ConfigError("input_stages", self.input_stages, f"Give one or more of: {', '.join(INPUT_STAGES)}, each once.")
        for i, stage in enumerate(self.input_stages):
            if not valid_stage_gene(stage):
                raise ConfigError(f"input_stages[{i}]", stage, f"Use none, or some of {', '.join(STAGE_ORDER)} in this order joined "
                                  f"by '+' (e.g. {', '.join(INPUT_STAGES[1:4])}).")
        positive("fgws_min_count", self.fgws_min_count)
        positive("vote_copies", self.vote_copies)
        fraction("vote_rate", self.vote_rate, low_open=True)
        if self.vote_draw not in VOTE_DRAWS:
            raise ConfigError("vote_draw", self.vote_draw, f"Use one of: {', '.join(VOTE_DRAWS)}.")
        if not self.vocabularies or len(set(self.vocabularies)) != len(self.vocabularies):
            raise ConfigError("vocabularies", self.vocabularies, "Give one or more vocabulary rules (full, seen:K, top:N), each once.")
        for i, rule in enumerate(self.vocabularies):
            try:
                parse_rule(rule)
            except ValueError as e:
                raise ConfigError(f"vocabularies[{i}]", rule, _sentence(str(e).split(": ", 1)[1])) from None
        if self.vocabulary_backoff not in BACKOFFS:
            raise ConfigError("vocabulary_backoff", self.vocabulary_backoff, f"Use one of: {', '.join(BACKOFFS)}.")


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."
