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
    formula = "grad_x = grad.reshape(x.shape)"
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
    formula = "grad_x = grad.permute(argsort(dims))"
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
    formula = "grad_x = grad  (summed back to x.shape)"
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
    formula = "grad_x = grad.to(x.dtype)"
    _array_forward = True

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.in_dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad.astype(ctx.in_dtype), None


class Clone(Function):
    formula = "grad_x = grad"
    _array_forward = True

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


class Repeat(Function):
    """np.tile with at least as many reps as dims; the gradient sums the copies."""
    formula = "grad_x = sum of grad over the copies"
    _array_forward = True

    @staticmethod
    def forward(ctx, x, reps):
        ctx.in_shape = x.shape
        ctx.padded = (1,) * (len(reps) - x.ndim) + x.shape
        ctx.reps = reps
        return xp.tile(x, reps)

    @staticmethod
    def backward(ctx, grad):
        # why: viewing the output as (r0, s0, r1, s1, ...) puts every copy on its own even axis
        inter = tuple(v for r, s in zip(ctx.reps, ctx.padded) for v in (r, s))
        axes = tuple(range(0, len(inter), 2))
        if axes:
            grad = grad.reshape(inter).sum(axis=axes)
        return grad.reshape(ctx.in_shape), None


class Flip(Function):
    formula = "grad_x = flip(grad, dims)"
    _array_forward = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        # why: NumPy's flip is a view; PyTorch's flip copies, so writes to the result must not reach x
        return xp.flip(x, dims).copy()

    @staticmethod
    def backward(ctx, grad):
        return xp.flip(grad, ctx.dims), None


class Roll(Function):
    formula = "grad_x = roll(grad, -shifts, dims)"
    _array_forward = True

    @staticmethod
    def forward(ctx, x, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        return xp.roll(x, shifts, dims)

    @staticmethod
    def backward(ctx, grad):
        back = tuple(-s for s in ctx.shifts) if isinstance(ctx.shifts, tuple) else -ctx.shifts
        return xp.roll(grad, back, ctx.dims), None, None


class Cat(Function):
    """Concatenate along dim (the first argument); each input's gradient is its slice of grad."""
    formula = "grad_xi = grad[x_i's slice along dim]"
    _array_forward = True

    @staticmethod
    def forward(ctx, dim, *xs):
        ctx.dim = dim
        ctx.sizes = [x.shape[dim] for x in xs]
        return xp.concatenate(xs, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        lead = (slice(None),) * ctx.dim
        grads = [None]
        start = 0
        for need, n in zip(ctx.needs_input_grad[1:], ctx.sizes):
            grads.append(grad[lead + (slice(start, start + n), Ellipsis)] if need else None)
            start += n
        return tuple(grads)


class _Triangle(Function):
    """Keep one triangle of the last two dims (set by the subclass); the gradient keeps the same one."""
    _array_forward = True
    _keep = None  # xp.tril or xp.triu

    @staticmethod
    def forward(ctx, x, diagonal):
        ctx.diagonal = diagonal
        return type(ctx)._keep(x, diagonal)

    @staticmethod
    def backward(ctx, grad):
        return type(ctx)._keep(grad, ctx.diagonal), None


class Tril(_Triangle):
    """The lower triangle (elements above `diagonal` zeroed)."""
    formula = "grad_x = tril(grad, diagonal)"
    _keep = staticmethod(xp.tril)


class Triu(_Triangle):
    """The upper triangle (elements below `diagonal` zeroed)."""
    formula = "grad_x = triu(grad, diagonal)"
    _keep = staticmethod(xp.triu)


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



def _dims(dims, ndim, what):
    """An int or a sequence of dims, normalised to a tuple of distinct non-negative dims."""
    dims = (dims,) if not isinstance(dims, (tuple, list)) else tuple(dims)
    out = tuple(normalize_dim(d, ndim, what) for d in dims)
    for i, d in enumerate(out):
        if d in out[:i]:
            raise RuntimeError(f"{what}: dim {d} appears multiple times in the list of dims {tuple(dims)}")
    return out


def flatten(input, start_dim=0, end_dim=-1):
    """Merge dims start_dim..end_dim into one (a 0-d tensor becomes shape (1,))."""
    shape = _shape_of(input)
    nd = len(shape)
    s, e = normalize_dim(start_dim, nd, "flatten"), normalize_dim(end_dim, nd, "flatten")
    if s > e:
        raise RuntimeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} (shape {shape})")
    if nd == 0:
        return Reshape.apply(input, (1,))
    n = 1
    for d in shape[s:e + 1]:
        n *= d
    return Reshape.apply(input, shape[:s] + (n,) + shape[e + 1:])


def unflatten(input, dim, sizes):
    """Split dim into sizes (one entry may be -1)."""
    shape = _shape_of(input)
    d = normalize_dim(dim, len(shape), "unflatten")
    sizes = tuple(sizes)
    known = 1
    for v in sizes:
        if v != -1:
            known *= v
    if sizes.count(-1) > 1 or (-1 not in sizes and known != shape[d]) or (
            -1 in sizes and (known == 0 or shape[d] % known)):
        raise RuntimeError(f"unflatten: sizes {sizes} don't multiply to the size {shape[d]} of dim {dim} "
                           f"(shape {shape})")
    if -1 in sizes:
        sizes = tuple(shape[d] // known if v == -1 else v for v in sizes)
    return Reshape.apply(input, shape[:d] + sizes + shape[d + 1:])


@implements(xp.squeeze)
def squeeze(input, dim=None, axis=None):
    """Remove size-1 dims: all of them, or those in dim (an int or tuple); other dims are left alone."""
    shape = _shape_of(input)
    dim = axis if dim is None else dim
    if dim is None:
        dims = set(range(len(shape)))
    else:
        dims = set(_dims(dim, len(shape), "squeeze"))
    new = tuple(s for i, s in enumerate(shape) if not (i in dims and s == 1))
    return Reshape.apply(input, new)


@implements(xp.expand_dims)
def unsqueeze(input, dim=None, axis=None):
    """Insert a size-1 dim at dim (in [-ndim-1, ndim])."""
    dim = axis if dim is None else dim
    shape = _shape_of(input)
    d = normalize_dim(dim, len(shape) + 1, "unsqueeze")
    return Reshape.apply(input, shape[:d] + (1,) + shape[d:])


@implements(xp.moveaxis)
def movedim(input, source, destination):
    """Move the dims in source to the positions in destination (ints or sequences of equal length)."""
    nd = len(_shape_of(input))
    src, dst = _dims(source, nd, "movedim"), _dims(destination, nd, "movedim")
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: source {source} and destination {destination} must have the same "
                           f"number of dims")
    order = [d for d in range(nd) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return Permute.apply(input, tuple(order)) if nd else input


moveaxis = movedim


def repeat(input, *sizes):
    """Tile sizes[i] times along each dim; extra leading sizes add new dims (Tensor.repeat)."""
    sizes = _sizes(sizes)
    shape = _shape_of(input)
    if len(sizes) < len(shape):
        raise RuntimeError(f"repeat: number of repeat dims {len(sizes)} can not be smaller than the tensor's "
                           f"{len(shape)} dimensions (shape {shape})")
    if any(int(r) < 0 for r in sizes):
        raise RuntimeError(f"repeat: repeats must be non-negative, got {sizes}")
    return Repeat.apply(input, tuple(int(r) for r in sizes))


def tile(input, *dims_args, dims=None):
    """Like repeat, but fewer dims than the tensor has are padded with 1s in front (torch.tile)."""
    dims = _sizes(dims_args) if dims is None else tuple(dims)
    nd = len(_shape_of(input))
    return repeat(input, (1,) * (nd - len(dims)) + dims)


@implements(xp.flip)
def flip(input, *dims_args, dims=None, axis=None):
    """Reverse the order of elements along dims (a copy, as PyTorch)."""
    if dims is None:
        dims = axis if dims_args == () else _sizes(dims_args)
    nd = len(_shape_of(input))
    dims = tuple(range(nd)) if dims is None else _dims(dims, nd, "flip")
    return Flip.apply(input, dims) if nd else Clone.apply(input)


@implements(xp.roll)
def roll(input, shifts, dims=None, axis=None):
    """Shift elements along dims, wrapping around; without dims, over the flattened tensor."""
    dims = axis if dims is None else dims
    shape = _shape_of(input)
    multi = isinstance(shifts, (tuple, list))
    if dims is None:
        if multi and len(shifts) != 1:
            raise RuntimeError(f"roll: {len(shifts)} shifts given without dims; pass one dim per shift")
        return Roll.apply(input, int(shifts[0]) if multi else int(shifts), None)
    if isinstance(dims, (tuple, list)) or multi:
        dims = _dims(dims, len(shape), "roll")
        shifts = tuple(int(s) for s in shifts) if multi else (int(shifts),)
        if len(shifts) != len(dims):
            raise RuntimeError(f"roll: shifts {shifts} and dims {dims} must have the same length")
        return Roll.apply(input, shifts, dims)
    return Roll.apply(input, int(shifts), normalize_dim(dims, len(shape), "roll"))


@implements(xp.concatenate)
def cat(tensors, dim=0, axis=None, **kwargs):
    """Join tensors along an existing dim; all other sizes must match."""
    dim = axis if axis is not None else dim
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("cat: expected a non-empty sequence of tensors")
    shapes = [tuple(_shape_of(t)) for t in tensors]
    nd = len(shapes[0])
    for i, s in enumerate(shapes):
        if len(s) == 0:
            raise RuntimeError(f"cat: zero-dimensional tensor (at position {i}) cannot be concatenated")
        if len(s) != nd:
            raise RuntimeError(f"cat: tensors must have the same number of dimensions: got {shapes[0]} and {s}")
    d = normalize_dim(dim, nd, "cat")
    for s in shapes[1:]:
        if s[:d] + s[d + 1:] != shapes[0][:d] + shapes[0][d + 1:]:
            raise RuntimeError(f"cat: tensors must have the same shape except in dim {d}: got {shapes[0]} and {s}")
    return Cat.apply(d, *tensors)


concatenate = concat = cat


@implements(xp.stack)
def stack(tensors, dim=0, axis=None, **kwargs):
    """Join same-shape tensors along a new dim."""
    dim = axis if axis is not None else dim
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack: expected a non-empty sequence of tensors")
    shapes = [tuple(_shape_of(t)) for t in tensors]
    for i, s in enumerate(shapes):
        if s != shapes[0]:
            raise RuntimeError(f"stack: expects each tensor to be equal size, but got {shapes[0]} at entry 0 and "
                               f"{s} at entry {i}")
    d = normalize_dim(dim, len(shapes[0]) + 1, "stack")
    return Cat.apply(d, *[unsqueeze(t, d) for t in tensors])


def _slice(input, d, start, stop):
    from .indexing import getitem
    return getitem(input, (slice(None),) * d + (slice(start, stop),))


def narrow(input, dim, start, length):
    """The view input[..., start:start+length, ...] along dim (start may be negative)."""
    shape = _shape_of(input)
    if len(shape) == 0:
        raise RuntimeError("narrow: cannot be applied to a 0-dim tensor")
    d = normalize_dim(dim, len(shape), "narrow")
    n = shape[d]
    start, length = int(start), int(length)
    if not -n <= start <= n:
        raise IndexError(f"narrow: start {start} is out of range for dimension {d} with size {n}")
    if start < 0:
        start += n
    if length < 0 or start + length > n:
        raise RuntimeError(f"narrow: start ({start}) + length ({length}) exceeds dimension size ({n}) "
                           f"of dim {d} (shape {shape})")
    return _slice(input, d, start, start + length)


def split(tensor, split_size_or_sections, dim=0):
    """Views of pieces of split_size along dim (the last may be smaller), or of the given sizes."""
    shape = _shape_of(tensor)
    if len(shape) == 0:
        raise RuntimeError("split: cannot be applied to a 0-dim tensor")
    d = normalize_dim(dim, len(shape), "split")
    n = shape[d]
    if isinstance(split_size_or_sections, (tuple, list)):
        sizes = [int(s) for s in split_size_or_sections]
        if builtins.sum(sizes) != n or any(s < 0 for s in sizes):
            raise RuntimeError(f"split: split_sizes {tuple(sizes)} must be non-negative and sum to the size {n} "
                               f"of dim {d} (shape {shape})")
    else:
        size = int(split_size_or_sections)
        if size <= 0 and not (size == 0 and n == 0):
            raise RuntimeError(f"split: split_size must be positive, got {size}")
        sizes = [builtins.min(size, n - i) for i in range(0, n, size)] if n else [0]
    out, start = [], 0
    for s in sizes:
        out.append(_slice(tensor, d, start, start + s))
        start += s
    return tuple(out)


def chunk(input, chunks, dim=0):
    """Split into (at most) chunks pieces of ceil(size / chunks) along dim."""
    shape = _shape_of(input)
    if int(chunks) <= 0:
        raise RuntimeError(f"chunk: number of chunks must be positive, got {chunks}")
    if len(shape) == 0:
        raise RuntimeError("chunk: cannot be applied to a 0-dim tensor")
    n = shape[normalize_dim(dim, len(shape), "chunk")]
    size = -(-n // int(chunks))
    return split(input, builtins.max(size, 1) if n else 0, dim)


def unbind(input, dim=0):
    """A tuple of the views along dim, with dim removed."""
    from .indexing import getitem
    shape = _shape_of(input)
    if len(shape) == 0:
        raise RuntimeError("unbind: dimension specified as 0 but tensor has no dimensions")
    d = normalize_dim(dim, len(shape), "unbind")
    return tuple(getitem(input, (slice(None),) * d + (i,)) for i in range(shape[d]))


def _check_matrix(input, what):
    shape = _shape_of(input)
    if len(shape) < 2:
        raise RuntimeError(f"{what}: input tensor must have at least 2 dimensions, got shape {tuple(shape)}")


@implements(xp.tril)
def tril(input, diagonal=0, k=None):
    """Keep the lower triangle (j <= i + diagonal) of the last two dims; zero the rest."""
    _check_matrix(input, "tril")
    return Tril.apply(input, int(diagonal if k is None else k))


@implements(xp.triu)
def triu(input, diagonal=0, k=None):
    """Keep the upper triangle (j >= i + diagonal) of the last two dims; zero the rest."""
    _check_matrix(input, "triu")
    return Triu.apply(input, int(diagonal if k is None else k))
