"""Reductions: sum, mean, prod, var/std, max/min, amax/amin, logsumexp, norm, cumsum, arg- and bool reductions."""
import builtins
from collections import namedtuple

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
    formula = "grad_x = broadcast(grad, x.shape)"
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
    formula = "grad_x = broadcast(grad, x.shape) / n"
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


# ---- products, spreads and norms --------------------------------------------------------------

def _reduced_count(shape, axes):
    """How many elements each output element of a reduction over axes combines."""
    n = 1
    for i, s in enumerate(shape):
        if axes is None or i in axes:
            n *= s
    return n


def _out_shape(shape, axes, keepdim):
    """The shape a reduction over axes produces."""
    if keepdim:
        return _kept_shape(shape, axes)
    if axes is None:
        return ()
    return tuple(s for i, s in enumerate(shape) if i not in axes)


class Prod(Function):
    formula = "grad_x = grad * y / x  (the product of the other elements)"
    _array_forward = True

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.in_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        y = xp.prod(x, axis=axes, keepdims=keepdim)
        zero = x == 0
        # why: y / x is the gradient only without zeros; with zeros the mask below is kept as a constant
        ctx.save_for_backward(x, y, zero if zero.any() else None)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y, zero = ctx.saved_tensors
        kept = _kept_shape(ctx.in_shape, ctx.axes)
        if not ctx.keepdim:
            grad = grad.reshape(kept)
        if zero is None:
            return grad * (y.reshape(kept) / x), None, None
        # why: the product of the *other* elements, written so that its own derivative (create_graph) is
        # right too: with one zero x_k in a slice, d/dx_j = x_k * p / x_j (value 0, derivative p / x_j);
        # with two zeros j, k, d/dx_j = x_k * p; with three or more every second derivative is 0.
        axes = ctx.axes
        n_zero = zero.sum(axis=axes, keepdims=True)
        x_nz = xp.where(zero, 1, x)
        p_nz = xp.prod(x_nz, axis=axes, keepdims=True)
        z_sum = xp.sum(xp.where(zero, x, 0), axis=axes, keepdims=True)
        at_nonzero = p_nz / x_nz * xp.where(n_zero == 0, 1, z_sum) * (n_zero <= 1)
        at_zero = p_nz * xp.where(n_zero == 1, 1, z_sum - x) * ((n_zero == 1) | (n_zero == 2))
        return grad * xp.where(zero, at_zero, at_nonzero), None, None


def _var_array(x, axes, dof, keepdim):
    """Sum of squared deviations / dof; no NumPy warning when dof <= 0 (nan or inf, as PyTorch)."""
    with xp.errstate(all="ignore"):
        d = x - xp.sum(x, axis=axes, keepdims=True) / _reduced_count(x.shape, axes)
        return xp.asarray(xp.sum(d * d, axis=axes, keepdims=keepdim) / dof)


class Var(Function):
    """Variance with Bessel's correction (PyTorch's `correction`, NumPy's `ddof`)."""
    formula = "grad_x = grad * 2 * (x - mean(x)) / (n - correction)"
    _array_forward = True

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim):
        ctx.in_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        ctx.dof = _reduced_count(x.shape, axes) - correction
        ctx.save_for_backward(x)
        return _var_array(x, axes, ctx.dof, keepdim)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        if not ctx.keepdim:
            grad = grad.reshape(_kept_shape(ctx.in_shape, ctx.axes))
        scale = 2 / ctx.dof if ctx.dof else float("inf")
        return grad * (x - xp.mean(x, axis=ctx.axes, keepdims=True)) * scale, None, None, None


class Std(Function):
    """Standard deviation; its gradient is 0 where all elements are equal (as PyTorch), not 0/0."""
    formula = "grad_x = grad * (x - mean(x)) / (y * (n - correction))"
    _array_forward = True

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim):
        ctx.in_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        ctx.dof = _reduced_count(x.shape, axes) - correction
        with xp.errstate(all="ignore"):
            y = xp.sqrt(_var_array(x, axes, ctx.dof, keepdim))
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        kept = _kept_shape(ctx.in_shape, ctx.axes)
        if not ctx.keepdim:
            grad = grad.reshape(kept)
        y = y.reshape(kept)
        # why: y == 0 means every x equals the mean, so x - mean is 0 there and y -> 1 avoids 0/0
        y_safe = xp.where(y == 0, 1, y)
        scale = 1 / ctx.dof if ctx.dof else float("inf")
        return grad * (x - xp.mean(x, axis=ctx.axes, keepdims=True)) / y_safe * scale, None, None, None


class Norm(Function):
    """Vector p-norm (p a real number other than 0, 1 and +-inf, which are built from other ops)."""
    formula = "grad_x = grad * sign(x) * |x|^(p-1) / y^(p-1)"
    _array_forward = True

    @staticmethod
    def forward(ctx, x, p, axes, keepdim):
        ctx.in_shape, ctx.axes, ctx.keepdim, ctx.p = x.shape, axes, keepdim, p
        with xp.errstate(all="ignore"):
            if p == 2:
                y = xp.sqrt(xp.sum(x * x, axis=axes, keepdims=keepdim))
            else:
                y = xp.sum(xp.abs(x) ** p, axis=axes, keepdims=keepdim) ** (1 / p)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        p = ctx.p
        kept = _kept_shape(ctx.in_shape, ctx.axes)
        if not ctx.keepdim:
            grad = grad.reshape(kept)
        y = y.reshape(kept)
        # why: PyTorch's convention: the gradient at a zero vector is 0, not 0/0 (masks, not nan)
        y_safe = xp.where(y == 0, 1, y)
        if p == 2:
            return grad * x / y_safe, None, None, None
        a_safe = xp.where(x == 0, 1, xp.abs(x))
        scaled = xp.sign(x) * a_safe ** (p - 1) * (x != 0)
        return grad * scaled * (y_safe ** (1 - p) * (y != 0)), None, None, None


# ---- max / min --------------------------------------------------------------------------------

def _tie_share(x, y_kept, axes):
    """Each element's share of the gradient: 1/count among the elements equal to the extreme."""
    hit = x == y_kept
    count = hit.sum(axis=axes, keepdims=True)
    return hit / xp.maximum(count, 1).astype(x.dtype)


class _Extreme(Function):
    """Max or min over axes (set by the subclass); tied extremes share the gradient evenly, as PyTorch."""
    formula = "grad_x = grad * (x == y) / number of ties"
    _array_forward = True
    _reduce = None  # xp.amax or xp.amin

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.in_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        y = type(ctx)._reduce(x, axis=axes, keepdims=True)
        ctx.save_for_backward(_tie_share(x, y, axes))
        return y if keepdim else y.reshape(_out_shape(x.shape, axes, False))

    @staticmethod
    def backward(ctx, grad):
        share, = ctx.saved_tensors
        return grad.reshape(_kept_shape(ctx.in_shape, ctx.axes)) * share, None, None


class Amax(_Extreme):
    """Max over axes; tied maxima share the gradient evenly (as PyTorch's amax and max())."""
    _reduce = staticmethod(xp.amax)


class Amin(_Extreme):
    """Min over axes; tied minima share the gradient evenly."""
    _reduce = staticmethod(xp.amin)


class TakeAlongDim(Function):
    """The elements at given indices along one dim (max/min with dim); the gradient goes to those indices."""
    formula = "grad_x = grad at the taken indices, 0 elsewhere"
    _array_forward = True

    @staticmethod
    def forward(ctx, x, index, axis, keepdim):
        # index: x's shape with size 1 at axis
        ctx.in_shape, ctx.axis, ctx.keepdim = x.shape, axis, keepdim
        if x.ndim == 0:
            ctx.save_for_backward(xp.ones((), dtype=bool))
            return x.copy()
        positions = xp.arange(x.shape[axis]).reshape((-1,) + (1,) * (x.ndim - 1 - axis))
        ctx.save_for_backward(positions == index)
        y = xp.take_along_axis(x, index, axis)
        return y if keepdim else y.reshape(_out_shape(x.shape, (axis,), False))

    @staticmethod
    def backward(ctx, grad):
        chosen, = ctx.saved_tensors
        if ctx.in_shape:
            grad = grad.reshape(_kept_shape(ctx.in_shape, (ctx.axis,)))
        return grad * chosen, None, None, None


class LogSumExp(Function):
    """log(sum(exp(x))) over axes, computed stably (the max is subtracted first)."""
    formula = "grad_x = grad * exp(x - y)"
    _array_forward = True

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.in_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        m = xp.amax(x, axis=axes, keepdims=True, initial=-xp.inf)
        m = xp.where(xp.isfinite(m), m, 0)
        with xp.errstate(all="ignore"):
            y = xp.log(xp.sum(xp.exp(x - m), axis=axes, keepdims=True)) + m
        y = y if keepdim else y.reshape(_out_shape(x.shape, axes, False))
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        kept = _kept_shape(ctx.in_shape, ctx.axes)
        if not ctx.keepdim:
            grad, y = grad.reshape(kept), y.reshape(kept)
        return grad * xp.exp(x - y), None, None


# ---- cumulative sum ---------------------------------------------------------------------------

def _cumsum_array(a, axis, reverse):
    if reverse:
        return xp.flip(xp.cumsum(xp.flip(a, axis), axis=axis), axis)
    return xp.cumsum(a, axis=axis)


class Cumsum(Function):
    """Running sum along one axis (from the end when reverse: the adjoint of the running sum)."""
    formula = "grad_x = reversed_cumsum(grad)"
    _array_forward = True

    @staticmethod
    def forward(ctx, x, axis, reverse):
        ctx.axis, ctx.reverse = axis, reverse
        if x.ndim == 0:
            return x.copy()
        return _cumsum_array(x, axis, reverse)

    @staticmethod
    def backward(ctx, grad):
        # why: the reversed running sum is this same primitive with reverse flipped, so it is called
        # directly (on a Tensor under create_graph, on the array otherwise) instead of through xp.flip
        if isinstance(grad, Tensor):
            return Cumsum.apply(grad, ctx.axis, not ctx.reverse), None, None
        if grad.ndim == 0:
            return grad, None, None
        return _cumsum_array(grad, ctx.axis, not ctx.reverse), None, None


# ---- public functions -------------------------------------------------------------------------

_max_result = namedtuple("max", ["values", "indices"])
_min_result = namedtuple("min", ["values", "indices"])


def _floating(input, what):
    """The input as a Tensor, refusing non-floating dtypes (as PyTorch does for var/std/norm)."""
    if not isinstance(input, Tensor):
        input = Tensor._make(xp.asarray(input))
    if input._data.dtype.kind not in "fc":
        raise RuntimeError(f"{what}: expected a floating point tensor, got dtype {input._data.dtype} "
                           f"(use .float() first)")
    return input


def _all_dims(input, dim, what):
    """reduce_dims, with PyTorch's reading of dim=() / [] as 'every dimension'."""
    if isinstance(dim, (tuple, list)) and len(dim) == 0:
        dim = None
    return reduce_dims(input, dim, what)


def _single_dim(input, dim, what):
    """Normalise one int dim (0 and -1 are valid for a 0-d tensor)."""
    if isinstance(dim, bool) or not isinstance(dim, (int, xp.integer)):
        raise TypeError(f"{what}: dim must be an int, got {type(dim).__name__} {dim!r}")
    ndim = _array(input).ndim
    n = builtins.max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"{what}: dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim}) for a tensor of shape {_array(input).shape}")
    return int(dim) % n


def _check_nonempty(arr, axes, what):
    """Max-like reductions have no identity: refuse to reduce over an empty dimension."""
    if arr.size == 0 and (axes is None or builtins.any(arr.shape[a] == 0 for a in axes)):
        raise IndexError(f"{what}: cannot reduce over a zero-size dimension (input shape {arr.shape}); "
                         f"specify a dim whose size is not 0")


@implements(xp.prod)
def _np_prod(a, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
    return prod(a, axis, keepdims)


def prod(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    """Product over dim (int or tuple; all dims when None); integer and bool inputs give int64."""
    dim, keepdim = _pick(dim, axis, keepdim, keepdims)
    if not isinstance(input, Tensor):
        input = Tensor._make(xp.asarray(input))
    if dtype is not None:
        input = input.to(dtype)
    elif input._data.dtype.kind in "biu":
        input = input.to(xp.int64)
    return Prod.apply(input, reduce_dims(input, dim, "prod"), keepdim)


def _correction(what, dim, unbiased, correction):
    """PyTorch's overloads: var(dim, unbiased, keepdim), var(unbiased), var(dim, correction=c)."""
    if isinstance(dim, bool):
        if unbiased is not None:
            raise TypeError(f"{what}: got unbiased twice (as dim={dim} and unbiased={unbiased})")
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError(f"{what}: give either unbiased or correction, not both")
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    return dim, correction


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=None):
    """Variance over dim with Bessel's correction (correction=1 by default; unbiased=False means 0)."""
    dim, correction = _correction("var", dim, unbiased, correction)
    dim, keepdim = _pick(dim, axis, keepdim, keepdims)
    input = _floating(input, "var")
    return Var.apply(input, _all_dims(input, dim, "var"), correction, keepdim)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=None):
    """Standard deviation over dim (correction=1 by default; unbiased=False means 0)."""
    dim, correction = _correction("std", dim, unbiased, correction)
    dim, keepdim = _pick(dim, axis, keepdim, keepdims)
    input = _floating(input, "std")
    return Std.apply(input, _all_dims(input, dim, "std"), correction, keepdim)


def _max_or_min(what, input, dim, keepdim, other_fn, whole, arg, result):
    if not isinstance(input, Tensor):
        input = Tensor._make(xp.asarray(input))
    if isinstance(dim, (Tensor, xp.ndarray)):
        return other_fn(input, dim)
    arr = input._data
    if dim is None:
        if arr.size == 0:
            raise RuntimeError(f"{what}: expected a dim for an empty input (shape {arr.shape}); "
                               f"max/min of no elements is undefined")
        return whole.apply(input, None, False)
    axis = _single_dim(input, dim, what)
    if arr.ndim == 0:
        return result(TakeAlongDim.apply(input, None, 0, keepdim), Tensor._make(xp.zeros((), xp.int64)))
    _check_nonempty(arr, (axis,), what)
    index = xp.expand_dims(arg(arr, axis=axis), axis).astype(xp.int64)
    values = TakeAlongDim.apply(input, index, axis, bool(keepdim))
    return result(values, Tensor._make(index if keepdim else xp.squeeze(index, axis)))


def max(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """max(t): the largest element (0-d); max(t, dim): (values, indices); max(t, other): elementwise."""
    from .elementwise import maximum
    dim, keepdim = _pick(dim, axis, keepdim, keepdims)
    return _max_or_min("max", input, dim, keepdim, maximum, Amax, xp.argmax, _max_result)


def min(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """min(t): the smallest element (0-d); min(t, dim): (values, indices); min(t, other): elementwise."""
    from .elementwise import minimum
    dim, keepdim = _pick(dim, axis, keepdim, keepdims)
    return _max_or_min("min", input, dim, keepdim, minimum, Amin, xp.argmin, _min_result)


@implements(xp.amax, xp.max)
def _np_amax(a, axis=None, out=None, keepdims=False, **kwargs):
    return amax(a, axis if axis is not None else (), keepdims)


def amax(input, dim=(), keepdim=False, *, axis=None, keepdims=None):
    """Max over dim (int or tuple; all dims when empty/None); tied maxima share the gradient."""
    return _extreme(Amax, "amax", input, dim, keepdim, axis, keepdims)


def _extreme(cls, what, input, dim, keepdim, axis, keepdims):
    """amax / amin: normalise the dims, refuse empty reductions, apply the primitive cls."""
    dim, keepdim = _pick(dim if dim != () else None, axis, keepdim, keepdims)
    if not isinstance(input, Tensor):
        input = Tensor._make(xp.asarray(input))
    axes = _all_dims(input, dim, what)
    _check_nonempty(input._data, axes, what)
    return cls.apply(input, axes, keepdim)


@implements(xp.amin, xp.min)
def _np_amin(a, axis=None, out=None, keepdims=False, **kwargs):
    return amin(a, axis if axis is not None else (), keepdims)


def amin(input, dim=(), keepdim=False, *, axis=None, keepdims=None):
    """Min over dim (int or tuple; all dims when empty/None); tied minima share the gradient."""
    return _extreme(Amin, "amin", input, dim, keepdim, axis, keepdims)


def _arg_reduce(what, fn, input, dim, keepdim):
    arr = _array(input)
    if dim is None:
        if arr.size == 0:
            raise IndexError(f"{what}: expected a dim for an empty input (shape {arr.shape})")
        flat = fn(arr.reshape(-1))
        out = xp.asarray(flat, dtype=xp.int64)
        return Tensor._make(out.reshape((1,) * arr.ndim) if keepdim else out)
    axis = _single_dim(input, dim, what)
    if arr.ndim == 0:
        return Tensor._make(xp.zeros((), xp.int64))
    _check_nonempty(arr, (axis,), what)
    return Tensor._make(xp.asarray(fn(arr, axis=axis, keepdims=bool(keepdim)), dtype=xp.int64))


def argmax(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Index of the largest element (over the flattened tensor when dim is None); int64, no gradient."""
    dim, keepdim = _pick(dim, axis, keepdim, keepdims)
    return _arg_reduce("argmax", xp.argmax, input, dim, keepdim)


def argmin(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Index of the smallest element (over the flattened tensor when dim is None); int64, no gradient."""
    dim, keepdim = _pick(dim, axis, keepdim, keepdims)
    return _arg_reduce("argmin", xp.argmin, input, dim, keepdim)


def logsumexp(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """log(sum(exp(input))) over dim (all dims when None), without overflow; integers become float."""
    dim, keepdim = _pick(dim, axis, keepdim, keepdims)
    if not isinstance(input, Tensor):
        input = Tensor._make(xp.asarray(input))
    if input._data.dtype.kind not in "fc":
        from ..dtypes import get_default_dtype
        input = input.to(get_default_dtype())
    return LogSumExp.apply(input, _all_dims(input, dim, "logsumexp"), keepdim)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """Vector p-norm over dim (all elements when None): p = 'fro'/2, 1, inf, -inf, 0 or any real number."""
    from .elementwise import abs as _abs
    from .elementwise import sign as _sign
    if dtype is not None:
        input = input.to(dtype) if isinstance(input, Tensor) else Tensor._make(xp.asarray(input, dtype))
    input = _floating(input, "norm")
    if isinstance(p, str):
        if p != "fro":
            raise ValueError(f"norm: p={p!r} is not supported; use 'fro', a number, inf or -inf")
        p = 2
    if isinstance(p, bool) or not isinstance(p, (int, float, xp.number)):
        raise TypeError(f"norm: p must be a number or 'fro', got {type(p).__name__}")
    axes = _all_dims(input, dim, "norm")
    if p == 1:
        return sum(_abs(input), axes, keepdim)
    if p == 0:
        # why: the count of nonzeros; built from sign so that it has a (zero) gradient, as in PyTorch
        return sum(_abs(_sign(input)), axes, keepdim)
    if p == xp.inf or p == -xp.inf:
        _check_nonempty(input._data, axes, "norm")
        return (Amax if p > 0 else Amin).apply(_abs(input), axes, keepdim)
    return Norm.apply(input, float(p) if p != 2 else 2, axes, keepdim)


@implements(xp.cumsum)
def _np_cumsum(a, axis=None, dtype=None, out=None):
    if axis is None:
        from .movement import reshape
        return cumsum(reshape(a, -1), 0, dtype=dtype)
    return cumsum(a, axis, dtype=dtype)


def cumsum(input, dim, *, dtype=None):
    """Running sum along dim; integer and bool inputs give int64 (as PyTorch)."""
    if not isinstance(input, Tensor):
        input = Tensor._make(xp.asarray(input))
    if dtype is not None:
        input = input.to(dtype)
    elif input._data.dtype.kind in "biu":
        input = input.to(xp.int64)
    return Cumsum.apply(input, _single_dim(input, dim, "cumsum"), False)


def all(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """True where every element (along dim) is nonzero; a bool tensor."""
    dim, keepdim = _pick(dim, axis, keepdim, keepdims)
    axes = _all_dims(input, dim, "all")
    return Tensor._make(xp.asarray(xp.all(_array(input), axis=axes, keepdims=keepdim)))


def any(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """True where some element (along dim) is nonzero; a bool tensor."""
    dim, keepdim = _pick(dim, axis, keepdim, keepdims)
    axes = _all_dims(input, dim, "any")
    return Tensor._make(xp.asarray(xp.any(_array(input), axis=axes, keepdims=keepdim)))
