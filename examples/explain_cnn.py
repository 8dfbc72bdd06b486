"""Explaining the MNIST CNN: saliency, SmoothGrad, GradCAM, occlusion, LIME and maximising input (nn.explain).

    python examples/explain_cnn.py --data-dir ../shared/data            # trains the CNN for 2 epochs first
    python examples/explain_cnn.py --checkpoint runs/mnist_cnn/checkpoint.ag   # or explains a trained one

The model is examples/mnist_cnn.py's network. Writes to --out: `explanations.png` (a few test digits,
one row each: the digit, then each method's heat map over it), `maximizing_inputs.png` (for each
class, the input that maximises its logit) and `metrics.json`. Needs matplotlib for the figures.
"""
import argparse
import importlib.util
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

import autograd_core as ag  # noqa: E402
from common import load_mnist, pyplot, save_figure  # noqa: E402
from nn import explain  # noqa: E402


def load_mnist_cnn():
    """examples/mnist_cnn.py as a module (examples/ is not a package): its model, data and training."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mnist_cnn.py")
    spec = importlib.util.spec_from_file_location("mnist_cnn", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def parse_args(argv=None):
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=2, help="training epochs when no --checkpoint is given")
    p.add_argument("--checkpoint", default=None, help="a checkpoint.ag written by mnist_cnn.py (skips training)")
    p.add_argument("--digits", type=int, default=4, help="how many test digits to explain")
    p.add_argument("--lime-samples", type=int, default=500)
    p.add_argument("--smoothgrad-samples", type=int, default=25)
    p.add_argument("--max-steps", type=int, default=200, help="gradient ascent steps for maximising input")
    p.add_argument("--l2", type=float, default=1e-3, help="the L2 penalty λ for maximising input")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", default=None, help="folder holding mnist/ (else $AUTOGRAD_DATA or download)")
    p.add_argument("--out", default="runs/explain_cnn")
    p.add_argument("--limit", type=int, default=None, help="use only this many training images (smoke tests)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p.parse_args(argv)


def get_model(args, cnn):
    """The trained CNN and the standardised test set: from --checkpoint, or trained here for --epochs."""
    if args.checkpoint:
        model = cnn.make_model()
        model.load_state_dict(ag.load(args.checkpoint)["model"])
        _, (test_x, test_y) = load_mnist(args.data_dir, args.limit)
        return model, test_x, test_y
    train_args = cnn.parse_args(["--epochs", str(args.epochs), "--seed", str(args.seed),
                                 "--out", os.path.join(args.out, "cnn")]
                                + (["--data-dir", args.data_dir] if args.data_dir else [])
                                + (["--limit", str(args.limit)] if args.limit else [])
                                + (["--quiet"] if args.quiet else []))
    model, _, (test_x, test_y) = cnn.train(train_args)
    return model, test_x, test_y


def explain_digits(model, x, target, args):
    """{method name: (N, 28, 28) heat map} for the digits x (N, 1, 28, 28) and their classes."""
    gen = ag.Generator().manual_seed(args.seed)
    maps, seconds = {}, {}
    methods = [
        ("saliency", lambda: explain.saliency(model, x, target)),
        ("SmoothGrad", lambda: explain.smoothgrad(model, x, target, n=args.smoothgrad_samples, generator=gen)),
        ("GradCAM", lambda: explain.gradcam(model, x, target, model[4])),     # the second conv's ReLU
        ("occlusion", lambda: explain.occlusion(model, x, target, patch=6, stride=2,
                                                baseline=float(x.numpy().min()))),
        ("LIME", lambda: explain.lime(model, x, target, n_samples=args.lime_samples, n_segments=16,
                                      segmentation="slic", generator=gen)),
    ]
    for name, fn in methods:
        t0 = time.perf_counter()
        maps[name] = fn()
        seconds[name] = time.perf_counter() - t0
        print(f"{name:10s} {seconds[name]:.2f} s")
    return maps, seconds


def plot_explanations(images, labels, preds, maps, path):
    """One row per digit: the digit, then each method's map overlaid on it."""
    plt = pyplot()
    if plt is None:
        return None
    names = list(maps)
    fig, axes = plt.subplots(len(images), len(names) + 1, figsize=(1.7 * (len(names) + 1), 1.8 * len(images)),
                             squeeze=False)
    for i, img in enumerate(images):
        axes[i, 0].imshow(img, cmap="gray")
        axes[i, 0].set_title(f"label {labels[i]}, pred {preds[i]}", fontsize=8)
        for j, name in enumerate(names):
            m = maps[name][i]
            ax = axes[i, j + 1]
            ax.imshow(img, cmap="gray")
            if name in ("LIME", "occlusion"):       # signed: red for the class, blue against
                v = np.abs(m).max() or 1.0
                ax.imshow(m, cmap="bwr", vmin=-v, vmax=v, alpha=0.6)
            else:
                ax.imshow(m, cmap="jet", alpha=0.5)
            if i == 0:
                ax.set_title(name, fontsize=9)
    for ax in axes.ravel():
        ax.axis("off")
    return save_figure(plt, fig, path, dpi=80)


def plot_maximizing(inputs, logits, path):
    """The input that maximises each class's logit, one panel per class."""
    plt = pyplot()
    if plt is None:
        return None
    fig, axes = plt.subplots(1, len(inputs), figsize=(1.3 * len(inputs), 1.6))
    for k, ax in enumerate(axes):
        ax.imshow(inputs[k, 0], cmap="gray")
        ax.set_title(f"{k} ({logits[k]:.0f})", fontsize=8)
        ax.axis("off")
    return save_figure(plt, fig, path, dpi=80)


def main(argv=None):
    """Train or load the CNN, explain a few test digits, maximise each class; return a dict of results."""
    args = parse_args(argv)
    ag.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    cnn = load_mnist_cnn()
    model, test_x, test_y = get_model(args, cnn)
    model.eval()
    # one digit of each of the first classes, so that the rows differ
    ys = test_y.numpy()
    idx = [int(np.flatnonzero(ys == c)[0]) for c in range(min(args.digits, 10))]
    x = test_x[ag.tensor(np.array(idx))]
    labels = ys[idx]
    with ag.no_grad():
        preds = model(x).argmax(dim=1).numpy()
    maps, seconds = explain_digits(model, x, preds, args)

    t0 = time.perf_counter()
    best = explain.maximize_input(model, np.arange(10), (10, 1, 28, 28), steps=args.max_steps, lr=0.1, l2=args.l2,
                                  generator=ag.Generator().manual_seed(args.seed))
    seconds["maximize_input"] = time.perf_counter() - t0
    with ag.no_grad():
        best_logits = model(best).numpy()
    own = best_logits[np.arange(10), np.arange(10)]
    print(f"maximising input: {seconds['maximize_input']:.2f} s, class logits {[round(float(v), 1) for v in own]}")

    images = x.numpy()[:, 0]
    figures = [plot_explanations(images, labels, preds, maps, os.path.join(args.out, "explanations.png")),
               plot_maximizing(best.numpy(), own, os.path.join(args.out, "maximizing_inputs.png"))]
    result = {"labels": labels.tolist(), "preds": preds.tolist(), "seconds": seconds,
              "max_input_logits": own.tolist(),
              "max_input_argmax": best_logits.argmax(axis=1).tolist()}
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump(result, f, indent=1)
    result["maps"] = maps
    result["figures"] = [f for f in figures if f]
    return result


if __name__ == "__main__":
    main()
