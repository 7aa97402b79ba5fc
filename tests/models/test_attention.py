"""Block-local attention (models.network.local_attention) against plain masked attention over all frames.

The reference is written here in numpy: every query attends every key whose time is within
[-left_s, +right_s] of its own and whose frame is real (key_mask), softmax over those keys only. The
block-wise version must give the same numbers wherever a query has at least one key to attend.
"""

from __future__ import annotations

import jax
import numpy as np
import pytest
from flax import nnx

from visemes.models.config import ModelConfig
from visemes.models.network import Block, local_attention

EPS = 1e-4  # the window's edge tolerance, as in the model


def reference_attention(q, k, v, times, key_mask, left_s, right_s):
    """Full [T, T] masked softmax attention; rows with no allowed key are NaN (not compared)."""
    B, T, H, D = q.shape
    out = np.full((B, T, H, D), np.nan)
    for b in range(B):
        dt = times[b][None, :] - times[b][:, None]  # key time - query time
        allowed = (dt >= -left_s - EPS) & (dt <= right_s + EPS) & key_mask[b][None, :]
        for h in range(H):
            logits = q[b, :, h, :].astype(np.float64) @ k[b, :, h, :].astype(np.float64).T / np.sqrt(D)
            for i in range(T):
                if not allowed[i].any():
                    continue
                z = logits[i, allowed[i]]
                w = np.exp(z - z.max())
                w /= w.sum()
                out[b, i, h] = w @ v[b, allowed[i], h, :].astype(np.float64)
    return out


def _windows(cfg: ModelConfig, right_s: float) -> tuple[int, int, int]:
    """The key blocks each side the model itself uses for this right context."""
    block = Block(cfg, right_s, rngs=nnx.Rngs(0))
    return block.block, block.n_left, block.n_right


@pytest.mark.parametrize("right_s", [0.0, 0.08, 0.2], ids=["causal", "lookahead-80ms", "lookahead-200ms"])
@pytest.mark.parametrize("fps", [30.0, 60.0])
@pytest.mark.parametrize("seed", [0, 1])
def test_block_local_attention_equals_plain_masked_attention(right_s, fps, seed):
    cfg = ModelConfig.tiny(left_context_s=0.3, lookahead_s=max(right_s, 0.0))
    block, n_left, n_right = _windows(cfg, right_s)
    rng = np.random.default_rng(seed)
    B, T, H, D = 2, 6 * block, 2, 8
    q, k, v = (rng.standard_normal((B, T, H, D)).astype(np.float32) * 2.0 for _ in range(3))
    start = rng.uniform(0.0, 5.0, size=(B, 1))                        # utterances need not start at 0 s
    times = (start + np.arange(T)[None, :] / fps).astype(np.float32)
    key_mask = np.ones((B, T), bool)
    key_mask[0, T - block - 3 :] = False                              # padding at the end of one item
    key_mask[1, rng.choice(T, size=T // 8, replace=False)] = False    # scattered holes in the other
    got = np.asarray(local_attention(q, k, v, times, key_mask, cfg.left_context_s, right_s, block, n_left, n_right))
    want = reference_attention(q, k, v, times.astype(np.float64), key_mask, cfg.left_context_s, right_s)
    rows = ~np.isnan(want[..., 0, 0])
    assert rows.sum() > 0.8 * B * T
    np.testing.assert_allclose(got[rows], want[rows], atol=2e-5, rtol=1e-4)


def test_the_window_is_what_the_config_says():
    """Guards the test itself: with lookahead a query sees the future, without it never does."""
    cfg = ModelConfig.tiny(left_context_s=0.3, lookahead_s=0.1)
    fps, T, D = 60.0, 64, 4
    times = (np.arange(T) / fps)[None].astype(np.float32)
    mask = np.ones((1, T), bool)
    q = np.zeros((1, T, 1, D), np.float32)  # equal logits: each output is the mean of the allowed values
    v = np.arange(T, dtype=np.float32)[None, :, None, None].repeat(D, axis=3)
    means = {}
    for right_s in (0.0, 0.1):
        block, n_left, n_right = _windows(cfg, right_s)
        out = np.asarray(local_attention(q, q, v, times, mask, cfg.left_context_s, right_s, block, n_left, n_right))
        i = 40  # frames 22..40 back (0.3 s at 60 fps), and 41..46 ahead with 0.1 s lookahead
        lo, hi = i - 18, i + round(right_s * fps)
        means[right_s] = out[0, i, 0, 0]
        assert means[right_s] == pytest.approx(np.mean(np.arange(lo, hi + 1)), abs=1e-4)
    assert means[0.1] > means[0.0]


def test_jit_compiled_attention_matches_too():
    cfg = ModelConfig.tiny()
    block, n_left, n_right = _windows(cfg, cfg.lookahead_s)
    rng = np.random.default_rng(3)
    q, k, v = (rng.standard_normal((1, 4 * block, 2, 8)).astype(np.float32) for _ in range(3))
    times = (np.arange(4 * block) / 50.0)[None].astype(np.float32)
    mask = np.ones((1, 4 * block), bool)
    fn = jax.jit(local_attention, static_argnums=(5, 6, 7, 8, 9))
    got = np.asarray(fn(q, k, v, times, mask, cfg.left_context_s, cfg.lookahead_s, block, n_left, n_right))
    want = reference_attention(q, k, v, times.astype(np.float64), mask, cfg.left_context_s, cfg.lookahead_s)
    np.testing.assert_allclose(got, want, atol=2e-5, rtol=1e-4)
