"""Examples run: each is smoke-tested with tiny settings (and spirals, which is cheap, to its accuracy)."""
import importlib.util
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_example(name):
    """Import examples/<name>.py as a module (examples/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", os.path.join(ROOT, "examples", f"{name}.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_spirals_smoke_loss_falls(capsys):
    spirals = load_example("spirals")
    losses, acc = spirals.main(["--epochs", "40", "--points", "30", "--hidden", "8", "--seed", "1"])
    assert len(losses) == 40
    assert losses[-1] < 0.8 * losses[0]
    assert 0.0 <= acc <= 1.0
    out = capsys.readouterr().out
    assert "training accuracy" in out


def test_spirals_is_seeded(capsys):
    spirals = load_example("spirals")
    a, _ = spirals.main(["--epochs", "5", "--points", "20", "--hidden", "4", "--seed", "3"])
    b, _ = spirals.main(["--epochs", "5", "--points", "20", "--hidden", "4", "--seed", "3"])
    assert a == b


@pytest.mark.parametrize("classes", [2, 3])
def test_spirals_reaches_95_percent(classes, capsys):
    spirals = load_example("spirals")
    _, acc = spirals.main(["--classes", str(classes)])
    assert acc >= 0.95


# ---- examples/mnist_mlp.py: the headline example on the real data ------------------------------

SHARED_DATA = os.path.join(ROOT, "..", "shared", "data")


def test_mnist_mlp_reaches_its_accuracy(tmp_path):
    """784-256-128-10 ReLU, Adam 1e-3, batch 64, 15 epochs on the 5,000 images: >= 94.5% on the 10,000.

    A single run varies by about +-0.15 points with the seed (PyTorch's does too: 94.0-94.4% for
    seeds 0-3 with unstandardised inputs on this data), so the target is checked on the mean of
    three seeds, and every seed must stay within half a point of it.
    """
    mnist_mlp = load_example("mnist_mlp")
    accs = []
    for seed in (0, 1, 2):
        history = mnist_mlp.main(["--data-dir", SHARED_DATA, "--out", str(tmp_path / f"s{seed}"),
                                  "--quiet", "--seed", str(seed)])
        assert len(history["test_acc"]) == 15
        accs.append(history["test_acc"][-1])
    assert sum(accs) / 3 >= 0.945, accs
    assert min(accs) >= 0.940, accs


def test_mnist_mlp_resume_continues_exactly(tmp_path):
    mnist_mlp = load_example("mnist_mlp")
    common = ["--data-dir", SHARED_DATA, "--quiet", "--limit", "600"]
    mnist_mlp.main(common + ["--out", str(tmp_path / "a"), "--epochs", "1"])
    resumed = mnist_mlp.main(common + ["--out", str(tmp_path / "a"), "--epochs", "2", "--resume"])
    straight = mnist_mlp.main(common + ["--out", str(tmp_path / "b"), "--epochs", "2"])
    assert resumed["epoch"] == [1, 2]
    assert resumed["train_loss"] == straight["train_loss"]
    assert resumed["test_acc"] == straight["test_acc"]
