"""The benchmark harness (speed itself is never asserted: benchmarks/ measures it)."""
import pytest

import autograd_core as ag
from benchmarks import load_all
from benchmarks.__main__ import _time_block, run_workload


def test_time_block_runs_untimed_steps_for_the_settle_time_first():
    calls = []
    per_step = _time_block(lambda: calls.append(1), 3, settle_s=0.02)
    assert len(calls) > 3 and per_step >= 0.0
    calls.clear()
    _time_block(lambda: calls.append(1), 3)
    assert len(calls) == 3  # no settling asked: exactly the timed steps


@pytest.mark.parametrize("other,settle", [(None, 0.0), (ag, 0.01)])
def test_run_workload_times_both_sides_and_settles_only_when_there_are_two(other, settle):
    """`other` stands in for PyTorch (the workloads use the same API), so the test needs no torch."""
    res = run_workload(load_all()["tiny_ops"], other, repeat=2, warmup=1, seed=0, min_block_s=0.001,
                       settle_s=0.01)
    assert res["ours_s"] > 0 and len(res["ours_blocks_s"]) == 2
    assert res["settle_s"] == settle
    if other is None:
        assert "ratio" not in res
    else:
        assert len(res["torch_blocks_s"]) == 2 and res["ratio"] == res["ours_s"] / res["torch_s"]
