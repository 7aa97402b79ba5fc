"""Per-phone and utterance confidence, and the transcript-mismatch flag.

Evidence per frame: how far the forced path's Gaussian falls below the best Gaussian of the whole
model at that frame (a free phone loop without durations), in nats per feature dimension. A correct
transcript keeps the gap small; wrong words or a wrong language force long stretches of poor fits.
"""

from __future__ import annotations

import numpy as np

#: Gap (nats/dim) at which confidence falls to 1/e; and the utterance gap above which we flag a mismatch.
GAP_SCALE = 0.5
MISMATCH_GAP = 0.05


def _loglik(x: np.ndarray, m: np.ndarray, iv: np.ndarray, ln: np.ndarray) -> np.ndarray:
    return -0.5 * ((x**2) @ iv.T - 2 * x @ (m * iv).T + (m**2 * iv).sum(axis=1)) + ln


def frame_gaps(feats: np.ndarray, rows: np.ndarray, table) -> np.ndarray:
    """Per frame: best broad-class (or silence) Gaussian minus the forced path's Gaussian, per dim."""
    free = table.free_rows
    x = feats.astype(np.float64)
    best = _loglik(x, table.means[free].astype(np.float64), table.inv_var[free].astype(np.float64),
                   table.log_norm[free]).max(axis=1)
    m, iv, ln = table.means[rows].astype(np.float64), table.inv_var[rows].astype(np.float64), table.log_norm[rows]
    aligned = -0.5 * (((x - m) ** 2) * iv).sum(axis=1) + ln
    return np.maximum(best - aligned, 0.0) / feats.shape[1]


def word_scores(gaps: np.ndarray, word_of_phone: np.ndarray, starts: np.ndarray,
                ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per word: (confidence, mean gap in nats/dim) over the frames of its phones, so a report can say
    which words do not fit (a wrong or misspelt word stands out from the words around it)."""
    n_words = int(word_of_phone.max()) + 1 if len(word_of_phone) else 0
    gap = np.ones(n_words)
    for w in range(n_words):
        idx = np.nonzero(word_of_phone == w)[0]
        seg = np.concatenate([gaps[int(starts[i]) : int(ends[i])] for i in idx]) if len(idx) else np.zeros(0)
        if len(seg):
            gap[w] = float(seg.mean())
    return np.clip(np.exp(-gap / GAP_SCALE), 0.0, 1.0), gap


def score_alignment(feats, chain, path, rows, table, starts, ends):
    """(per-phone confidence [n], utterance confidence, utterance gap in nats/dim)."""
    gaps = frame_gaps(feats, rows, table)
    n = len(chain.symbols)
    conf = np.zeros(n)
    phone_gap = np.zeros(n)
    for i in range(n):
        seg = gaps[int(starts[i]) : int(ends[i])]
        phone_gap[i] = float(seg.mean()) if len(seg) else 1.0
        conf[i] = float(np.exp(-phone_gap[i] / GAP_SCALE))
    speech = chain.phone_of_state[path] >= 0
    utt_gap = float(gaps[speech].mean()) if speech.any() else 1.0
    utt_conf = float(np.exp(-utt_gap / GAP_SCALE))
    return np.clip(conf, 0.0, 1.0), utt_conf, utt_gap

