"""See backprop: draw the graphs of the course's neuron, a 2-layer MLP, two LSTM steps and a masked attention head.

    python examples/visualize_backprop.py       # writes runs/viz/{neuron,mlp,mlp_modules,lstm,attention}.{svg,dot}
    python examples/visualize_backprop.py --out /tmp/viz

The .dot files are written always; the .svg files need the Graphviz `dot` program. The text
rendering of the neuron's graph is printed. The LSTM and the attention head are written out with
elementary ops (the course's equations) rather than nn.LSTM / F.scaled_dot_product_attention, whose
fused primitives would each draw as a single node.
"""
import argparse
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import autograd_core as ag  # noqa: E402
from autograd_core import trace  # noqa: E402


def neuron():
    """The course's neuron sigma(x0*w0 + x1*w1 + w2): output 0.73; dw = -0.20, -0.39, 0.20; dx = 0.39, -0.59."""
    params = {name: ag.tensor(v, requires_grad=True)
              for name, v in [("w0", 2.0), ("x0", -1.0), ("w1", -3.0), ("x1", -2.0), ("w2", -3.0)]}
    p = params
    with ag.viz.record():
        y = (p["x0"] * p["w0"] + p["x1"] * p["w1"] + p["w2"]).sigmoid()
    y.backward()
    return y, params


def mlp(batch=4, n_in=3, hidden=8, n_classes=3, seed=0):
    """A 2-layer MLP on Tensors, tanh(x @ W1 + b1) @ W2 + b2, with a softmax cross-entropy loss on a small batch."""
    rng = np.random.default_rng(seed)
    x = ag.tensor(rng.standard_normal((batch, n_in), dtype=np.float32))
    target = rng.integers(0, n_classes, batch)
    onehot = ag.tensor(np.eye(n_classes, dtype=np.float32)[target])
    params = {
        "W1": ag.tensor(rng.standard_normal((n_in, hidden), dtype=np.float32) / math.sqrt(n_in), requires_grad=True),
        "b1": ag.zeros(hidden, requires_grad=True),
        "W2": ag.tensor(rng.standard_normal((hidden, n_classes), dtype=np.float32) / math.sqrt(hidden),
                        requires_grad=True),
        "b2": ag.zeros(n_classes, requires_grad=True),
    }
    p = params
    with ag.viz.record():
        # module scopes stand in for nn.Module calls: group_by_module draws each as a cluster
        with trace.module_scope("layer1"):
            h = (x @ p["W1"] + p["b1"]).tanh()                         # (B, hidden)
        with trace.module_scope("layer2"):
            logits = h @ p["W2"] + p["b2"]                             # (B, C)
        with trace.module_scope("cross_entropy"):
            # why: shift for an exp without overflow; detached, as the shift's gradient cancels exactly
            shifted = logits - logits.detach().max(dim=1, keepdim=True).values
            log_probs = shifted - shifted.exp().sum(dim=1, keepdim=True).log()
            loss = -(log_probs * onehot).sum() / batch
    loss.backward()
    return loss, params


def lstm(steps=2, batch=2, n_in=3, hidden=4, seed=0):
    """Two steps of the course's LSTM cell (COURSE 1.6) on Tensors, each step grouped: backprop through time.

    gates = x_t U + h_{t-1} W + b, split into i, f, g, o; c_t = f * c_{t-1} + i * g; h_t = o * tanh(c_t).
    """
    rng = np.random.default_rng(seed)
    xs = [ag.tensor(rng.standard_normal((batch, n_in), dtype=np.float32)) for _ in range(steps)]
    params = {
        "U": ag.tensor(rng.standard_normal((n_in, 4 * hidden), dtype=np.float32) / math.sqrt(n_in), requires_grad=True),
        "W": ag.tensor(rng.standard_normal((hidden, 4 * hidden), dtype=np.float32) / math.sqrt(hidden),
                       requires_grad=True),
        "b": ag.zeros(4 * hidden, requires_grad=True),
    }
    p = params
    h = c = ag.zeros(batch, hidden)
    with ag.viz.record():
        for t, x in enumerate(xs):
            with trace.module_scope(f"step {t + 1}"):
                gates = x @ p["U"] + h @ p["W"] + p["b"]                   # (B, 4H)
                i, f, g, o = gates.chunk(4, dim=1)
                c = f.sigmoid() * c + i.sigmoid() * g.tanh()                # the cell state carries the gradient
                h = o.sigmoid() * c.tanh()
        loss = (h * h).mean()
    loss.backward()
    return loss, params


def attention(seq=3, d=4, seed=0):
    """One causal self-attention head on Tensors: softmax(q k^T / sqrt(d) + mask) v, then a squared-error loss."""
    rng = np.random.default_rng(seed)
    x = ag.tensor(rng.standard_normal((seq, d), dtype=np.float32))
    params = {name: ag.tensor(rng.standard_normal((d, d), dtype=np.float32) / math.sqrt(d), requires_grad=True)
              for name in ("Wq", "Wk", "Wv")}
    p = params
    future = ag.tensor(np.triu(np.ones((seq, seq), dtype=bool), k=1))  # j > i: masked (causal, j <= i allowed)
    with ag.viz.record():
        with trace.module_scope("projections"):
            q, k, v = x @ p["Wq"], x @ p["Wk"], x @ p["Wv"]
        with trace.module_scope("attention"):
            scores = (q @ k.t() / math.sqrt(d)).masked_fill(future, float("-inf"))
            # softmax written out; the shift is detached, as its gradient cancels exactly
            e = (scores - scores.detach().max(dim=-1, keepdim=True).values).exp()   # exp(-inf) = 0: masked
            weights = e / e.sum(dim=-1, keepdim=True)                      # (T, T), rows sum to 1
            out = weights @ v
        loss = (out * out).mean()
    loss.backward()
    return loss, params


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join("runs", "viz"), help="folder for the .svg and .dot files")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)

    y, params = neuron()
    print(f"neuron output {y.item():.2f}; "
          + ", ".join(f"d{n} = {t.grad.item():.2f}" for n, t in params.items()))
    loss, mlp_params = mlp()
    print(f"MLP loss {loss.item():.4f}")
    lstm_loss, lstm_params = lstm()
    attn_loss, attn_params = attention()
    pictures = [
        ("neuron", y, dict(names=params)),
        ("mlp", loss, dict(names=mlp_params)),
        ("mlp_modules", loss, dict(names=mlp_params, group_by_module=True)),
        ("lstm", lstm_loss, dict(names=lstm_params, group_by_module=True)),
        ("attention", attn_loss, dict(names=attn_params, group_by_module=True)),
    ]
    written = []
    for stem, root, kwargs in pictures:
        for ext in ("dot", "svg"):
            path = os.path.join(args.out, f"{stem}.{ext}")
            try:
                ag.viz.save(root, path, **kwargs)
            except ag.viz.GraphvizNotFoundError as e:
                print(f"skipped {path}: {e}")
                continue
            written.append(path)
    print("wrote " + ", ".join(written))
    print()
    print("the neuron's graph as text:")
    ag.viz.print_graph(y, names=params)
    return written


if __name__ == "__main__":
    main()
