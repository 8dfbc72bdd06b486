"""MultiheadAttention, transformer layers, nn.Transformer, positional encodings and the GPT model."""
import math

import numpy as np
import pytest

import autograd_core as ag
import nn
import optim
import nn.functional as F

MHA_KEYS = ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]
ENC_LAYER_KEYS = ["self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight",
                  "self_attn.out_proj.bias", "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias",
                  "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias"]
DEC_LAYER_KEYS = ["self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight",
                  "self_attn.out_proj.bias", "multihead_attn.in_proj_weight", "multihead_attn.in_proj_bias",
                  "multihead_attn.out_proj.weight", "multihead_attn.out_proj.bias", "linear1.weight", "linear1.bias",
                  "linear2.weight", "linear2.bias", "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias",
                  "norm3.weight", "norm3.bias"]
TRANSFORMER_KEYS = (["encoder.layers.0." + k for k in ENC_LAYER_KEYS] + ["encoder.norm.weight", "encoder.norm.bias"]
                    + ["decoder.layers.0." + k for k in DEC_LAYER_KEYS] + ["decoder.norm.weight", "decoder.norm.bias"])


def _x(*shape, seed=0, dtype=np.float32):
    return ag.tensor(np.random.default_rng(seed).standard_normal(shape).astype(dtype))


# ---- state_dict layouts (hard-coded: PyTorch 2.13's keys and shapes) ---------------------------------

def test_multihead_attention_state_dict_and_init():
    ag.manual_seed(0)
    mha = nn.MultiheadAttention(8, 2)
    sd = mha.state_dict()
    assert list(sd) == MHA_KEYS
    assert [tuple(sd[k].shape) for k in MHA_KEYS] == [(24, 8), (24,), (8, 8), (8,)]
    assert np.all(sd["in_proj_bias"].numpy() == 0) and np.all(sd["out_proj.bias"].numpy() == 0)
    bound = math.sqrt(6 / (24 + 8))  # xavier_uniform_ on the (3E, E) matrix
    assert np.abs(sd["in_proj_weight"].numpy()).max() <= bound
    kv = nn.MultiheadAttention(8, 2, kdim=5, vdim=3, bias=False)
    assert [(k, tuple(v.shape)) for k, v in kv.state_dict().items()] == [
        ("q_proj_weight", (8, 8)), ("k_proj_weight", (8, 5)), ("v_proj_weight", (8, 3)), ("out_proj.weight", (8, 8))]


def test_encoder_layer_and_transformer_state_dict_keys():
    assert list(nn.TransformerEncoderLayer(8, 2, 16).state_dict()) == ENC_LAYER_KEYS
    assert list(nn.TransformerDecoderLayer(8, 2, 16).state_dict()) == DEC_LAYER_KEYS
    t = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=16)
    assert list(t.state_dict()) == TRANSFORMER_KEYS
    t2 = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=3, dim_feedforward=16)
    assert len(t2.state_dict()) == 2 * 12 + 2 + 3 * 18 + 2
    assert nn.TransformerEncoderLayer(8, 2, 16, bias=False).norm1.bias is None


# ---- MultiheadAttention behaviour -------------------------------------------------------------------------

def test_mha_batch_first_and_unbatched_agree():
    ag.manual_seed(0)
    a = nn.MultiheadAttention(8, 2)
    b = nn.MultiheadAttention(8, 2, batch_first=True)
    b.load_state_dict(a.state_dict())
    x = _x(5, 3, 8)                                     # (L, N, E)
    out_a, w_a = a(x, x, x)
    out_b, w_b = b(x.transpose(0, 1), x.transpose(0, 1), x.transpose(0, 1))
    np.testing.assert_allclose(out_a.detach().numpy(), out_b.detach().numpy().transpose(1, 0, 2), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(w_a.detach().numpy(), w_b.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert w_a.shape == (3, 5, 5)
    np.testing.assert_allclose(w_a.detach().numpy().sum(-1), 1, rtol=1e-5)
    o1, w1 = a(x[:, 1], x[:, 1], x[:, 1])               # unbatched (L, E)
    np.testing.assert_allclose(o1.detach().numpy(), out_a.detach().numpy()[:, 1], rtol=1e-5, atol=1e-6)
    assert w1.shape == (5, 5)
    _, per_head = a(x, x, x, average_attn_weights=False)
    assert per_head.shape == (3, 2, 5, 5)
    np.testing.assert_allclose(per_head.detach().numpy().mean(1), w_a.detach().numpy(), rtol=1e-5, atol=1e-6)
    o_fast, none = a(x, x, x, need_weights=False)
    assert none is None
    np.testing.assert_allclose(o_fast.detach().numpy(), out_a.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_mha_masks():
    ag.manual_seed(1)
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    x = _x(2, 4, 8)
    causal = nn.Transformer.generate_square_subsequent_mask(4)
    assert causal.dtype == np.float32 and causal.numpy()[0, 1] == -np.inf and causal.numpy()[1, 0] == 0
    o1, w1 = mha(x, x, x, attn_mask=causal)
    o2, w2 = mha(x, x, x, attn_mask=ag.tensor(np.triu(np.ones((4, 4), bool), 1)))
    o3, _ = mha(x, x, x, is_causal=True, need_weights=False)
    np.testing.assert_allclose(o1.detach().numpy(), o2.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(o1.detach().numpy(), o3.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert np.all(np.triu(w1.detach().numpy()[0], 1) == 0)
    pad = ag.tensor(np.array([[False, False, True, True], [False, False, False, False]]))
    _, w = mha(x, x, x, key_padding_mask=pad)
    assert np.all(w.detach().numpy()[0][:, 2:] == 0)
    # every key padded: zeros, not NaN
    o, w = mha(x, x, x, key_padding_mask=ag.ones(2, 4, dtype=ag.bool))
    assert np.isfinite(o.detach().numpy()).all() and np.all(w.detach().numpy() == 0)


def test_mha_errors():
    with pytest.raises(ValueError, match="embed_dim 10 must be divisible by num_heads 3"):
        nn.MultiheadAttention(10, 3)
    mha = nn.MultiheadAttention(8, 2)
    x = _x(4, 2, 8)
    with pytest.raises(RuntimeError, match=r"attn_mask of shape \(3, 4\)"):
        mha(x, x, x, attn_mask=ag.zeros(3, 4))
    with pytest.raises(RuntimeError, match=r"key_padding_mask of shape \(4, 2\)"):
        mha(x, x, x, key_padding_mask=ag.zeros(4, 2, dtype=ag.bool))
    with pytest.raises(ValueError, match="embed_dim"):
        mha(_x(4, 2, 6), _x(4, 2, 6), _x(4, 2, 6))
    with pytest.raises(RuntimeError, match="activation"):
        nn.TransformerEncoderLayer(8, 2, activation="swish")


def test_mha_gradcheck():
    ag.manual_seed(2)
    mha = nn.MultiheadAttention(4, 2, kdim=3, vdim=5).double()
    q, k, v = _x(3, 2, 4, dtype=np.float64), _x(4, 2, 3, seed=1, dtype=np.float64), _x(4, 2, 5, seed=2,
                                                                                        dtype=np.float64)
    for t in (q, k, v):
        t.requires_grad_()
    pad = ag.tensor(np.array([[False, True, False, False], [False, False, False, True]]))
    assert ag.gradcheck(lambda q, k, v: mha(q, k, v, key_padding_mask=pad)[0], [q, k, v])
    assert ag.gradcheck(lambda q: mha(q, k, v)[1], [q])


# ---- encoder / decoder layers -----------------------------------------------------------------------

@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_layer_runs_and_causal_mask_blocks_future(norm_first):
    ag.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True, norm_first=norm_first,
                                       activation="gelu")
    x = _x(2, 6, 8)
    mask = nn.Transformer.generate_square_subsequent_mask(6)
    out = layer(x, src_mask=mask).detach().numpy()
    x2 = x.clone()
    x2[:, 4:] = 5.0
    out2 = layer(x2, src_mask=mask).detach().numpy()
    np.testing.assert_allclose(out[:, :4], out2[:, :4], rtol=1e-6)
    assert not np.allclose(out[:, 4:], out2[:, 4:])
    enc = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(8))
    assert enc(x, mask=mask).shape == (2, 6, 8)
    assert enc.layers[0] is not enc.layers[1]  # deep copies


def test_decoder_layer_callable_activation_and_shapes():
    layer = nn.TransformerDecoderLayer(8, 2, 16, dropout=0.1, activation=F.silu)
    dec = nn.TransformerDecoder(layer, 2)
    tgt, mem = _x(5, 3, 8), _x(7, 3, 8, seed=1)
    assert dec(tgt, mem, tgt_mask=nn.Transformer.generate_square_subsequent_mask(5)).shape == (5, 3, 8)


def test_transformer_learns_a_copy_task():
    """An encoder-decoder nn.Transformer copies sequences of 6 tokens (teacher forcing, then greedy decoding)."""
    ag.manual_seed(0)
    rng = np.random.default_rng(0)
    V, T, D, BOS = 8, 6, 32, 0
    emb = nn.Embedding(V, D)
    pos = nn.SinusoidalPositionalEncoding(D, max_len=T + 1)
    model = nn.Transformer(d_model=D, nhead=4, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=64,
                           dropout=0.0, batch_first=True)
    head = nn.Linear(D, V)
    params = list(emb.parameters()) + list(model.parameters()) + list(head.parameters())
    opt = optim.Adam(params, lr=3e-3)
    mask = nn.Transformer.generate_square_subsequent_mask(T)

    def run(src, tgt_in):
        return head(model(pos(emb(src)), pos(emb(tgt_in)), tgt_mask=mask))

    for _ in range(250):
        src = ag.from_numpy(rng.integers(1, V, (32, T)))
        tgt_in = ag.cat([ag.zeros(32, 1, dtype=ag.int64), src[:, :-1]], dim=1)
        loss = F.cross_entropy(run(src, tgt_in).reshape((-1, V)), src.reshape((-1,)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    src = ag.from_numpy(rng.integers(1, V, (64, T)))
    out = ag.full((64, 1), BOS, dtype=ag.int64)
    with ag.no_grad():
        for t in range(T):   # greedy decoding, one token at a time
            tgt_in = ag.cat([out, ag.zeros(64, T - out.shape[1], dtype=ag.int64)], dim=1)
            nxt = run(src, tgt_in)[:, t].argmax(-1)
            out = ag.cat([out, nxt.reshape((64, 1))], dim=1)
    acc = (out[:, 1:].numpy() == src.numpy()).mean()
    assert loss.item() < 0.1
    assert acc > 0.95, acc


# ---- positional encodings ---------------------------------------------------------------------------

def test_sinusoidal_encoding_is_the_course_formula():
    pe = nn.transformer.sinusoidal_positional_encoding(10, 6)
    k, i = 3, 2
    assert pe.dtype == np.float32
    np.testing.assert_allclose(pe[k, 2 * i], math.sin(k / 10000 ** (2 * i / 6)), rtol=1e-6)
    np.testing.assert_allclose(pe[k, 2 * i + 1], math.cos(k / 10000 ** (2 * i / 6)), rtol=1e-6)
    one_based = nn.transformer.sinusoidal_positional_encoding(10, 6, start=1)
    np.testing.assert_allclose(one_based[0], pe[1])
    layer = nn.SinusoidalPositionalEncoding(6, max_len=10)
    x = ag.zeros(2, 4, 6)
    np.testing.assert_allclose(layer(x).numpy()[1], pe[:4])
    assert list(layer.state_dict()) == []
    with pytest.raises(ValueError, match="max_len=10"):
        layer(ag.zeros(1, 11, 6))
    learned = nn.LearnedPositionalEncoding(6, max_len=10)
    assert [n for n, _ in learned.named_parameters()] == ["weight"] and learned(x).shape == (2, 4, 6)


# ---- GPT ----------------------------------------------------------------------------------------------

def _tiny(**kw):
    cfg = dict(vocab_size=11, block_size=8, n_layer=1, n_head=2, n_embd=8)
    cfg.update(kw)
    ag.manual_seed(0)
    return nn.models.GPT(nn.models.GPTConfig(**cfg))


def test_gpt_structure_tying_and_init():
    model = _tiny(n_layer=3, n_embd=32, n_head=4, vocab_size=50)
    assert model.lm_head.weight is model.transformer.wte.weight
    keys = list(model.state_dict())
    assert keys[:4] == ["transformer.wte.weight", "transformer.wpe.weight", "transformer.h.0.ln_1.weight",
                        "transformer.h.0.ln_1.bias"]
    assert "transformer.h.2.mlp.c_proj.weight" in keys and "lm_head.weight" in keys
    std_proj = model.transformer.h[0].mlp.c_proj.weight.detach().numpy().std()
    std_fc = model.transformer.h[0].mlp.c_fc.weight.detach().numpy().std()
    assert abs(std_fc - 0.02) < 0.003 and abs(std_proj - 0.02 / math.sqrt(6)) < 0.002
    tokens = ag.from_numpy(np.random.default_rng(0).integers(0, 50, (2, 6)))
    logits, loss = model(tokens[:, :-1], tokens[:, 1:])
    assert logits.shape == (2, 5, 50) and logits.dtype == np.float32
    assert abs(loss.item() - math.log(50)) < 0.2   # small init: close to uniform


def test_gpt_no_causal_leakage_pre_and_post_ln():
    for post_ln in (False, True):
        model = _tiny(post_ln=post_ln)
        idx = ag.from_numpy(np.random.default_rng(0).integers(0, 11, (2, 8)))
        a = model(idx)[0].detach().numpy()
        idx2 = idx.clone()
        idx2[:, 5:] = (idx2[:, 5:] + 1) % 11
        b = model(idx2)[0].detach().numpy()
        np.testing.assert_array_equal(a[:, :5], b[:, :5])
        assert not np.allclose(a[:, 5:], b[:, 5:])


def test_gpt_gradcheck_one_block_float64():
    model = _tiny(vocab_size=5, block_size=4, n_embd=4).double()
    idx = ag.from_numpy(np.array([[1, 3, 0, 2]]))
    tgt = ag.from_numpy(np.array([[3, 0, 2, 4]]))
    params = list(model.parameters())
    assert all(p.dtype == np.float64 for p in params)
    assert ag.gradcheck(lambda *ps: model(idx, tgt)[1], params, atol=1e-6)


def test_gpt_loss_is_cross_entropy_of_shifted_targets():
    model = _tiny()
    tokens = ag.from_numpy(np.random.default_rng(1).integers(0, 11, (3, 7)))
    logits, loss = model(tokens[:, :-1], tokens[:, 1:])
    lp = logits.detach().numpy() - np.log(np.exp(logits.detach().numpy()).sum(-1, keepdims=True))
    want = -np.take_along_axis(lp, tokens.numpy()[:, 1:, None], -1).mean()
    np.testing.assert_allclose(loss.item(), want, rtol=1e-5)
    np.testing.assert_allclose(model.sequence_loss(tokens, reduction="sum").item(), want * 18, rtol=1e-5)


def test_gpt_too_long_sequence_names_the_limit():
    model = _tiny()
    with pytest.raises(ValueError, match="length 9.*block_size is only 8"):
        model(ag.zeros(1, 9, dtype=ag.int64))
    with pytest.raises(ValueError, match="n_embd 10 must be divisible by n_head 3"):
        nn.models.GPT(nn.models.GPTConfig(n_embd=10, n_head=3))


def test_generate_respects_block_size_and_top_k():
    model = _tiny()
    model.eval()
    seen = []
    model.register_forward_pre_hook(lambda m, args: seen.append(args[0].shape[1]))
    out = model.generate(ag.zeros(2, 3, dtype=ag.int64), 20, generator=ag.Generator().manual_seed(0))
    assert out.shape == (2, 23) and max(seen) == 8 and len(seen) == 20
    # top_k=1 is greedy decoding
    greedy = model.generate(ag.zeros(1, 1, dtype=ag.int64), 10, top_k=1)
    idx = ag.zeros(1, 1, dtype=ag.int64)
    for _ in range(10):
        nxt = model(idx[:, -8:])[0][:, -1].argmax(-1).reshape((1, 1))
        idx = ag.cat([idx, nxt], dim=1)
    np.testing.assert_array_equal(greedy.numpy(), idx.numpy())
    # top_k=2: every sampled token is one of the two most likely after its context
    out = model.generate(ag.zeros(4, 1, dtype=ag.int64), 12, top_k=2, temperature=2.0,
                         generator=ag.Generator().manual_seed(1))
    for t in range(1, out.shape[1]):
        logits = model(out[:, max(0, t - 8):t])[0][:, -1].detach().numpy()
        top2 = np.argsort(logits, -1)[:, -2:]
        assert all(out.numpy()[b, t] in top2[b] for b in range(4))


def test_attention_maps_for_plotting():
    model = _tiny(n_layer=2)
    maps = model.attention_maps(ag.from_numpy(np.array([[1, 2, 3, 4, 5]])))
    assert len(maps) == 2 and maps[0].shape == (1, 2, 5, 5)
    np.testing.assert_allclose(maps[1].sum(-1), 1, rtol=1e-5)
    assert np.all(np.triu(maps[0][0, 0], 1) == 0)
    assert model.transformer.h[0].attn.attention is None   # not kept after the call


# ---- PyTorch cross-checks ---------------------------------------------------------------------------

def _to_torch(torch, module, ours):
    module.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in ours.state_dict().items()})
    module.eval()
    return module


def test_mha_matches_torch():
    torch = pytest.importorskip("torch")
    ag.manual_seed(0)
    ours = nn.MultiheadAttention(8, 2, batch_first=True)
    theirs = _to_torch(torch, torch.nn.MultiheadAttention(8, 2, batch_first=True), ours)
    x, y = _x(2, 4, 8), _x(2, 6, 8, seed=1)
    pad = np.array([[False] * 5 + [True], [False] * 6])
    amask = np.triu(np.ones((4, 6), bool), 3)
    for kw in (dict(), dict(average_attn_weights=False)):
        o, w = ours(x, y, y, key_padding_mask=ag.tensor(pad), attn_mask=ag.tensor(amask), **kw)
        to, tw = theirs(*(torch.tensor(t.numpy()) for t in (x, y, y)), key_padding_mask=torch.tensor(pad),
                        attn_mask=torch.tensor(amask), **kw)
        np.testing.assert_allclose(o.detach().numpy(), to.detach().numpy(), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(w.detach().numpy(), tw.detach().numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("norm_first,activation", [(False, "relu"), (True, "gelu")])
def test_transformer_matches_torch(norm_first, activation):
    torch = pytest.importorskip("torch")
    ag.manual_seed(0)
    kw = dict(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=1, dim_feedforward=16,
              activation=activation, norm_first=norm_first, batch_first=True)
    ours = nn.Transformer(**kw)
    ours.eval()
    theirs = _to_torch(torch, torch.nn.Transformer(**kw), ours)
    src, tgt = _x(2, 5, 8), _x(2, 4, 8, seed=1)
    mask = nn.Transformer.generate_square_subsequent_mask(4)
    pad = np.array([[False] * 4 + [True], [False] * 5])
    o = ours(src, tgt, tgt_mask=mask, src_key_padding_mask=ag.tensor(pad), memory_key_padding_mask=ag.tensor(pad))
    with torch.no_grad():
        t = theirs(torch.tensor(src.numpy()), torch.tensor(tgt.numpy()), tgt_mask=torch.tensor(mask.numpy()),
                   src_key_padding_mask=torch.tensor(pad), memory_key_padding_mask=torch.tensor(pad))
    np.testing.assert_allclose(o.detach().numpy(), t.numpy(), rtol=1e-4, atol=1e-5)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    enc_ours = nn.TransformerEncoderLayer(8, 2, 16)
    assert list(enc_ours.state_dict()) == list(torch.nn.TransformerEncoderLayer(8, 2, 16).state_dict())


def test_functional_multi_head_attention_forward_matches_the_layer():
    ag.manual_seed(3)
    mha = nn.MultiheadAttention(8, 2)
    x = _x(4, 2, 8)
    mask = nn.Transformer.generate_square_subsequent_mask(4)
    o, w = F.multi_head_attention_forward(x, x, x, 8, 2, mha.in_proj_weight, mha.in_proj_bias, None, None, False,
                                          0.0, mha.out_proj.weight, mha.out_proj.bias, attn_mask=mask)
    o2, w2 = mha(x, x, x, attn_mask=mask)
    np.testing.assert_allclose(o.detach().numpy(), o2.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(w.detach().numpy(), w2.detach().numpy(), rtol=1e-6)
    assert "scaled_dot_product_attention" in F.__all__ and "multi_head_attention_forward" in F.__all__


def test_gpt_dropout_trains_and_eval_is_deterministic():
    model = _tiny(dropout=0.5)
    idx = ag.from_numpy(np.random.default_rng(0).integers(0, 11, (2, 8)))
    a, b = model(idx)[0].detach().numpy(), model(idx)[0].detach().numpy()
    assert not np.allclose(a, b)
    _, loss = model(idx, idx)
    loss.backward()
    assert all(p.grad is not None for p in model.parameters())
    model.eval()
    np.testing.assert_array_equal(model(idx)[0].detach().numpy(), model(idx)[0].detach().numpy())


def test_mha_kdim_vdim_matches_torch():
    torch = pytest.importorskip("torch")
    ag.manual_seed(4)
    ours = nn.MultiheadAttention(8, 2, kdim=5, vdim=3)
    theirs = _to_torch(torch, torch.nn.MultiheadAttention(8, 2, kdim=5, vdim=3), ours)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    q, k, v = _x(4, 2, 8), _x(6, 2, 5, seed=1), _x(6, 2, 3, seed=2)
    o, w = ours(q, k, v)
    to, tw = theirs(*(torch.tensor(t.numpy()) for t in (q, k, v)))
    np.testing.assert_allclose(o.detach().numpy(), to.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(w.detach().numpy(), tw.detach().numpy(), rtol=1e-4, atol=1e-5)
