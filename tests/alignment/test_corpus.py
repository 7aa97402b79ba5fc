"""The corpus runner with fake aligners: layout, outputs, resuming (exactly), bad files, pooled adaptation
across workers (for align-corpus and animate-corpus), batches, staging, symlinks, unwritable outputs."""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

import pytest
from alignment_fakes import (
    BatchDecodingAligner,
    BatchFakeAligner,
    EvenAligner,
    PooledAligner,
    tone_file,
)
from visemes.alignment.transcripts import from_ipa

from visemes.core.audio import load_audio
from visemes.core.errors import InputError
from visemes.core.textgrid import read_textgrid
from visemes.core.timeline import Alignment
from visemes.formats import FORMATS
from visemes.pipeline.animator import animate
from visemes.pipeline.corpus import REPORT_NAME, discover
from visemes.pipeline.jobs import AnimateOptions, align_corpus, animate_corpus
from visemes.pipeline.staging import LOCK_NAME, STAGING_NAME


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
    items = {it.rel: it for it in discover(corpus)}
    assert set(items) == GOOD | BAD
    assert items["spk2/three"].transcript.name == "three.lab"
    assert items["two"].transcript.name == "two.txt"
    assert items["four"].transcript.name == "four.LAB"
    assert items["orphan"].transcript is None
    tone_file(corpus / "two.wav", [(0.1, 0.2)])
    with pytest.raises(InputError, match="Two audio files share the name 'two'"):
        discover(corpus)


def test_per_file_run_outputs_resume_and_bad_files(tmp_path):
    corpus, out = make_corpus(tmp_path), tmp_path / "out"
    report = align_corpus(corpus, out, EvenAligner(), ipa=True, lang="xx", formats="textgrid,json", jobs=1)
    assert {r.rel for r in report.done} == GOOD
    failed = {r.rel: f"{r.error_type}: {r.message}" for r in report.failed}
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
    saved = json.loads((out / REPORT_NAME).read_text(encoding="utf-8"))
    assert saved["counts"] == {"files": 7, "done": 4, "skipped": 0, "failed": 3, "flagged": 0}

    again = align_corpus(corpus, out, EvenAligner(), ipa=True, formats=["textgrid", "json"], jobs=1)
    assert {r.rel for r in again.skipped} == GOOD and {r.rel for r in again.failed} == BAD
    (out / "two.json").unlink()
    before = (out / "two.TextGrid").stat().st_mtime_ns
    resumed = align_corpus(corpus, out, EvenAligner(), ipa=True, formats="textgrid,json", jobs=1)
    assert {r.rel for r in resumed.done} == {"two"} and (out / "two.json").exists()
    assert (out / "two.TextGrid").stat().st_mtime_ns == before  # existing output kept without overwrite
    # an input newer than its outputs: refused without --overwrite, redone with it
    os.utime(corpus / "one.lab", ns=(before + 10**9, before + 10**9))
    stale = align_corpus(corpus, out, EvenAligner(), ipa=True, formats="textgrid", jobs=1)
    assert "one" in {r.rel for r in stale.failed} and "--overwrite" in stale.summary()
    redone = align_corpus(corpus, out, EvenAligner(), ipa=True, formats="textgrid", overwrite=True, jobs=1)
    assert {r.rel for r in redone.done} == GOOD


def test_pooled_adaptation_across_workers(tmp_path):
    corpus, out = make_corpus(tmp_path), tmp_path / "out"
    report = align_corpus(corpus, out, PooledAligner(), ipa=True, jobs=2, formats="json")
    # the quiet file falls under the threshold pooled from the louder files (see the next test)
    quiet = "spk2/three"
    assert {r.rel for r in report.done} == GOOD - {quiet}
    assert {r.rel for r in report.failed} == BAD | {quiet}
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
    report = align_corpus(corpus, tmp_path / "out", PooledAligner(), ipa=True, formats="json", jobs=1)
    assert len(report.done) == 2
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
    report = align_corpus(corpus, out, BatchDecodingAligner(), ipa=True, formats="json", jobs=1)
    assert len(report.done) == 8 and [r.rel for r in report.failed] == ["silent"]
    sizes = sorted(str(Alignment.from_json(p.read_text(encoding="utf-8")).meta.get("decoded_in_batch"))
                   for p in out.glob("*.json") if p.name != REPORT_NAME)
    # 9 files in chunks of 3: two chunks decoded as batches; the chunk holding the silent file failed
    # as a batch, so its two good files were decoded one by one
    assert sizes == ["3"] * 6 + ["None"] * 2


def test_batch_backend(tmp_path):
    corpus, out = make_corpus(tmp_path), tmp_path / "out"
    report = align_corpus(corpus, out, BatchFakeAligner(), ipa=True, formats="json", jobs=1)
    assert {r.rel for r in report.done} == GOOD and {r.rel for r in report.failed} == BAD
    meta = json.loads((out / "one.json").read_text(encoding="utf-8"))["meta"]
    assert meta["batch_size"] == len(GOOD) + 1  # corrupt and orphan never reach the backend


def test_refusals(tmp_path):
    corpus = make_corpus(tmp_path)
    with pytest.raises(InputError, match="is the input folder"):
        align_corpus(corpus, corpus, EvenAligner(), ipa=True)
    with pytest.raises(InputError, match="--lang CODE"):
        align_corpus(corpus, tmp_path / "o", EvenAligner())
    nested = tmp_path / "corpus" / "corpus"  # IN inside OUT, where keys "corpus/..." would land in IN
    nested.mkdir()
    tone_file(nested / "x.wav", [(0.1, 0.2)])
    with pytest.raises(InputError, match="would be written inside the input folder"):
        align_corpus(tmp_path / "corpus", tmp_path, EvenAligner(), ipa=True)
    with pytest.raises(InputError, match="Unknown export format 'mp4'"):
        align_corpus(corpus, tmp_path / "o", EvenAligner(), ipa=True, formats="textgrid,mp4")
    with pytest.raises(InputError, match="alignments only.*csv"):
        align_corpus(corpus, tmp_path / "o", EvenAligner(), ipa=True, formats="textgrid,csv")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="No audio files"):
        align_corpus(tmp_path / "empty", tmp_path / "o", EvenAligner(), ipa=True)
    with pytest.raises(InputError, match="does not exist"):
        align_corpus(tmp_path / "nothing", tmp_path / "o", EvenAligner(), ipa=True)
    assert not (tmp_path / "o").exists()


def test_an_output_folder_inside_the_corpus_is_never_read_back(tmp_path):
    corpus = make_corpus(tmp_path)
    inner = corpus / "aligned"
    first = align_corpus(corpus, inner, EvenAligner(), ipa=True, jobs=1)
    assert {o.rel for o in first.done} == GOOD
    tone_file(inner / "stray.wav", [(0.1, 0.5)])  # audio among the outputs is not an input
    (inner / "stray.lab").write_text("a", encoding="utf-8")
    again = align_corpus(corpus, inner, EvenAligner(), ipa=True, jobs=1)
    assert {o.rel for o in again.outcomes} == GOOD | BAD and {o.rel for o in again.skipped} == GOOD


def test_unpicklable_aligner_is_refused_before_any_work(tmp_path):
    corpus = make_corpus(tmp_path)
    aligner = EvenAligner()
    aligner.hook = lambda: None  # a lambda cannot travel to a worker process
    with pytest.raises(InputError, match="cannot be sent to worker processes.*--jobs 1"):
        align_corpus(corpus, tmp_path / "o", aligner, ipa=True, jobs=2)
    assert not (tmp_path / "o").exists()


# --- resuming, staging, symlinks, unwritable outputs ---------------------------------------------------


class _StopAfter:
    """A Progress that interrupts the run (like Ctrl-C or a kill) once ``n`` files are done."""

    def __init__(self, n: int):
        self.n, self.done = n, 0

    def phase(self, name, total):
        pass

    def advance(self, outcome=None):
        if outcome is not None and outcome.status == "done":
            self.done += 1
            if self.done == self.n:
                raise KeyboardInterrupt


def _json_outputs(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*.json")) if p.name != REPORT_NAME}


def _pooled_corpus(root: Path) -> Path:
    """Six files whose pooled threshold differs from the threshold of any part of them."""
    corpus = root / "c"
    corpus.mkdir()
    for i, amp in enumerate((0.9, 0.15, 0.5, 0.3, 0.7, 0.2)):
        tone_file(corpus / f"f{i}.wav", [(0.1, 0.3, amp), (0.5, 0.8, 0.15)])
        (corpus / f"f{i}.lab").write_text("a | i", encoding="utf-8")
    return corpus


def test_an_interrupted_run_resumes_exactly(tmp_path):
    corpus = _pooled_corpus(tmp_path)
    whole = align_corpus(corpus, tmp_path / "whole", PooledAligner(), ipa=True, formats="json", jobs=1)
    assert len(whole.done) == 6
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        align_corpus(corpus, out, PooledAligner(), ipa=True, formats="json", jobs=1, progress=_StopAfter(2))
    first = json.loads((out / REPORT_NAME).read_text(encoding="utf-8"))  # written although interrupted
    assert first["counts"]["done"] == 2 and not (out / STAGING_NAME).exists()
    resumed = align_corpus(corpus, out, PooledAligner(), ipa=True, formats="json", jobs=1)
    assert len(resumed.skipped) == 2 and len(resumed.done) == 4
    # the resumed run adapted on all six files, not on the four it still had to do
    assert "Adapted on 6 files pooled from the corpus (2 of them finished in an earlier run)." in resumed.notes
    assert _json_outputs(out) == _json_outputs(tmp_path / "whole")
    # and had it adapted on the remaining four only, the outputs would differ (the test can fail)
    four = tmp_path / "four"
    four.mkdir()
    kept = sorted({f"f{i}" for i in range(6)} - {f["file"] for f in first["files"] if f["status"] == "done"})
    for name in kept:
        for suffix in (".wav", ".lab"):
            (four / (name + suffix)).write_bytes((corpus / (name + suffix)).read_bytes())
    alone = align_corpus(four, tmp_path / "four_out", PooledAligner(), ipa=True, formats="json", jobs=1)
    assert len(alone.done) == 4
    assert any(_json_outputs(tmp_path / "four_out")[f"{n}.json"] != _json_outputs(out)[f"{n}.json"] for n in kept)


def test_finished_files_are_skipped_without_aligning_when_nothing_is_left(tmp_path):
    corpus = _pooled_corpus(tmp_path)
    align_corpus(corpus, tmp_path / "out", PooledAligner(), ipa=True, formats="json", jobs=1)

    class Refuses(PooledAligner):
        def prepare(self, *args):
            raise AssertionError("nothing is left to do: no file should be prepared")

    again = align_corpus(corpus, tmp_path / "out", Refuses(), ipa=True, formats="json", jobs=1)
    assert len(again.skipped) == 6 and again.ok


def test_stale_staging_of_a_killed_run_is_cleaned(tmp_path):
    corpus = _pooled_corpus(tmp_path)
    out = tmp_path / "out"
    leftover = out / STAGING_NAME / "f1.0badc0de"
    leftover.mkdir(parents=True)
    (leftover / "f1.json").write_text("{half a file", encoding="utf-8")
    (out / STAGING_NAME / LOCK_NAME).write_bytes(b"")  # the killed run's lock file (no longer locked)
    report = align_corpus(corpus, out, PooledAligner(), ipa=True, formats="json", jobs=1)
    assert len(report.done) == 6 and not (out / STAGING_NAME).exists()
    assert any("Removed 1 unfinished staging folder" in note for note in report.notes)
    assert Alignment.from_json((out / "f1.json").read_text(encoding="utf-8")).phones.labels == ["a", "i"]


def test_a_second_run_on_the_same_output_is_refused(tmp_path):
    corpus = _pooled_corpus(tmp_path)
    staging = tmp_path / "out" / STAGING_NAME
    staging.mkdir(parents=True)
    keep = tmp_path / "keep"
    (keep / "x").mkdir(parents=True)
    with open(staging / LOCK_NAME, "a+b") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(InputError, match="Another run is writing into"):
            align_corpus(corpus, tmp_path / "out", PooledAligner(), ipa=True, formats="json", jobs=1)
    assert not list((tmp_path / "out").glob("*.json"))


def test_symlinks_out_of_the_corpus_are_refused_unless_followed(tmp_path):
    corpus = _pooled_corpus(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    tone_file(elsewhere / "far.wav", [(0.1, 0.5)])
    (corpus / "far.wav").symlink_to(elsewhere / "far.wav")
    (corpus / "far.lab").write_text("a", encoding="utf-8")
    (corpus / "near.wav").symlink_to(corpus / "f0.wav")  # inside the corpus: fine
    (corpus / "near.lab").write_text("a", encoding="utf-8")
    with pytest.raises(InputError, match=r"symbolic links to outside the corpus folder.*far\.wav.*--follow-symlinks"):
        align_corpus(corpus, tmp_path / "out", EvenAligner(), ipa=True, jobs=1)
    assert not (tmp_path / "out").exists()
    report = align_corpus(corpus, tmp_path / "out", EvenAligner(), ipa=True, jobs=1, follow_symlinks=True)
    assert {"far", "near"} <= {o.rel for o in report.done}
    (corpus / "far.wav").unlink()
    (corpus / "far.lab").unlink()
    (elsewhere / "t.lab").write_text("a", encoding="utf-8")
    (corpus / "f0.lab").unlink()
    (corpus / "f0.lab").symlink_to(elsewhere / "t.lab")  # a transcript may not leave either
    with pytest.raises(InputError, match=r"f0\.lab"):
        discover(corpus)


def test_an_unwritable_output_folder_is_refused_before_any_file(tmp_path):
    corpus = _pooled_corpus(tmp_path)
    calls = []

    class Counting(PooledAligner):
        def prepare(self, *args):
            calls.append(1)
            return super().prepare(*args)

    out = tmp_path / "out"
    out.mkdir()
    (out / STAGING_NAME).write_text("a file where the staging folder goes", encoding="utf-8")
    with pytest.raises(InputError, match="Cannot write into the output folder"):
        align_corpus(corpus, out, Counting(), ipa=True, formats="json", jobs=1)
    assert not calls


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_output_folder_is_refused_before_any_file(tmp_path):
    corpus = _pooled_corpus(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o555)
    try:
        with pytest.raises(InputError, match="Cannot write into the output folder"):
            align_corpus(corpus, out, PooledAligner(), ipa=True, formats="json", jobs=1)
    finally:
        out.chmod(0o755)


def test_the_report_lists_every_failed_file(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    for i in range(14):
        tone_file(corpus / f"s{i:02d}.wav", [])  # silent: the backend fails
        (corpus / f"s{i:02d}.lab").write_text("a", encoding="utf-8")
    report = align_corpus(corpus, tmp_path / "out", EvenAligner(), ipa=True, jobs=1)
    text = report.summary()
    assert "Failed (14):" in text and all(f"s{i:02d}: AlignmentError" in text for i in range(14))


# --- animate-corpus aligns like align-corpus --------------------------------------------------------


def test_animate_corpus_adapts_once_on_the_pooled_corpus(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    tone_file(corpus / "mixed.wav", [(0.1, 0.3, 0.9), (0.5, 0.8, 0.15)])
    tone_file(corpus / "soft.wav", [(0.1, 0.9, 0.15)])
    tone_file(corpus / "soft2.wav", [(0.2, 0.6, 0.2)])
    for name in ("mixed", "soft", "soft2"):
        (corpus / f"{name}.txt").write_text("a", encoding="utf-8")
    adapted: list[list[float]] = []

    class Recording(PooledAligner):
        def adapt(self, prepared):
            adapted.append([p.duration for p in prepared])
            return super().adapt(prepared)

    options = AnimateOptions(lang="es", use_model=False, formats=("json",))
    report = animate_corpus(corpus, tmp_path / "anim", options, aligner=Recording(), jobs=1)
    assert report.ok and len(report.done) == 3
    assert len(adapted) == 1 and len(adapted[0]) == 3  # once, on every file's prepared features
    aligned = align_corpus(corpus, tmp_path / "al", PooledAligner(), lang="es", formats="json", jobs=1)
    assert aligned.ok
    for name in ("mixed", "soft", "soft2"):
        animated = FORMATS["json"].read(tmp_path / "anim" / name / "visemes.json").alignment
        plain = Alignment.from_json((tmp_path / "al" / f"{name}.json").read_text(encoding="utf-8"))
        assert animated.meta["adapted_on"] == 3
        assert [(p.start, p.end, p.label) for p in animated.phones] == [(p.start, p.end, p.label) for p in plain.phones]
        summary = json.loads((tmp_path / "anim" / name / "summary.json").read_text(encoding="utf-8"))
        assert summary["timing"] == "aligned"
    # pooled, the quiet burst of "mixed" counts: its phone runs to 0.8 s (alone it would end at 0.3 s)
    mixed = FORMATS["json"].read(tmp_path / "anim" / "mixed" / "visemes.json").alignment
    assert mixed.phones[0].end == pytest.approx(0.8, abs=0.011)
    with pytest.raises(InputError, match="aligned_to= goes with an alignment"):
        animate(corpus / "mixed.wav", text="a", lang="es", use_model=False, aligned_to=from_ipa("a"))


def test_staging_folders_are_reused_within_a_run_and_none_is_left(tmp_path, monkeypatch):
    """Removing a folder costs milliseconds on ext4: a run makes one staging folder per process, not per file."""
    from visemes.pipeline import staging as staging_mod

    made = []
    real_mkdir = Path.mkdir

    def counting_mkdir(self, *args, **kwargs):
        if self.parent.name == STAGING_NAME:
            made.append(self.name)
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", counting_mkdir)
    corpus = _pooled_corpus(tmp_path)
    out = tmp_path / "out"
    report = align_corpus(corpus, out, PooledAligner(), ipa=True, jobs=1, formats="textgrid,json")
    assert len(report.done) == 6
    assert len(set(made)) == 1, made  # (atomic writes mkdir(exist_ok=True) the same folder again)
    assert not (out / STAGING_NAME).exists() and not staging_mod._SPARE
    assert sorted(p.name for p in out.rglob("*") if p.is_file() and p.name != REPORT_NAME) == sorted(
        f"f{i}{s}" for i in range(6) for s in (".TextGrid", ".json"))


def test_preparing_in_threads_gives_the_single_thread_result_and_keeps_g2p_on_one_thread(tmp_path, monkeypatch):
    """jobs=1 reads audio and features in PREPARE_THREADS threads; the outputs, failures and their messages
    equal a one-thread run, and every transcript (G2P) is made on the calling thread."""
    import threading

    from visemes.pipeline import jobs as jobs_mod
    from visemes.pipeline import runner

    corpus = make_corpus(tmp_path)
    real = jobs_mod._transcript_of
    threads: set[str] = set()

    def recording(item, **kwargs):
        threads.add(threading.current_thread().name)
        return real(item, **kwargs)

    monkeypatch.setattr(jobs_mod, "_transcript_of", recording)
    runs = {}
    for n in (1, 2):
        monkeypatch.setattr(runner, "PREPARE_THREADS", n)
        out = tmp_path / f"out{n}"
        report = align_corpus(corpus, out, PooledAligner(), ipa=True, jobs=1, formats="json")
        runs[n] = (_json_outputs(out), sorted((o.rel, o.status, o.error_type, o.message) for o in report.outcomes))
    assert runs[1] == runs[2]
    assert {r for r, status, _, _ in runs[2][1] if status == "failed"} == BAD | {"spk2/three"}
    assert threads == {threading.current_thread().name}
