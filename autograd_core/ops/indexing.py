"""Indexing and selection primitives: t[...], gather, scatter_add, index_select, masked_fill, topk, sort."""
import builtins
from collections import namedtuple

from ..backend import xp
from ..function import Function
from . import elementwise as _ew
from .movement import normalize_dim

Tensor = None  # bound by tensor.py

# PyTorch's torch.return_types: tuples whose fields are also attributes
topk_result = namedtuple("topk", ["values", "indices"])
sort_result = namedtuple("sort", ["values", "indices"])


def _bind_tensor(cls):
    global Tensor
    Tensor = cls


def _data(x):
    return x._data if isinstance(x, Tensor) else x


# ---- index normalisation ---------------------------------------------------------------------

def _index_array(a, what):
    """An index given as a tensor, array or list, as an int64 or bool array."""
    if isinstance(a, (list, tuple)):
        a = [_data(v) for v in a]
    arr = xp.asarray(_data(a))
    if arr.dtype.kind == "b":
        return arr
    if arr.dtype.kind in "iu":
        return arr.astype(xp.int64, copy=False)
    if arr.size == 0:
        return arr.astype(xp.int64)
    raise IndexError(f"{what}: tensors used as indices must be long, int or bool tensors, got dtype {arr.dtype}")


def _normalize_index(index, what="getitem"):
    """Turn a user index into (a tuple NumPy and Tensors both accept, whether it is basic).

    A trailing Ellipsis is added so that indexing down to one element still gives a 0-d array (a
    view), never a NumPy scalar.
    """
    if not isinstance(index, tuple):
        index = (index,)
    out = []
    basic = True
    for item in index:
        if item is None or item is Ellipsis or isinstance(item, slice):
            out.append(item)
        elif isinstance(item, (bool, xp.bool_)):
            out.append(bool(item))
            basic = False
        elif isinstance(item, (int, xp.integer)):
            out.append(int(item))
        elif isinstance(item, (Tensor, xp.ndarray, list, tuple)):
            arr = _index_array(item, what)
            if arr.ndim == 0 and arr.dtype.kind != "b":
                # why: a 0-d integer tensor indexes like an int (PyTorch), keeping the result a view
                out.append(int(arr))
            else:
                out.append(arr)
                basic = False
        else:
            raise TypeError(f"{what}: only integers, slices, None, ..., and integer or bool tensors/arrays/lists "
                            f"are valid indices (got {type(item).__name__})")
    if not any(i is Ellipsis for i in out):
        out.append(Ellipsis)
    return tuple(out), basic


def _index_error(what, e, shape):
    """NumPy's IndexError, named after the op, with 'dimension' as PyTorch says and the shape shown."""
    msg = str(e).replace(" axis ", " dimension ").replace("array", "tensor")
    return IndexError(f"{what}: {msg} (tensor shape {tuple(shape)})")


# ---- primitives --------------------------------------------------------------------------------

class AdvancedIndex(Function):
    """x[integer arrays / masks ...]: a copy; repeated indices add up their gradients."""
    formula = "grad_x = zeros(x.shape); grad_x[index] += grad"
    _array_forward = True

    @staticmethod
    def forward(ctx, x, index):
        ctx.in_shape, ctx.index = x.shape, index
        return x[index]

    @staticmethod
    def backward(ctx, grad):
        return _index_add(grad, ctx.in_shape, ctx.index, type(ctx)._is_view), None


class BasicIndex(AdvancedIndex):
    """x[ints, slices, None, ...]: a view; the gradient is placed into zeros of x's shape."""
    formula = "grad_x = zeros(x.shape); grad_x[index] = grad"
    _is_view = True


class IndexAdd(Function):
    """zeros(shape) with g added at index (np.add.at, so repeats accumulate); backward is g's index."""
    formula = "grad_g = grad[index]"
    _array_forward = True

    @staticmethod
    def forward(ctx, g, shape, index, basic):
        ctx.index = index
        out = xp.zeros(shape, g.dtype)
        if basic:
            out[index] = g  # why: a basic index never repeats an element, and plain assignment is fast
        elif (axis := _gather_axis(index, g)) is not None:
            # x[:, ..., ids]: the table's rows along `axis`, the ids' axes of g moved to the front
            k = index[axis].ndim
            _add_rows(xp.moveaxis(out, axis, 0), index[axis],
                      xp.moveaxis(g, list(range(axis, axis + k)), list(range(k))))
        else:
            xp.add.at(out, index, g)
        return out

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.index], None, None, None


class IndexPut(Function):
    """out = copy of x with out[index] = value: the recorded form of `x[index] = value`."""
    formula = "grad_x = grad with grad[index] = 0; grad_value = grad[index]"
    _array_forward = True

    @staticmethod
    def forward(ctx, x, index, value):
        ctx.index, ctx.value_shape = index, xp.shape(value)
        out = x.copy()
        out[index] = value
        if ctx.needs_input_grad and ctx.needs_input_grad[0]:
            keep = xp.ones(x.shape, x.dtype)
            keep[index] = 0
            ctx.save_for_backward(keep)
        return out

    @staticmethod
    def backward(ctx, grad):
        need_x, _, need_value = ctx.needs_input_grad
        grad_x = grad_value = None
        if need_x:
            keep, = ctx.saved_tensors
            grad_x = grad * keep
        if need_value:
            grad_value = grad[ctx.index]
            extra = len(ctx.value_shape) - grad_value.ndim
            if extra > 0:
                # why: NumPy lets a value with extra leading 1s fill a smaller slot; graph.py sums the rest
                grad_value = grad_value.reshape((1,) * extra + tuple(grad_value.shape))
        return grad_x, None, grad_value


def _gather_axis(index, g):
    """The axis of x[:, ..., :, ids] (an embedding lookup when 0): full slices, then one integer array
    (of 32 or more ids), then nothing else; None for any other index."""
    if len(index) < 2 or index[-1] is not Ellipsis:
        return None
    axis, ids = len(index) - 2, index[-2]
    if not (isinstance(ids, xp.ndarray) and ids.dtype.kind in "iu" and ids.size >= 32):
        return None
    if any(not (isinstance(s, slice) and s == slice(None)) for s in index[:axis]):
        return None
    return axis


def _add_rows(out, rows, g):
    """out[rows[i]] += g[i] for every i, repeats summed: the gradient of an embedding lookup.

    why: np.add.at walks element by element. A small table (a character vocabulary) takes the sum as
    one matmul, one_hot(rows)^T @ g, which also reads a transposed g without copying it; a large one
    sorts the row ids once and sums each run of equal ids with np.add.reduceat, whole rows at a time.
    """
    n, lead = out.shape[0], rows.ndim
    # why: g is often a transposed view (a fused backward's output); visiting its positions in memory
    # order lets the reshape below stay a view instead of a slow transposing copy (the sum ignores order)
    perm = sorted(range(lead), key=lambda a: -g.strides[a])
    rows = rows.transpose(perm).reshape(-1) % n
    g = g.transpose(perm + list(range(lead, g.ndim))).reshape((rows.size, -1))
    # out may be a view (a moved axis): the sums are added into it, never into a reshaped copy
    if n <= _ONE_HOT_ROWS:
        one_hot = xp.zeros((n, rows.size), dtype=g.dtype)
        one_hot[rows, xp.arange(rows.size)] = 1
        out += xp.matmul(one_hot, g).reshape(out.shape)
        return
    order = xp.argsort(rows, kind="stable")
    sorted_rows = rows[order]
    starts = xp.flatnonzero(xp.concatenate(([True], sorted_rows[1:] != sorted_rows[:-1])))
    out[sorted_rows[starts]] += xp.add.reduceat(g[order], starts, axis=0).reshape((-1,) + out.shape[1:])


_ONE_HOT_ROWS = 256  # up to this many table rows the one-hot matmul beats sorting (measured at 2048 x 1024)


def _index_add(grad, shape, index, basic):
    """zeros(shape) with grad added at index: recorded (IndexAdd) when grad is a Tensor, plain otherwise."""
    if isinstance(grad, Tensor):
        return IndexAdd.apply(grad, shape, index, basic)
    return IndexAdd.forward(_Plain(), grad, shape, index, basic)


class _Plain:
    """A stand-in ctx for running a forward outside the graph."""


# ---- t[index] and t[index] = value ------------------------------------------------------------

def getitem(input, index):
    """input[index] with PyTorch's (= NumPy's) rules; basic indexing gives a view."""
    idx, basic = _normalize_index(index, "getitem")
    try:
        return (BasicIndex if basic else AdvancedIndex).apply(input, idx)
    except IndexError as e:
        raise _index_error("getitem", e, input.shape) from None


def setitem(input, index, value):
    """input[index] = value, in place: recorded on the graph when input or value needs a gradient."""
    idx, _ = _normalize_index(index, "setitem")
    try:
        if input._inplace("setitem", lambda a, v: IndexPut.apply(a, idx, v), value) is None:
            input._data[idx] = _data(value)
            input._vc[0] += 1
    except IndexError as e:
        raise _index_error("setitem", e, input.shape) from None
    except ValueError as e:
        if "read-only" in str(e):
            raise RuntimeError(f"setitem: the tensor (shape {input.shape}) is a broadcast (expand) view and "
                               f"can't be written to; clone() it first") from None
        raise RuntimeError(f"setitem: shape mismatch: value of shape {xp.shape(_data(value))} cannot be broadcast "
                           f"to the indexed shape {input._data[idx].shape} (tensor shape {input.shape})") from None


# ---- gather / scatter along a dim --------------------------------------------------------------

def _dim_index(input, dim, index, what):
    """(dim, index array, the full advanced index selecting input[..., index[i][j][k], ...] along dim)."""
    shape = _shape(input)
    idx = _index_array(index, what)
    if idx.dtype.kind == "b":
        raise RuntimeError(f"{what}: index must be an integer tensor, got dtype bool")
    nd = len(shape)
    d = normalize_dim(dim, nd, what)
    if idx.ndim != builtins.max(nd, 1) and not (nd == 0 and idx.ndim == 0):
        raise RuntimeError(f"{what}: index tensor must have the same number of dimensions as input "
                           f"(index shape {idx.shape}, input shape {shape})")
    for k in range(idx.ndim):
        if k != d and nd and idx.shape[k] > shape[k]:
            raise RuntimeError(f"{what}: size of index {idx.shape} exceeds input size {shape} at dimension {k} "
                               f"(only dimension {d} may be larger)")
    if nd == 0:
        return d, idx, (idx.reshape(-1),)
    full = tuple(idx if k == d else
                 xp.arange(idx.shape[k]).reshape(tuple(-1 if j == k else 1 for j in range(nd)))
                 for k in range(nd))
    return d, idx, full


def _shape(x):
    return tuple(x.shape) if isinstance(x, Tensor) else xp.shape(x)


def gather(input, dim, index):
    """out[i][j][k] = input[i][index[i][j][k]][k] for dim == 1 (any rank); the gradient scatter-adds."""
    d, idx, full = _dim_index(input, dim, index, "gather")
    try:
        if len(_shape(input)) == 0:
            from .movement import reshape
            return reshape(AdvancedIndex.apply(reshape(input, 1), full), idx.shape)
        return AdvancedIndex.apply(input, full)
    except IndexError as e:
        raise _index_error("gather", e, _shape(input)) from None


def scatter_add(input, dim, index, src):
    """input with src[i][j][k] added at input[i][index[i][j][k]][k] (dim == 1), repeats accumulating."""
    d, idx, full = _dim_index(input, dim, index, "scatter_add")
    shape = _shape(input)
    src_shape = _shape(src)
    if len(src_shape) != idx.ndim or any(i > s for i, s in zip(idx.shape, src_shape)):
        raise RuntimeError(f"scatter_add: index {idx.shape} must not be larger than src {src_shape} in any dimension")
    if xp.asarray(_data(src)).dtype != xp.asarray(_data(input)).dtype:
        raise RuntimeError(f"scatter_add: expected input and src to have the same dtype, got "
                           f"{xp.asarray(_data(input)).dtype} and {xp.asarray(_data(src)).dtype}")
    if src_shape != idx.shape:
        src = getitem(src, tuple(slice(0, n) for n in idx.shape))
    target = shape if shape else (1,)
    try:
        added = IndexAdd.apply(src, target, full, False)
    except IndexError as e:
        raise _index_error("scatter_add", e, shape) from None
    if not shape:
        from .movement import reshape
        added = reshape(added, ())
    return _ew.Add.apply(input, added)


def index_select(input, dim, index):
    """The entries at the 1-D index along dim."""
    shape = _shape(input)
    idx = _index_array(index, "index_select")
    if idx.ndim > 1 or idx.dtype.kind == "b":
        raise RuntimeError(f"index_select: index must be a 1-D integer tensor, got shape {idx.shape} and dtype "
                           f"{idx.dtype}")
    d = normalize_dim(dim, len(shape), "index_select")
    if not shape:
        from .movement import reshape
        return reshape(getitem(reshape(input, 1), idx.reshape(-1)), idx.shape)
    return getitem(input, (slice(None),) * d + (idx.reshape(-1),))


def masked_fill(input, mask, value):
    """value where mask (bool, broadcast to input's shape) is True, else input; value a number or 0-d tensor."""
    m = xp.asarray(_data(mask))
    if m.dtype != xp.bool_:
        raise RuntimeError(f"masked_fill: only supports boolean masks, but got mask with dtype {m.dtype}")
    shape = _shape(input)
    try:
        ok = xp.broadcast_shapes(m.shape, shape) == tuple(shape)
    except ValueError:
        ok = False
    if not ok:
        raise RuntimeError(f"masked_fill: the mask of shape {m.shape} can't be broadcast to the input's "
                           f"shape {shape}")
    dtype = xp.asarray(_data(input)).dtype
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(f"masked_fill: only supports a 0-dimensional value tensor, but got shape "
                               f"{value.shape}")
        if value.dtype != dtype:
            value = value.to(dtype)
    else:
        value = xp.asarray(value, dtype=dtype)
    return _ew.Where.apply(m, value, input)


# ---- sorting and selection ---------------------------------------------------------------------

def _argsort(a, axis, descending, stable):
    """NumPy argsort along axis; descending keeps equal elements in their original order."""
    if not descending:
        return xp.argsort(a, axis=axis, kind="stable" if stable else None)
    # why: sort the reversed array ascending (stable), reverse the result, map back: ties stay in order
    n = a.shape[axis]
    order = xp.argsort(xp.flip(a, axis), axis=axis, kind="stable")
    return n - 1 - xp.flip(order, axis)


def _sort_dim(input, dim, what):
    nd = len(_shape(input))
    return normalize_dim(dim, nd, what), nd


def sort(input, dim=-1, descending=False, stable=False):
    """(values, indices) sorted along dim; values carry the gradient."""
    d, nd = _sort_dim(input, dim, "sort")
    a = xp.asarray(_data(input))
    if nd == 0:
        return sort_result(getitem(input, ()), Tensor._make(xp.zeros((), xp.int64)))
    idx = _argsort(a, d, descending, stable).astype(xp.int64)
    return sort_result(gather(input, d, idx), Tensor._make(idx))


def argsort(input, dim=-1, descending=False, stable=False):
    """The indices that sort input along dim (int64, no gradient)."""
    d, nd = _sort_dim(input, dim, "argsort")
    a = xp.asarray(_data(input))
    if nd == 0:
        return Tensor._make(xp.zeros((), xp.int64))
    return Tensor._make(_argsort(a, d, descending, stable).astype(xp.int64))


def topk(input, k, dim=-1, largest=True, sorted=True):
    """(values, indices) of the k largest (or smallest) entries along dim; always sorted here."""
    d, nd = _sort_dim(input, dim, "topk")
    n = _shape(input)[d] if nd else 1
    k = int(k)
    if not 0 <= k <= n:
        raise RuntimeError(f"topk: k ({k}) is out of range for dimension {d} of size {n} "
                           f"(shape {_shape(input)})")
    if nd == 0:
        return topk_result(getitem(input, ()), Tensor._make(xp.zeros((), xp.int64)))
    a = xp.asarray(_data(input))
    idx = _argsort(a, d, largest, True)
    idx = xp.take(idx, xp.arange(k), axis=d).astype(xp.int64)
    return topk_result(gather(input, d, idx), Tensor._make(idx))


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The sorted unique values (or slices along dim), optionally with inverse indices and counts."""
    a = xp.asarray(_data(input))
    axis = None if dim is None else normalize_dim(dim, a.ndim, "unique")
    res = xp.unique(a, return_inverse=True, return_counts=True, axis=axis)
    values, inverse, counts = res
    out = [Tensor._make(values)]
    if return_inverse:
        inv = inverse.reshape(a.shape) if axis is None else inverse.reshape(-1)
        out.append(Tensor._make(inv.astype(xp.int64)))
    if return_counts:
        out.append(Tensor._make(counts.astype(xp.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def nonzero(input, as_tuple=False):
    """Indices of the nonzero elements: (n, ndim) int64, or a tuple of one 1-D tensor per dim."""
    a = xp.asarray(_data(input))
    if as_tuple:
        return tuple(Tensor._make(i.astype(xp.int64)) for i in xp.nonzero(xp.atleast_1d(a)))
    return Tensor._make(xp.argwhere(a).astype(xp.int64))
