"""Creating tensors: tensor(), zeros(), arange(), randn() ..., the random Generator and manual_seed."""
import builtins

from . import dtypes as _dt
from .backend import xp
from .tensor import Tensor, as_array

_new_tensor = Tensor._make


def _finish(arr, requires_grad, what, device=None):
    _dt.check_device(device, what)
    t = _new_tensor(arr)
    if requires_grad:
        t.requires_grad_()
    return t


def _size(size, what):
    """Accept f(2, 3), f((2, 3)) and f([2, 3]) as PyTorch does."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    try:
        size = tuple(builtins.int(s) for s in size)
    except (TypeError, ValueError):
        raise TypeError(f"{what}: size must be integers, got {size!r}") from None
    if any(s < 0 for s in size):
        raise RuntimeError(f"{what}: negative dimension in size {size}")
    return size


def _float_dtype(dtype):
    return _dt.as_dtype(dtype) if dtype is not None else _dt._Defaults.dtype


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of data (Python floats become float32, NumPy arrays keep their dtype)."""
    _dt.check_device(device, "tensor")
    return Tensor(data, dtype=dtype, requires_grad=requires_grad)


def as_tensor(data, dtype=None, device=None):
    """Like tensor(), but shares memory with a NumPy array / Tensor when the dtype already matches."""
    if isinstance(data, Tensor) and (dtype is None or _dt.as_dtype(dtype) == data.dtype):
        return data
    return _finish(as_array(data, dtype, copy=False), False, "as_tensor", device)


def from_numpy(array):
    """A tensor sharing memory with the NumPy array (dtype kept)."""
    if not isinstance(array, xp.ndarray):
        raise TypeError(f"from_numpy: expected a NumPy ndarray, got {type(array).__name__}")
    return _new_tensor(array)


def zeros(*size, dtype=None, device=None, requires_grad=False):
    """A tensor of zeros."""
    return _finish(xp.zeros(_size(size, "zeros"), _float_dtype(dtype)), requires_grad, "zeros", device)


def ones(*size, dtype=None, device=None, requires_grad=False):
    """A tensor of ones."""
    return _finish(xp.ones(_size(size, "ones"), _float_dtype(dtype)), requires_grad, "ones", device)


def empty(*size, dtype=None, device=None, requires_grad=False):
    """An uninitialised tensor (zeros here, so nothing random leaks in)."""
    return _finish(xp.zeros(_size(size, "empty"), _float_dtype(dtype)), requires_grad, "empty", device)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    """A tensor filled with fill_value (dtype inferred from it as PyTorch)."""
    if dtype is None:
        dtype = (_dt.bool if isinstance(fill_value, builtins.bool) else
                 _dt.int64 if isinstance(fill_value, builtins.int) else _dt._Defaults.dtype)
    size = _size((size,) if not isinstance(size, (tuple, list)) else (tuple(size),), "full")
    return _finish(xp.full(size, fill_value, _dt.as_dtype(dtype)), requires_grad, "full", device)


def _like(t, dtype):
    a = t._data if isinstance(t, Tensor) else xp.asarray(t)
    return a.shape, (_dt.as_dtype(dtype) if dtype is not None else a.dtype)


def zeros_like(input, dtype=None, device=None, requires_grad=False):
    """Zeros with input's shape and dtype."""
    shape, d = _like(input, dtype)
    return _finish(xp.zeros(shape, d), requires_grad, "zeros_like", device)


def ones_like(input, dtype=None, device=None, requires_grad=False):
    """Ones with input's shape and dtype."""
    shape, d = _like(input, dtype)
    return _finish(xp.ones(shape, d), requires_grad, "ones_like", device)


def empty_like(input, dtype=None, device=None, requires_grad=False):
    """Zeros with input's shape and dtype."""
    return zeros_like(input, dtype, device, requires_grad)


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False):
    """fill_value with input's shape and dtype."""
    shape, d = _like(input, dtype)
    return _finish(xp.full(shape, fill_value, d), requires_grad, "full_like", device)


def rand_like(input, dtype=None, device=None, requires_grad=False, generator=None):
    """U(0, 1) samples with input's shape and dtype."""
    shape, d = _like(input, dtype)
    return _finish(_rng(generator).random(shape).astype(d), requires_grad, "rand_like", device)


def randn_like(input, dtype=None, device=None, requires_grad=False, generator=None):
    """N(0, 1) samples with input's shape and dtype."""
    shape, d = _like(input, dtype)
    return _finish(_rng(generator).standard_normal(shape).astype(d), requires_grad, "randn_like", device)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """Values from start to end (exclusive) by step; int64 for integer arguments, else float32."""
    if end is None:
        start, end = 0, start
    vals = [_scalar(v) for v in (start, end, step)]
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if dtype is None:
        dtype = _dt.int64 if all(isinstance(v, builtins.int) for v in vals) else _dt._Defaults.dtype
    return _finish(xp.arange(*vals).astype(_dt.as_dtype(dtype)), requires_grad, "arange", device)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    """steps values evenly spaced from start to end inclusive."""
    arr = xp.linspace(_scalar(start), _scalar(end), builtins.int(steps)).astype(_float_dtype(dtype))
    return _finish(arr, requires_grad, "linspace", device)


def logspace(start, end, steps, base=10.0, dtype=None, device=None, requires_grad=False):
    """steps values base**x for x evenly spaced from start to end."""
    arr = xp.logspace(_scalar(start), _scalar(end), builtins.int(steps), base=base).astype(_float_dtype(dtype))
    return _finish(arr, requires_grad, "logspace", device)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    """The n x m identity matrix."""
    return _finish(xp.eye(n, m, dtype=_float_dtype(dtype)), requires_grad, "eye", device)


def _scalar(v):
    return v.item() if isinstance(v, Tensor) else v


# ---- randomness ------------------------------------------------------------------------------

class Generator:
    """A random number generator (PCG64); pass as generator= to random functions and DataLoader."""

    def __init__(self, device="cpu"):
        _dt.check_device(device, "Generator")
        self._seed = 67280421310721
        self._np = xp.random.Generator(xp.random.PCG64(self._seed))

    def manual_seed(self, seed):
        """Reseed; returns self so `Generator().manual_seed(0)` chains."""
        self._seed = builtins.int(seed)
        self._np = xp.random.Generator(xp.random.PCG64(self._seed))
        return self

    def seed(self):
        """Reseed from the OS entropy; returns the new seed."""
        s = builtins.int(xp.random.SeedSequence().entropy % (2 ** 63))
        self.manual_seed(s)
        return s

    def initial_seed(self):
        """The seed last set."""
        return self._seed

    def get_state(self):
        """The generator's state (a dict) for checkpointing."""
        return self._np.bit_generator.state

    def set_state(self, state):
        """Restore a state returned by get_state."""
        self._np.bit_generator.state = state


default_generator = Generator()


def manual_seed(seed):
    """Seed the library's default generator: every random draw (init, dropout, shuffling) becomes reproducible."""
    default_generator.manual_seed(seed)
    return default_generator


def seed():
    """Seed the default generator from the OS entropy."""
    return default_generator.seed()


def initial_seed():
    """The default generator's seed."""
    return default_generator.initial_seed()


def get_rng_state():
    """The default generator's state."""
    return default_generator.get_state()


def set_rng_state(state):
    """Restore the default generator's state."""
    default_generator.set_state(state)


def _rng(generator=None):
    """The NumPy Generator behind an ag.Generator (the default one when None)."""
    return (generator or default_generator)._np


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """U(0, 1) samples."""
    arr = _rng(generator).random(_size(size, "rand"), dtype=xp.float64).astype(_float_dtype(dtype))
    return _finish(arr, requires_grad, "rand", device)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """N(0, 1) samples."""
    arr = _rng(generator).standard_normal(_size(size, "randn")).astype(_float_dtype(dtype))
    return _finish(arr, requires_grad, "randn", device)


def randint(low, high=None, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    """Integers in [low, high) (randint(high, size) too), int64 by default."""
    if size is None:
        if isinstance(high, (tuple, list)):
            low, high, size = 0, low, high
        else:
            raise TypeError("randint: size is required, e.g. ag.randint(0, 10, (3,))")
    if high is None:
        low, high = 0, low
    if high <= low:
        raise RuntimeError(f"randint: high ({high}) must be greater than low ({low})")
    arr = _rng(generator).integers(low, high, _size((size,) if isinstance(size, builtins.int) else (size,), "randint"))
    return _finish(arr.astype(_dt.as_dtype(dtype) or _dt.int64), requires_grad, "randint", device)


def randperm(n, generator=None, dtype=None, device=None, requires_grad=False):
    """A random permutation of 0..n-1 (int64)."""
    arr = _rng(generator).permutation(builtins.int(n)).astype(_dt.as_dtype(dtype) or _dt.int64)
    return _finish(arr, requires_grad, "randperm", device)


def normal(mean, std, size=None, generator=None, dtype=None, requires_grad=False):
    """Samples of N(mean, std^2); mean/std may be tensors (broadcast) or numbers with size."""
    m, s = _scalar_or_array(mean), _scalar_or_array(std)
    shape = size if size is not None else xp.broadcast_shapes(xp.shape(m), xp.shape(s))
    arr = _rng(generator).normal(m, s, shape)
    d = _dt.as_dtype(dtype) or (mean.dtype if isinstance(mean, Tensor) else _dt._Defaults.dtype)
    return _finish(arr.astype(d), requires_grad, "normal")


def _scalar_or_array(v):
    return v._data if isinstance(v, Tensor) else v


def bernoulli(input, p=None, generator=None):
    """0/1 samples with probabilities input (or p), same shape and dtype as input."""
    probs = input._data if isinstance(input, Tensor) else xp.asarray(input)
    if p is not None:
        probs = xp.full(probs.shape, p)
    if probs.size and (probs.min() < 0 or probs.max() > 1):
        raise RuntimeError("bernoulli: probabilities must be in [0, 1]")
    arr = (_rng(generator).random(probs.shape) < probs).astype(probs.dtype if probs.dtype.kind == "f" else _dt.float32)
    return _new_tensor(arr)


def multinomial(input, num_samples, replacement=False, generator=None):
    """Sample indices from each row of non-negative weights (1-D or 2-D input), int64."""
    w = input._data if isinstance(input, Tensor) else xp.asarray(input)
    if w.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: input must be 1-D or 2-D, got shape {w.shape}")
    rows = w.reshape(-1, w.shape[-1]).astype(xp.float64)
    if (rows < 0).any() or not xp.isfinite(rows).all():
        raise RuntimeError("multinomial: probabilities must be finite and non-negative")
    totals = rows.sum(axis=1)
    if (totals <= 0).any():
        raise RuntimeError("multinomial: each row of probabilities must have a positive sum")
    if not replacement and num_samples > rows.shape[1]:
        raise RuntimeError(f"multinomial: cannot draw {num_samples} samples without replacement from "
                           f"{rows.shape[1]} categories")
    if not replacement and num_samples > (rows > 0).sum(axis=1).min():
        raise RuntimeError("multinomial: not enough categories with nonzero probability to sample without replacement")
    rng = _rng(generator)
    probs = rows / totals[:, None]
    if replacement:
        cdf = xp.cumsum(probs, axis=1)
        cdf[:, -1] = 1.0
        u = rng.random((rows.shape[0], num_samples))
        out = xp.stack([xp.searchsorted(c, ui, side="right") for c, ui in zip(cdf, u)])
    else:
        # why: Gumbel-top-k draws k categories without replacement in one vectorised step
        with xp.errstate(divide="ignore"):
            keys = xp.log(probs) - xp.log(-xp.log(rng.random(probs.shape)))
        out = xp.argsort(-keys, axis=1, kind="stable")[:, :num_samples]
    out = out.astype(xp.int64)
    return _new_tensor(out.reshape(num_samples) if w.ndim == 1 else out)
