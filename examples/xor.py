"""XOR with a two-layer network: what a single perceptron cannot do, one hidden layer can.

    python examples/xor.py                                   # 2-4-1, tanh, BCE, Adam: learns XOR in < 1 s
    python examples/xor.py --hidden 2 --activation sigmoid --loss mse --optimizer sgd --lr 2 --epochs 3000 --seed 2

The network is x (2) -> Linear -> tanh or sigmoid (--hidden units) -> Linear -> sigmoid -> y (1),
trained full-batch on the four points of the truth table with binary cross-entropy
E = -sum_k d_k log y_k + (1 - d_k) log(1 - y_k) (PyTorch's mean over the 4 points; the course's BCE
sums) or the course's squared error E = 1/2 (y - d)^2 (--loss mse). With BCE the output layer is fused
into BCEWithLogitsLoss for stability. A 2-2-1 net is the smallest that can do it, but from most starts it
stalls in a local minimum (loss stuck near ln(2)/2 = 0.347; with tanh, BCE and Adam, 6 of
seeds 0-19 learn XOR in 1000 steps); 2-4-1 learned it from all 20.

Before training it checks the course's hand-made step network (COURSE.md §1.3): h1 = step(-1 + 2x1 + 2x2)
(OR), h2 = step(3 - 2x1 - 2x2) (NAND), y = step(h1 + h2 - 2) (AND), which computes XOR exactly.
Prints the truth table with the trained net's outputs; writes xor.png (the decision boundary, i.e.
the output over the plane with the 0.5 contour, and the loss curve) to --out.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import progress, pyplot, save_figure  # noqa: E402

import autograd_core as ag  # noqa: E402
import nn  # noqa: E402
import nn.functional as F  # noqa: E402
import optim  # noqa: E402

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
T = np.array([0, 1, 1, 0], dtype=np.float32)


def parse_args(argv=None):
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=500, help="full-batch steps")
    p.add_argument("--hidden", type=int, default=4, help="hidden units (2 is the minimum that can work)")
    p.add_argument("--activation", choices=["tanh", "sigmoid"], default="tanh")
    p.add_argument("--loss", choices=["bce", "mse"], default="bce", help="mse is the course's 1/2 (y - d)^2")
    p.add_argument("--optimizer", choices=["adam", "sgd"], default="adam")
    p.add_argument("--lr", type=float, default=None, help="learning rate (default 0.05 for Adam, 1.0 for SGD)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", default=None, help="unused: XOR is four points (accepted for uniformity)")
    p.add_argument("--out", default="runs/xor")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p.parse_args(argv)


def step_network():
    """The course's XOR step network (§1.3) as nn layers: 2 -> 2 step units (OR, NAND) -> 1 step unit (AND)."""
    net = nn.Sequential(nn.Linear(2, 2), nn.Step(), nn.Linear(2, 1), nn.Step())
    with ag.no_grad():
        net[0].weight.copy_(ag.tensor([[2.0, 2.0], [-2.0, -2.0]]))
        net[0].bias.copy_(ag.tensor([-1.0, 3.0]))
        net[2].weight.copy_(ag.tensor([[1.0, 1.0]]))
        net[2].bias.copy_(ag.tensor([-2.0]))
    return net


def make_model(hidden, activation):
    """2 -> hidden -> 1; the output is a logit (apply sigmoid for y)."""
    act = nn.Tanh() if activation == "tanh" else nn.Sigmoid()
    return nn.Sequential(nn.Linear(2, hidden), act, nn.Linear(hidden, 1))


def loss_fn(logits, target, kind):
    """BCE on the logit (fused, stable), or the course's 1/2 (sigmoid(logit) - d)^2 averaged over the points."""
    if kind == "bce":
        return F.binary_cross_entropy_with_logits(logits, target)
    return 0.5 * F.mse_loss(logits.sigmoid(), target)


def plot(model, losses, path):
    """The output y over the plane with the 0.5 contour, and the loss curve (skipped without matplotlib)."""
    plt = pyplot()
    if plt is None:
        return None
    gx, gy = np.meshgrid(np.linspace(-0.5, 1.5, 161), np.linspace(-0.5, 1.5, 161))
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)
    with ag.no_grad():
        out = model(ag.tensor(grid)).sigmoid().numpy().reshape(gx.shape)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4.2))
    cs = ax1.contourf(gx, gy, out, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.8)
    ax1.contour(gx, gy, out, levels=[0.5], colors="k", linewidths=2)
    fig.colorbar(cs, ax=ax1, label="network output y")
    ax1.scatter(*X[T == 0].T, c="tab:blue", edgecolors="k", s=80, label="XOR = 0")
    ax1.scatter(*X[T == 1].T, c="tab:red", edgecolors="k", s=80, label="XOR = 1")
    ax1.set(aspect="equal", xlabel="$x_1$", ylabel="$x_2$", title="decision boundary y = 0.5 (red dots: XOR = 1)")
    ax2.plot(range(1, len(losses) + 1), losses)
    ax2.set(xlabel="step", ylabel="loss", yscale="log", title="training loss")
    ax2.grid(alpha=0.3)
    return save_figure(plt, fig, path, dpi=80)


def main(argv=None):
    """Train on XOR; returns a dict with the outputs on the four points, the losses and the figure paths."""
    args = parse_args(argv)
    lr = args.lr if args.lr is not None else (0.05 if args.optimizer == "adam" else 1.0)
    ag.manual_seed(args.seed)

    with ag.no_grad():
        step_out = step_network()(ag.tensor(X)).numpy()[:, 0]
    table = " ".join(f"{a:g}{b:g}->{y:g}" for (a, b), y in zip(X, step_out))
    print(f"the course's step network (OR, NAND -> AND): {table}")

    model = make_model(args.hidden, args.activation)
    print(model)
    opt = optim.Adam(model.parameters(), lr=lr) if args.optimizer == "adam" else optim.SGD(model.parameters(), lr=lr)
    x, t = ag.tensor(X), ag.tensor(T).unsqueeze(1)     # (4, 2), (4, 1)
    losses = []
    bar = progress(range(args.epochs), "xor", args.quiet)
    for i in bar:
        loss = loss_fn(model(x), t, args.loss)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if hasattr(bar, "set_postfix") and i % 50 == 0:
            bar.set_postfix(loss=f"{losses[-1]:.4f}")

    with ag.no_grad():
        y = model(x).sigmoid().numpy()[:, 0]
    print(f"loss {losses[0]:.4f} -> {losses[-1]:.4f} after {args.epochs} steps "
          f"({args.hidden} hidden {args.activation} units, {args.loss}, {args.optimizer} lr {lr:g})")
    print(" x1  x2 | XOR | output")
    for (a, b), d, out in zip(X, T, y):
        print(f" {a:2.0f}  {b:2.0f} | {d:3.0f} | {out:.4f}")
    correct = bool(np.all(np.abs(y - T) < 0.5))
    print("all four rows right" if correct else "not learned yet: try more --epochs, another --seed or --hidden 4")

    os.makedirs(args.out, exist_ok=True)
    fig = plot(model, losses, os.path.join(args.out, "xor.png"))
    return {"outputs": y, "targets": T.copy(), "correct": correct, "losses": losses,
            "step_network_outputs": step_out, "figures": [fig] if fig else []}


if __name__ == "__main__":
    main()
