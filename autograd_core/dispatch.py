"""NumPy dispatch tables: which Tensor op answers `xp.exp(t)`, `xp.where(c, t, 0)`, `array * t`.

Library backward formulas are written with operators and `xp.*` calls. On plain arrays (an ordinary
backward) NumPy runs them; on Tensors (`create_graph=True`) NumPy hands the call to Tensor's
`__array_ufunc__` / `__array_function__`, which look the function up here and run the recorded op.
"""

UFUNCS = {}
FUNCTIONS = {}


def implements_ufunc(*ufuncs):
    """Register a Tensor function as the answer to these NumPy ufuncs."""
    def deco(fn):
        for u in ufuncs:
            UFUNCS[u] = fn
        return fn
    return deco


def implements(*np_functions):
    """Register a Tensor function as the answer to these NumPy functions (`__array_function__`)."""
    def deco(fn):
        for f in np_functions:
            FUNCTIONS[f] = fn
        return fn
    return deco
