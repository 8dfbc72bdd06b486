"""gemm_into: out = a @ b, or out += a @ b, written by BLAS straight into `out` (a view is fine).

NumPy's matmul always writes a fresh product (or overwrites `out=`), so a sum of products -- the kernel
rows of a convolution -- costs a temporary and a separate pass over memory per term. BLAS's gemm
accumulates in place (beta = 1) in the same pass as the product. This module finds the gemm of the
OpenBLAS that NumPy itself loaded and calls it through ctypes; where there is none (another BLAS,
another platform, arrays it can't describe), `gemm_into` falls back to matmul and an add, with the
same result. Set `enabled = False` to force the fallback (the tests compare the two paths).
"""
import ctypes

from .backend import xp

enabled = True

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112
# (symbol, integer type) in the order tried: NumPy's own wheels ship OpenBLAS with a 64-bit interface
_SYMBOLS = (("scipy_cblas_{}gemm64_", ctypes.c_int64), ("cblas_{}gemm64_", ctypes.c_int64),
            ("scipy_cblas_{}gemm", ctypes.c_int), ("cblas_{}gemm", ctypes.c_int))
_gemms = None  # {dtype: ctypes function} once looked up


def loaded_openblas():
    """Paths of the OpenBLAS libraries loaded into this process (Linux), else ()."""
    try:
        with open("/proc/self/maps") as f:
            return sorted({line.split()[-1] for line in f if "openblas" in line.lower() and ".so" in line})
    except OSError:
        return ()


def _find_gemms():
    """{float32: sgemm, float64: dgemm} from NumPy's OpenBLAS, typed for ctypes; {} if not found."""
    found = {}
    for path in loaded_openblas():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for dtype, letter, scalar in ((xp.float32, "s", ctypes.c_float), (xp.float64, "d", ctypes.c_double)):
            for name, int_t in _SYMBOLS:
                fn = getattr(lib, name.format(letter), None)
                if fn is not None:
                    ptr = ctypes.c_void_p
                    fn.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, int_t, int_t, int_t, scalar,
                                   ptr, int_t, ptr, int_t, scalar, ptr, int_t]
                    fn.restype = None
                    found[xp.dtype(dtype)] = fn
                    break
        if found:
            break
    return found


def _layout(m, itemsize):
    """(transposed?, leading dimension) of a 2-D array BLAS can read in place, or None."""
    s0, s1 = m.strides
    if s1 == itemsize and s0 >= max(1, m.shape[1]) * itemsize and s0 % itemsize == 0:
        return False, s0 // itemsize
    if s0 == itemsize and s1 >= max(1, m.shape[0]) * itemsize and s1 % itemsize == 0:
        return True, s1 // itemsize
    return None


def _blas_gemm(a, b, out, beta):
    """out = a @ b + beta * out through BLAS; False when it can't be done in place here."""
    global _gemms
    if _gemms is None:
        _gemms = _find_gemms() if xp.__name__ == "numpy" else {}
    fn = _gemms.get(out.dtype)
    if fn is None or a.dtype != out.dtype or b.dtype != out.dtype or 0 in a.shape or 0 in b.shape:
        return False
    if not (a.flags.aligned and b.flags.aligned and out.flags.aligned and out.flags.writeable):
        return False
    if xp.may_share_memory(out, a) or xp.may_share_memory(out, b):
        return False  # why: BLAS reads its inputs while it writes out; matmul copies first
    size = out.itemsize
    la, lb, lc = _layout(a, size), _layout(b, size), _layout(out, size)
    if la is None or lb is None or lc is None or lc[0]:
        return False
    (m, k), n = a.shape, b.shape[1]
    fn(_ROW_MAJOR, _TRANS if la[0] else _NO_TRANS, _TRANS if lb[0] else _NO_TRANS, m, n, k, 1.0,
       a.ctypes.data, la[1], b.ctypes.data, lb[1], beta, out.ctypes.data, lc[1])
    return True


def gemm_into(a, b, out, accumulate=False):
    """out[...] = a @ b, or out += a @ b when accumulate; a (m, k), b (k, n), out (m, n), all one float dtype.

    out may be a view (any row stride, unit column stride); a and b may be transposed views.
    why: BLAS writes (and adds) the product where it belongs, with no temporary and no extra pass.
    """
    if a.shape[1] != b.shape[0] or out.shape != (a.shape[0], b.shape[1]):
        raise ValueError(f"gemm_into: shapes {a.shape} @ {b.shape} -> {out.shape} do not match")
    if enabled and _blas_gemm(a, b, out, 1.0 if accumulate else 0.0):
        return out
    if accumulate:
        out += xp.matmul(a, b)
    else:
        xp.matmul(a, b, out=out)
    return out
