"""Single-file transcript check: a likelihood-ratio test of the transcript against the free class loop."""

from __future__ import annotations

import numpy as np
from visemes.alignment.builtin import freeloop as FL
from visemes.alignment.builtin.decode import GaussTable, decode_paths

# One file adapted to its own transcript fits even a wrong transcript fairly well (the fit gap detected
# 36% of same-language swaps at 5% false alarms on VoxAngeles dev). The free class loop (freeloop.py) with
# models that never saw the transcript (the prior, adapted to the file by unsupervised EM: what audio-only
# mode recognises with) gives a second, independent test: the forced chain of the transcript's classes
# against the free loop, under the same Gaussians, per speech frame and dimension. The decision adds the
# two on a log scale: ln(gap) + llr / LLR_SCALE > SINGLE_THRESHOLD.
#
# Calibrated on VoxAngeles dev (12 languages, 8 files each, correct / same-language / other-language
# transcripts; seed 0): SINGLE_THRESHOLD is the 95% quantile of the correct files' scores, printed by
#     python benchmarks/mismatch.py --gold ../shared/devdata/voxangeles_dev --mode single --seed 0
# and checked on a second draw of swaps and files (--seed 1); FA / same-language / other-language flagged:
#     seed 0: 5.2% / 59.4% / 53.1%   (fit gap > 0.05 alone: 3.1% / 36.5% / 40.6%)
#     seed 1: 5.2% / 51.0% / 62.5%   (fit gap > 0.05 alone: 5.2% / 36.5% / 40.6%)
# Corpus mode compares each file's gap with the corpus's own files instead (confidence.GapReference):
# there the combined score was no better than the gap (AUC for same-language swaps 0.935 vs 0.933), and
# a likelihood ratio against the free loop under the adapted models (AUC 0.93 corpus / 0.76 single) or
# the unadapted prior (0.71 / 0.74) was worse than the gap.
# Tried and dropped: a phone-order permutation test (the transcript's class chain against 30 shuffles
# of its own phones under the same models) raised single-word detection a little (LOLO 60.4% -> 63.5%,
# 51.0% -> 56.2%) but its scale grows with utterance length: a wrong real sentence beats random
# shuffles of itself, so calibrated on single words it hid swapped synthetic sentences.
LLR_SCALE = 0.05
SINGLE_THRESHOLD = -1.614


def loop_llr(feats: np.ndarray, energy: np.ndarray, chain, prior) -> float:
    """Free-loop log-likelihood minus the transcript's forced class chain, per speech frame and dim,
    under class models adapted to the file without the transcript (positive: the transcript fits worse
    than free recognition does)."""
    loop = FL.build_loop()
    quiet = FL.quiet_mask(energy, FL.pause_frames())
    em = FL.broadened(FL.adapt_loop([feats], prior, loop, iterations=FL.EM_PASSES, silence=[quiet]), FL.VARIANCE_ADD)
    ll = FL.force_silence(FL.state_loglik(feats, loop, em), loop, quiet)
    path, _ = FL.viterbi(ll, loop)
    free = ll[np.arange(len(feats)), path]
    table = GaussTable.from_emissions(em)
    forced_path, rows, _ = decode_paths([feats], [chain], em, table)
    x = feats.astype(np.float64)
    r = rows[0]
    forced = -0.5 * (((x - table.means[r]) ** 2) * table.inv_var[r]).sum(axis=1) + table.log_norm[r]
    speech = chain.phone_of_state[forced_path[0]] >= 0
    diff = (free - forced) / feats.shape[1]
    return float(diff[speech].mean()) if speech.any() else 1.0


def single_file_mismatch(gap: float, llr: float) -> bool:
    return bool(np.log(max(gap, 1e-4)) + llr / LLR_SCALE > SINGLE_THRESHOLD)
