"""nn.training: train/validation splits, Standardizer, EarlyStopping, accuracy, confusion_matrix."""
import numpy as np
import pytest

import autograd_core as ag
from nn.data import Subset, TensorDataset
from nn.training import (EarlyStopping, Standardizer, accuracy, confusion_matrix, train_val_split,
                         train_val_test_split)


# ---- splits --------------------------------------------------------------------------------

def test_train_val_split_keeps_rows_together_and_kinds():
    X = ag.arange(40, dtype=ag.float32).reshape(20, 2)
    y = np.arange(20)
    X_tr, X_val, y_tr, y_val = train_val_split(X, y, val_fraction=0.25, generator=ag.Generator().manual_seed(0))
    assert isinstance(X_tr, ag.Tensor) and isinstance(y_tr, np.ndarray)
    assert X_tr.shape == (15, 2) and X_val.shape == (5, 2) and len(y_val) == 5
    np.testing.assert_array_equal(X_tr.numpy()[:, 0] / 2, y_tr)          # rows stay paired
    assert sorted(np.concatenate([y_tr, y_val]).tolist()) == list(range(20))
    assert y_tr.tolist() != list(range(15))                                 # shuffled


def test_train_val_split_reproducible_and_unshuffled():
    y = np.arange(10)
    ag.manual_seed(5)
    a = train_val_split(y, val_fraction=0.3)
    ag.manual_seed(5)
    b = train_val_split(y, val_fraction=0.3)
    np.testing.assert_array_equal(a[1], b[1])
    tr, val = train_val_split(y, val_fraction=0.3, shuffle=False)
    assert tr.tolist() == list(range(7)) and val.tolist() == [7, 8, 9]


def test_train_val_test_split_60_20_20():
    tr, val, te = train_val_test_split(np.arange(100), generator=ag.Generator().manual_seed(1))
    assert (len(tr), len(val), len(te)) == (60, 20, 20)
    assert sorted(np.concatenate([tr, val, te]).tolist()) == list(range(100))


def test_split_dataset_and_errors():
    ds = TensorDataset(ag.zeros(10, 1), ag.arange(10))
    tr, val = train_val_split(ds, val_fraction=0.2)
    assert isinstance(tr, Subset) and (len(tr), len(val)) == (8, 2)
    with pytest.raises(ValueError, match="same number of samples"):
        train_val_split(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="fractions"):
        train_val_split(np.zeros(3), val_fraction=1.5)


# ---- Standardizer --------------------------------------------------------------------------

def test_standardizer_fits_on_training_data_only():
    rng = np.random.default_rng(0)
    train = (rng.standard_normal((500, 3)) * [1.0, 10.0, 0.1] + [5.0, -2.0, 100.0]).astype(np.float32)
    val = train[:50] + np.float32(1000.0)                                 # very different statistics
    sc = Standardizer().fit(train)
    z = sc.transform(train)
    assert z.dtype == np.float32
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-4)
    np.testing.assert_allclose(z.std(0), 1, atol=1e-4)
    zv = sc.transform(val)                                               # uses the training statistics
    np.testing.assert_allclose(zv, (val - train.mean(0)) / train.std(0), rtol=1e-4, atol=1e-3)
    assert zv.mean() > 10                                                # not re-centred on val
    np.testing.assert_allclose(sc.inverse_transform(zv), val, rtol=1e-5)


def test_standardizer_tensors_channels_state_dict_and_errors():
    x = ag.randn(8, 2, 4, 4, generator=ag.Generator().manual_seed(0)) * 3 + 1
    sc = Standardizer(dim=(0, 2, 3)).fit(x)
    assert sc.mean.shape == (1, 2, 1, 1)
    z = sc(x)
    assert isinstance(z, ag.Tensor) and z.dtype == ag.float32
    np.testing.assert_allclose(z.numpy().mean(axis=(0, 2, 3)), 0, atol=1e-5)
    sc2 = Standardizer().load_state_dict(sc.state_dict())
    np.testing.assert_array_equal(sc2.transform(x).numpy(), z.numpy())
    const = Standardizer().fit(np.ones((4, 2), np.float32))               # zero std: left unscaled
    assert np.isfinite(const.transform(np.ones((2, 2), np.float32))).all()
    with pytest.raises(RuntimeError, match="fit"):
        Standardizer().transform(np.ones(3))


def test_standardizer_keeps_gradient():
    sc = Standardizer().fit(np.array([[0.0], [2.0]], np.float32))
    x = ag.tensor([[1.0], [3.0]], requires_grad=True)
    sc.transform(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 1.0)                      # d/dx (x - 1) / 1


# ---- EarlyStopping -------------------------------------------------------------------------

class _Model:
    """A stand-in with state_dict / load_state_dict, like nn.Module's."""

    def __init__(self):
        self.w = ag.zeros(2)
        self.step = 0

    def state_dict(self):
        return {"w": self.w, "meta": {"step": self.step}}

    def load_state_dict(self, sd):
        self.w = sd["w"].clone()
        self.step = sd["meta"]["step"]


def test_early_stopping_patience_and_restore():
    model, stopper = _Model(), EarlyStopping(patience=2)
    losses = [1.0, 0.5, 0.6, 0.4, 0.45, 0.41, 0.9]
    stopped_at = None
    for epoch, loss in enumerate(losses):
        model.w += 1.0                       # in place: the stopper must have kept a copy
        model.step = epoch
        if stopper.step(loss, model):
            stopped_at = epoch
            break
    assert stopped_at == 5 and stopper.best == 0.4 and stopper.best_step == 3
    stopper.restore(model)
    assert model.w.tolist() == [4.0, 4.0] and model.step == 3


def test_early_stopping_max_mode_min_delta_and_nan():
    s = EarlyStopping(patience=2, mode="max", min_delta=0.01)
    assert not s.step(0.80)
    assert not s.step(0.805)                 # within min_delta: not an improvement
    assert s.num_bad_steps == 1 and s.best == 0.80
    assert not s.step(ag.tensor(0.9))        # 0-d tensors are accepted
    assert not s.step(float("nan"))
    assert s.step(0.85) and s.should_stop
    with pytest.raises(RuntimeError, match="no state"):
        s.restore(_Model())
    with pytest.raises(ValueError, match="mode"):
        EarlyStopping(mode="lowest")
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping(patience=0)


def test_early_stopping_state_dict_round_trip():
    s = EarlyStopping(patience=3)
    for v in (3.0, 2.0, 2.5):
        s.step(v)
    t = EarlyStopping(patience=3)
    t.load_state_dict(s.state_dict())
    assert (t.best, t.num_bad_steps) == (2.0, 1)
    assert not t.step(2.2) and t.step(2.1)


# ---- metrics -------------------------------------------------------------------------------

def test_accuracy_from_logits_indices_and_threshold():
    logits = ag.tensor([[2.0, 0.1, 0.0], [0.0, 3.0, 1.0], [0.0, 0.0, 5.0], [1.0, 0.0, 0.0]])
    targets = ag.tensor([0, 1, 1, 0])
    assert accuracy(logits, targets) == 0.75
    assert accuracy(np.array([0, 1, 2, 2]), np.array([0, 1, 2, 0])) == 0.75
    assert accuracy(np.array([0.9, 0.2, 0.6]), np.array([1, 0, 0]), threshold=0.5) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="threshold"):
        accuracy(np.array([0.9, 0.2]), np.array([1, 0]))
    with pytest.raises(ValueError, match="do not match"):
        accuracy(np.zeros((4, 3)), np.zeros(5, np.int64))


def test_confusion_matrix():
    preds = np.array([0, 1, 2, 2, 1, 0])
    targets = np.array([0, 1, 1, 2, 1, 2])
    cm = confusion_matrix(preds, targets, num_classes=4)
    assert cm.dtype == np.int64 and cm.shape == (4, 4)
    expected = np.zeros((4, 4), np.int64)
    for t, p in zip(targets, preds):
        expected[t, p] += 1                  # rows: true class, columns: predicted class
    np.testing.assert_array_equal(cm, expected)
    assert cm.sum() == 6 and np.trace(cm) == 4
    logits = ag.tensor(np.eye(3, dtype=np.float32)[preds % 3])
    cmt = confusion_matrix(logits, ag.tensor(targets))
    assert isinstance(cmt, ag.Tensor) and cmt.dtype == ag.int64 and cmt.shape == (3, 3)
    np.testing.assert_array_equal(cmt.numpy(), expected[:3, :3])
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        confusion_matrix(preds, targets, num_classes=2)
