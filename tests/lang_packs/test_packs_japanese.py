"""Japanese with kanji through the kana reader (lang_packs.japanese; pyopenjtalk-plus, visemes[ja]).

Golden phones checked by hand against the readings (Tōkyō ni ikimasu; kyō wa ame ga futte imasu).
Skipped where the optional reading dictionary is not installed; the error without it is tested always.
"""

from __future__ import annotations

import pytest

from visemes.core.errors import BackendUnavailableError
from visemes.lang_packs import japanese

needs_reader = pytest.mark.skipif(not japanese.available(), reason="pip install 'visemes[ja]' (pyopenjtalk-plus)")


@needs_reader
@pytest.mark.parametrize("text,words", [
    ("東京に行きます", [("東京に", "t oː kʲ oː n i"), ("行きます", "i k i m a s ɯ")]),
    ("今日は雨が降っています。", [("今日は", "kʲ oː w a"), ("雨が", "a m e ɡ a"), ("降っています", "ɸ ɯ tː e i m a s ɯ")]),
    ("日本語を話します", [("日本語を", "n i h o ŋ ɡ oː"), ("話します", "h a n a ɕ i m a s ɯ")]),
    ("私は学生です", [("私は", "w a t a ɕ i w a"), ("学生です", "ɡ a k ɯ s eː d e s ɯ")]),
])
def test_kanji_sentences(packs, text, words):
    tr = packs("ja").phonemize(text)
    assert [(w.text, " ".join(w.symbols)) for w in tr.words] == words
    assert all(packs("ja").phone(p.symbol).explicit for p in tr.phones)


@needs_reader
def test_particles_are_read_as_spoken():
    assert japanese.accent_phrases("今日は駅へ水を") == [("今日は", "キョーワ"), ("駅へ", "エキエ"), ("水を", "ミズオ")]


def test_kana_text_needs_no_reader(packs, monkeypatch):
    def missing():
        raise BackendUnavailableError("not installed")

    monkeypatch.setattr(japanese, "_frontend", missing)
    assert packs("ja").phonemize("ありがとう").symbols == ["a", "ɾ", "i", "ɡ", "a", "t", "oː"]


def test_kanji_without_the_reader_says_what_to_install(monkeypatch, packs):
    import builtins

    real_import = builtins.__import__

    def no_pyopenjtalk(name, *args, **kwargs):
        if name == "pyopenjtalk":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    japanese._frontend.cache_clear()
    monkeypatch.setattr(builtins, "__import__", no_pyopenjtalk)
    try:
        with pytest.raises(BackendUnavailableError, match=r"visemes\[ja\]"):
            packs("ja").phonemize("東京")
    finally:
        monkeypatch.undo()
        japanese._frontend.cache_clear()


@needs_reader
def test_speech_synthesis_says_the_kana(packs):
    from visemes.speech.synthesis import speak_with_pack

    assert packs("ja").spoken_text("東京に行きます。ありがとう") == "トーキョーニ イキマス。ありがとう"
    # espeak given the kanji says "Chinese letter" (over a second for the first phone); given the kana,
    # every phone of the sentence takes a normal time
    spoken = speak_with_pack("東京に行きます", packs("ja"))
    assert spoken.alignment.phones.labels[:2] == ["t", "oː"]
    assert max(iv.end - iv.start for iv in spoken.alignment.phones) < 0.4
