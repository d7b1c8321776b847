"""The curvature preconditioner of a preconditioned θ: a fixed linear part of θ computed from the generator.

Plain descent in X is slow on this problem because the pixel loss is badly conditioned: the mean Gauss-Newton
matrix H = E_x[J(x)ᵀJ(x)] of the default DCGAN (J = ∂G(x)/∂x, 48 prior draws) has eigenvalues from 1.2 to 2450.
H does not depend on the target, so a map θ can carry its inverse square root: with x = A·u and
A = c·(H + λI)^(-1/2), λ = ``damping`` × the largest eigenvalue, a gradient step of size η in u moves x by
−η·AAᵀ·∇ₓL, a damped Gauss-Newton step with the average curvature. c is set so that η = θ's step size is the
Gauss-Newton step of size 1 for the per-pixel mean squared error (∇ₓ mean MSE = (2/k)·Jᵀr for k image values):
c² = k / (2η). Measured on 32 held-out faces (plain descent, no training, λ = 0.01·max): 19.99 dB after 10 steps
against 18.2 for plain descent in X and 17.8 for Adam (``docs/landscape.md``).

J is taken at most 64 px wide (images are average-pooled first): the pixel loss of a large model is dominated
by the same low frequencies, and a 1024-px Jacobian would need gigabytes per draw.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from core.device import seeded_generator
from core.generators import Generator

CURVATURE_SIDE = 64  # J is taken on images pooled to at most this many pixels across
# λ / largest eigenvalue of H. With Adam continuing in Z, on 64 validation faces: 0.003 → 20.27 / 31.97 dB after
# 10 / 100 steps, 0.001 → 19.75 / 31.65, 0.01 → 19.93 / 31.20 (docs/landscape.md)
DEFAULT_DAMPING = 0.003
DEFAULT_DRAWS = 48
# A model wider than CURVATURE_SIDE: each draw costs D forward-mode passes of a network tens of times the embedded
# one's (≈ 20 minutes for FFHQ's 512 dimensions on a 2-core CPU), so by default one draw — the FFHQ runs in
# docs/landscape.md used one.
LARGE_MODEL_DRAWS = 1


def _pooled(images: torch.Tensor) -> torch.Tensor:
    side = images.shape[-1]
    return F.adaptive_avg_pool2d(images, CURVATURE_SIDE) if side > CURVATURE_SIDE else images


def curvature_draws(G: Generator) -> int:
    """How many prior draws a preconditioner for ``G`` averages by default."""
    return DEFAULT_DRAWS if G.resolution <= CURVATURE_SIDE else LARGE_MODEL_DRAWS


def mean_gauss_newton(G: Generator, to_latent, dims: int, draws: int = DEFAULT_DRAWS, seed: int = 0, *,
                      chunk: int | None = None) -> tuple[torch.Tensor, int]:
    """H = mean over ``draws`` standard-normal u of JᵀJ, J = ∂ pooled G(to_latent(u)) / ∂u, and k, the number
    of values in one pooled image. ``to_latent`` maps unit coordinates [1, D] to G's latent ([1, *shape]).
    ``chunk`` Jacobian columns are computed per batched forward-mode pass (all D at once by default): a large
    model's D passes at once would need D times its activations (512 × a 1024-px network's exhaust any RAM)."""
    def image(u: torch.Tensor) -> torch.Tensor:
        return _pooled(G.synthesize(to_latent(u[None]))).flatten()

    def jacobian(u: torch.Tensor) -> torch.Tensor:  # [k, D]
        if chunk is None or chunk >= dims:
            return torch.func.jacfwd(image)(u)
        basis = torch.eye(dims, device=u.device)
        columns = torch.func.vmap(lambda v: torch.func.jvp(image, (u,), (v,))[1], chunk_size=chunk)(basis)
        return columns.T

    H = torch.zeros(dims, dims, dtype=torch.float64, device=G.device)
    k = 0
    for i in range(draws):
        u = torch.randn(dims, generator=seeded_generator(seed + i)).to(G.device)
        J = jacobian(u)  # [k, D]
        k = J.shape[0]
        H += (J.T @ J).double() / draws
    return H, k


def preconditioner(H: torch.Tensor, k: int, step: float, damping: float = DEFAULT_DAMPING) -> torch.Tensor:
    """A = c·(H + λI)^(-1/2), symmetric, with λ = damping · max eig(H) and c² = k / (2·step) (see the module)."""
    evals, evecs = torch.linalg.eigh(H.double())
    lam = damping * float(evals[-1])
    scale = (k / (2.0 * step)) ** 0.5
    return (scale * evecs @ torch.diag((evals.clamp_min(0) + lam).rsqrt()) @ evecs.T).float()
