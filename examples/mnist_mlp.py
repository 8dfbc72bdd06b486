"""MNIST with a multi-layer perceptron: the course's first real network, trained with Adam.

    python examples/mnist_mlp.py --data-dir ../shared/data        # 15 epochs, ~94.6% test accuracy
    python examples/mnist_mlp.py --resume                          # continue from the last checkpoint

The data: `--data-dir DIR` (reads DIR/mnist/), else $AUTOGRAD_DATA, else the official download.
Writes to --out: `checkpoint.ag` (ag.save: model, optimizer, epoch, history),
`metrics.json`, and `curves.png` (loss and accuracy per epoch; needs matplotlib).
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import autograd_core as ag  # noqa: E402
import nn  # noqa: E402
import nn.functional as F  # noqa: E402
import optim  # noqa: E402
from common import evaluate, load_mnist, plot_curves, progress  # noqa: E402
from nn.data import DataLoader, TensorDataset  # noqa: E402


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
    (train_x, train_y), (test_x, test_y) = load_mnist(args.data_dir, args.limit)
    model = make_model(args.hidden)
    opt = optim.Adam(model.parameters(), lr=args.lr)
    loader = DataLoader(TensorDataset(train_x, train_y), batch_size=args.batch_size, shuffle=True,
                        generator=ag.Generator().manual_seed(args.seed))
    os.makedirs(args.out, exist_ok=True)
    ckpt_path = os.path.join(args.out, "checkpoint.ag")
    history = {"epoch": [], "train_loss": [], "train_acc": [], "test_loss": [], "test_acc": [], "seconds": []}
    start_epoch = 0
    if args.resume:
        if not os.path.exists(ckpt_path):
            raise SystemExit(f"--resume: no checkpoint at {ckpt_path}")
        ckpt = ag.load(ckpt_path)
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        loader.generator.set_state(ckpt["loader_rng"])
        history, start_epoch = ckpt["history"], ckpt["epoch"]
        print(f"resumed from {ckpt_path} after epoch {start_epoch}")
    print(model)
    for epoch in range(start_epoch + 1, args.epochs + 1):
        t0 = time.perf_counter()
        seen, loss_sum, correct = 0, 0.0, 0
        for xb, yb in progress(loader, f"epoch {epoch}/{args.epochs}", args.quiet, total=len(loader)):
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            seen += len(yb)
            loss_sum += loss.item() * len(yb)
            correct += (logits.argmax(dim=1) == yb).sum().item()
        seconds = time.perf_counter() - t0
        test_loss, test_acc = evaluate(model, test_x, test_y)
        for key, value in (("epoch", epoch), ("train_loss", loss_sum / seen), ("train_acc", correct / seen),
                           ("test_loss", test_loss), ("test_acc", test_acc), ("seconds", seconds)):
            history[key].append(value)
        print(f"epoch {epoch:2d}  train loss {loss_sum / seen:.4f}  train acc {correct / seen:.4f}  "
              f"test loss {test_loss:.4f}  test acc {test_acc:.4f}  ({seconds:.1f} s)")
        ag.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": epoch,
                 "history": history, "loader_rng": loader.generator.get_state()}, ckpt_path)
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump(history, f, indent=1)
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
