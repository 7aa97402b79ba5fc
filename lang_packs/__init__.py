"""Language packs: text -> words with normalized IPA phones -> visemes and mouth targets.

``load(code)`` gives a :class:`LanguagePack` for a pack file in ``lang_packs/data`` (or a third-party
pack registered under the ``visemes.lang_packs`` entry point group), or a generic pack built from the
universal feature-based fallback for any other espeak-ng voice. See ``lang_packs/AUTHORING.md``.
"""

from __future__ import annotations

from visemes.lang_packs.info import PackInfo, available
from visemes.lang_packs.loader import load, universal
from visemes.lang_packs.pack import LanguagePack, PhoneLookup, Phonemizer, PhoneSpec, SpeakingPack, fallback_phone
from visemes.lang_packs.registry import ENTRY_POINT_GROUP

__all__ = ["ENTRY_POINT_GROUP", "LanguagePack", "PackInfo", "PhoneLookup", "PhoneSpec", "Phonemizer", "SpeakingPack",
           "available", "fallback_phone", "load", "universal"]
