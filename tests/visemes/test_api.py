import dataclasses
import json

import numpy as np
import pytest

import visemes
from visemes.pipeline.animator import AnimationResult
from visemes.pipeline.text import phonemize, text_to_visemes
from visemes.core.curves import frame_count
from visemes.core.errors import InputError, OutputExistsError, TranscriptError, UnknownLanguageError
from visemes.formats import FORMATS, json_doc, rhubarb
from visemes.core.vocabulary import classes

TEXT, LANG = "नमस्ते दुनिया", "hi"


@pytest.fixture(scope="module")
def result() -> AnimationResult:
    return text_to_visemes(TEXT, LANG, fps=25, viseme_set="oculus")


def test_phonemize_delegates_to_the_pack():
    from visemes import lang_packs

    assert phonemize(TEXT, LANG) == lang_packs.load(LANG).phonemize(TEXT)
    assert visemes.phonemize is phonemize and visemes.text_to_visemes is text_to_visemes


def test_result_is_consistent(result):
    a = result.alignment
    assert a.tier_names == ["words", "phones", "visemes"]
    assert a.phones.labels == phonemize(TEXT, LANG).symbols  # the pack's transcript, in order
    assert len(a.words) == 2 and a.meta["lang"] == "hi" and a.meta["viseme_set"] == "oculus"
    a.check_nesting()
    # The viseme tier covers the take end to end (pauses are "sil"), in the Oculus set; m -> PP.
    vis = a.visemes
    assert vis.start == 0.0 and vis.end == pytest.approx(a.duration)
    assert all(x.end == pytest.approx(y.start) for x, y in zip(vis, vis[1:]))
    assert set(vis.labels) <= set(classes("oculus")) and "PP" in vis.labels
    # Curves: one frame per 1/fps over the take, viseme weights over the set's classes.
    assert result.animation.fps == 25 and result.animation.n_frames == frame_count(a.duration, 25)
    assert result.animation.visemes.channels == classes("oculus")
    assert np.allclose(result.animation.visemes.values.sum(axis=1), 1.0, atol=1e-4)
    # The synthetic speech is the timing's source: same length.
    assert result.audio.dtype == np.float32 and len(result.audio) / result.sample_rate == pytest.approx(a.duration)
    assert 0.01 < float(np.abs(result.audio).max()) <= 1.0
    assert isinstance(result, AnimationResult) and result.timing == "synthesized" and result.text == TEXT
    assert result.summary()["curves"] == "coarticulation" and result.summary()["viseme_set"] == "oculus"
    assert "hi" in repr(result) and len(repr(result)) < 300
    assert len(repr(dataclasses.replace(result, text="नमस्ते " * 500))) < 300  # a long text is shortened


def test_result_is_frozen(result):
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.text = "x"  # type: ignore[misc]


def test_viseme_set_and_rate_change_the_result(result):
    fast = text_to_visemes(TEXT, LANG, viseme_set="rhubarb", rate=350)
    assert fast.duration < 0.8 * result.duration
    assert set(fast.alignment.visemes.labels) <= set(classes("rhubarb"))
    assert fast.animation.visemes.channels == classes("rhubarb") and fast.fps == 30
    assert fast.alignment.phones.labels == result.alignment.phones.labels


@pytest.mark.parametrize("kwargs, error, message", [
    ({"viseme_set": "disney"}, InputError, "Unknown viseme set"),
    ({"rate": 20}, InputError, "words per minute"),
    ({"rate": 175.5}, InputError, "words per minute"),
    ({"fps": 0}, InputError, "Frame rate"),
])
def test_bad_options(kwargs, error, message):
    with pytest.raises(error, match=message):
        text_to_visemes(TEXT, LANG, **kwargs)


def test_bad_text_and_language():
    with pytest.raises(TranscriptError, match="empty"):
        text_to_visemes("   ", LANG)
    with pytest.raises(TranscriptError, match="script"):  # Arabic text for an English pack
        text_to_visemes("مرحبا", "en-US")
    with pytest.raises(UnknownLanguageError):
        text_to_visemes(TEXT, "xx-notalanguage")


def test_save_every_format(result, tmp_path):
    paths = result.save(tmp_path, list(FORMATS))
    assert {p.name for p in paths} == {f"visemes{f.suffix}" for f in FORMATS.values()} | {"visemes.summary.json"}
    back = json_doc.read(tmp_path / "visemes.json")
    assert back.alignment == result.alignment
    assert back.animation.articulation.allclose(result.animation.articulation, atol=1e-5)
    # Rhubarb shapes are derived from the phones with the result's pack (its set is Oculus).
    cues = rhubarb.read_json(tmp_path / "visemes.rhubarb.json")
    assert set(cues.visemes.labels) <= set("ABCDEFGH") and cues.duration == pytest.approx(result.duration, abs=0.01)
    assert json.loads((tmp_path / "visemes.json").read_text(encoding="utf-8"))["alignment"]["meta"]["lang"] == "hi"
    with pytest.raises(OutputExistsError):
        result.save(tmp_path, "json")
    assert result.save(tmp_path, "json", overwrite=True)[0].exists()


def test_plot(result, tmp_path):
    path = result.plot(tmp_path / "t.png", width_px=700)
    assert path.read_bytes()[:4] == b"\x89PNG" and path.stat().st_size > 10_000
