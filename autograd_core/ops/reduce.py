"""Reductions: sum, mean, prod, var/std, max/min, amax/amin, logsumexp, norm, cumsum, arg- and bool reductions."""
import builtins

from ..backend import xp
from ..dispatch import implements
from ..function import Function

Tensor = None  # bound by tensor.py


def _bind_tensor(cls):
    global Tensor
    Tensor = cls


def _array(x):
    return x._data if isinstance(x, Tensor) else xp.asarray(x)


def reduce_dims(x, dim, what):
    """Normalise dim (None, int, tuple/list; negative allowed) to a sorted tuple of axes, or None."""
    ndim = _array(x).ndim
    if dim is None:
        return None
    dims = (dim,) if not isinstance(dim, (tuple, list)) else tuple(dim)
    n = builtins.max(ndim, 1)
    out = []
    for d in dims:
        if not -n <= int(d) < n:
            raise IndexError(f"{what}: dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                             f"but got {d}) for a tensor of shape {_array(x).shape}")
        out.append(int(d) % n)
    if ndim == 0:
        return None
    return tuple(sorted(set(out)))


def _kept_shape(shape, axes):
    """The shape with the reduced axes kept as size 1."""
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _pick(dim, axis, keepdim, keepdims):
    """PyTorch's dim/keepdim or NumPy's axis/keepdims spelling."""
    return (axis if dim is None else dim), bool(keepdims if keepdims is not None else keepdim)


class Sum(Function):
    _array_forward = True

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.in_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        return xp.sum(x, axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        if not ctx.keepdim:
            grad = grad.reshape(_kept_shape(ctx.in_shape, ctx.axes))
        return xp.broadcast_to(grad, ctx.in_shape), None, None


class Mean(Function):
    _array_forward = True

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.in_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        ctx.count = x.size // builtins.max(xp.sum(x, axis=axes, keepdims=keepdim).size, 1) if x.size else 0
        with xp.errstate(all="ignore"):
            return xp.mean(x, axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        if not ctx.keepdim:
            grad = grad.reshape(_kept_shape(ctx.in_shape, ctx.axes))
        return xp.broadcast_to(grad / ctx.count, ctx.in_shape), None, None


@implements(xp.sum)
def _np_sum(a, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
    return sum(a, axis, keepdims)


def sum(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    """Sum over dim (int or tuple; all dims when None)."""
    dim, keepdim = _pick(dim, axis, keepdim, keepdims)
    if dtype is not None:
        input = input.to(dtype) if isinstance(input, Tensor) else Tensor._make(xp.asarray(input, dtype))
    arr = _array(input)
    if arr.dtype.kind in "biu" and dtype is None:
        input = Tensor._make(arr.astype(xp.int64))
    return Sum.apply(input, reduce_dims(input, dim, "sum"), keepdim)


@implements(xp.mean)
def _np_mean(a, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
    return mean(a, axis, keepdims)


def mean(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    """Mean over dim (floating tensors only, as PyTorch)."""
    dim, keepdim = _pick(dim, axis, keepdim, keepdims)
    if dtype is not None:
        input = input.to(dtype)
    if _array(input).dtype.kind not in "fc":
        raise RuntimeError(f"mean: could not infer output dtype; input dtype {_array(input).dtype} must be "
                           f"floating point (use .float() first)")
    return Mean.apply(input, reduce_dims(input, dim, "mean"), keepdim)
