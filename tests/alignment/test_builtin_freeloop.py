"""The free phone-class loop: its Viterbi against exhaustive search, minimum durations, recognition of
synthetic speech against espeak-ng's exact phone times, and per-word confidence."""

from __future__ import annotations

import itertools
from functools import lru_cache

import numpy as np
import pytest
from visemes.alignment.builtin import BuiltinAligner
from visemes.alignment.builtin.confidence import word_scores
from visemes.alignment.builtin.freeloop import (
    Loop,
    build_loop,
    quiet_mask,
    viterbi,
)
from visemes.alignment.builtin.phones import broad_class
from visemes.alignment.builtin.recognise import classes_of, recognise

from visemes.core.timeline import PhoneToken, Transcript, WordPhones


def _tiny_loop() -> Loop:
    # two units: A = states 0,1 (min 2 frames), B = state 2 (min 1 frame)
    return Loop(("A", "B"), (("a0",), ("a1",), ("b",)), np.array([0, 0, 1]), np.array([0, 2]), np.array([1, 2]))


def _allowed(prev: int, cur: int, loop: Loop) -> tuple[bool, bool]:
    """(transition allowed, is a unit switch)."""
    if cur == prev:
        return True, False
    if cur == prev + 1 and loop.unit_of_state[cur] == loop.unit_of_state[prev]:
        return True, False
    if prev in loop.last and cur in loop.first:
        return True, True
    return False, False


def _brute_force(ll: np.ndarray, loop: Loop, pen: float) -> float:
    best = -np.inf
    for path in itertools.product(range(loop.n_states), repeat=len(ll)):
        if path[0] not in loop.first or path[-1] not in loop.last:
            continue
        score = ll[0, path[0]]
        for t in range(1, len(ll)):
            ok, switch = _allowed(path[t - 1], path[t], loop)
            if not ok:
                break
            score += ll[t, path[t]] - (pen if switch else 0.0)
        else:
            best = max(best, score)
    return best


@pytest.mark.parametrize("seed", range(5))
def test_viterbi_equals_exhaustive_search(seed):
    rng = np.random.default_rng(seed)
    loop = _tiny_loop()
    ll = rng.normal(size=(7, 3)) * 2
    path, score = viterbi(ll, loop, switch_penalty=1.5)
    assert score == pytest.approx(_brute_force(ll, loop, 1.5))
    # the returned path is valid and scores what was claimed
    again = ll[0, path[0]]
    for t in range(1, len(path)):
        ok, switch = _allowed(path[t - 1], path[t], loop)
        assert ok
        again += ll[t, path[t]] - (1.5 if switch else 0.0)
    assert again == pytest.approx(score)


def test_minimum_duration_holds_even_when_a_frame_prefers_a_short_unit():
    loop = build_loop(("vowel_low", "nasal"))
    t = 60
    ll = np.full((t, loop.n_states), -10.0)
    vowel = loop.unit_of_state == loop.units.index("vowel_low")
    nasal = loop.unit_of_state == loop.units.index("nasal")
    ll[:, vowel] = 0.0
    ll[30, nasal] = 50.0  # one frame strongly nasal: a unit entered must still last its minimum
    path, _ = viterbi(ll, loop, switch_penalty=0.0)
    units = loop.unit_of_state[path]
    runs = [len(list(g)) for _, g in itertools.groupby(units)]
    min_frames = int((loop.unit_of_state == loop.units.index("nasal")).sum())
    assert min(runs) >= min(min_frames, int(vowel.sum()))
    assert (units == loop.units.index("nasal")).sum() >= min_frames


def test_quiet_mask_marks_long_pauses_and_edges_not_short_gaps():
    energy = np.array([0.0] * 10 + [5.0] * 20 + [0.0] * 4 + [5.0] * 20 + [0.0] * 40 + [5.0] * 20 + [0.0] * 3)
    mask = quiet_mask(energy, 30)
    assert mask[:10].all() and mask[-3:].all()  # lead-in and tail
    assert not mask[30:34].any()  # a closure-length gap stays free
    assert mask[54:94].all()  # a long pause is silence


def test_classes_of_an_inventory():
    assert classes_of(["p", "a", "m"]) == ("vowel_low", "nasal", "stop_voiceless")
    assert len(classes_of([])) == 15  # no hint: every class but "other"


def test_word_scores_localise_a_bad_word():
    gaps = np.array([0.0] * 10 + [0.5] * 10)
    word_of_phone = np.array([0, 0, 1])
    conf, gap = word_scores(gaps, word_of_phone, np.array([0, 5, 10]), np.array([5, 10, 20]))
    assert gap == pytest.approx([0.0, 0.5])
    assert conf[0] == pytest.approx(1.0) and conf[1] == pytest.approx(np.exp(-1.0))


@lru_cache(maxsize=1)
def _item():
    pytest.importorskip("espeakng_loader")
    from visemes.alignment.builtin.synthetic import Condition, make_item

    return make_item("mama pije kávu", "cs", Condition(), key="cs0", seed=0)


def _frame_classes(tier, duration, step=0.01):
    centres = (np.arange(int(duration / step)) + 0.5) * step
    out = np.array(["sil"] * len(centres), dtype=object)
    for iv in tier:
        out[(centres >= iv.start) & (centres < iv.end)] = iv.attrs.get("class") or broad_class(iv.label)
    return out


def test_recognise_synthetic_speech_beats_chance_and_marks_silence():
    item = _item()
    al = recognise(item.audio, item.sample_rate)
    assert al.meta["timing_source"] == "audio-only"
    assert all(0.0 <= p.attrs["confidence"] <= 1.0 for p in al.phones)
    gold = _frame_classes(item.alignment.phones, al.duration)
    pred = _frame_classes(al.phones, al.duration)
    vowel = np.array([str(c).startswith("vowel") for c in gold])
    pred_vowel = np.array([str(c).startswith("vowel") for c in pred])
    speech = gold != "sil"
    # speech vs silence and vowel vs consonant per frame: well above the majority-class rate
    assert ((pred != "sil") == speech).mean() > 0.85
    assert (pred_vowel == vowel)[speech].mean() > max(vowel[speech].mean(), 1 - vowel[speech].mean()) + 0.05


def _transcript(item, replace_last: tuple[str, ...] | None = None) -> Transcript:
    if not replace_last:
        return item.transcript
    words = (*item.transcript.words[:-1], WordPhones("wrong", tuple(PhoneToken(s) for s in replace_last)))
    return Transcript(words, item.lang)


def test_word_confidence_points_at_the_word_that_does_not_fit():
    item = _item()
    right = BuiltinAligner().align_transcript(item.audio, item.sample_rate, _transcript(item))
    for w in right.words:
        assert 0.0 <= w.attrs["confidence"] <= 1.0 and w.attrs["fit_gap"] >= 0.0
    wrong = BuiltinAligner().align_transcript(item.audio, item.sample_rate,
                                              _transcript(item, ("s", "t", "o", "l", "ɛ", "m")))
    gaps = [w.attrs["fit_gap"] for w in wrong.words]
    assert int(np.argmax(gaps)) == len(gaps) - 1
    assert gaps[-1] > right.words[-1].attrs["fit_gap"]
