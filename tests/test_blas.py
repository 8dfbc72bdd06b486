"""autograd_core.blas.gemm_into: out = a @ b (or out += a @ b) through BLAS on views, else matmul."""
import numpy as np
import pytest

from autograd_core import blas
from autograd_core.ops import conv as C


def _views(rng, dtype):
    """(name, a, b, out) cases: plain, transposed operands, column blocks of wider buffers, row blocks."""
    def r(*shape):
        return rng.standard_normal(shape).astype(dtype)
    wide = r(7, 30)
    return [
        ("plain", r(5, 7), r(7, 3), np.zeros((5, 3), dtype)),
        ("a transposed", r(7, 5).T, r(7, 3), np.zeros((5, 3), dtype)),
        ("b transposed", r(5, 7), r(3, 7).T, np.zeros((5, 3), dtype)),
        ("both transposed", r(7, 5).T, r(3, 7).T, np.zeros((5, 3), dtype)),
        ("b a column block", r(5, 7), wide[:, 10:22], np.zeros((5, 12), dtype)),
        ("out a row block", r(4, 7), r(7, 6), np.zeros((9, 6), dtype)[3:7]),
        ("out a column block", r(4, 7), r(7, 6), np.zeros((4, 20), dtype)[:, 5:11]),
        ("one column", r(5, 7), r(7, 1), np.zeros((5, 1), dtype)),
        ("strided columns (no BLAS)", r(5, 14)[:, ::2], r(7, 3), np.zeros((5, 3), dtype)),
        ("empty inner", r(5, 0), r(0, 3), np.zeros((5, 3), dtype)),
    ]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("accumulate", [False, True])
@pytest.mark.parametrize("use_blas", [True, False])
def test_gemm_into_matches_matmul(dtype, accumulate, use_blas, monkeypatch):
    monkeypatch.setattr(blas, "enabled", use_blas)
    rng = np.random.default_rng(0)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for name, a, b, out in _views(rng, dtype):
        start = rng.standard_normal(out.shape).astype(dtype)
        out[...] = start
        expected = a.astype(np.float64) @ b.astype(np.float64) + (start if accumulate else 0)
        got = blas.gemm_into(a, b, out, accumulate=accumulate)
        assert got is out, name
        np.testing.assert_allclose(out, expected, rtol=tol, atol=tol, err_msg=name)


def test_gemm_into_blas_and_fallback_agree():
    """BLAS's in-place accumulation and the matmul + add fallback give the same sums."""
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((6, 40), dtype=np.float32), rng.standard_normal((40, 50), dtype=np.float32)
    outs = []
    for flag in (True, False):
        blas.enabled = flag
        try:
            out = np.ones((6, 50), np.float32)
            outs.append(blas.gemm_into(a, b, out, accumulate=True))
        finally:
            blas.enabled = True
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-6, atol=1e-6)


def test_gemm_into_aliasing_output_is_safe():
    """out overlapping an operand: the result is still a @ b (computed before it is written)."""
    rng = np.random.default_rng(2)
    buf = rng.standard_normal((4, 8), dtype=np.float32)
    a, b = buf[:, :4], rng.standard_normal((4, 4), dtype=np.float32)
    expected = a @ b
    blas.gemm_into(a, b, buf[:, 4:])  # out shares the buffer with a (no overlap of elements)
    np.testing.assert_allclose(buf[:, 4:], expected, rtol=1e-5)
    sq = rng.standard_normal((4, 4), dtype=np.float32)
    expected = sq @ b
    blas.gemm_into(sq, b, sq)  # out is a itself
    np.testing.assert_allclose(sq, expected, rtol=1e-5)


@pytest.mark.parametrize("a_shape, b_shape, out_shape", [
    ((3, 4), (5, 2), (3, 2)),
    ((3, 4), (4, 2), (2, 3)),
])
def test_gemm_into_shape_errors_name_the_shapes(a_shape, b_shape, out_shape):
    a, b, out = np.zeros(a_shape, np.float32), np.zeros(b_shape, np.float32), np.zeros(out_shape, np.float32)
    with pytest.raises(ValueError, match=r"gemm_into: shapes \(3, 4\) @ \(\d, 2\) -> \(\d, \d\)"):
        blas.gemm_into(a, b, out)


def test_conv_row_products_same_with_and_without_blas(monkeypatch):
    """The two row products that accumulate through gemm_into agree with their matmul + add fallback."""
    rng = np.random.default_rng(3)
    g = C._Geom((9, 9), (9, 9), (3, 3), (1, 1), (1, 1), (1, 1), 1)
    x = rng.standard_normal((2, 16, 9, 9), dtype=np.float32)
    w = rng.standard_normal((8, 16, 3, 3), dtype=np.float32)
    gy = rng.standard_normal((2, 8, 9, 9), dtype=np.float32)
    results = {}
    for flag in (True, False):
        monkeypatch.setattr(blas, "enabled", flag)
        results[flag] = (C._conv_rows(C._row_cols(x, g), w, g, 2), C._conv_transpose_rows(C._row_grad(gy), w, g, 2))
    for with_blas, without in zip(results[True], results[False]):
        np.testing.assert_allclose(with_blas, without, rtol=1e-6, atol=1e-5)


def test_blas_path_taken_for_blas_layouts_only():
    """With NumPy's OpenBLAS found, BLAS layouts go to gemm and the others fall back (False)."""
    blas._gemms = None
    a, b = np.ones((4, 6), np.float32), np.ones((6, 5), np.float32)
    out = np.zeros((4, 5), np.float32)
    if not blas._find_gemms():
        pytest.skip("this NumPy's BLAS is not an OpenBLAS with a cblas gemm (gemm_into uses matmul)")
    assert blas._blas_gemm(a, b, out, 0.0)
    np.testing.assert_array_equal(out, 6.0)
    assert blas._blas_gemm(a.T.copy().T, b, out, 1.0)  # a transposed layout
    np.testing.assert_array_equal(out, 12.0)
    assert not blas._blas_gemm(np.ones((4, 12), np.float32)[:, ::2], b, out, 0.0)  # no unit stride
    assert not blas._blas_gemm(a.astype(np.float64), b, out, 0.0)  # mixed dtypes
    assert not blas._blas_gemm(a, b, np.zeros((5, 4), np.float32).T, 0.0)  # out column-major
