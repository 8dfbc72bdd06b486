"""The array module every op computes with (NumPy now; CuPy can slot in here later)."""
import numpy

# why: ops write `xp.exp(a)` rather than `np.exp(a)`, so a GPU backend only has to
# rebind this module variable (and `array_module`) instead of touching every op.
xp = numpy


def array_module(array):
    """Return the array module (NumPy, later CuPy) that owns `array`."""
    return xp
