"""Age and gender directions from attribute classifiers (InterFaceGAN), for any model, and what they do.

Samples of the model are labelled by dlib's age and gender classifiers (:mod:`core.attributes`): the oldest third
against the youngest third (the middle third is left out: a classifier's reading there is mostly noise), male or
not. A linear boundary is fitted to each set of labels
(:func:`~core.directions.linear.supervised_direction`), and each normal is then conditioned on the other
(:func:`~core.directions.apply.conditional`), so ageing a face does not change its gender as the classifier reads
it, and the reverse. :func:`measure_edit` reports what an edit does to the classifiers' readings of held-out faces.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from core.alignment.framing import framing_for
from core.attributes.classifier import AttributeClassifier
from core.directions.apply import apply_directions, conditional
from core.directions.library import Direction
from core.directions.linear import supervised_direction
from core.generators import Generator

DEFAULT_SAMPLES = 1000
BATCH = 32
HELD_OUT_SEED = 1_000_000  # measurement faces never overlap the labelled ones
AGE, GENDER = "age (classifier)", "gender (classifier)"  # beside a library's own "age", not instead of it
EXTREMES = 1 / 3  # age is fitted on the youngest and oldest thirds (InterFaceGAN keeps only clear examples)


@dataclass(frozen=True)
class EditEffect:
    """The classifiers' readings of the same held-out faces before and after an edit: mean change ± SE."""

    amount: float
    faces: int
    age_change: float  # years
    age_se: float
    male_change: float  # probability of "male", in [−1, 1]
    male_se: float

    def to_dict(self) -> dict[str, float]:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in self.__dict__.items()}


def classifier_for(G: Generator) -> AttributeClassifier:
    """The classifiers cutting chips through ``G``'s framing (measured once and cached if not shipped)."""
    return AttributeClassifier.from_framing(framing_for(G)).to(G.device)


@torch.no_grad()
def read_attributes(G: Generator, latents: np.ndarray, space: str | None,
                    classifier: AttributeClassifier) -> tuple[np.ndarray, np.ndarray]:
    """(age in years [N], probability of "male" [N]) of the faces of ``latents`` [N, *shape]."""
    ages, males = [], []
    for first in range(0, len(latents), BATCH):
        code = torch.from_numpy(np.ascontiguousarray(latents[first:first + BATCH], dtype=np.float32)).to(G.device)
        age, male = classifier(G.synthesize(code, space).clamp(-1, 1))
        ages.append(age.cpu().numpy())
        males.append(male.cpu().numpy())
    return np.concatenate(ages), np.concatenate(males)


def attribute_directions(G: Generator, *, samples: int = DEFAULT_SAMPLES, seed: int = 0
                         ) -> tuple[list[Direction], dict[str, float]]:
    """Age and gender directions (toward older, toward male) for ``G``, each conditioned on the other, and the labels'
    figures (median age, share of male faces, training accuracies)."""
    classifier = classifier_for(G)
    latents = G.sample_latent(samples, seed).cpu().numpy()
    ages, males = read_attributes(G, latents, None, classifier)
    median = float(np.median(ages))
    low, high = np.quantile(ages, [EXTREMES, 1 - EXTREMES])  # the middle third's labels are mostly noise
    clear = (ages <= low) | (ages >= high)
    age = supervised_direction(G, latents[clear], ages[clear] >= high, AGE)
    gender = supervised_direction(G, latents, males > 0.5, GENDER)
    made = [conditional(age, [gender]), conditional(gender, [age])]
    for i, direction in enumerate(made):
        made[i] = direction.replace(method="classifier", provenance={
            **direction.provenance, "classifier": "dlib age and gender (Cydral, CC0)", "samples": samples,
            "seed": seed, "labels": "oldest vs youngest third" if i == 0 else "p(male) above 0.5"})
    figures = {"median_age": median, "male_share": float((males > 0.5).mean()),
               "age_accuracy": age.provenance["training_accuracy"],
               "gender_accuracy": gender.provenance["training_accuracy"]}
    return made, figures


def measure_edit(G: Generator, direction: Direction, amount: float, *, faces: int = 64,
                 classifier: AttributeClassifier | None = None) -> EditEffect:
    """What moving held-out faces by ``amount`` std units along ``direction`` does to the classifiers' readings."""
    classifier = classifier or classifier_for(G)
    latents = G.sample_latent(faces, HELD_OUT_SEED).cpu().numpy()
    moved = apply_directions(latents, [(direction, amount)])
    age0, male0 = read_attributes(G, latents, None, classifier)
    age1, male1 = read_attributes(G, moved, None, classifier)
    d_age, d_male = age1 - age0, male1 - male0
    n = len(latents)
    return EditEffect(amount, n, float(d_age.mean()), float(d_age.std(ddof=1) / math.sqrt(n)),
                      float(d_male.mean()), float(d_male.std(ddof=1) / math.sqrt(n)))
