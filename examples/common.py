"""What the example scripts share: progress bars, printing, matplotlib, and MNIST loading/evaluation.

The scripts import it as `common` (their own folder is on sys.path when run as `python examples/x.py`,
and each inserts it for the tests that load them by path).
"""
import json
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import autograd_core as ag  # noqa: E402
import nn.functional as F  # noqa: E402
from nn.data import MNIST, DataLoader, TensorDataset  # noqa: E402


def progress(iterable, desc=None, quiet=False, total=None):
    """A tqdm progress bar when tqdm is installed and wanted, else the plain iterable."""
    if quiet:
        return iterable
    try:
        from tqdm import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, total=total, desc=desc, leave=False)


def say(msg):
    """Print without breaking a tqdm bar."""
    try:
        from tqdm import tqdm
    except ImportError:
        print(msg)
        return
    tqdm.write(msg)


def pyplot():
    """matplotlib.pyplot with the file-only Agg backend, or None (with a note) when it is not installed."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no figures (pip install -e .[examples])")
        return None
    return plt


def save_figure(plt, fig, path, dpi=100):
    """Lay out, write and close a figure; print and return its path."""
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    print(f"wrote {path}")
    return path


def load_mnist(data_dir, limit=None, seed=0, scale="standardise"):
    """((train x, train y), (test x, test y)): images (N, 1, 28, 28) float32, labels int64.

    data_dir holds mnist/ (None: $AUTOGRAD_DATA or the official download). scale: "standardise"
    (default) -- one mean and standard deviation, fitted on the training images only, standardise
    both sets (the course's rule; the same as PyTorch's usual Normalize((0.1307,), (0.3081,)));
    "tanh" -- pixels mapped to [-1, 1], the range of a Tanh output (GANs); "unit" -- pixels in
    [0, 1]. limit: a random subset of that many training images (the files are sorted by digit, so
    a prefix would miss classes).
    """
    if scale not in ("standardise", "tanh", "unit"):
        raise ValueError(f"load_mnist: scale must be 'standardise', 'tanh' or 'unit', got {scale!r}")
    root = os.path.join(data_dir, "mnist") if data_dir else None
    train_x, train_y = MNIST(root=root, train=True).as_tensors()
    test_x, test_y = MNIST(root=root, train=False).as_tensors()
    if limit:
        keep = ag.randperm(len(train_y), generator=ag.Generator().manual_seed(seed))[:limit]
        train_x, train_y = train_x[keep], train_y[keep]
    if scale == "unit":
        return (train_x, train_y), (test_x, test_y)
    if scale == "tanh":
        return (train_x * 2 - 1, train_y), (test_x * 2 - 1, test_y)
    mean, std = train_x.mean().item(), train_x.std().item()
    return ((train_x - mean) / std, train_y), ((test_x - mean) / std, test_y)


@ag.no_grad()
def evaluate(model, x, y, batch_size=1000):
    """(mean cross-entropy, accuracy) of model on tensors x, y, in eval mode."""
    was_training = model.training
    model.eval()
    total_loss, correct = 0.0, 0
    for i in range(0, len(y), batch_size):
        logits = model(x[i:i + batch_size])
        target = y[i:i + batch_size]
        total_loss += F.cross_entropy(logits, target, reduction="sum").item()
        correct += (logits.argmax(dim=1) == target).sum().item()
    model.train(was_training)
    return total_loss / len(y), correct / len(y)


def plot_curves(history, path):
    """Loss and accuracy per epoch, train and test, as one figure (skipped without matplotlib)."""
    plt = pyplot()
    if plt is None:
        return None
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax1.plot(history["epoch"], history["train_loss"], label="train")
    ax1.plot(history["epoch"], history["test_loss"], label="test")
    ax1.set(xlabel="epoch", ylabel="cross-entropy", title="loss")
    ax2.plot(history["epoch"], history["train_acc"], label="train")
    ax2.plot(history["epoch"], history["test_acc"], label="test")
    ax2.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    for ax in (ax1, ax2):
        ax.legend()
        ax.grid(alpha=0.3)
    return save_figure(plt, fig, path)


def read_checkpoint(path):
    """The checkpoint at path (written with ag.save) for --resume; exits with a clear message if there is none."""
    if not os.path.exists(path):
        raise SystemExit(f"--resume: no checkpoint at {path}")
    return ag.load(path)


def random_shift(x, max_shift, generator, fill):
    """Each image of x (N, C, H, W) displaced by its own random (dy, dx), |dy|, |dx| <= max_shift pixels.

    The course's MNIST recipe "expands the dataset by 1-pixel displacement in any direction"; drawing a
    displacement per image and batch gives the same variety without storing 9 copies. Pixels moved in
    from outside take `fill` (the background). One padded copy and one strided gather, no loop.
    """
    if max_shift <= 0:
        return x
    a = x.numpy()
    n, c, h, w = a.shape
    s = int(max_shift)
    padded = np.full((n, c, h + 2 * s, w + 2 * s), fill, dtype=a.dtype)
    padded[:, :, s:s + h, s:s + w] = a
    windows = np.lib.stride_tricks.sliding_window_view(padded, (h, w), axis=(2, 3))  # (n, c, 2s+1, 2s+1, h, w)
    dy, dx = ag.randint(0, 2 * s + 1, (2, n), generator=generator).numpy()
    return ag.tensor(np.ascontiguousarray(windows[np.arange(n), :, dy, dx]))


def fit(model, opt, train, test, args, scheduler=None):
    """Train a classifier with cross-entropy, evaluating on `test` and checkpointing after every epoch.

    train, test: (x, y) tensor pairs. args: --epochs, --batch-size, --seed, --out, --resume, --quiet,
    and optionally --shift (random displacement of each training image by up to that many pixels, see
    `random_shift`). scheduler: a learning-rate scheduler stepped once per epoch, or None.
    The checkpoint (args.out/checkpoint.ag, written with ag.save) holds the model, the optimizer, the
    scheduler, the epoch, the history and the loader's random state, so --resume continues bit for bit.
    Returns the history: per-epoch lists of train/test loss and accuracy, learning rate and seconds.
    """
    (train_x, train_y), (test_x, test_y) = train, test
    loader = DataLoader(TensorDataset(train_x, train_y), batch_size=args.batch_size, shuffle=True,
                        generator=ag.Generator().manual_seed(args.seed))
    shift = getattr(args, "shift", 0)
    background = train_x.min().item()  # a blank pixel, whatever the scaling
    os.makedirs(args.out, exist_ok=True)
    ckpt_path = os.path.join(args.out, "checkpoint.ag")
    history = {"epoch": [], "train_loss": [], "train_acc": [], "test_loss": [], "test_acc": [], "lr": [],
               "seconds": []}
    start_epoch = 0
    if args.resume:
        ckpt = read_checkpoint(ckpt_path)
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        if scheduler is not None:
            scheduler.load_state_dict(ckpt["scheduler"])
        loader.generator.set_state(ckpt["loader_rng"])
        history, start_epoch = ckpt["history"], ckpt["epoch"]
        print(f"resumed from {ckpt_path} after epoch {start_epoch}")
    print(model)
    for epoch in range(start_epoch + 1, args.epochs + 1):
        t0 = time.perf_counter()
        seen, loss_sum, correct = 0, 0.0, 0
        lr = opt.param_groups[0]["lr"]
        for xb, yb in progress(loader, f"epoch {epoch}/{args.epochs}", args.quiet, total=len(loader)):
            # the displacements come from the loader's generator, so --resume replays them too
            xb = random_shift(xb, shift, loader.generator, background)
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            seen += len(yb)
            loss_sum += loss.item() * len(yb)
            correct += (logits.argmax(dim=1) == yb).sum().item()
        if scheduler is not None:
            scheduler.step()
        seconds = time.perf_counter() - t0
        test_loss, test_acc = evaluate(model, test_x, test_y)
        for key, value in (("epoch", epoch), ("train_loss", loss_sum / seen), ("train_acc", correct / seen),
                           ("test_loss", test_loss), ("test_acc", test_acc), ("lr", lr), ("seconds", seconds)):
            history[key].append(value)
        print(f"epoch {epoch:2d}  lr {lr:.2e}  train loss {loss_sum / seen:.4f}  train acc {correct / seen:.4f}  "
              f"test loss {test_loss:.4f}  test acc {test_acc:.4f}  ({seconds:.1f} s)")
        state = {"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": epoch,
                 "history": history, "loader_rng": loader.generator.get_state()}
        if scheduler is not None:
            state["scheduler"] = scheduler.state_dict()
        ag.save(state, ckpt_path)
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump(history, f, indent=1)
    return history
