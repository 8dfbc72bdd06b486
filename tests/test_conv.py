"""Convolutions (F.conv1d, F.conv2d, F.conv_transpose2d, nn.Conv1d/Conv2d/ConvTranspose2d) vs naive NumPy loops."""
import itertools
import math

import numpy as np
import pytest

import autograd_core as ag
import nn
import nn.functional as F


# ---- naive references: explicit loops over every output pixel ----
def ref_conv2d(x, w, b=None, stride=(1, 1), pad=(0, 0, 0, 0), dilation=(1, 1), groups=1):
    """pad = (top, bottom, left, right)."""
    N, C, H, W = x.shape
    O, Cg, kh, kw = w.shape
    xp_ = np.zeros((N, C, H + pad[0] + pad[1], W + pad[2] + pad[3]))
    xp_[:, :, pad[0]:pad[0] + H, pad[2]:pad[2] + W] = x
    Ho = (xp_.shape[2] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    Wo = (xp_.shape[3] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    y = np.zeros((N, O, Ho, Wo))
    Og = O // groups
    for n, o, i, j in itertools.product(range(N), range(O), range(Ho), range(Wo)):
        g = o // Og
        patch = xp_[n, g * Cg:(g + 1) * Cg, i * stride[0]:i * stride[0] + dilation[0] * (kh - 1) + 1:dilation[0],
                    j * stride[1]:j * stride[1] + dilation[1] * (kw - 1) + 1:dilation[1]]
        y[n, o, i, j] = (patch * w[o]).sum() + (0 if b is None else b[o])
    return y


def ref_conv_transpose2d(x, w, b=None, stride=(1, 1), padding=(0, 0), output_padding=(0, 0), groups=1,
                         dilation=(1, 1)):
    """Scatter every input pixel times the kernel into the (uncropped) output, then crop the padding."""
    N, C, H, W = x.shape
    _, Cog, kh, kw = w.shape
    Cg = C // groups
    Hf = (H - 1) * stride[0] + dilation[0] * (kh - 1) + 1 + output_padding[0]
    Wf = (W - 1) * stride[1] + dilation[1] * (kw - 1) + 1 + output_padding[1]
    full = np.zeros((N, Cog * groups, Hf, Wf))
    for n, c, i, j in itertools.product(range(N), range(C), range(H), range(W)):
        g = c // Cg
        for a, bb in itertools.product(range(kh), range(kw)):
            full[n, g * Cog:(g + 1) * Cog, i * stride[0] + a * dilation[0], j * stride[1] + bb * dilation[1]] += (
                x[n, c, i, j] * w[c, :, a, bb])
    y = full[:, :, padding[0]:Hf - padding[0], padding[1]:Wf - padding[1]]
    return y if b is None else y + b[None, :, None, None]


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _rand(rng, *shape):
    return rng.standard_normal(shape)


CONV2D_GRID = [
    # (x shape, w shape, stride, padding, dilation, groups, bias)
    ((2, 3, 7, 6), (4, 3, 3, 3), 1, 0, 1, 1, True),
    ((1, 3, 8, 9), (2, 3, 3, 2), 2, 1, 1, 1, False),
    ((2, 4, 9, 7), (6, 2, 3, 3), (2, 3), (1, 2), (2, 1), 2, True),
    ((2, 4, 5, 5), (4, 1, 3, 3), 1, 1, 1, 4, True),           # depthwise
    ((1, 2, 6, 7), (3, 2, 2, 4), 1, "same", 1, 1, True),       # even kernel: asymmetric same padding
    ((1, 2, 7, 6), (3, 2, 3, 2), 1, "same", (2, 3), 1, False),
    ((2, 3, 6, 5), (2, 3, 3, 3), 1, "valid", 1, 1, True),
    ((1, 1, 5, 5), (1, 1, 5, 5), 3, 0, 1, 1, True),           # kernel = input
    ((2, 6, 5, 4), (3, 2, 1, 1), (1, 2), 0, 1, 3, False),      # 1x1
]


def _same_pads(w, dilation):
    d = _pair(dilation)
    t = [d[0] * (w.shape[2] - 1), d[1] * (w.shape[3] - 1)]
    return (t[0] // 2, t[0] - t[0] // 2, t[1] // 2, t[1] - t[1] // 2)


def _ref_pads(w, padding, dilation):
    """(top, bottom, left, right) padding of F.conv2d's `padding` argument, for the loop reference."""
    if padding == "same":
        return _same_pads(w, dilation)
    if padding == "valid":
        return (0, 0, 0, 0)
    p = _pair(padding)
    return (p[0], p[0], p[1], p[1])


@pytest.mark.parametrize("xs,ws,stride,padding,dilation,groups,bias", CONV2D_GRID)
def test_conv2d_matches_loop_reference(xs, ws, stride, padding, dilation, groups, bias):
    rng = np.random.default_rng(0)
    x, w, b = _rand(rng, *xs), _rand(rng, *ws), _rand(rng, ws[0]) if bias else None
    pads = _ref_pads(w, padding, dilation)
    want = ref_conv2d(x, w, b, _pair(stride), pads, _pair(dilation), groups)
    got = F.conv2d(ag.tensor(x), ag.tensor(w), None if b is None else ag.tensor(b), stride, padding, dilation, groups)
    assert got.shape == want.shape
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-10, atol=1e-10)
    if padding == "same":
        assert got.shape[2:] == xs[2:]


@pytest.mark.parametrize("xs,ws,stride,padding,dilation,groups,bias", CONV2D_GRID[:4])
def test_conv2d_gradcheck(xs, ws, stride, padding, dilation, groups, bias):
    rng = np.random.default_rng(1)
    args = [ag.tensor(_rand(rng, *xs), requires_grad=True), ag.tensor(_rand(rng, *ws), requires_grad=True)]
    if bias:
        args.append(ag.tensor(_rand(rng, ws[0]), requires_grad=True))
    fn = lambda x, w, *b: F.conv2d(x, w, b[0] if b else None, stride, padding, dilation, groups)  # noqa: E731
    assert ag.gradcheck(fn, args)


def test_conv2d_same_gradgradcheck():
    rng = np.random.default_rng(2)
    x = ag.tensor(_rand(rng, 1, 2, 4, 5), requires_grad=True)
    w = ag.tensor(_rand(rng, 2, 2, 2, 3), requires_grad=True)
    assert ag.gradgradcheck(lambda x, w: F.conv2d(x, w, padding="same"), [x, w])


def test_conv2d_unbatched_and_float32():
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((3, 6, 6)).astype(np.float32), rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    y = F.conv2d(ag.tensor(x), ag.tensor(w), padding=1)
    assert y.shape == (4, 6, 6) and y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), ref_conv2d(x[None].astype(np.float64), w.astype(np.float64),
                                                     pad=(1, 1, 1, 1))[0], rtol=1e-4, atol=1e-4)


CONV1D_GRID = [
    ((2, 3, 9), (4, 3, 3), 1, 0, 1, 1, True),
    ((2, 4, 10), (6, 2, 4), 2, 2, 2, 2, False),
    ((1, 2, 7), (3, 2, 4), 1, "same", 1, 1, True),
    ((1, 2, 7), (3, 2, 3), 1, "valid", 2, 1, True),
]


@pytest.mark.parametrize("xs,ws,stride,padding,dilation,groups,bias", CONV1D_GRID)
def test_conv1d_matches_loop_reference(xs, ws, stride, padding, dilation, groups, bias):
    rng = np.random.default_rng(4)
    x, w, b = _rand(rng, *xs), _rand(rng, *ws), _rand(rng, ws[0]) if bias else None
    if padding == "same":
        t = dilation * (ws[2] - 1)
        pads = (0, 0, t // 2, t - t // 2)
    elif padding == "valid":
        pads = (0, 0, 0, 0)
    else:
        pads = (0, 0, padding, padding)
    want = ref_conv2d(x[:, :, None], w[:, :, None], b, (1, stride), pads, (1, dilation), groups)[:, :, 0]
    got = F.conv1d(ag.tensor(x), ag.tensor(w), None if b is None else ag.tensor(b), stride, padding, dilation, groups)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-10, atol=1e-10)
    xt = ag.tensor(x, requires_grad=True)
    wt = ag.tensor(w, requires_grad=True)
    assert ag.gradcheck(lambda x, w: F.conv1d(x, w, None, stride, padding, dilation, groups), [xt, wt])


def test_conv1d_unbatched():
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((3, 8)), rng.standard_normal((2, 3, 3))
    y = F.conv1d(ag.tensor(x), ag.tensor(w))
    assert y.shape == (2, 6)
    np.testing.assert_allclose(y.numpy(), F.conv1d(ag.tensor(x[None]), ag.tensor(w)).numpy()[0])


CONVT_GRID = [
    # (x shape, w shape, stride, padding, output_padding, groups, dilation, bias)
    ((2, 3, 4, 5), (3, 2, 3, 3), 1, 0, 0, 1, 1, True),
    ((1, 2, 3, 4), (2, 3, 3, 2), 2, 1, 1, 1, 1, False),
    ((2, 4, 3, 3), (4, 2, 3, 2), (2, 3), (1, 0), (1, 2), 2, (1, 2), True),
    ((1, 2, 4, 3), (2, 1, 2, 2), 1, 0, (1, 0), 2, (2, 1), True),   # output_padding < dilation
    ((1, 3, 2, 2), (3, 1, 4, 4), 3, 2, 0, 1, 1, False),
]


@pytest.mark.parametrize("xs,ws,stride,padding,op,groups,dilation,bias", CONVT_GRID)
def test_conv_transpose2d_matches_loop_reference(xs, ws, stride, padding, op, groups, dilation, bias):
    rng = np.random.default_rng(6)
    x, w, b = _rand(rng, *xs), _rand(rng, *ws), _rand(rng, ws[1] * groups) if bias else None
    want = ref_conv_transpose2d(x, w, b, _pair(stride), _pair(padding), _pair(op), groups, _pair(dilation))
    got = F.conv_transpose2d(ag.tensor(x), ag.tensor(w), None if b is None else ag.tensor(b), stride, padding, op,
                             groups, dilation)
    assert got.shape == want.shape
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-10, atol=1e-10)
    args = [ag.tensor(x, requires_grad=True), ag.tensor(w, requires_grad=True)]
    assert ag.gradcheck(lambda x, w: F.conv_transpose2d(x, w, None, stride, padding, op, groups, dilation), args)


def test_conv_transpose2d_is_the_gradient_of_conv2d():
    rng = np.random.default_rng(7)
    x = ag.tensor(_rand(rng, 2, 4, 7, 8), requires_grad=True)
    w = ag.tensor(_rand(rng, 6, 2, 3, 2))
    y = F.conv2d(x, w, stride=2, padding=1, dilation=(1, 2), groups=2)
    g = ag.tensor(_rand(rng, *y.shape))
    y.backward(g)
    # output_padding picks x's size among those the strided conv maps to y's
    op = tuple(s - ((o - 1) * 2 - 2 + d * (k - 1) + 1) for s, o, d, k in zip((7, 8), y.shape[2:], (1, 2), (3, 2)))
    gx = F.conv_transpose2d(g, w, stride=2, padding=1, output_padding=op, groups=2, dilation=(1, 2))
    np.testing.assert_allclose(x.grad.numpy(), gx.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("ws,padding", [((3, 32, 3, 3), 1), ((2, 33, 2, 3), "same"), ((2, 32, 3, 2), 0),
                                        ((2, 32, 3, 3), (2, 1))])
def test_stride1_input_gradient_as_a_full_correlation(ws, padding):
    """Stride-1 convolutions with 32+ input channels take their input gradient as a convolution of grad."""
    rng = np.random.default_rng(9)
    x = ag.tensor(_rand(rng, 2, ws[1], 5, 4), requires_grad=True)
    w = ag.tensor(_rand(rng, *ws), requires_grad=True)
    assert ag.gradcheck(lambda x, w: F.conv2d(x, w, padding=padding), [x, w])
    y = F.conv2d(x, w, padding=padding)
    g = _rand(rng, *y.shape)
    y.backward(ag.tensor(g))
    pads = _same_pads(w.detach().numpy(), 1) if padding == "same" else tuple(v for v in _pair(padding) for _ in (0, 1))
    # <g, conv(x)> is linear in x: its gradient is the loop reference's adjoint, checked by directional sums
    d = _rand(rng, *x.shape)
    lhs = (ref_conv2d(x.detach().numpy() + d, w.detach().numpy(), None, (1, 1), pads, (1, 1), 1) * g).sum()
    rhs = (ref_conv2d(x.detach().numpy(), w.detach().numpy(), None, (1, 1), pads, (1, 1), 1) * g).sum()
    np.testing.assert_allclose(lhs - rhs, (x.grad.numpy() * d).sum(), rtol=1e-10)


def test_conv_transpose2d_stride1_many_channels_matches_loop_reference():
    rng = np.random.default_rng(10)
    x, w = _rand(rng, 2, 3, 4, 5), _rand(rng, 3, 32, 3, 2)
    want = ref_conv_transpose2d(x, w, None, (1, 1), (1, 1), (0, 0), 1, (1, 1))
    got = F.conv_transpose2d(ag.tensor(x), ag.tensor(w), padding=1)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-10, atol=1e-10)


def test_conv_gradient_of_gradient_through_layers():
    rng = np.random.default_rng(8)
    x = ag.tensor(_rand(rng, 1, 2, 5, 5), requires_grad=True)
    w = ag.tensor(_rand(rng, 3, 2, 3, 3), requires_grad=True)
    assert ag.gradgradcheck(lambda x, w: F.conv2d(x, w, stride=2, padding=1).tanh(), [x, w])
    assert ag.gradgradcheck(lambda x, w: F.conv_transpose2d(x, w.transpose(0, 1), stride=2), [x, w])


# ---- bad input (issue 6, item 6) ----
def test_kernel_larger_than_padded_input():
    with pytest.raises(ValueError, match=r"conv2d: kernel size \(5, 5\).*larger than the padded input \(4, 4\)"):
        F.conv2d(ag.zeros(1, 1, 4, 4), ag.zeros(1, 1, 5, 5))
    F.conv2d(ag.zeros(1, 1, 4, 4), ag.zeros(1, 1, 5, 5), padding=1)  # fits once padded
    with pytest.raises(ValueError, match="larger than the padded input"):
        F.conv1d(ag.zeros(1, 1, 4), ag.zeros(1, 1, 3), dilation=2)


def test_channel_mismatch_names_layer_and_counts():
    conv = nn.Conv2d(3, 16, 5)
    with pytest.raises(ValueError) as e:
        conv(ag.zeros(8, 1, 28, 28))
    assert str(e.value) == ("Conv2d(3, 16, kernel_size=(5, 5)): expected input with 3 channels, got 1 "
                            "(input shape (8, 1, 28, 28))")
    with pytest.raises(ValueError, match=r"Conv1d\(4, 2, kernel_size=\(3,\)\): expected input with 4 channels, got 3"):
        nn.Conv1d(4, 2, 3)(ag.zeros(3, 10))
    with pytest.raises(ValueError, match=r"ConvTranspose2d\(2, 4.*expected input with 2 channels, got 5"):
        nn.ConvTranspose2d(2, 4, 3)(ag.zeros(1, 5, 4, 4))
    with pytest.raises(ValueError, match=r"conv2d: weight of shape \(4, 3, 3, 3\).*expects input with 3 channels, got 2"):
        F.conv2d(ag.zeros(1, 2, 5, 5), ag.zeros(4, 3, 3, 3))
    with pytest.raises(ValueError, match="conv_transpose2d: weight of shape .* expects input with 3 channels, got 2"):
        F.conv_transpose2d(ag.zeros(1, 2, 5, 5), ag.zeros(3, 3, 3, 3))


def test_groups_must_divide_channels():
    with pytest.raises(ValueError, match=r"in_channels \(3\) must be divisible by groups \(2\)"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match=r"out_channels \(5\) must be divisible by groups \(2\)"):
        nn.Conv2d(4, 5, 3, groups=2)
    with pytest.raises(ValueError, match="groups=2 does not divide out_channels 5"):
        F.conv2d(ag.zeros(1, 4, 5, 5), ag.zeros(5, 2, 3, 3), groups=2)
    with pytest.raises(ValueError, match="groups=2 does not divide the input's 3 channels"):
        F.conv_transpose2d(ag.zeros(1, 3, 5, 5), ag.zeros(3, 1, 3, 3), groups=2)
    with pytest.raises(ValueError, match="groups must be a positive int"):
        F.conv2d(ag.zeros(1, 4, 5, 5), ag.zeros(4, 4, 3, 3), groups=0)


def test_output_size_not_positive():
    with pytest.raises(ValueError, match=r"conv_transpose2d: the output size \(-1, -1\) would not be positive"):
        F.conv_transpose2d(ag.zeros(1, 1, 1, 1), ag.zeros(1, 1, 1, 1), padding=1)
    with pytest.raises(ValueError, match="output_padding .* must be smaller than either stride"):
        F.conv_transpose2d(ag.zeros(1, 1, 3, 3), ag.zeros(1, 1, 3, 3), stride=2, output_padding=2)


def test_other_bad_arguments():
    with pytest.raises(ValueError, match="padding='same' is not supported for strided convolutions"):
        F.conv2d(ag.zeros(1, 1, 5, 5), ag.zeros(1, 1, 3, 3), stride=2, padding="same")
    with pytest.raises(ValueError, match="padding='same' is not supported for strided convolutions"):
        nn.Conv2d(1, 1, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding must be an int, a tuple, 'same' or 'valid', got 'full'"):
        F.conv2d(ag.zeros(1, 1, 5, 5), ag.zeros(1, 1, 3, 3), padding="full")
    with pytest.raises(ValueError, match="stride must be >= 1"):
        F.conv2d(ag.zeros(1, 1, 5, 5), ag.zeros(1, 1, 3, 3), stride=0)
    with pytest.raises(ValueError, match=r"expected 3-D \(unbatched\) or 4-D \(batched\) input"):
        F.conv2d(ag.zeros(5, 5), ag.zeros(1, 1, 3, 3))
    with pytest.raises(ValueError, match="bias must have shape"):
        F.conv2d(ag.zeros(1, 1, 5, 5), ag.zeros(2, 1, 3, 3), ag.zeros(3))
    with pytest.raises(NotImplementedError, match="padding_mode='reflect'"):
        nn.Conv2d(1, 1, 3, padding_mode="reflect")


# ---- layers ----
def test_layer_shapes_init_bounds_and_repr():
    ag.manual_seed(0)
    conv = nn.Conv2d(6, 8, (3, 5), groups=2)
    assert conv.weight.shape == (8, 3, 3, 5) and conv.bias.shape == (8,)
    bound = 1 / math.sqrt(3 * 3 * 5)   # kaiming_uniform_(a=sqrt(5)) and the bias: both 1/sqrt(fan_in)
    for p in (conv.weight, conv.bias):
        v = p.detach().numpy()
        assert np.abs(v).max() <= bound and np.abs(v).max() > 0.8 * bound
    convt = nn.ConvTranspose2d(4, 6, 3, groups=2)
    assert convt.weight.shape == (4, 3, 3, 3) and convt.bias.shape == (6,)
    bound_t = 1 / math.sqrt(3 * 9)      # PyTorch's fan_in of the transposed layout: weight.shape[1] * k*k
    assert np.abs(convt.weight.detach().numpy()).max() <= bound_t
    assert nn.Conv1d(2, 3, 4).weight.shape == (3, 2, 4)
    assert repr(nn.Conv2d(3, 16, 5)) == "Conv2d(3, 16, kernel_size=(5, 5), stride=(1, 1))"
    assert repr(nn.Conv2d(4, 8, 3, stride=2, padding=1, dilation=2, groups=2, bias=False)) == (
        "Conv2d(4, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), dilation=(2, 2), groups=2, bias=False)")
    assert repr(nn.Conv1d(2, 3, 3, padding="same")) == "Conv1d(2, 3, kernel_size=(3,), stride=(1,), padding=same)"
    assert repr(nn.ConvTranspose2d(4, 8, 3, stride=2, output_padding=1)) == (
        "ConvTranspose2d(4, 8, kernel_size=(3, 3), stride=(2, 2), output_padding=(1, 1))")


def test_layers_forward_backward():
    ag.manual_seed(1)
    conv = nn.Conv2d(2, 4, 3, padding="same")
    x = ag.randn(3, 2, 6, 6, requires_grad=True)
    y = conv(x)
    assert y.shape == (3, 4, 6, 6) and y.dtype == np.float32
    y.sum().backward()
    assert conv.weight.grad.shape == conv.weight.shape and x.grad.shape == x.shape
    np.testing.assert_allclose(conv.bias.grad.numpy(), np.full(4, 3 * 36.0))
    up = nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1)
    assert up(y, output_size=(12, 12)).shape == (3, 2, 12, 12)
    assert up(y).shape == (3, 2, 11, 11)
    with pytest.raises(ValueError, match="requested output size"):
        up(y, output_size=(14, 14))
    c1 = nn.Conv1d(2, 5, 3, stride=2)
    assert c1(ag.randn(4, 2, 9)).shape == (4, 5, 4) and c1(ag.randn(2, 9)).shape == (5, 4)
    assert isinstance(nn.Conv2d(1, 1, 1), nn.Module) and len(list(nn.Conv2d(1, 1, 1, bias=False).parameters())) == 1


# ---- PyTorch cross-checks (skipped where torch is not installed) ----
@pytest.mark.filterwarnings("ignore:Using padding=.same.")
def test_conv2d_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(9)
    for xs, ws, stride, padding, dilation, groups, bias in CONV2D_GRID:
        x, w = _rand(rng, *xs), _rand(rng, *ws)
        b = _rand(rng, ws[0]) if bias else None
        ours_x = ag.tensor(x, requires_grad=True)
        ours_w = ag.tensor(w, requires_grad=True)
        y = F.conv2d(ours_x, ours_w, None if b is None else ag.tensor(b), stride, padding, dilation, groups)
        tx = torch.tensor(x, requires_grad=True)
        tw = torch.tensor(w, requires_grad=True)
        ty = torch.nn.functional.conv2d(tx, tw, None if b is None else torch.tensor(b), stride, padding, dilation,
                                        groups)
        np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-10)
        g = _rand(rng, *y.shape)
        y.backward(ag.tensor(g))
        ty.backward(torch.tensor(g))
        np.testing.assert_allclose(ours_x.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(ours_w.grad.numpy(), tw.grad.numpy(), rtol=1e-10, atol=1e-10)


def test_conv_transpose2d_and_conv1d_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(10)
    for xs, ws, stride, padding, op, groups, dilation, bias in CONVT_GRID:
        x, w = _rand(rng, *xs), _rand(rng, *ws)
        b = _rand(rng, ws[1] * groups) if bias else None
        y = F.conv_transpose2d(ag.tensor(x), ag.tensor(w), None if b is None else ag.tensor(b), stride, padding, op,
                               groups, dilation)
        ty = torch.nn.functional.conv_transpose2d(torch.tensor(x), torch.tensor(w),
                                                  None if b is None else torch.tensor(b), stride, padding, op, groups,
                                                  dilation)
        np.testing.assert_allclose(y.numpy(), ty.numpy(), rtol=1e-10, atol=1e-10)
    for xs, ws, stride, padding, dilation, groups, bias in CONV1D_GRID:
        x, w = _rand(rng, *xs), _rand(rng, *ws)
        y = F.conv1d(ag.tensor(x), ag.tensor(w), None, stride, padding, dilation, groups)
        ty = torch.nn.functional.conv1d(torch.tensor(x), torch.tensor(w), None, stride, padding, dilation, groups)
        np.testing.assert_allclose(y.numpy(), ty.numpy(), rtol=1e-10, atol=1e-10)


def test_layer_init_and_repr_match_torch():
    torch = pytest.importorskip("torch")
    for cls, args, kw in [("Conv2d", (4, 8, (3, 2)), dict(stride=2, padding=1, dilation=(1, 2), groups=2)),
                          ("Conv2d", (3, 6, 3), dict(padding="same", bias=False)),
                          ("Conv1d", (4, 8, 3), dict(padding="valid")),
                          ("ConvTranspose2d", (4, 8, 3), dict(stride=2, output_padding=1, groups=2))]:
        ours, theirs = getattr(nn, cls)(*args, **kw), getattr(torch.nn, cls)(*args, **kw)
        assert repr(ours) == repr(theirs)
        assert ours.weight.shape == tuple(theirs.weight.shape)
        fan_in = torch.nn.init._calculate_fan_in_and_fan_out(theirs.weight)[0]
        assert np.abs(ours.weight.detach().numpy()).max() <= 1 / math.sqrt(fan_in)


# ---- the one-kernel-row-at-a-time path (stride 1 along the height, one group) ----
from autograd_core.ops import conv as _conv  # noqa: E402
from autograd_core.ops import pool as _pool  # noqa: E402

ROWS_GRID = [
    # (x shape, w shape, stride, padding, dilation): the row path for any depth once _ROW_MIN_DEPTH is 1
    ((2, 3, 7, 6), (4, 3, 3, 3), 1, 0, 1),
    ((2, 3, 6, 7), (2, 3, 3, 2), (1, 2), (2, 1), (2, 1)),       # strided and dilated columns, dilated rows
    ((1, 2, 6, 7), (3, 2, 2, 4), 1, "same", 1),                 # asymmetric padding
    ((1, 2, 5, 4), (2, 2, 3, 2), (1, 3), (3, 4), (1, 2)),       # padding wider than the kernel
    ((2, 4, 5, 5), (3, 4, 5, 5), 1, 2, 1),
    ((2, 3, 1, 6), (2, 3, 3, 2), 1, (3, 1), (3, 1)),            # kernel rows 0 and 2 only ever see padding
]


@pytest.mark.parametrize("xs,ws,stride,padding,dilation", ROWS_GRID)
def test_conv2d_by_rows_matches_loop_reference_and_gradients(xs, ws, stride, padding, dilation, monkeypatch):
    monkeypatch.setattr(_conv, "_ROW_MIN_DEPTH", 1)
    rng = np.random.default_rng(11)
    x, w = _rand(rng, *xs), _rand(rng, *ws)
    if padding == "same":
        pads = _same_pads(w, dilation)
    else:
        p = _pair(padding)
        pads = (p[0], p[0], p[1], p[1])
    got = F.conv2d(ag.tensor(x), ag.tensor(w), None, stride, padding, dilation)
    np.testing.assert_allclose(got.numpy(), ref_conv2d(x, w, None, _pair(stride), pads, _pair(dilation)),
                               rtol=1e-10, atol=1e-10)
    args = [ag.tensor(x, requires_grad=True), ag.tensor(w, requires_grad=True)]
    assert ag.gradcheck(lambda x, w: F.conv2d(x, w, None, stride, padding, dilation), args)


def test_conv2d_by_rows_gradgradcheck(monkeypatch):
    monkeypatch.setattr(_conv, "_ROW_MIN_DEPTH", 1)
    rng = np.random.default_rng(12)
    x = ag.tensor(_rand(rng, 1, 2, 5, 4), requires_grad=True)
    w = ag.tensor(_rand(rng, 2, 2, 3, 2), requires_grad=True)
    assert ag.gradgradcheck(lambda x, w: F.conv2d(x, w, padding=(1, 2), dilation=(2, 1)).tanh(), [x, w])


def test_conv_by_rows_is_taken_for_deep_inputs_and_matches_the_im2col_path():
    """16 channels x 5 columns: the row path by default; its three products equal the full im2col's."""
    rng = np.random.default_rng(13)
    x, w, gy = _rand(rng, 3, 16, 6, 5), _rand(rng, 8, 16, 5, 5), _rand(rng, 3, 8, 6, 5)
    g = _conv._Geom((6, 5), (6, 5), (5, 5), (1, 1), (1, 1), (2, 2), 1)
    assert _conv._by_rows(g, 16) and not _conv._as_full_correlation(g, 16)
    cols = _conv._im2col(x, g)
    y = np.matmul(w.reshape(1, 8, -1), cols).reshape(8, 3, 6, 5).transpose(1, 0, 2, 3)
    np.testing.assert_allclose(_conv._conv_arrays(x, w, g), y, rtol=1e-12, atol=1e-12)
    gcols = _conv._grad_cols(gy, 1)
    np.testing.assert_allclose(_conv._weight_grad_arrays(x, gy, g),
                               np.matmul(gcols, cols.transpose(0, 2, 1)).reshape(w.shape), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(_conv._conv_transpose_arrays(gy, w, g),
                               _conv._col2im(np.matmul(w.reshape(1, 8, -1).transpose(0, 2, 1), gcols), g, 3, 16),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("path, stride, padding, op, dilation", [
    ("_ROW_MIN_DEPTH", (1, 2), (1, 0), (0, 1), (2, 1)),      # one kernel row at a time
    ("_IMAGE_MIN_PIXELS", (2, 1), (1, 0), (1, 0), (1, 2)),   # image by image
])
def test_conv_transpose2d_by_rows_and_per_image_match_loop_reference(path, stride, padding, op, dilation,
                                                                      monkeypatch):
    monkeypatch.setattr(_conv, path, 1)  # a threshold of 1 sends these small shapes down that path
    rng = np.random.default_rng(14)
    x, w = _rand(rng, 2, 3, 4, 5), _rand(rng, 3, 2, 3, 2)
    want = ref_conv_transpose2d(x, w, None, stride, padding, op, 1, dilation)
    got = F.conv_transpose2d(ag.tensor(x), ag.tensor(w), None, stride, padding, op, 1, dilation)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-10, atol=1e-10)
    args = [ag.tensor(x, requires_grad=True), ag.tensor(w, requires_grad=True)]
    assert ag.gradcheck(lambda x, w: F.conv_transpose2d(x, w, None, stride, padding, op, 1, dilation), args)


# ---- the image-by-image path (one group, shallow inputs, output planes of _IMAGE_MIN_PIXELS or more) ----

@pytest.mark.parametrize("xs,ws,stride,padding,dilation,groups,bias", [r for r in CONV2D_GRID if r[5] == 1])
def test_conv2d_per_image_matches_loop_reference_and_gradients(xs, ws, stride, padding, dilation, groups, bias,
                                                              monkeypatch):
    """Every one-group row of the conv grid through the per-image buffer (forced by a 1-pixel threshold)."""
    monkeypatch.setattr(_conv, "_IMAGE_MIN_PIXELS", 1)
    monkeypatch.setattr(_conv, "_ROW_MIN_DEPTH", 10 ** 6)  # no row path, so every product goes per image
    rng = np.random.default_rng(15)
    x, w, b = _rand(rng, *xs), _rand(rng, *ws), _rand(rng, ws[0]) if bias else None
    pads = _ref_pads(w, padding, dilation)
    got = F.conv2d(ag.tensor(x), ag.tensor(w), None if b is None else ag.tensor(b), stride, padding, dilation)
    np.testing.assert_allclose(got.numpy(), ref_conv2d(x, w, b, _pair(stride), pads, _pair(dilation)),
                               rtol=1e-10, atol=1e-10)
    args = [ag.tensor(x, requires_grad=True), ag.tensor(w, requires_grad=True)]
    assert ag.gradcheck(lambda x, w: F.conv2d(x, w, None, stride, padding, dilation), args)
    assert ag.gradgradcheck(lambda x, w: F.conv2d(x, w, None, stride, padding, dilation).tanh(), args)


def test_conv_per_image_is_taken_for_a_first_layer_and_matches_the_folded_im2col():
    """1 channel, 5x5, 28x28 planes (the MNIST CNN's first layer): image by image by default; its three
    products equal the folded im2col's, in float64 and float32."""
    rng = np.random.default_rng(17)
    g = _conv._Geom((28, 28), (28, 28), (5, 5), (1, 1), (1, 1), (2, 2), 1)
    assert _conv._per_image(g, 1) and not _conv._by_rows(g, 1)
    assert not _conv._per_image(g._replace(out_size=(7, 7), in_size=(7, 7)), 1)  # small planes stay folded
    for dtype, tol in ((np.float64, 1e-12), (np.float32, 2e-5)):
        x, w, gy = (_rand(rng, *s).astype(dtype) for s in ((3, 1, 28, 28), (4, 1, 5, 5), (3, 4, 28, 28)))
        cols = _conv._im2col(x, g)
        y = np.matmul(w.reshape(1, 4, -1), cols).reshape(4, 3, 28, 28).transpose(1, 0, 2, 3)
        got = _conv._conv_arrays(x, w, g)
        assert got.dtype == dtype and got.flags.c_contiguous
        np.testing.assert_allclose(got, y, rtol=tol, atol=tol)
        gcols = _conv._grad_cols(gy, 1)
        gw = _conv._weight_grad_arrays(x, gy, g)
        assert gw.dtype == dtype
        np.testing.assert_allclose(gw, np.matmul(gcols, cols.transpose(0, 2, 1)).reshape(w.shape), rtol=tol,
                                   atol=tol * 100)
        np.testing.assert_allclose(_conv._conv_transpose_arrays(gy, w, g),
                                   _conv._col2im(np.matmul(w.reshape(1, 4, -1).transpose(0, 2, 1), gcols), g, 3, 1),
                                   rtol=tol, atol=tol)


# ---- max pooling over windows that tile the input (pool.py's tiled path, used by the CNNs here) ----

def _pool_by_indices(x, k, g):
    """Values and input gradient of max pooling through the general (indices) path, for comparison."""
    t = ag.tensor(x, requires_grad=True)
    out, _ = F.max_pool2d(t, k, return_indices=True)
    out.backward(ag.tensor(g))
    return out.detach().numpy(), t.grad.numpy()


@pytest.mark.parametrize("shape,k", [((2, 3, 8, 6), 2), ((2, 3, 7, 9), 3), ((1, 2, 6, 7), (2, 3)), ((3, 5, 9), 2),
                                     ((2, 2, 5, 8), (1, 4))])
def test_tiled_max_pool_matches_the_indices_path(shape, k):
    rng = np.random.default_rng(15)
    x = np.round(rng.standard_normal(shape), 1)  # rounded: many ties, which go to the first in the window
    x[..., :2, :2] = 0.0
    t = ag.tensor(x, requires_grad=True)
    out = F.max_pool2d(t, k)
    assert isinstance(out.grad_fn, _pool.TiledPick)
    g = rng.standard_normal(out.shape)
    out.backward(ag.tensor(g))
    want_out, want_grad = _pool_by_indices(x, k, g)
    assert np.array_equal(out.detach().numpy(), want_out)
    assert np.array_equal(t.grad.numpy(), want_grad)


def test_tiled_max_pool_nan_input_and_nonfinite_gradient():
    for nan in (False, True):  # a NaN input takes the general path (a NaN wins its window)
        x = np.arange(32, dtype=np.float64).reshape(1, 2, 4, 4)[..., ::-1]
        if nan:
            x[0, 0, 1, 0] = np.nan
        t = ag.tensor(x, requires_grad=True)
        out = F.max_pool2d(t, 2)
        assert isinstance(out.grad_fn, _pool.PoolGather if nan else _pool.TiledPick)
        g = np.ones(out.shape)
        g[0, 1, 0, 1] = np.inf  # lands on its winner only: the other inputs of the window get exactly 0
        out.backward(ag.tensor(g))
        want_out, want_grad = _pool_by_indices(x, 2, g)
        np.testing.assert_array_equal(out.detach().numpy(), want_out)
        np.testing.assert_array_equal(t.grad.numpy(), want_grad)
        assert np.isinf(t.grad.numpy()).sum() == 1 and not np.isnan(t.grad.numpy()).any()


def test_tiled_max_pool_gradgradcheck():
    rng = np.random.default_rng(16)
    x = ag.tensor(rng.standard_normal((1, 2, 5, 6)), requires_grad=True)
    assert ag.gradgradcheck(lambda x: F.max_pool2d(x * x, 2), [x])
