"""Age as every recipe's age head sees it: :data:`AGE_BINS` one-year bins (the last one: that age
and over), trained on soft labels around the true age (:func:`soft_age`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

AGE_BINS = 101


def soft_age(ages: torch.Tensor, sigma: float = 2.0, widen: float = 0.0) -> torch.Tensor:
    """Gaussian label distribution over the bins around each true age: ``sigma`` years wide, or
    ``widen`` times the age where that is wider (for the old, whose ages are less certain)."""
    import torch  # here, not at the top: the data modules read AGE_BINS without torch

    ages = ages.float()
    bins = torch.arange(AGE_BINS, dtype=torch.float32, device=ages.device)
    width = torch.clamp(ages * widen, min=sigma)[:, None] if widen else sigma
    p = torch.exp(-0.5 * ((bins[None] - ages[:, None]) / width) ** 2)
    return p / p.sum(1, keepdim=True)
