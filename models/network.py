"""The non-autoregressive viseme transformer (Flax NNX). Model code only: no optax, no I/O.

phones (id + phonological features + tone/stress) ──PhoneEncoder──► per-phone vectors
   ──length regulation (frame -> phone index from the boundaries) + position/audio/language──► frames
   ──pre-norm transformer, rotary positions in *time*, local attention windows──► hidden
   ──► mouth latent (``latent_dim``) ──► articulation (9, [0,1]) · ARKit blendshapes ([0,1]) · viseme logits
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from visemes.models.config import ModelConfig
from visemes.models.features import N_FEATURES
from visemes.models.inputs import N_AUDIO, N_POS

NEG_INF = -1e9  # finite, so fully masked (padding) rows give a uniform softmax instead of NaN
WINDOW_EPS = 1e-4  # seconds: a key exactly on a window's edge (up to float32 rounding of times) is inside


def rotary_tables(positions: jax.Array, dim: int) -> tuple[jax.Array, jax.Array]:
    """(sin, cos) [B, T, 1, dim // 2] of the rotary embedding at ``positions`` [B, T] (may be fractional):
    computed once per forward and shared by every layer's queries and keys."""
    half = dim // 2
    freqs = 1.0 / (10000.0 ** (jnp.arange(half, dtype=jnp.float32) / half))
    angles = positions[..., None].astype(jnp.float32) * freqs  # [B, T, half]
    return jnp.sin(angles)[:, :, None, :], jnp.cos(angles)[:, :, None, :]


def apply_rotary(x: jax.Array, tables: tuple[jax.Array, jax.Array]) -> jax.Array:
    """Rotate x [B, T, H, D] (any number of head axes) by ``rotary_tables``."""
    sin, cos = tables
    half = x.shape[-1] // 2
    extra = x.ndim - sin.ndim
    sin, cos = sin.reshape(sin.shape[:2] + (1,) * extra + sin.shape[2:]), cos.reshape(cos.shape[:2] + (1,) * extra + cos.shape[2:])
    x1, x2 = x[..., :half], x[..., half:]
    return jnp.concatenate([x1 * cos - x2 * sin, x2 * cos + x1 * sin], axis=-1)


def rotary(x: jax.Array, positions: jax.Array) -> jax.Array:
    """Rotary position embedding over the last axis; ``positions`` [B, T] may be fractional."""
    return apply_rotary(x, rotary_tables(positions, x.shape[-1]))


def block_windows(x: jax.Array, block: int, n_left: int, n_right: int, fill) -> jax.Array:
    """[B, T, ...] -> [B, T//block, (n_left+1+n_right)*block, ...]: for each block of queries, the
    keys of the ``n_left`` blocks before it, itself and ``n_right`` blocks after it."""
    B, T = x.shape[:2]
    nb = T // block
    pad = [(0, 0), (n_left * block, n_right * block)] + [(0, 0)] * (x.ndim - 2)
    xp = jnp.pad(x, pad, constant_values=fill).reshape(B, nb + n_left + n_right, block, *x.shape[2:])
    win = jnp.concatenate([xp[:, o : o + nb] for o in range(n_left + 1 + n_right)], axis=2)
    return win


def window_mask(times, key_mask, left_s: float, right_s: float, block: int, n_left: int, n_right: int) -> jax.Array:
    """[B, T//block, block, W]: which keys of its block window (``block_windows``) each query may attend:
    real keys within [-left_s, +right_s] seconds. The same for every layer with the same window."""
    B, T = times.shape
    tq = times.reshape(B, T // block, block)
    tk = block_windows(times, block, n_left, n_right, -1e6)          # sentinel time: never in a window
    mk = block_windows(key_mask, block, n_left, n_right, False)
    dt = tk[:, :, None, :] - tq[:, :, :, None]                       # [B, nb, Bq, W]
    return (dt >= -left_s - WINDOW_EPS) & (dt <= right_s + WINDOW_EPS) & mk[:, :, None, :]


def block_attention(q, kv, ok, block: int, n_left: int, n_right: int):
    """Block-wise attention of q [B, T, H, D] over keys and values kv [B, T, 2, H, D] where ``ok``
    (``window_mask``) allows. Each query block meets its key blocks one offset at a time (slices of the
    padded keys, heads leading): no copy of the keys per window, and no transposes inside the matmuls.
    Only slices, no indexing: the sequence length may stay symbolic (ONNX export)."""
    B, T, H, D = q.shape
    nb, n_off = T // block, n_left + 1 + n_right

    def blocks(x):  # [B, T, H, D] -> [B, H, T // block (+ padding blocks), block, D]
        x = jnp.pad(jnp.transpose(x, (0, 2, 1, 3)), [(0, 0), (0, 0), (n_left * block, n_right * block), (0, 0)])
        return x.reshape(B, H, nb + n_off - 1, block, D)

    k, v = (jnp.squeeze(a, 2) for a in jnp.split(kv, 2, axis=2))
    qb = jnp.transpose(q, (0, 2, 1, 3)).reshape(B, H, nb, block, D) / jnp.sqrt(jnp.float32(D))
    kp, vp = blocks(k), blocks(v)

    def at(x, o):
        return jax.lax.slice_in_dim(x, o, o + nb, axis=2)

    logits = jnp.concatenate([jnp.einsum("bhnqd,bhnkd->bhnqk", qb, at(kp, o)) for o in range(n_off)],
                             axis=-1)                                  # [B, H, nb, block, W]
    weights = jax.nn.softmax(jnp.where(ok[:, None], logits, NEG_INF), axis=-1)
    out = sum(jnp.einsum("bhnqk,bhnkd->bhnqd", jax.lax.slice_in_dim(weights, o * block, (o + 1) * block, axis=4),
                         at(vp, o))
              for o in range(n_off))
    return jnp.transpose(out.reshape(B, H, T, D), (0, 2, 1, 3))


def local_attention(q, k, v, times, key_mask, left_s: float, right_s: float, block: int, n_left: int, n_right: int):
    """Attention restricted to keys within [-left_s, +right_s] seconds of each query, computed block-wise
    (cost O(T * window) instead of O(T^2)). q, k, v: [B, T, H, D]; T a multiple of ``block``."""
    ok = window_mask(times, key_mask, left_s, right_s, block, n_left, n_right)
    return block_attention(q, jnp.stack([k, v], axis=2), ok, block, n_left, n_right)


class Attention(nnx.Module):
    def __init__(self, cfg: ModelConfig, *, rngs: nnx.Rngs):
        d = cfg.d_model
        self.n_heads, self.head_dim = cfg.n_heads, cfg.head_dim
        self.q = nnx.Linear(d, d, use_bias=False, rngs=rngs)
        self.k = nnx.Linear(d, d, use_bias=False, rngs=rngs)
        self.v = nnx.Linear(d, d, use_bias=False, rngs=rngs)
        self.o = nnx.Linear(d, d, use_bias=False, rngs=rngs)

    def qkv(self, x, tables):
        """Queries, keys (both rotated by ``rotary_tables``) and values as one [B, T, 3, H, D] array.
        Plain (not adapted) projections run as one matmul over their concatenated kernels: the same
        weights and arithmetic, one pass over ``x`` instead of three."""
        B, T, _ = x.shape
        if all(type(p) is nnx.Linear for p in (self.q, self.k, self.v)):
            kernel = jnp.concatenate([self.q.kernel[...], self.k.kernel[...], self.v.kernel[...]], axis=1)
            qkv = (x @ kernel).reshape(B, T, 3, self.n_heads, self.head_dim)
        else:  # LoRA-wrapped (fine-tuning): each projection its own module
            qkv = jnp.stack([p(x).reshape(B, T, self.n_heads, self.head_dim) for p in (self.q, self.k, self.v)], axis=2)
        return jnp.concatenate([apply_rotary(qkv[:, :, :2], tables), qkv[:, :, 2:]], axis=2)

    def project(self, x, positions):
        """Queries and keys (rotated to ``positions``) and values, each [B, T, heads, head_dim]."""
        qkv = self.qkv(x, rotary_tables(positions, self.head_dim))
        return tuple(jnp.squeeze(a, 2) for a in jnp.split(qkv, 3, axis=2))

    def __call__(self, x, positions, times, key_mask, left_s, right_s, n_left, n_right, block):
        B, T, _ = x.shape
        q, k, v = self.project(x, positions)
        out = local_attention(q, k, v, times, key_mask, left_s, right_s, block, n_left, n_right)
        return self.o(out.reshape(B, T, -1))


class MLP(nnx.Module):
    def __init__(self, cfg: ModelConfig, *, rngs: nnx.Rngs):
        self.up = nnx.Linear(cfg.d_model, cfg.d_model * cfg.mlp_ratio, rngs=rngs)
        self.down = nnx.Linear(cfg.d_model * cfg.mlp_ratio, cfg.d_model, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.down(jax.nn.gelu(self.up(x)))


class Block(nnx.Module):
    def __init__(self, cfg: ModelConfig, right_s: float, *, rngs: nnx.Rngs):
        self.left_s, self.right_s, self.block = cfg.left_context_s, right_s, cfg.attn_block
        # key blocks each side that cover the window at the highest frame rate the model accepts
        self.n_left = -(-int(round(cfg.left_context_s * cfg.max_fps + 0.5)) // cfg.attn_block)
        self.n_right = -(-int(round(right_s * cfg.max_fps + 0.5)) // cfg.attn_block) if right_s > 0 else 0
        self.norm1 = nnx.LayerNorm(cfg.d_model, rngs=rngs)
        self.attn = Attention(cfg, rngs=rngs)
        self.norm2 = nnx.LayerNorm(cfg.d_model, rngs=rngs)
        self.mlp = MLP(cfg, rngs=rngs)
        self.drop = nnx.Dropout(cfg.dropout, rngs=rngs)

    def __call__(self, x, positions, times, key_mask):
        h = self.attn(self.norm1(x), positions, times, key_mask, self.left_s, self.right_s,
                      self.n_left, self.n_right, self.block)
        return self.residual(x, h)

    def window(self) -> tuple:
        return (self.left_s, self.right_s, self.block, self.n_left, self.n_right)

    def forward(self, x, tables, ok):
        """``__call__`` with the rotary tables and this block's ``window_mask`` computed by the caller
        (once per forward, shared by the layers)."""
        B, T, _ = x.shape
        qkv = self.attn.qkv(self.norm1(x), tables)
        q, kv = jnp.split(qkv, [1], axis=2)
        out = block_attention(jnp.squeeze(q, 2), kv, ok, self.block, self.n_left, self.n_right)
        return self.residual(x, self.attn.o(out.reshape(B, T, -1)))

    def residual(self, x, h):
        """The block's output from its input ``x`` and its attention output ``h`` (both [B, T, d])."""
        x = x + self.drop(h)
        return x + self.drop(self.mlp(self.norm2(x)))


class PhoneEncoder(nnx.Module):
    """Per-phone vectors from id, features, tone and stress (no cross-phone context: streaming-safe)."""

    def __init__(self, cfg: ModelConfig, *, rngs: nnx.Rngs):
        self.ids = nnx.Embed(cfg.n_phones, cfg.d_phone, rngs=rngs)
        self.feats = nnx.Linear(N_FEATURES, cfg.d_phone, rngs=rngs)
        self.tones = nnx.Embed(cfg.n_tones, cfg.d_phone, rngs=rngs)
        self.stress = nnx.Embed(cfg.n_stress, cfg.d_phone, rngs=rngs)
        self.hidden = nnx.Linear(cfg.d_phone, cfg.d_phone, rngs=rngs)
        self.out = nnx.Linear(cfg.d_phone, cfg.d_model, rngs=rngs)

    def __call__(self, phone_ids, phone_feats, tones, stress):
        h = self.ids(phone_ids) + self.feats(phone_feats) + self.tones(tones) + self.stress(stress)
        h = h + self.hidden(jax.nn.gelu(h))
        return self.out(jax.nn.gelu(h))


class Decoder(nnx.Module):
    def __init__(self, d_in: int, hidden: int, d_out: int, *, rngs: nnx.Rngs):
        self.hidden = nnx.Linear(d_in, hidden, rngs=rngs)
        self.out = nnx.Linear(hidden, d_out, rngs=rngs)

    def __call__(self, z):
        return self.out(jax.nn.gelu(self.hidden(z)))


class VisemeTransformer(nnx.Module):
    def __init__(self, cfg: ModelConfig, *, rngs: nnx.Rngs):
        self.cfg = cfg
        d = cfg.d_model
        self.phones = PhoneEncoder(cfg, rngs=rngs)
        self.silence = nnx.Param(jax.random.normal(rngs.params(), (d,)) * 0.02)
        self.pos = nnx.Linear(N_POS, d, rngs=rngs)
        self.audio = nnx.Linear(N_AUDIO, d, rngs=rngs)
        self.lang = nnx.Embed(cfg.n_langs, d, rngs=rngs)
        self.dialect = nnx.Embed(cfg.n_dialects, d, rngs=rngs)
        self.layers = nnx.List(
            [Block(cfg, cfg.lookahead_s if i == 0 else 0.0, rngs=rngs) for i in range(cfg.n_layers)]
        )
        self.norm = nnx.LayerNorm(d, rngs=rngs)
        self.to_latent = nnx.Linear(d, cfg.latent_dim, rngs=rngs)
        self.articulation = Decoder(cfg.latent_dim, cfg.decoder_hidden, len(cfg.articulation), rngs=rngs)
        self.blendshapes = Decoder(cfg.latent_dim, cfg.decoder_hidden, len(cfg.blendshapes), rngs=rngs)
        self.viseme_heads = nnx.List(
            [Decoder(cfg.latent_dim, cfg.decoder_hidden, len(classes), rngs=rngs) for _, classes in cfg.viseme_sets]
        )

    def frames(self, batch: dict[str, jax.Array]) -> jax.Array:
        """Length regulation: per-frame input vectors [B, T, d_model]."""
        phone_vec = self.phones(batch["phone_ids"], batch["phone_feats"], batch["tones"], batch["stress"])
        B, P, D = phone_vec.shape
        table = jnp.concatenate([phone_vec, jnp.broadcast_to(self.silence[...], (B, 1, D))], axis=1)
        index = jnp.where(batch["frame_phone"] < 0, P, batch["frame_phone"])
        if isinstance(B, int) and isinstance(P, int):
            # one row gather from the flattened tables: the same rows as take_along_axis over the phone
            # axis, which XLA on CPU runs as a slower generic gather (~15 ms of a 16 x 320-frame forward)
            flat = index + (jnp.arange(B, dtype=index.dtype) * (P + 1))[:, None]
            x = jnp.take(table.reshape(B * (P + 1), D), flat, axis=0, mode="clip")  # indices are in range
        else:  # symbolic sizes (ONNX export): the converter takes this form, not a reshape by B * (P + 1)
            x = jnp.take_along_axis(table, index[..., None], axis=1)
        x = x + self.pos(batch["frame_pos"]) + self.audio(batch["audio"])
        return x + (self.lang(batch["lang"]) + self.dialect(batch["dialect"]))[:, None, :]

    def __call__(self, batch: dict[str, jax.Array]) -> dict[str, Any]:
        x = self.frames(batch)
        times = batch["frame_time"]
        tables = rotary_tables(times / self.cfg.rope_unit_s, self.cfg.head_dim)
        masks: dict[tuple, jax.Array] = {}  # one window mask per distinct window (layers 1.. share one)
        for layer in self.layers:
            w = layer.window()
            if w not in masks:
                masks[w] = window_mask(times, batch["frame_mask"], *w)
            x = layer.forward(x, tables, masks[w])
        return self.heads(x)

    def heads(self, x: jax.Array) -> dict[str, Any]:
        """Outputs from the last layer's hidden states [B, T, d_model]."""
        latent = jnp.tanh(self.to_latent(self.norm(x)))
        decoders = [self.articulation, self.blendshapes, *self.viseme_heads]
        if all(type(d.hidden) is nnx.Linear for d in decoders):
            # the decoders' first layers read the same latent: one matmul over their concatenated kernels
            kernel = jnp.concatenate([d.hidden.kernel[...] for d in decoders], axis=1)
            bias = jnp.concatenate([d.hidden.bias[...] for d in decoders])
            hidden = jax.nn.gelu(latent @ kernel + bias)
            cuts = np.cumsum([d.hidden.out_features for d in decoders])[:-1]
            outs = [d.out(h) for d, h in zip(decoders, jnp.split(hidden, cuts, axis=-1))]
        else:  # LoRA-wrapped decoders (fine-tuning)
            outs = [d(latent) for d in decoders]
        return {
            "latent": latent,
            "articulation": jax.nn.sigmoid(outs[0]),
            "blendshapes": jax.nn.sigmoid(outs[1]),
            "visemes": {name: out for (name, _), out in zip(self.cfg.viseme_sets, outs[2:])},
        }


def abstract_model(cfg: ModelConfig) -> VisemeTransformer:
    """The model's structure with shape-only variables (no random init, no compilation): fill it with
    ``visemes.models.checkpoint.assign``. Loading through this takes milliseconds instead of compiling ~50 initialisers."""
    model = nnx.eval_shape(lambda: VisemeTransformer(cfg, rngs=nnx.Rngs(0)))
    # RNG state (dropout streams) gets concrete values: seed 0, count 0
    flat = []
    for key, var in nnx.to_flat_state(nnx.state(model, nnx.RngState)):
        value = jax.random.key(0) if isinstance(var, nnx.RngKey) else jnp.zeros((), jnp.uint32)
        flat.append((key, var.replace(value)))
    if flat:
        nnx.update(model, nnx.from_flat_state(flat))
    return model


@functools.lru_cache(maxsize=4)
def _initializer(cfg: ModelConfig):
    return nnx.jit(lambda rngs: VisemeTransformer(cfg, rngs=rngs))


def init_model(cfg: ModelConfig, rngs: nnx.Rngs) -> VisemeTransformer:
    """A randomly initialised model; the initialisers run as one compiled program (cached per config).
    Its values go into an :func:`abstract_model` so that every model of a config has the same graph
    definition (variable metadata order differs between traced and eval_shape construction, and jitted
    train steps are cached by graph definition)."""
    source = nnx.state(_initializer(cfg)(rngs))
    values = {key: var.get_value() for key, var in nnx.to_flat_state(source)}
    model = abstract_model(cfg)
    flat = list(nnx.to_flat_state(nnx.state(model)))
    for key, var in flat:
        var.set_value(values[key])  # values only: keep this model's own variable metadata
    nnx.update(model, nnx.from_flat_state(flat))
    return model
