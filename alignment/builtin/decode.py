"""Batched Viterbi decoding of prepared utterances with given emissions (JAX, bucketed shapes)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import jax
import numpy as np

from visemes.alignment.builtin.features import bucket
from visemes.alignment.builtin.hmm import Chain, Emissions
from visemes.alignment.builtin.viterbi import NEG, decode_batch

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


#: Padding cells (frame x state, per EM pass) worth one compile saved: a compile costs ~0.5 s of
#: CPU time; on the synthetic set 0.5M beat both 0 (4 compiles) and 2M (big shapes everywhere).
MERGE_CELLS = 500_000


def _merge_small_groups(shapes: Sequence[tuple[int, int]]) -> dict[tuple[int, int], list[int]]:
    """Group utterance indices by padded (frames, states) shape, moving a group into a larger shape
    that is compiled anyway when padding it costs less than a compile of its own (a corpus of a few
    dozen files in several shapes was mostly compile time)."""
    groups: dict[tuple[int, int], list[int]] = {}
    for i, shape in enumerate(shapes):
        groups.setdefault(shape, []).append(i)
    kept: dict[tuple[int, int], list[int]] = {}
    for shape in sorted(groups, key=lambda sh: (sh[0] * sh[1], sh), reverse=True):
        idx = groups[shape]
        hosts = [h for h in kept if h[0] >= shape[0] and h[1] >= shape[1]]
        if hosts:
            host = min(hosts, key=lambda h: h[0] * h[1])
            if len(idx) * (host[0] * host[1] - shape[0] * shape[1]) <= MERGE_CELLS:
                kept[host].extend(idx)
                continue
        kept[shape] = list(idx)
    return {sh: sorted(idx) for sh, idx in kept.items()}


class DecodePlan:
    """Padded batches of fixed utterances and chains, built once and decoded under many emission
    models (every EM pass): only the state -> Gaussian row table changes between passes."""

    def __init__(self, feats: Sequence[np.ndarray], chains: Sequence[Chain]) -> None:
        n = len(feats)
        self.n = n
        self.lengths = [len(f) for f in feats]
        groups = _merge_small_groups(
            [(bucket(len(f)), bucket(c.n_states, STATE_BUCKETS)) for f, c in zip(feats, chains)]
        )
        # every state's slot keys as indices into one list of distinct keys (resolved once per pass)
        key_id: dict[str, int] = {}
        self.chain_keys = []
        for c in chains:
            ids = np.full((c.n_states, K_SLOTS), -1, np.int32)
            for s, slots in enumerate(c.keys):
                for j, key in enumerate(slots[:K_SLOTS]):
                    ids[s, j] = key_id.setdefault(key, len(key_id))
            self.chain_keys.append(ids)
        self.keys = tuple(key_id)
        self.batches = []
        for (tp, sp), idx in sorted(groups.items()):
            # bound memory: a batch's likelihood array holds at most ~2^24 numbers per slot (64 MiB)
            bmax = BATCH_BUCKETS[-1]
            while bmax > 1 and bmax * tp * sp > 2**24:
                bmax //= 4
            for b0 in range(0, len(idx), bmax):
                part = idx[b0 : b0 + bmax]
                # a big group: always the full batch, so that stragglers reuse the compiled program;
                # a small one: the smallest batch bucket that holds it (one program either way)
                bp = bmax if len(idx) > bmax else min(bmax, _batch_size(len(part)))
                d = feats[part[0]].shape[1]
                x = np.zeros((bp, tp, d), np.float32)
                key_idx = np.full((bp, sp, K_SLOTS), -1, np.int32)
                skip = np.zeros((bp, sp), bool)
                st = np.zeros((bp, sp), bool)
                en = np.zeros((bp, sp), bool)
                pen = np.zeros((bp, sp), np.float32)
                nv = np.ones((bp,), np.int32)
                for j, i in enumerate(part):
                    f, c = feats[i], chains[i]
                    x[j, : len(f)] = f
                    key_idx[j, : c.n_states] = self.chain_keys[i]
                    skip[j, : c.n_states] = c.skip_in
                    st[j, : c.n_states] = c.start_ok
                    en[j, : c.n_states] = c.end_ok
                    pen[j, : c.n_states] = c.enter_pen
                    nv[j] = len(f)
                pad_rows = np.arange(len(part), bp)
                st[pad_rows, 0] = en[pad_rows, 0] = True  # padding rows: one trivially valid state
                # device arrays once: later passes send only the small state -> row table
                arrays = tuple(jax.device_put(a) for a in (x, skip, st, en, pen, nv))
                self.batches.append((part, key_idx, pad_rows, arrays))

    def run(self, em: Emissions, table: GaussTable | None = None) -> tuple[list[np.ndarray], list[np.ndarray], list[float]]:
        table = table or GaussTable.from_emissions(em)
        rows_of_key = np.array([table.index[em.resolve(k)] for k in self.keys] + [-1], np.int32)
        # device_put / plain numpy arguments: jnp.asarray goes through a traced op (~0.2 ms per call)
        means, inv_var, log_norm = jax.device_put((table.means, table.inv_var, table.log_norm))
        paths: list = [None] * self.n
        rows: list = [None] * self.n
        scores: list = [0.0] * self.n
        pending = []
        for part, key_idx, pad_rows, (x, skip, st, en, pen, nv) in self.batches:
            sg = rows_of_key[key_idx]  # -1 (unused slot) maps to the sentinel -1
            sg[pad_rows, 0, 0] = 0
            # dispatch every batch before reading any result back: the device works while Python goes on
            pending.append((part, decode_batch(x, means, inv_var, log_norm, sg, skip, st, en, pen, nv)))
        for part, (path, row, score) in pending:
            path, row, score = np.asarray(path), np.asarray(row), np.asarray(score)
            for j, i in enumerate(part):
                t = self.lengths[i]
                paths[i] = path[j, :t].astype(np.int64)
                rows[i] = row[j, :t].astype(np.int64)
                scores[i] = float(score[j])
        return paths, rows, scores


def decode_paths(
    feats: Sequence[np.ndarray], chains: Sequence[Chain], em: Emissions, table: GaussTable | None = None
) -> tuple[list[np.ndarray], list[np.ndarray], list[float]]:
    """Best state path per utterance, the chosen Gaussian row per frame, and path scores.

    Utterances are grouped by (frame bucket, state bucket) and run in padded batches.
    """
    return DecodePlan(feats, chains).run(em, table)
