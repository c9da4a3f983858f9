"""`attack` without a study: examples attacked, the most tokens per query (less when the model's
tokenizer says its model takes fewer), texts per model call."""

DEFAULT_N = 50
DEFAULT_MAX_LENGTH = 128
DEFAULT_BATCH_SIZE = 64
