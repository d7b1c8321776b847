"""Age, gender and smile directions from what can be read off a face (InterFaceGAN), for any model, and what they do.

Samples of the model are labelled by dlib's age and gender classifiers (:mod:`core.attributes`): the oldest third
against the youngest third (the middle third is left out: a classifier's reading there is mostly noise), male or
not; and by the mouth's shape on the face mesh (:mod:`core.attributes.mouth`): the widest, most lifted third
against the least. A linear boundary is fitted to each set of labels
(:func:`~core.directions.linear.supervised_direction`). Age and gender are conditioned on each other
(:func:`~core.directions.apply.conditional`), so ageing a face does not change its gender as the classifier reads
it, and the reverse; smile is conditioned on both. :func:`measure_edit` reports what an edit does to the readings
of held-out faces.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from core.alignment.framing import framing_for
from core.attributes.classifier import AttributeClassifier
from core.attributes.mouth import read_mouths, smile_scores
from core.device import to_uint8_hwc
from core.directions.apply import apply_directions, conditional
from core.directions.library import Direction
from core.directions.linear import supervised_direction
from core.generators import Generator

DEFAULT_SAMPLES = 1000
BATCH = 32
HELD_OUT_SEED = 1_000_000  # measurement faces never overlap the labelled ones
AGE, GENDER = "age (classifier)", "gender (classifier)"  # beside a library's own "age", not instead of it
SMILE = "smile (landmarks)"
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
    mouth_faces: int = 0  # faces the mesh found before and after (the mouth figures' sample)
    width_change: float = float("nan")  # the mouth's width, % of the outer-eye-corner distance
    width_se: float = float("nan")
    lift_change: float = float("nan")  # how far the corners rise above the lips' middle, % of that distance
    lift_se: float = float("nan")

    def to_dict(self) -> dict[str, float | None]:
        """Rounded; a figure that could not be measured (no face found) is None, so the JSON stays valid."""
        return {k: (None if math.isnan(v) else round(v, 4)) if isinstance(v, float) else v
                for k, v in self.__dict__.items()}

    def summary(self) -> str:
        """"age +4.0 ± 0.7 years, p(male) +0.06 ± 0.03, mouth width +9.1 ± 0.6 %, corners +3.9 ± 0.3 %"."""
        text = (f"age {self.age_change:+.1f} ± {self.age_se:.1f} years, "
                f"p(male) {self.male_change:+.2f} ± {self.male_se:.2f}")
        if self.mouth_faces >= 2:
            text += (f", mouth width {self.width_change:+.1f} ± {self.width_se:.1f} %, corners {self.lift_change:+.1f}"
                     f" ± {self.lift_se:.1f} % of the eye distance")
        return text


def classifier_for(G: Generator) -> AttributeClassifier:
    """The classifiers cutting chips through ``G``'s framing (measured once and cached if not shipped)."""
    return AttributeClassifier.from_framing(framing_for(G)).to(G.device)


@dataclass(frozen=True)
class Readings:
    """What is read off the faces of N codes."""

    age: np.ndarray  # years [N]
    male: np.ndarray  # probability of "male" [N]
    mouth: np.ndarray  # (width, lift, opening) [N, 3] in eye distances; NaN rows where the mesh found no face


@torch.no_grad()
def read_attributes(G: Generator, latents: np.ndarray, space: str | None,
                    classifier: AttributeClassifier) -> Readings:
    """The classifiers' and the mesh's readings of the faces of ``latents`` [N, *shape] (each face drawn once)."""
    ages, males, mouths = [], [], []
    for first in range(0, len(latents), BATCH):
        code = torch.from_numpy(np.ascontiguousarray(latents[first:first + BATCH], dtype=np.float32)).to(G.device)
        images = G.synthesize(code, space).clamp(-1, 1)
        age, male = classifier(images)
        ages.append(age.cpu().numpy())
        males.append(male.cpu().numpy())
        mouths.append(read_mouths(to_uint8_hwc(images)))
    return Readings(np.concatenate(ages), np.concatenate(males), np.concatenate(mouths))


def _extremes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(which values are clear: the lowest or highest third, finite; which of those are high)."""
    finite = np.isfinite(values)
    low, high = np.quantile(values[finite], [EXTREMES, 1 - EXTREMES])  # the middle third's labels are mostly noise
    clear = finite & ((values <= low) | (values >= high))
    return clear, values[clear] >= high


def attribute_directions(G: Generator, *, samples: int = DEFAULT_SAMPLES, seed: int = 0
                         ) -> tuple[list[Direction], dict[str, float]]:
    """Age, gender and smile directions (toward older, male, smiling) for ``G`` and the labels' figures (median
    age, share of male faces, share of faces the mesh found, training accuracies)."""
    classifier = classifier_for(G)
    latents = G.sample_latent(samples, seed).cpu().numpy()
    read = read_attributes(G, latents, None, classifier)
    clear, older = _extremes(read.age)
    age = supervised_direction(G, latents[clear], older, AGE)
    gender = supervised_direction(G, latents, read.male > 0.5, GENDER)
    smiling_clear, smiling = _extremes(smile_scores(read.mouth))
    smile = supervised_direction(G, latents[smiling_clear], smiling, SMILE)
    made = [conditional(age, [gender]), conditional(gender, [age]), conditional(smile, [age, gender])]
    labels = ("oldest vs youngest third", "p(male) above 0.5", "widest, most lifted mouth vs the least, by third")
    for i, direction in enumerate(made):
        source = "Face Mesh landmarks (MediaPipe, Apache-2.0)" if i == 2 else "dlib age and gender (Cydral, CC0)"
        made[i] = direction.replace(method="classifier", provenance={
            **direction.provenance, "classifier": source, "samples": samples, "seed": seed, "labels": labels[i]})
    figures = {"median_age": float(np.median(read.age)), "male_share": float((read.male > 0.5).mean()),
               "faces_found": float(np.isfinite(read.mouth[:, 0]).mean()),
               "age_accuracy": age.provenance["training_accuracy"],
               "gender_accuracy": gender.provenance["training_accuracy"],
               "smile_accuracy": smile.provenance["training_accuracy"]}
    return made, figures


def _mean_se(values: np.ndarray) -> tuple[float, float]:
    n = len(values)
    if n < 2:
        return float("nan"), float("nan")
    return float(values.mean()), float(values.std(ddof=1) / math.sqrt(n))


def held_out_readings(G: Generator, faces: int, classifier: AttributeClassifier | None = None) -> Readings:
    """The readings of the ``faces`` held-out faces, before any edit (to share among several :func:`measure_edit`
    calls: on a 1024-px model each face costs a render)."""
    latents = G.sample_latent(faces, HELD_OUT_SEED).cpu().numpy()
    return read_attributes(G, latents, None, classifier or classifier_for(G))


def measure_edit(G: Generator, direction: Direction, amount: float, *, faces: int = 64,
                 classifier: AttributeClassifier | None = None, before: Readings | None = None) -> EditEffect:
    """What moving held-out faces by ``amount`` std units along ``direction`` does to the faces' readings
    (``before``: :func:`held_out_readings` of the same ``faces``, when already made)."""
    classifier = classifier or classifier_for(G)
    space = direction.space  # a layer-range edit needs per-layer codes: [N, w_dim] rows would pass for layers
    latents = G.sample_latent(faces, HELD_OUT_SEED, space).cpu().numpy()
    moved = apply_directions(latents, [(direction, amount)])
    before = before if before is not None else read_attributes(G, latents, space, classifier)
    if len(before.age) != faces:
        raise ValueError(f"The readings before the edit are of {len(before.age)} faces, not {faces}.")
    after = read_attributes(G, moved, space, classifier)
    mouth = 100 * (after.mouth - before.mouth)
    mouth = mouth[np.isfinite(mouth).all(1)]
    return EditEffect(amount, len(latents), *_mean_se(after.age - before.age), *_mean_se(after.male - before.male),
                      len(mouth), *_mean_se(mouth[:, 0]), *_mean_se(mouth[:, 1]))
