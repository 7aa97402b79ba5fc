"""Tests of the base layer: visemes/timeline.py, curves.py and atomic.py."""

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from visemes.core.atomic import atomic_open, atomic_path, atomic_write_bytes, atomic_write_text
from visemes.core.curves import FrameCurves, MouthAnimation, check_fps, frame_count
from visemes.core.errors import ExportError, InputError, OutputExistsError, TimelineError, TranscriptError, VisemesError
from visemes.core.timeline import (
    FORMAT_VERSION, Alignment, Interval, PhoneToken, Tier, Transcript, WordPhones,
)

# --- validation ------------------------------------------------------------------------------------


@pytest.mark.parametrize("start, end, label, message", [
    (0.5, 0.5, "a", "start < end"),
    (0.6, 0.5, "a", "start < end"),
    (-0.1, 0.5, "a", "before 0"),
    (0.0, math.inf, "a", "non-finite"),
    (math.nan, 1.0, "a", "non-finite"),
    (0.0, 1.0, "  ", "empty label"),
])
def test_interval_validation(start, end, label, message):
    with pytest.raises(TimelineError, match=message):
        Interval(start, end, label)


def test_interval_attrs_are_validated_and_frozen():
    iv = Interval(0, 1, "a", {"confidence": 0.5})
    with pytest.raises(TypeError):
        iv.attrs["confidence"] = 1.0  # type: ignore[index]
    with pytest.raises(TimelineError, match="must be a string, number or bool"):
        Interval(0, 1, "a", {"x": [1, 2]})
    with pytest.raises(TimelineError, match="non-empty strings"):
        Interval(0, 1, "a", {"": 1})
    assert iv.with_attrs(tone="3").attrs == {"confidence": 0.5, "tone": "3"}
    assert iv.shifted(1.0) == Interval(1, 2, "a", {"confidence": 0.5})


def test_errors_are_one_tree_and_value_errors():
    for exc in (TimelineError, TranscriptError, InputError):
        assert issubclass(exc, VisemesError) and issubclass(exc, ValueError)


def test_tier_rules():
    a, b = Interval(0.0, 0.5, "a"), Interval(0.5, 1.0, "b")
    tier = Tier("phones", (a, b))  # touching is fine
    assert tier.labels == ["a", "b"] and tier.at(0.5) is b and tier.at(1.0) is None
    assert tier.within(0.0, 0.5) == [a]
    with pytest.raises(TimelineError, match="overlaps or precedes"):
        Tier("phones", (b, a))
    with pytest.raises(TimelineError, match="overlaps or precedes"):
        Tier("phones", (Interval(0, 0.6, "a"), b))
    with pytest.raises(TimelineError, match="not an Interval"):
        Tier("phones", ((0, 1, "a"),))  # type: ignore[arg-type]
    with pytest.raises(TimelineError, match="non-empty name"):
        Tier("", ())


def test_alignment_rules():
    words = Tier("words", (Interval(0, 1.0, "hi"),))
    with pytest.raises(TimelineError, match="after the alignment's duration"):
        Alignment((words,), 0.5)
    with pytest.raises(TimelineError, match="duplicate tier names"):
        Alignment((words, words), 2.0)
    with pytest.raises(TimelineError, match="positive number"):
        Alignment((words,), 0.0)
    a = Alignment((words,), 1.0)
    with pytest.raises(TimelineError, match="has no tier 'phones'"):
        a.phones
    phones = Tier("phones", (Interval(0, 0.4, "h"), Interval(0.4, 1.0, "aɪ")))
    b = a.with_tier(phones).with_meta(lang="en")
    assert b.tier_names == ["words", "phones"] and b.lang == "en" and a.tier_names == ["words"]
    b.check_nesting()
    straddle = Alignment((Tier("words", (Interval(0, 0.5, "a"), Interval(0.5, 1, "b"))),
                          Tier("phones", (Interval(0, 0.3, "x"), Interval(0.3, 0.6, "y"), Interval(0.6, 1, "z")))), 1.0)
    with pytest.raises(TimelineError, match="straddles"):
        straddle.check_nesting()
    empty_word = Alignment((Tier("words", (Interval(0, 0.5, "a"), Interval(0.5, 1, "b"))),
                            Tier("phones", (Interval(0, 0.5, "x"),))), 1.0)
    with pytest.raises(TimelineError, match="contains no phone"):
        empty_word.check_nesting()


def test_transcripts():
    t = Transcript.from_ipa("h ə | l oʊ\nw ɝ l d", "en")
    assert [w.text for w in t.words] == ["hə", "loʊ", "wɝld"] and t.symbols[:2] == ["h", "ə"]
    with pytest.raises(TranscriptError, match="empty"):
        Transcript.from_ipa("  ")
    with pytest.raises(TranscriptError, match="without spaces"):
        PhoneToken("a b")
    with pytest.raises(TranscriptError, match="no phones"):
        WordPhones("x", ())
    assert PhoneToken("a", {"tone": "1"}) == PhoneToken("a", {"tone": "1"}) != PhoneToken("a")


# --- JSON ------------------------------------------------------------------------------------------


def sample() -> Alignment:
    return Alignment(
        (Tier("words", (Interval(0.1, 0.6, "ʃʊkˤra", {"confidence": 0.25}),)),
         Tier("phones", (Interval(0.1, 0.3, "ʃ", {"tone": "˥˩", "stress": 1, "voiced": False}),
                         Interval(0.3, 0.6, "ʊ")))),
        0.75, {"lang": "ar-EG", "aligner": "builtin", "mismatch": False},
    )


def test_json_round_trip_with_attrs_and_unicode():
    a = sample()
    text = a.to_json()
    assert "ʃʊkˤra" in text  # not \u-escaped
    back = Alignment.from_json(text)
    assert back == a
    assert dict(back.phones[0].attrs) == {"tone": "˥˩", "stress": 1, "voiced": False}
    assert json.loads(text)["format_version"] == FORMAT_VERSION


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.update(format_version=FORMAT_VERSION + 1), "not supported"),
    (lambda d: d.pop("format_version"), "not supported"),
    (lambda d: d.update(format="something"), "Not a visemes alignment"),
    (lambda d: d.pop("tiers"), "lacks the key 'tiers'"),
    (lambda d: d["tiers"][0]["intervals"][0].pop("end"), "lacks the key 'end'"),
])
def test_json_rejects_bad_documents(mutate, message):
    doc = sample().to_dict()
    mutate(doc)
    with pytest.raises(TimelineError, match=message):
        Alignment.from_dict(doc)


def test_json_rejects_non_json_and_non_objects():
    with pytest.raises(TimelineError, match="not valid JSON"):
        Alignment.from_json("{")
    with pytest.raises(TimelineError, match="object at the top level"):
        Alignment.from_json("[]")


# --- properties ------------------------------------------------------------------------------------

labels = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Zs", "Cc")), min_size=1, max_size=4)


@st.composite
def tiers(draw, name="phones"):
    n = draw(st.integers(0, 12))
    cuts = sorted(set(draw(st.lists(st.floats(0, 20, allow_nan=False), min_size=2 * n, max_size=2 * n))))
    intervals = []
    for start, end in zip(cuts[::2], cuts[1::2]):
        if end - start < 1e-3:
            continue  # sub-millisecond spans can collapse to start == end when shifted (float rounding)
        attrs = draw(st.dictionaries(st.sampled_from(["confidence", "tone", "stress"]),
                                     st.one_of(st.floats(0, 1), st.text(max_size=3), st.integers(0, 3), st.booleans()),
                                     max_size=2))
        intervals.append(Interval(start, end, draw(labels), attrs))
    return Tier(name, tuple(intervals))


@settings(max_examples=60, deadline=None)
@given(tiers(), st.floats(0, 5))
def test_property_json_round_trip_is_exact(tier, extra):
    a = Alignment((tier,), tier.end + extra + 0.01, {"lang": "xx"})
    back = Alignment.from_json(a.to_json(indent=None))
    assert back == a
    assert [iv.start for iv in back.phones] == [iv.start for iv in tier]  # bit-identical floats


@settings(max_examples=60, deadline=None)
@given(tiers(), st.floats(0, 20, allow_nan=False))
def test_property_at_agrees_with_a_linear_scan(tier, t):
    hits = [iv for iv in tier if iv.start <= t < iv.end]
    assert tier.at(t) == (hits[0] if hits else None)
    assert len(hits) <= 1


@settings(max_examples=40, deadline=None)
@given(tiers(), st.floats(0, 100, allow_nan=False))
def test_property_shift_preserves_order_and_durations(tier, offset):
    moved = tier.shifted(offset)
    assert moved.labels == tier.labels
    assert all(math.isclose(a.duration, b.duration, rel_tol=1e-9, abs_tol=1e-9) for a, b in zip(tier, moved))


# --- curves ----------------------------------------------------------------------------------------


def test_frame_curves_rules():
    c = FrameCurves(30, ("a", "b"), np.arange(6).reshape(3, 2))
    assert c.values.dtype == np.float32 and not c.values.flags.writeable
    assert np.allclose(c.times, [0, 1 / 30, 2 / 30]) and c.channel("b").tolist() == [1, 3, 5]
    with pytest.raises(InputError, match="No curve channel 'z'"):
        c.channel("z")
    with pytest.raises(InputError, match="unique"):
        FrameCurves(30, ("a", "a"), np.zeros((3, 2)))
    with pytest.raises(InputError, match="shape"):
        FrameCurves(30, ("a",), np.zeros((3, 2)))
    with pytest.raises(InputError, match="NaN"):
        FrameCurves(30, ("a",), np.array([[np.nan]]))
    with pytest.raises(InputError, match="Frame rate"):
        check_fps(0.5)
    assert frame_count(1.0, 30) == 31 and frame_count(0.999, 30) == 30
    back = FrameCurves.from_dict(json.loads(json.dumps(c.to_dict())))
    assert back.allclose(c)
    with pytest.raises(InputError, match="share frame count"):
        MouthAnimation(c, c, FrameCurves(30, ("a",), np.zeros((4, 1))))


# --- atomic writes ---------------------------------------------------------------------------------


def test_atomic_write_refuses_to_overwrite(tmp_path):
    path = tmp_path / "out.txt"
    atomic_write_text(path, "one")
    with pytest.raises(OutputExistsError, match="--overwrite"):
        atomic_write_text(path, "two")
    assert path.read_text(encoding="utf-8") == "one"
    atomic_write_bytes(path, b"three", overwrite=True)
    assert path.read_bytes() == b"three"


def test_atomic_write_leaves_nothing_on_exception(tmp_path):
    path = tmp_path / "sub" / "out.txt"
    with pytest.raises(RuntimeError):
        with atomic_open(path) as fh:
            fh.write("partial")
            raise RuntimeError("disk full")
    assert not path.exists() and list(path.parent.iterdir()) == []
    existing = tmp_path / "keep.txt"
    existing.write_text("original", encoding="utf-8")
    with pytest.raises(RuntimeError):
        with atomic_path(existing, overwrite=True) as tmp:
            tmp.write_text("half", encoding="utf-8")
            raise RuntimeError("crash")
    assert existing.read_text(encoding="utf-8") == "original"
    assert [p.name for p in tmp_path.iterdir() if p.is_file()] == ["keep.txt"]


def test_atomic_write_to_a_directory_path_fails_clearly(tmp_path):
    with pytest.raises(ExportError, match="is a directory"):
        atomic_write_text(tmp_path, "x", overwrite=True)


def test_timeline_objects_survive_pickling_for_worker_pipes():
    # multiprocessing sends these between processes; mappingproxy attrs must not break that
    import pickle

    import numpy as np

    from visemes.core.curves import FrameCurves

    phone = Interval(0.1, 0.2, "a", {"tone": "3", "confidence": 0.5})
    ali = Alignment((Tier("words", (Interval(0.1, 0.2, "word"),)), Tier("phones", (phone,))), 1.0, {"lang": "cmn"})
    token = PhoneToken("ɑ", {"tone": "1"})
    curves = FrameCurves(30.0, ("jaw_open",), np.zeros((4, 1)), meta={"source": "test"})
    assert pickle.loads(pickle.dumps(ali)).to_dict() == ali.to_dict()
    assert pickle.loads(pickle.dumps(token)) == token
    back = pickle.loads(pickle.dumps(curves))
    assert back.allclose(curves) and dict(back.meta) == {"source": "test"}


def test_channel_names_are_case_insensitive_where_typed():
    from visemes.core.curves import FrameCurves

    c = FrameCurves(30.0, ("jawOpen", "mouthClose", "sil"), np.arange(6.0).reshape(2, 3))
    assert c.resolve("JawOpen, MOUTHCLOSE") == ("jawOpen", "mouthClose")
    assert c.select(["JAWOPEN"]).channels == ("jawOpen",)
    np.testing.assert_array_equal(c.channel("Sil"), [2.0, 5.0])
    with pytest.raises(InputError, match="No curve channel 'jawopn'. Did you mean jawOpen"):
        c.resolve(["jawopn"])
    both = FrameCurves(30.0, ("E", "e"), np.zeros((1, 2)))  # two channels differ only by case: exact only
    assert both.resolve(["e"]) == ("e",)
    with pytest.raises(InputError):
        both.resolve(["Ee"])
