"""Training: distillation losses, the training plan of a run, and the one Accelerate loop."""

from rosearch.train.losses import kd_loss
from rosearch.train.loop import FitResult, NonFiniteLoss, accuracy, fit, loader, make_accelerator, model_device, predict, predict_texts
from rosearch.train.plan import Hook, LossFn, Run, TrainPlan

__all__ = ["FitResult", "Hook", "LossFn", "NonFiniteLoss", "Run", "TrainPlan", "accuracy", "fit", "kd_loss", "loader", "make_accelerator",
           "model_device", "predict", "predict_texts"]
