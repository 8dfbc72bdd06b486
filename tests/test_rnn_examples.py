"""The recurrent examples run: smoke tests with tiny settings, and the forecasting target on the real data."""
import os

import numpy as np
import pytest

from test_examples import SHARED_DATA, load_example

TINY_CHAR = ["--data-dir", SHARED_DATA, "--limit", "20000", "--batch-size", "4", "--seq-len", "16", "--embed", "16",
             "--hidden", "16", "--quiet", "--eval-every", "1000"]


def test_char_lstm_smoke_learns_samples_and_checkpoints(tmp_path, capsys):
    char_lstm = load_example("char_lstm")
    out = str(tmp_path / "run")
    history = char_lstm.main(TINY_CHAR + ["--out", out, "--max-steps", "60", "--lr", "1e-2"])
    assert history["step"][-1] == 60 and history["val_step"] == [60]
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert history["val_loss"][-1] < np.log(58)  # better than uniform over the 58 characters seen
    assert history["sample"].startswith("ROMEO:") and len(history["sample"]) == len("ROMEO:\n") + 300
    assert os.path.exists(os.path.join(out, "checkpoint.ag"))
    best = char_lstm.ag.load(os.path.join(out, "best.ag"))  # the lowest validation loss, for --sample
    assert best["step"] == 60 and best["val_loss"] == history["val_loss"][0]
    sampled = char_lstm.main(["--out", out, "--sample", "40", "--temperature", "0.5", "--prime", "First"])
    assert sampled["sample"].startswith("First") and len(sampled["sample"]) == 45
    assert "val" in capsys.readouterr().out


def test_char_lstm_resume_continues_exactly(tmp_path):
    char_lstm = load_example("char_lstm")
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    const = TINY_CHAR  # the default constant rate (a --lr-min decay would depend on --max-steps)
    char_lstm.main(const + ["--out", a, "--max-steps", "20"])
    resumed = char_lstm.main(const + ["--out", a, "--max-steps", "40", "--resume"])
    straight = char_lstm.main(const + ["--out", b, "--max-steps", "40"])
    assert resumed["step"] == straight["step"] == [10, 20, 30, 40]
    np.testing.assert_allclose(resumed["train_loss"], straight["train_loss"], rtol=1e-6)
    np.testing.assert_allclose(resumed["val_loss"][-1], straight["val_loss"][-1], rtol=1e-6)


def test_char_lstm_lr_decay_reaches_lr_min(tmp_path):
    char_lstm = load_example("char_lstm")
    args = char_lstm.parse_args(TINY_CHAR + ["--out", str(tmp_path), "--max-steps", "5", "--lr-min", "1e-4"])
    model, _, _ = char_lstm.train(args)
    ckpt = char_lstm.ag.load(os.path.join(str(tmp_path), "checkpoint.ag"))
    lrs = [g["lr"] for g in ckpt["optimizer"]["param_groups"]]
    assert lrs and all(1e-4 < lr < 2e-3 * 0.5 for lr in lrs)  # step 5 of 5 uses the cosine's end (step 4/5)


def test_char_lstm_streams_are_contiguous():
    char_lstm = load_example("char_lstm")
    s = char_lstm.streams(np.arange(23), 4)
    assert s.shape == (4, 5)
    np.testing.assert_array_equal(s[1], [5, 6, 7, 8, 9])  # consecutive batches continue each stream


def test_timeseries_lstm_beats_both_baselines_on_the_held_out_year(tmp_path):
    """The real data (1981-1990), the script's defaults: the LSTM's RMSE is below naive and linear."""
    timeseries_lstm = load_example("timeseries_lstm")
    m = timeseries_lstm.main(["--data-dir", SHARED_DATA, "--out", str(tmp_path), "--quiet"])
    assert m["test_days"] == 365
    assert m["rmse_naive"] == pytest.approx(2.58, abs=0.01)  # the data's naive forecast, as a sanity check
    assert m["rmse_lstm"] < m["rmse_linear"] < m["rmse_naive"], m


def test_timeseries_lstm_smoke(tmp_path):
    timeseries_lstm = load_example("timeseries_lstm")
    m = timeseries_lstm.main(["--data-dir", SHARED_DATA, "--out", str(tmp_path), "--quiet", "--epochs", "2",
                              "--hidden", "4", "--window", "7"])
    assert len(m["train_mse"]) == 2 and m["train_mse"][1] < 1.0
    assert os.path.exists(os.path.join(tmp_path, "metrics.json"))


def test_seq2seq_attention_smoke(tmp_path):
    s2s = load_example("seq2seq_attention")
    m = s2s.main(["--steps", "30", "--test-size", "40", "--max-len", "5", "--hidden", "16", "--attn", "16",
                  "--embed", "8", "--out", str(tmp_path), "--quiet"])
    assert 0.0 <= m["exact_match"] <= 1.0 and m["test_strings"] == 40
    assert m["loss"][-1][1] < np.log(12)  # below chance over the 12 tokens


def test_seq2seq_attention_data_holds_out_the_test_strings():
    s2s = load_example("seq2seq_attention")
    args = s2s.parse_args(["--test-size", "30", "--min-len", "3", "--max-len", "4"])
    test = s2s.held_out(args)
    assert sorted(test) == [3, 4] and sum(len(v) for v in test.values()) == 30
    exclude = {s.tobytes() for arr in test.values() for s in arr}
    src, tgt_in, tgt_out = s2s.make_batch(np.random.default_rng(0), 2000, 3, exclude)
    assert not any(s.tobytes() in exclude for s in src)
    np.testing.assert_array_equal(tgt_out[:, :3], src[:, ::-1])
    assert (tgt_in[:, 0] == s2s.SOS).all() and (tgt_out[:, -1] == s2s.EOS).all()


def test_additive_attention_weights_sum_to_one():
    s2s = load_example("seq2seq_attention")
    import autograd_core as ag
    att = s2s.AdditiveAttention(3, 4, 5)
    h = ag.randn(2, 6, 4)
    c, alpha = att(ag.randn(2, 3), att.keys(h), h)
    assert c.shape == (2, 4) and alpha.shape == (2, 6)
    np.testing.assert_allclose(alpha.detach().numpy().sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(c.detach().numpy(), np.einsum("bt,btk->bk", alpha.detach().numpy(),
                                                             h.numpy()), rtol=1e-5, atol=1e-6)
