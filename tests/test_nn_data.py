"""nn.data: Dataset/TensorDataset/Subset/random_split, DataLoader semantics and collation, the MNIST
loader (local files, validation, download path with a faked network), CharDataset, TimeSeriesCSV."""
import gzip
import hashlib
import io
import os
import shutil
import struct
import urllib.request
from collections import namedtuple

import numpy as np
import pytest

import autograd_core as ag
from nn.data import (MNIST, BatchSampler, CharDataset, ConcatDataset, DataLoader, Dataset, FashionMNIST,
                     IterableDataset, RandomSampler, Subset, TensorDataset, TimeSeriesCSV, WindowDataset,
                     default_collate, random_split, transforms)
from nn.data import datasets as ds_mod

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MNIST_DIR = os.path.join(REPO, "..", "shared", "data", "mnist")
DATA_DIR = os.path.join(REPO, "..", "shared", "data")
needs_mnist = pytest.mark.skipif(not os.path.isfile(os.path.join(MNIST_DIR, "t10k-images-idx3-ubyte.gz")),
                                 reason="shared MNIST files not present")


class ListDataset(Dataset):
    """Per-sample Python dataset (forces the slow path)."""

    def __init__(self, items):
        self.items = items

    def __getitem__(self, i):
        return self.items[i]

    def __len__(self):
        return len(self.items)


def _tensor_ds(n=10):
    x = ag.arange(n * 3, dtype=ag.float32).reshape(n, 3)
    y = ag.arange(n) % 3
    return TensorDataset(x, y), x, y


def _all_indices(loader):
    return np.concatenate([b[1].numpy() for b in loader]).tolist()


# ---- datasets ------------------------------------------------------------------------------

def test_tensor_dataset_items_and_len():
    ds, x, y = _tensor_ds(5)
    assert len(ds) == 5
    xi, yi = ds[2]
    assert xi.tolist() == [6.0, 7.0, 8.0] and yi.item() == 2 and yi.dtype == ag.int64
    assert ds.tensors[0] is x


def test_tensor_dataset_accepts_numpy_and_rejects_mismatch():
    ds = TensorDataset(np.zeros((4, 2), np.float32), np.arange(4))
    assert ds[3][1].item() == 3
    with pytest.raises(ValueError, match=r"size mismatch.*\[4, 3\]"):
        TensorDataset(ag.zeros(4, 2), ag.zeros(3))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()


def test_subset_concat_and_add():
    ds, _, _ = _tensor_ds(6)
    sub = Subset(ds, [5, 0, 3])
    assert len(sub) == 3 and sub[0][1].item() == 2 and sub[1][0].tolist() == [0.0, 1.0, 2.0]
    cat = ds + ListDataset([("a", 1)])
    assert isinstance(cat, ConcatDataset) and len(cat) == 7 and cat[6] == ("a", 1) and cat[-1] == ("a", 1)
    assert cat[5][1].item() == 2
    with pytest.raises(IndexError):
        cat[7]


def test_random_split_lengths_fractions_and_reproducibility():
    ds = ListDataset(list(range(10)))
    a, b = random_split(ds, [7, 3], generator=ag.Generator().manual_seed(0))
    assert len(a) == 7 and len(b) == 3
    assert sorted([a[i] for i in range(7)] + [b[i] for i in range(3)]) == list(range(10))
    a2, _ = random_split(ds, [7, 3], generator=ag.Generator().manual_seed(0))
    assert a.indices == a2.indices
    ag.manual_seed(3)
    c1 = random_split(ds, [0.5, 0.5])[0].indices
    ag.manual_seed(3)
    assert random_split(ds, [0.5, 0.5])[0].indices == c1
    # fractions: floor, then the remainder dealt round-robin (as PyTorch): 11 * (0.3, 0.3, 0.4) -> 4, 3, 4
    parts = random_split(ListDataset(list(range(11))), [0.3, 0.3, 0.4])
    assert [len(p) for p in parts] == [4, 3, 4]
    with pytest.raises(ValueError, match="does not equal the length"):
        random_split(ds, [5, 4])


# ---- DataLoader ----------------------------------------------------------------------------

@pytest.mark.parametrize("n,bs,drop_last,expected", [(10, 3, False, 4), (10, 3, True, 3), (9, 3, True, 3),
                                                     (9, 3, False, 3), (2, 5, False, 1), (2, 5, True, 0)])
def test_batch_counts(n, bs, drop_last, expected):
    ds, _, _ = _tensor_ds(n)
    loader = DataLoader(ds, batch_size=bs, drop_last=drop_last)
    batches = list(loader)
    assert len(loader) == expected == len(batches)
    sizes = [len(b[0]) for b in batches]
    assert all(s == bs for s in sizes[:-1])
    if drop_last and batches:
        assert sizes[-1] == bs
    assert loader.dataset is ds


def test_sequential_order_and_batch_types():
    ds, x, y = _tensor_ds(7)
    xb, yb = next(iter(DataLoader(ds, batch_size=4)))
    assert isinstance(xb, ag.Tensor) and xb.shape == (4, 3) and xb.dtype == ag.float32
    assert yb.dtype == ag.int64 and yb.tolist() == [0, 1, 2, 0]
    np.testing.assert_array_equal(xb.numpy(), x.numpy()[:4])


def test_every_index_once_per_epoch_when_shuffled():
    n = 23
    ds = TensorDataset(ag.zeros(n, 2), ag.arange(n))
    loader = DataLoader(ds, batch_size=5, shuffle=True, generator=ag.Generator().manual_seed(1))
    e1, e2 = _all_indices(loader), _all_indices(loader)
    assert sorted(e1) == sorted(e2) == list(range(n))
    assert e1 != list(range(n)) and e1 != e2          # shuffled, and a new order each epoch


def test_shuffle_reproducible_with_generator_and_manual_seed():
    ds = TensorDataset(ag.zeros(50, 1), ag.arange(50))
    make = lambda: _all_indices(DataLoader(ds, batch_size=8, shuffle=True,
                                           generator=ag.Generator().manual_seed(7)))
    assert make() == make()
    ag.manual_seed(0)
    a = _all_indices(DataLoader(ds, batch_size=8, shuffle=True))
    ag.manual_seed(0)
    b = _all_indices(DataLoader(ds, batch_size=8, shuffle=True))
    ag.manual_seed(1)
    c = _all_indices(DataLoader(ds, batch_size=8, shuffle=True))
    assert a == b != c


def test_fast_path_equals_slow_path():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((37, 2, 3)).astype(np.float32)
    y = rng.integers(0, 5, 37)
    fast = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True, generator=ag.Generator().manual_seed(4))
    slow = DataLoader(ListDataset([(ag.from_numpy(x[i]), int(y[i])) for i in range(37)]), batch_size=8,
                      shuffle=True, generator=ag.Generator().manual_seed(4))
    # the same loader with a user collate_fn also takes the per-sample path
    custom = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True, generator=ag.Generator().manual_seed(4),
                        collate_fn=lambda b: default_collate(b))
    for (xf, yf), (xs, ys), (xc, yc) in zip(fast, slow, custom):
        assert xf.dtype == xs.dtype == xc.dtype == ag.float32 and yf.dtype == ys.dtype == yc.dtype == ag.int64
        np.testing.assert_array_equal(xf.numpy(), xs.numpy())
        np.testing.assert_array_equal(xf.numpy(), xc.numpy())
        np.testing.assert_array_equal(yf.numpy(), ys.numpy())


def test_fast_path_through_subset():
    ds, x, y = _tensor_ds(12)
    train, _ = random_split(ds, [8, 4], generator=ag.Generator().manual_seed(0))
    batches = list(DataLoader(train, batch_size=3))
    got = np.concatenate([b[1].numpy() for b in batches])
    np.testing.assert_array_equal(got, y.numpy()[train.indices])


def test_default_collate_structures():
    Point = namedtuple("Point", "a b")
    batch = [{"x": np.array([1.0, 2.0], dtype=np.float32), "y": 1, "name": "p", "t": (2.5, True),
              "pt": Point(np.int64(3), ag.ones(2))} for _ in range(3)]
    out = default_collate(batch)
    assert out["x"].shape == (3, 2) and out["x"].dtype == ag.float32
    assert out["y"].dtype == ag.int64 and out["y"].tolist() == [1, 1, 1]
    assert out["name"] == ["p", "p", "p"]
    assert isinstance(out["t"], list) and out["t"][0].dtype == ag.float64 and out["t"][1].dtype == ag.bool
    assert isinstance(out["pt"], Point) and out["pt"].a.dtype == ag.int64 and out["pt"].b.shape == (3, 2)
    xb, yb = default_collate([(ag.zeros(2), 0), (ag.ones(2), 1)])
    assert xb.tolist() == [[0, 0], [1, 1]] and yb.tolist() == [0, 1]


def test_default_collate_errors():
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([ag.zeros(2), ag.zeros(3)])
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([(1, 2), (1,)])
    with pytest.raises(TypeError, match="found object"):
        default_collate([object(), object()])


def test_collate_keeps_grad_graph():
    w = ag.ones(2, requires_grad=True)
    out = default_collate([w * 2, w * 3])
    out.sum().backward()
    assert w.grad.tolist() == [5.0, 5.0]


def test_custom_collate_fn_and_unbatched():
    ds = ListDataset([(i, str(i)) for i in range(5)])
    loader = DataLoader(ds, batch_size=2, collate_fn=lambda b: [s for _, s in b])
    assert list(loader) == [["0", "1"], ["2", "3"], ["4"]]
    unbatched = list(DataLoader(ListDataset([np.arange(2), np.arange(2)]), batch_size=None))
    assert len(unbatched) == 2 and isinstance(unbatched[0], ag.Tensor)


def test_iterable_dataset():
    class Stream(IterableDataset):
        def __iter__(self):
            return iter(range(7))

    batches = list(DataLoader(Stream(), batch_size=3))
    assert [b.tolist() for b in batches] == [[0, 1, 2], [3, 4, 5], [6]]
    with pytest.raises(ValueError, match="IterableDataset"):
        DataLoader(Stream(), shuffle=True)


def test_samplers():
    ds, _, _ = _tensor_ds(10)
    bs = BatchSampler(RandomSampler(ds, generator=ag.Generator().manual_seed(0)), 4, drop_last=False)
    loader = DataLoader(ds, batch_sampler=bs)
    assert len(loader) == 3 and sorted(np.concatenate([b[0][:, 0].numpy() for b in loader]) / 3) == list(range(10))
    assert len(RandomSampler(ds, replacement=True, num_samples=25)) == 25


def test_loader_accepts_pytorch_arguments():
    ds, _, _ = _tensor_ds(4)
    loader = DataLoader(ds, batch_size=2, num_workers=4, pin_memory=True, persistent_workers=False)
    assert len(list(loader)) == 2


@pytest.mark.parametrize("kwargs,err,match", [
    (dict(batch_size=0), ValueError, "positive integer"),
    (dict(batch_size=-2), ValueError, "positive integer"),
    (dict(batch_size=2.5), ValueError, "positive integer"),
    (dict(num_workers=-1), ValueError, "num_workers"),
    (dict(shuffle=True, sampler=[0, 1]), ValueError, "mutually exclusive"),
    (dict(generator=123), TypeError, "Generator"),
    (dict(collate_fn=3), TypeError, "callable"),
])
def test_loader_argument_errors(kwargs, err, match):
    ds, _, _ = _tensor_ds(4)
    with pytest.raises(err, match=match):
        DataLoader(ds, **kwargs)


def test_loader_rejects_empty_dataset_and_non_datasets():
    with pytest.raises(ValueError, match="empty"):
        DataLoader(ListDataset([]))
    with pytest.raises(TypeError, match="Dataset"):
        DataLoader(42)


# ---- MNIST: local files --------------------------------------------------------------------

@needs_mnist
def test_mnist_test_set_from_root():
    ds = MNIST(root=MNIST_DIR, train=False, download=False)
    assert len(ds) == 10000
    assert ds.data.shape == (10000, 28, 28) and ds.data.dtype == ag.uint8
    assert ds.targets.shape == (10000,) and ds.targets.dtype == ag.int64
    assert ds.targets[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert int(ds.targets.min()) == 0 and int(ds.targets.max()) == 9
    assert len(ds.classes) == 10 and ds.class_to_idx["7 - seven"] == 7
    img, label = ds[0]
    assert img.shape == (1, 28, 28) and img.dtype == ag.float32 and label == 7 and isinstance(label, int)
    assert 0.0 <= float(img.min()) and float(img.max()) == 1.0
    np.testing.assert_array_equal(img.numpy()[0] * 255, ds.data.numpy()[0].astype(np.float32))


@needs_mnist
def test_mnist_train_subset_via_autograd_data(monkeypatch):
    monkeypatch.setenv("AUTOGRAD_DATA", DATA_DIR)
    ds = MNIST(train=True, download=False)
    assert len(ds) == 5000 and os.path.samefile(ds.folder, MNIST_DIR)
    assert np.bincount(ds.targets.numpy(), minlength=10).tolist() == [500] * 10


@needs_mnist
def test_mnist_transforms_normalize_and_fast_path():
    norm = MNIST(root=MNIST_DIR, train=False, normalize=(0.1307, 0.3081))
    composed = MNIST(root=MNIST_DIR, train=False, transform=transforms.Compose(
        [transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))]))
    np.testing.assert_array_equal(norm[5][0].numpy(), composed[5][0].numpy())
    X, y = norm.as_tensors()
    assert X.shape == (10000, 1, 28, 28) and X.dtype == ag.float32 and y.dtype == ag.int64
    assert abs(float(X.mean())) < 0.05
    # the whole-batch path gives exactly what per-sample __getitem__ + default_collate gives
    idx = [3, 999, 0, 42]
    xb, yb = norm._get_batch(np.array(idx))
    xs, ys = default_collate([norm[i] for i in idx])
    np.testing.assert_array_equal(xb.numpy(), xs.numpy())
    np.testing.assert_array_equal(yb.numpy(), ys.numpy())
    # a custom transform and target_transform take the per-sample path
    custom = MNIST(root=MNIST_DIR, train=False, transform=lambda a: ag.tensor(a.sum(), dtype=ag.float32),
                   target_transform=lambda t: t * 2)
    assert custom[0] == (custom[0][0], 14) and custom._get_batch(np.array([0])) is None
    xb, yb = next(iter(DataLoader(custom, batch_size=4)))
    assert xb.shape == (4,) and yb.tolist() == [14, 4, 2, 0]
    with pytest.raises(ValueError, match="either"):
        MNIST(root=MNIST_DIR, train=False, normalize=(0.1, 0.3), transform=transforms.ToTensor())


@needs_mnist
def test_mnist_loader_epoch():
    ds = MNIST(root=MNIST_DIR, train=False)
    loader = DataLoader(ds, batch_size=64, shuffle=True, generator=ag.Generator().manual_seed(0))
    assert len(loader) == 157
    seen, total = np.zeros(10, np.int64), 0
    for xb, yb in loader:
        assert xb.dtype == ag.float32 and xb.shape[1:] == (1, 28, 28)
        seen += np.bincount(yb.numpy(), minlength=10)
        total += len(yb)
    assert total == 10000 and seen.tolist() == np.bincount(ds.targets.numpy()).tolist()


def _copy_mnist(tmp_path, train=False):
    prefix = "train" if train else "t10k"
    for kind in ("images-idx3", "labels-idx1"):
        shutil.copy(os.path.join(MNIST_DIR, f"{prefix}-{kind}-ubyte.gz"), tmp_path)
    return tmp_path / f"{prefix}-images-idx3-ubyte.gz", tmp_path / f"{prefix}-labels-idx1-ubyte.gz"


def _rewrite_gz(path, fn):
    raw = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(fn(raw), compresslevel=1))


@needs_mnist
def test_mnist_truncated_file_is_a_clear_error(tmp_path):
    images, _ = _copy_mnist(tmp_path)
    _rewrite_gz(images, lambda raw: raw[:-100])
    with pytest.raises(RuntimeError, match=r"t10k-images-idx3-ubyte.gz.*truncated"):
        MNIST(root=tmp_path, train=False, download=False)


@needs_mnist
def test_mnist_cut_gzip_stream_is_a_clear_error(tmp_path):
    images, _ = _copy_mnist(tmp_path)
    images.write_bytes(images.read_bytes()[:50000])
    with pytest.raises(RuntimeError, match=r"t10k-images-idx3-ubyte.gz.*corrupt or truncated"):
        MNIST(root=tmp_path, train=False, download=True)   # never re-downloads over a broken local file


@needs_mnist
def test_mnist_not_gzip_is_a_clear_error(tmp_path):
    _, labels = _copy_mnist(tmp_path)
    labels.write_bytes(b"this is not a gzip file at all")
    with pytest.raises(RuntimeError, match="t10k-labels-idx1-ubyte.gz"):
        MNIST(root=tmp_path, train=False)


@needs_mnist
def test_mnist_wrong_magic_and_count_mismatch(tmp_path):
    images, labels = _copy_mnist(tmp_path)
    _rewrite_gz(images, lambda raw: struct.pack(">i", 2049) + raw[4:])
    with pytest.raises(RuntimeError, match=r"t10k-images.*magic number 2049 \(expected 2051"):
        MNIST(root=tmp_path, train=False)
    images, labels = _copy_mnist(tmp_path)
    _rewrite_gz(labels, lambda raw: raw[:4] + struct.pack(">i", 9999) + raw[8:-1])
    with pytest.raises(RuntimeError, match="10000 images but .* 9999 labels"):
        MNIST(root=tmp_path, train=False)


@needs_mnist
def test_mnist_uncompressed_files_accepted(tmp_path):
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (tmp_path / name).write_bytes(gzip.decompress(open(os.path.join(MNIST_DIR, name + ".gz"), "rb").read()))
    assert MNIST(root=tmp_path, train=False).targets[0].item() == 7


def test_missing_files_without_download_lists_them(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOGRAD_DATA", str(tmp_path))
    with pytest.raises(RuntimeError) as e:
        MNIST(train=True, download=False)
    msg = str(e.value)
    assert "train-images-idx3-ubyte.gz" in msg and "train-labels-idx1-ubyte.gz" in msg
    assert "AUTOGRAD_DATA" in msg and str(tmp_path / "mnist") in msg


# ---- MNIST: the download path, with the network faked --------------------------------------

class _FakeResponse(io.BytesIO):
    def __init__(self, data):
        super().__init__(data)
        self.headers = {"Content-Length": str(len(data))}


def _fake_network(monkeypatch, served):
    """Replace urllib.request.urlopen: served maps url -> bytes (or an exception to raise)."""
    calls = []

    def urlopen(url, timeout=None):
        calls.append(url)
        what = served.get(url, OSError("network unreachable"))
        if isinstance(what, Exception):
            raise what
        return _FakeResponse(what)

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    return calls


@needs_mnist
def test_download_verifies_md5_and_moves_to_next_mirror(tmp_path, monkeypatch):
    monkeypatch.setattr(MNIST, "mirrors", ["https://bad.example/", "https://down.example/", "https://good.example/"])
    served = {}
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        good = open(os.path.join(MNIST_DIR, name), "rb").read()
        served["https://bad.example/" + name] = good[:-10] + b"0123456789"      # corrupted bytes
        served["https://down.example/" + name] = OSError("connection refused")
        served["https://good.example/" + name] = good
    calls = _fake_network(monkeypatch, served)
    ds = MNIST(root=tmp_path / "fresh", train=False, download=True)
    assert len(ds) == 10000 and ds.targets[0].item() == 7
    assert [c.split("/")[2] for c in calls] == ["bad.example", "down.example", "good.example"] * 2
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        data = (tmp_path / "fresh" / name).read_bytes()
        assert hashlib.md5(data).hexdigest() == MNIST.md5s[name]
    assert sorted(os.listdir(tmp_path / "fresh")) == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    # the second time, the local files are used: no network
    calls.clear()
    MNIST(root=tmp_path / "fresh", train=False, download=True)
    assert calls == []


@needs_mnist
def test_download_rejects_wrong_md5_everywhere(tmp_path, monkeypatch):
    # the shared 5,000-image training subset is not the official file: its md5 must be refused
    monkeypatch.setattr(MNIST, "mirrors", ["https://m1.example/", "https://m2.example/"])
    served = {f"https://{m}.example/{n}": open(os.path.join(MNIST_DIR, n), "rb").read()
              for m in ("m1", "m2") for n in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")}
    _fake_network(monkeypatch, served)
    with pytest.raises(RuntimeError, match="md5 mismatch") as e:
        MNIST(root=tmp_path, train=True, download=True)
    assert "train-images-idx3-ubyte.gz" in str(e.value) and "m2.example" in str(e.value)
    assert os.listdir(tmp_path) == []          # nothing written, not even a partial file


def test_download_all_mirrors_fail_lists_missing_files(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOGRAD_DATA", str(tmp_path))
    calls = _fake_network(monkeypatch, {})
    with pytest.raises(RuntimeError) as e:
        FashionMNIST(train=False, download=True)
    msg = str(e.value)
    assert "t10k-images-idx3-ubyte.gz" in msg and "t10k-labels-idx1-ubyte.gz" in msg
    assert "network unreachable" in msg and "AUTOGRAD_DATA" in msg and str(tmp_path / "fashionmnist") in msg
    assert len(calls) == 2 * len(FashionMNIST.mirrors)
    assert not os.path.exists(tmp_path / "fashionmnist" / "t10k-images-idx3-ubyte.gz")


def test_write_atomic_leaves_no_partial_file(tmp_path, monkeypatch):
    target = tmp_path / "f.bin"
    target.write_bytes(b"old")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        ds_mod._write_atomic(str(target), b"new contents")
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["f.bin"]


# ---- text and time series ------------------------------------------------------------------

def test_char_dataset():
    ds = CharDataset("hello world", block_size=4)
    assert ds.vocab_size == 8 and ds.itos[ds.stoi["w"]] == "w"
    assert len(ds) == 7
    x, y = ds[0]
    assert ds.decode(x) == "hell" and ds.decode(y) == "ello" and x.dtype == ag.int64
    assert ds.decode(ds.encode("lower")) == "lower"
    fast = list(DataLoader(ds, batch_size=3, shuffle=True, generator=ag.Generator().manual_seed(0)))
    slow = list(DataLoader(ds, batch_size=3, shuffle=True, generator=ag.Generator().manual_seed(0),
                           collate_fn=default_collate))
    for (xf, yf), (xs, ys) in zip(fast, slow):
        np.testing.assert_array_equal(xf.numpy(), xs.numpy())
        np.testing.assert_array_equal(yf.numpy(), ys.numpy())
    with pytest.raises(ValueError, match="too short"):
        CharDataset("abc", block_size=3)
    with pytest.raises(ValueError, match="vocabulary"):
        ds.encode("z")


def test_char_dataset_shakespeare():
    path = os.path.join(DATA_DIR, "tinyshakespeare", "input.txt")
    if not os.path.isfile(path):
        pytest.skip("shared tinyshakespeare not present")
    ds = CharDataset.from_file(path, block_size=8)
    assert ds.vocab_size == 65 and len(ds) == 1115394 - 8


def test_window_dataset_and_csv(tmp_path):
    w = WindowDataset(np.arange(10), window=3, horizon=2)
    assert len(w) == 6
    x, y = w[1]
    assert x.shape == (3, 1) and x.dtype == ag.float32 and x.numpy().ravel().tolist() == [1, 2, 3]
    assert y.numpy().ravel().tolist() == [4, 5]
    xb, yb = next(iter(DataLoader(w, batch_size=4)))
    assert xb.shape == (4, 3, 1) and yb.shape == (4, 2, 1) and xb.numpy()[3].ravel().tolist() == [3, 4, 5]
    csv_path = tmp_path / "s.csv"
    csv_path.write_text('"Month","Value"\n"2000-01",1\n"2000-02",2.5\n"2000-03",4\n"2000-04",8\n')
    ts = TimeSeriesCSV(csv_path, "Value", window=2)
    assert len(ts) == 2 and ts[1][1].item() == 8.0 and ts.index[0] == "2000-01"
    assert len(TimeSeriesCSV(csv_path, 1, window=2, stop=3)) == 1
    with pytest.raises(ValueError, match="no column 'Temp'"):
        TimeSeriesCSV(csv_path, "Temp", window=2)
    with pytest.raises(ValueError, match="too short"):
        TimeSeriesCSV(csv_path, "Value", window=4)


def test_timeseries_shared_csv():
    path = os.path.join(DATA_DIR, "timeseries", "daily-min-temperatures.csv")
    if not os.path.isfile(path):
        pytest.skip("shared time series not present")
    ts = TimeSeriesCSV(path, "Temp", window=30)
    assert len(ts) == 3650 - 30 and ts[0][0].numpy()[0, 0] == np.float32(20.7)
