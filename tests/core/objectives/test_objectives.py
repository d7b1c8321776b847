import pytest
import torch

from core.errors import InvalidInputError, PerceptualUnavailableError
from core.objectives import LossWeights, Objective
from core.objectives.perceptual import BACKBONE_FILES, PerceptualLoss, unavailable_reason
from core.objectives.pixel import pixel_loss
from core.objectives.priors import gaussian_nll


def _images(n=2, seed=0):
    return torch.rand(n, 3, 16, 16, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def test_pixel_loss_is_mse_per_image():
    a, b = _images(), _images(seed=1)
    assert torch.allclose(pixel_loss(a, b), (a - b).square().mean(dim=(1, 2, 3)))


def test_masked_pixels_do_not_count():
    target = _images(1)
    images = target.repeat(2, 1, 1, 1)
    images[:, :, :8] = 5.0  # wrong only in the top half
    weights = torch.ones(1, 1, 16, 16)
    weights[:, :, :8] = 0  # ...which the mask hides
    assert torch.count_nonzero(pixel_loss(images, target, weights)) == 0
    assert (pixel_loss(images, target) > 0).all()


def test_a_mask_that_hides_everything_is_refused():
    with pytest.raises(InvalidInputError, match="hides every pixel"):
        pixel_loss(_images(), _images(), torch.zeros(1, 1, 16, 16))


def test_prior_is_about_half_for_prior_draws():
    z = torch.randn(64, 100, generator=torch.Generator().manual_seed(0))
    nll = gaussian_nll(z, torch.zeros(100), torch.ones(100))
    assert nll.shape == (64,)
    assert abs(float(nll.mean()) - 0.5) < 0.02
    assert float(gaussian_nll(3 * z, torch.zeros(100), torch.ones(100)).mean()) > 4


@pytest.mark.parametrize("weights", [LossWeights(pixel=-1), LossWeights(lpips=float("nan")),
                                     LossWeights(pixel=0, lpips=0), LossWeights(lpips_net="resnet")])
def test_bad_weights_are_refused(weights):
    with pytest.raises(InvalidInputError):
        weights.validate()


def test_missing_backbone_names_the_file_and_folder(empty_torch_home):
    reason = unavailable_reason("vgg")
    assert BACKBONE_FILES["vgg"] in reason and str(empty_torch_home / "hub" / "checkpoints") in reason
    with pytest.raises(PerceptualUnavailableError, match=r"vgg16-397923af\.pth"):
        PerceptualLoss("vgg")


def test_objective_falls_back_to_pixel_loss_visibly(G, empty_torch_home):
    target = G.sample(1, 0)
    objective = Objective(G, target, None, LossWeights(pixel=0.0, lpips=1.0))
    assert not objective.uses_lpips
    assert objective.warnings and "Falling back to pixel loss" in objective.warnings[0]
    terms = objective(G.sample(2, 1), G.sample_latent(2, 1))
    assert set(terms) == {"pixel", "total"} and (terms["total"] > 0).all()


def test_lpips_runs_from_a_cached_backbone(G, stand_in_alexnet):
    assert unavailable_reason("alex") is None
    loss = PerceptualLoss("alex")
    a, b = G.sample(2, 0), G.sample(2, 1)
    assert torch.allclose(loss(a, a), torch.zeros(2), atol=1e-6)
    assert (loss(a, b) > 0).all()
    hide_all_but_corner = torch.zeros(1, 1, 64, 64)
    hide_all_but_corner[..., :8, :8] = 1
    assert not torch.allclose(loss(a, b, hide_all_but_corner), loss(a, b))
    objective = Objective(G, a[:1], None, LossWeights(lpips=1.0, lpips_net="alex"))
    assert objective.uses_lpips and not objective.warnings
    assert "lpips" in objective(b, G.sample_latent(2, 1))


def test_a_corrupt_backbone_file_is_reported(stand_in_alexnet):
    stand_in_alexnet.write_bytes(b"not a checkpoint")
    with pytest.raises(PerceptualUnavailableError, match="could not be loaded"):
        PerceptualLoss("alex")
