"""Dynamic time warping in JAX, and the synthetic-template starting segmentation built on it.

DTW here is the asymmetric step pattern (query frame always advances; template index +0, +1 or +2),
so it runs on the same jitted/vmapped scan as the HMM Viterbi with every template frame a state.
The template is espeak-ng speech of the transcript's words (``visemes.speech.synthesis``): its exact phone
times, warped onto the recording, give EM a starting segmentation (the issue's prototype gained from it).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from visemes.alignment.builtin import features as F
from visemes.alignment.builtin.decode import STATE_BUCKETS
from visemes.alignment.builtin.viterbi import NEG, viterbi_batch
from visemes.speech.synthesis import speak


@jax.jit
def _neg_cost(query, template, t_valid):
    """-squared Euclidean distances [B, T, S]; padded template frames are unreachable."""
    q2 = jnp.sum(query**2, axis=2)[:, :, None]
    t2 = jnp.sum(template**2, axis=2)[:, None, :]
    d = q2 + t2 - 2 * jnp.einsum("btd,bsd->bts", query, template)
    valid = jnp.arange(template.shape[1])[None, None, :] < t_valid[:, None, None]
    return jnp.where(valid, -d / query.shape[2], NEG)


def dtw(query: np.ndarray, template: np.ndarray) -> np.ndarray:
    """Template frame index for every query frame (monotonic, starts at 0, ends at the template's end)."""
    t, s = len(query), len(template)
    tp, sp = F.bucket(t), F.bucket(s, STATE_BUCKETS)
    d = query.shape[1]
    q = np.zeros((1, tp, d), np.float32)
    q[0, :t] = query
    tm = np.zeros((1, sp, d), np.float32)
    tm[0, :s] = template
    ll = _neg_cost(q, tm, np.asarray([s], np.int32))
    skip = np.ones((1, sp), bool)
    start = np.zeros((1, sp), bool)
    start[0, 0] = True
    end = np.zeros((1, sp), bool)
    end[0, s - 1] = True
    path, _ = viterbi_batch(ll, skip, start, end, np.zeros((1, sp), np.float32), np.asarray([t], np.int32))
    return np.asarray(path)[0, :t]


def template_path(prep, chain) -> np.ndarray | None:
    """A state path for ``prep`` from espeak-ng speech of its words warped by DTW, or None when the
    transcript's words cannot be spoken with the same phones (no language, IPA-only words...)."""
    transcript = prep.transcript
    if not transcript.lang:
        return None
    try:
        spoken = speak(" ".join(w.text for w in transcript.words), transcript.lang)
    except Exception:  # noqa: BLE001 - any failure (unknown language, no espeak) means: no template
        return None
    phones = list(spoken.alignment.phones)
    if [p.label for p in phones] != list(chain.symbols):
        return None  # the pack's phones differ from the transcript's: no one-to-one mapping
    x = F.resample(spoken.audio, spoken.sample_rate)
    feats, _, _ = F.normalize(F.raw_features(x))
    warp = dtw(prep.feats, feats)  # template frame per recording frame
    # template frame -> phone index
    centre = (np.arange(len(feats)) * F.HOP + F.WIN / 2) / F.SAMPLE_RATE
    ph_of_tframe = np.full(len(feats), -1)
    for i, p in enumerate(phones):
        ph_of_tframe[(centre >= p.start) & (centre < p.end)] = i
    ph = ph_of_tframe[warp]
    return _states_from_phones(ph, chain)


def _states_from_phones(ph: np.ndarray, chain) -> np.ndarray | None:
    """Per-frame phone index (-1 = silence) -> a valid chain path (each phone split into its states)."""
    t = len(ph)
    n = len(chain.symbols)
    spp = chain.states_per_phone
    first_state = np.array([np.nonzero(chain.phone_of_state == i)[0][0] for i in range(n)])
    frames = [np.nonzero(ph == i)[0] for i in range(n)]
    if any(len(f) < spp for f in frames):
        return None
    path = np.empty(t, np.int64)
    last_state = 0
    for tt in range(t):
        i = ph[tt]
        if i >= 0:
            f = frames[i]
            k = min(spp - 1, int((tt - f[0]) * spp / max(1, f[-1] - f[0] + 1)))
            last_state = first_state[i] + k
        else:
            # silence: the silence state after the last phone seen (or the leading one)
            nxt = last_state + 1
            while nxt < chain.n_states and chain.phone_of_state[nxt] >= 0:
                nxt += 1
            last_state = last_state if chain.phone_of_state[last_state] < 0 else min(nxt, chain.n_states - 1)
        path[tt] = last_state
    return path
