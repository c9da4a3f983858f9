"""The search: genome encoding, fitness, the trial objective and the Optuna study."""
