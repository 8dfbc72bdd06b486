"""A TensorFlow-Playground-like bench: small MLPs on the classic 2-D data sets, with pictures.

    python examples/playground.py                                   # moons, 2 hidden layers of 8 tanh units
    python examples/playground.py --dataset circles --activation relu --width 4
    python examples/playground.py --dataset spirals --width 16 --depth 3 --epochs 300
    python examples/playground.py --dataset xor --activation linear  # a linear net cannot do XOR

The course points to the TensorFlow Playground (playground.tensorflow.org) to get a feel for what
depth, width, activation and learning rate do. This script is the same experiment in code: two
classes of points generated here (moons, circles, spirals, gauss: two Gaussian blobs, xor: the four
quadrants), split into training and test points (--test-fraction), standardised with statistics of
the training part (nn.training.Standardizer), and a network

    x (2) -> [Linear -> activation] x depth (width units each) -> Linear -> 2 class scores

trained with softmax cross-entropy on minibatches (Adam by default, --optimizer sgd for the plain
rule w <- w - lr * dE/dw; --weight-decay adds the L2 penalty). Prints the loss and accuracy every few
epochs and the final train/test accuracy; writes playground.png (the decision boundary, i.e. the
predicted P(class 1) over the plane with training points filled and test points hollow, and the
train/test loss curves) to --out.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import progress, pyplot, save_figure, say  # noqa: E402

import autograd_core as ag  # noqa: E402
import nn  # noqa: E402
import nn.functional as F  # noqa: E402
import optim  # noqa: E402
from nn.data import DataLoader, TensorDataset  # noqa: E402
from nn.training import Standardizer, accuracy, train_val_split  # noqa: E402

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "leaky_relu": nn.LeakyReLU,
               "elu": nn.ELU, "selu": nn.SELU, "gelu": nn.GELU, "silu": nn.SiLU, "softplus": nn.Softplus,
               "linear": nn.Identity}


# ---- the data sets: (X (N, 2) float32, y (N,) int64 in {0, 1}) ------------------------------------

def make_moons(n, noise, rng):
    """Two interleaving half circles (sklearn's make_moons)."""
    n0 = n // 2
    a, b = rng.uniform(0, np.pi, n0), rng.uniform(0, np.pi, n - n0)
    X = np.concatenate([np.stack([np.cos(a), np.sin(a)], 1), np.stack([1 - np.cos(b), 0.5 - np.sin(b)], 1)])
    y = np.concatenate([np.zeros(n0), np.ones(n - n0)])
    return X + rng.normal(0, noise, X.shape), y


def make_circles(n, noise, rng):
    """A disc of class 1 inside a ring of class 0 (radius 0.5 inside 1.0)."""
    n0 = n // 2
    angle = rng.uniform(0, 2 * np.pi, n)
    r = np.concatenate([rng.uniform(0.7, 1.0, n0), rng.uniform(0.0, 0.5, n - n0)])
    X = np.stack([r * np.cos(angle), r * np.sin(angle)], 1)
    y = np.concatenate([np.zeros(n0), np.ones(n - n0)])
    return X + rng.normal(0, noise, X.shape), y


def make_spirals(n, noise, rng):
    """Two interleaved spiral arms, 1.75 turns each (the Playground's spiral)."""
    n0 = n // 2
    X, y = [], []
    for c, m in ((0, n0), (1, n - n0)):
        r = np.linspace(0.05, 1.0, m)
        t = 1.75 * 2 * np.pi * r + c * np.pi
        X.append(np.stack([r * np.sin(t), r * np.cos(t)], 1))
        y.append(np.full(m, c))
    X = np.concatenate(X)
    return X + rng.normal(0, noise, X.shape), np.concatenate(y)


def make_gauss(n, noise, rng):
    """Two Gaussian blobs around (-1, -1) and (1, 1) (std 0.5 + noise)."""
    n0 = n // 2
    std = 0.5 + noise
    X = np.concatenate([rng.normal(-1, std, (n0, 2)), rng.normal(1, std, (n - n0, 2))])
    return X, np.concatenate([np.zeros(n0), np.ones(n - n0)])


def make_xor(n, noise, rng):
    """Points in [-1, 1]^2 (kept 0.05 away from the axes), class 1 where x1 * x2 > 0: the four quadrants."""
    X = rng.uniform(-1, 1, (n, 2))
    X += np.sign(X) * 0.05
    y = (X[:, 0] * X[:, 1] > 0).astype(np.float64)
    return X + rng.normal(0, noise, X.shape), y


DATASETS = {"moons": (make_moons, 0.15), "circles": (make_circles, 0.08), "spirals": (make_spirals, 0.04),
            "gauss": (make_gauss, 0.1), "xor": (make_xor, 0.05)}


def make_dataset(name, n, noise, rng):
    """(X, y) of data set name with n points; noise None takes the data set's default."""
    fn, default_noise = DATASETS[name]
    X, y = fn(n, default_noise if noise is None else noise, rng)
    return X.astype(np.float32), y.astype(np.int64)


# ---- model and training ------------------------------------------------------------------------

def parse_args(argv=None):
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", choices=sorted(DATASETS), default="moons")
    p.add_argument("--activation", choices=sorted(ACTIVATIONS), default="tanh")
    p.add_argument("--width", type=int, default=8, help="units per hidden layer")
    p.add_argument("--depth", type=int, default=2, help="hidden layers (0: logistic regression)")
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--optimizer", choices=["adam", "sgd"], default="adam")
    p.add_argument("--weight-decay", type=float, default=0.0, help="L2 penalty (the Playground's regularization)")
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--points", type=int, default=400, help="points in all (training + test)")
    p.add_argument("--noise", type=float, default=None, help="std of the Gaussian noise (default: per data set)")
    p.add_argument("--test-fraction", type=float, default=0.3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", default=None, help="unused: the data are generated (accepted for uniformity)")
    p.add_argument("--out", default="runs/playground")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p.parse_args(argv)


def make_model(width, depth, activation):
    """2 -> [width, activation] * depth -> 2 class scores."""
    layers, n_in = [], 2
    for _ in range(depth):
        layers += [nn.Linear(n_in, width), ACTIVATIONS[activation]()]
        n_in = width
    layers.append(nn.Linear(n_in, 2))
    return nn.Sequential(*layers)


@ag.no_grad()
def evaluate(model, x, y):
    """(mean cross-entropy, accuracy) on tensors x, y."""
    logits = model(x)
    return F.cross_entropy(logits, y).item(), accuracy(logits, y)


def plot(model, scaler, X_tr, y_tr, X_te, y_te, history, title, path):
    """Decision boundary (P(class 1) over the plane) and loss curves (skipped without matplotlib)."""
    plt = pyplot()
    if plt is None:
        return None
    X_all = np.concatenate([X_tr, X_te])
    lo, hi = X_all.min(0) - 0.3, X_all.max(0) + 0.3
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 150), np.linspace(lo[1], hi[1], 150))
    grid = scaler.transform(np.stack([gx.ravel(), gy.ravel()], 1).astype(np.float32))
    with ag.no_grad():
        prob = F.softmax(model(ag.tensor(grid)), dim=1).numpy()[:, 1].reshape(gx.shape)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10.5, 4.3))
    cs = ax1.contourf(gx, gy, prob, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.75)
    ax1.contour(gx, gy, prob, levels=[0.5], colors="k", linewidths=1.5)
    fig.colorbar(cs, ax=ax1, label="P(class 1)")
    colors = np.array(["tab:blue", "tab:red"])
    ax1.scatter(X_tr[:, 0], X_tr[:, 1], c=colors[y_tr], edgecolors="w", linewidths=0.5, s=18, label="train")
    ax1.scatter(X_te[:, 0], X_te[:, 1], facecolors="none", edgecolors=colors[y_te], linewidths=1.2, s=22,
                label="test")
    ax1.set(aspect="equal", xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]), title=title)
    ax1.legend(loc="lower right", fontsize=8)
    epochs = range(1, len(history["train_loss"]) + 1)
    ax2.plot(epochs, history["train_loss"], label="train")
    ax2.plot(epochs, history["test_loss"], label="test")
    ax2.set(xlabel="epoch", ylabel="cross-entropy", yscale="log",
            title=f"loss (final accuracy: train {history['train_acc'][-1]:.3f}, test {history['test_acc'][-1]:.3f})")
    ax2.grid(alpha=0.3)
    ax2.legend()
    return save_figure(plt, fig, path, dpi=80)


def main(argv=None):
    """Train one configuration; returns a dict with the final accuracies, the history and the figure paths."""
    args = parse_args(argv)
    ag.manual_seed(args.seed)
    X, y = make_dataset(args.dataset, args.points, args.noise, np.random.default_rng(args.seed))
    X_tr, X_te, y_tr, y_te = train_val_split(X, y, val_fraction=args.test_fraction)
    scaler = Standardizer().fit(X_tr)
    x_tr, x_te = ag.tensor(scaler.transform(X_tr)), ag.tensor(scaler.transform(X_te))
    t_tr, t_te = ag.tensor(y_tr), ag.tensor(y_te)

    model = make_model(args.width, args.depth, args.activation)
    opt_cls = optim.Adam if args.optimizer == "adam" else optim.SGD
    opt = opt_cls(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    loader = DataLoader(TensorDataset(x_tr, t_tr), batch_size=args.batch_size, shuffle=True,
                        generator=ag.Generator().manual_seed(args.seed))
    n_params = sum(p.numel() for p in model.parameters())
    print(f"{args.dataset}: {len(y_tr)} training and {len(y_te)} test points; 2-"
          + "-".join([str(args.width)] * args.depth + ["2"]) + f" {args.activation} network ({n_params} parameters)")

    history = {"train_loss": [], "test_loss": [], "train_acc": [], "test_acc": []}
    log_every = max(1, args.epochs // 5)
    bar = progress(range(1, args.epochs + 1), args.dataset, args.quiet)
    for epoch in bar:
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
        for key, value in zip(("train_loss", "train_acc", "test_loss", "test_acc"),
                              evaluate(model, x_tr, t_tr) + evaluate(model, x_te, t_te)):
            history[key].append(value)
        if hasattr(bar, "set_postfix"):
            bar.set_postfix(loss=f"{history['train_loss'][-1]:.3f}", test_acc=f"{history['test_acc'][-1]:.3f}")
        if epoch % log_every == 0 or epoch == args.epochs:
            say(f"epoch {epoch:4d}  train loss {history['train_loss'][-1]:.4f}  acc {history['train_acc'][-1]:.3f}"
                f"  |  test loss {history['test_loss'][-1]:.4f}  acc {history['test_acc'][-1]:.3f}")

    train_acc, test_acc = history["train_acc"][-1], history["test_acc"][-1]
    print(f"final accuracy: train {train_acc:.3f}, test {test_acc:.3f}")
    os.makedirs(args.out, exist_ok=True)
    title = f"{args.dataset}: {args.depth} x {args.width} {args.activation}"
    fig = plot(model, scaler, X_tr, y_tr, X_te, y_te, history, title,
               os.path.join(args.out, f"playground_{args.dataset}.png"))
    return {"train_acc": train_acc, "test_acc": test_acc, "history": history, "figures": [fig] if fig else []}


if __name__ == "__main__":
    main()
