"""Golden checks of the JAX kernels: Viterbi against a plain dynamic programme, features across chunks."""

from __future__ import annotations

import numpy as np

from visemes.alignment.builtin import features as F
from visemes.alignment.builtin.viterbi import NEG, run_viterbi


def _reference(ll, skip_in, start_ok, end_ok, pen):
    """Textbook Viterbi over the same chain (stay / advance / skip), written with loops."""
    t_len, s_len = ll.shape
    delta = np.where(start_ok, ll[0], -np.inf)
    back = np.zeros((t_len, s_len), int)
    for t in range(1, t_len):
        new = np.full(s_len, -np.inf)
        for s in range(s_len):
            cands = [(delta[s], 0)]
            if s >= 1:
                cands.append((delta[s - 1] + pen[s], 1))
            if s >= 2 and skip_in[s]:
                cands.append((delta[s - 2] + pen[s], 2))
            best, move = max(cands, key=lambda c: c[0])
            new[s], back[t, s] = best + ll[t, s], move
        delta = new
    s = int(np.argmax(np.where(end_ok, delta, -np.inf)))
    score = delta[s]
    path = [s]
    for t in range(t_len - 1, 0, -1):
        s -= back[t, s]
        path.append(s)
    return np.array(path[::-1]), score


def test_viterbi_matches_reference_dynamic_programme():
    rng = np.random.default_rng(0)
    b, t, s = 3, 40, 8
    ll = rng.normal(size=(b, t, s)).astype(np.float32) * 3
    skip = np.zeros((b, s), bool)
    skip[:, [3, 6]] = True  # states 2 and 5 are optional silences
    start = np.zeros((b, s), bool)
    start[:, :2] = True
    end = np.zeros((b, s), bool)
    end[:, -2:] = True
    pen = np.where(skip, 0.0, -0.5).astype(np.float32)
    n_valid = np.array([40, 31, 17], np.int32)
    ll[1, 31:] = NEG  # padding is never read
    path, score = run_viterbi(ll, skip, start, end, pen, n_valid)
    for i in range(b):
        n = n_valid[i]
        ref_path, ref_score = _reference(ll[i, :n], skip[i], start[i], end[i], pen[i])
        np.testing.assert_array_equal(path[i, :n], ref_path)
        assert abs(score[i] - ref_score) < 1e-3 * max(1.0, abs(ref_score))
        steps = np.diff(path[i, :n])
        assert set(np.unique(steps)) <= {0, 1, 2}


def test_features_do_not_depend_on_chunking():
    rng = np.random.default_rng(1)
    n_frames = F.FEATURE_CHUNK + 300  # crosses one internal chunk join
    audio = rng.normal(size=(n_frames - 1) * F.HOP + F.WIN).astype(np.float32) * 0.1
    chunked = F.raw_features(audio)
    assert chunked.shape == (n_frames, F.N_DIMS)
    # recompute the frames around the join from a short excerpt that has no join inside it
    j = F.FEATURE_CHUNK - 2
    lo = j - 50
    excerpt = audio[lo * F.HOP : (j + 50 - 1) * F.HOP + F.WIN]
    direct = F.raw_features(excerpt)  # its first frame lacks the true previous sample: compare from frame 2
    np.testing.assert_allclose(chunked[lo + 2 : j + 48], direct[2:-2], rtol=1e-3, atol=1e-3)


def test_dtw_recovers_a_known_time_warp():
    from visemes.alignment.builtin.dtw import dtw

    rng = np.random.default_rng(2)
    template = rng.normal(size=(60, F.N_DIMS)).astype(np.float32)
    # the query plays the first half at half speed and the second half at normal speed
    warp = np.concatenate([np.repeat(np.arange(30), 2), np.arange(30, 60)])
    query = template[warp] + rng.normal(size=(len(warp), F.N_DIMS)).astype(np.float32) * 0.05
    path = dtw(query, template)
    np.testing.assert_array_equal(path, warp)
