"""The MFA backend: dictionary, command, TextGrid import, and a full run against a stand-in ``mfa``.

The stand-in is a small script that behaves like ``mfa align`` on the files we lay out (reads the
dictionary and .lab files, writes MFA-style TextGrids on a 10 ms grid, lists failures in
unaligned.txt), so everything on our side of the process boundary runs for real. The test against the
real MFA runs only where ``mfa version`` succeeds.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import textwrap
from pathlib import Path

import pytest

from visemes.alignment.base import BatchItem
from visemes.alignment.mfa import (
    MFAAligner,
    build_lexicon,
    import_mfa_textgrid,
    mfa_align_command,
    mfa_version,
    normalize_word,
)
from visemes.alignment.transcripts import from_ipa
from alignment_fakes import tone_file
from visemes.core.errors import AlignmentError, BackendUnavailableError, InputError
from visemes.core.timeline import PhoneToken, Transcript, WordPhones

FIXTURES = Path(__file__).parent / "fixtures"

FAKE_MFA = textwrap.dedent(
    '''\
    #!{python}
    """Stand-in for `mfa`: version, and align writing TextGrids 100 ms per phone from 0.1 s."""
    import json, os, sys
    from pathlib import Path
    from praatio import textgrid

    args = sys.argv[1:]
    with open(os.environ["FAKE_MFA_LOG"], "a", encoding="utf-8") as log:
        log.write(json.dumps(args) + "\\n")
    if args[:1] == ["version"]:
        print("3.9.9")
        sys.exit(0)
    corpus, dictionary, model, out = (Path(a) for a in args[1:5])
    if str(model) == "broken_model":
        print("ERROR: the acoustic model could not be loaded", file=sys.stderr)
        sys.exit(1)
    lexicon = {{}}
    for line in dictionary.read_text(encoding="utf-8").splitlines():
        key, phones = line.split("\\t")
        if key in lexicon:
            print("ambiguous key " + key, file=sys.stderr)
            sys.exit(3)
        lexicon[key] = phones.split()
    out.mkdir(parents=True, exist_ok=True)
    for lab in sorted(corpus.rglob("*.lab")):
        audio = [p for p in lab.parent.iterdir() if p.stem == lab.stem and p.suffix != ".lab"]
        assert len(audio) == 1 and audio[0].exists(), lab
        words = lab.read_text(encoding="utf-8").split()
        if "fail" in words:
            with open(out / "unaligned.txt", "a", encoding="utf-8") as fh:
                fh.write(lab.stem + "\\tBeam too narrow\\n")
            continue
        t, word_entries, phone_entries = 0.1, [], [(0.0, 0.1, "")]
        for i, word in enumerate(words):
            if i:
                phone_entries.append((round(t, 2), round(t + 0.1, 2), "sp"))
                t += 0.1
            start = t
            for phone in lexicon[word]:
                phone_entries.append((round(t, 2), round(t + 0.1, 2), phone))
                t += 0.1
            word_entries.append((round(start, 2), round(t, 2), word))
        end = round(t + 0.2, 2)
        grid = textgrid.Textgrid(0, end)
        grid.addTier(textgrid.IntervalTier("words", word_entries, 0, end))
        grid.addTier(textgrid.IntervalTier("phones", phone_entries, 0, end))
        target = out / lab.relative_to(corpus).with_suffix(".TextGrid")
        target.parent.mkdir(parents=True, exist_ok=True)
        grid.save(str(target), format="short_textgrid", includeBlankSpaces=True)
    '''
)


@pytest.fixture
def fake_mfa(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "mfa"
    script.write_text(FAKE_MFA.format(python=sys.executable), encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    log = tmp_path / "mfa_calls.jsonl"
    monkeypatch.setenv("FAKE_MFA_LOG", str(log))
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    mfa_version.cache_clear()
    yield log
    mfa_version.cache_clear()


def _calls(log: Path) -> list[list[str]]:
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


def test_normalize_word_like_mfa():
    assert normalize_word("Hello,") == "hello"
    assert normalize_word("l'Homme") == "lhomme"
    assert normalize_word("well-known") == "wellknown"
    assert normalize_word("\u00c7a!") == "ça" and normalize_word("C\u0327a") == "ça"  # NFC either way
    assert normalize_word("Straße") == "straße"
    assert normalize_word("«42»") == "42"
    assert normalize_word("...") == ""


def _words(*pairs: tuple[str, str]) -> Transcript:
    return Transcript(tuple(WordPhones(text, tuple(PhoneToken(p) for p in phones.split())) for text, phones in pairs))


def test_lexicon_has_one_key_per_pronunciation():
    a = _words(("I", "a ɪ"), ("read", "ɹ i d"), ("Read2", "x"))
    b = _words(("read", "ɹ ɛ d"), ("it.", "ɪ t"), ("READ", "ɹ i d"))
    lexicon = build_lexicon([a, b])
    assert lexicon.text() == "i\ta ɪ\nit\tɪ t\nread\tɹ i d\nread2\tx\nread3\tɹ ɛ d\n"
    assert lexicon.labs == (("i", "read", "read2"), ("read3", "it", "read"))


def test_lexicon_of_punctuation_only_word():
    lexicon = build_lexicon([_words(("--", "ə"), ("?", "ʔ"))])
    assert lexicon.entries == (("w", ("ə",)), ("w2", ("ʔ",)))
    assert lexicon.labs == (("w", "w2"),)


def test_command_line():
    cmd = mfa_align_command(Path("/c"), Path("/d.txt"), "english_mfa", Path("/o"), jobs=4, beam=100,
                            retry_beam=400, extra_args=["--single_speaker"])
    assert cmd == ["mfa", "align", "/c", "/d.txt", "english_mfa", "/o", "--clean", "--overwrite",
                   "--output_format", "long_textgrid", "--num_jobs", "4", "--beam", "100", "--retry_beam", "400",
                   "--single_speaker"]
    assert "--beam" not in mfa_align_command(Path("c"), Path("d"), "m", Path("o"))


def test_import_ipa_textgrid_relabels_with_the_transcript():
    transcript = Transcript(
        (WordPhones("We", (PhoneToken("w"), PhoneToken("i", {"stress": 1}))),
         WordPhones("saw", (PhoneToken("s"), PhoneToken("ɔ"))),
         WordPhones("it!", (PhoneToken("ɪ"), PhoneToken("t")))),
        "en",
    )
    result = import_mfa_textgrid(FIXTURES / "mfa_ipa_long.TextGrid", transcript)
    assert [(w.start, w.end, w.label) for w in result.words] == [(0.3, 0.52, "We"), (0.6, 0.95, "saw"),
                                                                 (0.95, 1.23, "it!")]
    assert [(p.start, p.end, p.label) for p in result.phones] == [
        (0.3, 0.38, "w"), (0.38, 0.52, "i"), (0.6, 0.74, "s"), (0.74, 0.95, "ɔ"), (0.95, 1.06, "ɪ"), (1.06, 1.23, "t")]
    assert dict(result.phones[1].attrs) == {"stress": 1}
    assert result.duration == 1.5 and result.meta["lang"] == "en" and result.meta["aligner"] == "mfa"


def test_import_arpabet_short_textgrid():
    result = import_mfa_textgrid(FIXTURES / "mfa_arpa_short.TextGrid", from_ipa("G OW1 | HH OW1 M"))
    assert result.phones.labels == ["G", "OW1", "HH", "OW1", "M"]
    assert result.phones[0].start == 0.11 and result.phones[-1].end == 0.83  # "sil" and "<eps>" are gaps
    assert [(w.start, w.end) for w in result.words] == [(0.11, 0.39), (0.39, 0.83)]


def test_import_refuses_unknown_words_and_other_phones():
    with pytest.raises(AlignmentError, match="0 words.*transcript has 1"):
        import_mfa_textgrid(FIXTURES / "mfa_unknown_word.TextGrid", from_ipa("h ɛ l oʊ"))
    with pytest.raises(AlignmentError, match="phones .* differ"):
        import_mfa_textgrid(FIXTURES / "mfa_ipa_long.TextGrid", from_ipa("w i | s ɑ | ɪ t"))


def test_unavailable_without_the_command(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    mfa_version.cache_clear()
    try:
        assert not MFAAligner.is_available()
        assert "not on PATH" in MFAAligner.unavailable_reason()
        with pytest.raises(BackendUnavailableError, match="install the Montreal Forced Aligner"):
            MFAAligner("english_mfa").align_many([])
    finally:
        mfa_version.cache_clear()


def test_full_run_against_stand_in(tmp_path, fake_mfa):
    for name in ("a", "spk/b", "c"):
        (tmp_path / "in" / name).parent.mkdir(parents=True, exist_ok=True)
        tone_file(tmp_path / "in" / f"{name}.wav", [(0.1, 0.5)])
    tone_file(tmp_path / "in" / "a.ogg", [(0.1, 0.5)], subtype="VORBIS")  # converted to WAV for MFA
    items = [
        BatchItem("a", tmp_path / "in" / "a.ogg", from_ipa("h a | l o")),
        BatchItem("spk/b", tmp_path / "in" / "spk" / "b.wav", _words(("Hal-lo", "h a l o"))),
        BatchItem("c", tmp_path / "in" / "c.wav", _words(("fail", "f"))),
    ]
    aligner = MFAAligner("english_mfa", beam=50)
    assert MFAAligner.is_available()
    results = aligner.align_many(items, jobs=2)
    a = results["a"]
    assert [(p.start, p.end, p.label) for p in a.phones] == [
        (0.1, 0.2, "h"), (0.2, 0.3, "a"), (0.4, 0.5, "l"), (0.5, 0.6, "o")]  # "sp" at 0.3-0.4 is a gap
    assert a.words.labels == ["ha", "lo"] and a.meta["acoustic_model"] == "english_mfa"
    assert a.meta["mfa_version"] == "3.9.9"
    assert results["spk/b"].words.labels == ["Hal-lo"]
    assert isinstance(results["c"], AlignmentError) and "Beam too narrow" in str(results["c"])
    align_call = [c for c in _calls(fake_mfa) if c[0] == "align"][0]
    assert align_call[3] == "english_mfa"
    assert {"--clean", "--overwrite"} <= set(align_call)
    assert align_call[align_call.index("--beam") + 1] == "50"
    assert align_call[align_call.index("--num_jobs") + 1] == "2"


def test_single_file_align_and_tool_failure(fake_mfa):
    import numpy as np

    x = np.zeros(16000, np.float32)
    x[2000:6000] = 0.3
    result = MFAAligner("english_mfa").align(x, 16000, from_ipa("t a"))
    assert result.phones.labels == ["t", "a"] and result.phones[0].start == 0.1
    with pytest.raises(AlignmentError, match="(?s)exit code 1.*could not be loaded"):
        MFAAligner("broken_model").align(x, 16000, from_ipa("t a"))
    with pytest.raises(InputError, match="needs an acoustic model"):
        MFAAligner().align(x, 16000, from_ipa("t a"))


@pytest.mark.mfa
def test_real_mfa_if_installed(tmp_path):
    """Runs only where the Montreal Forced Aligner works (`mfa version`) with english_mfa installed."""
    import subprocess

    mfa_version.cache_clear()
    version, reason = mfa_version()
    if version is None:
        pytest.skip(f"MFA is not usable here: {reason}")
    listed = subprocess.run(["mfa", "model", "list", "acoustic"], capture_output=True, text=True)
    if "english_mfa" not in listed.stdout:
        pytest.skip("the english_mfa acoustic model is not installed (mfa model download acoustic english_mfa)")
    from visemes import lang_packs
    from visemes.speech.synthesis import speak

    spoken = speak("hello world", "en-US")
    pack_transcript = lang_packs.load("en-US").phonemize("hello world")
    result = MFAAligner("english_mfa").align(spoken.audio, spoken.sample_rate, pack_transcript)
    assert result.phones.labels == pack_transcript.symbols
    assert result.words.labels == ["hello", "world"]
    assert 0 <= result.phones[0].start < result.phones[-1].end <= result.duration
