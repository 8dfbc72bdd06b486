"""Datasets: the Dataset base, TensorDataset, ConcatDataset, Subset and random_split (torch.utils.data)."""
import bisect
import math

import numpy as np

import autograd_core as ag
from autograd_core.creation import _rng

_make = ag.Tensor._make


class Dataset:
    """A map-style dataset: subclasses define __getitem__(index) and __len__(); `a + b` concatenates."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A stream of samples: subclasses define __iter__(); DataLoader batches what it yields in order."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")

    def __add__(self, other):
        raise TypeError("IterableDataset does not support + (concatenation needs indexing)")


def _as_tensor(x, what):
    if isinstance(x, ag.Tensor):
        return x
    if isinstance(x, np.ndarray):
        return ag.from_numpy(x)
    try:
        return ag.tensor(x)
    except TypeError:
        raise TypeError(f"{what}: expected tensors or arrays, got {type(x).__name__}") from None


class TensorDataset(Dataset):
    """Samples are the rows of the given tensors: dataset[i] == tuple(t[i] for t in tensors).

    NumPy arrays are accepted too (wrapped without copying). All tensors must have the same size in
    their first dimension. DataLoader batches a TensorDataset by indexing the arrays with the whole
    batch of indices at once (no per-sample Python calls).
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: needs at least one tensor")
        tensors = tuple(_as_tensor(t, "TensorDataset") for t in tensors)
        for i, t in enumerate(tensors):
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: tensor {i} is 0-d; every tensor needs a first (sample) dimension")
        sizes = [t.shape[0] for t in tensors]
        if any(s != sizes[0] for s in sizes):
            shapes = ", ".join(str(tuple(t.shape)) for t in tensors)
            raise ValueError(f"TensorDataset: size mismatch between tensors: first dimensions {sizes} "
                             f"(shapes {shapes}); all tensors must have the same number of samples")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]

    def _get_batch(self, indices):
        """The collated batch for an int64 index array (what default_collate would build), or None."""
        if any(t.requires_grad for t in self.tensors):
            return None
        return [_make(t._data[indices]) for t in self.tensors]


class ConcatDataset(Dataset):
    """The datasets one after the other."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset: does not support IterableDataset")
        self.cumulative_sizes = []
        total = 0
        for d in self.datasets:
            total += len(d)
            self.cumulative_sizes.append(total)

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        n = len(self)
        if index < 0:
            if -index > n:
                raise IndexError(f"ConcatDataset: index {index} out of range for length {n}")
            index += n
        if index >= n:
            raise IndexError(f"ConcatDataset: index {index} out of range for length {n}")
        k = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[k - 1] if k > 0 else 0
        return self.datasets[k][index - start]


class Subset(Dataset):
    """The samples of `dataset` at `indices` (in that order)."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        if isinstance(indices, ag.Tensor):
            indices = indices.tolist()
        self.indices = list(indices) if not isinstance(indices, list) else indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __len__(self):
        return len(self.indices)

    def _get_batch(self, indices):
        inner = getattr(self.dataset, "_get_batch", None)
        if inner is None:
            return None
        return inner(np.asarray(self.indices, dtype=np.int64)[indices])


def random_split(dataset, lengths, generator=None):
    """Split a dataset into non-overlapping random Subsets of the given lengths.

    lengths: integers summing to len(dataset), or fractions summing to 1 (as PyTorch: each part gets
    floor(frac * n) and the remainder is dealt one by one, round-robin, from the first part).
    generator: an ag.Generator (the library's default generator when None, so ag.manual_seed applies).
    """
    n = len(dataset)
    lengths = list(lengths)
    if not lengths:
        raise ValueError("random_split: lengths is empty")
    if any(l < 0 for l in lengths):
        raise ValueError(f"random_split: lengths must be non-negative, got {lengths}")
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        counts = [int(math.floor(n * frac)) for frac in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if any(not float(l).is_integer() for l in lengths):
        raise ValueError(f"random_split: lengths must be integers or fractions summing to 1, got {lengths}")
    lengths = [int(l) for l in lengths]
    if sum(lengths) != n:
        raise ValueError(f"random_split: sum of input lengths ({sum(lengths)}) does not equal the length of "
                         f"the input dataset ({n})")
    perm = _rng(generator).permutation(n).tolist()
    out, start = [], 0
    for l in lengths:
        out.append(Subset(dataset, perm[start:start + l]))
        start += l
    return out
