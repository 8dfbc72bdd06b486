"""2-D convolution primitives on BLAS: Conv2d, ConvTranspose2d and Conv2dWeightGrad (im2col + one matmul).

The three are one bilinear map seen from its three sides. For y = conv(x, w):
    <gy, conv(x, w)> = <x, conv_transpose(gy, w)> = <w, weight_grad(x, gy)>
so each one's backward is made of the other two, and gradients of gradients (create_graph) come
for free: on Tensors the backward calls the primitives themselves, on arrays it runs the array code.

Geometry (`_Geom`) is the forward convolution's: input size (H, W), output size (Ho, Wo), kernel,
stride, dilation, top/left padding and groups. Bottom/right padding is implied by the output size,
so asymmetric 'same' padding and output_padding need no special case.

Layouts: the padded canvas is (C, N, Hc, Wc) and the im2col buffer (G, Cg*kh*kw, N*Ho*Wo), so every
product is one matmul per group with the batch folded into the long axis (no loop over N). Stride-1
(along the height) single-group convolutions deep enough in C*kw take the row path instead (`_by_rows`):
a buffer over (c, kernel column) alone, (C*kw, Hr*N*Wo), and kh matmuls per product on views of it.
"""
from typing import NamedTuple

from numpy.lib.stride_tricks import as_strided

from ..backend import xp
from ..blas import gemm_into
from ..function import Function
from ..tensor import Tensor  # why: tensor.py does not import this module, so no import cycle


class _Geom(NamedTuple):
    """The forward convolution's geometry (all pairs are (height, width))."""
    in_size: tuple
    out_size: tuple
    kernel: tuple
    stride: tuple
    dilation: tuple
    pad: tuple        # top, left (bottom/right follow from out_size)
    groups: int


def _canvas_size(g):
    """Rows/cols of the padded canvas: enough for every window and for the input at its offset."""
    (H, W), (Ho, Wo), (kh, kw) = g.in_size, g.out_size, g.kernel
    (sh, sw), (dh, dw), (pt, pl) = g.stride, g.dilation, g.pad
    return (max((Ho - 1) * sh + dh * (kh - 1) + 1, pt + H),
            max((Wo - 1) * sw + dw * (kw - 1) + 1, pl + W))


def _canvas(xt, g):
    """xt (A, B, H, W) on the zero canvas (A, B, Hc, Wc) at the padding offset (xt itself when unpadded)."""
    A, B, H, W = xt.shape
    Hc, Wc = _canvas_size(g)
    (pt, pl) = g.pad
    if (pt, pl, Hc, Wc) == (0, 0, H, W):
        return xt  # why: no padding -- read the windows straight from the input
    canvas = xp.zeros((A, B, Hc, Wc), dtype=xt.dtype)
    canvas[:, :, pt:pt + H, pl:pl + W] = xt
    return canvas


def _windows(canvas, g):
    """The strided view (A, B, kh, kw, Ho, Wo) of a canvas (A, B, Hc, Wc): every window's pixels."""
    (kh, kw), (Ho, Wo), (sh, sw), (dh, dw) = g.kernel, g.out_size, g.stride, g.dilation
    s0, s1, s2, s3 = canvas.strides
    return as_strided(canvas, canvas.shape[:2] + (kh, kw, Ho, Wo),
                      (s0, s1, s2 * dh, s3 * dw, s2 * sh, s3 * sw), writeable=False)


def _im2col(x, g):
    """x (N, C, H, W) -> cols (G, Cg*kh*kw, N*Ho*Wo), contiguous: one strided copy, no Python loop."""
    N, C = x.shape[:2]
    (kh, kw), (Ho, Wo) = g.kernel, g.out_size
    win = _windows(_canvas(x.transpose(1, 0, 2, 3), g), g).transpose(0, 2, 3, 1, 4, 5)  # (C, kh, kw, N, Ho, Wo)
    cols = xp.empty((C, kh, kw, N, Ho, Wo), dtype=x.dtype)
    xp.copyto(cols, win)
    return cols.reshape(g.groups, (C // g.groups) * kh * kw, N * Ho * Wo)


def _add_windows(k6, g, A, B):
    """The adjoint of reading windows: k6 (kh, kw, A, B, Ho, Wo) summed into a zero canvas (A, B, Hc, Wc)
    at each window's pixels, one strided slice-add per kernel offset; returns the unpadded (A, B, H, W) view."""
    (H, W), (Ho, Wo), (kh, kw) = g.in_size, g.out_size, g.kernel
    (sh, sw), (dh, dw), (pt, pl) = g.stride, g.dilation, g.pad
    canvas = xp.zeros((A, B) + _canvas_size(g), dtype=k6.dtype)
    for i in range(kh):
        r = i * dh
        for j in range(kw):
            c = j * dw
            canvas[:, :, r:r + (Ho - 1) * sh + 1:sh, c:c + (Wo - 1) * sw + 1:sw] += k6[i, j]
    return canvas[:, :, pt:pt + H, pl:pl + W]


def _col2im(cols, g, N, C):
    """The adjoint of _im2col: cols (G, Cg*kh*kw, N*Ho*Wo) summed back into (N, C, H, W).

    One strided slice-add per kernel offset (kh*kw of them), never a loop over pixels or channels.
    """
    (kh, kw), (Ho, Wo) = g.kernel, g.out_size
    k6 = cols.reshape(C, kh, kw, N, Ho, Wo).transpose(1, 2, 0, 3, 4, 5)
    return xp.ascontiguousarray(_add_windows(k6, g, C, N).transpose(1, 0, 2, 3))


# ---- image by image --------------------------------------------------------------------------------
# why: with few input channels (the first layer of an image network: C*kh*kw = 25 for 1 channel, 5x5)
# the weight gradient of the folded layout is one matmul (Cg*kh*kw, N*Ho*Wo) @ (N*Ho*Wo, O) with a
# tiny output and a very long sum, which OpenBLAS runs at a fraction of its speed (MNIST CNN's first
# layer: 0.8-2.3 ms), and the forward's output and the gradient need (O, N) <-> (N, O) transposes.
# Laid out image by image, (N, Cg*kh*kw, Ho*Wo), every product is a batch of N ordinary matmuls that
# reads and writes (N, O, Ho*Wo) -- NCHW itself: 0.43 ms for that gradient, no transposes.

_IMAGE_MIN_PIXELS = 256  # output planes smaller than this make the per-image matmuls too small


def _per_image(g, c_in):
    """True when the products run image by image on an (N, Cg*kh*kw, Ho*Wo) buffer (`_im2col_images`):
    one group, not by rows, and output planes of at least _IMAGE_MIN_PIXELS pixels."""
    return (g.groups == 1 and g.out_size[0] * g.out_size[1] >= _IMAGE_MIN_PIXELS
            and not _by_rows(g, c_in))


def _im2col_images(x, g):
    """x (N, C, H, W) -> cols (N, C*kh*kw, Ho*Wo), contiguous: the im2col buffer of each image."""
    N, C = x.shape[:2]
    (kh, kw), (Ho, Wo) = g.kernel, g.out_size
    cols = xp.empty((N, C, kh, kw, Ho, Wo), dtype=x.dtype)
    xp.copyto(cols, _windows(_canvas(x, g), g))
    return cols.reshape(N, C * kh * kw, Ho * Wo)


def _col2im_images(cols, g, N, C):
    """The adjoint of _im2col_images: cols (N, C*kh*kw, Ho*Wo) summed back into (N, C, H, W)."""
    (kh, kw), (Ho, Wo) = g.kernel, g.out_size
    k6 = cols.reshape(N, C, kh, kw, Ho, Wo).transpose(2, 3, 0, 1, 4, 5)
    return xp.ascontiguousarray(_add_windows(k6, g, N, C))


def _grad_cols(grad, G):
    """grad (N, O, Ho, Wo) -> (G, Og, N*Ho*Wo), the layout the matmuls want."""
    N, O, Ho, Wo = grad.shape
    return xp.ascontiguousarray(grad.transpose(1, 0, 2, 3)).reshape(G, O // G, N * Ho * Wo)


# ---- one kernel row at a time ---------------------------------------------------------------------
# why: the full im2col buffer is kh*kw times the input (20 MB for a 16-channel 5x5 layer on 64 14x14
# images) and writing it, then reading it back, costs about half as much as the matmul it feeds. With
# stride 1 along the height, kernel row i of every window reads the same (c, j) columns as row 0, only
# i*dh canvas rows lower. So a buffer over (c, j) alone -- kh times smaller -- laid out (Cg*kw, Hr, N, Wo)
# gives, for each kernel row, a 2-D view shifted by i*dh*N*Wo elements that BLAS reads in place (unit
# column stride, one row stride): each product is kh matmuls with depth C*kw on views, summed.

_ROW_MIN_DEPTH = 32  # C*kw below this makes the kh row matmuls too shallow to run well: use the full im2col


def _by_rows(g, c_in):
    """True when the convolution's three products are done one kernel row at a time (`_row_cols`):
    stride 1 along the height, one group, a kernel more than one row tall and c_in*kw deep enough."""
    return (g.groups == 1 and g.stride[0] == 1 and g.kernel[0] > 1
            and c_in * g.kernel[1] >= _ROW_MIN_DEPTH)


def _row_span(g):
    """Hr, the canvas rows the windows cover (stride 1 along the height)."""
    return g.out_size[0] + g.dilation[0] * (g.kernel[0] - 1)


def _col_range(g, j, W):
    """(w0, w1, start): output columns w0 <= w < w1 read input column start + (w - w0) * sw at kernel column j."""
    (_, Wo), (_, sw), (_, dw), (_, pl) = g.out_size, g.stride, g.dilation, g.pad
    off = j * dw - pl                       # input column of output column 0
    w0 = min(Wo, max(0, -(off // sw)))      # ceil(-off / sw), clipped
    w1 = max(w0, min(Wo, -((off - W) // sw)))  # ceil((W - off) / sw), clipped
    return w0, w1, off + w0 * sw


def _inside_rows(g):
    """How many canvas rows, from row pt on, hold input rows (the rest is padding the products skip)."""
    return max(0, min(g.in_size[0], _row_span(g) - g.pad[0]))


def _row_cols(x, g):
    """x (N, C, H, W) -> B (C*kw, rows*N*Wo) with B[(c, j), (r, n, w)] = padded x[n, c, r, w*sw + j*dw]:
    the canvas rows inside the input only (`_inside_rows`; `_row_terms` never reads the others).

    Two copies: x into a zeroed (C, rows, N, Wc) canvas, padded along the width only, then every kernel
    column's shifted window of it at once. why: the windows bring their padding zeros along, where
    filling each band's border columns on its own wrote 1-2 floats at a time (~0.1 ms of ~0.8).
    """
    N, C, H, W = x.shape
    kw, (_, Wo), sw, dw, pl = g.kernel[1], g.out_size, g.stride[1], g.dilation[1], g.pad[1]
    rows, Wc = _inside_rows(g), _canvas_size(g)[1]
    xt = xp.zeros((C, rows, N, Wc), dtype=x.dtype)
    xt[..., pl:pl + W] = x.transpose(1, 2, 0, 3)[:, :rows]
    s0, _, s2, s3 = xt.strides
    B = xp.empty((C, kw, rows * N, Wo), dtype=x.dtype)
    xp.copyto(B, as_strided(xt, B.shape, (s0, s3 * dw, s2, s3 * sw), writeable=False))
    return B.reshape(C * kw, rows * N * Wo)


def _row_grad(grad):
    """grad (N, O, Ho, Wo) -> (Ho*N*Wo, O), the row products' pixel order with the channels innermost.

    why: the weight gradient's long-sum product reads it as its right-hand side, which OpenBLAS runs
    ~25% faster untransposed (0.44 vs 0.55 ms per kernel row on the MNIST CNN's second layer); the
    copy itself costs the same as the (O, Ho*N*Wo) order's.
    """
    N, O, Ho, Wo = grad.shape
    return xp.ascontiguousarray(grad.transpose(2, 0, 3, 1)).reshape(Ho * N * Wo, O)


def _row_terms(g):
    """(i, a, b, r) for each kernel row i that reaches the input: its products cover output rows [a, b), and
    r is the row of the row buffers (`_row_cols`, the adjoint's Bt) where output row a's inputs start.

    why: kernel row i meets the input only where canvas row ho + i*dh is not top/bottom padding; elsewhere it
    would multiply zeros, so the row products skip those rows (5x5 kernel, padding 2, 14 rows: 64 of 70).
    """
    (H, _), (Ho, _), kh, dh, pt = g.in_size, g.out_size, g.kernel[0], g.dilation[0], g.pad[0]
    terms = []
    for i in range(kh):
        a, b = max(0, pt - i * dh), min(Ho, pt + H - i * dh)
        if b > a:
            terms.append((i, a, b, i * dh + a - pt))
    return terms


def _writer_first(terms, covers):
    """(terms with the first one that covers the whole output moved to the front, that term or None).

    why: a sum of products needs no zeroed output when one term covering it all writes and the rest add."""
    first = next((t for t in terms if covers(t)), None)
    return ([first] + [t for t in terms if t is not first] if first is not None else terms), first


def _conv_rows(B, w, g, N, bias=None):
    """y (N, O, Ho, Wo) = conv(x, w) (+ bias) from x's row buffer B: kh matmuls on shifted views, summed."""
    O, C, kh, kw = w.shape
    (Ho, Wo), L = g.out_size, N * g.out_size[1]
    wr = xp.ascontiguousarray(w.transpose(2, 0, 1, 3)).reshape(kh, O, C * kw)
    # why: (O, Ho*N*Wo) = w @ view keeps rows of Wo pixels together, so the transpose to (N, O, Ho, Wo)
    # copies runs of Wo floats; the long-axis-first product (Ho*N*Wo, O) multiplies a little faster but
    # its transpose moves single floats (MNIST CNN step, same process alternating: 1-2 ms of ~23 faster)
    terms, first = _writer_first(_row_terms(g), lambda t: (t[1], t[2]) == (0, Ho))
    y = (xp.zeros if first is None else xp.empty)((O, Ho * L), dtype=B.dtype)
    for t in terms:
        i, a, b, r = t
        gemm_into(wr[i], B[:, r * L:(r + b - a) * L], y[:, a * L:b * L], accumulate=t is not first)
    return _nchw(y.reshape(O, Ho, N, Wo).transpose(2, 0, 1, 3), bias)


def _weight_grad_rows(B, gt, g, C):
    """gw (O, C, kh, kw) from x's row buffer B and grad in `_row_grad` layout: one matmul per kernel row."""
    O, (kh, kw) = gt.shape[1], g.kernel
    L = gt.shape[0] // g.out_size[0]
    terms = _row_terms(g)
    # a kernel row that never meets the input has a zero gradient
    gw = (xp.empty if len(terms) == kh else xp.zeros)((kh, C * kw, O), dtype=gt.dtype)
    for i, a, b, r in terms:
        # why: (C*kw, O) = view @ grad runs ~20% faster in OpenBLAS than the (O, C*kw) orientation
        xp.matmul(B[:, r * L:(r + b - a) * L], gt[a * L:b * L], out=gw[i])
    return gw.reshape(kh, C, kw, O).transpose(3, 1, 0, 2)


def _conv_transpose_rows(gt, w, g, N):
    """x-shaped (N, C, H, W) = conv_transpose(gy, w) from gy in `_row_grad` layout.

    The adjoint of `_conv_rows` step by step: per kernel row a matmul into the row buffer (transposed,
    (rows*N*Wo, C*kw), the canvas rows inside the input) at its shifted view, accumulated there by BLAS
    (`gemm_into`), then the buffer's own adjoint: kw strided adds into the input.
    """
    O, C, kh, kw = w.shape
    (H, W), Wo, sw = g.in_size, g.out_size[1], g.stride[1]
    L, rows = N * Wo, _inside_rows(g)  # Bt holds the canvas rows pt .. pt + rows, as `_row_cols`
    wr = xp.ascontiguousarray(w.transpose(2, 0, 1, 3)).reshape(kh, O, C * kw)
    terms, first = _writer_first(_row_terms(g), lambda t: t[3] == 0 and t[2] - t[1] == rows)
    # why: (rows*N*Wo, C*kw) = grad @ w, the long axis first, runs ~1.6x faster with 2 OpenBLAS threads
    # than (C*kw, rows*N*Wo) = w.T @ grad (and ~5% faster with one)
    Bt = (xp.zeros if first is None else xp.empty)((rows * L, C * kw), dtype=gt.dtype)
    for t in terms:
        i, a, b, r = t
        gemm_into(gt[a * L:b * L], wr[i], Bt[r * L:(r + b - a) * L], accumulate=t is not first)
    B5 = Bt.reshape(rows, N, Wo, C, kw)
    cols = [(j,) + _col_range(g, j, W) for j in range(kw)]
    cols, full = _writer_first([c for c in cols if c[2] > c[1]],
                               lambda c: rows == H and c[3] == 0 and c[2] - c[1] == W and (sw == 1 or W == 1))
    dxt = (xp.zeros if full is None else xp.empty)((H, N, W, C), dtype=gt.dtype)
    for c in cols:
        j, w0, w1, start = c
        dst = dxt[:rows, :, start:start + (w1 - w0 - 1) * sw + 1:sw]
        if c is full:
            dst[...] = B5[:, :, w0:w1, :, j]
        else:
            dst += B5[:, :, w0:w1, :, j]
    return xp.ascontiguousarray(dxt.transpose(1, 3, 0, 2))


# ---- the three products on arrays: dispatch between the full im2col and the row buffer --------------

def _input_cols(x, g, c_in):
    """x's buffer in the layout the products take: by rows, image by image, or the folded im2col."""
    if _by_rows(g, c_in):
        return _row_cols(x, g)
    return _im2col_images(x, g) if _per_image(g, c_in) else _im2col(x, g)


def _nchw(y, bias):
    """y (N, O, Ho, Wo) as a C-contiguous array (a copy of a view, a fresh product as it is), plus bias (O,).

    why: copy, then add in place -- NumPy runs the add fused into the transposing copy ~40% slower
    (0.31 vs 0.22 ms for the MNIST CNN's second layer)."""
    out = xp.ascontiguousarray(y)
    if bias is not None:
        out += bias.reshape(1, -1, 1, 1)
    return out


def _conv_arrays(x, w, g, cols=None, bias=None):
    """y (N, O, Ho, Wo) = conv(x, w) (+ bias) on arrays; cols: x's ready buffer (`_input_cols`)."""
    N = x.shape[0]
    O, G = w.shape[0], g.groups
    if _by_rows(g, w.shape[1]):
        return _conv_rows(_row_cols(x, g) if cols is None else cols, w, g, N, bias)
    if _per_image(g, w.shape[1]):
        cols = _im2col_images(x, g) if cols is None else cols
        return _nchw(xp.matmul(w.reshape(O, -1), cols).reshape(N, O, *g.out_size), bias)  # NCHW as it comes
    if cols is None:
        cols = _im2col(x, g)
    y = xp.matmul(w.reshape(G, O // G, -1), cols)  # (G, Og, N*Ho*Wo)
    return _nchw(y.reshape(O, N, *g.out_size).transpose(1, 0, 2, 3), bias)


def _as_full_correlation(g, c_in):
    """True when conv_transpose is better done as a convolution (stride 1, no dilation or groups, padding
    at most kernel - 1, enough input channels for the matmul to run well). Checked before `_by_rows`:
    with 64 channels the correlation (itself by rows) beats the row adjoint by ~5%; with 16, the
    row adjoint wins by ~20% (the correlation's matmuls have only C_in rows)."""
    return (g.stride == (1, 1) and g.dilation == (1, 1) and g.groups == 1 and c_in >= 32
            and g.pad[0] <= g.kernel[0] - 1 and g.pad[1] <= g.kernel[1] - 1)


def _grad_layout(grad, g, c_in):
    """grad in the layout the products want: `_row_grad` by rows, (N, O, Ho*Wo) image by image, else `_grad_cols`."""
    if _by_rows(g, c_in):
        return _row_grad(grad)
    if _per_image(g, c_in):
        return grad.reshape(grad.shape[0], grad.shape[1], -1)
    return _grad_cols(grad, g.groups)


def _conv_transpose_arrays(gy, w, g, gcols=None):
    """x-shaped (N, C, H, W) = conv_transpose(gy, w) on arrays: gy (N, O, Ho, Wo), w (O, Cg, kh, kw).

    gcols: gy already in `_grad_layout` (Conv2d's backward shares it with the weight gradient).
    """
    N, O = gy.shape[:2]
    G = g.groups
    Cg = w.shape[1]
    if _as_full_correlation(g, Cg):
        # why: for a stride-1 convolution the adjoint is itself a convolution of gy (padded by k - 1 - p)
        # with the kernels flipped and in/out swapped: a forward convolution, instead of a matmul as
        # large and a col2im of kh*kw read-modify-write passes (about 10% of a 64-channel 3x3 step)
        (kh, kw), (pt, pl) = g.kernel, g.pad
        flipped = xp.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))
        g2 = _Geom(g.out_size, g.in_size, g.kernel, (1, 1), (1, 1), (kh - 1 - pt, kw - 1 - pl), 1)
        return _conv_arrays(gy, flipped, g2)
    if _by_rows(g, Cg):
        return _conv_transpose_rows(_row_grad(gy) if gcols is None else gcols, w, g, N)
    if _per_image(g, Cg):
        gy3 = gy.reshape(N, O, -1) if gcols is None else gcols
        return _col2im_images(xp.matmul(w.reshape(O, -1).T, gy3), g, N, Cg)
    if gcols is None:
        gcols = _grad_cols(gy, G)
    cols = xp.matmul(xp.swapaxes(w.reshape(G, O // G, -1), 1, 2), gcols)  # (G, Cg*kh*kw, N*Ho*Wo)
    return _col2im(cols, g, N, Cg * G)


def _weight_grad_arrays(x, gy, g, cols=None, gcols=None):
    """w-shaped (O, Cg, kh, kw) = sum over batch and pixels of gy (x) windows of x, on arrays.

    cols: x's ready im2col (or row) buffer; gcols: gy in `_grad_layout`.
    """
    O, G, Cg = gy.shape[1], g.groups, x.shape[1] // g.groups
    if _by_rows(g, Cg):
        B = _row_cols(x, g) if cols is None else cols
        return _weight_grad_rows(B, _row_grad(gy) if gcols is None else gcols, g, Cg)
    if _per_image(g, Cg):
        cols = _im2col_images(x, g) if cols is None else cols
        gy3 = gy.reshape(gy.shape[0], O, -1) if gcols is None else gcols
        # a batch of (O, Ho*Wo) @ (Ho*Wo, Cg*kh*kw) products, one per image, summed over the images
        return xp.matmul(gy3, xp.swapaxes(cols, 1, 2)).sum(axis=0).reshape(O, Cg, *g.kernel)
    if cols is None:
        cols = _im2col(x, g)
    if gcols is None:
        gcols = _grad_cols(gy, G)
    # why: (G, Cg*kh*kw, Og) = cols @ grad.T runs 10-30% faster in OpenBLAS than the (G, Og, Cg*kh*kw) orientation
    gw = xp.matmul(cols, xp.swapaxes(gcols, 1, 2))
    return xp.swapaxes(gw, 1, 2).reshape(O, Cg, *g.kernel)


def _any_tensor(*args):
    return any(isinstance(a, Tensor) for a in args)


def _conv(x, w, g):
    """conv(x, w) for the backward formulas: recorded (create_graph) when an input is a Tensor."""
    if _any_tensor(x, w):
        return Conv2d.apply(x, w, None, g)
    return _conv_arrays(x, w, g)


def _conv_transpose(gy, w, g):
    if _any_tensor(gy, w):
        return ConvTranspose2d.apply(gy, w, None, g)
    return _conv_transpose_arrays(gy, w, g)


def _weight_grad(x, gy, g):
    if _any_tensor(x, gy):
        return Conv2dWeightGrad.apply(x, gy, g)
    return _weight_grad_arrays(x, gy, g)


def _bias_grad(grad):
    """sum(grad, (0, 2, 3)): the bias gradient of a (N, O, Ho, Wo) gradient."""
    if type(grad) is xp.ndarray and grad.dtype.kind == "f" and grad.flags.c_contiguous:
        # why: a matrix-vector product per image sums each plane ~3x faster than NumPy's multi-axis
        # reduction (MNIST CNN first layer: 0.14 -> 0.07 ms), with BLAS's blocked float32 accuracy
        N, O = grad.shape[:2]
        return xp.matmul(grad.reshape(N, O, -1), xp.ones(grad.shape[2] * grad.shape[3], grad.dtype)).sum(axis=0)
    return xp.sum(grad, axis=(0, 2, 3))


class Conv2d(Function):
    """y = conv2d(x, w) + b: x (N, C, H, W), w (O, C/groups, kh, kw), b (O,) or None -> (N, O, Ho, Wo).

    why: speed -- im2col through stride tricks and one matmul per group instead of a graph of
    kh*kw slices, products and sums; the im2col buffer is kept for the weight gradient.
    """
    formula = "grad_x = conv_transpose2d(grad, w); grad_w = correlate(x, grad); grad_b = sum(grad, (0, 2, 3))"
    _array_forward = True

    @staticmethod
    def forward(ctx, x, w, b, geom):
        need_x, need_w, _ = ctx.needs_input_grad[:3]
        ctx.geom = geom
        cols = _input_cols(x, geom, w.shape[1])
        y = _conv_arrays(x, w, geom, cols, b)
        ctx.save_for_backward(x if need_w else None, w if need_x else None, cols if need_w else None)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, w, cols = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        g = ctx.geom
        grad_b = _bias_grad(grad) if need_b else None
        if _any_tensor(x, w, grad):  # create_graph: through the primitives, so the backward is recorded
            grad_x = ConvTranspose2d.apply(grad, w, None, g) if need_x else None
            grad_w = Conv2dWeightGrad.apply(x, grad, g) if need_w else None
            return grad_x, grad_w, grad_b, None
        # why: both products want grad in (G, Og, N*Ho*Wo) layout: transpose it once for the two (the
        # input gradient needs it only when it is not taken as a full correlation)
        c_in = x.shape[1] // g.groups if x is not None else w.shape[1]
        need_cols = need_w or (need_x and not _as_full_correlation(g, c_in))
        gcols = _grad_layout(grad, g, c_in) if need_cols else None
        grad_x = _conv_transpose_arrays(grad, w, g, gcols) if need_x else None
        grad_w = _weight_grad_arrays(x, grad, g, cols, gcols) if need_w else None
        return grad_x, grad_w, grad_b, None


class ConvTranspose2d(Function):
    """y = conv_transpose2d(x, w) + b, the adjoint of Conv2d in its input.

    x (N, O, Ho, Wo) lives where a convolution's output would, w (O, C/groups, kh, kw) as
    F.conv_transpose2d stores it, and y (N, C, H, W) where the convolution's input would; geom is
    that convolution's. why: speed (one matmul + kh*kw strided adds) and it is Conv2d's grad_input.
    """
    formula = "grad_x = conv2d(grad, w); grad_w = correlate(grad, x); grad_b = sum(grad, (0, 2, 3))"
    _array_forward = True

    @staticmethod
    def forward(ctx, x, w, b, geom):
        need_x, need_w, _ = ctx.needs_input_grad[:3]
        ctx.geom = geom
        ctx.save_for_backward(x if need_w else None, w if need_x else None)
        y = _conv_transpose_arrays(x, w, geom)
        if b is not None:
            y += b.reshape(1, -1, 1, 1)  # y is fresh from col2im
        return y

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        g = ctx.geom
        grad_x = _conv(grad, w, g) if need_x else None
        grad_w = _weight_grad(grad, x, g) if need_w else None
        grad_b = _bias_grad(grad) if need_b else None
        return grad_x, grad_w, grad_b, None


class Conv2dWeightGrad(Function):
    """gw (O, C/groups, kh, kw) = the correlation of x (N, C, H, W) with gy (N, O, Ho, Wo): Conv2d's grad_weight.

    why: a primitive of its own so that Conv2d's backward is differentiable (create_graph).
    """
    formula = "grad_x = conv_transpose2d(gy, grad); grad_gy = conv2d(x, grad)"
    _array_forward = True

    @staticmethod
    def forward(ctx, x, gy, geom):
        need_x, need_gy = ctx.needs_input_grad[:2]
        ctx.geom = geom
        ctx.save_for_backward(x if need_gy else None, gy if need_x else None)
        return xp.ascontiguousarray(_weight_grad_arrays(x, gy, geom))

    @staticmethod
    def backward(ctx, grad):
        x, gy = ctx.saved_tensors
        need_x, need_gy = ctx.needs_input_grad[:2]
        g = ctx.geom
        grad_x = _conv_transpose(gy, grad, g) if need_x else None
        grad_gy = _conv(x, grad, g) if need_gy else None
        return grad_x, grad_gy, None
