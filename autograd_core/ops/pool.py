"""Pooling, resampling and padding: max/avg pooling primitives on stride tricks, adaptive pooling, interpolate, pad.

Inputs are (..., H, W) (1-d ops add a size-1 H); every op works on whole arrays: windows are
strided views of a padded copy, and the only Python loops run over kernel offsets or output
positions along one axis.

Pairs of primitives that are each other's adjoint keep create_graph working: max pooling is a
gather by per-plane flat indices (PoolGather) whose backward is a scatter (PoolScatter) whose
backward is the gather again; windows that tile the input (stride = kernel) record their winners
as small codes instead, with the same pair of adjoints in one class (TiledPick); average pooling
(AvgPool) and its transpose (AvgPoolTranspose) likewise. Adaptive average pooling, bilinear interpolation, nearest interpolation and
reflect/replicate padding are linear maps composed from matmul and indexing, so they need no
backward of their own.
"""
import math

from ..backend import xp
from ..function import Function
from ..tensor import Tensor  # why: tensor.py does not import this module, so no import cycle


class _Plain:
    """A stand-in ctx for running a forward outside the graph."""


def _run(cls, x, *args):
    """cls applied to x: recorded when x is a Tensor (create_graph), a plain array computation otherwise."""
    if isinstance(x, Tensor):
        return cls.apply(x, *args)
    return cls.forward(_Plain(), x, *args)


# ---- geometry -----------------------------------------------------------------------------------

def _pair(v, n, what, name):
    """An int or a sequence of n ints, as a tuple of n ints."""
    if isinstance(v, (list, tuple)):
        if len(v) == 1:
            v = tuple(v) * n
        if len(v) != n:
            raise ValueError(f"{what}: {name} must be an int or a tuple of {n} ints, got {v!r}")
        return tuple(int(a) for a in v)
    return (int(v),) * n


def _out_size(size, k, s, p, d, ceil_mode):
    """PyTorch's pooling_output_shape (floor or ceil, a last window must start inside input or left padding)."""
    num = size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)
    out = num // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


class _Geometry:
    """Where the windows of a 2-d pooling lie: kernel, stride, padding, dilation, output and padded sizes."""

    def __init__(self, what, in_hw, kernel, stride, padding, dilation, ceil_mode):
        self.in_hw, self.kernel, self.stride, self.padding, self.dilation = in_hw, kernel, stride, padding, dilation
        for name, vals, low in (("kernel_size", kernel, 1), ("stride", stride, 1), ("dilation", dilation, 1),
                                ("padding", padding, 0)):
            if any(v < low for v in vals):
                raise ValueError(f"{what}: {name} must be >= {low}, got {vals}")
        for k, p in zip(kernel, padding):
            if p > k // 2:
                raise ValueError(f"{what}: pad should be at most half of kernel size, but got padding={padding} "
                                 f"and kernel_size={kernel}")
        self.out_hw = tuple(_out_size(n, k, s, p, d, ceil_mode)
                            for n, k, s, p, d in zip(in_hw, kernel, stride, padding, dilation))
        if any(o <= 0 for o in self.out_hw):
            raise ValueError(f"{what}: output size is too small: input spatial size {in_hw} with kernel_size {kernel}, "
                             f"stride {stride}, padding {padding}, dilation {dilation} gives output {self.out_hw}")
        self.disjoint = all(s >= d * (k - 1) + 1 for k, s, d in zip(kernel, stride, dilation))
        # the right/bottom padding that the last (ceil_mode) window needs, at least the symmetric padding
        self.pad_after = tuple(max(p, (o - 1) * s + d * (k - 1) + 1 - n - p)
                               for n, k, s, p, d, o in zip(in_hw, kernel, stride, padding, dilation, self.out_hw))

    def padded(self, x, fill):
        """x (..., H, W) padded by padding before and pad_after after, with fill."""
        (ph, pw), (ah, aw) = self.padding, self.pad_after
        h, w = x.shape[-2:]
        out = xp.full(x.shape[:-2] + (ph + h + ah, pw + w + aw), fill, dtype=x.dtype)
        out[..., ph:ph + h, pw:pw + w] = x
        return out

    def windows(self, xpad):
        """A strided view (..., oh, ow, kh, kw) of the padded array: the window of each output position."""
        (oh, ow), (kh, kw), (sh, sw), (dh, dw) = self.out_hw, self.kernel, self.stride, self.dilation
        st = xpad.strides
        shape = xpad.shape[:-2] + (oh, ow, kh, kw)
        strides = st[:-2] + (st[-2] * sh, st[-1] * sw, st[-2] * dh, st[-1] * dw)
        return xp.lib.stride_tricks.as_strided(xpad, shape, strides, writeable=False)


# ---- max pooling: a gather by per-plane indices, and its scatter ----------------------------------

class PoolGather(Function):
    """out[..., i, j] = x[..., flat index idx[..., i, j] of the (H, W) plane]: max pooling once the argmax is known."""
    formula = "grad_x = zeros(x.shape) with grad scatter-added at idx (per plane)"
    _array_forward = True

    @staticmethod
    def forward(ctx, x, idx, values=None, disjoint=False):
        # disjoint: the windows don't overlap, so every input position gets at most one gradient
        ctx.idx, ctx.in_hw, ctx.disjoint = idx, x.shape[-2:], disjoint
        if values is not None:
            return values  # max pooling already has them: x gathered at idx
        flat = x.reshape(x.shape[:-2] + (-1,))
        out = xp.take_along_axis(flat, idx.reshape(idx.shape[:-2] + (-1,)), axis=-1)
        return out.reshape(idx.shape)

    @staticmethod
    def backward(ctx, grad):
        return _run(PoolScatter, grad, ctx.idx, ctx.in_hw, ctx.disjoint), None, None, None


class PoolScatter(Function):
    """zeros(..., H, W) with g[..., i, j] added at the plane's flat index idx[..., i, j]: max pooling's gradient."""
    formula = "grad_g = grad gathered at idx (per plane)"
    _array_forward = True

    @staticmethod
    def forward(ctx, g, idx, in_hw, disjoint=False):
        ctx.idx, ctx.disjoint = idx, disjoint
        lead = g.shape[:-2]
        planes, size = math.prod(lead), in_hw[0] * in_hw[1]
        flat_idx = idx.reshape(planes, -1)
        if disjoint:
            # non-overlapping windows: each input receives at most one gradient, so a put suffices
            out = xp.zeros((planes, size), dtype=g.dtype)
            xp.put_along_axis(out, flat_idx, g.reshape(planes, -1), axis=-1)
            return out.reshape(lead + tuple(in_hw))
        # why: bincount sums repeated indices (overlapping windows) far faster than np.add.at
        where = (xp.arange(planes, dtype=xp.int64)[:, None] * size + flat_idx).ravel()
        out = xp.bincount(where, weights=g.reshape(-1), minlength=planes * size)
        return out.astype(g.dtype, copy=False).reshape(lead + tuple(in_hw))

    @staticmethod
    def backward(ctx, grad):
        return _run(PoolGather, grad, ctx.idx, None, ctx.disjoint), None, None, None


def _max_pool_indices(a, geom):
    """(indices, values): per-plane flat int64 indices (..., oh, ow) of each window's maximum, and the maxima.

    Ties go to the first position in the window and a NaN wins, as in PyTorch.
    why: a running maximum over the kh*kw strided slices (one per kernel offset) touches each
    element kh*kw times with no window copy: several times faster than argmax over copied windows.
    """
    (kh, kw), (oh, ow), (sh, sw), (ph, pw), (dh, dw) = geom.kernel, geom.out_hw, geom.stride, geom.padding, geom.dilation
    width = geom.in_hw[1]
    needs_pad = ph or pw or any(geom.pad_after)
    xpad = geom.padded(a, -xp.inf) if needs_pad else a
    slices = [xpad[..., i * dh:i * dh + (oh - 1) * sh + 1:sh, j * dw:j * dw + (ow - 1) * sw + 1:sw]
              for i in range(kh) for j in range(kw)]
    best = slices[0]
    for sl in slices[1:]:
        best = xp.maximum(best, sl)  # NaN propagates, as in PyTorch
    kind = xp.dtype(xp.int16 if len(slices) < 32768 else xp.int64)
    has_nan = a.dtype.kind == "f" and bool(xp.isnan(best).any())
    # the last offset is the default; walking backwards, each earlier hit overrides (the first hit wins)
    which = xp.full(best.shape, len(slices) - 1, dtype=kind)
    for k in range(len(slices) - 2, -1, -1):
        sl = slices[k]
        hit = sl == best
        if has_nan:
            hit |= sl != sl
        which = xp.where(hit, kind.type(k), which)  # why: faster than a masked copyto on strided slices
    # flat index = window origin + the chosen offset, both as small tables
    origin = (xp.arange(oh)[:, None] * sh - ph) * width + (xp.arange(ow)[None, :] * sw - pw)
    offset = xp.array([i * dh * width + j * dw for i in range(kh) for j in range(kw)], dtype=xp.int64)
    return origin + offset[which], best


# ---- max pooling over windows that tile the plane: winners as small per-window codes ----------------
# why: with stride = kernel, no padding or dilation (the usual 2x2 pool), every input is in at most one
# window, so the argmax is a choice of kernel column within each window row (col) and of window row
# (row). Both come from whole-array comparisons on one de-interleaved copy (contiguous, so NumPy runs
# them at full speed), and the gradient is two masked products and one re-interleave: a third of
# the int64 flat indices' cost in the forward and half the put_along_axis in the backward.

class _Tiling:
    """The winners of a tiled max pool: row (P, oh*ow) and col (P*oh*kh*ow,) uint8 codes, P = planes."""

    def __init__(self, shape, kernel, row, col):
        self.shape, self.kernel, self.row, self.col = tuple(shape), kernel, row, col
        (h, w), (kh, kw) = self.shape[-2:], kernel
        self.out_hw = (h // kh, w // kw)

    def split(self, x):
        """x (..., H, W) -> (kw, P*oh, kh, ow): the kernel columns apart, each contiguous (one strided copy)."""
        (oh, ow), (kh, kw) = self.out_hw, self.kernel
        x = x[..., :oh * kh, :ow * kw]  # floor mode: rows and columns past the last window take no part
        return xp.ascontiguousarray(x.reshape(-1, ow, kw).transpose(2, 0, 1)).reshape(kw, -1, kh, ow)

    def merge(self, parts):
        """The inverse of split, with zeros for what split dropped: (kw, P*oh, kh, ow) -> (..., H, W)."""
        (oh, ow), (kh, kw), (h, w) = self.out_hw, self.kernel, self.shape[-2:]
        if (oh * kh, ow * kw) == (h, w):
            out = xp.empty(self.shape, dtype=parts.dtype)
            flat = out.reshape(-1, kw)
            for j in range(kw):  # why: one long strided write per column beats a transposing copy 5x
                flat[:, j] = parts[j].reshape(-1)
            return out
        out = xp.zeros((parts[0].size // (oh * kh * ow), h, w), dtype=parts.dtype)
        for j in range(kw):
            out[:, :oh * kh, j:ow * kw:kw] = parts[j].reshape(out.shape[0], oh * kh, ow)
        return out.reshape(self.shape)


def _pick(parts, code, out=None):
    """parts[code] elementwise along the first axis (exact: a select, no arithmetic on the values)."""
    res = parts[0].copy() if out is None else out
    for k in range(1, len(parts)):
        xp.copyto(res, parts[k], where=code == k)
    return res


def _tiled_max(a, kernel):
    """(values (..., oh, ow), _Tiling) of a max pool whose windows tile a; None if a holds a NaN.

    Ties go to the first position in the window (row-major), as in PyTorch: the first maximal
    column within each window row, then the first row whose maximum is the window's.
    """
    tiling = _Tiling(a.shape, kernel, None, None)
    kh, kw = kernel
    cols = tiling.split(a)
    # the codes are updated by uint8 arithmetic (wrapping), which NumPy runs far faster than a select
    best, col = cols[0], xp.zeros(cols.shape[1:], dtype=xp.uint8)
    for j in range(1, kw):
        hit = cols[j] > best
        best = xp.maximum(best, cols[j])
        col = hit.view(xp.uint8) if j == 1 else col + hit * xp.uint8(j) - hit * col  # col = j where hit
    rows = xp.ascontiguousarray(best.transpose(1, 0, 2))  # (kh, P*oh, ow)
    best, row = rows[0], xp.zeros(rows.shape[1:], dtype=xp.uint8)
    for i in range(1, kh):
        hit = rows[i] > best
        best = xp.maximum(best, rows[i])
        row = hit.view(xp.uint8) if i == 1 else row + hit * xp.uint8(i) - hit * row  # row = i where hit
    if xp.isnan(best).any():
        return None  # why: NaN wins a window (PyTorch); the general path has the rule
    tiling.row, tiling.col = row, col
    return best.reshape(a.shape[:-2] + tiling.out_hw), tiling


def _tiled_scatter(g, t):
    """zeros (..., H, W) with g (..., oh, ow) at each window's winner."""
    (kh, kw), (oh, ow), (h, w) = t.kernel, t.out_hw, t.shape[-2:]
    row, col = t.row, t.col
    g = g.reshape(row.shape)
    # why: inf * 0 is NaN; a select (slower) keeps the non-winners at exactly 0 when g is not finite
    exact = not xp.isfinite(g).all()
    zero = xp.zeros((), dtype=g.dtype)
    by_row = xp.empty((row.shape[0], kh, row.shape[1]), dtype=g.dtype)
    for i in range(kh):
        by_row[:, i] = xp.where(row == i, g, zero) if exact else g * (row == i)
    whole = (oh * kh, ow * kw) == (h, w)
    out = (xp.empty if whole else xp.zeros)((row.size // (oh * ow), h, w), dtype=g.dtype)
    for j in range(kw):
        # kernel column j's winners go to every kw-th column: one long strided view unless cropped
        dst = out.reshape(-1, kw)[:, j] if whole else out[:, :oh * kh, j:ow * kw:kw]
        src, hit = by_row.reshape(dst.shape), (col == j).reshape(dst.shape)
        if exact:
            dst[...] = xp.where(hit, src, zero)
        else:
            xp.multiply(src, hit, out=dst)
    return out.reshape(t.shape)


def _tiled_gather(x, t):
    """x (..., H, W) at each window's winner: (..., oh, ow)."""
    by_row = _pick(t.split(x), t.col)                        # (P*oh, kh, ow)
    out = _pick(xp.ascontiguousarray(by_row.transpose(1, 0, 2)), t.row)
    return out.reshape(t.shape[:-2] + t.out_hw)


class TiledPick(Function):
    """out = x at the winner of each window of a tiling (_Tiling): max pooling once the winners are known;
    with scatter=True its adjoint, zeros(..., H, W) with x placed at the winners. Each is the other's
    backward (one class for both: a row of the op table covers the pair)."""
    formula = "grad_x = grad placed at the winners in zeros (gather), or grad at the winners (scatter)"
    _array_forward = True

    @staticmethod
    def forward(ctx, x, tiling, values=None, scatter=False):
        ctx.tiling, ctx.scatter = tiling, scatter
        if scatter:
            return _tiled_scatter(x, tiling)
        return _tiled_gather(x, tiling) if values is None else values

    @staticmethod
    def backward(ctx, grad):
        return _run(TiledPick, grad, ctx.tiling, None, not ctx.scatter), None, None, None


def _tiles(geom, a, return_indices):
    """True when max pooling takes the tiled path: windows tile the input (stride = kernel, no padding,
    no dilation, no ceil-mode window past the edge), floats, and no indices asked for."""
    return (not return_indices and a.dtype.kind == "f" and geom.stride == geom.kernel
            and geom.padding == (0, 0) and geom.dilation == (1, 1) and max(geom.kernel) < 256
            and all(o * k <= n for o, k, n in zip(geom.out_hw, geom.kernel, geom.in_hw)))


def _data(x):
    return x._data if isinstance(x, Tensor) else xp.asarray(x)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False,
               what="max_pool2d"):
    """Max over each window of (..., H, W): values, and with return_indices PyTorch's per-plane flat indices."""
    k = _pair(kernel_size, 2, what, "kernel_size")
    s = k if stride is None or (isinstance(stride, (list, tuple)) and not stride) else _pair(stride, 2, what, "stride")
    geom = _Geometry(what, tuple(input.shape[-2:]), k, s, _pair(padding, 2, what, "padding"),
                     _pair(dilation, 2, what, "dilation"), ceil_mode)
    a = _data(input)
    tiled = _tiled_max(a, geom.kernel) if _tiles(geom, a, return_indices) else None
    if tiled is not None:
        return TiledPick.apply(input, tiled[1], tiled[0], False)
    idx, values = _max_pool_indices(a, geom)
    out = PoolGather.apply(input, idx, values, geom.disjoint)
    return (out, Tensor._make(idx)) if return_indices else out


def adaptive_windows(n, out):
    """PyTorch's adaptive pooling windows along one axis: [floor(i n / out), ceil((i + 1) n / out)) per output i."""
    i = xp.arange(out)
    return (i * n) // out, -((-(i + 1) * n) // out)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max over PyTorch's adaptive windows of (..., H, W), to output_size (oh, ow)."""
    a = _data(input)
    (h, w), (oh, ow) = a.shape[-2:], output_size
    hs, he = adaptive_windows(h, oh)
    ws, we = adaptive_windows(w, ow)
    if (h % oh == 0) and (w % ow == 0):
        geom = _Geometry("adaptive_max_pool2d", (h, w), (h // oh, w // ow), (h // oh, w // ow), (0, 0), (1, 1), False)
        idx, _ = _max_pool_indices(a, geom)
    else:
        # why: uneven windows; a loop over output rows and columns (small), each a whole-batch reduction
        idx = xp.empty(a.shape[:-2] + (oh, ow), dtype=xp.int64)
        for i in range(oh):
            for j in range(ow):
                block = a[..., hs[i]:he[i], ws[j]:we[j]]
                bw = we[j] - ws[j]
                arg = xp.argmax(block.reshape(block.shape[:-2] + (-1,)), axis=-1)
                idx[..., i, j] = (hs[i] + arg // bw) * w + ws[j] + arg % bw
    out = PoolGather.apply(input, idx, None, (h % oh == 0) and (w % ow == 0))
    return (out, Tensor._make(idx)) if return_indices else out


# ---- average pooling: window sums and their transpose --------------------------------------------

def _avg_divisor(geom, count_include_pad, divisor_override, dtype):
    """(oh, ow) array of PyTorch's avg_pool divisors (window size, clipped to the padded or the real input)."""
    if divisor_override:
        return xp.full(geom.out_hw, divisor_override, dtype=dtype)
    sizes = []
    for n, k, s, p, o in zip(geom.in_hw, geom.kernel, geom.stride, geom.padding, geom.out_hw):
        start = xp.arange(o) * s - p
        end = xp.minimum(start + k, n + p)
        size = end - start
        if not count_include_pad:
            size = xp.minimum(end, n) - xp.maximum(start, 0)
        sizes.append(size)
    return (sizes[0][:, None] * sizes[1][None, :]).astype(dtype)


class AvgPool(Function):
    """Sum over each window of (..., H, W) (zero padding), divided by a per-position divisor (oh, ow)."""
    formula = "grad_x = sum over kernel offsets of (grad / divisor) placed at each window position"
    _array_forward = True

    @staticmethod
    def forward(ctx, x, geom, divisor):
        ctx.geom, ctx.divisor = geom, divisor
        win = geom.windows(geom.padded(x, 0))
        return win.sum(axis=(-2, -1)) / divisor

    @staticmethod
    def backward(ctx, grad):
        return _run(AvgPoolTranspose, grad, ctx.geom, ctx.divisor), None, None


class AvgPoolTranspose(Function):
    """The adjoint of AvgPool: g / divisor added into every window's positions, cropped to (H, W)."""
    formula = "grad_g = avg_pool(grad) (the same windows and divisor)"
    _array_forward = True

    @staticmethod
    def forward(ctx, g, geom, divisor):
        ctx.geom, ctx.divisor = geom, divisor
        (h, w), (ph, pw), (ah, aw) = geom.in_hw, geom.padding, geom.pad_after
        (oh, ow), (kh, kw), (sh, sw) = geom.out_hw, geom.kernel, geom.stride
        (dh, dw) = geom.dilation
        gd = g / divisor
        out = xp.zeros(g.shape[:-2] + (ph + h + ah, pw + w + aw), dtype=g.dtype)
        for i in range(kh):  # a loop over kernel offsets: each adds the whole batch at once
            for j in range(kw):
                out[..., i * dh:i * dh + (oh - 1) * sh + 1:sh, j * dw:j * dw + (ow - 1) * sw + 1:sw] += gd
        return out[..., ph:ph + h, pw:pw + w]

    @staticmethod
    def backward(ctx, grad):
        return _run(AvgPool, grad, ctx.geom, ctx.divisor), None, None


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None, what="avg_pool2d"):
    """Mean over each window of (..., H, W), with PyTorch's divisor rules."""
    k = _pair(kernel_size, 2, what, "kernel_size")
    s = k if stride is None or (isinstance(stride, (list, tuple)) and not stride) else _pair(stride, 2, what, "stride")
    if divisor_override is not None and divisor_override == 0:
        raise ValueError(f"{what}: divisor must be not zero")
    geom = _Geometry(what, tuple(input.shape[-2:]), k, s, _pair(padding, 2, what, "padding"), (1, 1), ceil_mode)
    divisor = _avg_divisor(geom, count_include_pad, divisor_override, _data(input).dtype)
    return AvgPool.apply(input, geom, divisor)


def _constant(m, like):
    return Tensor._make(xp.asarray(m, dtype=_data(like).dtype))


def adaptive_avg_pool2d(input, output_size):
    """Mean over PyTorch's adaptive windows of (..., H, W), to output_size (oh, ow).

    Uneven windows are a linear map A_h @ x @ A_w.T with averaging matrices (composite: matmul
    carries every derivative); even ones are an ordinary avg_pool2d.
    """
    (h, w), (oh, ow) = tuple(input.shape[-2:]), output_size
    if h % oh == 0 and w % ow == 0:
        return avg_pool2d(input, (h // oh, w // ow), what="adaptive_avg_pool2d")
    mats = []
    for n, o in ((h, oh), (w, ow)):
        start, end = adaptive_windows(n, o)
        cols = xp.arange(n)
        inside = (cols[None, :] >= start[:, None]) & (cols[None, :] < end[:, None])
        mats.append(inside / (end - start)[:, None])
    from .linalg import matmul
    return matmul(matmul(_constant(mats[0], input), input), _constant(mats[1].T, input))


# ---- interpolation --------------------------------------------------------------------------------

def _source_scale(n_in, n_out, align_corners, scale_factor):
    """PyTorch's area_pixel_compute_scale: in/out, (in-1)/(out-1) with align_corners, or 1/scale_factor."""
    if align_corners:
        return (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    return 1.0 / scale_factor if scale_factor is not None and scale_factor > 0 else n_in / n_out


def nearest_indices(n_in, n_out, scale_factor=None):
    """Source index of each output for mode='nearest': min(floor(dst * scale), n_in - 1)."""
    if n_out == n_in:
        return xp.arange(n_out)
    if n_out == 2 * n_in:
        return xp.arange(n_out) // 2
    # why: PyTorch computes the scale and the product in float32 (floorf); float64 can pick another pixel
    scale = xp.float32(_source_scale(n_in, n_out, False, scale_factor))
    return xp.minimum(xp.floor(xp.arange(n_out, dtype=xp.float32) * scale).astype(xp.int64), n_in - 1)


def linear_matrix(n_in, n_out, align_corners, scale_factor=None):
    """(n_out, n_in) matrix of 1-d linear interpolation weights, with PyTorch's source-index rule."""
    scale = _source_scale(n_in, n_out, align_corners, scale_factor)
    dst = xp.arange(n_out, dtype=xp.float64)
    src = dst * scale if align_corners else xp.maximum((dst + 0.5) * scale - 0.5, 0.0)
    i0 = xp.minimum(xp.floor(src).astype(xp.int64), n_in - 1)
    i1 = xp.minimum(i0 + 1, n_in - 1)
    lam = src - i0
    m = xp.zeros((n_out, n_in))
    rows = xp.arange(n_out)
    xp.add.at(m, (rows, i0), 1.0 - lam)
    xp.add.at(m, (rows, i1), lam)
    return m


def resize_bilinear(input, size, align_corners, scale_factors=(None, None)):
    """(..., H, W) -> (..., oh, ow) by bilinear interpolation: M_h @ x @ M_w.T (composite on matmul)."""
    from .linalg import matmul
    (h, w), (oh, ow) = tuple(input.shape[-2:]), size
    mh = linear_matrix(h, oh, align_corners, scale_factors[0])
    mw = linear_matrix(w, ow, align_corners, scale_factors[1])
    return matmul(matmul(_constant(mh, input), input), _constant(mw.T, input))


def resize_nearest(input, size, scale_factors):
    """(..., *spatial) -> (..., *size) by nearest-neighbour indexing over the last len(size) dims."""
    n = len(size)
    spatial = tuple(input.shape[-n:])
    idx = [nearest_indices(a, b, f) for a, b, f in zip(spatial, size, scale_factors)]
    grids = xp.ix_(*idx) if n > 1 else (idx[0],)
    return input[(Ellipsis,) + tuple(grids)]


# ---- reflect / replicate padding --------------------------------------------------------------------

def pad_indices(n, before, after, mode):
    """Source indices along one dim of size n for padding (before, after) with 'reflect' or 'replicate'."""
    i = xp.arange(-before, n + after)
    if mode == "replicate":
        return xp.clip(i, 0, n - 1)
    i = xp.abs(i)  # reflect about the first element, then about the last
    return (n - 1) - xp.abs((n - 1) - i)


def pad_index(input, pad, mode):
    """Reflect or replicate padding of the last len(pad) // 2 dims: one advanced index (composite, gathers)."""
    k = len(pad) // 2
    shape = tuple(input.shape)
    idx = []
    for i in range(k):
        d = len(shape) - 1 - i
        idx.append(pad_indices(shape[d], pad[2 * i], pad[2 * i + 1], mode))
    idx = idx[::-1]  # first padded dim first
    grids = xp.ix_(*idx) if k > 1 else (idx[0],)
    return input[(Ellipsis,) + tuple(grids)]
