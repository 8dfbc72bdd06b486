"""Graph drawings and the text rendering (ag.viz.draw_graph, save, record, to_text)."""
import importlib.util
import os
import re
import shutil

import numpy as np
import pytest

import autograd_core as ag
from autograd_core import trace
from autograd_core.viz import draw as draw_mod

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NODE = re.compile(r"^\t+(n\d+|more) \[label=\"(.*?)\"", re.M)
EDGE = re.compile(r"^\t+(n\d+|more) -> (n\d+)(?: \[(.*)\])?$", re.M)
NUM = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def neuron(record=True):
    leaves = {n: ag.tensor(v, requires_grad=True)
              for n, v in [("w0", 2.0), ("x0", -1.0), ("w1", -3.0), ("x1", -2.0), ("w2", -3.0)]}
    p = leaves
    if record:
        with ag.viz.record():
            y = (p["x0"] * p["w0"] + p["x1"] * p["w1"] + p["w2"]).sigmoid()
    else:
        y = (p["x0"] * p["w0"] + p["x1"] * p["w1"] + p["w2"]).sigmoid()
    y.backward()
    return y, leaves


def nodes(source):
    """{node id: label lines} of a DOT source written by draw_graph (the legend excluded)."""
    return {m.group(1): m.group(2).split("\\n") for m in NODE.finditer(source)}


def line_value(lines, prefix):
    """The first number on the label line starting with prefix."""
    for line in lines:
        if line.startswith(prefix):
            return float(NUM.search(line[len(prefix):]).group())
    raise AssertionError(f"no line starting with {prefix!r} in {lines}")


def test_neuron_nodes_edges_values_and_grads():
    y, leaves = neuron(record=False)
    src = ag.viz.draw_graph(y, names=leaves).source
    labels = nodes(src)
    by_name = {lines[0]: lines for lines in labels.values()}
    ops = sorted(lines[0] for lines in labels.values() if lines[0].endswith("Backward0"))
    assert ops == ["AddBackward0", "AddBackward0", "MulBackward0", "MulBackward0", "SigmoidBackward0"]
    assert set(by_name) == {"w0", "x0", "w1", "x1", "w2", "output"} | set(ops)
    assert len(labels) == 5 + 5 + 1
    assert round(line_value(by_name["output"], "value "), 2) == 0.73
    expected = {"w0": -0.20, "w1": -0.39, "w2": 0.20, "x0": 0.39, "x1": -0.59}
    for name, g in expected.items():
        assert round(line_value(by_name[name], "grad "), 2) == g, name
        assert by_name[name][1] == "() float32"
    edges = EDGE.findall(src)
    assert len(edges) == 10  # 5 leaves into ops, 4 op-to-op, 1 into the root's node
    ids = {lines[0]: nid for nid, lines in labels.items() if not lines[0].endswith("Backward0")}
    consumers = {dst for src_id, dst, _ in edges if src_id == ids["w2"]}
    assert len(consumers) == 1 and labels[consumers.pop()][0] == "AddBackward0"
    sig = next(n for n, lines in labels.items() if lines[0] == "SigmoidBackward0")
    assert (sig, ids["output"], "") in edges


def test_record_shows_intermediate_values_and_grads():
    y, leaves = neuron(record=True)
    labels = nodes(ag.viz.draw_graph(y, names=leaves).source)
    muls = sorted(line_value(lines, "value ") for lines in labels.values() if lines[0] == "MulBackward0")
    assert muls == [-2.0, 6.0]
    for lines in labels.values():
        if lines[0] in ("MulBackward0", "AddBackward0"):
            assert round(line_value(lines, "grad "), 2) == 0.20
            assert any(re.fullmatch(r"test_viz_draw\.py:\d+", x) for x in lines)  # the creation site


def test_without_record_intermediate_edges_carry_shapes():
    a = ag.ones(2, 3, requires_grad=True)
    y = (a * 2.0).exp().sum()
    src = ag.viz.draw_graph(y).source
    labels = nodes(src)
    exp_node = next(n for n, lines in labels.items() if lines[0] == "ExpBackward0")
    assert labels[exp_node] == ["ExpBackward0"]  # nothing more: saved arrays are not dug into
    assert any(s != "more" and d == exp_node and 'label="(2, 3)"' in attrs for s, d, attrs in EDGE.findall(src))


def test_names_mapping_and_tensor_name():
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    b = ag.tensor(0.5, requires_grad=True)
    b.name = "my_bias"
    y = (w * 3.0 + b).sum()
    src = ag.viz.draw_graph(y, names={"layer.weight": w}).source
    firsts = [lines[0] for lines in nodes(src).values()]
    assert "layer.weight" in firsts and "my_bias" in firsts


def test_small_tensor_in_full_and_large_as_summary():
    small = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    big = ag.tensor(np.arange(100, dtype=np.float32), requires_grad=True)
    y = (small.sum() + big.sum())
    y.backward()
    labels = {lines[0]: lines for lines in nodes(ag.viz.draw_graph(y, names={"s": small, "b": big}).source).values()}
    assert "value [1, 2, 3]" in labels["s"]
    assert "value min 0 mean 49.5 max 99" in labels["b"]
    assert "grad min 1 mean 1 max 1" in labels["b"] and "|grad| 10" in labels["b"]


def test_broadcast_edge_marked_with_axis():
    rng = np.random.default_rng(0)
    a = ag.tensor(rng.standard_normal((4, 3), dtype=np.float32), requires_grad=True)
    b = ag.tensor(rng.standard_normal(3, dtype=np.float32), requires_grad=True)
    y = (a + b).sum()
    y.backward()
    src = ag.viz.draw_graph(y, names={"a": a, "b": b}).source
    ids = {lines[0]: n for n, lines in nodes(src).items()}
    marks = {s: attrs for s, d, attrs in EDGE.findall(src) if d == ids["AddBackward0"]}
    assert "Σ axis 0" in marks[ids["b"]] and "(4, 3)→(3,)" in marks[ids["b"]]
    assert "Σ" not in marks[ids["a"]]
    assert "Σ axis 0" in ag.viz.to_text(y)


def test_colors_separate_vanishing_from_exploding_and_legend():
    tiny = ag.tensor([1.0, 2.0], requires_grad=True)
    huge = ag.tensor([1.0, 2.0], requires_grad=True)
    ok = ag.tensor([1.0, 2.0], requires_grad=True)
    y = (tiny * 1e-9).sum() + (huge * 1e9).sum() + ok.sum()
    y.backward()
    src = ag.viz.draw_graph(y, names={"tiny": tiny, "huge": huge, "ok": ok}).source
    fill = {m.group(1): m.group(2) for m in re.finditer(r'label="(\w+)\\n[^"]*" [^\]]*fillcolor="([^"]+)"', src)}
    assert len({fill["tiny"], fill["huge"], fill["ok"]}) == 3
    assert fill["tiny"] == draw_mod.grad_color(1e-9)[0] and fill["huge"] == draw_mod.grad_color(1e9)[0]
    assert "cluster_legend" in src and "vanishing" in src and "exploding" in src
    assert "cluster_legend" not in ag.viz.draw_graph(y, show_grads=False).source


def test_grad_color_scale():
    assert draw_mod.grad_color(None)[0] == "white"
    assert draw_mod.grad_color(0.0) == draw_mod.grad_color(1e-12)
    assert draw_mod.grad_color(float("nan"))[0] != draw_mod.grad_color(1.0)[0]
    colors = [draw_mod.grad_color(10.0 ** k)[0] for k in range(-9, 8, 2)]
    assert len(set(colors)) >= 6


class Module:
    """The least a module needs for grouping: run forward inside trace.module_scope(label)."""

    def __init__(self, label, *children):
        self.label = label
        self.children = children

    def __call__(self, x):
        with trace.module_scope(self.label):
            return self.forward(x)

    def forward(self, x):
        for c in self.children:
            x = c(x)
        return x


class Linear(Module):
    def __init__(self, label, n_in, n_out, rng):
        super().__init__(label)
        self.weight = ag.tensor(rng.standard_normal((n_in, n_out), dtype=np.float32), requires_grad=True)
        self.bias = ag.zeros(n_out, requires_grad=True)

    def forward(self, x):
        return (x @ self.weight + self.bias).tanh()


def two_layer():
    rng = np.random.default_rng(0)
    l1, l2 = Linear("l1", 3, 4, rng), Linear("l2", 4, 2, rng)
    model = Module("mlp", l1, l2)
    x = ag.tensor(rng.standard_normal((5, 3), dtype=np.float32))
    with ag.viz.record():
        loss = (model(x) ** 2).mean()
    loss.backward()
    return loss, {"l1.weight": l1.weight, "l1.bias": l1.bias, "l2.weight": l2.weight, "l2.bias": l2.bias}


def test_module_paths_recorded():
    loss, _ = two_layer()
    paths = {n._module for n in draw_mod.collect([loss]) if not isinstance(n, ag.Tensor)}
    assert paths == {(), ("mlp", "l1"), ("mlp", "l2")}


def test_group_by_module_draws_nested_clusters():
    loss, names = two_layer()
    src = ag.viz.draw_graph(loss, names=names, group_by_module=True).source
    assert src.count("subgraph cluster_m") == 3
    for label in ("mlp", "l1", "l2"):
        assert f'label="{label}"' in src
    # the l1 cluster holds l1's three ops and its parameters, nothing of l2
    start = src.index('label="l1"')
    body = src[start:src.index("\t}", start)]
    assert body.count("Backward0") == 3 and "l1.weight" in body and "l1.bias" in body and "l2." not in body
    plain = ag.viz.draw_graph(loss, names=names).source
    assert "subgraph cluster_m" not in plain


def test_collapse_one_node_per_module():
    loss, names = two_layer()
    labels = nodes(ag.viz.draw_graph(loss, names=names, collapse=True).source)
    firsts = sorted(lines[0] for lines in labels.values())
    assert firsts == ["MeanBackward0", "PowBackward0", "l1", "l2", "output"]  # parameters folded in
    assert ["l1", "mlp.l1", "3 ops"] in labels.values()
    outer = nodes(ag.viz.draw_graph(loss, names=names, collapse=1).source)
    assert ["mlp", "6 ops"] in outer.values() and len(outer) == 4
    src = ag.viz.draw_graph(loss, names=names, collapse=True).source
    assert len(EDGE.findall(src)) == 4  # l1 -> l2 -> pow -> mean -> output


def test_max_nodes_summarises_the_rest():
    x = ag.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(30):
        y = y * 1.5
    src = ag.viz.draw_graph(y, max_nodes=10).source
    labels = nodes(src)
    assert len(labels) == 10
    assert labels["more"] == ["… 23 more"]  # 32 nodes: output, 30 ops, the leaf; 9 drawn + this one
    assert ("more", "n8", "") in EDGE.findall(src)
    with pytest.raises(ValueError, match="max_nodes"):
        ag.viz.draw_graph(y, max_nodes=1)


def test_50k_node_chain_draws_without_recursion_error():
    x = ag.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(50_000):
        y = y * 1.0
    src = ag.viz.draw_graph(y).source
    assert src.count("MulBackward0") == 50_000
    text = ag.viz.to_text(y, max_nodes=5)
    # 50,001 lines (the leaf and 50,000 ops): the last 5 shown
    assert text.splitlines()[0] == "… 49996 more (not shown)" and len(text.splitlines()) == 6


def test_save_svg_with_graphviz(tmp_path):
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed (.ci/run installs it)")
    y, leaves = neuron()
    path = tmp_path / "neuron.svg"
    dot = ag.viz.save(y, str(path), names=leaves)
    text = path.read_text()
    assert text.startswith("<?xml") or "<svg" in text
    assert "w0" in text and "SigmoidBackward0" in text
    assert hasattr(dot, "_repr_mimebundle_") or hasattr(dot, "_repr_svg_")


def test_save_dot_needs_no_graphviz(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    monkeypatch.setenv("PATH", str(tmp_path))
    y, _ = neuron()
    path = tmp_path / "neuron.dot"
    dot = ag.viz.save([y], str(path))
    assert path.read_text() == dot.source and path.read_text().startswith("digraph")


def test_missing_dot_gives_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    monkeypatch.setenv("PATH", str(tmp_path))
    y, _ = neuron()
    with pytest.raises(ag.viz.GraphvizNotFoundError) as info:
        ag.viz.save(y, str(tmp_path / "neuron.png"))
    msg = str(info.value)
    assert "apt-get install graphviz" in msg and "brew install graphviz" in msg and "conda" in msg
    assert ".dot" in msg and "SigmoidBackward0" in info.value.graph.source
    assert isinstance(info.value, RuntimeError)
    assert not (tmp_path / "neuron.png").exists()
    with pytest.raises(ValueError, match="format"):
        ag.viz.save(y, str(tmp_path / "neuron.xyz"))


def test_to_text_lists_every_op_once_and_references_shared_inputs():
    y, leaves = neuron(record=False)
    text = ag.viz.to_text(y, names=leaves)
    lines = text.splitlines()
    assert len(lines) == 10
    assert sum(line.split(" = ")[1].startswith("MulBackward0") for line in lines) == 2
    assert sum("SigmoidBackward0" in line for line in lines) == 1
    assert lines[-1].startswith("%9 = SigmoidBackward0(%8)") and "<- output" in lines[-1] and "0.7311" in lines[-1]
    # a shared node: x feeds two ops but is listed once, and both refer to it
    x = ag.tensor(2.0, requires_grad=True)
    z = x * x + x.exp()
    t = ag.viz.to_text(z).splitlines()
    assert sum("leaf" in line for line in t) == 1
    joined = "\n".join(t)
    assert t[0].startswith("%0 = leaf") and "MulBackward0(%0, %0)" in joined and "ExpBackward0(%0)" in joined


def test_to_text_inputs_come_before_their_users():
    rng = np.random.default_rng(1)
    w = ag.tensor(rng.standard_normal((3, 3), dtype=np.float32), requires_grad=True)
    h = w.tanh()
    y = (h @ h + h.exp()).sum()
    lines = ag.viz.to_text(y).splitlines()
    defined = set()
    for line in lines:
        ref, rhs = line.split(" = ", 1)
        used = re.findall(r"%\d+", rhs.split(")")[0])
        assert set(used) <= defined, line
        defined.add(ref)


def test_print_graph(capsys):
    y, _ = neuron()
    ag.viz.print_graph(y)
    assert "SigmoidBackward0" in capsys.readouterr().out


def test_roots_validation():
    with pytest.raises(TypeError, match="Tensors"):
        ag.viz.draw_graph(np.ones(3))
    with pytest.raises(ValueError):
        ag.viz.draw_graph()


def test_example_writes_pictures(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("example_visualize_backprop",
                                                  os.path.join(ROOT, "examples", "visualize_backprop.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    written = mod.main(["--out", str(tmp_path)])
    assert os.path.join(str(tmp_path), "neuron.dot") in written
    out = capsys.readouterr().out
    assert "neuron output 0.73" in out and "dw0 = -0.20" in out and "dx1 = -0.59" in out
    assert "SigmoidBackward0(%8)" in out
    assert "Σ axis 0" in (tmp_path / "mlp.dot").read_text()
    lstm_dot = (tmp_path / "lstm.dot").read_text()
    assert "step 1" in lstm_dot and "step 2" in lstm_dot  # one cluster per time step
    assert lstm_dot.count("BasicIndexBackward0") == 8      # i, f, g, o cut out of the gates, twice
    assert "WhereBackward0" in (tmp_path / "attention.dot").read_text()  # the causal mask
