"""Viterbi forced alignment over a left-to-right state chain, in JAX (jit + vmap, padded shapes).

The chain allows, per state: stay, advance by one, and (where ``skip_in`` is set) jump over the
previous state, which is how optional silences between words are expressed. ``start_ok`` / ``end_ok``
masks say where a path may begin and end (optional leading/trailing silence; free ends for chunks).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

NEG = -1e30


def _viterbi_one(loglik, skip_in, start_ok, end_ok, enter_pen, n_valid):
    t_pad, s_pad = loglik.shape
    init = jnp.where(start_ok, loglik[0], NEG)

    def step(delta, inp):
        t, e = inp
        stay = delta
        adv = jnp.concatenate([jnp.full((1,), NEG, delta.dtype), delta[:-1]]) + enter_pen
        skp = jnp.concatenate([jnp.full((2,), NEG, delta.dtype), delta[:-2]]) + enter_pen
        skp = jnp.where(skip_in, skp, NEG)
        cand = jnp.stack([stay, adv, skp])
        bp = jnp.argmax(cand, axis=0).astype(jnp.int8)
        new = jnp.max(cand, axis=0) + e
        live = t < n_valid
        new = jnp.where(live, new, delta)
        bp = jnp.where(live, bp, jnp.int8(0))
        return new, bp

    ts = jnp.arange(1, t_pad)
    last, bps = jax.lax.scan(step, init, (ts, loglik[1:]))
    final = jnp.where(end_ok, last, NEG)
    s_end = jnp.argmax(final)
    score = final[s_end]

    def back(s, bp_t):
        prev = s - bp_t[s].astype(jnp.int32)
        return prev, s

    s0, path_rev = jax.lax.scan(back, s_end.astype(jnp.int32), bps, reverse=True)
    path = jnp.concatenate([s0[None], path_rev])
    return path, score


@jax.jit
def viterbi_batch(loglik, skip_in, start_ok, end_ok, enter_pen, n_valid):
    """Best state path [B, T] and its score [B] for a batch of padded chains.

    loglik [B, T, S] (padded states must hold a very negative value), skip_in/start_ok/end_ok [B, S]
    bool, enter_pen [B, S] log-penalty for entering a state, n_valid [B] valid frame counts.
    """
    return jax.vmap(_viterbi_one)(loglik, skip_in, start_ok, end_ok, enter_pen, n_valid)


@jax.jit
def gaussian_loglik(feats, means, inv_var, log_norm, state_gauss):
    """Per-state diagonal-Gaussian log-likelihoods [B, T, S] (max over each state's K slots).

    feats [B, T, D]; means/inv_var [G, D], log_norm [G]; state_gauss [B, S, K] indexes each state's
    Gaussian slots (-1 marks an unused slot, all -1 a padded state). Only the Gaussians the states use
    are evaluated (a batched matmul per utterance), not the whole table.
    """
    return jnp.max(_slot_loglik(feats, means, inv_var, log_norm, state_gauss), axis=-1)


def _slot_loglik(feats, means, inv_var, log_norm, state_gauss):
    """Per-slot log-likelihoods [B, T, S, K] (see :func:`gaussian_loglik`)."""
    b, s, k = state_gauss.shape
    idx = jnp.maximum(state_gauss, 0).reshape(b, s * k)
    m, iv, ln = means[idx], inv_var[idx], log_norm[idx]
    x2 = jnp.einsum("btd,bsd->bts", feats**2, iv)
    xm = jnp.einsum("btd,bsd->bts", feats, m * iv)
    m2 = jnp.sum(m**2 * iv, axis=2)
    ll = (-0.5 * (x2 - 2 * xm + m2[:, None, :]) + ln[:, None, :]).reshape(b, -1, s, k)
    return jnp.where(state_gauss[:, None] >= 0, ll, NEG)


@jax.jit
def decode_batch(feats, means, inv_var, log_norm, state_gauss, skip_in, start_ok, end_ok, enter_pen, n_valid):
    """Likelihoods, Viterbi and the winning Gaussian row per frame in one program (one compile per
    shape, nothing but the path, the rows and the scores leaves the device).

    Returns path [B, T] int32, row [B, T] int32 (the state's best slot at each frame) and score [B].
    """
    ll = jnp.max(_slot_loglik(feats, means, inv_var, log_norm, state_gauss), axis=-1)  # [B, T, S]
    path, score = jax.vmap(_viterbi_one)(ll, skip_in, start_ok, end_ok, enter_pen, n_valid)
    path = path.astype(jnp.int32)
    # the winning slot on the path only: [B, T, K] Gaussians, not the whole [B, T, S, K] array kept alive
    sg_on_path = jnp.take_along_axis(state_gauss, path[:, :, None], axis=1)  # [B, T, K]
    g = jnp.maximum(sg_on_path, 0)
    diff = feats[:, :, None, :] - means[g]
    ll_on_path = -0.5 * jnp.sum(diff * diff * inv_var[g], axis=-1) + log_norm[g]
    slot = jnp.argmax(jnp.where(sg_on_path >= 0, ll_on_path, NEG), axis=-1)
    row = jnp.take_along_axis(sg_on_path, slot[:, :, None], axis=2)[:, :, 0]
    return path, row, score


def run_viterbi(loglik: np.ndarray, skip_in, start_ok, end_ok, enter_pen, n_valid):
    """numpy in/out convenience wrapper."""
    path, score = viterbi_batch(loglik, skip_in, start_ok, end_ok, enter_pen, n_valid)
    return np.asarray(path), np.asarray(score)
