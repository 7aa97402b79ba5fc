"""Thai word breaks and syllable tones (lang_packs.thai, PyThaiNLP) on the th pack's epitran phones.

Tones checked by hand with the Thai spelling rules (consonant class, tone mark, live/dead syllable).
"""

from __future__ import annotations

from visemes.core.timeline import PhoneToken
from visemes.lang_packs import thai
from visemes.lang_packs.pack import _with_tones


def _tones(tr):
    return [[(p.symbol, p.attrs.get("tone")) for p in w.phones if "tone" in p.attrs] for w in tr.words]


def test_running_text_is_cut_into_words_with_their_tones(packs):
    # phǒm chɔ̂ɔp kin khâaw mâak "I like eating rice a lot"
    tr = packs("th").phonemize("ผมชอบกินข้าวมาก")
    assert [w.text for w in tr.words] == ["ผม", "ชอบ", "กินข้าว", "มาก"]
    assert [[t for _, t in w] for w in _tones(tr)] == [["rising"], ["falling"], ["mid", "falling"], ["falling"]]


def test_every_vowel_of_a_nucleus_takes_the_syllable_tone():
    pairs = [([], [PhoneToken("kʰ"), PhoneToken("i"), PhoneToken("a"), PhoneToken("n"), PhoneToken("a")])]
    out = _with_tones(pairs, ("rising", "mid"))
    assert [p.attrs.get("tone") for p in out[0][1]] == [None, "rising", "rising", None, "mid"]


def test_no_tone_rather_than_a_wrong_one_when_syllables_do_not_pair_up(packs):
    # สวัสดี is sa-wat-dii (three vowels from epitran); PyThaiNLP's syllable list cuts it สวัส | ดี
    assert thai.words("สวัสดี") == [("สวัสดี", ("low", "mid"))]
    tr = packs("th").phonemize("สวัสดี")
    assert _tones(tr) == [[]] and [p.symbol for p in tr.words[0].phones].count("a") == 2
