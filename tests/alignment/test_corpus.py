"""The corpus runner: layout, outputs, resuming, bad files, pooled adaptation across workers, batches."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from visemes.core.audio import load_audio
from visemes.pipeline.align_corpus import align_corpus, discover_corpus
from visemes.alignment.transcripts import from_ipa
from alignment_fakes import BatchDecodingAligner, BatchFakeAligner, EvenAligner, PooledAligner, tone_file
from visemes.core.errors import InputError
from visemes.core.textgrid import read_textgrid
from visemes.core.timeline import Alignment


def make_corpus(root: Path) -> Path:
    """Four good files (mixed formats, rates, channels, a speaker folder) and three bad ones."""
    corpus = root / "corpus"
    (corpus / "spk2").mkdir(parents=True)
    tone_file(corpus / "one.wav", [(0.2, 0.6)])
    (corpus / "one.lab").write_text("s a | t a\n", encoding="utf-8")
    tone_file(corpus / "two.flac", [(0.1, 0.9)], rate=44100, channels=2, duration=1.2)
    (corpus / "two.txt").write_text("m i\nn o\n", encoding="utf-8")
    tone_file(corpus / "spk2" / "three.wav", [(0.5, 0.7)], rate=8000, amplitude=0.2)
    (corpus / "spk2" / "three.lab").write_text("a", encoding="utf-8")
    (corpus / "spk2" / "three.txt").write_text("ignored because .lab wins", encoding="utf-8")
    tone_file(corpus / "four.ogg", [(0.0, 0.4)], rate=48000, subtype="VORBIS")
    (corpus / "four.LAB").write_text("o", encoding="utf-8")
    # bad: corrupt audio, no transcript, silent audio (the backend fails), and a hidden file to ignore
    (corpus / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunk")
    (corpus / "broken.lab").write_text("a", encoding="utf-8")
    tone_file(corpus / "orphan.wav", [(0.1, 0.2)])
    tone_file(corpus / "silent.wav", [])
    (corpus / "silent.lab").write_text("a", encoding="utf-8")
    tone_file(corpus / ".hidden.wav", [(0.1, 0.2)])
    return corpus


GOOD = {"one", "two", "spk2/three", "four"}
BAD = {"broken", "orphan", "silent"}


def test_discovery(tmp_path):
    corpus = make_corpus(tmp_path)
    items = {it.key: it for it in discover_corpus(corpus)}
    assert set(items) == GOOD | BAD
    assert items["spk2/three"].transcript_path.name == "three.lab"
    assert items["two"].transcript_path.name == "two.txt"
    assert items["four"].transcript_path.name == "four.LAB"
    assert items["orphan"].transcript_path is None


def test_per_file_run_outputs_resume_and_bad_files(tmp_path):
    corpus, out = make_corpus(tmp_path), tmp_path / "out"
    report = align_corpus(corpus, out, EvenAligner(), ipa=True, lang="xx", formats="textgrid,json")
    assert {r.key for r in report.ok} == GOOD
    failed = {r.key: r.error for r in report.failed}
    assert set(failed) == BAD
    assert "broken.wav" in failed["broken"] and "AudioError" in failed["broken"]
    assert "add orphan.lab or .txt" in failed["orphan"]
    assert "silent" in failed["silent"]
    assert report.audio_seconds == pytest.approx(1.0 + 1.2 + 1.0 + 1.0 + 1.0 + 1.0, abs=0.01)  # broken: 0 s
    assert "x real time" in report.summary() and "broken" in report.summary()

    grid = read_textgrid(out / "one.TextGrid")
    assert grid.tier_names == ["words", "phones"]
    assert grid.phones.labels == ["s", "a", "t", "a"] and grid.words.labels == ["sa", "ta"]
    assert grid.phones[0].start == pytest.approx(0.2, abs=0.011)
    raw = (out / "one.TextGrid").read_text(encoding="utf-8")
    assert 'text = ""' in raw  # silence written as empty intervals
    doc = Alignment.from_json((out / "spk2" / "three.json").read_text(encoding="utf-8"))
    assert doc.phones[0].attrs["confidence"] == 0.9
    assert doc.meta["source"] == "three.wav" and doc.meta["lang"] == "xx"
    assert read_textgrid(out / "two.TextGrid").words.labels == ["mi", "no"]
    assert not [p for p in out.rglob(".*")], "temporary files left behind"
    assert not (corpus / "one.TextGrid").exists()

    again = align_corpus(corpus, out, EvenAligner(), ipa=True, formats=["textgrid", "json"])
    assert {r.key for r in again.skipped} == GOOD and {r.key for r in again.failed} == BAD
    (out / "two.json").unlink()
    before = (out / "two.TextGrid").stat().st_mtime_ns
    resumed = align_corpus(corpus, out, EvenAligner(), ipa=True, formats="textgrid,json")
    assert {r.key for r in resumed.ok} == {"two"} and (out / "two.json").exists()
    assert (out / "two.TextGrid").stat().st_mtime_ns == before  # existing output kept without overwrite
    redone = align_corpus(corpus, out, EvenAligner(), ipa=True, formats="textgrid", overwrite=True)
    assert {r.key for r in redone.ok} == GOOD


def test_pooled_adaptation_across_workers(tmp_path):
    corpus, out = make_corpus(tmp_path), tmp_path / "out"
    report = align_corpus(corpus, out, PooledAligner(), ipa=True, jobs=2, formats="json")
    # the quiet file falls under the threshold pooled from the louder files (see the next test)
    quiet = "spk2/three"
    assert {r.key for r in report.ok} == GOOD - {quiet}
    assert {r.key for r in report.failed} == BAD | {quiet}
    metas = [Alignment.from_json((out / f"{key}.json").read_text(encoding="utf-8")).meta for key in GOOD - {quiet}]
    # adapt ran once, here, on every file that prepared: the good ones and the silent one (it fails
    # only when decoding); the corrupt and orphan files never reached it
    assert {m["adapted_on"] for m in metas} == {len(GOOD) + 1}
    assert {m["adapt_pid"] for m in metas} == {os.getpid()}
    assert os.getpid() not in {m["prepare_pid"] for m in metas} | {m["decode_pid"] for m in metas}
    assert any("pooled" in note for note in report.notes)


def test_pooling_changes_the_result_in_process(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    # "mixed" alone: its loud burst sets a threshold above its quiet burst (span 0.1-0.3 s);
    # pooled with the all-quiet "soft" file, the threshold drops and the quiet burst counts (0.1-0.8 s)
    tone_file(corpus / "mixed.wav", [(0.1, 0.3, 0.9), (0.5, 0.8, 0.15)])
    tone_file(corpus / "soft.wav", [(0.1, 0.9, 0.15)])
    for name in ("mixed", "soft"):
        (corpus / f"{name}.lab").write_text("a", encoding="utf-8")
    alone = PooledAligner().align(*load_audio(corpus / "mixed.wav"), from_ipa("a"))
    assert alone.meta["adapted_on"] == 1 and alone.phones[0].end == pytest.approx(0.3, abs=0.011)
    report = align_corpus(corpus, tmp_path / "out", PooledAligner(), ipa=True, formats="json")
    assert len(report.ok) == 2
    pooled = Alignment.from_json((tmp_path / "out" / "mixed.json").read_text(encoding="utf-8"))
    assert pooled.meta["adapted_on"] == 2 and pooled.meta["decode_pid"] == os.getpid()
    assert pooled.phones[0].start == pytest.approx(0.1, abs=0.011)
    assert pooled.phones[0].end == pytest.approx(0.8, abs=0.011)


def test_batched_decoding_isolates_the_bad_file(tmp_path):
    corpus, out = tmp_path / "c", tmp_path / "out"
    corpus.mkdir()
    for i in range(8):
        tone_file(corpus / f"g{i}.wav", [(0.1, 0.5)])
    tone_file(corpus / "silent.wav", [])
    for path in corpus.glob("*.wav"):
        path.with_suffix(".lab").write_text("a", encoding="utf-8")
    report = align_corpus(corpus, out, BatchDecodingAligner(), ipa=True, formats="json")
    assert len(report.ok) == 8 and [r.key for r in report.failed] == ["silent"]
    sizes = sorted(str(Alignment.from_json(p.read_text(encoding="utf-8")).meta.get("decoded_in_batch"))
                   for p in out.glob("*.json"))
    # 9 files in chunks of 3: two chunks decoded as batches; the chunk holding the silent file failed
    # as a batch, so its two good files were decoded one by one
    assert sizes == ["3"] * 6 + ["None"] * 2


def test_batch_backend(tmp_path):
    corpus, out = make_corpus(tmp_path), tmp_path / "out"
    report = align_corpus(corpus, out, BatchFakeAligner(), ipa=True, formats="json", progress=True)
    assert {r.key for r in report.ok} == GOOD and {r.key for r in report.failed} == BAD
    meta = json.loads((out / "one.json").read_text(encoding="utf-8"))["meta"]
    assert meta["batch_size"] == len(GOOD) + 1  # corrupt and orphan never reach the backend


def test_refusals(tmp_path):
    corpus = make_corpus(tmp_path)
    with pytest.raises(InputError, match="is the input folder"):
        align_corpus(corpus, corpus, EvenAligner(), ipa=True)
    with pytest.raises(InputError, match="inside the input folder"):
        align_corpus(corpus, corpus / "aligned", EvenAligner(), ipa=True)
    with pytest.raises(InputError, match="--lang CODE"):
        align_corpus(corpus, tmp_path / "o", EvenAligner())
    nested = tmp_path / "corpus" / "corpus"  # IN inside OUT, where keys "corpus/..." would land in IN
    nested.mkdir()
    tone_file(nested / "x.wav", [(0.1, 0.2)])
    with pytest.raises(InputError, match="would be written inside the input folder"):
        align_corpus(tmp_path / "corpus", tmp_path, EvenAligner(), ipa=True)
    with pytest.raises(InputError, match="Unknown output format"):
        align_corpus(corpus, tmp_path / "o", EvenAligner(), ipa=True, formats="textgrid,mp4")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="No audio files"):
        align_corpus(tmp_path / "empty", tmp_path / "o", EvenAligner(), ipa=True)
    with pytest.raises(InputError, match="does not exist"):
        align_corpus(tmp_path / "nothing", tmp_path / "o", EvenAligner(), ipa=True)
    assert not (tmp_path / "o").exists()


def test_unpicklable_aligner_is_refused_before_any_work(tmp_path):
    corpus = make_corpus(tmp_path)
    aligner = EvenAligner()
    aligner.hook = lambda: None  # a lambda cannot travel to a worker process
    with pytest.raises(InputError, match="cannot be sent to worker processes.*--jobs 1"):
        align_corpus(corpus, tmp_path / "o", aligner, ipa=True, jobs=2)
    assert not (tmp_path / "o").exists()
