"""The he pack's g2p2 backend: vowels for unpointed words, offline (no download, no cache file)."""

from __future__ import annotations

import socket
import urllib.request

import pytest

from visemes.lang_packs.g2p import G2p2G2P, split_ipa


def test_split_ipa_keeps_affricates_and_marks():
    assert split_ipa("tsaʁiχ") == ["ts", "a", "ʁ", "i", "χ"]
    assert split_ipa("t͡ʃips") == ["tʃ", "i", "p", "s"]
    assert split_ipa("aːbʰ") == ["aː", "bʰ"]


def test_model_is_read_from_the_installed_package_never_fetched(monkeypatch, tmp_path):
    g2p2 = pytest.importorskip("g2p2")

    def refuse(*args, **kwargs):
        raise AssertionError("network or g2p2's downloading lookup used")

    monkeypatch.setattr(urllib.request, "urlretrieve", refuse)
    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(g2p2, "model_path", refuse)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    words = G2p2G2P("he", "he").convert("מחשב")
    assert [p for p, _ in words[0]] == ["m", "a", "χ", "ʃ", "e", "v"]
    assert list(tmp_path.iterdir()) == []  # no cache file written


def test_pointed_words_and_loans_go_to_espeak(packs):
    pack = packs("he")
    assert pack.phonemize("אֲבָל").symbols == ["ʔ", "a", "v", "a", "l"]  # espeak reads the niqqud
    assert pack.phonemize("זה").symbols == ["z", "e"]                  # espeak alone: z (no vowel)
    assert pack.phonemize("hello").phones                               # Latin: espeak's English
