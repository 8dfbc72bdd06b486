"""Transformer workloads: one AdamW training step of the character-level GPT (nanoGPT's layout, both libraries).

Ours is nn.models.GPT; PyTorch's is the same architecture written with torch.nn below (nanoGPT's
names), loaded with our initial weights, so both start identical. Peak memory of our step is measured
with tracemalloc (NumPy reports its array allocations to it) by `python -m benchmarks.transformer`.
"""

import numpy as np

from . import workload

GPT_SIZES = dict(vocab_size=65, n_embd=128, n_head=4, n_layer=4, block_size=64, batch=16)


def _gpt_data(rng):
    s = GPT_SIZES
    return {"x": rng.integers(0, s["vocab_size"], (s["batch"], s["block_size"])).astype(np.int64),
            "y": rng.integers(0, s["vocab_size"], (s["batch"], s["block_size"])).astype(np.int64)}


def _our_gpt():
    import autograd_core as ag
    import nn
    s = GPT_SIZES
    ag.manual_seed(0)
    return nn.models.GPT(nn.models.GPTConfig(vocab_size=s["vocab_size"], block_size=s["block_size"],
                                             n_layer=s["n_layer"], n_head=s["n_head"], n_embd=s["n_embd"]))


def _torch_gpt(state):
    """nanoGPT's GPT in torch.nn (pre-LN, tanh GELU, tied head), loaded from our state_dict (NumPy arrays)."""
    import torch
    import torch.nn as tnn
    import torch.nn.functional as tF
    s = GPT_SIZES
    C, H = s["n_embd"], s["n_head"]

    class Attn(tnn.Module):
        def __init__(self):
            super().__init__()
            self.c_attn, self.c_proj = tnn.Linear(C, 3 * C), tnn.Linear(C, C)

        def forward(self, x):
            B, T, _ = x.shape
            q, k, v = (t.view(B, T, H, C // H).transpose(1, 2) for t in self.c_attn(x).split(C, dim=2))
            y = tF.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))

    class Block(tnn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1, self.attn, self.ln_2 = tnn.LayerNorm(C), Attn(), tnn.LayerNorm(C)
            self.mlp = tnn.ModuleDict(dict(c_fc=tnn.Linear(C, 4 * C), c_proj=tnn.Linear(4 * C, C)))

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp.c_proj(tF.gelu(self.mlp.c_fc(self.ln_2(x)), approximate="tanh"))

    class GPT(tnn.Module):
        def __init__(self):
            super().__init__()
            self.transformer = tnn.ModuleDict(dict(
                wte=tnn.Embedding(s["vocab_size"], C), wpe=tnn.Embedding(s["block_size"], C),
                h=tnn.ModuleList([Block() for _ in range(s["n_layer"])]), ln_f=tnn.LayerNorm(C)))
            self.lm_head = tnn.Linear(C, s["vocab_size"], bias=False)
            self.lm_head.weight = self.transformer.wte.weight

        def forward(self, idx, targets):
            T = idx.shape[1]
            x = self.transformer.wte(idx) + self.transformer.wpe(torch.arange(T))
            for b in self.transformer.h:
                x = b(x)
            logits = self.lm_head(self.transformer.ln_f(x))
            return logits, tF.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))

    model = GPT()
    model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in state.items()})
    return model


def gpt_setup(lib, data):
    """The model, AdamW and the batch for lib; returns step()."""
    if lib.__name__ == "torch":
        import torch.optim as optim
        model = _torch_gpt({k: v.numpy() for k, v in _our_gpt().state_dict().items()})
    else:
        import optim
        model = _our_gpt()
    opt = optim.AdamW(model.parameters(), lr=1e-3)
    x, y = lib.tensor(data["x"]), lib.tensor(data["y"])

    def step():
        _, loss = model(x, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


@workload("gpt", target=1.0, data=_gpt_data)
def gpt(lib, data):
    """Character GPT (vocab 65, 4 layers, 4 heads, 128 dims, block 64, batch 16), AdamW: one training step."""
    return gpt_setup(lib, data)


def peak_memory(repeat=3):
    """Peak traced bytes of one of our steps (after a warm-up step), and the bytes held before it."""
    import tracemalloc
    import autograd_core as ag
    from autograd_core.backend import keep_freed_memory
    keep_freed_memory()  # as `python -m benchmarks` does
    step = gpt_setup(ag, _gpt_data(np.random.default_rng(0)))
    step()
    peaks = []
    for _ in range(repeat):
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        step()
        peaks.append(tracemalloc.get_traced_memory()[1] - base)
        tracemalloc.stop()
    return min(peaks)


if __name__ == "__main__":
    s = GPT_SIZES
    probs = 4 * s["batch"] * s["n_head"] * s["block_size"] ** 2 * 4
    print(f"gpt step peak memory (tracemalloc, above the model/optimizer state): {peak_memory() / 2**20:.1f} MiB; "
          f"attention probabilities kept for backward: {probs / 2**20:.1f} MiB over {s['n_layer']} layers "
          f"(one (B, nh, T, T) float32 array each, {probs / s['n_layer'] / 2**20:.2f} MiB)")
