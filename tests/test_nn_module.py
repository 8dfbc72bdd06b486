"""nn.Module and nn.Parameter: registration, traversal, modes, state_dict, hooks, repr, dtype casts."""
import numpy as np
import pytest

import autograd_core as ag
import nn
from autograd_core import trace


class Composite(nn.Module):
    """Sequential(Linear, Identity, Linear) + a ModuleDict + a parameter and buffers of its own."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 8), nn.Identity(), nn.Linear(8, 3))
        self.heads = nn.ModuleDict({"cls": nn.Linear(3, 2), "emb": nn.Embedding(5, 3)})
        self.register_buffer("scale", ag.ones(3))
        self.register_buffer("tmp", ag.zeros(1), persistent=False)
        self.gain = nn.Parameter(ag.ones(1))

    def forward(self, x):
        h = self.body(x) * self.scale * self.gain
        return self.heads["cls"](h)


# PyTorch's key list for the same model (checked against torch below when it is installed)
COMPOSITE_KEYS = ["gain", "scale", "body.0.weight", "body.0.bias", "body.2.weight", "body.2.bias",
                  "heads.cls.weight", "heads.cls.bias", "heads.emb.weight"]


def test_parameter_is_a_leaf_tensor_and_prints_like_pytorch():
    t = ag.tensor([1.0, 2.0])
    p = nn.Parameter(t)
    assert isinstance(p, ag.Tensor) and p.is_leaf and p.requires_grad
    p.detach().numpy()[0] = 5.0            # shares the array it was given
    assert t.tolist()[0] == 5.0
    assert repr(p).startswith("Parameter containing:\ntensor(")
    assert not nn.Parameter(ag.zeros(2), requires_grad=False).requires_grad
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(ag.tensor([1, 2]))


def test_parameter_save_load_keeps_its_class(tmp_path):
    p = nn.Parameter(ag.randn(3))
    ag.save({"p": p}, tmp_path / "p.agz")
    q = ag.load(tmp_path / "p.agz")["p"]
    assert type(q) is nn.Parameter and q.requires_grad and q.tolist() == p.tolist()


def test_registration_by_assignment():
    m = Composite()
    assert list(m._parameters) == ["gain"] and list(m._buffers) == ["scale", "tmp"]
    assert list(m._modules) == ["body", "heads"]
    assert isinstance(m.body, nn.Sequential) and m.scale.shape == (3,)
    m.plain = ag.zeros(2)                          # a plain tensor is not registered
    assert "plain" not in m._buffers and "plain" not in m._parameters
    m.gain = None                                   # None allowed for a registered name
    assert m.gain is None and [n for n, _ in m.named_parameters()][0] == "body.0.weight"
    with pytest.raises(TypeError, match="parameter 'gain'"):
        m.gain = ag.ones(1)
    with pytest.raises(TypeError, match="buffer 'scale'"):
        m.scale = 3.0
    m.scale = ag.zeros(3)
    assert m.scale.tolist() == [0.0, 0.0, 0.0]
    del m.body
    assert "body" not in m._modules
    with pytest.raises(AttributeError, match="no attribute 'body'"):
        m.body  # noqa: B018


def test_assignment_before_init_is_refused():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(ag.zeros(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Bad()


@pytest.mark.parametrize("method, args, error", [
    ("register_parameter", ("a.b", None), KeyError),
    ("register_parameter", ("w", ag.zeros(1)), TypeError),
    ("register_buffer", ("", ag.zeros(1)), KeyError),
    ("register_buffer", ("b", [1.0]), TypeError),
    ("add_module", ("m", ag.zeros(1)), TypeError),
])
def test_register_rejects_bad_names_and_values(method, args, error):
    with pytest.raises(error):
        getattr(nn.Module(), method)(*args)


def test_named_parameters_order_prefixes_and_sharing():
    m = Composite()
    names = [n for n, _ in m.named_parameters()]
    assert names == ["gain", "body.0.weight", "body.0.bias", "body.2.weight", "body.2.bias",
                     "heads.cls.weight", "heads.cls.bias", "heads.emb.weight"]
    assert [n for n, _ in m.body.named_parameters(prefix="enc")][:2] == ["enc.0.weight", "enc.0.bias"]
    assert [n for n, _ in m.named_parameters(recurse=False)] == ["gain"]
    assert len(list(m.parameters())) == 8
    m.tied = m.body[0]                              # a shared module: its parameters come once
    assert len(list(m.parameters())) == 8
    shared = nn.Linear(3, 3)
    seq = nn.Sequential(shared, shared)
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias"]
    assert [n for n, _ in m.named_buffers()] == ["scale", "tmp"]


def test_children_and_modules():
    m = Composite()
    assert [n for n, _ in m.named_children()] == ["body", "heads"]
    assert [n for n, _ in m.named_modules()] == ["", "body", "body.0", "body.1", "body.2", "heads",
                                                 "heads.cls", "heads.emb"]
    assert len(list(m.modules())) == 8 and next(m.modules()) is m
    assert m.get_submodule("body.2") is m.body[2]
    assert m.get_parameter("heads.cls.bias") is m.heads["cls"].bias


def test_train_eval_propagate():
    m = Composite()
    assert all(x.training for x in m.modules())
    assert m.eval() is m
    assert not any(x.training for x in m.modules())
    m.train()
    assert all(x.training for x in m.modules())
    m.body.train(False)
    assert m.training and not m.body[0].training


def test_zero_grad_requires_grad_and_apply():
    m = Composite()
    m(ag.randn(2, 4)).sum().backward()
    assert m.body[0].weight.grad is not None
    m.zero_grad(set_to_none=False)
    assert np.all(m.body[0].weight.grad.numpy() == 0)
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())
    seen = []
    assert m.apply(lambda mod: seen.append(type(mod).__name__)) is m
    assert seen == ["Linear", "Identity", "Linear", "Sequential", "Linear", "Embedding", "ModuleDict",
                    "Composite"]


def test_state_dict_keys_values_and_detach():
    m = Composite()
    sd = m.state_dict()
    assert list(sd) == COMPOSITE_KEYS
    assert not sd["body.0.weight"].requires_grad
    assert np.shares_memory(sd["body.0.weight"].numpy(), m.body[0].weight.detach().numpy())
    assert m.state_dict(keep_vars=True)["gain"] is m.gain
    assert list(m.body.state_dict(prefix="x.")) == ["x.0.weight", "x.0.bias", "x.2.weight", "x.2.bias"]


def test_save_load_round_trip_reproduces_outputs(tmp_path):
    ag.manual_seed(0)
    a = Composite()
    a.scale = ag.tensor([1.0, 2.0, 3.0])
    ag.save(a.state_dict(), tmp_path / "m.agz")
    ag.manual_seed(1)
    b = Composite()
    x = ag.randn(5, 4)
    assert not np.allclose(a(x).detach().numpy(), b(x).detach().numpy())
    w = b.body[0].weight
    result = b.load_state_dict(ag.load(tmp_path / "m.agz"))
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert b.body[0].weight is w                    # copied in place: optimizers keep their references
    np.testing.assert_array_equal(a(x).detach().numpy(), b(x).detach().numpy())
    assert b.scale.tolist() == [1.0, 2.0, 3.0]


def test_load_state_dict_strict_lists_every_problem():
    m = Composite()
    sd = m.state_dict()
    del sd["gain"]
    sd["extra.weight"] = ag.zeros(1)
    sd["body.0.weight"] = ag.zeros(8, 5)
    with pytest.raises(RuntimeError) as e:
        m.load_state_dict(sd)
    msg = str(e.value)
    assert "Composite" in msg
    assert 'Missing key(s) in state_dict: "gain"' in msg
    assert 'Unexpected key(s) in state_dict: "extra.weight"' in msg
    assert "size mismatch for body.0.weight" in msg and "(8, 5)" in msg and "(8, 4)" in msg


def test_load_state_dict_non_strict_returns_keys_but_refuses_shapes():
    m = Composite()
    sd = m.state_dict()
    del sd["gain"]
    sd["extra"] = ag.zeros(1)
    result = m.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["gain"] and result.unexpected_keys == ["extra"]
    sd["body.0.bias"] = ag.zeros(7)
    with pytest.raises(RuntimeError, match="size mismatch for body.0.bias"):
        m.load_state_dict(sd, strict=False)


def test_forward_and_pre_hooks_fire_and_replace():
    lin = nn.Linear(3, 2)
    calls = []
    h1 = lin.register_forward_pre_hook(lambda mod, args: calls.append(("pre", args[0].shape)))
    h2 = lin.register_forward_hook(lambda mod, args, out: calls.append(("post", args[0].shape, out.shape)))
    lin(ag.randn(4, 3))
    assert calls == [("pre", (4, 3)), ("post", (4, 3), (4, 2))]
    h1.remove()
    h2.remove()
    h1.remove()                                      # a second remove does nothing
    lin(ag.randn(4, 3))
    assert len(calls) == 2
    with lin.register_forward_pre_hook(lambda mod, args: (args[0] * 0,)):
        assert np.allclose(lin(ag.randn(4, 3)).detach().numpy(), lin.bias.detach().numpy())
    with lin.register_forward_hook(lambda mod, args, out: out * 0):
        assert np.all(lin(ag.randn(4, 3)).detach().numpy() == 0)
    assert not lin._forward_hooks and not lin._forward_pre_hooks


def test_full_backward_hook_shapes_and_replacement():
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    seen = []

    def hook(mod, grad_input, grad_output):
        seen.append((mod.out_features, [None if g is None else tuple(g.shape) for g in grad_input],
                     [tuple(g.shape) for g in grad_output]))

    for layer in model:
        layer.register_full_backward_hook(hook)
    x = ag.randn(5, 3, requires_grad=True)
    model(x).sum().backward()
    # backward order: the last layer first; grad_input is w.r.t. each layer's input
    assert seen == [(2, [(5, 4)], [(5, 2)]), (4, [(5, 3)], [(5, 4)])]
    # an input that needs no gradient gives grad_input (None,), the hook still fires
    seen.clear()
    model(ag.randn(5, 3)).sum().backward()
    assert seen[-1] == (4, [None], [(5, 4)])
    # grad_output of the last layer is the upstream gradient; returning grad_input replaces it
    lin = nn.Linear(3, 2)
    got = {}

    def double(mod, gi, go):
        got["go"] = go[0].numpy().copy()
        return (gi[0] * 2,)

    h = lin.register_full_backward_hook(double)
    x = ag.randn(5, 3, requires_grad=True)
    lin(x).sum().backward()
    assert np.all(got["go"] == 1.0)
    expected = 2 * np.ones((5, 2), np.float32) @ lin.weight.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-6)
    h.remove()
    x.grad = None
    lin(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), expected / 2, rtol=1e-6)


def test_repr_tree():
    m = Composite()
    assert repr(m) == (
        "Composite(\n"
        "  (body): Sequential(\n"
        "    (0): Linear(in_features=4, out_features=8, bias=True)\n"
        "    (1): Identity()\n"
        "    (2): Linear(in_features=8, out_features=3, bias=True)\n"
        "  )\n"
        "  (heads): ModuleDict(\n"
        "    (cls): Linear(in_features=3, out_features=2, bias=True)\n"
        "    (emb): Embedding(5, 3)\n"
        "  )\n"
        ")")
    assert "body" in dir(m) and "gain" in dir(m) and "scale" in dir(m)


def test_to_float64_keeps_parameter_identity():
    m = Composite()
    w = m.body[0].weight
    m(ag.randn(2, 4)).sum().backward()
    assert m.to(ag.float64) is m
    assert m.body[0].weight is w and w.dtype == np.float64 and w.grad.dtype == np.float64
    assert m.scale.dtype == np.float64 and m.tmp.dtype == np.float64
    assert m(ag.randn(2, 4, dtype=ag.float64)).dtype == np.float64
    m.float()
    assert w.dtype == np.float32
    m.double().to("cpu")
    assert w.dtype == np.float64
    with pytest.raises(TypeError, match="floating point"):
        m.to(ag.int64)


def test_call_without_forward_and_init_args():
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(1)


def test_module_scope_labels_under_viz_record():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.Linear(3, 4)
            self.head = nn.Linear(4, 2)

        def forward(self, x):
            return self.head(self.encoder(x).relu())

    net = Net()
    seen = []
    net.encoder.register_forward_pre_hook(lambda *a: seen.append(tuple(trace.state.modules)))
    net.encoder.register_forward_hook(lambda *a: seen.append(tuple(trace.state.modules)))
    with ag.viz.record():
        loss = net(ag.randn(2, 3)).sum()
    assert seen == [("Net",), ("Net",)]            # hooks run outside the module's own scope
    src = ag.viz.draw_graph(loss, group_by_module=True).source
    assert 'label="encoder"' in src and 'label="head"' in src and 'label="Net"' in src
    out = net(ag.randn(2, 3))                       # outside record: no scopes
    assert getattr(out.grad_fn, "_module", None) in (None, ())


def test_state_dict_keys_match_torch():
    torch = pytest.importorskip("torch")
    tnn = torch.nn

    class TorchComposite(tnn.Module):
        def __init__(self):
            super().__init__()
            self.body = tnn.Sequential(tnn.Linear(4, 8), tnn.Identity(), tnn.Linear(8, 3))
            self.heads = tnn.ModuleDict({"cls": tnn.Linear(3, 2), "emb": tnn.Embedding(5, 3)})
            self.register_buffer("scale", torch.ones(3))
            self.register_buffer("tmp", torch.zeros(1), persistent=False)
            self.gain = tnn.Parameter(torch.ones(1))

    tm = TorchComposite()
    assert list(tm.state_dict()) == COMPOSITE_KEYS
    assert [n for n, _ in tm.named_parameters()] == [n for n, _ in Composite().named_parameters()]
    assert [n for n, _ in tm.named_modules()] == [n for n, _ in Composite().named_modules()]
    assert repr(tm).replace("TorchComposite", "Composite") == repr(Composite())
    # a torch state_dict converted to arrays loads into ours and gives the same outputs
    ours = Composite()
    ours.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 4)).astype(np.float32)
    t_out = tm.heads["cls"](tm.body(torch.from_numpy(x)) * tm.scale * tm.gain).detach().numpy()
    np.testing.assert_allclose(ours(ag.tensor(x)).detach().numpy(), t_out, rtol=1e-5, atol=1e-6)


def test_backward_hook_shapes_match_torch():
    torch = pytest.importorskip("torch")
    lin = torch.nn.Linear(3, 4)
    seen = []
    lin.register_full_backward_hook(lambda m, gi, go: seen.append(
        ([None if g is None else tuple(g.shape) for g in gi], [tuple(g.shape) for g in go])))
    lin(torch.randn(5, 3, requires_grad=True)).sum().backward()
    with pytest.warns(UserWarning):
        lin(torch.randn(5, 3)).sum().backward()
    assert seen == [([(5, 3)], [(5, 4)]), ([None], [(5, 4)])]


def test_deepcopy_gives_an_independent_model():
    import copy
    m = Composite()
    c = copy.deepcopy(m)
    assert type(c.gain) is nn.Parameter and c.gain is not m.gain
    assert list(c.state_dict()) == COMPOSITE_KEYS
    with ag.no_grad():
        c.body[0].weight.add_(1.0)
    assert not np.allclose(c.body[0].weight.detach().numpy(), m.body[0].weight.detach().numpy())
