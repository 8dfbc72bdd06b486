"""Dropout layers: Dropout (elementwise) and Dropout1d/Dropout2d (whole channels)."""
import autograd_core as ag

from .module import Module


class _DropoutNd(Module):
    def __init__(self, p=0.5, inplace=False, inverted=True):
        super().__init__()
        if not isinstance(p, (int, float)) or not 0 <= p <= 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = float(p)
        self.inplace = inplace
        self.inverted = inverted

    def _mask_shape(self, shape):
        return shape

    def forward(self, input):
        p = self.p
        if not self.training:
            return input if self.inverted or p == 0 else input * (1.0 - p)
        if p == 0:
            return input
        if p == 1:
            return input * 0.0
        # keep each unit with probability 1 - p; ag's default generator, so ag.manual_seed reproduces it
        keep = ag.rand(*self._mask_shape(tuple(input.shape)), dtype=input.dtype).numpy() >= p
        mask = keep.astype(input.dtype)
        if self.inverted:
            mask *= 1.0 / (1.0 - p)
        return input * ag.from_numpy(mask)

    def extra_repr(self):
        s = f"p={self.p}, inplace={self.inplace}"
        return s if self.inverted else s + ", inverted=False"


class Dropout(_DropoutNd):
    """Zero each element with probability p while training; identity in eval() (PyTorch's inverted dropout).

    Inverted dropout scales the kept elements by 1/(1-p) during training, so the expected output
    equals the input and evaluation needs no change. The course (COURSE.md §2 "Dropout") uses
    non-inverted dropout: keep each unit with probability 1-p (the slides' "included with
    probability 1/2"), no scaling in training, and multiply by the keep probability 1-p at test
    time. Both give the same expectation; get the course's version with Dropout(p, inverted=False).
    Note p is the probability to *drop* (PyTorch), not the slides' keep probability.
    inplace is accepted for compatibility; the result is always a new tensor.
    """


class Dropout1d(_DropoutNd):
    """Zero whole channels of (N, C, L) or (C, L) input with probability p (inverted scaling, as Dropout)."""

    def _mask_shape(self, shape):
        if len(shape) not in (2, 3):
            raise ValueError(f"Dropout1d: expected 2-D or 3-D input, got shape {shape}")
        return shape[:-1] + (1,)


class Dropout2d(_DropoutNd):
    """Zero whole channels of (N, C, H, W) or (C, H, W) input with probability p (inverted scaling, as Dropout)."""

    def _mask_shape(self, shape):
        if len(shape) not in (3, 4):
            raise ValueError(f"Dropout2d: expected 3-D or 4-D input, got shape {shape}")
        return shape[:-2] + (1, 1)
