"""The course's small nn examples reach their key results: perceptron, XOR, playground, init statistics.

Each example's main() runs with tiny settings (a second or less each). The numeric asserts run with or
without matplotlib; only the figure files need it.
"""
import os

import numpy as np
import pytest
from test_examples import load_example


def assert_figures(result, n):
    """The example wrote n figure files (only checked when matplotlib is installed)."""
    pytest.importorskip("matplotlib")
    assert len(result["figures"]) == n
    for path in result["figures"]:
        assert os.path.getsize(path) > 0


# ---- perceptron --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def perceptron_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("perceptron")
    return load_example("perceptron").main(["--points", "60", "--epochs", "30", "--quiet", "--out", str(out)])


def test_perceptron_separates_separable_data(perceptron_run):
    assert perceptron_run["separable_converged"]
    assert perceptron_run["separable_errors"][-1] == 0
    assert perceptron_run["separable_final_errors"] == 0
    assert len(perceptron_run["separable_errors"]) < 30


def test_perceptron_never_learns_xor(perceptron_run, capsys):
    errors = perceptron_run["xor_errors"]
    assert len(errors) == 30                      # it never stops early: no epoch is error-free
    assert min(errors) >= 1
    assert perceptron_run["xor_final_errors"] >= 1


def test_perceptron_rule_moves_the_line_towards_a_misclassified_point():
    perceptron = load_example("perceptron")
    X = np.array([[1.0, 2.0]], dtype=np.float32)
    t = np.array([0.0], dtype=np.float32)        # w = 0, b = 0 gives step(0) = 1: wrong, so w -= x, b -= 1
    _, errors, lines = perceptron.train_perceptron(X, t, epochs=3, lr=0.5, name="one point", quiet=True)
    assert errors == [1, 0]
    w, b = lines[-1]
    np.testing.assert_allclose(w, [-0.5, -1.0])
    assert b == -0.5


def test_perceptron_prints_and_draws(tmp_path, capsys):
    result = load_example("perceptron").main(["--points", "30", "--epochs", "3", "--quiet", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert "XOR       epoch   3  errors" in out
    assert_figures(result, 1)


# ---- xor ---------------------------------------------------------------------------------------

def test_xor_learns_the_truth_table(tmp_path, capsys):
    result = load_example("xor").main(["--epochs", "300", "--quiet", "--out", str(tmp_path)])
    assert np.all(np.abs(result["outputs"] - np.array([0, 1, 1, 0])) < 0.5)
    assert result["correct"]
    assert result["losses"][-1] < 0.1 * result["losses"][0]
    out = capsys.readouterr().out
    assert " x1  x2 | XOR | output" in out
    assert_figures(result, 1)


def test_xor_course_step_network_is_exact(tmp_path):
    result = load_example("xor").main(["--epochs", "1", "--quiet", "--out", str(tmp_path)])
    assert result["step_network_outputs"].tolist() == [0.0, 1.0, 1.0, 0.0]


def test_xor_mse_sgd_sigmoid_variant_runs_and_is_seeded(tmp_path):
    xor = load_example("xor")
    argv = ["--hidden", "2", "--activation", "sigmoid", "--loss", "mse", "--optimizer", "sgd", "--lr", "2",
            "--epochs", "20", "--quiet", "--out", str(tmp_path)]
    a, b = xor.main(argv), xor.main(argv)
    assert a["losses"] == b["losses"]
    assert a["losses"][-1] < a["losses"][0]


# ---- playground --------------------------------------------------------------------------------

def test_playground_moons_reaches_90_percent(tmp_path):
    result = load_example("playground").main(["--dataset", "moons", "--epochs", "40", "--quiet",
                                              "--out", str(tmp_path)])
    assert result["test_acc"] >= 0.90
    assert result["train_acc"] >= 0.90
    assert len(result["history"]["test_loss"]) == 40
    assert_figures(result, 1)


@pytest.mark.parametrize("dataset", ["circles", "spirals", "gauss", "xor"])
def test_playground_datasets_are_balanced_two_class(dataset):
    playground = load_example("playground")
    X, y = playground.make_dataset(dataset, 101, None, np.random.default_rng(0))
    assert X.shape == (101, 2) and X.dtype == np.float32
    assert set(np.unique(y).tolist()) == {0, 1}
    assert abs(int(y.sum()) - 50) <= 15


def test_playground_linear_net_cannot_do_xor(tmp_path):
    result = load_example("playground").main(["--dataset", "xor", "--activation", "linear", "--epochs", "15",
                                              "--quiet", "--out", str(tmp_path)])
    assert result["test_acc"] < 0.8


# ---- init_activations --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def init_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("init")
    return load_example("init_activations").main(["--width", "200", "--batch", "200", "--quiet",
                                                  "--inits", "small", "lecun", "glorot", "he",
                                                  "--out", str(out)])


def test_init_relu_he_keeps_the_std(init_run):
    std = init_run["act_std"][("relu", "he")]
    assert len(std) == 10
    assert 0.5 < std[-1] / std[0] < 2.0
    grad = init_run["grad_std"][("relu", "he")]
    assert 0.5 < grad[0] / grad[-1] < 2.0


def test_init_too_small_weights_vanish(init_run):
    relu = init_run["act_std"][("relu", "small")]
    assert relu[-1] / relu[0] < 1e-4
    tanh = init_run["act_std"][("tanh", "small")]
    assert tanh[-1] / tanh[0] < 1e-3


def test_init_relu_lecun_halves_the_variance_per_layer(init_run):
    std = np.array(init_run["act_std"][("relu", "lecun")])
    ratio = (std[-1] / std[0]) ** (1 / 9)         # per layer: sqrt(1/2) from the variance argument
    assert 0.6 < ratio < 0.8


def test_init_tanh_glorot_stays_healthy_and_sigmoid_gradients_vanish(init_run):
    tanh = init_run["act_std"][("tanh", "glorot")]
    assert min(tanh) > 0.1 and max(tanh) < 0.9    # neither collapsed nor saturated
    sig = init_run["grad_std"][("sigmoid", "glorot")]
    assert sig[0] / sig[-1] < 1e-3                # sigmoid' <= 1/4 at every layer


def test_init_draws_the_grid(init_run):
    assert_figures(init_run, 2)
