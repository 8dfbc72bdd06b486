"""What the example scripts share: progress bars, printing, matplotlib, and MNIST loading/evaluation.

The scripts import it as `common` (their own folder is on sys.path when run as `python examples/x.py`,
and each inserts it for the tests that load them by path).
"""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import autograd_core as ag  # noqa: E402
import nn.functional as F  # noqa: E402
from nn.data import MNIST  # noqa: E402


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


def load_mnist(data_dir, limit=None, seed=0):
    """((train x, train y), (test x, test y)): images (N, 1, 28, 28) standardised, labels int64.

    data_dir holds mnist/ (None: $AUTOGRAD_DATA or the official download). One mean and standard
    deviation, fitted on the training images only, standardise both sets (the course's rule; the same
    as PyTorch's usual Normalize((0.1307,), (0.3081,)) for MNIST). limit: a random subset of that
    many training images (the files are sorted by digit, so a prefix would miss classes).
    """
    root = os.path.join(data_dir, "mnist") if data_dir else None
    train_x, train_y = MNIST(root=root, train=True).as_tensors()
    test_x, test_y = MNIST(root=root, train=False).as_tensors()
    if limit:
        keep = ag.randperm(len(train_y), generator=ag.Generator().manual_seed(seed))[:limit]
        train_x, train_y = train_x[keep], train_y[keep]
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
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"wrote {path}")
    return path
