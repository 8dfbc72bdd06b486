"""The perceptron learning rule: it separates linearly separable 2-D points, and it cannot learn XOR.

    python examples/perceptron.py                      # 100 separable points, then the 4 XOR points
    python examples/perceptron.py --points 400 --margin 0.02 --epochs 50

A single threshold unit y = step(w.x + b) (nn.Linear(2, 1) followed by the course's nn.Step, which
is 1 where w.x + b >= 0, else 0), started at w = 0, b = 0 like the course's single-layer pseudocode,
trained with Rosenblatt's rule, one point at a time in a shuffled order each epoch:

    y = step(w.x + b);   if y != t:   w += lr * (t - y) * x,   b += lr * (t - y)

i.e. a misclassified point turns the line towards itself. The course (COURSE.md §1.1) describes this
rule only informally ("whenever an incorrectly classified point is considered, the learning algorithm
turns the line in the direction of the point") and otherwise trains perceptrons by minimising
J(w, b) = 1/M sum_k 1/2 (t_k - y)^2. With a step activation that loss has zero gradient almost
everywhere; the update above is what gradient descent on 1/2 (t - y)^2 gives when the step's
derivative is replaced by 1, which is why the course moves on to sigmoid units.

On separable data the rule stops after finitely many updates (Novikoff: at most (R / gamma)^2 of
them, R the largest |x|, gamma the margin); an epoch without errors means the line separates every
point. XOR is not linearly separable ("no line separates ones from zeros"), so every epoch has at
least one error and the weights cycle for ever. Prints the errors of each epoch; writes
perceptron.png (both data sets with the perceptron's line, and the errors per epoch) to --out.
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

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
XOR_T = np.array([0, 1, 1, 0], dtype=np.float32)


def parse_args(argv=None):
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=20, help="passes over the data (XOR always uses them all)")
    p.add_argument("--points", type=int, default=100, help="number of separable points")
    p.add_argument("--margin", type=float, default=0.05,
                   help="no separable point lies closer than this to the true line")
    p.add_argument("--lr", type=float, default=1.0, help="learning rate of the perceptron rule")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", default=None, help="unused: the data are generated (accepted for uniformity)")
    p.add_argument("--out", default="runs/perceptron")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p.parse_args(argv)


def make_separable(n, margin, rng):
    """n points uniform in [-1, 1]^2, labelled 1 on one side of a random line, none within margin of it."""
    angle = rng.uniform(0, 2 * np.pi)
    normal = np.array([np.cos(angle), np.sin(angle)])
    offset = rng.uniform(-0.3, 0.3)
    X = np.empty((0, 2))
    while len(X) < n:
        cand = rng.uniform(-1, 1, size=(4 * n, 2))
        dist = cand @ normal + offset                     # signed distance to the line (|normal| = 1)
        X = np.concatenate([X, cand[np.abs(dist) >= margin]])
    X = X[:n]
    t = (X @ normal + offset >= 0).astype(np.float32)
    return X.astype(np.float32), t


def train_perceptron(X, t, epochs, lr, name, quiet=False, stop_when_done=True):
    """Rosenblatt's rule on (X (N, 2), t (N,) in {0, 1}); returns (model, errors per epoch, lines per epoch).

    errors[e] counts the points misclassified when they were visited in epoch e (= updates made).
    """
    model = nn.Sequential(nn.Linear(2, 1), nn.Step())     # y = step(w.x + b), step(0) = 1
    lin = model[0]
    nn.init.zeros_(lin.weight)
    nn.init.zeros_(lin.bias)
    Xt, tt = ag.tensor(X), ag.tensor(t)
    errors, lines = [], []
    for epoch in progress(range(1, epochs + 1), f"perceptron on {name}", quiet):
        wrong = 0
        for i in ag.randperm(len(t)).tolist():
            x = Xt[i]                                     # (2,)
            y = model(x.unsqueeze(0))[0, 0]               # 0 or 1 (the step passes no gradient)
            delta = (tt[i] - y).item()                    # t - y in {-1, 0, 1}
            if delta != 0:
                wrong += 1
                with ag.no_grad():
                    lin.weight += lr * delta * x.unsqueeze(0)
                    lin.bias += lr * delta
        errors.append(wrong)
        lines.append((lin.weight.detach().numpy()[0].copy(), float(lin.bias.item())))
        w, b = lines[-1]
        say(f"{name:9s} epoch {epoch:3d}  errors {wrong:3d}  w = ({w[0]:+.3f}, {w[1]:+.3f})  b = {b:+.3f}")
        if wrong == 0 and stop_when_done:
            break
    return model, errors, lines


@ag.no_grad()
def count_errors(model, X, t):
    """Points the perceptron misclassifies now."""
    return int((model(ag.tensor(X)).numpy()[:, 0] != t).sum())


def plot(sep, xor, path):
    """Both data sets with the final line, and the errors per epoch (skipped without matplotlib)."""
    plt = pyplot()
    if plt is None:
        return None
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
    for ax, (X, t, lines, title, _) in zip(axes[:2], (sep, xor)):
        lo, hi = X.min() - 0.3, X.max() + 0.3
        xs = np.linspace(lo, hi, 2)
        w, b = lines[-1]
        gx, gy = np.meshgrid(np.linspace(lo, hi, 200), np.linspace(lo, hi, 200))
        region = (gx * w[0] + gy * w[1] + b >= 0).astype(float)     # the final perceptron's output
        ax.contourf(gx, gy, region, levels=[-0.5, 0.5, 1.5], colors=["#c6dbef", "#fdd0a2"], zorder=0)
        for k, (w, b) in enumerate(lines):
            last = k == len(lines) - 1
            if abs(w[1]) > 1e-9:                          # w0 x + w1 y + b = 0
                ax.plot(xs, -(w[0] * xs + b) / w[1], color="k" if last else "0.75",
                        lw=2 if last else 0.8, zorder=3 if last else 1)
            elif abs(w[0]) > 1e-9:
                ax.axvline(-b / w[0], color="k" if last else "0.75", lw=2 if last else 0.8)
        ax.scatter(*X[t == 0].T, c="tab:blue", edgecolors="k", label="t = 0", zorder=4)
        ax.scatter(*X[t == 1].T, c="tab:orange", edgecolors="k", label="t = 1", zorder=4)
        ax.set(xlim=(lo, hi), ylim=(lo, hi), aspect="equal", title=title, xlabel="$x_1$", ylabel="$x_2$")
        ax.legend(loc="upper right", fontsize=8)
    ax = axes[2]
    ax.plot(range(1, len(sep[2]) + 1), sep[4], "o-", label="separable")
    ax.plot(range(1, len(xor[2]) + 1), xor[4], "s-", label="XOR")
    ax.set(xlabel="epoch", ylabel="errors in the epoch", title="errors per epoch")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend()
    return save_figure(plt, fig, path, dpi=80)


def main(argv=None):
    """Run both experiments; returns a dict of the errors per epoch and the final lines."""
    args = parse_args(argv)
    ag.manual_seed(args.seed)
    X, t = make_separable(args.points, args.margin, np.random.default_rng(args.seed))

    sep_model, sep_errors, sep_lines = train_perceptron(X, t, args.epochs, args.lr, "separable", args.quiet)
    sep_final = count_errors(sep_model, X, t)
    converged = sep_errors[-1] == 0
    print(f"separable: {'converged after ' + str(len(sep_errors)) + ' epochs' if converged else 'not converged'}, "
          f"{sum(sep_errors)} updates, {sep_final} of {len(t)} points misclassified at the end")

    xor_model, xor_errors, xor_lines = train_perceptron(XOR_X, XOR_T, args.epochs, args.lr, "XOR", args.quiet)
    xor_final = count_errors(xor_model, XOR_X, XOR_T)
    print(f"XOR: at least {min(xor_errors)} error(s) in every one of {len(xor_errors)} epochs, "
          f"{xor_final} of 4 points misclassified at the end: no line separates XOR")

    os.makedirs(args.out, exist_ok=True)
    fig = plot((X, t, sep_lines, "separable: the final line (grey: earlier epochs)", sep_errors),
               (XOR_X, XOR_T, xor_lines, "XOR: the line never settles (shading: final output)", xor_errors),
               os.path.join(args.out, "perceptron.png"))
    return {"separable_errors": sep_errors, "separable_converged": converged, "separable_final_errors": sep_final,
            "separable_line": sep_lines[-1], "xor_errors": xor_errors, "xor_final_errors": xor_final,
            "figures": [fig] if fig else []}


if __name__ == "__main__":
    main()
