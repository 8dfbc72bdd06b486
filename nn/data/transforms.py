"""Image transforms for the dataset loaders: ToTensor, Normalize, Compose, Lambda (torchvision.transforms).

The loaders hand a transform the raw image as a NumPy uint8 array (H, W) — where torchvision hands
a PIL image — so `Compose([ToTensor(), Normalize((0.1307,), (0.3081,))])` ports unchanged.
"""
import numpy as np

import autograd_core as ag

_make = ag.Tensor._make


class ToTensor:
    """A (H, W) or (H, W, C) image array to a float32 tensor (C, H, W); uint8 is scaled to [0, 1]."""

    def __call__(self, pic):
        arr = pic._data if isinstance(pic, ag.Tensor) else np.asarray(pic)
        if arr.ndim == 2:
            arr = arr[None]
        elif arr.ndim == 3:
            arr = arr.transpose(2, 0, 1)
        else:
            raise ValueError(f"ToTensor: expected an image of shape (H, W) or (H, W, C), got {arr.shape}")
        if arr.dtype == np.uint8:
            return _make(arr.astype(np.float32) / np.float32(255))
        return _make(np.ascontiguousarray(arr))

    def _batch(self, imgs):
        # imgs: (B, H, W) uint8 -> (B, 1, H, W) float32, the same arithmetic as __call__
        return imgs[:, None].astype(np.float32) / np.float32(255)

    def __repr__(self):
        return "ToTensor()"


class Normalize:
    """(x - mean) / std per channel of a (C, H, W) tensor."""

    def __init__(self, mean, std):
        self.mean = tuple(float(m) for m in np.atleast_1d(mean))
        self.std = tuple(float(s) for s in np.atleast_1d(std))
        if any(s == 0 for s in self.std):
            raise ValueError(f"Normalize: std evaluated to zero, got {self.std}")

    def __call__(self, tensor):
        x = tensor._data if isinstance(tensor, ag.Tensor) else np.asarray(tensor)
        mean = np.asarray(self.mean, dtype=x.dtype).reshape(-1, 1, 1)
        std = np.asarray(self.std, dtype=x.dtype).reshape(-1, 1, 1)
        return _make((x - mean) / std)

    def _batch(self, x):
        # x: (B, C, H, W)
        mean = np.asarray(self.mean, dtype=x.dtype).reshape(1, -1, 1, 1)
        std = np.asarray(self.std, dtype=x.dtype).reshape(1, -1, 1, 1)
        return (x - mean) / std

    def __repr__(self):
        return f"Normalize(mean={self.mean}, std={self.std})"


class Compose:
    """Apply transforms one after the other."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x

    def _batch(self, imgs):
        for t in self.transforms:
            imgs = t._batch(imgs)
        return imgs

    def __repr__(self):
        return "Compose(" + ", ".join(repr(t) for t in self.transforms) + ")"


class Lambda:
    """A transform from a function."""

    def __init__(self, fn):
        if not callable(fn):
            raise TypeError(f"Lambda: expected a callable, got {type(fn).__name__}")
        self.fn = fn

    def __call__(self, x):
        return self.fn(x)


def batchable(transform):
    """Whether transform can run on a whole (B, H, W) uint8 batch at once (ToTensor, then Normalizes)."""
    if isinstance(transform, ToTensor):
        return True
    if isinstance(transform, Compose):
        ts = transform.transforms
        return bool(ts) and isinstance(ts[0], ToTensor) and all(isinstance(t, Normalize) for t in ts[1:])
    return False
