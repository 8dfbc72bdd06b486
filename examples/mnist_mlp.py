"""MNIST with a multi-layer perceptron: the course's first real network, trained with Adam.

    python examples/mnist_mlp.py --data-dir ../shared/data        # 15 epochs, ~94.6% test accuracy
    python examples/mnist_mlp.py --resume                          # continue from the last checkpoint

The data: `--data-dir DIR` (reads DIR/mnist/), else $AUTOGRAD_DATA, else the official download.
Writes to --out: `checkpoint.ag` (ag.save: model, optimizer, epoch, history),
`metrics.json`, and `curves.png` (loss and accuracy per epoch; needs matplotlib).
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import autograd_core as ag  # noqa: E402
import nn  # noqa: E402
import optim  # noqa: E402
from common import fit, load_mnist, plot_curves  # noqa: E402


def parse_args(argv=None):
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--hidden", type=int, nargs="+", default=[256, 128], help="hidden layer widths")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", default=None, help="folder holding mnist/ (else $AUTOGRAD_DATA or download)")
    p.add_argument("--out", default="runs/mnist_mlp")
    p.add_argument("--resume", action="store_true", help="continue from --out/checkpoint.ag")
    p.add_argument("--limit", type=int, default=None, help="use only this many training images (smoke tests)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p.parse_args(argv)


def make_model(hidden):
    """784 -> hidden... -> 10 with ReLU between layers."""
    layers, width = [nn.Flatten()], 28 * 28
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    layers.append(nn.Linear(width, 10))
    return nn.Sequential(*layers)


def train(args):
    """Train, checkpoint every epoch, and return the history (a dict of per-epoch lists)."""
    ag.manual_seed(args.seed)
    train_xy, test_xy = load_mnist(args.data_dir, args.limit)
    model = make_model(args.hidden)
    opt = optim.Adam(model.parameters(), lr=args.lr)
    history = fit(model, opt, train_xy, test_xy, args)
    plot_curves(history, os.path.join(args.out, "curves.png"))
    return history


def main(argv=None):
    """Run the example; print the final test accuracy."""
    args = parse_args(argv)
    history = train(args)
    if history["test_acc"]:
        print(f"final test accuracy: {history['test_acc'][-1]:.4f}")
    return history


if __name__ == "__main__":
    main()
