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
