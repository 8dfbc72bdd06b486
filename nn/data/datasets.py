"""Dataset loaders: MNIST and FashionMNIST (IDX files, validated, downloaded with md5 checks),
a character corpus (CharDataset) and windowed time series from CSV (TimeSeriesCSV)."""
import csv
import gzip
import hashlib
import os
import struct
import sys
import tempfile
import urllib.request

import numpy as np

import autograd_core as ag

from . import transforms as T
from .dataset import Dataset

_make = ag.Tensor._make

_IMAGES_MAGIC, _LABELS_MAGIC = 2051, 2049


# ---- where the files live ------------------------------------------------------------------

def data_home():
    """The folder that holds every data set: $AUTOGRAD_DATA, else ~/.cache/autograd_core."""
    env = os.environ.get("AUTOGRAD_DATA")
    if env:
        return os.path.expanduser(env)
    return os.path.join(os.path.expanduser("~"), ".cache", "autograd_core")


def _candidate_dirs(name, root):
    """Folders searched for a data set's files, in order; the first one is where downloads go."""
    if root is not None:
        root = os.path.expanduser(os.fspath(root))
        # why: also accept a parent folder in the AUTOGRAD_DATA layout and torchvision's <root>/<Name>/raw
        return [root, os.path.join(root, name.lower()), os.path.join(root, name, "raw")]
    return [os.path.join(data_home(), name.lower())]


def _find(folder, filename):
    """The path of filename (or its un-gzipped form) in folder, or None."""
    for f in (filename, filename[:-3] if filename.endswith(".gz") else filename + ".gz"):
        p = os.path.join(folder, f)
        if os.path.isfile(p):
            return p
    return None


# ---- IDX files -----------------------------------------------------------------------------

def _read_bytes(path):
    try:
        if path.endswith(".gz"):
            with gzip.open(path, "rb") as f:
                return f.read()
        with open(path, "rb") as f:
            return f.read()
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise RuntimeError(f"{path}: could not read the file ({type(e).__name__}: {e}); it is corrupt or "
                           f"truncated — delete it and download it again") from None


def read_idx(path, expected_magic, item_shape=None):
    """Read an IDX file (gzipped or not) into a uint8 array, validating its header and length.

    expected_magic: 2051 for images (N, rows, cols), 2049 for labels (N,). item_shape, when given,
    is the expected (rows, cols) of the images. Raises RuntimeError naming the file on any mismatch.
    """
    raw = _read_bytes(path)
    if len(raw) < 8:
        raise RuntimeError(f"{path}: file too short for an IDX header ({len(raw)} bytes); it is truncated")
    magic = struct.unpack(">i", raw[:4])[0]
    if magic != expected_magic:
        kind = "images" if expected_magic == _IMAGES_MAGIC else "labels"
        raise RuntimeError(f"{path}: wrong IDX magic number {magic} (expected {expected_magic} for MNIST "
                           f"{kind}); this is not an MNIST {kind} file or it is corrupt")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise RuntimeError(f"{path}: truncated IDX header")
    dims = struct.unpack(f">{ndim}i", raw[4:header])
    if item_shape is not None and tuple(dims[1:]) != tuple(item_shape):
        raise RuntimeError(f"{path}: images of shape {tuple(dims[1:])}, expected {tuple(item_shape)}")
    expected = int(np.prod(dims)) + header
    if len(raw) != expected:
        what = "truncated" if len(raw) < expected else "longer than its header says"
        raise RuntimeError(f"{path}: {what}: {len(raw) - header} data bytes for dims {dims} "
                           f"(expected {expected - header}); the file is corrupt — delete it and download "
                           f"it again")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


# ---- downloading ---------------------------------------------------------------------------

class _Progress:
    """tqdm when installed, else a simple text bar on stderr."""

    def __init__(self, total, desc):
        self.total, self.desc, self.done = total, desc, 0
        try:
            from tqdm import tqdm
            self._bar = tqdm(total=total or None, desc=desc, unit="B", unit_scale=True, leave=False)
        except ImportError:
            self._bar = None

    def update(self, n):
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
        elif self.total:
            filled = int(30 * self.done / self.total)
            sys.stderr.write(f"\r{self.desc} [{'#' * filled}{'.' * (30 - filled)}] "
                             f"{100 * self.done // self.total:3d}%")
            sys.stderr.flush()

    def close(self):
        if self._bar is not None:
            self._bar.close()
        elif self.total:
            sys.stderr.write("\n")


def _fetch(url, desc, timeout=30):
    """The bytes at url, with a progress bar."""
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        try:
            total = int(resp.headers.get("Content-Length") or 0)
        except (AttributeError, TypeError, ValueError):
            total = 0
        bar, chunks = _Progress(total, desc), []
        try:
            while True:
                chunk = resp.read(1 << 16)
                if not chunk:
                    break
                chunks.append(chunk)
                bar.update(len(chunk))
        finally:
            bar.close()
    return b"".join(chunks)


def _write_atomic(path, data):
    folder = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-" + os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def download_file(filename, folder, mirrors, md5):
    """Download filename from the first mirror whose copy has the given md5, into folder (atomically).

    Returns the path; raises RuntimeError listing every mirror's failure when none works.
    """
    errors = []
    for base in mirrors:
        url = base.rstrip("/") + "/" + filename
        try:
            data = _fetch(url, f"downloading {filename}")
        except Exception as e:  # any network or HTTP failure: try the next mirror
            errors.append(f"{url}: {type(e).__name__}: {e}")
            continue
        got = hashlib.md5(data).hexdigest()
        if got != md5:
            errors.append(f"{url}: md5 mismatch (got {got}, expected {md5})")
            continue
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, filename)
        _write_atomic(path, data)
        return path
    raise RuntimeError(f"download of {filename} failed from every mirror:\n  " + "\n  ".join(errors))


# ---- MNIST and Fashion-MNIST ---------------------------------------------------------------

class MNIST(Dataset):
    """The MNIST handwritten digits (60,000 training / 10,000 test images of 28x28), from IDX files.

    root: the folder holding the files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,
      t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz; gzipped or not). Also searched:
      root/mnist/ and torchvision's root/MNIST/raw/. When root is None: $AUTOGRAD_DATA/mnist/, else
      ~/.cache/autograd_core/mnist/. Missing files are downloaded there (download=True) from public
      mirrors and checked against their known md5. Local files are validated by their IDX headers
      and sizes (so a subset, such as the 5,000-image training file in shared/data, is accepted).
    train: the training files (True) or the test files (False).
    transform: called on each image as a uint8 NumPy array (28, 28). Difference from torchvision:
      with transform=None, torchvision returns a PIL image; here the image is already a float32
      tensor (1, 28, 28) in [0, 1] (nn.data.transforms.ToTensor()).
    normalize: (mean, std), e.g. (0.1307, 0.3081): shorthand for Compose([ToTensor(), Normalize(...)]).
    target_transform: called on each label (a Python int).

    Attributes (as torchvision): data (uint8 tensor (N, 28, 28)), targets (int64 tensor (N,)),
    classes, class_to_idx. `as_tensors()` / `.tensors` give the whole set at once for fast loaders.
    """

    mirrors = [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ]
    md5s = {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    }
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
               "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"]

    def __init__(self, root=None, train=True, download=True, transform=None, target_transform=None,
                 normalize=None):
        if normalize is not None:
            if transform is not None:
                raise ValueError(f"{type(self).__name__}: give either transform or normalize, not both")
            mean, std = normalize
            transform = T.Compose([T.ToTensor(), T.Normalize(mean, std)])
        if transform is not None and not callable(transform):
            raise TypeError(f"{type(self).__name__}: transform must be callable, got {type(transform).__name__}")
        self.root, self.train = root, bool(train)
        self.transform = transform if transform is not None else T.ToTensor()
        self._default_transform = transform is None
        self.target_transform = target_transform
        images_file, labels_file = self._files()
        folder = self._locate(download)
        images = read_idx(_find(folder, images_file), _IMAGES_MAGIC, (28, 28))
        labels = read_idx(_find(folder, labels_file), _LABELS_MAGIC)
        if len(images) != len(labels):
            raise RuntimeError(f"{type(self).__name__}: {_find(folder, images_file)} holds {len(images)} images "
                               f"but {_find(folder, labels_file)} holds {len(labels)} labels")
        if len(labels) and labels.max() >= len(self.classes):
            raise RuntimeError(f"{type(self).__name__}: {_find(folder, labels_file)} has label {labels.max()}, "
                               f"expected 0..{len(self.classes) - 1}; the file is corrupt")
        self.folder = folder
        self.data = _make(images)
        self.targets = _make(labels.astype(np.int64))
        self._tensors = None

    @property
    def class_to_idx(self):
        return {c: i for i, c in enumerate(self.classes)}

    def _files(self):
        prefix = "train" if self.train else "t10k"
        return f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-labels-idx1-ubyte.gz"

    def _locate(self, download):
        """The folder holding both files, downloading them when allowed."""
        name = type(self).__name__
        files = self._files()
        dirs = _candidate_dirs(name, self.root)
        for d in dirs:
            if all(_find(d, f) for f in files):
                return d
        target = dirs[0]
        missing = [f for f in files if not _find(target, f)]
        errors = []
        if download:
            for f in missing:
                try:
                    download_file(f, target, self.mirrors, self.md5s[f])
                except RuntimeError as e:
                    errors.append(str(e))
            if not errors:
                return target
        how = ("the download failed:\n" + "\n".join(errors) + "\n") if errors else \
            "download=False, so nothing was downloaded.\n"
        raise RuntimeError(
            f"{name}: missing file(s) {', '.join(missing)} in {target}; {how}"
            f"Put the files ({', '.join(files)}, from {self.mirrors[0]}) into {target}, pass root= the "
            f"folder that holds them, or set AUTOGRAD_DATA to a folder with a {name.lower()}/ subfolder "
            f"(e.g. AUTOGRAD_DATA=../shared/data). Searched: {', '.join(dirs)}")

    def __len__(self):
        return self.data.shape[0]

    def __getitem__(self, index):
        img = self.data._data[index]
        target = int(self.targets._data[index])
        img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def _get_batch(self, indices):
        """The whole collated batch at once, when the transforms allow it (else None: per-sample path)."""
        if self.target_transform is not None or not T.batchable(self.transform):
            return None
        return [_make(self.transform._batch(self.data._data[indices])), _make(self.targets._data[indices])]

    def as_tensors(self):
        """(X, y): all images as float32 (N, 1, 28, 28) in [0, 1] (then normalized when normalize= or a
        ToTensor/Normalize transform was given) and the labels as int64 (N,)."""
        if self._tensors is None:
            t = self.transform if T.batchable(self.transform) else T.ToTensor()
            self._tensors = (_make(t._batch(self.data._data)), self.targets)
        return self._tensors

    @property
    def tensors(self):
        """as_tensors(), like TensorDataset.tensors."""
        return self.as_tensors()

    def __repr__(self):
        return (f"Dataset {type(self).__name__}\n    Number of datapoints: {len(self)}\n"
                f"    Split: {'Train' if self.train else 'Test'}\n    Folder: {self.folder}\n"
                f"    Transform: {self.transform!r}")


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST (10 clothing classes, 28x28), same files and layout as MNIST.

    Files are looked for in root, else $AUTOGRAD_DATA/fashionmnist/, else
    ~/.cache/autograd_core/fashionmnist/. Give it a folder of its own: its file names are MNIST's.
    """

    mirrors = [
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ]
    md5s = {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    }
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


# ---- text and time series ------------------------------------------------------------------

class CharDataset(Dataset):
    """Character-level language-model samples: (x, y) int64 (block_size,), y is x shifted by one.

    text: the corpus (a str). The vocabulary is the sorted set of its characters: `stoi` maps a
    character to its id, `itos` an id to its character; `encode(str)` / `decode(ids)` convert.
    `CharDataset.from_file(path, block_size)` reads a text file (UTF-8).
    """

    def __init__(self, text, block_size):
        if not isinstance(text, str):
            raise TypeError(f"CharDataset: text must be a str, got {type(text).__name__}")
        if isinstance(block_size, bool) or not isinstance(block_size, int) or block_size <= 0:
            raise ValueError(f"CharDataset: block_size must be a positive integer, got {block_size!r}")
        if len(text) <= block_size:
            raise ValueError(f"CharDataset: text of {len(text)} characters is too short for block_size "
                             f"{block_size} (needs at least block_size + 1)")
        self.chars = sorted(set(text))
        self.stoi = {c: i for i, c in enumerate(self.chars)}
        self.itos = {i: c for i, c in enumerate(self.chars)}
        self.vocab_size = len(self.chars)
        self.block_size = block_size
        self.data = np.fromiter((self.stoi[c] for c in text), dtype=np.int64, count=len(text))

    @classmethod
    def from_file(cls, path, block_size, encoding="utf-8"):
        """A CharDataset of a text file's contents."""
        with open(path, encoding=encoding) as f:
            return cls(f.read(), block_size)

    def encode(self, s):
        """The ids of the characters of s, as an int64 tensor."""
        try:
            return _make(np.array([self.stoi[c] for c in s], dtype=np.int64))
        except KeyError as e:
            raise ValueError(f"CharDataset.encode: character {e.args[0]!r} is not in the vocabulary") from None

    def decode(self, ids):
        """The string for a sequence of ids (a tensor, array or list)."""
        if isinstance(ids, ag.Tensor):
            ids = ids._data
        return "".join(self.itos[int(i)] for i in np.asarray(ids).reshape(-1))

    def __len__(self):
        return len(self.data) - self.block_size

    def __getitem__(self, idx):
        n = len(self)
        if idx < 0:
            idx += n
        if not 0 <= idx < n:
            raise IndexError(f"CharDataset: index {idx} out of range for length {n}")
        chunk = self.data[idx:idx + self.block_size + 1]
        return _make(chunk[:-1].copy()), _make(chunk[1:].copy())

    def _get_batch(self, indices):
        rows = indices[:, None] + np.arange(self.block_size + 1)  # (B, T+1)
        chunk = self.data[rows]
        return [_make(chunk[:, :-1]), _make(chunk[:, 1:])]


class WindowDataset(Dataset):
    """Sliding windows over a series: x = series[i : i+window], y = series[i+window : i+window+horizon].

    series: (T,) or (T, F) values (tensor, array or list), stored as float32. Samples are
    x (window, F) and y (horizon, F), with F = 1 for a 1-D series — the batch_first layout RNNs take.
    """

    def __init__(self, series, window, horizon=1):
        arr = series._data if isinstance(series, ag.Tensor) else np.asarray(series)
        arr = np.asarray(arr, dtype=np.float32)
        if arr.ndim == 1:
            arr = arr[:, None]
        if arr.ndim != 2:
            raise ValueError(f"{type(self).__name__}: series must be 1-D or 2-D, got shape {arr.shape}")
        for name, v in (("window", window), ("horizon", horizon)):
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                raise ValueError(f"{type(self).__name__}: {name} must be a positive integer, got {v!r}")
        if len(arr) < window + horizon:
            raise ValueError(f"{type(self).__name__}: a series of {len(arr)} steps is too short for window "
                             f"{window} + horizon {horizon}")
        self.values, self.window, self.horizon = arr, window, horizon

    def __len__(self):
        return len(self.values) - self.window - self.horizon + 1

    def __getitem__(self, idx):
        n = len(self)
        if idx < 0:
            idx += n
        if not 0 <= idx < n:
            raise IndexError(f"{type(self).__name__}: index {idx} out of range for length {n}")
        w = self.window
        return _make(self.values[idx:idx + w]), _make(self.values[idx + w:idx + w + self.horizon])

    def _get_batch(self, indices):
        w, h = self.window, self.horizon
        return [_make(self.values[indices[:, None] + np.arange(w)]),
                _make(self.values[indices[:, None] + np.arange(w, w + h)])]


class TimeSeriesCSV(WindowDataset):
    """Sliding windows over one numeric column of a CSV file with a header row.

    column: the column's name or index. start/stop: a row range (Python slice semantics) to keep, for
    a train/validation/test split in time order. transform: applied to the (T,) float32 column before
    windowing (e.g. a fitted nn.training.Standardizer). `values` holds the (T, 1) series; `index`
    holds the first column's strings (dates) for the kept rows.
    """

    def __init__(self, path, column, window, horizon=1, start=None, stop=None, transform=None):
        with open(path, newline="") as f:
            rows = list(csv.reader(f))
        if not rows:
            raise ValueError(f"TimeSeriesCSV: {path} is empty")
        header, body = rows[0], [r for r in rows[1:] if r]
        if isinstance(column, str):
            if column not in header:
                raise ValueError(f"TimeSeriesCSV: no column {column!r} in {path}; columns are {header}")
            col = header.index(column)
        else:
            col = int(column)
            if not -len(header) <= col < len(header):
                raise ValueError(f"TimeSeriesCSV: column index {column} out of range for columns {header}")
        body = body[start:stop]
        try:
            values = np.array([float(r[col]) for r in body], dtype=np.float32)
        except (ValueError, IndexError) as e:
            raise ValueError(f"TimeSeriesCSV: {path}: column {header[col]!r} is not numeric in every row "
                             f"({e})") from None
        self.path, self.column, self.index = path, header[col], [r[0] for r in body]
        if transform is not None:
            values = transform(values)
        super().__init__(values, window, horizon)
