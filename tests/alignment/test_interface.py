"""The front door: registry, align() with arrays, files, phones and text, transcript parsing."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from visemes import alignment
from visemes.alignment import base
from visemes.alignment.transcripts import from_phones, from_text, make_transcript, read_transcript_file
from alignment_fakes import RATE, EvenAligner, PooledAligner, tone_file
from visemes.core.errors import BackendUnavailableError, InputError, TranscriptError
from visemes.core.timeline import PhoneToken, Transcript, WordPhones


@pytest.fixture
def fake_backend(monkeypatch):
    monkeypatch.setitem(base._REGISTRY, "fake-even", EvenAligner)
    return "fake-even"


def _tone(rate=RATE, channels=1, spans=((0.2, 0.6),), duration=1.0):
    t = np.arange(int(duration * rate)) / rate
    x = np.zeros_like(t)
    for a, b in spans:
        x[(t >= a) & (t < b)] = 0.5 * np.sin(2 * np.pi * 220 * t[(t >= a) & (t < b)])
    return np.repeat(x[:, None], channels, axis=1) if channels > 1 else x


def test_align_array_with_phones_shares_the_voiced_span(fake_backend):
    result = alignment.align(_tone(), RATE, phones=["a", "b", "c", "d"], backend=fake_backend)
    assert result.phones.labels == ["a", "b", "c", "d"]
    assert result.phones[0].start == pytest.approx(0.2, abs=0.011)
    assert result.phones[-1].end == pytest.approx(0.6, abs=0.011)
    assert result.meta["aligner"] == "fake-even"
    assert result.duration == pytest.approx(1.0)


def test_align_resamples_and_downmixes_to_the_backend_rate(fake_backend):
    # 44.1 kHz stereo int16: the fake only works at 16 kHz, so base.Aligner.align must convert
    x = (_tone(44100, channels=2) * 32767).astype(np.int16)
    seen = {}

    class Spy(EvenAligner):
        def align_transcript(self, audio, sample_rate, transcript):
            seen.update(rate=sample_rate, ndim=audio.ndim, dtype=audio.dtype, n=len(audio))
            return super().align_transcript(audio, sample_rate, transcript)

    result = alignment.align(x, 44100, phones="h a | l o", backend=Spy())
    assert seen == {"rate": RATE, "ndim": 1, "dtype": np.float32, "n": pytest.approx(RATE, abs=2)}
    assert result.words.labels == ["ha", "lo"] and result.phones.labels == ["h", "a", "l", "o"]
    assert result.phones[0].start == pytest.approx(0.2, abs=0.011)


def test_align_file_path(tmp_path, fake_backend):
    tone_file(tmp_path / "x.flac", [(0.3, 0.7)], rate=22050)
    result = alignment.align(tmp_path / "x.flac", phones=["t", "a"], backend=fake_backend)
    assert result.phones[0].start == pytest.approx(0.3, abs=0.011)
    with pytest.raises(InputError, match="recorded at 22050 Hz"):
        alignment.align(str(tmp_path / "x.flac"), 16000, phones=["t"], backend=fake_backend)


def test_align_argument_errors(fake_backend):
    with pytest.raises(InputError, match="either text"):
        alignment.align(_tone(), RATE, backend=fake_backend)
    with pytest.raises(InputError, match="either text"):
        alignment.align(_tone(), RATE, text="hi", phones=["h"], backend=fake_backend)
    with pytest.raises(InputError, match="needs its sample_rate"):
        alignment.align(_tone(), phones=["a"], backend=fake_backend)
    with pytest.raises(InputError, match="Unknown aligner backend 'fake-evn'.*fake-even"):
        alignment.align(_tone(), RATE, phones=["a"], backend="fake-evn")
    with pytest.raises(InputError, match="does not accept the options"):
        alignment.align(_tone(), RATE, phones=["a"], backend=fake_backend, backend_options={"beam": 3})
    with pytest.raises(TranscriptError, match="empty"):
        alignment.align(_tone(), RATE, phones=[], backend=fake_backend)


def test_unavailable_backend_says_why():
    class Missing(EvenAligner):
        name = "missing"

        @classmethod
        def is_available(cls):
            return False

        @classmethod
        def unavailable_reason(cls):
            return "tool X is not installed"

    with pytest.raises(BackendUnavailableError, match="tool X is not installed"):
        alignment.align(_tone(), RATE, phones=["a"], backend=Missing())


def test_registry_and_protocol_detection(monkeypatch):
    monkeypatch.setitem(base._REGISTRY, "fake-pooled", PooledAligner)
    assert isinstance(alignment.get_aligner("fake-pooled"), PooledAligner)
    assert "fake-pooled" in base.known_aligner_names() and "mfa" in base.known_aligner_names()
    assert isinstance(PooledAligner(), alignment.CorpusAdaptive)
    assert not isinstance(EvenAligner(), alignment.CorpusAdaptive)
    mfa = alignment.get_aligner("mfa", acoustic_model="english_mfa")
    assert mfa.name == "mfa" and mfa.acoustic_model == "english_mfa"
    assert isinstance(mfa, alignment.BatchAligner)
    status = alignment.available_aligners()
    assert status["fake-pooled"] is True and isinstance(status["mfa"], bool)


def test_transcripts_from_phones_and_ipa():
    t = from_phones(["tʰ", "a", "ŋ"], lang="th")
    assert t.symbols == ["tʰ", "a", "ŋ"] and len(t.words) == 1 and t.lang == "th"
    t = from_phones("tʰ a ŋ | k a\nn a")
    assert [w.symbols for w in t.words] == [["tʰ", "a", "ŋ"], ["k", "a"], ["n", "a"]]
    given = Transcript((WordPhones("x", (PhoneToken("a", {"tone": "1"}),)),))
    assert from_phones(given) is given
    with pytest.raises(TranscriptError):
        from_phones(["a", 3])  # type: ignore[list-item]


def test_text_goes_through_the_pack():
    class Pack:
        def phonemize(self, text):
            return Transcript(tuple(WordPhones(w, tuple(PhoneToken(c) for c in w)) for w in text.split()), "xx")

    t = from_text("ab c", "xx", pack=Pack())
    assert [w.symbols for w in t.words] == [["a", "b"], ["c"]]
    with pytest.raises(InputError, match="needs a language"):
        make_transcript(text="hello")


def test_read_transcript_files(tmp_path):
    (tmp_path / "a.lab").write_text("\ufeffs a | t a\n", encoding="utf-8")
    t = read_transcript_file(tmp_path / "a.lab", ipa=True, lang=None)
    assert [w.symbols for w in t.words] == [["s", "a"], ["t", "a"]]
    (tmp_path / "b.txt").write_bytes("caf\xe9".encode("latin-1"))
    with pytest.raises(TranscriptError, match="not UTF-8"):
        read_transcript_file(tmp_path / "b.txt", ipa=False, lang="fr")
    (tmp_path / "c.lab").write_text("  \n", encoding="utf-8")
    with pytest.raises(TranscriptError, match="empty"):
        read_transcript_file(tmp_path / "c.lab", ipa=True, lang=None)
    (tmp_path / "d.lab").write_text("hello", encoding="utf-8")
    with pytest.raises(InputError, match="--lang"):
        read_transcript_file(tmp_path / "d.lab", ipa=False, lang=None)


def test_array_with_silence_only_fails_cleanly(fake_backend):
    from visemes.core.errors import AlignmentError

    with pytest.raises(AlignmentError, match="silent"):
        alignment.align(np.zeros(RATE, np.float32), RATE, phones=["a"], backend=fake_backend)


def test_sample_rate_bounds_for_files(tmp_path, fake_backend):
    sf.write(str(tmp_path / "hi.wav"), _tone(96000).astype(np.float32), 96000, subtype="PCM_16")
    result = alignment.align(tmp_path / "hi.wav", phones=["a"], backend=fake_backend)
    assert result.phones[0].start == pytest.approx(0.2, abs=0.011)


def test_backends_are_held_to_the_transcript():
    from visemes.core.errors import AlignmentError

    class Sloppy(EvenAligner):
        name = "sloppy"

        def align_transcript(self, audio, sample_rate, transcript):
            result = super().align_transcript(audio, sample_rate, transcript)
            phones = result.phones
            relabelled = phones.__class__(phones.name, tuple(iv.with_label(iv.label.upper()) for iv in phones))
            return result.with_tier(relabelled)

    with pytest.raises(AlignmentError, match="'sloppy' aligner returned phones 'A B'.*'a b'.*bug in the backend"):
        alignment.align(_tone(), RATE, phones=["a", "b"], backend=Sloppy())
