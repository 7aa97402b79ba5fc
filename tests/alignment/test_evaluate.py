"""Boundary scoring against small hand-made alignments whose errors are known exactly."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from visemes.alignment.evaluate import (
    BoundaryStats,
    boundaries,
    evaluate_dirs,
    evaluate_pairs,
    lang_of,
    phone_class,
)
from visemes.core.errors import InputError
from visemes.core.textgrid import write_textgrid
from visemes.core.timeline import Alignment, Interval, Tier


def grid(*phones: tuple[float, float, str], duration: float = 2.0, lang: str | None = None) -> Alignment:
    meta = {"lang": lang} if lang else {}
    return Alignment((Tier("phones", tuple(Interval(a, b, label) for a, b, label in phones)),), duration, meta)


GOLD = grid((0.10, 0.20, "p"), (0.20, 0.35, "a"), (0.50, 0.60, "s"), (0.60, 0.70, "n"))
# errors per boundary (ms): p start 5, a start 15, s start 30 (after a silence), n start 0, n end 60
PRED = grid((0.105, 0.215, "p"), (0.215, 0.33, "a"), (0.53, 0.60, "s"), (0.60, 0.76, "n"))


def test_boundaries_follow_the_convention():
    times, labels = boundaries(GOLD)
    np.testing.assert_allclose(times, [0.10, 0.20, 0.50, 0.60, 0.70])
    assert labels == ["p", "a", "s", "n", "n"]
    with_sil = grid((0.0, 0.1, "sil"), (0.1, 0.2, "a"), (0.2, 0.3, "SP"), (0.3, 0.4, "spn"), (0.4, 0.5, "b"))
    times, labels = boundaries(with_sil)
    np.testing.assert_allclose(times, [0.1, 0.4, 0.5])  # the end of "a" is not a boundary; the last end is


def test_exact_errors_overall_and_by_class():
    report = evaluate_pairs([PRED], [GOLD], langs=["xx"], names=["f"])
    o = report.overall
    assert o.n == 5
    assert o.within == {10: 0.4, 20: 0.6, 25: 0.6, 50: 0.8}
    assert o.median_ms == pytest.approx(15.0)
    assert o.mean_ms == pytest.approx((5 + 15 + 30 + 0 + 60) / 5)
    assert report.by_class["stop"].n == 1 and report.by_class["stop"].mean_ms == pytest.approx(5)
    assert report.by_class["vowel"].mean_ms == pytest.approx(15)
    assert report.by_class["fricative"].mean_ms == pytest.approx(30)
    assert report.by_class["nasal"].n == 2 and report.by_class["nasal"].mean_ms == pytest.approx(30)
    assert set(report.by_lang) == {"xx"} and report.files[0].mean_ms == pytest.approx(22.0)


def test_languages_mismatches_and_relabelled_files():
    other_lang_gold = grid((0.0, 0.1, "t"), (0.1, 0.3, "o"), lang="yy")
    other_lang_pred = grid((0.02, 0.1, "t"), (0.1, 0.3, "u"))  # same count, one label differs
    short_pred = grid((0.1, 0.2, "p"))
    report = evaluate_pairs(
        [PRED, other_lang_pred, short_pred], [GOLD, other_lang_gold, GOLD], langs=["xx", None, "xx"],
        names=["a", "b", "c"],
    )
    assert report.by_lang["xx"].n == 5
    assert report.by_lang["unknown"].n == 3  # an explicit None is "unknown", not the gold meta
    assert report.by_lang["unknown"].mean_ms == pytest.approx(20 / 3)
    # one predicted phone for four gold ones: 3 edits > half the gold phones -> another text, not scored
    assert report.problems == (("c", "1 predicted phones vs 4 gold phones need 3 edits (more than 50% of the gold "
                                     "phones and more than 2); another text?"),)
    assert [f.name for f in report.relabelled] == ["b"] and report.relabelled[0].label_differences == 1
    strict = evaluate_pairs([other_lang_pred], [other_lang_gold], strict_labels=True, names=["b"])
    assert strict.files == () and strict.problems == (("b", "1 phone labels differ from gold"),)
    assert math.isnan(strict.overall.mean_ms)
    default_lang = evaluate_pairs([other_lang_pred], [other_lang_gold])
    assert set(default_lang.by_lang) == {"yy"}
    with pytest.raises(InputError, match="one prediction per gold"):
        evaluate_pairs([PRED], [GOLD, GOLD])


def test_table_and_json():
    report = evaluate_pairs([PRED], [GOLD], langs=["xx"])
    table = report.table()
    lines = table.splitlines()
    assert lines[0].split() == ["boundaries", "<=10ms", "<=20ms", "<=25ms", "<=50ms", "median", "ms", "mean", "ms"]
    assert lines[2].split() == ["overall", "5", "40.0%", "60.0%", "60.0%", "80.0%", "15.0", "22.0"]
    assert "lang xx" in table and "class nasal" in table
    data = json.loads(report.to_json())
    assert data["overall"]["within_20ms"] == 0.6 and data["by_class"]["stop"]["boundaries"] == 1


@pytest.mark.parametrize(
    "label,cls",
    [("p", "stop"), ("kʰ", "stop"), ("ʔ", "stop"), ("t͡ʃ", "affricate"), ("ts", "affricate"), ("dʒ", "affricate"),
     ("s", "fricative"), ("h", "fricative"), ("ɬ", "fricative"), ("m", "nasal"), ("n̩", "nasal"), ("ɑ̃", "vowel"),
     ("aː", "vowel"), ("aɪ", "vowel"), ("ɚ", "vowel"), ("l", "approximant"), ("ɾ", "approximant"),
     ("j", "approximant"), ("ɹ", "approximant"), ("AH1", "other"), ("", "other")],
)
def test_phone_classes(label, cls):
    assert phone_class(label) == cls


def test_lang_rules():
    assert lang_of("ces/ces-004-000", "subdir") == "ces"
    assert lang_of("top", "subdir") == "unknown"
    assert lang_of("a/ces-004-000", "prefix") == "ces"
    assert lang_of("eng_001", "prefix") == "eng"
    assert lang_of("ces/x", "none") == "unknown"
    with pytest.raises(InputError):
        lang_of("x", "regex")  # type: ignore[arg-type]


def test_folders_with_textgrid_and_json_predictions(tmp_path):
    gold_dir, pred_dir = tmp_path / "gold", tmp_path / "pred"
    for lang in ("aaa", "bbb"):
        write_textgrid(GOLD, gold_dir / lang / f"{lang}-1.TextGrid")
    write_textgrid(PRED, pred_dir / "aaa" / "aaa-1.TextGrid")
    (pred_dir / "bbb").mkdir(parents=True)
    (pred_dir / "bbb" / "bbb-1.json").write_text(GOLD.to_json(), encoding="utf-8")
    write_textgrid(GOLD, gold_dir / "ccc" / "missing.TextGrid")
    (gold_dir / "ccc" / "bad.TextGrid").write_text("not a textgrid", encoding="utf-8")
    (pred_dir / "ccc").mkdir()
    (pred_dir / "ccc" / "bad.TextGrid").write_text("not a textgrid", encoding="utf-8")
    report = evaluate_dirs(pred_dir, gold_dir)
    assert report.by_lang["aaa"].mean_ms == pytest.approx(22.0)
    assert report.by_lang["bbb"].mean_ms == pytest.approx(0.0)
    assert report.overall.n == 10
    assert [name for name, _ in report.problems] == ["ccc/bad"] and report.missing == ("ccc/missing",)
    assert "1 gold files without a prediction" in report.table()
    with pytest.raises(InputError, match="No .TextGrid"):
        evaluate_dirs(pred_dir, tmp_path / "pred" / "bbb")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0, 200, allow_nan=False), min_size=1, max_size=50))
def test_stats_properties(errors):
    stats = BoundaryStats.of(np.array(errors))
    shares = [stats.within[t] for t in (10, 20, 25, 50)]
    assert shares == sorted(shares) and all(0 <= s <= 1 for s in shares)
    assert stats.mean_ms == pytest.approx(float(np.mean(errors)))
    assert min(errors) <= stats.median_ms <= max(errors)


# --- real gold: phone counts differ, tiers named otherwise ---------------------------------------------


def textgrid_text(duration: float, tiers: dict[str, list[tuple[float, float, str]]]) -> str:
    """A Praat long-format TextGrid written out by hand (gaps filled with empty intervals)."""
    out = ['File type = "ooTextFile"', 'Object class = "TextGrid"', "", "xmin = 0", f"xmax = {duration}",
           "tiers? <exists>", f"size = {len(tiers)}", "item []:"]
    for k, (name, intervals) in enumerate(tiers.items(), 1):
        filled, t = [], 0.0
        for a, b, label in intervals:
            if a > t:
                filled.append((t, a, ""))
            filled.append((a, b, label))
            t = b
        if t < duration:
            filled.append((t, duration, ""))
        out += [f"    item [{k}]:", '        class = "IntervalTier"', f'        name = "{name}"', "        xmin = 0",
                f"        xmax = {duration}", f"        intervals: size = {len(filled)}"]
        for i, (a, b, label) in enumerate(filled, 1):
            out += [f"        intervals [{i}]:", f"            xmin = {a}", f"            xmax = {b}",
                    f'            text = "{label}"']
    return "\n".join(out) + "\n"


def test_edit_distance_matches_an_inserted_phone():
    from visemes.alignment.evaluate import match_labels

    gold = grid((0.10, 0.20, "p"), (0.20, 0.30, "a"), (0.30, 0.40, "t"), (0.40, 0.55, "a"))
    pred = grid((0.11, 0.20, "p"), (0.20, 0.28, "a"), (0.28, 0.31, "ʔ"), (0.31, 0.42, "t"), (0.42, 0.57, "a"))
    edits = match_labels(["p", "a", "ʔ", "t", "a"], ["p", "a", "t", "a"])
    assert edits.pairs == ((0, 0), (1, 1), (3, 2), (4, 3)) and (edits.substituted, edits.inserted, edits.deleted) == (0, 1, 0)
    report = evaluate_pairs([pred], [gold], langs=["xx"])
    # by hand: p 10, a 0, (ʔ inserted), t 10, a 20, final end 20 ms
    o = report.overall
    assert o.n == 5 and o.mean_ms == pytest.approx(12.0) and o.median_ms == pytest.approx(10.0)
    assert o.within[10] == pytest.approx(0.6) and o.within[20] == pytest.approx(1.0)
    e = report.edits["ALL"]
    assert (e.gold, e.substituted, e.inserted, e.deleted) == (4, 0, 1, 0) and e.error_rate == pytest.approx(0.25)
    assert report.files[0].inserted == 1 and report.problems == ()
    strict = evaluate_pairs([pred], [gold], strict_labels=True, names=["f"])
    assert strict.problems == (("f", "0 substituted, 1 inserted, 0 deleted phones"),)


def test_named_gold_tiers_substitution_deletion_and_words(tmp_path):
    gold_dir, pred_dir = tmp_path / "gold" / "mmm", tmp_path / "pred" / "mmm"
    gold_dir.mkdir(parents=True)
    pred_dir.mkdir(parents=True)
    (gold_dir / "f.TextGrid").write_text(textgrid_text(0.6, {
        "Orthography": [(0.1, 0.3, "Ma"), (0.3, 0.5, "ma")],
        "segments": [(0.1, 0.2, "m"), (0.2, 0.3, "a"), (0.3, 0.4, "m"), (0.4, 0.5, "a")],
    }), encoding="utf-8")
    (pred_dir / "f.TextGrid").write_text(textgrid_text(0.6, {
        "words": [(0.12, 0.3, "ma"), (0.3, 0.5, "MA")],
        "phones": [(0.1, 0.22, "m"), (0.22, 0.3, "o"), (0.3, 0.5, "m")],
    }), encoding="utf-8")
    plain = evaluate_dirs(tmp_path / "pred", tmp_path / "gold")  # the gold's tiers have other names
    assert plain.files == () and "no phones tier" in plain.problems[0][1] and "--gold-phones-tier" in plain.problems[0][1]
    report = evaluate_dirs(tmp_path / "pred", tmp_path / "gold", gold_phones_tier="SEGMENTS", gold_words_tier="orthography")
    # phones by hand: m-m 0 ms, o for a (substituted) 20 ms, m-m 0 ms; the last gold a is deleted, so the
    # final end is not scored
    assert report.overall.n == 3 and report.overall.mean_ms == pytest.approx(20 / 3)
    assert report.overall.median_ms == pytest.approx(0.0)
    assert report.by_class["vowel"].n == 1 and report.by_class["nasal"].n == 2
    e = report.edits["mmm"]
    assert (e.gold, e.substituted, e.inserted, e.deleted) == (4, 1, 0, 1)
    # words (case-folded labels): starts 20 and 0 ms, final end 0 ms
    assert report.words.n == 3 and report.words.mean_ms == pytest.approx(20 / 3)
    assert report.words_by_lang["mmm"].within[10] == pytest.approx(2 / 3)
    table = report.table()
    assert "words mmm" in table and "phone edits" in table
    edit_lines = table.splitlines()[table.splitlines().index("") + 1:]
    assert edit_lines[0].split() == ["phone", "edits", "gold", "substituted", "inserted", "deleted", "error", "rate"]
    assert edit_lines[2].split() == ["overall", "4", "1", "0", "1", "50.0%"]
    assert edit_lines[3].split() == ["lang", "mmm", "4", "1", "0", "1", "50.0%"]
    wrong = evaluate_dirs(tmp_path / "pred", tmp_path / "gold", gold_phones_tier="ipa")
    assert "has no tier 'ipa' (tiers: Orthography, segments)" in wrong.problems[0][1]


def test_a_split_affricate_in_a_short_word_is_scored():
    # gold t͡s a (2 phones), predicted t s a: substitution t͡s->t plus insertion s = 2 edits, allowed
    gold = grid((0.10, 0.25, "t͡s"), (0.25, 0.40, "a"))
    pred = grid((0.12, 0.18, "t"), (0.18, 0.25, "s"), (0.25, 0.43, "a"))
    report = evaluate_pairs([pred], [gold], names=["w"])
    assert report.problems == () and report.overall.n == 3  # t start 20, a start 0, end 30 ms
    assert report.overall.mean_ms == pytest.approx(50 / 3)
    assert report.by_class["affricate"].n == 1 and report.by_class["affricate"].mean_ms == pytest.approx(20)
    e = report.edits["ALL"]
    assert (e.substituted, e.inserted, e.deleted) == (1, 1, 0)


def _levenshtein(a, b):
    """Plain reference: the textbook recurrence, one row at a time."""
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (x != y))
    return row[-1]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from("abc"), max_size=8), st.lists(st.sampled_from("abc"), max_size=8),
       st.lists(st.floats(0, 5), min_size=8, max_size=8), st.lists(st.floats(0, 5), min_size=8, max_size=8))
def test_match_labels_is_a_minimal_edit_script(pred, gold, tp, tg):
    from visemes.alignment.evaluate import match_labels

    for edits in (match_labels(pred, gold), match_labels(pred, gold, tp[:len(pred)], tg[:len(gold)])):
        assert edits.total == _levenshtein(pred, gold)
        p_idx, g_idx = [p for p, _ in edits.pairs], [g for _, g in edits.pairs]
        assert p_idx == sorted(set(p_idx)) and g_idx == sorted(set(g_idx))  # monotone, one-to-one
        assert edits.substituted == sum(pred[p] != gold[g] for p, g in edits.pairs)
        assert len(pred) - len(edits.pairs) == edits.inserted and len(gold) - len(edits.pairs) == edits.deleted
