"""examples/optimizers.py with tiny settings: the paths on Rosenbrock, Beale and the saddle; the MNIST comparison."""
import importlib.util
import os

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA_DIR = os.path.join(ROOT, "..", "shared", "data")
needs_mnist = pytest.mark.skipif(not os.path.isfile(os.path.join(DATA_DIR, "mnist", "t10k-images-idx3-ubyte.gz")),
                                 reason="shared MNIST files not present")
NAMES = ["SGD", "momentum", "Nesterov", "AdaGrad", "RMSProp", "Adam"]
SURFACES = ["rosenbrock", "beale", "saddle"]


def load_example():
    """Import examples/optimizers.py as a module (examples/ is not a package)."""
    spec = importlib.util.spec_from_file_location("example_optimizers", os.path.join(ROOT, "examples", "optimizers.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def paths_only(tmp_path_factory):
    out = tmp_path_factory.mktemp("optimizers_paths")
    return out, load_example().main(["--steps", "40", "--skip-mnist", "--quiet", "--out", str(out)])


def test_paths_cover_every_optimizer_and_surface_and_stay_finite(paths_only):
    _, result = paths_only
    assert set(result["paths"]) == set(SURFACES)
    for surface in SURFACES:
        assert list(result["paths"][surface]) == NAMES
        for name, path in result["paths"][surface].items():
            assert path.ndim == 2 and path.shape[1] == 2 and 2 <= len(path) <= 41, (surface, name)
            assert np.isfinite(path).all(), (surface, name)
            assert np.isfinite(result["final_values"][surface][name]), (surface, name)
    assert result["mnist"] == {} and result["test_acc"] == {}


def test_adam_and_momentum_descend_rosenbrock(paths_only):
    _, result = paths_only
    start = result["start_values"]["rosenbrock"]
    assert start == pytest.approx(12.5)  # (1 − (−1.5))² + 100·(2 − 2.25)²
    for name in ("Adam", "momentum"):
        assert result["final_values"]["rosenbrock"][name] < 0.7 * start, name
    # every path starts at the surface's start point, so the comparison is fair
    for surface in SURFACES:
        starts = {tuple(p[0]) for p in result["paths"][surface].values()}
        assert len(starts) == 1


def test_sgd_lingers_at_the_saddle_while_adam_escapes(paths_only):
    # with 40 steps, SGD's tiny y-gradient barely moves it off the x axis; Adam moves ~lr per step in y
    _, result = paths_only
    sgd, adam = result["paths"]["saddle"]["SGD"], result["paths"]["saddle"]["Adam"]
    assert abs(sgd[-1, 1]) < 0.01 < abs(adam[-1, 1])


def test_path_figure_is_written(paths_only):
    pytest.importorskip("matplotlib")
    out, result = paths_only
    assert result["figures"] == [os.path.join(str(out), "paths.png")]
    assert os.path.getsize(out / "paths.png") > 10_000


@pytest.fixture(scope="module")
def with_mnist(tmp_path_factory):
    out = tmp_path_factory.mktemp("optimizers_mnist")
    return out, load_example().main(["--steps", "5", "--epochs", "1", "--limit", "500", "--seed", "0", "--quiet",
                                     "--data-dir", DATA_DIR, "--out", str(out)])


@needs_mnist
def test_mnist_comparison_beats_chance(with_mnist):
    _, result = with_mnist
    assert list(result["test_acc"]) == NAMES
    for name in NAMES:
        history = result["mnist"][name]
        assert len(history["train_loss"]) == len(history["test_acc"]) == 1
        assert np.isfinite(history["train_loss"][0])
        assert result["test_acc"][name] > 0.3, name


@needs_mnist
def test_mnist_figure_is_written(with_mnist):
    pytest.importorskip("matplotlib")
    out, result = with_mnist
    assert os.path.join(str(out), "mnist_curves.png") in result["figures"]
    assert os.path.getsize(out / "mnist_curves.png") > 10_000
