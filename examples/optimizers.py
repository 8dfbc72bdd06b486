"""Comparing optimizers: SGD, momentum, Nesterov, AdaGrad, RMSProp and Adam on test surfaces and on MNIST.

    python examples/optimizers.py                      # paths on 3 surfaces + 5 epochs of MNIST per optimizer
    python examples/optimizers.py --skip-mnist --steps 500

Part 1 ("any tensor can be optimised"): each optimizer moves a 2-element tensor over Rosenbrock,
Beale and the saddle x² − y², from the same start, with the learning rate in PATH_LR (chosen per
surface so that each path shows its optimizer's character); the paths are drawn over contour
plots in --out/paths.png. A path stops when it leaves the plotted box (the saddle has no minimum).
Part 2: the MLP 784-256-128-10 (ReLU) on MNIST, the same initial weights and batch order for every
optimizer, lr from MNIST_LR; training loss and test accuracy per epoch in --out/mnist_curves.png.
The data: `--data-dir DIR` (reads DIR/mnist/), else $AUTOGRAD_DATA, else ../shared/data beside the
repository, else the official download. `main()` returns the numbers it prints as a dict.
"""
import argparse
import math
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import load_mnist, progress, pyplot  # noqa: E402

import autograd_core as ag  # noqa: E402
import nn  # noqa: E402
import nn.functional as F  # noqa: E402
import optim  # noqa: E402
from nn.data import DataLoader, TensorDataset  # noqa: E402

# The six optimizers: name -> (constructor, fixed options). Momentum is PyTorch's v ← μv + g,
# w ← w − lr·v, the same path as the course's Δw ← −εg + αΔw for a constant lr. RMSProp uses the
# course's (Hinton's) ρ = 0.9 instead of PyTorch's alpha = 0.99 default.
OPTIMIZERS = {
    "SGD": (optim.SGD, {}),
    "momentum": (optim.SGD, {"momentum": 0.9}),
    "Nesterov": (optim.SGD, {"momentum": 0.9, "nesterov": True}),
    "AdaGrad": (optim.Adagrad, {}),
    "RMSProp": (optim.RMSprop, {"alpha": 0.9}),
    "Adam": (optim.Adam, {}),
}

# Learning rates for the paths, per surface and optimizer (--steps 200), and why:
# - Rosenbrock: the valley floor is far flatter than its walls (Hessian eigenvalues 0.4 and 1002 at
#   the minimum, ~2100 at the start). Plain SGD is stable only below 2/λ_max ≈ 1e-3 and then crawls
#   along the floor. Momentum and Nesterov take the same lr and accelerate along the valley (up to
#   1/(1 − μ) = 10x as far per step); at that lr Nesterov first zigzags (its stability limit,
#   lr·λ < 2(1 + μ)/(1 + 2μ), is lower than momentum's 2(1 + μ)), then leads. The adaptive methods
#   step ~lr per coordinate whatever the gradient's scale: RMSProp (0.01) zigzags across the floor
#   and creeps, Adam's momentum smooths that zigzag so it can take 0.2 (0.5 and more zigzag at the
#   start), AdaGrad starts with big steps (0.5) that fade as its sum of squares grows, and stalls.
# - Beale (minimum at (3, 0.5)): gradients near 100 at the start, near 1 along the curved valley
#   to the minimum. SGD takes 1e-2 (0.05 is thrown off the walls); momentum and Nesterov 1e-3
#   (5e-3 leaves the box) overshoot far past the valley before turning; the adaptive methods take
#   0.02-0.5, and RMSProp and Adam end closest.
# - saddle x² − y², from just beside the saddle point (y = 1e-3), the same lr for the SGD family:
#   the y-gradient −2y is tiny, so SGD slides into the saddle and stays (y grows 2% a step: ~370
#   steps to leave); momentum and Nesterov overshoot x = 0 and escape once their velocity builds
#   up; the adaptive methods rescale the tiny y-gradient and move ~lr along y from the first step.
PATH_LR = {
    "rosenbrock": {"SGD": 1e-3, "momentum": 1e-3, "Nesterov": 1e-3, "AdaGrad": 0.5, "RMSProp": 0.01,
                   "Adam": 0.2},
    "beale": {"SGD": 1e-2, "momentum": 1e-3, "Nesterov": 1e-3, "AdaGrad": 0.5, "RMSProp": 0.02,
              "Adam": 0.1},
    "saddle": {"SGD": 0.01, "momentum": 0.01, "Nesterov": 0.01, "AdaGrad": 0.05, "RMSProp": 0.01,
               "Adam": 0.01},
}

# MNIST learning rates: the usual working values for a ReLU MLP on standardised inputs, batch 64.
MNIST_LR = {"SGD": 0.1, "momentum": 0.05, "Nesterov": 0.05, "AdaGrad": 0.01, "RMSProp": 1e-3, "Adam": 1e-3}


def rosenbrock(x, y):
    """(1 − x)² + 100(y − x²)²: a curved, narrow valley; minimum 0 at (1, 1)."""
    return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2


def beale(x, y):
    """(1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²: minimum 0 at (3, 0.5)."""
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2 + (2.625 - x + x * y ** 3) ** 2


def saddle(x, y):
    """x² − y²: a saddle point at (0, 0), unbounded below along y."""
    return x ** 2 - y ** 2


# name -> (function, start, minimum or None, plot box (xmin, xmax, ymin, ymax), log-spaced contours)
SURFACES = {
    "rosenbrock": (rosenbrock, (-1.5, 2.0), (1.0, 1.0), (-2.0, 2.0, -1.0, 3.0), True),
    "beale": (beale, (1.0, 1.5), (3.0, 0.5), (-1.0, 4.5, -1.5, 2.0), True),
    "saddle": (saddle, (1.0, 1e-3), None, (-1.5, 1.5, -1.5, 1.5), False),
}


def parse_args(argv=None):
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=5, help="MNIST epochs per optimizer")
    p.add_argument("--steps", type=int, default=200, help="optimizer steps on each surface")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", default=default_data_dir(),
                   help="folder holding mnist/ (default: $AUTOGRAD_DATA, else ../shared/data if present)")
    p.add_argument("--out", default="runs/optimizers", help="folder for the figures")
    p.add_argument("--skip-mnist", action="store_true", help="only the paths")
    p.add_argument("--limit", type=int, default=None, help="use only this many training images (smoke tests)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p.parse_args(argv)


def default_data_dir():
    """$AUTOGRAD_DATA, else the shared data folder beside the repository when it exists, else None."""
    env = os.environ.get("AUTOGRAD_DATA")
    if env:
        return env
    shared = os.path.join(ROOT, "..", "shared", "data")
    return os.path.normpath(shared) if os.path.isdir(shared) else None


def make_optimizer(name, params, lr):
    """The optimizer called name in OPTIMIZERS, with learning rate lr."""
    cls, options = OPTIMIZERS[name]
    return cls(params, lr=lr, **options)


# ---- part 1: paths on 2-D surfaces ----------------------------------------------------------

def run_path(f, start, opt_name, lr, steps, box):
    """Optimise the point p = (x, y), a plain tensor, on f; the (k + 1, 2) array of visited points.

    Stops early when the point leaves box.
    """
    p = ag.tensor(start, dtype=ag.float64, requires_grad=True)
    opt = make_optimizer(opt_name, [p], lr)
    path = [p.detach().numpy().copy()]
    for _ in range(steps):
        opt.zero_grad()
        loss = f(p[0], p[1])
        loss.backward()
        opt.step()
        x, y = p.detach().numpy()
        path.append(np.array([x, y]))
        if not _inside((x, y), box):  # also stops at a NaN, which is kept for the caller to see
            break
    return np.array(path)


def _inside(point, box):
    """Whether point (x, y) lies in box (xmin, xmax, ymin, ymax)."""
    return box[0] <= point[0] <= box[1] and box[2] <= point[1] <= box[3]


def compare_paths(steps, quiet=False):
    """{surface: {optimizer: path array}} for every surface and optimizer."""
    jobs = [(s, o) for s in SURFACES for o in OPTIMIZERS]
    paths = {s: {} for s in SURFACES}
    for surface, opt_name in progress(jobs, "paths", quiet, total=len(jobs)):
        f, start, _, box, _ = SURFACES[surface]
        paths[surface][opt_name] = run_path(f, start, opt_name, PATH_LR[surface][opt_name], steps, box)
    return paths


def value_at(surface, point):
    """The surface's value at a point, as a Python float (NumPy, no graph)."""
    return float(SURFACES[surface][0](float(point[0]), float(point[1])))


def plot_paths(paths, path):
    """One contour plot per surface with every optimizer's path (skipped without matplotlib)."""
    plt = pyplot()
    if plt is None:
        return None
    from matplotlib.colors import LogNorm
    fig, axes = plt.subplots(1, len(SURFACES), figsize=(5.2 * len(SURFACES), 4.6))
    colors = dict(zip(OPTIMIZERS, plt.rcParams["axes.prop_cycle"].by_key()["color"]))
    for ax, (surface, (f, start, minimum, box, log_levels)) in zip(axes, SURFACES.items()):
        xmin, xmax, ymin, ymax = box
        X, Y = np.meshgrid(np.linspace(xmin, xmax, 300), np.linspace(ymin, ymax, 300))
        Z = f(X, Y)
        if log_levels:
            levels = np.logspace(-2, math.log10(Z.max()), 22)
            ax.contourf(X, Y, Z, levels=levels, norm=LogNorm(), cmap="Greys_r", alpha=0.35, extend="min")
            ax.contour(X, Y, Z, levels=levels, norm=LogNorm(), colors="grey", linewidths=0.4)
        else:
            levels = np.linspace(Z.min(), Z.max(), 21)
            ax.contourf(X, Y, Z, levels=levels, cmap="Greys_r", alpha=0.35)
            ax.contour(X, Y, Z, levels=levels, colors="grey", linewidths=0.4)
        for z, (name, pts) in enumerate(paths[surface].items()):
            # why: dots at every step show the step sizes; the first optimizers are drawn on top
            ax.plot(pts[:, 0], pts[:, 1], ".-", color=colors[name], lw=1.2, ms=2.5, zorder=10 - z,
                    label=f"{name} (lr {PATH_LR[surface][name]:g})")
            ax.plot(pts[-1, 0], pts[-1, 1], "o", color=colors[name], ms=5, mec="k", mew=0.5, zorder=20)
        ax.plot(*start, "ks", ms=6, zorder=21, label="start")
        if minimum is not None:
            ax.plot(*minimum, "r*", ms=14, zorder=21, label="minimum")
        else:
            ax.plot(0, 0, "rx", ms=10, mew=2, zorder=21, label="saddle point")
        ax.set(xlim=(xmin, xmax), ylim=(ymin, ymax), xlabel="x", ylabel="y", title=f.__doc__.split(":")[0])
        ax.legend(fontsize=7, loc="lower right" if surface != "saddle" else "lower left")
    _save(fig, path)
    return path


# ---- part 2: MNIST training curves ----------------------------------------------------------

def make_mlp():
    """The course's MLP 784-256-128-10 with ReLU."""
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                         nn.Linear(128, 10))


@ag.no_grad()
def accuracy(model, x, y, batch_size=2000):
    """Fraction of x classified as y."""
    model.eval()
    correct = sum((model(x[i:i + batch_size]).argmax(dim=1) == y[i:i + batch_size]).sum().item()
                  for i in range(0, len(y), batch_size))
    model.train()
    return correct / len(y)


def train_mnist(opt_name, data, epochs, batch_size, seed, quiet=False):
    """Train a fresh MLP with one optimizer; its history.

    'train_loss' and 'test_acc': one value per epoch; 'curve_epoch', 'curve_loss': the training
    loss averaged over each ~tenth of an epoch, at fractional epochs (for the figure).
    """
    (train_x, train_y), (test_x, test_y) = data
    ag.manual_seed(seed)  # why: the same initial weights for every optimizer
    model = make_mlp()
    opt = make_optimizer(opt_name, model.parameters(), MNIST_LR[opt_name])
    # why: drop_last: 5,000 images leave a last batch of 8 whose gradient is ~3x a full batch's;
    # at SGD's lr 0.1 that one step can cost 20 points of test accuracy right at the epoch's end
    loader = DataLoader(TensorDataset(train_x, train_y), batch_size=batch_size, shuffle=True,
                        drop_last=len(train_y) > batch_size,
                        generator=ag.Generator().manual_seed(seed))  # the same batches for every optimizer
    history = {"train_loss": [], "test_acc": [], "curve_epoch": [], "curve_loss": []}
    chunk = max(1, len(loader) // 10)  # the figure's finer loss curve: mean over each ~tenth of an epoch
    for epoch in range(1, epochs + 1):
        seen, loss_sum, chunk_losses = 0, 0.0, []
        for i, (xb, yb) in enumerate(progress(loader, f"{opt_name} epoch {epoch}/{epochs}", quiet, total=len(loader))):
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            value = loss.item()
            seen += len(yb)
            loss_sum += value * len(yb)
            chunk_losses.append(value)
            if len(chunk_losses) == chunk or i == len(loader) - 1:
                history["curve_epoch"].append(epoch - 1 + (i + 1) / len(loader))
                history["curve_loss"].append(sum(chunk_losses) / len(chunk_losses))
                chunk_losses = []
        history["train_loss"].append(loss_sum / seen)
        history["test_acc"].append(accuracy(model, test_x, test_y))
    return history


def plot_mnist(histories, path):
    """Training loss and test accuracy per epoch, one line per optimizer (skipped without matplotlib)."""
    plt = pyplot()
    if plt is None:
        return None
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    for name, h in histories.items():
        epochs = np.arange(1, len(h["train_loss"]) + 1)
        label = f"{name} (lr {MNIST_LR[name]:g})"
        line, = ax1.plot(epochs - 0.5, h["train_loss"], "o-", ms=4, lw=1.6, label=label)
        ax1.plot(h["curve_epoch"], h["curve_loss"], "-", lw=0.7, alpha=0.35, color=line.get_color())
        ax2.plot(epochs, h["test_acc"], "o-", ms=4, label=label)
    ax1.set(xlabel="epoch", ylabel="cross-entropy", yscale="log",
            title="training loss (dots: epoch mean; faint: each tenth)")
    ax2.set(xlabel="epoch", ylabel="accuracy", title="test accuracy after each epoch")
    for ax in (ax1, ax2):
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    _save(fig, path)
    return path


def _save(fig, path):
    """Write fig as a PNG with a 256-colour palette (a third of the RGBA size: small enough for the docs)."""
    import matplotlib.pyplot as plt
    from PIL import Image  # a dependency of matplotlib

    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    with Image.open(path) as im:
        small = im.convert("RGB").quantize(256)
    small.save(path, optimize=True)


# ---- the run --------------------------------------------------------------------------------

def print_table(result):
    """The key numbers: final value per surface (start value in the header) and MNIST test accuracy."""
    surfaces = list(SURFACES)
    head = f"{'optimizer':<10}" + "".join(f"{s + ' f(end)':>18}" for s in surfaces)
    if result["test_acc"]:
        head += f"{'MNIST test acc':>16}"
    print(head)
    print(f"{'(start)':<10}" + "".join(f"{result['start_values'][s]:>18.4g}" for s in surfaces))
    for name in OPTIMIZERS:
        row = f"{name:<10}"
        for s in surfaces:
            left = result["left_box_at"][s][name]
            row += (f"{result['final_values'][s][name]:.4g}" + (f" [{left}]" if left else "")).rjust(18)
        if result["test_acc"]:
            row += f"{result['test_acc'][name]:>16.4f}"
        print(row)
    if any(k for ks in result["left_box_at"].values() for k in ks.values()):
        print("[k]: the path left the plotted box at step k (and stopped there)")


def main(argv=None):
    """Run both comparisons, save the figures, print the table; return the numbers as a dict.

    Keys: 'start_values' {surface: f(start)}, 'final_values' {surface: {optimizer: f(end)}},
    'left_box_at' {surface: {optimizer: step or None}}, 'paths' {surface: {optimizer: (k + 1, 2)
    array}}, 'mnist' {optimizer: history (train_mnist)} and 'test_acc' {optimizer: final test
    accuracy} (both empty with --skip-mnist), 'figures' [the files written].
    """
    args = parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    paths = compare_paths(args.steps, args.quiet)
    result = {
        "start_values": {s: value_at(s, SURFACES[s][1]) for s in SURFACES},
        "final_values": {s: {o: value_at(s, p[-1]) for o, p in ps.items()} for s, ps in paths.items()},
        "left_box_at": {s: {o: len(p) - 1 if not _inside(p[-1], SURFACES[s][3]) else None for o, p in ps.items()}
                        for s, ps in paths.items()},
        "paths": paths, "mnist": {}, "test_acc": {}, "figures": [],
    }
    fig = plot_paths(paths, os.path.join(args.out, "paths.png"))
    result["figures"] += [fig] if fig else []
    if not args.skip_mnist:
        data = load_mnist(args.data_dir, args.limit, args.seed)
        for name in OPTIMIZERS:
            result["mnist"][name] = train_mnist(name, data, args.epochs, args.batch_size, args.seed, args.quiet)
            result["test_acc"][name] = result["mnist"][name]["test_acc"][-1]
        fig = plot_mnist(result["mnist"], os.path.join(args.out, "mnist_curves.png"))
        result["figures"] += [fig] if fig else []
    print_table(result)
    for fig in result["figures"]:
        print(f"wrote {fig}")
    return result


if __name__ == "__main__":
    main()
