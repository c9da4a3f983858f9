"""Training: distillation losses and the Accelerate loop."""

from rosearch.train.losses import kd_loss
from rosearch.train.loop import FitResult, NonFiniteLoss, accuracy, fit, loader, make_accelerator, model_device, predict, predict_texts

__all__ = ["FitResult", "NonFiniteLoss", "accuracy", "fit", "kd_loss", "loader", "make_accelerator", "model_device", "predict", "predict_texts"]
