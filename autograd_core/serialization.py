"""save / load: nested containers of tensors, arrays and plain values in a zip that never runs code on load.

The file is a zip archive holding `manifest.json` (the structure, as tagged JSON nodes) and one
`.npy` entry per array, written and read with `allow_pickle=False`. Nothing is unpickled and no
module is imported on load, so loading an untrusted file cannot execute code (unlike pickle).
Saving to a path is atomic: the archive goes to a temporary file in the same directory, which is
flushed, fsync'ed and renamed over the target, so a crash mid-save leaves the old file intact.
"""
import base64
import collections
import io
import json
import os
import tempfile
import zipfile

import numpy as _np

from . import dtypes as _dt
from .tensor import Tensor

_FORMAT = "autograd_core.save"
_VERSION = 1
_MANIFEST = "manifest.json"

# why: read once at import; mkstemp creates files 0600, a saved checkpoint should get the usual mode
_UMASK = os.umask(0)
os.umask(_UMASK)


def _key_text(key):
    return f"[{key!r}]"


def _all_subclasses(cls):
    out, stack = {}, [cls]
    while stack:
        c = stack.pop()
        for s in c.__subclasses__():
            out.setdefault(f"{s.__module__}.{s.__qualname__}", s)
            stack.append(s)
    return out


class _Writer:
    """Turns an object into tagged JSON nodes, collecting its arrays."""

    def __init__(self):
        self.arrays = []
        self._active = set()

    def _array(self, arr, path):
        if arr.dtype.hasobject:
            raise TypeError(f"save: can't store a NumPy array of dtype {arr.dtype} (Python objects) at "
                            f"{path or 'the top level'}; only numeric, bool and string arrays can be saved")
        self.arrays.append(arr)
        return len(self.arrays) - 1

    def node(self, obj, path=""):
        if obj is None:
            return {"t": "none"}
        if isinstance(obj, bool):
            return {"t": "bool", "v": obj}
        if isinstance(obj, int):
            return {"t": "int", "v": str(obj)}
        if isinstance(obj, float):
            return {"t": "float", "v": obj.hex()}
        if isinstance(obj, complex):
            return {"t": "complex", "v": [obj.real.hex(), obj.imag.hex()]}
        if isinstance(obj, str):
            return {"t": "str", "v": obj}
        if isinstance(obj, (bytes, bytearray)):
            return {"t": "bytes", "v": base64.b64encode(bytes(obj)).decode("ascii")}
        if isinstance(obj, Tensor):
            n = {"t": "tensor", "a": self._array(obj._data, path),
                 "requires_grad": obj.requires_grad}
            if type(obj) is not Tensor:
                n["cls"] = f"{type(obj).__module__}.{type(obj).__qualname__}"
            return n
        if isinstance(obj, _np.ndarray):
            return {"t": "ndarray", "a": self._array(obj, path)}
        if isinstance(obj, _np.generic):
            return {"t": "npscalar", "a": self._array(_np.asarray(obj), path)}
        if isinstance(obj, _dt.device):
            return {"t": "device", "v": str(obj)}
        if isinstance(obj, _np.dtype):
            return {"t": "dtype", "v": obj.str}
        if isinstance(obj, (dict, list, tuple)):
            if id(obj) in self._active:
                raise ValueError(f"save: the object at {path or 'the top level'} contains itself (a reference "
                                 f"cycle); it can't be stored")
            self._active.add(id(obj))
            try:
                if isinstance(obj, dict):
                    items = []
                    for k, v in obj.items():
                        items.append([self.key(k, path), self.node(v, path + _key_text(k))])
                    tag = "odict" if isinstance(obj, collections.OrderedDict) else "dict"
                    return {"t": tag, "items": items}
                tag = "tuple" if isinstance(obj, tuple) else "list"
                return {"t": tag, "items": [self.node(v, f"{path}[{i}]") for i, v in enumerate(obj)]}
            finally:
                self._active.discard(id(obj))
        raise TypeError(f"save: can't store an object of type {type(obj).__name__} at {path or 'the top level'}; "
                        f"supported are Tensors, NumPy arrays, dict/list/tuple and None, bool, int, float, str, "
                        f"bytes")

    def key(self, k, path):
        if k is None or isinstance(k, (bool, int, float, str)) or (
                isinstance(k, tuple) and all(x is None or isinstance(x, (bool, int, float, str)) for x in k)):
            return self.node(k, path)
        raise TypeError(f"save: can't store a dict key of type {type(k).__name__} in the dict at "
                        f"{path or 'the top level'}; keys must be str, int, float, bool, None or tuples of them")


class _Reader:
    """Rebuilds an object from tagged JSON nodes and the archive's arrays."""

    def __init__(self, zf, names):
        self.zf = zf
        self.names = names
        self._classes = None

    def _array(self, i):
        name = f"arrays/{int(i)}.npy"
        if name not in self.names:
            raise RuntimeError(f"load: the file is damaged: the manifest refers to {name}, which is missing")
        with self.zf.open(name) as f:
            try:
                return _np.lib.format.read_array(f, allow_pickle=False)
            except ValueError as e:
                raise RuntimeError(f"load: refusing to read {name}: {e} (this format never unpickles)") from None

    def _tensor_class(self, name):
        if name is None:
            return Tensor
        if self._classes is None:
            self._classes = _all_subclasses(Tensor)
        # why: only classes already imported are used; nothing named in the file is imported
        return self._classes.get(name, Tensor)

    def node(self, n):
        t = n["t"]
        if t == "none":
            return None
        if t == "bool":
            return bool(n["v"])
        if t == "int":
            return int(n["v"])
        if t == "float":
            return float.fromhex(n["v"])
        if t == "complex":
            return complex(float.fromhex(n["v"][0]), float.fromhex(n["v"][1]))
        if t == "str":
            return str(n["v"])
        if t == "bytes":
            return base64.b64decode(n["v"])
        if t == "tensor":
            cls = self._tensor_class(n.get("cls"))
            arr = self._array(n["a"])
            rg = bool(n.get("requires_grad", False)) and arr.dtype.kind in "fc"
            if cls is Tensor:
                out = Tensor._make(arr)
                if rg:
                    out.requires_grad_()
                return out
            from .tensor import _rebuild
            return _rebuild(arr, rg, cls)
        if t == "ndarray":
            return self._array(n["a"])
        if t == "npscalar":
            return self._array(n["a"])[()]
        if t == "device":
            return _dt.device(n["v"])
        if t == "dtype":
            return _np.dtype(n["v"])
        if t in ("dict", "odict"):
            d = {} if t == "dict" else collections.OrderedDict()
            for k, v in n["items"]:
                d[self.node(k)] = self.node(v)
            return d
        if t == "list":
            return [self.node(v) for v in n["items"]]
        if t == "tuple":
            return tuple(self.node(v) for v in n["items"])
        raise RuntimeError(f"load: the file holds an entry of unknown kind {t!r}; it was written by a newer "
                           f"version or is damaged")


def _write_zip(f, obj):
    w = _Writer()
    manifest = {"format": _FORMAT, "version": _VERSION, "root": w.node(obj)}
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        zf.writestr(_MANIFEST, json.dumps(manifest))
        for i, arr in enumerate(w.arrays):
            with zf.open(f"arrays/{i}.npy", "w", force_zip64=arr.nbytes > 2 ** 30) as af:
                _np.lib.format.write_array(af, arr, allow_pickle=False)


def save(obj, f):
    """Save obj (nested dict/list/tuple of Tensors, arrays and plain values) to a path or binary file.

    Writing to a path is atomic (temporary file + fsync + rename). Tuples, int dict keys, dtypes and
    requires_grad flags come back as they were; the same tensor reached twice is stored twice.
    """
    if hasattr(f, "write"):
        _write_zip(f, obj)
        return
    try:
        path = os.fspath(f)
    except TypeError:
        raise TypeError(f"save: expected a path (str or os.PathLike) or a binary file object, "
                        f"got {type(f).__name__}") from None
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    directory = os.path.dirname(os.path.abspath(path))
    if os.path.exists(path):
        mode = os.stat(path).st_mode & 0o7777
    else:
        mode = 0o666 & ~_UMASK
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            _write_zip(out, obj)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(directory)


def _fsync_dir(directory):
    """Make the rename durable (best effort: not every platform can open a directory)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _check_map_location(map_location):
    if map_location is None:
        return
    if isinstance(map_location, (str, _dt.device)):
        try:
            if _dt.device(map_location).type == "cpu":
                return
        except (RuntimeError, ValueError):
            pass
    raise RuntimeError(f"load: map_location={map_location!r} is not supported; only None, 'cpu' or "
                       f"ag.device('cpu') are (ag.cuda.is_available() is False)")


def load(f, map_location=None, weights_only=None):
    """Load what save() wrote, from a path or a binary file object. Never unpickles or imports anything.

    map_location may be None, 'cpu' or ag.device('cpu'). weights_only is accepted for PyTorch
    compatibility: this format only ever holds data, so loading is always weights-only safe.
    """
    _check_map_location(map_location)
    if hasattr(f, "read"):
        if not (hasattr(f, "seekable") and f.seekable()):
            f = io.BytesIO(f.read())
        return _read_zip(f, getattr(f, "name", "the file object"))
    try:
        path = os.fspath(f)
    except TypeError:
        raise TypeError(f"load: expected a path (str or os.PathLike) or a binary file object, "
                        f"got {type(f).__name__}") from None
    with open(path, "rb") as fh:
        return _read_zip(fh, path)


def _read_zip(fh, where):
    try:
        zf = zipfile.ZipFile(fh, "r")
    except zipfile.BadZipFile:
        raise RuntimeError(f"load: {where} is not a file written by ag.save (not a zip archive); pickle files "
                           f"are refused because loading them can run arbitrary code") from None
    with zf:
        names = set(zf.namelist())
        if _MANIFEST not in names:
            raise RuntimeError(f"load: {where} is not a file written by ag.save (no {_MANIFEST}); files from "
                               f"torch.save hold pickles and are refused")
        try:
            manifest = json.loads(zf.read(_MANIFEST).decode("utf-8"))
        except ValueError as e:
            raise RuntimeError(f"load: {where}: the manifest is damaged ({e})") from None
        if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT:
            raise RuntimeError(f"load: {where} is not a file written by ag.save")
        if manifest.get("version", 0) > _VERSION:
            raise RuntimeError(f"load: {where} was written by a newer format version ({manifest['version']}); "
                               f"this version reads up to {_VERSION}")
        try:
            return _Reader(zf, names).node(manifest["root"])
        except (KeyError, TypeError, IndexError) as e:
            raise RuntimeError(f"load: {where}: the manifest is damaged ({type(e).__name__}: {e})") from None
