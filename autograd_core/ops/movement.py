"""Shape and movement primitives: reshape, permute, expand, cat, stack, slicing views, flips, triangles."""
import builtins

from ..backend import xp
from ..dispatch import implements
from ..function import Function

Tensor = None  # bound by tensor.py


def _bind_tensor(cls):
    global Tensor
    Tensor = cls


def _shape_of(x):
    return x._data.shape if isinstance(x, Tensor) else xp.shape(x)


def normalize_dim(dim, ndim, what):
    """Turn a possibly negative dim into an index in [0, ndim), with a clear error when out of range."""
    n = builtins.max(ndim, 1)
    try:
        d = int(dim)
    except TypeError:
        raise TypeError(f"{what}: dim must be an int, got {type(dim).__name__}") from None
    if not -n <= d < n:
        raise IndexError(f"{what}: dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return d % n


def _sizes(sizes):
    """Accept f(2, 3), f((2, 3)) and f([2, 3])."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        return tuple(sizes[0])
    return tuple(sizes)


class Reshape(Function):
    _array_forward = True
    _is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape), None


class Permute(Function):
    _array_forward = True
    _is_view = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return xp.transpose(x, dims)

    @staticmethod
    def backward(ctx, grad):
        return xp.transpose(grad, tuple(xp.argsort(ctx.dims))), None


class Expand(Function):
    """Broadcast to a bigger shape (a read-only view); graph.py sums the gradient back."""
    _array_forward = True
    _is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        return xp.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, grad):
        return grad, None


class Cast(Function):
    """Change dtype; the gradient is cast back to the input's dtype."""
    _array_forward = True

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.in_dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad.astype(ctx.in_dtype), None


class Clone(Function):
    _array_forward = True

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


def reshape(input, *shape):
    """Same elements, new shape; one dimension may be -1."""
    shape = _sizes(shape)
    n = _shape_of(input)
    try:
        return Reshape.apply(input, shape)
    except ValueError:
        raise RuntimeError(f"reshape: shape {tuple(shape)} is invalid for input of shape {tuple(n)} "
                           f"({int(xp.prod(n))} elements)") from None


view = reshape


def permute(input, *dims):
    """Reorder the dimensions."""
    dims = _sizes(dims)
    nd = len(_shape_of(input))
    if len(dims) != nd:
        raise RuntimeError(f"permute: number of dims {len(dims)} doesn't match the tensor's {nd} dimensions "
                           f"(shape {_shape_of(input)})")
    dims = tuple(normalize_dim(d, nd, "permute") for d in dims)
    if len(set(dims)) != nd:
        raise RuntimeError(f"permute: repeated dim in {dims}")
    return Permute.apply(input, dims)


def transpose(input, dim0, dim1):
    """Swap two dimensions."""
    nd = len(_shape_of(input))
    dims = list(range(nd))
    d0, d1 = normalize_dim(dim0, nd, "transpose"), normalize_dim(dim1, nd, "transpose")
    if nd == 0:
        return input
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return Permute.apply(input, tuple(dims))


swapaxes = swapdims = transpose


def expand(input, *sizes):
    """Broadcast to a larger size; -1 keeps that dimension."""
    sizes = _sizes(sizes)
    shape = _shape_of(input)
    lead = len(sizes) - len(shape)
    if lead < 0:
        raise RuntimeError(f"expand: the number of sizes {len(sizes)} must be at least the tensor's "
                           f"{len(shape)} dimensions (shape {shape})")
    target = tuple(shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(sizes))
    for i, s in enumerate(shape):
        if s != 1 and s != target[i + lead]:
            raise RuntimeError(f"expand: the expanded size {target[i + lead]} must match the existing size {s} "
                               f"at non-singleton dimension {i} (shape {shape} to {tuple(sizes)})")
    return Expand.apply(input, target)


@implements(xp.broadcast_to)
def broadcast_to(input, shape, subok=False):
    """Broadcast to shape (NumPy's rules)."""
    return expand(input, tuple(shape))


@implements(xp.reshape)
def _np_reshape(a, shape=None, order="C", **kwargs):
    return reshape(a, shape if shape is not None else kwargs["newshape"])


@implements(xp.transpose)
def _np_transpose(a, axes=None):
    nd = len(_shape_of(a))
    return permute(a, tuple(axes) if axes is not None else tuple(range(nd - 1, -1, -1)))


@implements(xp.swapaxes)
def _np_swapaxes(a, axis1, axis2):
    return transpose(a, axis1, axis2)
