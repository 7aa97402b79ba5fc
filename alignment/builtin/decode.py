"""Batched Viterbi decoding of prepared utterances with given emissions (JAX, bucketed shapes)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from alignment.builtin.features import bucket
from alignment.builtin.model import Chain, Emissions
from alignment.builtin.viterbi import NEG, gaussian_loglik, viterbi_batch

STATE_BUCKETS = (64, 128, 256, 512, 1024, 2048)  # few buckets: each is a compile (~1 s on CPU)
GAUSS_BUCKETS = (128, 256, 512, 1024, 2048, 4096)
BATCH_BUCKETS = (1, 8, 32)  # 8 only serves long pieces (memory bound); corpora use 32
K_SLOTS = 2


@dataclass(frozen=True)
class GaussTable:
    """Emissions flattened to arrays for the device: keys -> row."""

    keys: tuple[str, ...]
    index: dict
    means: np.ndarray
    inv_var: np.ndarray
    log_norm: np.ndarray
    free_rows: np.ndarray  # class-level and silence rows: the "free phone loop" of confidence scores

    @classmethod
    def from_emissions(cls, em: Emissions) -> "GaussTable":
        keys = tuple(em.means)
        g = len(keys)
        gp = bucket(g, GAUSS_BUCKETS)
        d = len(next(iter(em.means.values())))
        means = np.zeros((gp, d), np.float32)
        var = np.ones((gp, d), np.float32)
        for i, k in enumerate(keys):
            means[i] = em.means[k]
            var[i] = em.variances[k]
        log_norm = -0.5 * (np.log(2 * np.pi * var).sum(axis=1))
        log_norm[g:] = NEG / 10  # padded rows never win
        free = np.array([i for i, k in enumerate(keys) if not k.startswith(("p:", "b:"))], np.int64)
        return cls(keys, {k: i for i, k in enumerate(keys)}, means, (1.0 / var).astype(np.float32),
                   log_norm.astype(np.float32), free)


def state_gauss(chain: Chain, table: GaussTable, em: Emissions) -> np.ndarray:
    out = np.full((chain.n_states, K_SLOTS), -1, np.int32)
    for s, slots in enumerate(chain.keys):
        for j, key in enumerate(slots[:K_SLOTS]):
            out[s, j] = table.index[em.resolve(key)]
    return out


def _batch_size(n: int) -> int:
    for b in BATCH_BUCKETS:
        if n <= b:
            return b
    return BATCH_BUCKETS[-1]


def decode_paths(
    feats: Sequence[np.ndarray], chains: Sequence[Chain], em: Emissions, table: GaussTable | None = None
) -> tuple[list[np.ndarray], list[np.ndarray], list[float]]:
    """Best state path per utterance, the chosen Gaussian row per frame, and path scores.

    Utterances are grouped by (frame bucket, state bucket) and run in padded batches.
    """
    import jax.numpy as jnp

    table = table or GaussTable.from_emissions(em)
    n = len(feats)
    groups: dict[tuple[int, int], list[int]] = {}
    for i, (f, c) in enumerate(zip(feats, chains)):
        groups.setdefault((bucket(len(f)), bucket(c.n_states, STATE_BUCKETS)), []).append(i)
    paths: list = [None] * n
    rows: list = [None] * n
    scores: list = [0.0] * n
    means, inv_var, log_norm = jnp.asarray(table.means), jnp.asarray(table.inv_var), jnp.asarray(table.log_norm)
    for (tp, sp), idx in sorted(groups.items()):
        # bound memory: a batch's likelihood array holds at most ~2^24 numbers per slot (64 MiB)
        bmax = BATCH_BUCKETS[-1]
        while bmax > 1 and bmax * tp * sp > 2**24:
            bmax //= 4
        for b0 in range(0, len(idx), bmax):
            part = idx[b0 : b0 + bmax]
            # many files: always the full batch, so that stragglers reuse the compiled program
            bp = bmax if n > 1 else _batch_size(len(part))
            d = feats[part[0]].shape[1]
            x = np.zeros((bp, tp, d), np.float32)
            sg = np.full((bp, sp, K_SLOTS), -1, np.int32)
            skip = np.zeros((bp, sp), bool)
            st = np.zeros((bp, sp), bool)
            en = np.zeros((bp, sp), bool)
            pen = np.zeros((bp, sp), np.float32)
            nv = np.ones((bp,), np.int32)
            for j, i in enumerate(part):
                f, c = feats[i], chains[i]
                x[j, : len(f)] = f
                sg[j, : c.n_states] = state_gauss(c, table, em)
                skip[j, : c.n_states] = c.skip_in
                st[j, : c.n_states] = c.start_ok
                en[j, : c.n_states] = c.end_ok
                pen[j, : c.n_states] = c.enter_pen
                nv[j] = len(f)
            for j in range(len(part), bp):  # padding rows: one trivially valid state
                sg[j, 0, 0] = 0
                st[j, 0] = en[j, 0] = True
            ll = gaussian_loglik(jnp.asarray(x), means, inv_var, log_norm, jnp.asarray(sg))
            path, score = viterbi_batch(ll, jnp.asarray(skip), jnp.asarray(st), jnp.asarray(en), jnp.asarray(pen), jnp.asarray(nv))
            path, score = np.asarray(path), np.asarray(score)
            # which slot won at each frame (for silence/noise statistics)
            for j, i in enumerate(part):
                t = len(feats[i])
                p = path[j, :t]
                rows[i] = _winning_rows(feats[i], p, sg[j], table)
                paths[i] = p
                scores[i] = float(score[j])
    return paths, rows, scores


def _winning_rows(f: np.ndarray, path: np.ndarray, sg: np.ndarray, table: GaussTable) -> np.ndarray:
    cand = sg[path]  # [T, K]
    rows = cand[:, 0].copy()
    multi = cand[:, 1] >= 0
    if multi.any():
        ff = f[multi].astype(np.float64)
        ll = []
        for k in range(K_SLOTS):
            g = cand[multi, k]
            m, iv, ln = table.means[g], table.inv_var[g], table.log_norm[g]
            ll.append(-0.5 * (((ff - m) ** 2) * iv).sum(axis=1) + ln)
        ll = np.stack(ll, axis=1)
        ll[cand[multi] < 0] = NEG
        rows[multi] = cand[multi][np.arange(multi.sum()), ll.argmax(axis=1)]
    return rows
