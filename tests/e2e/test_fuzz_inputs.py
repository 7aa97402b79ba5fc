"""Property tests over everything that reads user data: the JSON, TextGrid and CSV readers and the API.

Whatever bytes or values come in, the answer is a correct result or a typed :class:`VisemesError` with a
message, in bounded time and memory: never another exception, never a hang, never a silently wrong
result. Inputs are random documents, random mutations of valid files and random argument types.
"""

from __future__ import annotations

import json
import math
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from visemes.alignment import align
from visemes.alignment.evaluate import read_alignment
from visemes.core.audio import MAX_AMPLITUDE, validate_audio
from visemes.core.curves import FrameCurves, MouthAnimation
from visemes.core.errors import VisemesError
from visemes.core.textgrid import read_textgrid, write_textgrid
from visemes.core.timeline import MAX_DURATION_S, Alignment, Interval, Tier
from visemes.formats import audacity, curves_csv, json_doc, livelink, rhubarb
from visemes.formats.parts import ExportParts
from visemes.pipeline.animator import animate

#: Per call: generous for a 2-core machine shared by others, far below "hangs".
TIME_LIMIT_S = 10.0
MEMORY_LIMIT = 64 * 2**20

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.text(max_size=8),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([1e9, -1.0, 0.0, 1e308, 10**30]),
)
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=12)


def bounded(fn, *args, **kwargs):
    """``fn(*args)``'s result, or the VisemesError it raised; fails on any other exception, or on a call
    that takes more than TIME_LIMIT_S or allocates more than MEMORY_LIMIT."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        result = fn(*args, **kwargs)
    except VisemesError as exc:
        assert str(exc).strip() and "\n" not in str(exc).strip(), "a typed error with a one-line message"
        result = exc
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert time.perf_counter() - started < TIME_LIMIT_S
    assert peak < MEMORY_LIMIT, f"{peak / 2**20:.0f} MiB for a small input"
    return result


def check_alignment(a: object) -> None:
    """What every Alignment a reader returns must satisfy (and survive a JSON round trip)."""
    if isinstance(a, VisemesError):
        return
    assert isinstance(a, Alignment)
    assert 0 < a.duration <= MAX_DURATION_S
    for tier in a.tiers:
        for iv in tier:
            assert isinstance(iv.label, str) and iv.label.strip() and 0 <= iv.start < iv.end
    assert Alignment.from_json(a.to_json()) == a


def _valid_document() -> dict:
    words = Tier("words", (Interval(0.1, 0.5, "hello"),))
    phones = Tier("phones", (Interval(0.1, 0.3, "h", {"confidence": 0.9}), Interval(0.3, 0.5, "a")))
    return Alignment((words, phones), 1.0, {"lang": "en-US"}).to_dict()


def _mutate(doc: object, path: list, value: object) -> object:
    """``doc`` with the node reached by following ``path`` (indices taken modulo the sizes) replaced."""
    if not path or not isinstance(doc, (dict, list)) or not doc:
        return value
    if isinstance(doc, dict):
        key = sorted(doc)[path[0] % len(doc)]
        return {**doc, key: _mutate(doc[key], path[1:], value)}
    i = path[0] % len(doc)
    return doc[:i] + [_mutate(doc[i], path[1:], value)] + doc[i + 1:]


paths = st.lists(st.integers(0, 50), min_size=1, max_size=5)


# --- JSON -----------------------------------------------------------------------------------------


@FUZZ
@given(value=json_values)
def test_alignment_json_of_any_shape(value):
    check_alignment(bounded(Alignment.from_json, json.dumps(value)))


@FUZZ
@given(path=paths, value=json_values)
def test_alignment_json_with_one_field_changed(path, value):
    text = json.dumps(_mutate(_valid_document(), path, value))
    check_alignment(bounded(Alignment.from_json, text))


@FUZZ
@given(cut=st.integers(0, 400), junk=st.text(max_size=5))
def test_alignment_json_cut_or_spliced(cut, junk):
    text = json.dumps(_valid_document())
    check_alignment(bounded(Alignment.from_json, text[:cut] + junk + text[cut:]))


def _result_document() -> dict:
    fps, n = 30.0, 31
    curves = FrameCurves(fps, ("jaw", "lips"), np.zeros((n, 2), np.float32))
    animation = MouthAnimation(curves, FrameCurves(fps, ("jawOpen",), np.zeros((n, 1))), FrameCurves(fps, ("sil",), np.ones((n, 1))))
    return json_doc.to_document(ExportParts(alignment=Alignment.from_dict(_valid_document()), animation=animation))


@FUZZ
@given(path=paths, value=json_values)
def test_result_json_files_with_one_field_changed(path, value):
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "r.json"
        file.write_text(json.dumps(_mutate(_result_document(), path, value)), encoding="utf-8")
        parts = bounded(json_doc.read, file)
    if not isinstance(parts, VisemesError):
        assert parts.alignment is not None or parts.animation is not None
        if parts.alignment is not None:
            check_alignment(parts.alignment)
        if parts.animation is not None:
            assert np.all(np.isfinite(parts.animation.articulation.values))


@FUZZ
@given(path=paths, value=json_values)
def test_rhubarb_json_with_one_field_changed(path, value):
    doc = {"metadata": {"soundFile": "a.wav", "duration": 1.0},
           "mouthCues": [{"start": 0.0, "end": 0.4, "value": "X"}, {"start": 0.4, "end": 1.0, "value": "B"}]}
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "r.rhubarb.json"
        file.write_text(json.dumps(_mutate(doc, path, value)), encoding="utf-8")
        check_alignment(bounded(rhubarb.read_json, file))


# --- TextGrid -------------------------------------------------------------------------------------

numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr), st.sampled_from(
    ["1000000000", "-1", "0", "1e9", "abc", "", "21600.5", "99999999999999999999999"]))


@pytest.fixture(scope="module")
def textgrid_lines(tmp_path_factory) -> list[str]:
    path = tmp_path_factory.mktemp("tg") / "ok.TextGrid"
    write_textgrid(Alignment.from_dict(_valid_document()), path)
    return path.read_text(encoding="utf-8").splitlines()


@settings(FUZZ, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.tuples(st.integers(0, 200), st.one_of(numbers, st.text(max_size=12), st.none())),
                      min_size=1, max_size=4))
def test_textgrid_with_lines_changed_or_dropped(textgrid_lines, edits):
    lines = list(textgrid_lines)
    for index, new in edits:
        i = index % len(lines)
        if new is None:
            del lines[i]
        elif "=" in lines[i]:
            lines[i] = lines[i].split("=")[0] + "= " + new
        else:
            lines[i] = new
        if not lines:
            break
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "t.TextGrid"
        file.write_text("\n".join(lines) + "\n", encoding="utf-8")
        check_alignment(bounded(read_textgrid, file))


@FUZZ
@given(data=st.binary(max_size=300))
def test_textgrid_of_random_bytes(data):
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "t.TextGrid"
        file.write_bytes(data)
        check_alignment(bounded(read_textgrid, file))


# --- CSV and label files --------------------------------------------------------------------------

cells = st.one_of(numbers, st.text(alphabet="abc,;\t\"' 0.1-e", max_size=6), st.integers(-5, 10**7).map(str))


def _table(header: list[str], rows: list[list[str]], sep: str = ",") -> str:
    return "\n".join(sep.join(r) for r in [header] + rows) + "\n"


@FUZZ
@given(rows=st.lists(st.lists(cells, min_size=0, max_size=4), max_size=6),
       header=st.sampled_from([["time", "jaw"], ["frame", "jaw", "lips"], ["time", "frame", "a"], ["x"]]))
def test_curves_csv_of_random_cells(rows, header):
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "c.csv"
        file.write_text(_table(header, rows), encoding="utf-8")
        curves = bounded(curves_csv.read_curves_csv, file, fps=30.0 if "time" not in header else None)
        animation = bounded(curves_csv.read_animation_csv, file)
    if isinstance(curves, FrameCurves):
        assert curves.values.shape == (len(rows), len(curves.channels)) and np.all(np.isfinite(curves.values))
    assert isinstance(animation, (MouthAnimation, VisemesError))


@FUZZ
@given(stamps=st.lists(st.one_of(st.sampled_from(["00:00:00:00.000", "99:59:59:59.999", "23:59:59:59.000",
                                                     "00:00:01:30.500", "-1:00:00:00", "x"]),
                                 st.text(alphabet="0123456789:.", max_size=16)), min_size=1, max_size=4),
       value=cells)
def test_livelink_csv_of_random_timecodes(stamps, value):
    header = ["Timecode", "BlendShapeCount"] + list(livelink.LIVELINK_BLENDSHAPES)
    rows = [[stamp, str(len(livelink.LIVELINK_BLENDSHAPES))] + [value] * len(livelink.LIVELINK_BLENDSHAPES)
            for stamp in stamps]
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "take.csv"
        file.write_text(_table(header, rows), encoding="utf-8")
        take = bounded(livelink.read_livelink_csv, file)
    if isinstance(take, FrameCurves):
        assert np.all(np.isfinite(take.values)) and take.n_frames >= 1


@FUZZ
@given(lines=st.lists(st.lists(cells, min_size=1, max_size=3), max_size=6), data=st.binary(max_size=40))
def test_rhubarb_tsv_and_audacity_labels(lines, data):
    with tempfile.TemporaryDirectory() as tmp:
        tsv = Path(tmp) / "r.rhubarb.tsv"
        tsv.write_text("\n".join("\t".join(c) for c in lines) + "\n", encoding="utf-8")
        check_alignment(bounded(rhubarb.read_tsv, tsv))
        labels = Path(tmp) / "l.labels.txt"
        labels.write_text("\n".join("\t".join(c) for c in lines) + "\n", encoding="utf-8")
        check_alignment(bounded(audacity.read_audacity, labels))
        raw = Path(tmp) / "raw.rhubarb.tsv"
        raw.write_bytes(data)
        check_alignment(bounded(rhubarb.read_tsv, raw))
        check_alignment(bounded(audacity.read_audacity, raw))


# --- the API --------------------------------------------------------------------------------------

arrays = st.one_of(
    st.tuples(st.sampled_from([np.float32, np.float64, np.int16, np.int32, np.uint8, np.bool_, np.complex64]),
              st.sampled_from([(0,), (1,), (4000,), (2, 4000), (4000, 2), (9, 4000), (100, 4000), (2, 2, 2)]),
              st.sampled_from([0.0, 0.5, 1e30, np.nan, np.inf])),
)


@FUZZ
@given(spec=arrays, rate=st.one_of(st.sampled_from([16000, 8000, 7999, 96001, 16000.0, 16000.5, True, -1]),
                                    st.text(max_size=3), st.none()))
def test_validate_audio_any_array(spec, rate):
    dtype, shape, fill = spec
    with np.errstate(invalid="ignore", over="ignore"):
        array = np.full(shape, fill).astype(dtype) if np.issubdtype(dtype, np.number) else np.zeros(shape, dtype)
    if array.size:
        array.flat[0] = 1 if dtype is not np.bool_ else True  # not all silence
    out = bounded(validate_audio, array, rate)
    if not isinstance(out, VisemesError):
        assert out.dtype == np.float32 and out.ndim == 1
        assert np.all(np.isfinite(out)) and float(np.max(np.abs(out))) <= MAX_AMPLITUDE
        assert len(out) == max(shape)  # channels are the short axis, samples the long one


api_values = st.one_of(st.none(), st.integers(), st.floats(), st.text(max_size=6), st.binary(max_size=6),
                       st.lists(st.one_of(st.text(max_size=3), st.integers()), max_size=3),
                       st.dictionaries(st.text(max_size=3), st.integers(), max_size=2), st.just(object()))


def _blip() -> np.ndarray:
    audio = np.zeros(800, np.float32)  # 50 ms at 16 kHz: the shortest audio accepted
    audio[::7] = 0.1
    return audio


@pytest.fixture(scope="module")
def warm_aligner():
    """One real alignment first, so the time bound measures a call, not loading the aligner."""
    align(_blip(), 16000, phones=["a"])


@settings(FUZZ, max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(text=api_values, phones=api_values, lang=api_values, rate=api_values)
def test_align_with_arguments_of_any_type(warm_aligner, text, phones, lang, rate):
    result = bounded(align, _blip(), rate, text=text, lang=lang, phones=phones)
    if not isinstance(result, VisemesError) and phones is not None:  # given phones come back as given, in order
        given = phones if isinstance(phones, list) else str(phones).split()
        assert result.phones.labels == [str(p).strip() for p in given if str(p).strip()]


@settings(FUZZ, max_examples=30)
@given(text=api_values, phones=api_values, fps=st.one_of(st.sampled_from([30, 0, -1, 1e9, math.nan]), api_values),
       viseme_set=st.one_of(st.sampled_from(["oculus", "rhubarb"]), api_values))
def test_animate_with_arguments_of_any_type(warm_aligner, text, phones, fps, viseme_set):
    result = bounded(animate, np.zeros(400, np.float32), 16000, text=text, phones=phones, lang="en-US", fps=fps,
                     viseme_set=viseme_set, use_model=False)
    assert isinstance(result, VisemesError)  # 25 ms of audio: nothing valid can come of it


@FUZZ
@given(data=st.binary(max_size=200))
def test_json_readers_of_random_bytes(data):
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "any.json"
        file.write_bytes(data)
        result = bounded(json_doc.read, file)
        assert isinstance(result, (ExportParts, VisemesError))
        check_alignment(bounded(read_alignment, file))
        check_alignment(bounded(rhubarb.read_json, file))
