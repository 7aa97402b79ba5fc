"""Incremental forward of the viseme transformer, for streaming: only the new frames are computed.

A frame's hidden state in every layer is final once the frame itself is (its inputs reach at most
the first layer's lookahead ahead, and attention after the first layer only looks back). So a stream
keeps, for each layer after the first, that layer's *input* over the last ``n_hist`` final frames
(the attention window back, ``left_context_s``), and a call computes the next ``n_query`` frames:

* layer 0 attends from the new frames over a window of model inputs ``[a - n_hist, a + n_query + look)``
  (recomputed from the phones: cheap, and inputs ahead of ``a`` are not cached anywhere);
* layer ``l >= 1`` attends from the new frames over its cached inputs plus the new frames' inputs.

The arithmetic is the network's own (``Block.norm1``, ``Attention.qkv``, ``Block.residual``,
``VisemeTransformer.heads``); only the attention is dense over the short window instead of block-wise,
with the same time window and edge tolerance, so the outputs equal the offline forward up to float32
rounding (tests/models/test_model.py, and ``benchmarks/realtime.py`` on real speech).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
from flax import nnx

from visemes.models.network import NEG_INF, WINDOW_EPS, VisemeTransformer, rotary_tables


def window_attention(q, k, v, tq, tk, key_mask, left_s: float, right_s: float):
    """Dense local attention of queries q [B, Q, H, D] (times tq [B, Q]) over keys and values k, v
    [B, K, H, D] (times tk [B, K], real where key_mask [B, K]) within [-left_s, +right_s] seconds."""
    D = q.shape[-1]
    dt = tk[:, None, :] - tq[:, :, None]  # [B, Q, K]
    ok = (dt >= -left_s - WINDOW_EPS) & (dt <= right_s + WINDOW_EPS) & key_mask[:, None, :]
    logits = jnp.einsum("bqhd,bkhd->bhqk", q, k) / jnp.sqrt(jnp.float32(D))
    weights = jax.nn.softmax(jnp.where(ok[:, None], logits, NEG_INF), axis=-1)
    return jnp.einsum("bhqk,bkhd->bqhd", weights, v)


def step(model: VisemeTransformer, batch: dict[str, jax.Array], history: jax.Array, history_mask: jax.Array,
         n_query: int) -> tuple[dict[str, Any], jax.Array]:
    """Outputs for ``n_query`` new frames and their inputs to layers 1.. (to extend the history).

    ``batch``: model inputs for the window frames ``[a - n_hist, a + n_query + look)`` (``frame_mask``
    false for frames that do not exist or are not known); ``history`` [n_layers - 1, B, n_hist, d]: the
    inputs of layers 1.. for frames ``[a - n_hist, a)``, real where ``history_mask`` [B, n_hist].
    Returns (outputs [B, n_query, ...], new layer inputs [n_layers - 1, B, n_query, d])."""
    n_hist = history.shape[2]
    x = model.frames(batch)
    times, mask = batch["frame_time"], batch["frame_mask"]
    positions = times / model.cfg.rope_unit_s
    q_at = slice(n_hist, n_hist + n_query)
    tables = rotary_tables(positions, model.cfg.head_dim)
    key_times, key_tables, key_mask = times, tables, mask  # layer 0: the whole window
    new = []
    for i, layer in enumerate(model.layers):
        if i > 0:
            new.append(x)
            x = jnp.concatenate([history[i - 1], x], axis=1)
            key_times = times[:, : n_hist + n_query]
            key_tables = tuple(t[:, : n_hist + n_query] for t in tables)
            key_mask = jnp.concatenate([history_mask, mask[:, q_at]], axis=1)
        qkv = layer.attn.qkv(layer.norm1(x), key_tables)
        q, k, v = qkv[:, q_at, 0], qkv[:, :, 1], qkv[:, :, 2]
        out = window_attention(q, k, v, times[:, q_at], key_times, key_mask, layer.left_s, layer.right_s)
        B = out.shape[0]
        x = layer.residual(x[:, q_at], layer.attn.o(out.reshape(B, n_query, -1)))
    return model.heads(x), jnp.stack(new) if new else jnp.zeros((0, x.shape[0], n_query, x.shape[-1]), x.dtype)


def _apply(graphdef, treedef, n_query, leaves, batch, history, history_mask):
    model = nnx.merge(graphdef, jax.tree.unflatten(treedef, leaves))
    return step(model, batch, history, history_mask, n_query)


class IncrementalRunner:
    """Compiled :func:`step` functions of one model (one per query count and input shape), called with
    the weights as a flat tuple (flattening an ``nnx.State`` on every call costs more than the step)."""

    def __init__(self, graphdef, state):
        leaves, self.treedef = jax.tree.flatten(state)
        self.graphdef = graphdef
        self._fns: dict[int, Any] = {}
        self.leaves = tuple(leaves)

    def with_state(self, state) -> "IncrementalRunner":
        """The same compiled functions with other weights of the same structure (an adapter merged in)."""
        other = IncrementalRunner.__new__(IncrementalRunner)
        other.graphdef, other.treedef, other._fns = self.graphdef, self.treedef, self._fns
        other.leaves = tuple(jax.tree.leaves(state))
        return other

    def __call__(self, batch, history, history_mask, n_query: int):
        fn = self._fns.get(n_query)
        if fn is None:
            fn = self._fns[n_query] = jax.jit(partial(_apply, self.graphdef, self.treedef, n_query))
        return fn(self.leaves, batch, history, history_mask)
