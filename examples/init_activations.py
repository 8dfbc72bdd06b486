"""Activation and gradient statistics through a deep network, for each activation and initialisation.

    python examples/init_activations.py                       # 10 layers of 500 units, 500 N(0, 1) inputs
    python examples/init_activations.py --activations relu tanh --inits he lecun large --depth 20

The course's variance argument (COURSE.md §2.3): with inputs of mean 0 and variance 1 and weights
w_i ~ N(0, w^2), the inner potential xi = sum_i w_i x_i of a neuron with n inputs has
Var[xi] = n w^2. "Small weights make the values of inner potentials vanish. Large weights make the
values of inner potentials explode", so choose w^2 to keep the variance from layer to layer:

    LeCun  (nn.init.lecun_normal_):   w_i ~ N(0, 1/n)            n = fan-in
    Glorot (nn.init.xavier_normal_):  w_i ~ N(0, 2/(m + n))      m = fan-out; for tanh, logistic, none
    He     (nn.init.kaiming_normal_): w_i ~ N(0, 2/n)            ReLU zeroes half its inputs; for ReLU

(N(0, v) writes the variance.) For comparison: "small", N(0, 0.01^2), the slides' "weights close to
0", and "large", N(0, 1), as tf.random_normal draws them. With square layers (width -> width)
Glorot's 2/(m + n) equals LeCun's 1/n, so the two columns differ only by the random draw.

For every activation x init pair the script pushes a batch of N(0, 1) inputs through --depth layers
y_l = act(W_l y_(l-1)) (bias 0), records the std of each layer's activations y_l, then backpropagates
E = sum over the batch of sum_j r_j y_Lj (r ~ N(0, 1), drawn anew for every input, so dE/dy_L = r
has std 1 and is independent across the batch) and records the std of the gradient dE/dy_l that
reaches each layer's output (the backpropagated error). It prints both tables and writes
init_std.png (std per layer, activations and gradients, one panel per pair) and init_hist.png
(histograms of the activations of a few layers) to --out. What they show: ReLU + He keeps the std
about constant, ReLU + LeCun halves the variance at every layer, tanh + Glorot shrinks slowly but
stays unsaturated, tanh or sigmoid with large weights saturate, and with sigmoid (derivative <= 1/4)
the gradients of the first layers vanish whatever the init; small weights make everything vanish.
"""
import argparse
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import progress, pyplot  # noqa: E402

import autograd_core as ag  # noqa: E402
import nn  # noqa: E402
import nn.functional as F  # noqa: E402

ACTIVATIONS = {"sigmoid": F.sigmoid, "tanh": F.tanh, "relu": F.relu}
INITS = {
    "small": lambda w: nn.init.normal_(w, 0.0, 0.01),
    "lecun": nn.init.lecun_normal_,
    "glorot": nn.init.xavier_normal_,
    "he": lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"),
    "large": lambda w: nn.init.normal_(w, 0.0, 1.0),
}
HIST_LAYERS = 4     # histograms of this many layers, evenly spaced, the last one included


def parse_args(argv=None):
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--depth", type=int, default=10, help="number of layers")
    p.add_argument("--width", type=int, default=500, help="units per layer (and input features)")
    p.add_argument("--batch", type=int, default=500, help="N(0, 1) input vectors")
    p.add_argument("--activations", nargs="+", choices=list(ACTIVATIONS), default=list(ACTIVATIONS))
    p.add_argument("--inits", nargs="+", choices=list(INITS), default=["small", "lecun", "glorot", "he"])
    p.add_argument("--epochs", type=int, default=1, help="unused: nothing is trained (accepted for uniformity)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", default=None, help="unused: the inputs are generated (accepted for uniformity)")
    p.add_argument("--out", default="runs/init_activations")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p.parse_args(argv)


def run(activation, init, depth, width, batch, seed):
    """One forward and backward pass; returns (std of y_l per layer, std of dE/dy_l per layer, samples).

    samples: {layer index (1-based): a flat sample of that layer's activations} for the histograms.
    """
    ag.manual_seed(seed)                                 # same inputs and read-out for every pair
    x = ag.randn(batch, width)                           # (B, width), N(0, 1)
    readout = ag.randn(batch, width)                     # (B, width)
    layers = [nn.Linear(width, width, bias=False) for _ in range(depth)]
    for lin in layers:
        INITS[init](lin.weight)
    act = ACTIVATIONS[activation]
    keep = set(np.linspace(1, depth, min(HIST_LAYERS, depth)).round().astype(int).tolist())
    h, outs, act_std, samples = x, [], [], {}
    for i, lin in enumerate(layers, start=1):
        h = act(lin(h))                                  # (B, width)
        h.retain_grad()
        outs.append(h)
        a = h.detach().numpy()
        act_std.append(float(a.std()))
        if i in keep:
            samples[i] = a.ravel()[:20000].copy()
    loss = (h * readout).sum()                           # dE/dy_L = r: std 1, independent across samples
    loss.backward()
    grad_std = [float(y.grad.numpy().std()) for y in outs]
    return act_std, grad_std, samples


def print_table(title, rows, depth, fmt):
    """rows: {(activation, init): values per layer}."""
    print(title)
    print(f"{'':17s}" + "".join(f"{'layer ' + str(i):>9s}" for i in range(1, depth + 1)))
    for (a, i), values in rows.items():
        print(f"{a + ' + ' + i:17s}" + "".join(f"{v:9{fmt}}" for v in values))


def plot(results, acts, inits, depth, out):
    """init_std.png and init_hist.png (skipped without matplotlib); returns the paths written."""
    plt = pyplot()
    if plt is None:
        return []
    paths = []
    layers = np.arange(1, depth + 1)
    size = (2.6 * len(inits) + 0.6, 2.2 * len(acts) + 0.6)

    fig, axes = plt.subplots(len(acts), len(inits), figsize=size, sharex=True, sharey=True, squeeze=False)
    for r, a in enumerate(acts):
        for c, i in enumerate(inits):
            act_std, grad_std, _ = results[(a, i)]
            ax = axes[r, c]
            floor = 1e-30                                    # log axes cannot show an exact 0
            ax.plot(layers, np.maximum(act_std, floor), "o-", ms=3, label="activations")
            ax.plot(layers, np.maximum(grad_std, floor), "s--", ms=3, label="gradients dE/dy")
            ax.set_yscale("log")
            ax.set_ylim(1e-12, 1e2)
            ax.grid(alpha=0.3)
            ax.set_title(f"{a} + {i}", fontsize=9)
            if r == len(acts) - 1:
                ax.set_xlabel("layer")
            if c == 0:
                ax.set_ylabel("std")
    axes[0, 0].legend(fontsize=7, loc="lower left")
    fig.suptitle("std per layer (log scale)", fontsize=10)
    fig.tight_layout()
    paths.append(os.path.join(out, "init_std.png"))
    fig.savefig(paths[-1], dpi=70)
    plt.close(fig)

    fig, axes = plt.subplots(len(acts), len(inits), figsize=size, squeeze=False)
    for r, a in enumerate(acts):
        for c, i in enumerate(inits):
            samples = results[(a, i)][2]
            ax = axes[r, c]
            lim = max(1e-12, max(np.abs(s).max() for s in samples.values()))
            lo = 0.0 if a in ("sigmoid", "relu") else -lim
            hi = 1.0 if a == "sigmoid" else lim
            bins = np.linspace(lo, hi, 41)
            for k, s in samples.items():
                if a == "relu":
                    s = s[s > 0]                             # the half at exactly 0 would dwarf the rest
                ax.hist(s, bins=bins, histtype="step", density=True, label=f"layer {k}")
            ax.set_yticks([])
            ax.set_title(f"{a} + {i}", fontsize=9)
            ax.tick_params(labelsize=7)
    axes[0, -1].legend(fontsize=7)
    fig.suptitle("activation histograms (x range adapts to each panel; ReLU: the zeros left out)", fontsize=10)
    fig.tight_layout()
    paths.append(os.path.join(out, "init_hist.png"))
    fig.savefig(paths[-1], dpi=70)
    plt.close(fig)
    for p in paths:
        print(f"wrote {p}")
    return paths


def main(argv=None):
    """Run every pair; returns {"act_std": {(act, init): [...]}, "grad_std": {...}, "figures": [...]}."""
    args = parse_args(argv)
    results = {}
    pairs = [(a, i) for a in args.activations for i in args.inits]
    for a, i in progress(pairs, "forward + backward", args.quiet):
        results[(a, i)] = run(a, i, args.depth, args.width, args.batch, args.seed)
    print(f"{args.depth} layers of {args.width} units, {args.batch} N(0, 1) inputs, bias 0; "
          f"weight std: small 0.01, lecun {1 / math.sqrt(args.width):.4f}, glorot {1 / math.sqrt(args.width):.4f}, "
          f"he {math.sqrt(2 / args.width):.4f}, large 1")
    act_std = {k: v[0] for k, v in results.items()}
    grad_std = {k: v[1] for k, v in results.items()}
    print_table("std of the activations y_l", act_std, args.depth, ".3g")
    print_table("std of the gradients dE/dy_l (backward from layer 10 = std 1)", grad_std, args.depth, ".3g")
    os.makedirs(args.out, exist_ok=True)
    figures = plot(results, args.activations, args.inits, args.depth, args.out)
    return {"act_std": act_std, "grad_std": grad_std, "figures": figures}


if __name__ == "__main__":
    main()
