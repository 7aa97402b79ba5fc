"""The TextGrid export's confidence tier: the words' aligner confidence and which words are suspect."""

from __future__ import annotations

from praatio import textgrid as ptg

from visemes.core.textgrid import CONFIDENCE_TIER, read_textgrid, write_textgrid
from visemes.core.timeline import Alignment, Interval, Tier


def _alignment(with_conf: bool = True) -> Alignment:
    attrs = ({"confidence": 0.934, "suspect": False}, {"confidence": 0.406, "suspect": True})
    words = Tier("words", tuple(Interval(a, b, w, attrs[i] if with_conf else None)
                                for i, (a, b, w) in enumerate(((0.1, 0.4, "pes"), (0.5, 0.9, "spí")))))
    phones = Tier("phones", (Interval(0.1, 0.4, "p"), Interval(0.5, 0.9, "s")))
    return Alignment((words, phones), 1.0, {"mismatch": True})


def test_confidence_tier_labels_each_word(tmp_path):
    path = write_textgrid(_alignment(), tmp_path / "a.TextGrid", confidence_tier=True)
    tg = ptg.openTextgrid(str(path), includeEmptyIntervals=False)
    assert tg.tierNames == ("words", "phones", CONFIDENCE_TIER)
    entries = [(round(e.start, 3), round(e.end, 3), e.label) for e in tg.getTier(CONFIDENCE_TIER).entries]
    assert entries == [(0.1, 0.4, "0.93"), (0.5, 0.9, "0.41 suspect")]
    back = read_textgrid(path)
    assert back.words.labels == ["pes", "spí"] and back.tier(CONFIDENCE_TIER).labels == ["0.93", "0.41 suspect"]


def test_no_tier_by_default_or_without_confidence(tmp_path):
    plain = write_textgrid(_alignment(), tmp_path / "a.TextGrid")
    assert read_textgrid(plain).tier_names == ["words", "phones"]
    bare = write_textgrid(_alignment(with_conf=False), tmp_path / "b.TextGrid", confidence_tier=True)
    assert read_textgrid(bare).tier_names == ["words", "phones"]
