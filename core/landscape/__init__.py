"""Landscape learning (Liu et al., ICCV 2023): training θ: Z→X so a few descent steps invert well, its gate, and
the loss slices that show the landscape the optimiser walks through. θ itself is ``core.theta``."""

from core.landscape.gate import gate
from core.landscape.learning import LandscapeTrainConfig, TrainStep, train_landscape
from core.landscape.slicing import (
    LandscapeSlice,
    SliceConfig,
    SliceRow,
    landscape_trajectory,
    latent_trajectory,
    save_slice,
    slice_for_photo,
)
from core.landscape.training_run import TrainingOutcome, run_training

__all__ = ["LandscapeSlice", "LandscapeTrainConfig", "SliceConfig", "SliceRow", "TrainStep",
           "TrainingOutcome", "gate", "landscape_trajectory", "latent_trajectory", "run_training", "save_slice",
           "slice_for_photo", "train_landscape"]
