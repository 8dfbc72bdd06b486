"""DataLoader, samplers and default_collate (torch.utils.data), with a whole-batch fast path."""
import collections.abc
import math

import numpy as np

import autograd_core as ag
from autograd_core.creation import _rng

from .dataset import IterableDataset

_make = ag.Tensor._make

_COLLATE_ERR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
                "found {}")


def default_collate(batch):
    """Merge a list of samples into a batch, as PyTorch's default_collate.

    Tensors and NumPy arrays are stacked along a new first dimension (dtype kept: float32 stays
    float32, int64 labels stay int64); Python ints become an int64 tensor, Python floats a float64
    tensor (as PyTorch: call .float() for float32), bools a bool tensor, NumPy scalars a tensor of
    their dtype; strings are left as a list; dicts, named tuples, tuples and lists are collated field
    by field (a tuple sample gives a list, as in PyTorch).
    """
    if not isinstance(batch, (list, tuple)):
        batch = list(batch)
    if len(batch) == 0:
        raise ValueError("default_collate: the batch is empty")
    elem = batch[0]
    if isinstance(elem, ag.Tensor):
        return _stack_tensors(batch)
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind not in "biufc":
            raise TypeError(_COLLATE_ERR.format(f"a NumPy array of dtype {elem.dtype}"))
        return _stack_tensors([_make(np.asarray(b)) for b in batch])
    if isinstance(elem, np.generic):
        if elem.dtype.kind not in "biufc":
            raise TypeError(_COLLATE_ERR.format(f"a NumPy scalar of dtype {elem.dtype}"))
        return _make(np.asarray(batch, dtype=elem.dtype))
    if isinstance(elem, bool):
        return _make(np.asarray(batch, dtype=np.bool_))
    if isinstance(elem, int):
        return _make(np.asarray(batch, dtype=np.int64))
    if isinstance(elem, float):
        return _make(np.asarray(batch, dtype=np.float64))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, collections.abc.Mapping):
        collated = {key: default_collate([d[key] for d in batch]) for key in elem}
        try:
            return type(elem)(collated)
        except TypeError:
            return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # named tuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(b) != size for b in batch):
            raise RuntimeError("default_collate: each element in list of batch should be of equal size, got "
                               f"lengths {sorted({len(b) for b in batch})}")
        return [default_collate(list(s)) for s in zip(*batch)]
    raise TypeError(_COLLATE_ERR.format(type(elem).__name__))


def _stack_tensors(batch):
    shape = batch[0].shape
    for i, t in enumerate(batch):
        if t.shape != shape:
            raise RuntimeError(f"default_collate: stack expects each tensor to be equal size, but got {shape} "
                               f"at entry 0 and {t.shape} at entry {i}")
    if any(t.requires_grad for t in batch):
        return ag.stack(batch)
    return _make(np.stack([t._data for t in batch]))


def default_convert(data):
    """Turn NumPy arrays (also inside dicts/tuples/lists) into tensors; used when batch_size=None."""
    if isinstance(data, np.ndarray) and data.dtype.kind in "biufc":
        return _make(data)
    if isinstance(data, collections.abc.Mapping):
        return {k: default_convert(v) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, (tuple, list)):
        return type(data)(default_convert(d) for d in data)
    return data


# ---- samplers ------------------------------------------------------------------------------

class Sampler:
    """Yields dataset indices; subclasses define __iter__ (and __len__ where known)."""

    def __iter__(self):
        raise NotImplementedError


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)

    def _indices(self):
        return np.arange(len(self.data_source), dtype=np.int64)


class RandomSampler(Sampler):
    """A fresh random permutation each epoch (or num_samples draws with replacement).

    generator: an ag.Generator; when None the library's default generator is used at the start of
    each epoch, so ag.manual_seed makes the shuffling reproducible.
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if num_samples is not None and (not isinstance(num_samples, int) or num_samples <= 0):
            raise ValueError(f"RandomSampler: num_samples should be a positive integer, got {num_samples!r}")

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _indices(self):
        n = len(self.data_source)
        rng = _rng(self.generator)
        if self.replacement:
            return rng.integers(0, n, self.num_samples).astype(np.int64)
        reps = [rng.permutation(n) for _ in range(-(-self.num_samples // n))]
        return np.concatenate(reps)[:self.num_samples].astype(np.int64)

    def __iter__(self):
        return iter(self._indices().tolist())

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order each epoch."""

    def __init__(self, indices, generator=None):
        self.indices = np.asarray(list(indices), dtype=np.int64)
        self.generator = generator

    def _indices(self):
        return self.indices[_rng(self.generator).permutation(len(self.indices))]

    def __iter__(self):
        return iter(self._indices().tolist())

    def __len__(self):
        return len(self.indices)


class BatchSampler(Sampler):
    """Groups a sampler's indices into lists of batch_size (the last one shorter unless drop_last)."""

    def __init__(self, sampler, batch_size, drop_last=False):
        _check_batch_size(batch_size, "BatchSampler")
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def _index_batches(self):
        fast = getattr(self.sampler, "_indices", None)
        order = fast() if fast is not None else np.fromiter(iter(self.sampler), dtype=np.int64)
        n = len(order)
        stop = n - n % self.batch_size if self.drop_last else n
        return [order[i:i + self.batch_size] for i in range(0, stop, self.batch_size)]

    def __iter__(self):
        return (b.tolist() for b in self._index_batches())

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


def _check_batch_size(batch_size, what):
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise ValueError(f"{what}: batch_size should be a positive integer, got {batch_size!r}")


# ---- the loader ----------------------------------------------------------------------------

class DataLoader:
    """Iterate over a dataset in (shuffled) mini-batches, as torch.utils.data.DataLoader.

    dataset: a Dataset (anything with __getitem__ and __len__) or an IterableDataset.
    batch_size: samples per batch (None: yield samples one by one, unbatched).
    shuffle: a new random order each epoch, drawn from `generator` (an ag.Generator) or, when None,
      the library's default generator, so ag.manual_seed(s) makes the epochs reproducible.
    drop_last: drop the last incomplete batch.
    collate_fn: merges a list of samples into a batch (default_collate when None).
    sampler / batch_sampler: custom index orders (as PyTorch; exclusive with shuffle).
    num_workers, pin_memory, timeout, worker_init_fn, prefetch_factor, persistent_workers: accepted so
      PyTorch scripts run unchanged, and ignored (loading happens in the main process).

    Fast path: with the default collate, a dataset that can build a whole batch at once
    (TensorDataset, MNIST with its default or a Normalize transform, and Subsets of them) is batched by
    one fancy-indexing of its arrays instead of one Python call per sample; the batches are identical.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, generator=None, prefetch_factor=None, persistent_workers=False):
        if not (hasattr(dataset, "__getitem__") or hasattr(dataset, "__iter__")):
            raise TypeError(f"DataLoader: dataset must be a Dataset (with __getitem__ and __len__), "
                            f"got {type(dataset).__name__}")
        if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers should be a non-negative integer, got {num_workers!r}")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"DataLoader: collate_fn must be callable, got {type(collate_fn).__name__}")
        if generator is not None and not isinstance(generator, ag.Generator):
            raise TypeError(f"DataLoader: generator must be an ag.Generator, got {type(generator).__name__}")
        self.dataset = dataset
        self.num_workers, self.pin_memory, self.timeout = num_workers, pin_memory, timeout
        self.generator = generator
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle or sampler is not None or batch_sampler is not None:
                raise ValueError("DataLoader: an IterableDataset cannot be used with shuffle, sampler or "
                                 "batch_sampler (it sets its own order)")
        else:
            if not hasattr(dataset, "__len__"):
                raise TypeError(f"DataLoader: dataset {type(dataset).__name__} has no __len__")
            if len(dataset) == 0:
                raise ValueError(f"DataLoader: the dataset is empty ({type(dataset).__name__} of length 0)")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is not None:
            _check_batch_size(batch_size, "DataLoader")
        elif drop_last:
            raise ValueError("DataLoader: batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if not self._iterable and sampler is None:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and not self._iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size, self.drop_last = batch_size, drop_last
        self.sampler, self.batch_sampler = sampler, batch_sampler
        self._auto_collation = batch_sampler is not None or (self._iterable and batch_size is not None)
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn

    def __len__(self):
        if self._iterable:
            n = len(self.dataset)  # TypeError for a stream without a length, as PyTorch
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)

    def __iter__(self):
        if self._iterable:
            return self._iter_stream()
        if self.batch_sampler is None:
            return (self.collate_fn(self.dataset[i]) for i in self.sampler)
        return self._iter_batches()

    def _iter_batches(self):
        fast = getattr(self.dataset, "_get_batch", None) if self.collate_fn is default_collate else None
        if isinstance(self.batch_sampler, BatchSampler):
            batches = self.batch_sampler._index_batches()
        else:
            batches = (np.asarray(b, dtype=np.int64) for b in self.batch_sampler)
        for idx in batches:
            batch = fast(idx) if fast is not None else None
            if batch is None:
                dataset = self.dataset
                batch = self.collate_fn([dataset[i] for i in idx.tolist()])
            yield batch

    def _iter_stream(self):
        if self.batch_size is None:
            for sample in self.dataset:
                yield self.collate_fn(sample)
            return
        buf = []
        for sample in self.dataset:
            buf.append(sample)
            if len(buf) == self.batch_size:
                yield self.collate_fn(buf)
                buf = []
        if buf and not self.drop_last:
            yield self.collate_fn(buf)
