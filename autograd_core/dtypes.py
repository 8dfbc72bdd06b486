"""Dtypes (NumPy dtypes under PyTorch's names), the default dtype, and the 'cpu' device."""
import builtins

import numpy as _np

float32 = float = _np.dtype("float32")
float64 = double = _np.dtype("float64")
float16 = half = _np.dtype("float16")
int64 = long = _np.dtype("int64")
int32 = int = _np.dtype("int32")
int16 = short = _np.dtype("int16")
int8 = _np.dtype("int8")
uint8 = _np.dtype("uint8")
bool = _np.dtype("bool")
complex64 = _np.dtype("complex64")


class _Defaults:
    """The dtype that Python floats and float-creating functions use (float32, as PyTorch)."""
    dtype = float32


def set_default_dtype(d):
    """Set the dtype for new floating tensors (float32 or float64)."""
    d = as_dtype(d)
    if d.kind != "f":
        raise TypeError(f"set_default_dtype: only floating dtypes are allowed, got {d}")
    _Defaults.dtype = d


def get_default_dtype():
    """The dtype for new floating tensors."""
    return _Defaults.dtype


def as_dtype(d):
    """Normalise a dtype given as an ag/NumPy dtype, a NumPy type, or a name like 'float32'."""
    if d is None:
        return None
    try:
        return _np.dtype(d)
    except TypeError:
        raise TypeError(f"dtype: {d!r} is not a dtype (use ag.float32, ag.int64, ...)") from None


def is_floating(d):
    """True for floating dtypes (the only ones that can require grad)."""
    return _np.dtype(d).kind in "fc"


class device:
    """A device; only 'cpu' exists until a GPU backend does (so PyTorch's device code runs)."""

    def __init__(self, type="cpu", index=None):
        if isinstance(type, device):
            type = type.type
        name = str(type)
        if ":" in name:
            name, idx = name.split(":", 1)
            index = builtins.int(idx)
        if name != "cpu":
            raise RuntimeError(f"device: '{type}' is not available; only 'cpu' is supported "
                               f"(ag.cuda.is_available() is False)")
        self.type = name
        self.index = index

    def __eq__(self, other):
        try:
            return device(other).type == self.type
        except (RuntimeError, TypeError):
            return False

    def __hash__(self):
        return hash(self.type)

    def __str__(self):
        return self.type

    def __repr__(self):
        return f"device(type='{self.type}')"


CPU = device("cpu")


def parse_to_args(args, kwargs, what):
    """(dtype, device) from PyTorch's to() forms: to(dtype), to('cpu'), to(device, dtype), to(tensor)."""
    dtype = kwargs.pop("dtype", None)
    dev = kwargs.pop("device", None)
    kwargs.pop("non_blocking", None)
    kwargs.pop("copy", None)
    if kwargs:
        raise TypeError(f"{what}: unexpected arguments {sorted(kwargs)}")
    for a in args:
        if hasattr(a, "_data") and hasattr(a, "dtype"):  # a Tensor: take its dtype
            dtype = a.dtype
        elif isinstance(a, (str, device)):
            dev = a
        elif a is not None:
            dtype = a
    check_device(dev, what)
    return (as_dtype(dtype) if dtype is not None else None), dev


def check_device(d, what):
    """Accept None / 'cpu' / device('cpu'); anything else is a clear error."""
    if d is None:
        return
    try:
        device(d)
    except RuntimeError as e:
        raise RuntimeError(f"{what}: {e}") from None


class cuda:
    """Stand-in for torch.cuda: no GPU backend yet."""

    @staticmethod
    def is_available():
        """False: no GPU backend exists yet."""
        return False

    @staticmethod
    def device_count():
        """0: no GPU backend exists yet."""
        return 0

    @staticmethod
    def manual_seed(seed):
        """No-op (no GPU), kept so PyTorch seeding code runs."""

    @staticmethod
    def manual_seed_all(seed):
        """No-op (no GPU), kept so PyTorch seeding code runs."""
