"""Bad input through the whole pipeline: every failure is a typed VisemesError whose message says what to
do, QA flags catch what is not an error, nothing is lost or overwritten. All audio is made here."""

from __future__ import annotations

import hashlib
import io
import json
import sys
import time
import tracemalloc
import types
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr
from hypothesis import HealthCheck, given, settings
from safetensors.numpy import load_file, save_file
from hypothesis import strategies as st

from visemes import lang_packs
from visemes.alignment import align
from visemes.cli.main import main
from visemes.core.textgrid import read_textgrid, write_textgrid
from visemes.core.timeline import Alignment, Interval, Tier
from visemes.formats import plot
from visemes.lang_packs.g2p import EpitranG2P
from visemes.lang_packs.registry import PluginWarning
from visemes.pipeline import animator
from visemes.lang_packs import loader as pack_loader
from visemes.lang_packs import registry as pack_registry
from visemes.core.errors import (
    AdapterMismatchError,
    AlignmentError,
    AudioError,
    ExportError,
    G2PError,
    ModelError,
    PackError,
    TimelineError,
    TranscriptError,
    UnknownLanguageError,
    VisemesError,
)
from visemes.pipeline.animator import animate

NO_MODEL = dict(use_model=False)


def _wav(path: Path, audio: np.ndarray, sr: int, subtype: str = "PCM_16") -> Path:
    sf.write(path, audio, sr, subtype=subtype)
    return path


# --- audio ----------------------------------------------------------------------------------------


def _empty(tmp, s):
    p = tmp / "empty.wav"
    p.write_bytes(b"")
    return p


def _truncated(tmp, s):
    p = _wav(tmp / "cut.wav", s.audio, s.sample_rate)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    return p


def _corrupt(tmp, s):
    p = tmp / "corrupt.wav"
    p.write_bytes(b"RIFF" + bytes(np.random.default_rng(1).integers(0, 256, 4000, dtype=np.uint8)))
    return p


def _nan(tmp, s):
    a = s.audio.copy()
    a[1000:1010] = np.nan
    return _wav(tmp / "nan.wav", a, s.sample_rate, "FLOAT")


def _inf(tmp, s):
    a = s.audio.copy()
    a[500] = np.inf
    return _wav(tmp / "inf.wav", a, s.sample_rate, "FLOAT")


def _one_sample(tmp, s):
    return _wav(tmp / "one.wav", s.audio[:1] + 0.5, s.sample_rate)


def _silence(tmp, s):
    return _wav(tmp / "silence.wav", np.zeros_like(s.audio), s.sample_rate)


@pytest.mark.parametrize(
    "make, match",
    [
        (_empty, "empty"),
        (_truncated, "truncated"),
        (_corrupt, "re-export|convert|corrupt"),
        (_nan, "NaN"),
        (_inf, "infinite"),
        (_one_sample, "at least"),
        (_silence, "silent"),
    ],
    ids=["empty", "truncated", "corrupt", "nan", "inf", "one-sample", "all-silence"],
)
def test_unusable_audio_is_an_audio_error(en_speech, tmp_path, make, match):
    path = make(tmp_path, en_speech)
    with pytest.raises(AudioError, match=match) as info:
        animate(path, text=en_speech.text, lang="en-US", **NO_MODEL)
    assert path.name in str(info.value) or match in ("NaN", "infinite", "at least", "silent")


def test_unsupported_rate_and_shapes(en_speech):
    with pytest.raises(AudioError, match="between 8000 and 96000"):
        animate(en_speech.audio, 4000, text=en_speech.text, lang="en-US", **NO_MODEL)
    with pytest.raises(AudioError, match="shape"):
        animate(np.zeros((2, 2, 2), np.float32), 16000, text=en_speech.text, lang="en-US", **NO_MODEL)


@pytest.mark.parametrize("rate", [8000, 96000])
def test_8k_and_96k_audio_align_like_the_original(en_speech, en_result, tmp_path, rate):
    path = _wav(tmp_path / f"r{rate}.wav", soxr.resample(en_speech.audio, en_speech.sample_rate, rate), rate)
    r = animate(path, text=en_speech.text, lang="en-US", **NO_MODEL)
    assert r.phones.labels == en_result.phones.labels
    starts = np.array([iv.start for iv in r.phones]) - np.array([iv.start for iv in en_result.phones])
    assert np.median(np.abs(starts)) < 0.03
    # Our own QA stays quiet; the builtin aligner's mismatch score (its own area) currently fires on
    # telephone-band 8 kHz speech, so it is not asserted here for 8 kHz.
    assert set(r.qa_flags) - ({"transcript_mismatch"} if rate == 8000 else set()) == set()


def test_six_channel_audio_is_downmixed(en_speech, en_result, tmp_path):
    # channel gains average to 1, so the downmix is the original take (this checks the downmix, not
    # the aligner's response to a quieter take)
    six = np.repeat(en_speech.audio[:, None], 6, axis=1) * np.linspace(0.5, 1.5, 6)[None, :]
    path = _wav(tmp_path / "six.wav", six.astype(np.float32), en_speech.sample_rate)
    assert sf.info(path).channels == 6
    r = animate(path, text=en_speech.text, lang="en-US", **NO_MODEL)
    assert r.phones.labels == en_result.phones.labels
    assert np.allclose([iv.start for iv in r.phones], [iv.start for iv in en_result.phones], atol=0.02)


def test_noise_only_audio_is_flagged_not_silently_aligned(en_speech):
    noise = (0.3 * np.random.default_rng(0).standard_normal(len(en_speech.audio))).astype(np.float32)
    r = animate(noise, en_speech.sample_rate, text=en_speech.text, lang="en-US", **NO_MODEL)
    assert "no_speech" in r.qa_flags and r.qa["voiced_seconds"] < 0.15
    assert any("noise" in n for n in r.qa["notes"])


def test_clipped_audio_is_flagged(en_speech, tmp_path):
    path = _wav(tmp_path / "clip.wav", np.clip(en_speech.audio * 30.0, -1, 1), en_speech.sample_rate)
    r = animate(path, text=en_speech.text, lang="en-US", **NO_MODEL)
    assert "clipped_audio" in r.qa_flags


# --- text -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   \n\t ", "😀🎉 🙈"], ids=["empty", "whitespace", "emoji"])
def test_unusable_text_is_a_transcript_error(en_speech, text):
    with pytest.raises(TranscriptError):
        animate(en_speech.audio, en_speech.sample_rate, text=text, lang="en-US", **NO_MODEL)
    with pytest.raises(TranscriptError):
        animate(text=text, lang="en-US", **NO_MODEL)


def test_mixed_script_text_is_refused_with_the_word_to_fix(en_speech):
    # The pack reads Latin script only: the foreign word is named, with what to do.
    with pytest.raises(TranscriptError, match="你好.*(remove|transliterate)"):
        animate(en_speech.audio, en_speech.sample_rate, text="Hello 你好 world", lang="en-US", **NO_MODEL)
    with pytest.raises(TranscriptError, match="你好"):
        animate(text="Hello 你好 world", lang="en-US", **NO_MODEL)


def test_wrong_language_and_wrong_transcript_are_flagged(en_speech):
    # Another script than the pack reads: refused, naming what to do.
    with pytest.raises(TranscriptError, match="visemes langs"):
        animate(en_speech.audio, en_speech.sample_rate, text="مرحبا كيف حالك اليوم يا صديقي العزيز", lang="en-US",
                **NO_MODEL)
    # Same script, another language (German words read as English): aligned, but flagged.
    r = animate(en_speech.audio, en_speech.sample_rate, text="Guten Morgen, wie geht es dir heute mein Freund?",
                lang="en-US", **NO_MODEL)
    assert {"transcript_mismatch", "unaligned_speech", "low_confidence"} & set(r.qa_flags)
    short = animate(en_speech.audio, en_speech.sample_rate, text="Hi.", lang="en-US", **NO_MODEL)
    assert {"unaligned_speech", "transcript_mismatch"} & set(short.qa_flags)  # speech no aligned word covers


def test_very_long_text_for_short_audio(en_speech):
    with pytest.raises(AlignmentError, match="transcript belongs"):
        animate(en_speech.audio, en_speech.sample_rate, text=" ".join(["elephant"] * 400), lang="en-US", **NO_MODEL)


def test_non_utf8_text_file(en_speech, tmp_path, capsys):
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("Café crème".encode("latin-1"))
    rc = main(["animate", str(en_speech.path), "--text-file", str(bad), "--lang", "en-US", "-o", str(tmp_path / "o"),
               "--no-model"])
    assert rc == 2 and "UTF-8" in capsys.readouterr().err


# --- languages and packs --------------------------------------------------------------------------


def test_unknown_language_and_dialect(en_speech, capsys):
    with pytest.raises(UnknownLanguageError, match="visemes langs"):
        animate(en_speech.audio, en_speech.sample_rate, text="hello", lang="xx-klingon", **NO_MODEL)
    with pytest.raises(UnknownLanguageError, match="en-"):
        animate(text="hello", lang="en-ZZ", **NO_MODEL)
    rc = main(["animate", "--text", "hello", "--lang", "qq", "-o", "/tmp/never-written"])
    assert rc == 2 and "Unknown language code" in capsys.readouterr().err
    assert not Path("/tmp/never-written").exists()


def test_malformed_pack_names_file_and_key(en_speech, tmp_path, monkeypatch):
    """A third-party pack (entry point) with a broken phone table fails with PackError naming file and key."""

    folder = tmp_path / "packs"
    folder.mkdir()
    (folder / "zz-bad.toml").write_text(
        '[pack]\ncode = "zz-bad"\nname = "Broken"\nvoice = "en-us"\n\n[phones]\n"a" = { viseme = "NOPE" }\n',
        encoding="utf-8",
    )
    ep = types.SimpleNamespace(name="broken", value="broken_pkg:packs", load=lambda: str(folder))
    monkeypatch.setattr(pack_registry, "_entry_points", lambda: [ep])
    pack_loader.clear_caches()
    pack_registry.pack_files.cache_clear()
    try:
        with pytest.raises(PackError) as info:
            animate(text="a", lang="zz-bad", **NO_MODEL)
        assert "zz-bad.toml" in str(info.value)
    finally:
        monkeypatch.undo()
        pack_loader.clear_caches()
        pack_registry.pack_files.cache_clear()


# --- model and adapter files ----------------------------------------------------------------------


SHIPPED_MODEL = (Path(__file__).resolve().parents[2] / "models" / "weights" / "base.safetensors").is_file()


def _model_file(folder: Path, name: str, *, cut: int | None = None, sidecar: str | None = None) -> Path:
    """A weights file in the models package's layout (safetensors + JSON sidecar), optionally damaged."""
    from safetensors.numpy import save

    from visemes.models.checkpoint import MODEL_FORMAT_VERSION

    blob = save({"w": np.zeros((64, 64), np.float32)}, metadata={"format_version": str(MODEL_FORMAT_VERSION)})
    path = folder / f"{name}.safetensors"
    path.write_bytes(blob[:cut] if cut else blob)
    meta = {"format": "visemes.model", "format_version": MODEL_FORMAT_VERSION}
    path.with_suffix(".json").write_text(sidecar if sidecar is not None else json.dumps(meta))
    return path


def test_missing_truncated_and_damaged_model_files(tmp_path):
    with pytest.raises(ModelError, match="missing"):
        animate(text="hello", lang="en-US", model=tmp_path / "nope.safetensors")
    with pytest.raises(ModelError, match="truncated"):
        animate(text="hello", lang="en-US", model=_model_file(tmp_path, "cut", cut=100))
    with pytest.raises(ModelError, match="damaged"):
        animate(text="hello", lang="en-US", model=_model_file(tmp_path, "badjson", sidecar="{not json"))
    adapter_as_model = json.dumps({"format": "visemes.adapter", "format_version": 1})
    with pytest.raises(ModelError, match="expected 'visemes.model'"):
        animate(text="hello", lang="en-US", model=_model_file(tmp_path, "adapter", sidecar=adapter_as_model))


@pytest.mark.xfail(not SHIPPED_MODEL, reason="models/weights/base.safetensors (the models helper's shipped weights) "
                                            "is not in the tree yet", raises=ModelError, strict=True)
def test_adapter_for_another_model_is_refused(tmp_path):
    from visemes.models.config import LoRAConfig
    from visemes.models.lora import Adapter

    path = Adapter("other", {"x.lora_a": np.zeros((2, 2), np.float32)}, LoRAConfig(), "0123456789abcdef").save(
        tmp_path / "other.safetensors")
    with pytest.raises(AdapterMismatchError, match="fine-tune"):
        animate(text="hello", lang="en-US", adapter=path)
    with pytest.raises(ModelError, match="missing"):
        animate(text="hello", lang="en-US", adapter=tmp_path / "missing.safetensors")


def test_adapter_needs_the_model():
    with pytest.raises(VisemesError, match="--no-model"):
        animate(text="hello", lang="en-US", use_model=False, adapter="any.safetensors")


# --- outputs --------------------------------------------------------------------------------------


def test_outputs_that_cannot_be_written(en_result, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ExportError):
        en_result.save(blocker / "sub", ["json"])
    assert blocker.read_text() == "x"


def _digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_batch_with_bad_files_reports_each_and_keeps_the_rest(en_speech, tmp_path, capsys):
    src = tmp_path / "corpus"
    src.mkdir()
    _wav(src / "good.wav", en_speech.audio, en_speech.sample_rate)
    (src / "good.txt").write_text(en_speech.text, encoding="utf-8")
    (src / "empty.wav").write_bytes(b"")
    (src / "empty.txt").write_text("hello", encoding="utf-8")
    _truncated(src, en_speech).rename(src / "cut.wav")
    (src / "cut.txt").write_text(en_speech.text, encoding="utf-8")
    _wav(src / "notext.wav", en_speech.audio, en_speech.sample_rate)
    _wav(src / "emoji.wav", en_speech.audio, en_speech.sample_rate)
    (src / "emoji.txt").write_text("🙈🙉🙊", encoding="utf-8")
    _wav(src / "wrong.wav", en_speech.audio, en_speech.sample_rate)
    (src / "wrong.txt").write_text("Hi.", encoding="utf-8")  # finishes, but flagged
    inputs = _digest(src)
    out = src / "out"  # inside the input folder: allowed, skipped when scanning, inputs untouched
    args = ["animate-corpus", str(src), str(out), "--lang", "en-US", "--no-model", "--quiet", "--format", "json,csv"]
    assert main(args) == 1
    err = capsys.readouterr().err
    report = json.loads((out / "corpus_report.json").read_text())
    failed = {f["file"]: f for f in report["failed"]}
    assert set(failed) == {"empty", "cut", "notext", "emoji"} and report["counts"]["done"] == 2
    assert [f["file"] for f in report["flagged"]] == ["wrong"]
    assert {"unaligned_speech", "transcript_mismatch"} & set(report["flagged"][0]["qa_flags"])
    assert "QA wrong: " in err
    assert failed["empty"]["error_type"] == "AudioError" and failed["cut"]["error_type"] == "AudioError"
    assert failed["notext"]["error_type"] == "TranscriptError" and ".txt" in failed["notext"]["message"]
    assert failed["emoji"]["error_type"] == "TranscriptError"
    assert all(f"FAILED {name}" in err for name in failed)
    assert sorted(p.name for p in (out / "good").iterdir()) == ["summary.json", "visemes.csv", "visemes.json"]
    finished = _digest(out / "good")
    # Second run: the finished file is skipped and kept byte for byte; inputs never change.
    assert main(args) == 1
    assert _digest(out / "good") == finished
    assert {k: v for k, v in _digest(src).items() if not k.startswith("out/")} == inputs


# --- properties -----------------------------------------------------------------------------------


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    samples=st.lists(st.one_of(st.floats(-1.5, 1.5), st.sampled_from([np.nan, np.inf, -np.inf, 0.0])),
                     min_size=0, max_size=1200),
    rate=st.sampled_from([1000, 8000, 16000, 200_000]),
)
def test_any_array_gives_a_result_or_a_typed_error(samples, rate):
    try:
        r = animate(np.array(samples, np.float32), rate, text="a test", lang="en-US", **NO_MODEL)
    except VisemesError as exc:
        assert str(exc).strip()
    else:
        assert len(r.phones) == 3 and r.animation.n_frames >= 1


@settings(max_examples=15, deadline=None)
@given(text=st.text(min_size=0, max_size=40))
def test_any_text_gives_a_result_or_a_typed_error(text):
    try:
        r = animate(text=text, lang="en-US", **NO_MODEL)
    except VisemesError as exc:
        assert str(exc).strip()
    else:
        assert len(r.phones) >= 1 and r.timing == "synthesized"


# --- hardening: every input checked where it enters (issue 12) ------------------------------------


def _doc(**changes) -> dict:
    """A valid alignment document with ``changes`` applied to its first phone record or top level."""
    doc = {"format": "visemes.alignment", "format_version": 1, "duration": 1.0, "meta": {"lang": "en-US"},
           "tiers": [{"name": "phones", "intervals": [{"start": 0.1, "end": 0.3, "label": "h"},
                                                      {"start": 0.3, "end": 0.6, "label": "a"}]}]}
    for key, value in changes.items():
        if key in ("start", "end", "label", "attrs"):
            doc["tiers"][0]["intervals"][0][key] = value
        else:
            doc[key] = value
    return doc


@pytest.mark.parametrize("text, match", [
    ("[" * 50_000 + "]" * 50_000, "too deeply"),
    (json.dumps(_doc(start="abc")), "'start' must be a number"),
    (json.dumps(_doc(start=True)), "'start' must be a number"),
    (json.dumps(_doc(label=None)), "'label' must be a string"),
    (json.dumps(_doc(tiers="phones")), "'tiers' must be a JSON list"),
    (json.dumps(_doc(tiers=5)), "'tiers' must be a JSON list"),
    (json.dumps(_doc(tiers=[["x"]])), "must be a JSON object"),
    (json.dumps(_doc(meta=[1])), "'meta' must be an object"),
    (json.dumps(_doc(attrs=[1])), "'attrs' must be an object"),
    (json.dumps(_doc(duration="1")), "'duration' must be a number"),
    (json.dumps(_doc(duration=1e9)), "longer than 6 h"),
    ('{"format_version": 1, "duration": 1' + "0" * 5000 + ', "tiers": []}', "thousands of digits"),
], ids=["deep", "start-str", "start-bool", "label-null", "tiers-str", "tiers-int", "tier-list", "meta-list",
        "attrs-list", "duration-str", "duration-1e9", "huge-int"])
def test_alignment_json_is_validated_whole(text, match):
    with pytest.raises(TimelineError, match=match):
        Alignment.from_json(text)


@pytest.mark.parametrize("command", ["animate", "plot"])
def test_bad_alignment_file_is_one_line_on_the_command_line(tmp_path, capsys, command):
    path = tmp_path / "take.json"
    path.write_text(json.dumps(_doc(label=None)), encoding="utf-8")
    out = tmp_path / "out"
    args = (["animate", "--alignment", str(path), "--lang", "en-US", "--no-model", "-o", str(out)]
            if command == "animate" else ["plot", str(path), "-o", str(tmp_path / "p.png")])
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "take.json" in err and "'label' must be a string" in err
    assert len(err.strip().splitlines()) == 1 and not out.exists()


def test_claimed_durations_are_bounded_before_any_allocation(tmp_path, en_speech):
    small = Alignment((Tier("phones", (Interval(0.1, 0.2, "a"),)),), 1.0)
    write_textgrid(small, tmp_path / "ok.TextGrid")
    text = (tmp_path / "ok.TextGrid").read_text()
    (tmp_path / "big.TextGrid").write_text(text.replace("xmax = 1 ", "xmax = 1000000000 "))
    (tmp_path / "big.json").write_text(json.dumps(_doc(duration=1e9)))
    tracemalloc.start()
    try:
        with pytest.raises(ExportError, match="big.TextGrid.*longer than 6 h"):
            read_textgrid(tmp_path / "big.TextGrid")
        with pytest.raises(ExportError, match="longer than 6 h"):
            animate(alignment=tmp_path / "big.json", lang="en-US", **NO_MODEL)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20
    # within the bound, but longer than the audio given with it
    (tmp_path / "mid.json").write_text(json.dumps(_doc(duration=3000.0)))
    with pytest.raises(VisemesError, match="audio lasts"):
        animate(en_speech.path, alignment=tmp_path / "mid.json", lang="en-US", **NO_MODEL)
    # within the bound, no audio, but hours of silence claimed after the last interval: refused at once
    (tmp_path / "tail.json").write_text(json.dumps(_doc(duration=20000.0)))
    started = time.perf_counter()
    with pytest.raises(VisemesError, match="last interval ends at"):
        animate(alignment=tmp_path / "tail.json", lang="en-US", **NO_MODEL)
    assert time.perf_counter() - started < 5.0


def _shipped_copy(folder: Path, name: str, *, sidecar=None, arrays=None) -> Path:
    """The shipped weights beside a sidecar changed by ``sidecar(meta)`` (or replaced by a string)."""
    src = Path(__file__).resolve().parents[2] / "models" / "weights" / "base.safetensors"
    meta = json.loads(src.with_suffix(".json").read_text("utf-8"))
    path = folder / f"{name}.safetensors"
    save_file(arrays(load_file(str(src))) if arrays else load_file(str(src)), str(path))
    text = sidecar if isinstance(sidecar, str) else json.dumps(sidecar(meta) if sidecar else meta)
    path.with_suffix(".json").write_text(text, encoding="utf-8")
    return path


def _without(key):
    return lambda meta: {k: v for k, v in meta.items() if k != key}


def _config(**changes):
    return lambda meta: {**meta, "config": {**meta["config"], **changes}}


def _nan_weights(arrays):
    first = sorted(arrays)[0]
    arrays = dict(arrays)
    arrays[first] = arrays[first].copy()
    arrays[first].flat[0] = np.nan
    return arrays


@pytest.mark.skipif(not SHIPPED_MODEL, reason="needs the shipped weights")
@pytest.mark.parametrize("damage, match", [
    (dict(sidecar=_without("config")), "lacks \\['config'\\]"),
    (dict(sidecar=_without("vocab")), "lacks \\['vocab'\\]"),
    (dict(sidecar=_config(n_layers="three")), "n_layers='three' must be a whole number"),
    (dict(sidecar=_config(n_heads=0)), "n_heads=0 must be a whole number from 1"),
    (dict(sidecar=_config(n_layers=10**7)), "n_layers=10000000"),
    (dict(sidecar="[1, 2]"), "must hold a JSON object"),
    (dict(sidecar=lambda m: {**m, "vocab": 5}), "phone vocabulary must be a JSON object"),
    (dict(arrays=_nan_weights), "NaN or infinite"),
], ids=["no-config", "no-vocab", "layers-str", "heads-0", "layers-huge", "list", "vocab-int", "nan-weights"])
def test_damaged_model_sidecars_and_weights(tmp_path, damage, match):
    from visemes.models.api import VisemeModel  # heavy: JAX, only for the model tests
    from visemes.models.checkpoint import fingerprint  # heavy: JAX

    if "arrays" in damage:  # NaN weights with a matching fingerprint: only the finiteness check catches them
        src = Path(__file__).resolve().parents[2] / "models" / "weights" / "base.safetensors"
        bad = _nan_weights(load_file(str(src)))
        damage = dict(damage, sidecar=lambda m: {**m, "fingerprint": fingerprint(bad)})
    path = _shipped_copy(tmp_path, "bad", **damage)
    with pytest.raises(ModelError, match=match) as info:
        VisemeModel.load(path)
    assert "bad." in str(info.value)  # names the file


@pytest.mark.skipif(not SHIPPED_MODEL, reason="needs the shipped weights")
def test_animate_corpus_checks_the_model_up_front(en_speech, tmp_path, capsys):
    src = tmp_path / "corpus"
    src.mkdir()
    _wav(src / "a.wav", en_speech.audio, en_speech.sample_rate)
    (src / "a.txt").write_text(en_speech.text, encoding="utf-8")
    bad = _shipped_copy(tmp_path, "bad", sidecar=_config(n_heads=0))
    out = tmp_path / "out"
    assert main(["animate-corpus", str(src), str(out), "--lang", "en-US", "--model", str(bad), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "n_heads=0" in err and not out.exists()


def _adapter_file(folder: Path, stem: str, model, *, arrays=None, **meta_changes) -> Path:
    d_in, d_out = model.base_arrays["layers.0.attn.q.kernel"].shape
    good = {"layers.0.attn.q.lora_a": np.zeros((d_in, 4), np.float32),
            "layers.0.attn.q.lora_b": np.zeros((4, d_out), np.float32)}
    meta = {"format": "visemes.adapter", "format_version": 1, "name": stem, "dialect": None,
            "base_fingerprint": model.fingerprint, "rank": 4, "alpha": 8.0, "targets": [r"layers\..*"], "meta": {}}
    meta.update(meta_changes)
    meta = {k: v for k, v in meta.items() if v is not ...}
    path = folder / f"{stem}.safetensors"
    save_file(arrays(good) if arrays else good, str(path))
    path.with_suffix(".json").write_text(json.dumps(meta), encoding="utf-8")
    return path


@pytest.mark.skipif(not SHIPPED_MODEL, reason="needs the shipped weights")
def test_damaged_and_forged_adapters(tmp_path):
    from visemes.models.api import VisemeModel  # heavy: JAX, only for the model tests

    model = VisemeModel.load()
    good = _adapter_file(tmp_path, "good", model)
    name = model.load_adapter(good)
    assert np.array_equal(model.active_arrays()["layers.0.attn.q.kernel"], model.base_arrays["layers.0.attn.q.kernel"])
    model.state_for(name)  # zero factors merge cleanly
    cases = {
        "no-rank": (dict(rank=...), ModelError, "lacks \\['rank'\\]"),
        "no-name": (dict(name=...), ModelError, "'name' must be a non-empty string"),
        "rank-str": (dict(rank="four"), ModelError, "rank must be a whole number"),
        "targets-int": (dict(targets=5), ModelError, "targets must be a list"),
        "no-lora-b": (dict(arrays=lambda a: {k: v for k, v in a.items() if k.endswith("lora_a")}),
                      AdapterMismatchError, "lacks its lora_a or lora_b"),
        # a forged fingerprint on factors made for a smaller model: refused before lora.merge broadcasts
        "forged": (dict(arrays=lambda a: {k: v[: v.shape[0] // 2] if k.endswith("lora_a") else v for k, v in a.items()}),
                   AdapterMismatchError, "made for another model"),
    }
    for label, (changes, error, match) in cases.items():
        path = _adapter_file(tmp_path, label, model, **changes)
        with pytest.raises(error, match=match):
            model.load_adapter(path)


def test_absurd_amplitudes_are_refused(en_speech, tmp_path):
    loud = en_speech.audio.copy()
    loud[100] = 1e30
    with pytest.raises(AudioError, match="far outside"):
        animate(loud, en_speech.sample_rate, text=en_speech.text, lang="en-US", **NO_MODEL)
    path = _wav(tmp_path / "loud.wav", loud, en_speech.sample_rate, "FLOAT")
    with pytest.raises(AudioError, match="loud.wav.*far outside"):
        animate(path, text=en_speech.text, lang="en-US", **NO_MODEL)


def test_invalid_utf8_on_standard_input(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"hello \xff\xfe world")))
    assert main(["text2visemes", "-", "--lang", "en-US", "-o", str(tmp_path / "o")]) == 2
    assert "not UTF-8" in capsys.readouterr().err
    # lone surrogates (undecodable argv bytes) never reach espeak-ng
    with pytest.raises(TranscriptError, match="not valid Unicode"):
        animate(text="hello \udcff world", lang="en-US", **NO_MODEL)


def test_megabyte_texts_fail_at_once(en_speech):
    text = "hello world " * 90_000
    started = time.perf_counter()
    with pytest.raises(TranscriptError, match="at most 20,000"):
        animate(text=text, lang="en-US", **NO_MODEL)
    with pytest.raises(AlignmentError, match="audio lasts.*transcript belongs"):
        animate(en_speech.audio, en_speech.sample_rate, text=text, lang="en-US", **NO_MODEL)
    assert time.perf_counter() - started < 5


def test_plot_of_a_huge_alignment_is_refused(tmp_path, monkeypatch):
    assert plot.MAX_PLOT_INTERVALS == 100_000
    monkeypatch.setattr(plot, "MAX_PLOT_INTERVALS", 100)  # the check, without building 100k intervals
    phones = Tier("phones", tuple(Interval(i * 0.01, i * 0.01 + 0.009, "a") for i in range(101)))
    with pytest.raises(VisemesError, match="101 intervals.*at most 100 "):
        plot.plot_timeline(Alignment((phones,), 1.1), tmp_path / "p.png")
    assert not (tmp_path / "p.png").exists()
    # below the bound, low-confidence phones closer than a pixel are shaded as one box
    assert plot._merge_spans([(0.0, 0.1, 0.2), (0.1001, 0.2, 0.1), (0.5, 0.6, 0.3)], 0.001) == [(0.0, 0.2), (0.5, 0.6)]


def test_bogus_epitran_code_is_a_g2p_error():
    with pytest.raises(G2PError, match="xxx-Bogus"):
        EpitranG2P("xxx-Bogus").convert("abc")


def test_api_argument_types(en_speech):
    wav = en_speech.path
    with pytest.raises(TranscriptError, match="got int"):
        align(wav, phones=5)
    with pytest.raises(TranscriptError, match="got dict"):
        align(wav, phones={"h": 1, "a": 2})
    with pytest.raises(AudioError, match="must hold numbers"):
        align(np.array(["a"] * 16000), 16000, phones="h a")
    with pytest.raises(AudioError, match="whole number of Hz"):
        align(en_speech.audio, "abc", phones="h a")
    for text in (123, b"hello", ["hello"]):
        with pytest.raises(TranscriptError, match="must be a string"):
            align(wav, text=text, lang="en-US")
        with pytest.raises(TranscriptError, match="must be a string"):
            animate(wav, text=text, lang="en-US", **NO_MODEL)
    # channels first (9 x samples) is read as 9 channels, not as 48,000 channels of 9 samples
    mono = align(en_speech.audio, en_speech.sample_rate, text=en_speech.text, lang="en-US")
    nine = align(np.tile(en_speech.audio, (9, 1)), en_speech.sample_rate, text=en_speech.text, lang="en-US")
    assert nine.phones.labels == mono.phones.labels
    assert np.allclose([p.start for p in nine.phones], [p.start for p in mono.phones], atol=1e-3)
    with pytest.raises(AudioError, match="channels"):
        align(np.zeros((100, 48000), np.float32), 16000, phones="h a")


def test_a_broken_pack_plugin_is_skipped_with_a_warning(tmp_path, monkeypatch):
    bad_toml = tmp_path / "zz.toml"
    bad_toml.write_text("this is [not toml\n", encoding="utf-8")

    def fail():
        raise ImportError("No module named 'gone'")

    eps = [types.SimpleNamespace(name="gone", value="gone:packs", load=fail),
           types.SimpleNamespace(name="garbled", value="garbled:packs", load=lambda: [str(bad_toml)])]
    monkeypatch.setattr(pack_registry, "_entry_points", lambda: eps)
    pack_loader.clear_caches()
    try:
        with pytest.warns(PluginWarning) as caught:
            codes = {info.code for info in lang_packs.available()}
        named = " ".join(str(w.message) for w in caught)
        assert "'gone'" in named and "'garbled'" in named
        assert "en-US" in codes
        assert lang_packs.load("en-US").code == "en-US"
        assert lang_packs.load("fr-fr").voice  # a generic espeak-ng voice still resolves
    finally:
        monkeypatch.undo()
        pack_loader.clear_caches()


def test_cheap_checks_come_before_the_model(tmp_path, monkeypatch):
    def no_model(path):
        raise AssertionError("the model was loaded before the audio was checked")

    monkeypatch.setattr(animator, "_model", no_model)
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(AudioError, match="empty"):
        animate(empty, text="hello", lang="en-US")
    with pytest.raises(VisemesError, match="does not exist"):
        animate(alignment=tmp_path / "missing.json", lang="en-US")


def test_damaged_mp3_prints_only_our_message(tmp_path, capfd):
    mp3 = tmp_path / "a.mp3"
    try:
        sf.write(mp3, np.zeros(16000, np.float32), 16000, format="MP3")
    except (sf.LibsndfileError, TypeError, ValueError):
        pytest.skip("this libsndfile cannot write MP3")
    broken = tmp_path / "broken.mp3"
    broken.write_bytes(mp3.read_bytes()[:200] + bytes(5000))
    capfd.readouterr()
    with pytest.raises(AudioError, match="broken.mp3.*MP3"):
        animate(broken, text="hello", lang="en-US", **NO_MODEL)
    assert "Note:" not in capfd.readouterr().err
