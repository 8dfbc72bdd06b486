"""Training helpers from the course: train/validation splits, Standardizer, EarlyStopping, accuracy,
confusion_matrix. They take tensors or NumPy arrays and give back the same kind."""
import copy
import math

import numpy as np

import autograd_core as ag
from autograd_core.creation import _rng

_make = ag.Tensor._make


def _array(x, what):
    if isinstance(x, ag.Tensor):
        return x.detach()._data
    if isinstance(x, np.ndarray):
        return x
    try:
        return np.asarray(x)
    except Exception:
        raise TypeError(f"{what}: expected a tensor or array, got {type(x).__name__}") from None


def _like(arr, ref):
    """arr as the same kind (tensor or array) as ref."""
    return _make(arr) if isinstance(ref, ag.Tensor) else arr


def _split_counts(n, fractions, what):
    for f in fractions:
        if not 0 <= f < 1:
            raise ValueError(f"{what}: fractions must be in [0, 1), got {fractions}")
    if sum(fractions) >= 1:
        raise ValueError(f"{what}: the held-out fractions {fractions} leave no training data")
    counts = [int(round(n * f)) for f in fractions]
    if n - sum(counts) <= 0:
        raise ValueError(f"{what}: {n} samples are too few for fractions {fractions}")
    return counts


def _split(arrays, fractions, generator, shuffle, what):
    if not arrays:
        raise ValueError(f"{what}: give at least one tensor or array")
    from nn.data.dataset import Dataset, random_split
    if len(arrays) == 1 and isinstance(arrays[0], Dataset):
        ds = arrays[0]
        counts = _split_counts(len(ds), fractions, what)
        return random_split(ds, [len(ds) - sum(counts)] + counts, generator=generator)
    sizes = [len(_array(a, what)) for a in arrays]
    if any(s != sizes[0] for s in sizes):
        raise ValueError(f"{what}: all inputs must have the same number of samples, got {sizes}")
    n = sizes[0]
    counts = _split_counts(n, fractions, what)
    order = _rng(generator).permutation(n) if shuffle else np.arange(n)
    bounds = np.cumsum([n - sum(counts)] + counts)[:-1]
    parts = np.split(order, bounds)
    out = []
    for a in arrays:
        arr = _array(a, what)
        for p in parts:
            out.append(_like(arr[p], a))
    return out


def train_val_split(*arrays, val_fraction=0.1, generator=None, shuffle=True):
    """Split tensors/arrays (same first dimension) into a random training and validation part.

    Returns train and validation part of each input in turn, like sklearn's train_test_split:
    `X_tr, X_val, y_tr, y_val = train_val_split(X, y, val_fraction=0.2)`. A single Dataset is split
    with random_split into [train_subset, val_subset]. generator: an ag.Generator (default: the
    library's, so ag.manual_seed applies); shuffle=False keeps the order (the last rows validate,
    as for time series).
    """
    return _split(arrays, [val_fraction], generator, shuffle, "train_val_split")


def train_val_test_split(*arrays, val_fraction=0.2, test_fraction=0.2, generator=None, shuffle=True):
    """The course's 60/20/20 split: train, validation and test part of each input in turn."""
    return _split(arrays, [val_fraction, test_fraction], generator, shuffle, "train_val_test_split")


class Standardizer:
    """Mean 0 / standard deviation 1 per feature, with statistics estimated on the training data only.

    dim: the dimension(s) averaged over (0: one mean/std per feature of (N, F) data; (0, 2, 3): per
    channel of (N, C, H, W) images). std is the population one (ddof=0, like sklearn's StandardScaler);
    features with std below eps are left unscaled. Usage: `sc = Standardizer().fit(X_train)`, then
    `sc.transform(X_val)`; `inverse_transform` undoes it (e.g. for predictions of a standardized target).
    """

    def __init__(self, dim=0, eps=1e-8):
        self.dim = dim
        self.eps = eps
        self.mean = None
        self.std = None

    def fit(self, x):
        """Estimate mean and std from x (the training data); returns self."""
        arr = _array(x, "Standardizer.fit")
        if arr.dtype.kind not in "fiu" or arr.size == 0:
            raise ValueError(f"Standardizer.fit: expected non-empty numeric data, got dtype {arr.dtype}, "
                             f"shape {arr.shape}")
        dtype = arr.dtype if arr.dtype.kind == "f" else np.float32
        axis = self.dim if isinstance(self.dim, int) else tuple(self.dim)
        mean = arr.mean(axis=axis, keepdims=True, dtype=np.float64)
        std = arr.std(axis=axis, keepdims=True, dtype=np.float64)
        std = np.where(std < self.eps, 1.0, std)
        self.mean, self.std = mean.astype(dtype), std.astype(dtype)
        return self

    def _check(self, what):
        if self.mean is None:
            raise RuntimeError(f"Standardizer.{what}: call fit(training_data) first")

    def transform(self, x):
        """(x - mean) / std, in x's dtype and kind (tensor or array)."""
        self._check("transform")
        arr = _array(x, "Standardizer.transform")
        dt = arr.dtype if arr.dtype.kind == "f" else self.mean.dtype
        out = (arr.astype(dt, copy=False) - self.mean.astype(dt)) / self.std.astype(dt)
        if isinstance(x, ag.Tensor) and x.requires_grad:
            return (x - _make(self.mean.astype(dt))) / _make(self.std.astype(dt))
        return _like(out, x)

    def inverse_transform(self, x):
        """x * std + mean."""
        self._check("inverse_transform")
        arr = _array(x, "Standardizer.inverse_transform")
        dt = arr.dtype if arr.dtype.kind == "f" else self.mean.dtype
        if isinstance(x, ag.Tensor) and x.requires_grad:
            return x * _make(self.std.astype(dt)) + _make(self.mean.astype(dt))
        return _like(arr.astype(dt, copy=False) * self.std.astype(dt) + self.mean.astype(dt), x)

    def fit_transform(self, x):
        """fit(x), then transform(x)."""
        return self.fit(x).transform(x)

    __call__ = transform

    def state_dict(self):
        """{'mean', 'std', 'dim', 'eps'} (arrays), for ag.save."""
        self._check("state_dict")
        return {"mean": self.mean.copy(), "std": self.std.copy(), "dim": self.dim, "eps": self.eps}

    def load_state_dict(self, state):
        """Restore what state_dict returned."""
        self.mean, self.std = _array(state["mean"], "load").copy(), _array(state["std"], "load").copy()
        self.dim = state.get("dim", self.dim)
        if isinstance(self.dim, list):
            self.dim = tuple(self.dim)
        self.eps = state.get("eps", self.eps)
        return self

    def __repr__(self):
        return f"Standardizer(dim={self.dim}, fitted={self.mean is not None})"


def _copy_state(obj):
    if isinstance(obj, ag.Tensor):
        return obj.detach().clone()
    if isinstance(obj, np.ndarray):
        return obj.copy()
    if isinstance(obj, dict):
        return type(obj)((k, _copy_state(v)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(_copy_state(v) for v in obj)
    return copy.deepcopy(obj)


class EarlyStopping:
    """Stop when a validation metric has not improved for `patience` consecutive steps; keep the best weights.

    mode: 'min' (a loss) or 'max' (accuracy, ROC AUC). An improvement must beat the best value by more
    than min_delta. `step(metric, model=None)` records one evaluation (typically once per epoch) and
    returns True when training should stop; when a model is given, a copy of its state_dict() is kept
    at every improvement and `restore(model)` loads it back. Works with any object that has
    state_dict() / load_state_dict() (nn.Module, an optimizer ...). A NaN metric counts as no improvement.
    """

    def __init__(self, patience=5, mode="min", min_delta=0.0):
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 1:
            raise ValueError(f"EarlyStopping: patience must be a positive integer, got {patience!r}")
        if mode not in ("min", "max"):
            raise ValueError(f"EarlyStopping: mode must be 'min' or 'max', got {mode!r}")
        if min_delta < 0:
            raise ValueError(f"EarlyStopping: min_delta must be >= 0, got {min_delta}")
        self.patience, self.mode, self.min_delta = patience, mode, float(min_delta)
        self.best = None
        self.best_step = None
        self.best_state = None
        self.num_bad_steps = 0
        self.steps = 0
        self.should_stop = False

    def is_improvement(self, metric):
        """Whether metric beats the best value so far by more than min_delta."""
        if math.isnan(metric):
            return False
        if self.best is None:
            return True
        if self.mode == "min":
            return metric < self.best - self.min_delta
        return metric > self.best + self.min_delta

    def step(self, metric, model=None):
        """Record one validation value; returns True when patience has run out."""
        metric = float(metric.item() if isinstance(metric, ag.Tensor) else metric)
        self.steps += 1
        if self.is_improvement(metric):
            self.best, self.best_step, self.num_bad_steps = metric, self.steps - 1, 0
            if model is not None:
                self.best_state = _copy_state(model.state_dict())
        else:
            self.num_bad_steps += 1
        self.should_stop = self.num_bad_steps >= self.patience
        return self.should_stop

    __call__ = step

    def restore(self, model):
        """Load the best state seen back into model; returns model."""
        if self.best_state is None:
            raise RuntimeError("EarlyStopping.restore: no state was saved; pass the model to step(metric, model)")
        model.load_state_dict(_copy_state(self.best_state))
        return model

    def state_dict(self):
        """The stopper's own state (for resuming a checkpointed run)."""
        return {"best": self.best, "best_step": self.best_step, "num_bad_steps": self.num_bad_steps,
                "steps": self.steps, "best_state": self.best_state}

    def load_state_dict(self, state):
        """Restore what state_dict returned."""
        self.best, self.best_step = state["best"], state["best_step"]
        self.num_bad_steps, self.steps = state["num_bad_steps"], state["steps"]
        self.best_state = state.get("best_state")
        self.should_stop = self.num_bad_steps >= self.patience

    def __repr__(self):
        return (f"EarlyStopping(patience={self.patience}, mode={self.mode!r}, min_delta={self.min_delta}, "
                f"best={self.best}, bad_steps={self.num_bad_steps})")


def _predictions(preds, targets, what, threshold=None):
    p, t = _array(preds, what), _array(targets, what)
    if p.ndim == t.ndim + 1:
        # why: class scores sit in dim 1, as for CrossEntropyLoss ((N, C) or (N, C, d1, ...))
        p = p.argmax(axis=1 if p.ndim > 1 else 0)
    elif p.shape == t.shape and p.dtype.kind == "f":
        if threshold is None:
            raise ValueError(f"{what}: predictions are floats with the targets' shape {t.shape}; pass "
                             f"threshold= (e.g. 0.5 for probabilities, 0.0 for logits) or class scores "
                             f"with an extra class dimension")
        p = (p >= threshold).astype(np.int64)
    if p.shape != t.shape:
        raise ValueError(f"{what}: predictions of shape {_array(preds, what).shape} do not match targets of "
                         f"shape {t.shape} (give class indices of the same shape, or scores (N, C, ...))")
    return p, t


def accuracy(logits_or_preds, targets, threshold=None):
    """The fraction of correct predictions (a Python float).

    logits_or_preds: class scores (N, C) (argmax over dim 1 is taken) or predicted class indices (N,);
    float predictions of the targets' shape need threshold= (binary: 1 where pred >= threshold).
    """
    p, t = _predictions(logits_or_preds, targets, "accuracy", threshold)
    if t.size == 0:
        raise ValueError("accuracy: no targets")
    return float((p == t).mean())


def confusion_matrix(preds, targets, num_classes=None, threshold=None):
    """counts[i, j] = number of samples of true class i predicted as class j (int64, (C, C)).

    preds: class indices or class scores (N, C) (argmax taken). num_classes: C (default: the largest
    index seen + 1). Returns a tensor when preds or targets is a tensor, else a NumPy array.
    """
    p, t = _predictions(preds, targets, "confusion_matrix", threshold)
    p, t = p.reshape(-1).astype(np.int64), t.reshape(-1).astype(np.int64)
    if num_classes is None:
        num_classes = int(max(p.max(initial=-1), t.max(initial=-1))) + 1
    if (p.size and (p.min() < 0 or p.max() >= num_classes)) or (t.size and (t.min() < 0 or t.max() >= num_classes)):
        raise ValueError(f"confusion_matrix: class indices must be in [0, {num_classes}), got predictions in "
                         f"[{p.min()}, {p.max()}] and targets in [{t.min()}, {t.max()}]")
    counts = np.bincount(t * num_classes + p, minlength=num_classes * num_classes)
    counts = counts.reshape(num_classes, num_classes).astype(np.int64)
    return _make(counts) if isinstance(preds, ag.Tensor) or isinstance(targets, ag.Tensor) else counts
