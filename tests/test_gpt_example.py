"""examples/gpt_shakespeare.py with tiny settings on the real Tiny Shakespeare text: runs, learns, resumes, plots."""
import json
import os

import pytest
from test_examples import SHARED_DATA, load_example

TINY = ["--data", SHARED_DATA, "--quiet", "--limit", "20000", "--batch-size", "8", "--block-size", "16",
        "--n-layer", "1", "--n-head", "2", "--n-embd", "16", "--eval-interval", "20", "--eval-iters", "2",
        "--sample-chars", "30", "--minutes", "0", "--warmup", "5"]


def test_gpt_shakespeare_smoke_and_resume(tmp_path):
    gpt = load_example("gpt_shakespeare")
    out = str(tmp_path / "run")
    history = gpt.main(TINY + ["--out", out, "--max-iters", "40"])
    assert history["step"] == [0, 20, 40]
    assert history["val_loss"][-1] < history["val_loss"][0] - 0.3      # it learns (from about ln(vocab) = 4.1)
    assert len(history["sample"]) == 31
    assert os.path.exists(os.path.join(out, "checkpoint.ag"))
    with open(os.path.join(out, "metrics.json")) as f:
        assert json.load(f)["step"] == [0, 20, 40]
    resumed = gpt.main(TINY + ["--out", out, "--max-iters", "60", "--resume"])
    assert resumed["step"] == [0, 20, 40, 60]
    assert resumed["val_loss"][:3] == history["val_loss"]
    pytest.importorskip("matplotlib")
    for name in ("loss.png", "attention.png"):
        assert os.path.getsize(os.path.join(out, name)) > 0


def test_gpt_shakespeare_help(capsys):
    gpt = load_example("gpt_shakespeare")
    with pytest.raises(SystemExit):
        gpt.parse_args(["--help"])
    assert "--minutes" in capsys.readouterr().out
