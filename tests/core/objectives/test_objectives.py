import pytest
import torch

from core.errors import InvalidInputError, PerceptualUnavailableError
from core.objectives import LossWeights, Objective
from core.objectives.perceptual import PerceptualLoss, unavailable_reason
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


def test_missing_weights_name_the_file_and_how_to_restore_it(missing_lpips_weights):
    reason = unavailable_reason("vgg")
    assert str(missing_lpips_weights / "vgg.safetensors") in reason and "is missing" in reason
    assert "Re-install" in reason and "packaging/fetch_lpips.py" in reason
    with pytest.raises(PerceptualUnavailableError, match=r"vgg\.safetensors' is missing"):
        PerceptualLoss("vgg")


def test_objective_falls_back_to_pixel_loss_visibly(G, missing_lpips_weights):
    target = G.sample(1, 0)
    objective = Objective(G, target, None, LossWeights(pixel=0.0, lpips=1.0))
    assert not objective.uses_lpips
    assert objective.warnings and "Falling back to pixel loss" in objective.warnings[0]
    terms = objective(G.sample(2, 1), G.sample_latent(2, 1))
    assert set(terms) == {"pixel", "total"} and (terms["total"] > 0).all()


def test_lpips_runs_from_the_shipped_weights(G):
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
