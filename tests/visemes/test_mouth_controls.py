"""Audio modulation, per-language settings, secondary articulations and animate()'s mouth controls."""

import numpy as np
import pytest

from visemes.core.errors import InputError
from visemes.core.timeline import Alignment, Interval, Tier
from visemes.mouth.audio_effort import EffortParams, effort_gain, frame_rms, silence_mask
from visemes.mouth.coarticulation import CoarticulationParams, animate_phones, params_for
from _phone_tiers import phone_tier as _tier

SR = 16000


@pytest.fixture(scope="module")
def en():
    from visemes import lang_packs

    return lang_packs.load("en-US")




def _tone(seconds, amplitude, f0=150.0):
    t = np.arange(int(seconds * SR)) / SR
    return (amplitude * np.sin(2 * np.pi * f0 * t)).astype(np.float32)


# --- audio_effort ---------------------------------------------------------------------------------


def test_frame_rms_against_a_plain_loop():
    rng = np.random.default_rng(0)
    x = rng.normal(0, 0.1, SR) * np.linspace(0.1, 1.0, SR)
    fps, n, window = 50.0, 50, 0.03
    ours = frame_rms(x, SR, fps, n, window)
    half = int(window * SR / 2)
    for i in range(n):
        c = int(round(i / fps * SR))
        seg = x[max(0, c - half): min(len(x), c + half + 1)]
        assert ours[i] == pytest.approx(np.sqrt(np.mean(seg ** 2)), rel=1e-9)


def test_loud_speech_opens_the_jaw_more_and_quiet_less():
    audio = np.concatenate([_tone(1.0, 0.05), _tone(1.0, 0.4)])
    gain = effort_gain(audio, SR, 50.0, 100)
    assert np.all(gain[10:40] < 1.0) and np.all(gain[60:90] > 1.0)
    prm = EffortParams()
    assert gain.min() >= prm.low and gain.max() <= prm.high
    # the exponent: an 8x louder half (18 dB): the gains differ by 8 ** exponent
    assert gain[80] / gain[20] == pytest.approx(8 ** prm.exponent, rel=0.02)
    assert np.allclose(effort_gain(audio, SR, 50.0, 100, EffortParams(exponent=0)), 1.0)


def test_only_long_silences_rest():
    audio = np.concatenate([_tone(0.5, 0.3), np.zeros(int(0.5 * SR), np.float32), _tone(0.3, 0.3),
                            np.zeros(int(0.1 * SR), np.float32), _tone(0.5, 0.3)])
    m = silence_mask(audio, SR, 100.0, 190)
    assert np.all(m[:48] == 0) and np.all(m[58:95] == 1.0)  # inside the 0.5 s gap (50 ms ramps)
    assert np.all(m[130:150] == 0)  # the 0.1 s gap is a stop closure, not a pause
    assert np.all(np.diff(m[50:60]) >= 0)


def test_audio_shapes_the_jaw_and_silence_rests(en):
    phones, end = _tier([("ɑː", 0.3), ("b", 0.08), ("ɑː", 0.3), ("p", 0.08), ("ɑː", 0.3)], start=0.1)
    dur = end + 0.1
    quiet = np.concatenate([_tone(0.5, 0.05), _tone(dur - 0.5, 0.4)])
    plain = animate_phones(phones, en, 50, dur)
    heard = animate_phones(phones, en, 50, dur, audio=quiet, sample_rate=SR)
    jaw0, jaw1 = plain.articulation.channel("jaw_open"), heard.articulation.channel("jaw_open")
    # the first vowel is quiet: less jaw; the rest is at the utterance's typical loudness: unchanged
    assert jaw1[12] < jaw0[12] - 0.05 and jaw1[45] == pytest.approx(jaw0[45], abs=1e-3)
    # closures hold whatever the audio says
    for iv in phones:
        if iv.label in ("b", "p"):
            assert heard.articulation.channel("lip_close")[int(round(iv.midpoint * 50))] >= 0.95
    # the timings claim speech where the audio is silent: the mouth rests there
    gap = np.concatenate([_tone(0.45, 0.3), np.zeros(int(0.5 * SR), np.float32), _tone(dur - 0.95, 0.3)])
    rested = animate_phones(phones, en, 50, dur, audio=gap, sample_rate=SR)
    assert rested.articulation.channel("jaw_open")[35] == pytest.approx(0.05, abs=0.01)
    assert rested.visemes.channel("sil")[35] > 0.99
    none = animate_phones(phones, en, 50, dur, params=CoarticulationParams(effort=None), audio=gap, sample_rate=SR)
    assert np.array_equal(none.articulation.values, plain.articulation.values)


# --- languages and secondary articulations ---------------------------------------------------------


def test_pack_mouth_settings_are_rule_parameters_and_reach_params_for():
    """[mouth] keys are CoarticulationParams fields (one list, lang_packs.schema.MOUTH_SETTINGS), each
    pack's table reaches params_for, and the defaults lie inside the ranges a pack may give."""
    import dataclasses

    from visemes import lang_packs
    from visemes.lang_packs.schema import MOUTH_SETTINGS

    names = {f.name for f in dataclasses.fields(CoarticulationParams)}
    assert set(MOUTH_SETTINGS) <= names
    default = CoarticulationParams()
    for key, (lo, hi) in MOUTH_SETTINGS.items():
        assert lo <= getattr(default, key) <= hi, key
    for info in lang_packs.available():
        pack = lang_packs.load(info.code)
        prm = params_for(pack)
        for key, value in pack.mouth.items():
            assert getattr(prm, key) == value, (info.code, key)




def test_languages_with_a_rounding_contrast_anticipate_further(en):
    from visemes import lang_packs

    fr = lang_packs.load("fr")
    assert params_for(fr).anticipation_span > params_for(en).anticipation_span
    assert params_for(en) == CoarticulationParams()
    assert params_for(fr, anticipation_span=0.2).anticipation_span == 0.2
    with pytest.raises(InputError, match="Unknown coarticulation"):
        params_for(en, jaw=1.0)
    # the same phones: with French settings rounding for /u/ shows earlier through /s t/
    phones, end = _tier([("ɑː", 0.2), ("s", 0.08), ("t", 0.08), ("u", 0.2)], start=0.1)
    a = animate_phones(phones, fr, 100, end + 0.1)
    b = animate_phones(phones, fr, 100, end + 0.1, params=CoarticulationParams())
    i = int(round(phones[1].start * 100))
    assert a.articulation.channel("lip_round")[i] > b.articulation.channel("lip_round")[i]


def test_emphatic_lip_shape_spreads_to_the_vowels():
    from visemes import lang_packs

    ar = lang_packs.load("ar")
    assert ar.phone("sˤ").target.get("lip_round", 0) > 0
    rounding = {}
    for s in ("s", "sˤ"):
        phones, end = _tier([("a", 0.12), (s, 0.1), ("a", 0.12)], start=0.1)
        anim = animate_phones(phones, ar, 100, end + 0.1)
        rounding[s] = anim.articulation.channel("lip_round")[int(round(phones[2].midpoint * 100))]
    assert rounding["sˤ"] > rounding["s"] + 0.02


# --- animate() ------------------------------------------------------------------------------------


def _alignment(phones, end):
    return Alignment((Tier("words", (Interval(phones[0].start, phones[-1].end, "bob"),)), phones), end + 0.1,
                     {"lang": "en-US"})


def test_animate_defaults_to_the_rules_and_takes_the_controls():
    from visemes.pipeline.animator import animate

    phones, end = _tier([("b", 0.08), ("ɑː", 0.25), ("b", 0.08)], start=0.1)
    timed = _alignment(phones, end)
    base = animate(alignment=timed, fps=50)
    assert base.animation.source == "coarticulation"
    wide = animate(alignment=timed, fps=50, jaw_intensity=1.3)
    j0, j1 = base.animation.articulation.channel("jaw_open"), wide.animation.articulation.channel("jaw_open")
    assert j1.max() > j0.max() + 0.05
    held = animate(alignment=timed, fps=50, min_hold=0.1)
    closed = lambda r: int((r.animation.articulation.channel("lip_close") >= 0.95).sum())  # noqa: E731
    assert closed(held) > closed(base)
    with pytest.raises(InputError, match="lip_intensity control the coarticulation model"):
        animate(alignment=timed, fps=50, use_model=True, lip_intensity=0.5)
    with pytest.raises(InputError, match="audio_effort control"):
        animate(alignment=timed, fps=50, use_model=True, audio_effort=False)


def test_rounding_is_anticipated_across_consonants_but_blocked_by_a_spread_vowel(en):
    """/u/'s rounding reaches back across /s t/ (about 250 ms, Benguerel & Cowan 1974) but not through
    an intervening spread /iː/, whose own lip target is incompatible (it blocks, as in Cohen & Massaro)."""
    free, end = _tier([("ə", 0.1), ("s", 0.08), ("t", 0.08), ("k", 0.08), ("u", 0.2)], start=0.1)
    blocked, end2 = _tier([("ə", 0.1), ("iː", 0.16), ("t", 0.08), ("u", 0.2)], start=0.1)
    a = animate_phones(free, en, 100, end + 0.1).articulation.channel("lip_round")
    b = animate_phones(blocked, en, 100, end2 + 0.1).articulation.channel("lip_round")
    u_core = a[int(round(free[-1].midpoint * 100))]
    # 200 ms before /u/'s onset, inside /s/: a clear share of its rounding already, rising from there on
    onset = int(round(free[-1].start * 100))
    assert a[onset - 20] > 0.15 * u_core
    assert np.all(np.diff(a[onset - 20: onset]) > 0)
    # at the same distance the spread vowel holds the lips unrounded
    i_mid = int(round(blocked[1].midpoint * 100))
    assert b[i_mid] < 0.1 * u_core


def test_cli_model_switch():
    from visemes.cli.animate import SHIPPED_MODEL, _use_model

    assert _use_model(None, None, False) == (False, None)  # the rules by default
    assert _use_model(None, None, True) == (False, None)  # --no-model: still accepted
    assert _use_model(SHIPPED_MODEL, None, False) == (True, None)  # bare --model: the shipped weights
    assert _use_model("w.safetensors", None, False) == (True, "w.safetensors")
    assert _use_model(None, "ar-EG.safetensors", False) == (True, None)  # an adapter needs the model
    with pytest.raises(InputError, match="contradicts"):
        _use_model(SHIPPED_MODEL, None, True)


def test_cli_animate_passes_the_mouth_controls(tmp_path):
    """`visemes animate --jaw-intensity/--lip-intensity/--min-hold/--anticipation` reach the rules (the
    jaw of text-only 'a bob' opens half as far from neutral) and are refused with --model."""
    import csv

    from visemes.cli.main import main

    def jaw(out, *extra):
        assert main(["animate", "--text", "a bob", "--lang", "en-US", "-o", str(out), "--format", "csv", *extra]) == 0
        with open(out / "visemes.csv", encoding="utf-8") as f:
            return np.array([float(r["articulation.jaw_open"]) for r in csv.DictReader(f)])

    plain = jaw(tmp_path / "a")
    half = jaw(tmp_path / "b", "--jaw-intensity", "0.5", "--lip-intensity", "0.8", "--min-hold", "40",
               "--anticipation", "250")
    assert len(plain) == len(half) and plain.max() > 0.4
    assert half.max() < plain.max() - 0.1
    assert main(["animate", "--text", "a bob", "--lang", "en-US", "-o", str(tmp_path / "c"), "--format", "csv",
                 "--jaw-intensity", "0.5", "--model"]) != 0
