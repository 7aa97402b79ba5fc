"""Long audio in bounded memory: decode windows with a free end, commit up to the last pause, go on.

Each window holds ``MAX_CHUNK_FRAMES`` frames at most and the words that can fit in it; the path may
end after any word. Everything up to the last inter-word silence well inside the window is kept
(boundaries are final there because a pause separates them from what follows); the next window
starts at that pause with the next word, so joins fall in silences and lose no accuracy.

A free end lets the path choose how many words it uses, and without transition costs more states
always fit better (each is another Gaussian to match frames with): the path crammed words into the
window, and every later window started early (four real English recordings joined into 78 s: median
word-start error 5.6 s; one speaker's cold-voiced file: all 64 words off by more than 100 ms). The
windows therefore give the phone states the transition cost of a geometric duration model whose mean
is the file's own speaking rate (speech frames per state of the transcript): entering a state costs
ln(mean - 1) nats, the price of leaving a state with p = 1/mean against staying. With a fixed end
(one piece, or the last window) the number of states is fixed and this cost is a constant, so only
the free end's choice of words changes (the same 78 s: median error 0.039 s).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from visemes.alignment.builtin import decode
from visemes.alignment.builtin import features as F
from visemes.alignment.builtin.confidence import MISMATCH_GAP, quiet_frames
from visemes.alignment.builtin.hmm import build_chain
from visemes.alignment.builtin.prepared import Prepared
from visemes.core.timeline import Alignment, Interval, Tier, Transcript

WINDOW = 2000  # frames (10 s) per decoding window
MIN_COMMIT = 700  # commit at least this many frames before looking for a pause
MARGIN = 300  # frames (1.5 s) at a window's end where a free end may still bend the path: never cut there
#: a piece whose phones per speech frame fall below this share of the whole file's (or rise above its
#: inverse) holds words moved across a join: measured on real English joined into 26-78 s, drifted runs
#: had pieces at 0.06-0.14 of the file's rate, right ones 0.48-2.2 (the speakers' own rates differ)
RATE_OUTLIER = 0.25
MIN_PHONE_FRAMES = 8  # 25 phones/s, faster than speech: a window holds at most WINDOW / 8 phones (more words are harmless)


def state_entry_penalty(energy: np.ndarray, n_states: int) -> float:
    """ln(mean frames per state - 1), at least 0: the entry cost of a geometric state duration whose mean
    is the speaking rate (speech frames by the aligner's energy threshold, over the transcript's states)."""
    lo, hi = np.percentile(energy, 5), np.percentile(energy, 95)
    speech = int(np.count_nonzero(energy > lo + 0.3 * (hi - lo)))
    return float(np.log(max(speech / max(n_states, 1) - 1.0, 1.0)) if ENTRY_COST else 0.0)


#: the geometric-duration entry cost on free-end windows (module docstring); off only to measure its effect
ENTRY_COST = True


def _windows(aligner, prep, em, table):
    """Yield (sub_prepared, chain, path, rows, frame_offset, word_offset) per committed piece."""
    words = prep.transcript.words
    penalty = state_entry_penalty(prep.energy, len(prep.transcript.phones) * aligner.config.states_per_phone)
    t0, w0 = 0, 0
    total = len(prep.feats)
    while w0 < len(words):
        t1 = min(total, t0 + WINDOW)
        last_window = t1 == total
        # every word that could fit in the window (a generous upper bound by phone count)
        budget, w1 = 0, w0
        while w1 < len(words) and budget < (t1 - t0):
            budget += len(words[w1].phones) * MIN_PHONE_FRAMES
            w1 += 1
        w1 = len(words) if last_window else max(w1, w0 + 1)
        free_end = not last_window
        sub_t = Transcript(words[w0:w1], prep.transcript.lang)
        sub = Prepared(prep.feats[t0:t1], prep.energy[t0:t1], (t1 - t0) * F.FRAME_SECONDS if not last_window else
                       prep.duration - t0 * F.FRAME_SECONDS, sub_t)
        cfg = aligner.config
        spp = cfg.states_per_phone if len(sub_t.phones) * cfg.states_per_phone <= (t1 - t0) - 2 else 1
        chain = build_chain(sub_t, states_per_phone=spp, sil_penalty=cfg.sil_penalty,
                            closure_tie=cfg.closure_tie, closure_key=cfg.closure_key, free_end=free_end)
        if free_end and penalty > 0:
            chain = replace(chain, enter_pen=chain.enter_pen - np.where(chain.phone_of_state >= 0, penalty, 0.0)
                            .astype(np.float32))
        paths, rows, _ = decode.decode_paths([sub.feats], [chain], em, table)
        path, row = paths[0], rows[0]
        if last_window:
            yield sub, chain, path, row, t0, w0
            return
        # commit up to the last inter-word silence after MIN_COMMIT frames (else: last finished word)
        ph = chain.phone_of_state[path]
        word_of_frame = np.where(ph >= 0, chain.word_of_phone[np.maximum(ph, 0)], -1)
        done_words = int(word_of_frame.max())  # the last word reached may be unfinished
        cut, cut_word = None, None
        for t in range(len(path) - MARGIN, MIN_COMMIT, -1):
            if ph[t] < 0 and ph[t - 1] >= 0 and word_of_frame[t - 1] < done_words:
                cut, cut_word = t, int(word_of_frame[t - 1]) + 1
                break
        if cut is None:  # no pause: cut at the end of the last finished word
            ends = [t for t in range(1, len(path)) if word_of_frame[t - 1] >= 0 and word_of_frame[t] != word_of_frame[t - 1]
                    and word_of_frame[t - 1] < done_words]
            if not ends:
                cut, cut_word = len(path), done_words + 1
            else:
                cut = ends[-1]
                cut_word = int(word_of_frame[cut - 1]) + 1
        sub_words = Transcript(words[w0 : w0 + cut_word], prep.transcript.lang)
        kept_chain = build_chain(sub_words, states_per_phone=spp, sil_penalty=cfg.sil_penalty,
                                 closure_tie=cfg.closure_tie, closure_key=cfg.closure_key)
        kept_path = np.minimum(path[:cut], kept_chain.n_states - 1)
        kept = Prepared(sub.feats[:cut], sub.energy[:cut], cut * F.FRAME_SECONDS, sub_words)
        yield kept, kept_chain, kept_path, row[:cut], t0, w0
        t0, w0 = t0 + cut, w0 + cut_word


def decode_long(aligner, prep, em, table):
    """(sub_prepared, chain, path, rows) per committed piece, for EM statistics."""
    for sub, chain, path, row, _, _ in _windows(aligner, prep, em, table):
        yield sub, chain, path, row


def align_long(aligner, prep, em, table, piece_llr=None) -> Alignment:
    """The windows' pieces joined into one alignment; ``piece_llr(sub_prepared, chain)``, when given, is
    the single-file transcript check of each piece (their length-weighted mean goes to ``loop_llr``)."""
    llrs: list[float] = []
    speaking = ~quiet_frames(prep.energy)
    file_rate = len(prep.transcript.phones) / max(int(speaking.sum()), 1)
    rates: list[float] = []
    words: list[Interval] = []
    phones: list[Interval] = []
    confs: list[float] = []
    gaps: list[float] = []
    weights: list[int] = []
    starts: list[float] = []
    for sub, chain, path, row, t0, _ in _windows(aligner, prep, em, table):
        part = aligner.to_alignment(sub, chain, path, row, table)
        off = t0 * F.FRAME_SECONDS
        starts.append(round(off, 4))
        for iv in part.words:
            words.append(Interval(min(iv.start + off, prep.duration), min(iv.end + off, prep.duration), iv.label, iv.attrs))
        for iv in part.phones:
            phones.append(Interval(min(iv.start + off, prep.duration), min(iv.end + off, prep.duration), iv.label, iv.attrs))
        confs.append(part.meta["confidence"])
        gaps.append(part.meta["fit_gap"])
        weights.append(len(sub.feats))
        # phones per speech frame of this piece against the whole file's: words crammed into a window
        # (or spread out of one) show up as a rate far from 1
        n_speech = int(speaking[t0 : t0 + len(sub.feats)].sum())
        rates.append(round(len(chain.symbols) / max(n_speech, 1) / file_rate, 3))
        if piece_llr is not None:
            llrs.append(piece_llr(sub, chain))
    # the file's fit gap: the pieces' gaps weighted by their length (the aligner decides on it as on
    # any file's gap: relative to the corpus, or the fixed threshold)
    gap = float(np.average(gaps, weights=weights))
    meta = {"aligner": "builtin", "confidence": float(np.mean(confs)), "fit_gap": gap, "mismatch": gap > MISMATCH_GAP,
            "chunks": len(confs), "chunk_starts": starts, "chunk_rates": rates,
            "uneven_rate": any(r < RATE_OUTLIER or r > 1 / RATE_OUTLIER for r in rates)}
    if llrs:
        meta["loop_llr"] = float(np.average(llrs, weights=weights))
    if prep.transcript.lang:
        meta["lang"] = prep.transcript.lang
    return Alignment((Tier("words", tuple(words)), Tier("phones", tuple(phones))), prep.duration, meta)
