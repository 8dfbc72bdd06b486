"""Recurrent layers: values against the step-by-step NumPy equations, gradients, PyTorch layout, TBPTT, errors."""
import math

import numpy as np
import pytest

import autograd_core as ag
import nn
import rnn_reference as ref

MODES = {"LSTM": nn.LSTM, "GRU": nn.GRU, "RNN_TANH": nn.RNN, "RNN_RELU": nn.RNN}


def _make(mode, *args, **kwargs):
    if mode == "RNN_RELU":
        kwargs["nonlinearity"] = "relu"
    return MODES[mode](*args, **kwargs)


def _params(m):
    return {k: v.detach().numpy().astype(np.float64) for k, v in m.state_dict().items()}


def _t(a, grad=False):
    return ag.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


# ---- values against the equations -------------------------------------------------------------------

@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_matches_step_by_step_numpy(mode, batch_first, bidirectional):
    ag.manual_seed(1)
    m = _make(mode, 3, 4, num_layers=2, batch_first=batch_first, bidirectional=bidirectional, dtype=ag.float64)
    rng = np.random.default_rng(0)
    T, B, D = 5, 2, 2 if bidirectional else 1
    x = rng.standard_normal((B, T, 3) if batch_first else (T, B, 3))
    h0 = rng.standard_normal((2 * D, B, 4))
    c0 = rng.standard_normal((2 * D, B, 4))
    hx = (_t(h0), _t(c0)) if mode == "LSTM" else _t(h0)
    out, state = m(_t(x), hx)
    want = ref.recurrent(mode, _params(m), x, 2, bidirectional, batch_first, h0, c0 if mode == "LSTM" else None)
    np.testing.assert_allclose(out.detach().numpy(), want[0], rtol=1e-10, atol=1e-12)
    states = state if mode == "LSTM" else (state,)
    for got, w in zip(states, want[1:]):
        assert got.shape == w.shape
        np.testing.assert_allclose(got.detach().numpy(), w, rtol=1e-10, atol=1e-12)


def test_default_initial_state_is_zeros():
    ag.manual_seed(2)
    m = nn.LSTM(2, 3, dtype=ag.float64)
    x = np.random.default_rng(1).standard_normal((4, 2, 2))
    out, (h, c) = m(_t(x))
    out0, (h0, c0) = m(_t(x), (ag.zeros(1, 2, 3, dtype=ag.float64), ag.zeros(1, 2, 3, dtype=ag.float64)))
    np.testing.assert_array_equal(out.detach().numpy(), out0.detach().numpy())
    np.testing.assert_array_equal(h.detach().numpy(), out.detach().numpy()[-1:])  # h_n is the last output


@pytest.mark.parametrize("cls,gates", [(nn.RNNCell, 1), (nn.LSTMCell, 4), (nn.GRUCell, 3)])
def test_cells_match_the_equations(cls, gates):
    ag.manual_seed(3)
    cell = cls(3, 2, dtype=ag.float64)
    p = _params(cell)
    rng = np.random.default_rng(2)
    x, h, c = rng.standard_normal((4, 3)), rng.standard_normal((4, 2)), rng.standard_normal((4, 2))
    gx = x @ p["weight_ih"].T + p["bias_ih"]
    gh = h @ p["weight_hh"].T + p["bias_hh"]
    if cls is nn.LSTMCell:
        got = cell(_t(x), (_t(h), _t(c)))
        want = ref.lstm_cell(gx + gh, c)
    elif cls is nn.GRUCell:
        got, want = (cell(_t(x), _t(h)),), (ref.gru_cell(gx, gh, h),)
    else:
        got, want = (cell(_t(x), _t(h)),), (np.tanh(gx + gh),)
    assert cell.weight_ih.shape == (gates * 2, 3) and cell.weight_hh.shape == (gates * 2, 2)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.detach().numpy(), w, rtol=1e-12, atol=1e-12)


def test_unbatched_input_gives_unbatched_outputs():
    ag.manual_seed(4)
    for batch_first in (False, True):
        m = nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=batch_first, dtype=ag.float64)
        x = np.random.default_rng(3).standard_normal((5, 3))
        out, (h, c) = m(_t(x))
        assert out.shape == (5, 8) and h.shape == (4, 4) and c.shape == (4, 4)
        xb = x[:, None] if not batch_first else x[None]
        outb, (hb, _) = m(_t(xb))
        np.testing.assert_allclose(out.detach().numpy(), outb.detach().numpy().reshape(5, 8))
        np.testing.assert_allclose(h.detach().numpy(), hb.detach().numpy()[:, 0])
    cell = nn.GRUCell(3, 2)
    assert cell(ag.randn(3)).shape == (2,)


def test_float32_end_to_end():
    for mode in MODES:
        m = _make(mode, 3, 4, bidirectional=True)
        out, state = m(ag.randn(5, 2, 3))
        assert out.dtype == ag.float32 and all(p.dtype == ag.float32 for p in m.parameters())
        out.sum().backward()
        assert all(p.grad.dtype == ag.float32 for p in m.parameters())


# ---- gradients -----------------------------------------------------------------------------------

@pytest.mark.parametrize("cls", [nn.RNNCell, nn.LSTMCell, nn.GRUCell])
def test_cell_gradcheck(cls):
    ag.manual_seed(5)
    cell = cls(2, 3, dtype=ag.float64)
    rng = np.random.default_rng(4)
    x, h, c = _t(rng.standard_normal((2, 2)), True), _t(rng.standard_normal((2, 3)), True), \
        _t(rng.standard_normal((2, 3)), True)
    if cls is nn.LSTMCell:
        fn = lambda x, h, c, *ps: cell(x, (h, c))  # noqa: E731
        args = (x, h, c, *cell.parameters())
    else:
        fn = lambda x, h, *ps: cell(x, h)  # noqa: E731
        args = (x, h, *cell.parameters())
    assert ag.gradcheck(fn, args, eps=1e-6, atol=1e-6)


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN_TANH"])
def test_two_layer_bidirectional_gradcheck(mode):
    ag.manual_seed(6)
    m = _make(mode, 2, 2, num_layers=2, bidirectional=True, batch_first=True, dtype=ag.float64)
    rng = np.random.default_rng(5)
    x = _t(rng.standard_normal((2, 3, 2)), True)
    h0 = _t(rng.standard_normal((4, 2, 2)), True)
    c0 = _t(rng.standard_normal((4, 2, 2)), True)

    def fn(x, h0, c0, *params):
        out, state = m(x, (h0, c0) if mode == "LSTM" else h0)
        return (out,) + (tuple(state) if mode == "LSTM" else (state,))
    assert ag.gradcheck(fn, (x, h0, c0, *m.parameters()), eps=1e-6, atol=1e-6)


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN_TANH"])
def test_create_graph_gradients_equal_plain_ones(mode):
    """The differentiable (create_graph) backward of each fused layer gives the same first derivatives."""
    ag.manual_seed(7)
    m = _make(mode, 3, 4, bidirectional=True, dtype=ag.float64)
    x = _t(np.random.default_rng(6).standard_normal((5, 2, 3)), True)
    params = [x, *m.parameters()]
    plain = ag.grad((m(x)[0] ** 2).sum(), params)
    graph = ag.grad((m(x)[0] ** 2).sum(), params, create_graph=True)
    assert graph[0].requires_grad
    for a, b in zip(plain, graph):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12)


# ---- PyTorch's layout --------------------------------------------------------------------------------

LSTM_2_BI_KEYS = [
    "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
    "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse",
    "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1",
    "weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse", "bias_hh_l1_reverse"]


def test_state_dict_keys_and_shapes_as_pytorch():
    m = nn.LSTM(10, 20, num_layers=2, bidirectional=True)
    sd = m.state_dict()
    assert list(sd) == LSTM_2_BI_KEYS
    assert sd["weight_ih_l0"].shape == (80, 10) and sd["weight_ih_l1"].shape == (80, 40)
    assert sd["weight_hh_l1_reverse"].shape == (80, 20) and sd["bias_hh_l0"].shape == (80,)
    assert list(nn.GRU(3, 5, bias=False).state_dict()) == ["weight_ih_l0", "weight_hh_l0"]
    assert nn.GRU(3, 5).weight_ih_l0.shape == (15, 3)
    assert list(nn.RNN(3, 5, num_layers=2).state_dict()) == [
        "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
        "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1"]
    assert list(nn.LSTMCell(3, 5).state_dict()) == ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
    assert repr(nn.LSTM(10, 20, num_layers=2, batch_first=True, bidirectional=True)) == \
        "LSTM(10, 20, num_layers=2, batch_first=True, bidirectional=True)"


def test_default_init_is_uniform_in_one_over_sqrt_hidden():
    ag.manual_seed(8)
    m = nn.GRU(16, 64, num_layers=2)
    bound = 1 / math.sqrt(64)
    for name, p in m.named_parameters():
        a = p.detach().numpy()
        assert a.min() >= -bound and a.max() <= bound, name
        assert a.max() - a.min() > 1.5 * bound, name  # spread over the range, not constant


def test_weights_load_into_torch_and_agree():
    torch = pytest.importorskip("torch")
    for mode, tcls in [("LSTM", torch.nn.LSTM), ("GRU", torch.nn.GRU), ("RNN_TANH", torch.nn.RNN),
                       ("RNN_RELU", torch.nn.RNN)]:
        ag.manual_seed(9)
        m = _make(mode, 3, 4, num_layers=2, bidirectional=True, batch_first=True)
        kwargs = {"nonlinearity": "relu"} if mode == "RNN_RELU" else {}
        tm = tcls(3, 4, num_layers=2, bidirectional=True, batch_first=True, **kwargs)
        assert list(tm.state_dict()) == list(m.state_dict())
        tm.load_state_dict({k: torch.tensor(v.numpy()) for k, v in m.state_dict().items()})
        x = np.random.default_rng(7).standard_normal((2, 5, 3)).astype(np.float32)
        xa, xt = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out, st = m(xa)
        tout, tst = tm(xt)
        np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), atol=1e-5)
        sts, tsts = (st, tst) if mode == "LSTM" else ((st,), (tst,))
        for a, b in zip(sts, tsts):
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=1e-5)
        (out ** 2).sum().backward()
        (tout ** 2).sum().backward()
        tgrads = dict(tm.named_parameters())
        for name, p in m.named_parameters():
            np.testing.assert_allclose(p.grad.numpy(), tgrads[name].grad.numpy(), atol=1e-4, err_msg=name)
        np.testing.assert_allclose(xa.grad.numpy(), xt.grad.numpy(), atol=1e-5)


# ---- truncated backprop through time -------------------------------------------------------------

def test_truncated_bptt_detach_stops_the_gradient():
    ag.manual_seed(10)
    m = nn.LSTM(2, 3, batch_first=True, dtype=ag.float64)
    rng = np.random.default_rng(8)
    x1, x2 = _t(rng.standard_normal((2, 4, 2)), True), _t(rng.standard_normal((2, 4, 2)), True)
    _, (h, c) = m(x1)
    # without detach the second chunk's loss reaches the first chunk (the test could fail)
    out, _ = m(x2, (h, c))
    out.sum().backward()
    assert x1.grad is not None and np.abs(x1.grad.numpy()).sum() > 0
    x1.grad = None
    _, (h, c) = m(x1)
    h, c = h.detach(), c.detach()
    assert not h.requires_grad and h.grad_fn is None
    out2, _ = m(x2, (h, c))
    out2.sum().backward()
    assert x1.grad is None  # the graph of chunk 1 is not reached
    assert x2.grad is not None
    np.testing.assert_array_equal(out.detach().numpy(), out2.detach().numpy())  # same values


def test_dropout_between_layers_only_in_training():
    ag.manual_seed(11)
    m = nn.GRU(3, 8, num_layers=2, dropout=0.5)
    x = ag.randn(4, 2, 3)
    m.eval()
    a, b = m(x)[0].detach().numpy(), m(x)[0].detach().numpy()
    np.testing.assert_array_equal(a, b)
    m.train()
    assert not np.allclose(m(x)[0].detach().numpy(), a)
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        nn.LSTM(3, 4, dropout=0.2)


# ---- errors --------------------------------------------------------------------------------------

def test_errors_name_the_shapes():
    m = nn.LSTM(3, 4, num_layers=2)
    with pytest.raises(ValueError, match=r"input_size. Expected 3, got 5"):
        m(ag.randn(6, 2, 5))
    with pytest.raises(RuntimeError, match=r"expected h_0 of shape \(2, 2, 4\).*got \(1, 2, 4\)"):
        m(ag.randn(6, 2, 3), (ag.zeros(1, 2, 4), ag.zeros(2, 2, 4)))
    with pytest.raises(RuntimeError, match=r"expected c_0 of shape \(2, 2, 4\)"):
        m(ag.randn(6, 2, 3), (ag.zeros(2, 2, 4), ag.zeros(2, 4)))
    with pytest.raises(ValueError, match="empty sequence"):
        m(ag.randn(0, 2, 3))
    with pytest.raises(ValueError, match="empty sequence"):
        nn.GRU(3, 4, batch_first=True)(ag.randn(2, 0, 3))
    with pytest.raises(ValueError, match="expected input of 3 dimensions"):
        m(ag.randn(2, 3, 3, 3))
    with pytest.raises(RuntimeError, match=r"expected hx of shape \(1, 4\)"):
        nn.RNN(3, 4)(ag.randn(5, 3), ag.zeros(1, 2, 4))
    with pytest.raises(TypeError, match="tuple"):
        m(ag.randn(6, 2, 3), ag.zeros(2, 2, 4))
    with pytest.raises(NotImplementedError, match="proj_size"):
        nn.LSTM(3, 4, proj_size=2)
    for make in (lambda: nn.RNNBase("GRU", 3, 4, proj_size=2), lambda: nn.GRU(3, 4, proj_size=2),
                 lambda: nn.RNN(3, 4, proj_size=1)):
        with pytest.raises(ValueError, match="only supported for LSTM"):
            make()
    assert nn.GRU(3, 4, proj_size=0).proj_size == 0
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="dropout"):
        nn.LSTM(3, 4, dropout=1.5)
    with pytest.raises(ValueError, match="input_size. Expected 3, got 2"):
        nn.LSTMCell(3, 4)(ag.randn(5, 2))
    with pytest.raises(RuntimeError, match=r"expected hx of shape \(5, 4\), got \(4,\)"):
        nn.GRUCell(3, 4)(ag.randn(5, 3), ag.zeros(4))
    with pytest.raises(TypeError, match=r"hx must be a tuple \(h_0, c_0\)"):
        nn.LSTMCell(3, 4)(ag.randn(5, 3), ag.zeros(5, 4))
    with pytest.raises(ValueError, match="lstm_cell"):
        from autograd_core.ops.rnn import LSTMCell
        LSTMCell.apply(ag.randn(2, 7), ag.randn(2, 2))


@pytest.mark.parametrize("batch_first", [True, False])
def test_lstm_fed_by_an_embedding_lookup_matches_a_plain_input(batch_first):
    """A fresh lookup takes the projected-table, gate-major path: same outputs and gradients as without it."""
    rng = np.random.default_rng(3)
    emb, lstm = nn.Embedding(5, 3).double(), nn.LSTM(3, 4, batch_first=batch_first).double()
    ids = rng.integers(0, 5, (6, 7))
    results = []
    for marked in (True, False):
        for p in list(emb.parameters()) + list(lstm.parameters()):
            p.grad = None
        x = emb(ag.tensor(ids)) if marked else emb.weight[ids]  # a plain index is not marked as a lookup
        assert ("_lookup" in x.__dict__) == marked
        out, (h, c) = lstm(x)
        ((out * out).sum() + h.sum() + 2 * c.sum()).backward()
        results.append([out.detach().numpy(), h.detach().numpy(), c.detach().numpy()]
                       + [p.grad.numpy().copy() for p in list(emb.parameters()) + list(lstm.parameters())])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
