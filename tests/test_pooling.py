"""Pooling, interpolation and padding against naive NumPy loops; gradients, layers, errors; Dropout2d, BatchNorm2d."""
import itertools
import math

import numpy as np
import pytest

import autograd_core as ag
import nn
import nn.functional as F


def _rand(shape, seed=0, distinct=False):
    rng = np.random.default_rng(seed)
    if distinct:  # values far apart: no ties in a max
        return rng.permutation(int(np.prod(shape))).reshape(shape) * 0.1 + rng.uniform(0, 0.01, shape)
    return rng.standard_normal(shape)


# ---- naive references: explicit loops over every output element --------------------------------

def _out_len(n, k, s, p, d, ceil_mode):
    eff = d * (k - 1) + 1
    if ceil_mode:
        out = math.ceil((n + 2 * p - eff) / s) + 1
        if (out - 1) * s >= n + p:
            out -= 1
    else:
        out = (n + 2 * p - eff) // s + 1
    return out


def ref_max_pool2d(x, k, s, p, d, ceil_mode):
    n_, c_, h, w = x.shape
    oh, ow = (_out_len(h, k[0], s[0], p[0], d[0], ceil_mode), _out_len(w, k[1], s[1], p[1], d[1], ceil_mode))
    out = np.empty((n_, c_, oh, ow))
    idx = np.empty((n_, c_, oh, ow), dtype=np.int64)
    for n, c, i, j in itertools.product(range(n_), range(c_), range(oh), range(ow)):
        best, where = -np.inf, -1
        for a, b in itertools.product(range(k[0]), range(k[1])):
            r, q = i * s[0] - p[0] + a * d[0], j * s[1] - p[1] + b * d[1]
            if 0 <= r < h and 0 <= q < w and x[n, c, r, q] > best:
                best, where = x[n, c, r, q], r * w + q
        out[n, c, i, j], idx[n, c, i, j] = best, where
    return out, idx


def ref_avg_pool2d(x, k, s, p, ceil_mode, count_include_pad, divisor_override=None):
    n_, c_, h, w = x.shape
    oh, ow = _out_len(h, k[0], s[0], p[0], 1, ceil_mode), _out_len(w, k[1], s[1], p[1], 1, ceil_mode)
    out = np.empty((n_, c_, oh, ow))
    for n, c, i, j in itertools.product(range(n_), range(c_), range(oh), range(ow)):
        r0, q0 = i * s[0] - p[0], j * s[1] - p[1]
        r1, q1 = min(r0 + k[0], h + p[0]), min(q0 + k[1], w + p[1])
        size = (r1 - r0) * (q1 - q0)
        r0c, q0c, r1c, q1c = max(r0, 0), max(q0, 0), min(r1, h), min(q1, w)
        total = sum(x[n, c, r, q] for r in range(r0c, r1c) for q in range(q0c, q1c))
        div = divisor_override or (size if count_include_pad else (r1c - r0c) * (q1c - q0c))
        out[n, c, i, j] = total / div
    return out


def ref_adaptive(x, out_hw, reduce):
    n_, c_, h, w = x.shape
    oh, ow = out_hw
    out = np.empty((n_, c_, oh, ow))
    idx = np.empty((n_, c_, oh, ow), dtype=np.int64)
    for n, c, i, j in itertools.product(range(n_), range(c_), range(oh), range(ow)):
        r0, r1 = math.floor(i * h / oh), math.ceil((i + 1) * h / oh)
        q0, q1 = math.floor(j * w / ow), math.ceil((j + 1) * w / ow)
        block = x[n, c, r0:r1, q0:q1]
        out[n, c, i, j] = reduce(block)
        a = int(np.argmax(block))
        idx[n, c, i, j] = (r0 + a // (q1 - q0)) * w + q0 + a % (q1 - q0)
    return out, idx


def ref_nearest(x, out_hw):
    n_, c_, h, w = x.shape
    oh, ow = out_hw
    out = np.empty((n_, c_, oh, ow))
    for i, j in itertools.product(range(oh), range(ow)):
        out[:, :, i, j] = x[:, :, min(math.floor(i * h / oh), h - 1), min(math.floor(j * w / ow), w - 1)]
    return out


def _src(dst, n_in, n_out, align_corners):
    if align_corners:
        return dst * (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    return max((dst + 0.5) * n_in / n_out - 0.5, 0.0)


def ref_bilinear(x, out_hw, align_corners):
    n_, c_, h, w = x.shape
    oh, ow = out_hw
    out = np.empty((n_, c_, oh, ow))
    for i, j in itertools.product(range(oh), range(ow)):
        sy, sx = _src(i, h, oh, align_corners), _src(j, w, ow, align_corners)
        y0, x0 = min(int(sy), h - 1), min(int(sx), w - 1)
        y1, x1 = min(y0 + 1, h - 1), min(x0 + 1, w - 1)
        ly, lx = sy - y0, sx - x0
        out[:, :, i, j] = ((1 - ly) * ((1 - lx) * x[:, :, y0, x0] + lx * x[:, :, y0, x1])
                           + ly * ((1 - lx) * x[:, :, y1, x0] + lx * x[:, :, y1, x1]))
    return out


def ref_pad2d(x, pad, mode):
    left, right, top, bottom = pad
    h, w = x.shape[-2:]
    out = np.empty(x.shape[:-2] + (h + top + bottom, w + left + right))
    for i, j in itertools.product(range(out.shape[-2]), range(out.shape[-1])):
        r, q = i - top, j - left
        if mode == "replicate":
            r, q = min(max(r, 0), h - 1), min(max(q, 0), w - 1)
        else:
            r = -r if r < 0 else (2 * (h - 1) - r if r >= h else r)
            q = -q if q < 0 else (2 * (w - 1) - q if q >= w else q)
        out[..., i, j] = x[..., r, q]
    return out


# ---- values over a grid of options ----------------------------------------------------------------

MAX_GRID = [(k, s, p, d, cm) for k, s, p, d, cm in itertools.product(
    [(2, 2), (3, 3), (2, 3)], [None, (1, 1), (2, 1), (3, 2)], [(0, 0), (1, 1), (1, 0)], [(1, 1), (2, 1)], [False, True])
    if p[0] <= k[0] // 2 and p[1] <= k[1] // 2]


@pytest.mark.parametrize("k,s,p,d,ceil_mode", MAX_GRID)
def test_max_pool2d_matches_loops(k, s, p, d, ceil_mode):
    x = _rand((2, 3, 7, 8), distinct=True)
    out, idx = F.max_pool2d(ag.tensor(x), k, s, p, d, ceil_mode, return_indices=True)
    want, want_idx = ref_max_pool2d(x, k, s or k, p, d, ceil_mode)
    np.testing.assert_allclose(out.numpy(), want)
    assert idx.dtype == ag.int64 and np.array_equal(idx.numpy(), want_idx)


@pytest.mark.parametrize("k,s,p,ceil_mode,count_include_pad,divisor_override", [
    (k, s, p, cm, cip, dv) for k, s, p, cm, cip, dv in itertools.product(
        [(2, 2), (3, 3), (3, 2)], [None, (1, 1), (2, 3)], [(0, 0), (1, 1), (1, 0)], [False, True], [True, False],
        [None, 5]) if p[0] <= k[0] // 2 and p[1] <= k[1] // 2])
def test_avg_pool2d_matches_loops(k, s, p, ceil_mode, count_include_pad, divisor_override):
    x = _rand((2, 2, 7, 6))
    out = F.avg_pool2d(ag.tensor(x), k, s, p, ceil_mode, count_include_pad, divisor_override)
    np.testing.assert_allclose(out.numpy(), ref_avg_pool2d(x, k, s or k, p, ceil_mode, count_include_pad,
                                                           divisor_override), rtol=1e-12)


@pytest.mark.parametrize("k,s,p,d,ceil_mode", [(3, 2, 1, 1, True), (2, None, 0, 1, False), (3, 1, 1, 2, False),
                                               (4, 3, 2, 1, True)])
def test_pool1d_matches_loops(k, s, p, d, ceil_mode):
    x = _rand((2, 3, 11), distinct=True)
    out, idx = F.max_pool1d(ag.tensor(x), k, s, p, d, ceil_mode, return_indices=True)
    want, want_idx = ref_max_pool2d(x[:, :, None], (1, k), (1, s or k), (0, p), (1, d), ceil_mode)
    np.testing.assert_allclose(out.numpy(), want[:, :, 0])
    assert np.array_equal(idx.numpy(), want_idx[:, :, 0])
    if d == 1:
        avg = F.avg_pool1d(ag.tensor(x), k, s, p, ceil_mode, count_include_pad=False)
        np.testing.assert_allclose(avg.numpy(), ref_avg_pool2d(x[:, :, None], (1, k), (1, s or k), (0, p), ceil_mode,
                                                               False)[:, :, 0])


@pytest.mark.parametrize("in_hw,out_hw", [((6, 8), (3, 4)), ((7, 5), (3, 2)), ((5, 5), (4, 4)), ((9, 7), (1, 1)),
                                          ((4, 6), (4, 6)), ((3, 5), (5, 7))])
def test_adaptive_pools_match_loops(in_hw, out_hw):
    x = _rand((2, 3) + in_hw, distinct=True)
    want_avg, _ = ref_adaptive(x, out_hw, np.mean)
    want_max, want_idx = ref_adaptive(x, out_hw, np.max)
    np.testing.assert_allclose(F.adaptive_avg_pool2d(ag.tensor(x), out_hw).numpy(), want_avg, rtol=1e-12)
    out, idx = F.adaptive_max_pool2d(ag.tensor(x), out_hw, return_indices=True)
    np.testing.assert_allclose(out.numpy(), want_max)
    assert np.array_equal(idx.numpy(), want_idx)


def test_adaptive_output_size_none_keeps_input_size():
    x = _rand((1, 2, 5, 7))
    assert F.adaptive_avg_pool2d(ag.tensor(x), (None, 3)).shape == (1, 2, 5, 3)
    assert F.adaptive_max_pool2d(ag.tensor(x), 2).shape == (1, 2, 2, 2)


@pytest.mark.parametrize("in_hw,out_hw", [((4, 5), (8, 10)), ((5, 7), (3, 4)), ((3, 3), (7, 5)), ((4, 4), (4, 4)),
                                          ((2, 3), (1, 1))])
def test_interpolate_matches_loops(in_hw, out_hw):
    x = _rand((2, 2) + in_hw)
    np.testing.assert_allclose(F.interpolate(ag.tensor(x), size=out_hw).numpy(), ref_nearest(x, out_hw))
    for ac in (False, True):
        got = F.interpolate(ag.tensor(x), size=out_hw, mode="bilinear", align_corners=ac).numpy()
        np.testing.assert_allclose(got, ref_bilinear(x, out_hw, ac), rtol=1e-12, atol=1e-12)


def test_interpolate_scale_factor_and_upsample():
    x = _rand((1, 2, 3, 4))
    out = F.interpolate(ag.tensor(x), scale_factor=2)
    assert out.shape == (1, 2, 6, 8)
    np.testing.assert_allclose(out.numpy(), x.repeat(2, -2).repeat(2, -1))
    np.testing.assert_allclose(F.upsample(ag.tensor(x), scale_factor=2).numpy(), out.numpy())
    up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)(ag.tensor(x))
    np.testing.assert_allclose(up.numpy(), ref_bilinear(x, (6, 8), True), atol=1e-12)
    x1 = _rand((2, 3, 5))
    out1 = F.interpolate(ag.tensor(x1), size=10)
    np.testing.assert_allclose(out1.numpy(), x1.repeat(2, -1))


@pytest.mark.parametrize("mode", ["reflect", "replicate"])
@pytest.mark.parametrize("pad", [(1, 2, 0, 3), (2, 1, 3, 0), (0, 0, 1, 1), (3, 3, 2, 2)])
def test_pad_modes_match_loops(mode, pad):
    x = _rand((2, 3, 4, 5))
    np.testing.assert_allclose(F.pad(ag.tensor(x), pad, mode=mode).numpy(), ref_pad2d(x, pad, mode))
    np.testing.assert_allclose(F.pad(ag.tensor(x[0]), pad, mode=mode).numpy(), ref_pad2d(x[0], pad, mode))


@pytest.mark.parametrize("mode", ["reflect", "replicate"])
def test_pad_1d_and_3d(mode):
    x = _rand((2, 3, 5))
    got = F.pad(ag.tensor(x), (2, 3), mode=mode).numpy()
    np.testing.assert_allclose(got, ref_pad2d(x[:, :, None, :], (2, 3, 0, 0), mode)[:, :, 0])
    x3 = _rand((1, 2, 3, 4, 4))
    got3 = F.pad(ag.tensor(x3), (1, 1, 1, 1, 1, 1), mode=mode).numpy()
    np_mode = "reflect" if mode == "reflect" else "edge"
    np.testing.assert_allclose(got3, np.pad(x3, [(0, 0), (0, 0), (1, 1), (1, 1), (1, 1)], mode=np_mode))


def test_lp_pool2d_matches_loops():
    x = np.abs(_rand((2, 2, 6, 7))) + 0.1
    for p, k, s, cm in [(2.0, 2, None, False), (3.0, (3, 2), 2, True), (1.0, 3, 1, False)]:
        kk = (k, k) if isinstance(k, int) else k
        ss = kk if s is None else (s, s)
        want = (ref_avg_pool2d(x ** p, kk, ss, (0, 0), cm, True) * kk[0] * kk[1]) ** (1 / p)
        np.testing.assert_allclose(F.lp_pool2d(ag.tensor(x), p, k, s, cm).numpy(), want, rtol=1e-10)
        np.testing.assert_allclose(nn.LPPool2d(p, k, s, cm)(ag.tensor(x)).numpy(), want, rtol=1e-10)


# ---- gradients ------------------------------------------------------------------------------------

@pytest.mark.parametrize("k,s,p,d,ceil_mode", [((2, 2), None, (0, 0), (1, 1), False), ((3, 3), (1, 1), (1, 1),
                                                (1, 1), False), ((3, 2), (2, 1), (1, 1), (1, 2), True)])
def test_max_pool_gradient_lands_on_the_max(k, s, p, d, ceil_mode):
    x = _rand((2, 3, 7, 6), distinct=True)
    t = ag.tensor(x, requires_grad=True)
    out, idx = F.max_pool2d(t, k, s, p, d, ceil_mode, return_indices=True)
    g = _rand(out.shape, seed=1)
    out.backward(ag.tensor(g))
    _, want_idx = ref_max_pool2d(x, k, s or k, p, d, ceil_mode)
    want = np.zeros((2 * 3, 7 * 6))
    for plane in range(6):
        np.add.at(want[plane], want_idx.reshape(6, -1)[plane], g.reshape(6, -1)[plane])
    np.testing.assert_allclose(t.grad.numpy(), want.reshape(x.shape))
    assert np.array_equal(idx.numpy(), want_idx)


def test_max_pool_ties_route_to_the_first():
    t = ag.zeros(1, 1, 4, 4, dtype=ag.float64, requires_grad=True)
    F.max_pool2d(t, 2).sum().backward()
    want = np.zeros((4, 4))
    want[::2, ::2] = 1
    assert np.array_equal(t.grad.numpy()[0, 0], want)


@pytest.mark.parametrize("fn", [
    lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True),
    lambda x: F.max_pool2d(x, (2, 3), 1, dilation=(2, 1)),
    lambda x: F.max_pool1d(x.flatten(2), 3, 2, 1),
    lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
    lambda x: F.avg_pool2d(x, 2, 1, divisor_override=3),
    lambda x: F.avg_pool1d(x.flatten(2), 4, 3, 2),
    lambda x: F.lp_pool2d(x * x + 0.5, 2, 2),
    lambda x: F.adaptive_avg_pool2d(x, (3, 4)),
    lambda x: F.adaptive_max_pool2d(x, (2, 4)),
    lambda x: F.adaptive_avg_pool2d(x, (1, 3)),
    lambda x: F.interpolate(x, size=(7, 4)),
    lambda x: F.interpolate(x, scale_factor=1.5, mode="bilinear"),
    lambda x: F.interpolate(x, size=(3, 8), mode="bilinear", align_corners=True),
    lambda x: F.pad(x, (2, 1, 1, 3), mode="reflect"),
    lambda x: F.pad(x, (2, 1, 1, 3), mode="replicate"),
], ids=["max", "max_dil", "max1d", "avg", "avg_div", "avg1d", "lp", "aavg", "amax", "aavg_even", "nearest",
        "bilinear", "bilinear_ac", "reflect", "replicate"])
def test_gradcheck_and_gradgradcheck(fn):
    x = ag.tensor(_rand((1, 2, 5, 6), seed=3, distinct=True) - 1.5, requires_grad=True)
    assert ag.gradcheck(fn, (x,))
    assert ag.gradgradcheck(fn, (x,))


def test_float32_stays_float32():
    x = ag.tensor(_rand((1, 2, 5, 6)).astype(np.float32), requires_grad=True)
    outs = [F.max_pool2d(x, 2), F.avg_pool2d(x, 3, 2, 1), F.adaptive_avg_pool2d(x, (2, 4)),
            F.adaptive_max_pool2d(x, 3), F.interpolate(x, scale_factor=2, mode="bilinear"),
            F.pad(x, (1, 1, 2, 0), "reflect")]
    for o in outs:
        assert o.dtype == ag.float32
        o.sum().backward()
    assert x.grad.dtype == ag.float32


# ---- layers ---------------------------------------------------------------------------------------

def test_layers_match_functions_and_reprs():
    x = ag.tensor(_rand((2, 3, 6, 7), distinct=True))
    x1 = ag.tensor(_rand((2, 3, 9)))
    cases = [
        (nn.MaxPool2d(3, 2, 1), F.max_pool2d(x, 3, 2, 1),
         "MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=False)"),
        (nn.MaxPool2d((2, 3)), F.max_pool2d(x, (2, 3)),
         "MaxPool2d(kernel_size=(2, 3), stride=(2, 3), padding=0, dilation=1, ceil_mode=False)"),
        (nn.AvgPool2d(2, ceil_mode=True), F.avg_pool2d(x, 2, ceil_mode=True),
         "AvgPool2d(kernel_size=2, stride=2, padding=0)"),
        (nn.AdaptiveAvgPool2d((2, 3)), F.adaptive_avg_pool2d(x, (2, 3)), "AdaptiveAvgPool2d(output_size=(2, 3))"),
        (nn.AdaptiveMaxPool2d(2), F.adaptive_max_pool2d(x, 2), "AdaptiveMaxPool2d(output_size=2)"),
        (nn.LPPool2d(2, 3), F.lp_pool2d(x, 2, 3), "LPPool2d(norm_type=2, kernel_size=3, stride=None, ceil_mode=False)"),
        (nn.Upsample(scale_factor=2), F.interpolate(x, scale_factor=2), "Upsample(scale_factor=2.0, mode='nearest')"),
        (nn.Upsample(size=(4, 5), mode="bilinear"), F.interpolate(x, (4, 5), mode="bilinear"),
         "Upsample(size=(4, 5), mode='bilinear')"),
    ]
    for layer, want, rep in cases:
        np.testing.assert_allclose(layer(x).numpy(), want.numpy())
        assert repr(layer) == rep
    for layer, want, rep in [
        (nn.MaxPool1d(3, 2), F.max_pool1d(x1, 3, 2),
         "MaxPool1d(kernel_size=3, stride=2, padding=0, dilation=1, ceil_mode=False)"),
        (nn.AvgPool1d(3), F.avg_pool1d(x1, 3), "AvgPool1d(kernel_size=(3,), stride=(3,), padding=(0,))"),
    ]:
        np.testing.assert_allclose(layer(x1).numpy(), want.numpy())
        assert repr(layer) == rep
    out, idx = nn.MaxPool2d(2, return_indices=True)(x)
    assert out.shape == idx.shape == (2, 3, 3, 3)
    assert list(nn.MaxPool2d(2).parameters()) == []


def test_unbatched_input():
    x = _rand((3, 6, 6), distinct=True)
    np.testing.assert_allclose(F.max_pool2d(ag.tensor(x), 2).numpy(), F.max_pool2d(ag.tensor(x[None]), 2).numpy()[0])
    np.testing.assert_allclose(F.avg_pool2d(ag.tensor(x), 3, 1, 1).numpy(),
                               F.avg_pool2d(ag.tensor(x[None]), 3, 1, 1).numpy()[0])


# ---- bad input ------------------------------------------------------------------------------------

@pytest.mark.parametrize("call,words", [
    (lambda x: F.max_pool2d(x, 5), ["max_pool2d", "output size", "(4, 4)"]),
    (lambda x: F.avg_pool2d(x, 3, padding=2), ["avg_pool2d", "half of kernel"]),
    (lambda x: F.max_pool2d(x, 2, padding=2), ["max_pool2d", "half of kernel"]),
    (lambda x: F.max_pool2d(x[0, 0], 2), ["max_pool2d", "3-D or 4-D", "(4, 4)"]),
    (lambda x: F.max_pool1d(x, 2), ["max_pool1d", "2-D or 3-D"]),
    (lambda x: F.avg_pool1d(x.flatten(2), 20), ["avg_pool1d", "output size"]),
    (lambda x: F.adaptive_avg_pool2d(x, (0, 2)), ["adaptive_avg_pool2d", "positive"]),
    (lambda x: F.interpolate(x, size=(0, 3)), ["interpolate", "positive"]),
    (lambda x: F.interpolate(x), ["interpolate", "size or scale_factor"]),
    (lambda x: F.interpolate(x[0], size=3, mode="bilinear"), ["interpolate", "4-D"]),
    (lambda x: F.interpolate(x, size=3, align_corners=True), ["interpolate", "align_corners"]),
    (lambda x: F.pad(x, (4, 0), mode="reflect"), ["pad", "2-D or 3-D", "(1, 2, 4, 4)"]),
    (lambda x: F.pad(x, (4, 0, 0, 0), mode="reflect"), ["pad", "less than", "(4, 0)"]),
    (lambda x: F.max_pool2d(x, 2, stride=0), ["max_pool2d", "stride"]),
])
def test_bad_input_errors(call, words):
    x = ag.tensor(_rand((1, 2, 4, 4)))
    with pytest.raises(ValueError) as e:
        call(x)
    for w in words:
        assert w in str(e.value)


# ---- Dropout2d and BatchNorm2d on (N, C, H, W) ----------------------------------------------------

def test_dropout2d_zeroes_whole_channels_and_scales():
    ag.manual_seed(0)
    layer = nn.Dropout2d(0.5)
    x = ag.ones(8, 16, 3, 4, requires_grad=True)
    y = layer(x).detach().numpy()
    per_channel = y.reshape(8, 16, -1)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2.0).all(-1))  # whole channels, kept ones x 1/(1-p)
    dropped = (per_channel == 0).all(-1).mean()
    assert 0.3 < dropped < 0.7
    ag.manual_seed(0)
    layer(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), y)  # the gradient carries the same mask and scale
    layer.eval()
    z = ag.tensor(_rand((2, 3, 4, 4)))
    assert np.array_equal(layer(z).numpy(), z.numpy())


def test_batchnorm2d_per_channel_statistics_and_running_stats():
    x = _rand((4, 3, 5, 6)) * np.array([1.0, 2.0, 3.0])[:, None, None] + np.array([0.5, -1.0, 2.0])[:, None, None]
    bn = nn.BatchNorm2d(3, momentum=0.1)
    with ag.no_grad():
        bn.weight.copy_(ag.tensor([1.0, 2.0, 0.5], dtype=bn.weight.dtype))
        bn.bias.copy_(ag.tensor([0.0, 1.0, -1.0], dtype=bn.bias.dtype))
    y = bn(ag.tensor(x, dtype=ag.float32)).detach().numpy()
    mean = x.mean(axis=(0, 2, 3))
    var = x.var(axis=(0, 2, 3))
    want = (x - mean[:, None, None]) / np.sqrt(var[:, None, None] + 1e-5) * np.array([1.0, 2.0, 0.5])[:, None, None] \
        + np.array([0.0, 1.0, -1.0])[:, None, None]
    np.testing.assert_allclose(y, want, rtol=1e-4, atol=1e-4)
    n = 4 * 5 * 6
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.1 * mean, rtol=1e-5)
    np.testing.assert_allclose(bn.running_var.numpy(), 0.9 + 0.1 * var * n / (n - 1), rtol=1e-5)
    assert bn.num_batches_tracked.item() == 1
    bn.eval()
    y_eval = bn(ag.tensor(x, dtype=ag.float32)).detach().numpy()
    rm, rv = bn.running_mean.numpy(), bn.running_var.numpy()
    want_eval = (x - rm[:, None, None]) / np.sqrt(rv[:, None, None] + 1e-5) * np.array([1.0, 2.0, 0.5])[:, None, None] \
        + np.array([0.0, 1.0, -1.0])[:, None, None]
    np.testing.assert_allclose(y_eval, want_eval, rtol=1e-4, atol=1e-4)
    assert bn.num_batches_tracked.item() == 1
    with pytest.raises(ValueError):
        bn(ag.tensor(_rand((4, 3, 5))))


def test_batchnorm2d_gradcheck():
    bn = nn.BatchNorm2d(2).double() if hasattr(nn.BatchNorm2d(2), "double") else None
    if bn is None:
        pytest.skip("Module.double is not available")
    x = ag.tensor(_rand((3, 2, 2, 3)), requires_grad=True)
    assert ag.gradcheck(lambda t: bn(t), (x,))


# ---- cross-checks against PyTorch (skipped where torch is absent) -----------------------------------

def test_pooling_matches_torch():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    x = _rand((2, 3, 9, 8), seed=5)
    a, t = ag.tensor(x), torch.tensor(x)
    for kw in [dict(kernel_size=3, stride=2, padding=1, ceil_mode=True), dict(kernel_size=(2, 3), dilation=(2, 1)),
               dict(kernel_size=2, stride=1)]:
        o, i = F.max_pool2d(a, return_indices=True, **kw)
        to, ti = tf.max_pool2d(t, return_indices=True, **kw)
        np.testing.assert_allclose(o.numpy(), to.numpy())
        assert np.array_equal(i.numpy(), ti.numpy())
    for kw in [dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
               dict(kernel_size=(3, 2), padding=1, divisor_override=4), dict(kernel_size=2, ceil_mode=True)]:
        np.testing.assert_allclose(F.avg_pool2d(a, **kw).numpy(), tf.avg_pool2d(t, **kw).numpy(), rtol=1e-12)
    for size in [(4, 3), (5, 5), (9, 8), 1, (2, None)]:
        np.testing.assert_allclose(F.adaptive_avg_pool2d(a, size).numpy(), tf.adaptive_avg_pool2d(t, size).numpy())
        o, i = F.adaptive_max_pool2d(a, size, return_indices=True)
        to, ti = tf.adaptive_max_pool2d(t, size, return_indices=True)
        np.testing.assert_allclose(o.numpy(), to.numpy())
        assert np.array_equal(i.numpy(), ti.numpy())
    ab = ag.tensor(np.abs(x))
    np.testing.assert_allclose(F.lp_pool2d(ab, 3, 2, 1).numpy(), tf.lp_pool2d(torch.tensor(np.abs(x)), 3, 2, 1).numpy())
    x1 = _rand((2, 3, 11), seed=6)
    o, i = F.max_pool1d(ag.tensor(x1), 3, 2, 1, return_indices=True)
    to, ti = tf.max_pool1d(torch.tensor(x1), 3, 2, 1, return_indices=True)
    np.testing.assert_allclose(o.numpy(), to.numpy())
    assert np.array_equal(i.numpy(), ti.numpy())
    np.testing.assert_allclose(F.avg_pool1d(ag.tensor(x1), 4, 3, 2, True, False).numpy(),
                               tf.avg_pool1d(torch.tensor(x1), 4, 3, 2, True, False).numpy())


def test_interpolate_and_pad_match_torch():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    x = _rand((2, 3, 5, 7), seed=7)
    a, t = ag.tensor(x), torch.tensor(x)
    for kw in [dict(size=(9, 4)), dict(scale_factor=1.7), dict(scale_factor=(2, 0.5)), dict(scale_factor=3),
               dict(size=(9, 4), mode="bilinear"), dict(size=(9, 4), mode="bilinear", align_corners=True),
               dict(scale_factor=1.5, mode="bilinear"), dict(scale_factor=0.6, mode="bilinear", align_corners=True),
               dict(scale_factor=2.5, mode="bilinear", recompute_scale_factor=True)]:
        np.testing.assert_allclose(F.interpolate(a, **kw).numpy(), tf.interpolate(t, **kw).numpy(), atol=1e-12,
                                   err_msg=str(kw))
    x1 = _rand((2, 3, 6), seed=8)
    np.testing.assert_allclose(F.interpolate(ag.tensor(x1), scale_factor=2.3).numpy(),
                               tf.interpolate(torch.tensor(x1), scale_factor=2.3).numpy())
    for mode in ("reflect", "replicate"):
        for pad in [(1, 2, 3, 0), (-1, 2, 1, -2), (4, 4, 4, 4)]:
            np.testing.assert_allclose(F.pad(a, pad, mode=mode).numpy(), tf.pad(t, pad, mode=mode).numpy())


def test_gradients_match_torch():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    x = _rand((2, 2, 7, 6), seed=9)
    g_out = None
    for ours, theirs in [
        (lambda v: F.max_pool2d(v, 3, 2, 1, ceil_mode=True), lambda v: tf.max_pool2d(v, 3, 2, 1, ceil_mode=True)),
        (lambda v: F.avg_pool2d(v, 3, 2, 1, True, False), lambda v: tf.avg_pool2d(v, 3, 2, 1, True, False)),
        (lambda v: F.adaptive_max_pool2d(v, (4, 4)), lambda v: tf.adaptive_max_pool2d(v, (4, 4))),
        (lambda v: F.interpolate(v, (5, 9), mode="bilinear"), lambda v: tf.interpolate(v, (5, 9), mode="bilinear")),
        (lambda v: F.pad(v, (2, 2, 1, 3), mode="reflect"), lambda v: tf.pad(v, (2, 2, 1, 3), mode="reflect")),
    ]:
        a = ag.tensor(x, requires_grad=True)
        t = torch.tensor(x, requires_grad=True)
        out = ours(a)
        g_out = _rand(out.shape, seed=10)
        out.backward(ag.tensor(g_out))
        theirs(t).backward(torch.tensor(g_out))
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)
