"""The corpus runner with a stand-in job (no aligner): parallelism, resume, error report, safety; and the
real animate-corpus pipeline locally and on a Dask LocalCluster."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from corpus_fakes import FakeJob

from visemes.cli.main import main
from visemes.core.errors import BackendUnavailableError, InputError
from visemes.formats import FORMATS
from visemes.pipeline.corpus import REPORT_NAME, check_dirs, discover
from visemes.pipeline.jobs import AnimateOptions, animate_corpus
from visemes.pipeline.runner import run_corpus
from visemes.pipeline.staging import STAGING_NAME
from visemes.speech.synthesis import speak

OPTS = AnimateOptions(lang="en-US", fps=30.0)
JOB = FakeJob(OPTS)


def _make_corpus(root: Path, n: int = 4) -> Path:
    src = root / "in"
    (src / "spk").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        folder = src if i % 2 == 0 else src / "spk"
        sf.write(folder / f"utt{i}.wav", (0.1 * rng.standard_normal(1600 + 160 * i)).astype(np.float32), 16000)
        (folder / f"utt{i}.txt").write_text(f"hello number {i}", encoding="utf-8")
    return src


def _outputs(out: Path) -> dict[str, str]:
    return {p.relative_to(out).as_posix(): p.read_text() for p in sorted(out.rglob("out.json"))}


def test_discover_pairs_audio_with_transcripts_and_skips_outputs(tmp_path):
    src = _make_corpus(tmp_path)
    (src / "lonely.flac").write_bytes(b"")
    (src / "out" / "old").mkdir(parents=True)
    sf.write(src / "out" / "old" / "x.wav", np.zeros(800, np.float32), 16000)
    items = discover(src, src / "out")
    assert [i.rel for i in items] == ["lonely", "spk/utt1", "spk/utt3", "utt0", "utt2"]
    assert items[0].transcript is None and items[3].transcript.name == "utt0.txt"
    assert "out/old/x" in {i.rel for i in discover(src)}  # without OUT to skip, it would be an input
    with pytest.raises(InputError, match="is the input folder"):
        check_dirs(src, src)
    with pytest.raises(InputError, match="does not exist"):
        discover(tmp_path / "nope")
    with pytest.raises(InputError, match="No audio"):
        discover(_empty(tmp_path))
    # OUT is the parent of IN and a file is named like IN: its output folder would be the input folder.
    sf.write(src / "in.wav", np.zeros(800, np.float32), 16000)
    with pytest.raises(InputError, match="inside the input folder"):
        run_corpus(src, tmp_path, JOB, jobs=1)


def _empty(tmp_path: Path) -> Path:
    (tmp_path / "empty").mkdir(exist_ok=True)
    return tmp_path / "empty"


def test_run_resume_error_report_and_overwrite(tmp_path):
    src = _make_corpus(tmp_path)
    (src / "spk" / "utt3.txt").write_text("please FAIL", encoding="utf-8")
    (src / "broken.wav").write_bytes(b"RIFF\x00\x00garbage")
    (src / "broken.txt").write_text("x", encoding="utf-8")
    (src / "notext.wav").write_bytes((src / "utt0.wav").read_bytes())
    (src / "bug.wav").write_bytes((src / "utt0.wav").read_bytes())
    (src / "bug.txt").write_text("CRASH", encoding="utf-8")
    out = tmp_path / "out"
    report = run_corpus(src, out, JOB, jobs=1)
    assert not report.ok
    assert sorted(o.rel for o in report.done) == ["spk/utt1", "utt0", "utt2"]
    failed = {o.rel: (o.error_type, o.message) for o in report.failed}
    assert failed["spk/utt3"][0] == "TranscriptError"
    assert failed["broken"][0] == "AudioError" and "Re-export" in failed["broken"][1]
    assert failed["notext"][0] == "TranscriptError" and "add a .txt" in failed["notext"][1]
    assert failed["bug"][0] == "ZeroDivisionError" and "internal error" in failed["bug"][1]
    saved = json.loads((out / REPORT_NAME).read_text())
    assert saved["counts"] == {"files": 7, "done": 3, "skipped": 0, "failed": 4, "flagged": 0}
    assert report.summary().count("\n  ") == 4  # every failure listed
    assert {f["file"] for f in saved["failed"]} == set(failed)
    # Failed files leave no output folder and no staging debris; finished ones are complete.
    assert not (out / "broken").exists() and not (out / STAGING_NAME).exists()
    summary = json.loads((out / "utt0" / "summary.json").read_text())
    assert summary["options"]["lang"] == "en-US" and summary["input"]["audio"]["path"] == "utt0.wav"
    first = _outputs(out)

    # Resume: fix one transcript; finished files are skipped, the fixed one is made now.
    (src / "spk" / "utt3.txt").write_text("hello number 3", encoding="utf-8")
    report2 = run_corpus(src, out, JOB, jobs=1)
    assert sorted(o.rel for o in report2.skipped) == ["spk/utt1", "utt0", "utt2"]
    assert [o.rel for o in report2.done] == ["spk/utt3"]
    assert {k: v for k, v in _outputs(out).items() if k in first} == first

    # Changed input: refused without overwrite, redone with it.
    sf.write(src / "utt0.wav", np.zeros(1600, np.float32), 16000)
    report3 = run_corpus(src, out, JOB, jobs=1)
    assert "utt0" in {o.rel for o in report3.failed}
    assert "--overwrite" in next(o.message for o in report3.failed if o.rel == "utt0")
    assert _outputs(out)["utt0/out.json"] == first["utt0/out.json"]  # old outputs kept
    report4 = run_corpus(src, out, JOB, jobs=1, overwrite=True)
    assert "utt0" in {o.rel for o in report4.done}
    assert _outputs(out)["utt0/out.json"] != first["utt0/out.json"]
    # Inputs are never touched.
    assert (src / "spk" / "utt3.txt").read_text() == "hello number 3"


def test_process_pool_matches_sequential(tmp_path):
    src = _make_corpus(tmp_path, 4)
    seq = run_corpus(src, tmp_path / "seq", JOB, jobs=1)
    par = run_corpus(src, tmp_path / "par", JOB, jobs=2)
    assert seq.ok and par.ok and len(par.done) == 4
    assert _outputs(tmp_path / "seq") == _outputs(tmp_path / "par")
    assert {o.summary["pid"] for o in par.done} != {os.getpid()}


def test_bad_jobs_and_unwritable_output(tmp_path):
    src = _make_corpus(tmp_path, 1)
    with pytest.raises(InputError, match="--jobs"):
        run_corpus(src, tmp_path / "o", JOB, jobs=0)
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(InputError, match="Cannot write into the output folder"):
        run_corpus(src, blocker / "out", JOB, jobs=1)
    with pytest.raises(InputError, match="not a folder"):
        run_corpus(src, blocker, JOB, jobs=1)


def test_dask_local_cluster_runs_the_pipeline_like_a_local_run(tmp_path, en_speech, en_result):
    """The real animate pipeline on a Dask LocalCluster (2 worker processes) gives the local run's outputs.

    ``take`` comes with timings (TextGrid): QA, curves and every export must be byte-identical.
    ``hello``/``morning`` are aligned: the builtin aligner seeds its segmentation with espeak-ng speech,
    and espeak-ng's output currently depends on what the process synthesized before (the same text
    gives 14716, 14721 or 14458 samples on consecutive calls), so a fresh worker can place a boundary a
    few ms away from a long-running process. Those are compared on labels and to within 25 ms.
    """
    distributed = pytest.importorskip("distributed", reason="dask[distributed] (the `cluster` extra) is not installed")

    src = tmp_path / "in"
    (src / "spk").mkdir(parents=True)
    sf.write(src / "hello.wav", en_speech.audio, en_speech.sample_rate)
    (src / "hello.txt").write_text(en_speech.text, encoding="utf-8")
    sf.write(src / "take.wav", en_speech.audio, en_speech.sample_rate)
    en_result.save(src, ["textgrid"], stem="take", summary=False)
    other = speak("Good morning.", "en-US")
    sf.write(src / "spk" / "morning.flac", other.audio, other.sample_rate)
    (src / "spk" / "morning.lab").write_text("Good morning.", encoding="utf-8")
    (src / "bad.wav").write_bytes(b"not audio")
    (src / "bad.txt").write_text("x", encoding="utf-8")
    opts = AnimateOptions(lang="en-US", use_model=False, formats=("json", "csv", "textgrid"))
    local = animate_corpus(src, tmp_path / "local", opts, jobs=1)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        # Through the command line, as users run it.
        rc = main(["animate-corpus", str(src), str(tmp_path / "dask"), "--lang", "en-US", "--no-model", "--quiet",
                   "--format", "json,csv,textgrid", "--cluster", cluster.scheduler_address])
    assert rc == 1  # the bad file
    remote = json.loads((tmp_path / "dask" / REPORT_NAME).read_text())
    assert remote["backend"] == "builtin dask"
    assert [(o.rel, o.status, o.error_type) for o in local.outcomes] == [
        (f["file"], f["status"], f.get("error_type")) for f in remote["files"]
    ] == [("bad", "failed", "AudioError"), ("hello", "done", None), ("spk/morning", "done", None), ("take", "done", None)]

    def files(root: Path, name: str) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in sorted((root / name).glob("visemes.*"))}

    given_here, given_there = files(tmp_path / "local", "take"), files(tmp_path / "dask", "take")
    assert len(given_there) == 3 and given_here == given_there
    for name in ("hello", "spk/morning"):
        here, there = (FORMATS["json"].read(tmp_path / run / name / "visemes.json").alignment for run in ("local", "dask"))
        assert here.phones.labels == there.phones.labels and here.visemes.labels == there.visemes.labels
        starts = np.array([[a.start, b.start] for a, b in zip(here.phones, there.phones)])
        assert np.abs(starts[:, 0] - starts[:, 1]).max() < 0.025, name
    summary = json.loads((tmp_path / "dask" / "hello" / "summary.json").read_text())
    assert summary["phones"] > 10 and summary["qa_flags"] == []


def test_unreachable_scheduler_is_a_clear_error(tmp_path):
    pytest.importorskip("distributed", reason="dask[distributed] (the `cluster` extra) is not installed")
    src = _make_corpus(tmp_path, 1)
    with pytest.raises(BackendUnavailableError, match="dask scheduler"):
        run_corpus(src, tmp_path / "o", JOB, cluster="tcp://127.0.0.1:9", connect_timeout=1)
    assert not (tmp_path / "o" / REPORT_NAME).exists()


def test_corpus_takes_timings_beside_the_audio(tmp_path, en_speech, en_result):
    """NAME.TextGrid beside NAME.wav (no transcript): the runner animates the given timings, no alignment."""
    src = tmp_path / "in"
    src.mkdir()
    sf.write(src / "take.wav", en_speech.audio, en_speech.sample_rate)
    en_result.save(src, ["textgrid"], stem="take", summary=False)
    report = animate_corpus(src, tmp_path / "out", AnimateOptions(lang="en-US", use_model=False, formats=("json",)),
                            jobs=1)
    assert report.ok and [o.rel for o in report.done] == ["take"]
    summary = json.loads((tmp_path / "out" / "take" / "summary.json").read_text())
    assert summary["timing"] == "given" and summary["phones"] == len(en_result.phones)
    assert summary["input"]["timings"]["path"] == "take.TextGrid"
