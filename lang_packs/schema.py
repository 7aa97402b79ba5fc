"""The pack file schema: validate a parsed TOML document (already merged with its parent) into a PackSpec.

Every problem raises ``PackError(source, key, problem)`` naming the file and the dotted key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from visemes.core.articulation import ARTICULATION_PARAMS
from visemes.core.errors import PackError
from visemes.core.vocabulary import OCULUS_15

from visemes.lang_packs.normalize import Normalizer, Rule, ToneSpec
from visemes.lang_packs.readers import READERS, VOWELS
from visemes.lang_packs.text import script_pattern

SCHEMA: dict[str, frozenset[str]] = {
    "": frozenset({"pack", "g2p", "tone", "mnemonics", "normalize", "rules", "phones", "mouth"}),
    "pack": frozenset({"code", "name", "parent", "scripts", "aliases", "wordfreq", "notes", "sources"}),
    "g2p": frozenset({"backend", "voice", "code", "mnemonics", "words", "reader", "vowels"}),
    "tone": frozenset({"ipa", "ipa_values", "mnemonic", "values", "default"}),
    "normalize": frozenset({"geminate"}),
    "rules": frozenset({"match", "replace", "prev", "next", "stressed", "note"}),
    "phone": frozenset({"viseme", "target", "note"}),
}
#: ``[mouth]``: how the language's speakers move the mouth, as settings of the coarticulation rules
#: (the ``visemes.mouth.coarticulation.CoarticulationParams`` fields of the same names; a test keeps the
#: two in step), each with the range a pack may give. The documented controls (jaw/lip intensity,
#: minimum hold, anticipation) and the timing of the lips' gestures.
MOUTH_SETTINGS: Mapping[str, tuple[float, float]] = MappingProxyType({
    "jaw_intensity": (0.0, 2.0),        # scale of every phone's jaw displacement (1 = the targets)
    "lip_intensity": (0.0, 2.0),        # scale of the lip shape targets (spread, round, protrude)
    "min_hold": (0.0, 0.2),             # seconds a bilabial closure is held at least
    "anticipation_span": (0.05, 1.0),   # seconds ahead a rounded/spread vowel shapes the lips
    "lip_lead": (0.0, 0.2),             # seconds the lip-shape gestures start before their phones
    "closure_lead": (0.0, 0.1),         # seconds the lips meet before a bilabial's labelled start
    "closure_protrusion": (0.0, 1.0),   # how far lips pressed together push forward
    "unstressed_jaw": (0.0, 1.0),       # share of its jaw opening an unstressed vowel keeps
    "unstressed_lips": (0.0, 1.0),      # share of its lip shape an unstressed vowel keeps
})
BACKENDS = ("espeak", "epitran", "g2p2")
WORD_MODES = ("whitespace", "syllables")
_CODE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


@dataclass(frozen=True)
class PhoneEntry:
    viseme: str
    target: Mapping[str, float]
    note: str


@dataclass(frozen=True)
class PackSpec:
    code: str
    name: str
    parent: str | None
    scripts: tuple[str, ...]
    aliases: tuple[str, ...]
    wordfreq: str | None
    notes: str
    sources: tuple[str, ...]
    backend: str
    voice: str
    epitran_code: str | None
    mnemonics: bool
    words: str
    reader: str | None
    vowels: str | None
    normalizer: Normalizer
    phones: Mapping[str, PhoneEntry]
    source: str
    mouth: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))


class _V:
    """Typed getters that name the file and key in every error."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, key: str, problem: str) -> PackError:
        return PackError(self.source, key, problem)

    def table(self, doc: Mapping, key: str, where: str, required: bool = False) -> Mapping:
        val = doc.get(key)
        if val is None:
            if required:
                raise self.fail(f"{where}{key}", "missing table; see lang_packs/AUTHORING.md for the format.")
            return {}
        if not isinstance(val, Mapping):
            raise self.fail(f"{where}{key}", f"must be a table, got {type(val).__name__}.")
        return val

    def keys(self, table: Mapping, allowed: frozenset[str], where: str) -> None:
        for k in table:
            if k not in allowed:
                raise self.fail(f"{where}{k}", f"unknown key; allowed keys are {', '.join(sorted(allowed))}.")

    def str_(self, table: Mapping, key: str, where: str, required: bool = False, default: str | None = None) -> str | None:
        val = table.get(key, default)
        if val is None:
            if required:
                raise self.fail(f"{where}{key}", "missing; it is required.")
            return None
        if not isinstance(val, str) or (required and not val.strip()):
            raise self.fail(f"{where}{key}", f"must be a non-empty string, got {val!r}.")
        return val

    def strlist(self, table: Mapping, key: str, where: str) -> tuple[str, ...]:
        val = table.get(key, [])
        if not isinstance(val, list) or not all(isinstance(v, str) and v for v in val):
            raise self.fail(f"{where}{key}", f"must be a list of non-empty strings, got {val!r}.")
        return tuple(val)

    def regex(self, table: Mapping, key: str, where: str, required: bool = False) -> re.Pattern | None:
        pattern = self.str_(table, key, where, required)
        if pattern is None:
            return None
        try:
            return re.compile(pattern)
        except re.error as exc:
            raise self.fail(f"{where}{key}", f"invalid regular expression {pattern!r}: {exc}.") from None

    def strmap(self, table: Mapping, where: str) -> Mapping[str, str]:
        for k, v in table.items():
            if not isinstance(v, str):
                raise self.fail(f"{where}{k}", f"must be a string, got {v!r}.")
        return MappingProxyType(dict(table))


def validate(doc: Mapping[str, Any], source: str, require_phones: bool = True) -> PackSpec:
    v = _V(source)
    v.keys(doc, SCHEMA[""], "")
    pack = v.table(doc, "pack", "", required=True)
    v.keys(pack, SCHEMA["pack"], "pack.")
    code = v.str_(pack, "code", "pack.", required=True)
    if not _CODE.match(code):
        raise v.fail("pack.code", f"{code!r} is not a BCP-47 style code like 'ar' or 'ar-EG'.")
    name = v.str_(pack, "name", "pack.", required=True)
    scripts = v.strlist(pack, "scripts", "pack.")
    if not scripts:
        raise v.fail("pack.scripts", "list at least one ISO 15924 script code, e.g. ['Arab'].")
    try:
        script_pattern(scripts)
    except ValueError as exc:
        raise v.fail("pack.scripts", f"{exc}; use ISO 15924 codes such as Latn, Arab, Deva, Hans.") from None

    g2p = v.table(doc, "g2p", "", required=True)
    v.keys(g2p, SCHEMA["g2p"], "g2p.")
    backend = v.str_(g2p, "backend", "g2p.", default="espeak")
    if backend not in BACKENDS:
        raise v.fail("g2p.backend", f"{backend!r} is not one of {', '.join(BACKENDS)}.")
    voice = v.str_(g2p, "voice", "g2p.", required=True)
    epitran_code = v.str_(g2p, "code", "g2p.")
    if backend == "epitran" and not epitran_code:
        raise v.fail("g2p.code", "the epitran backend needs its language-script code, e.g. 'swa-Latn'.")
    if backend == "g2p2" and not epitran_code:
        raise v.fail("g2p.code", "the g2p2 backend needs its model's language code, e.g. 'he'.")
    mnemonics = g2p.get("mnemonics", False)
    if not isinstance(mnemonics, bool):
        raise v.fail("g2p.mnemonics", f"must be true or false, got {mnemonics!r}.")
    words = v.str_(g2p, "words", "g2p.", default="whitespace")
    if words not in WORD_MODES:
        raise v.fail("g2p.words", f"{words!r} is not one of {', '.join(WORD_MODES)}.")
    reader = v.str_(g2p, "reader", "g2p.")
    if reader is not None and reader not in READERS:
        raise v.fail("g2p.reader", f"{reader!r} is not one of {', '.join(READERS)}.")
    vowels = v.str_(g2p, "vowels", "g2p.")
    if vowels is not None and vowels not in VOWELS:
        raise v.fail("g2p.vowels", f"{vowels!r} is not one of {', '.join(VOWELS)}.")

    tone = None
    tone_t = v.table(doc, "tone", "")
    if tone_t:
        v.keys(tone_t, SCHEMA["tone"], "tone.")
        tone = ToneSpec(
            ipa=v.regex(tone_t, "ipa", "tone.", required=True),
            ipa_values=v.strmap(v.table(tone_t, "ipa_values", "tone."), "tone.ipa_values."),
            mnemonic=v.regex(tone_t, "mnemonic", "tone."),
            values=v.strmap(v.table(tone_t, "values", "tone."), "tone.values."),
            default=v.str_(tone_t, "default", "tone."),
        )
    norm = v.table(doc, "normalize", "")
    v.keys(norm, SCHEMA["normalize"], "normalize.")
    geminate = norm.get("geminate", False)
    if not isinstance(geminate, bool):
        raise v.fail("normalize.geminate", f"must be true or false, got {geminate!r}.")
    rules_raw = doc.get("rules", [])
    if not isinstance(rules_raw, list):
        raise v.fail("rules", "must be an array of tables ([[rules]]).")
    rules = []
    for i, r in enumerate(rules_raw):
        where = f"rules[{i}]."
        if not isinstance(r, Mapping):
            raise v.fail(f"rules[{i}]", "must be a table with match and replace.")
        v.keys(r, SCHEMA["rules"], where)
        replace = r.get("replace")
        if not isinstance(replace, str):
            raise v.fail(f"{where}replace", f"must be a string (\"\" deletes the token), got {replace!r}.")
        stressed = r.get("stressed")
        if stressed is not None and not isinstance(stressed, bool):
            raise v.fail(f"{where}stressed", f"must be true (stressed tokens only) or false (unstressed only), "
                                             f"got {stressed!r}.")
        rules.append(Rule(v.regex(r, "match", where, True), replace, v.regex(r, "prev", where),
                          v.regex(r, "next", where), stressed))
    normalizer = Normalizer(
        rules=tuple(rules),
        tone=tone,
        mnemonics=v.strmap(v.table(doc, "mnemonics", ""), "mnemonics."),
        geminate=geminate,
    )
    phones = {}
    for symbol, entry in v.table(doc, "phones", "", required=require_phones).items():
        where = f"phones.{symbol}."
        if not symbol or any(ch.isspace() for ch in symbol):
            raise v.fail(f"phones.{symbol!r}", "a phone symbol must be non-empty and contain no spaces.")
        if not isinstance(entry, Mapping):
            raise v.fail(f"phones.{symbol}", "must be a table like { viseme = \"PP\" }.")
        v.keys(entry, SCHEMA["phone"], where)
        viseme = v.str_(entry, "viseme", where, required=True)
        if viseme not in OCULUS_15:
            raise v.fail(f"{where}viseme", f"{viseme!r} is not an OCULUS_15 class ({' '.join(OCULUS_15)}).")
        target = v.table(entry, "target", where)
        for param, value in target.items():
            if param not in ARTICULATION_PARAMS:
                raise v.fail(f"{where}target.{param}", f"unknown mouth parameter; use {', '.join(ARTICULATION_PARAMS)}.")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
                raise v.fail(f"{where}target.{param}", f"must be a number in [0, 1], got {value!r}.")
        phones[symbol] = PhoneEntry(viseme, MappingProxyType({k: float(x) for k, x in target.items()}),
                                    v.str_(entry, "note", where, default="") or "")
    mouth_t = v.table(doc, "mouth", "")
    v.keys(mouth_t, frozenset(MOUTH_SETTINGS), "mouth.")
    for key, value in mouth_t.items():
        lo, hi = MOUTH_SETTINGS[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
            raise v.fail(f"mouth.{key}", f"must be a number in [{lo:g}, {hi:g}], got {value!r}.")
    mouth = MappingProxyType({k: float(x) for k, x in mouth_t.items()})
    if not phones and require_phones:
        raise v.fail("phones", "the inventory is empty; draft it with lang_packs/tools/draft_inventory.py.")
    return PackSpec(
        code=code, name=name, parent=v.str_(pack, "parent", "pack."), scripts=scripts,
        aliases=v.strlist(pack, "aliases", "pack."), wordfreq=v.str_(pack, "wordfreq", "pack."),
        notes=v.str_(pack, "notes", "pack.", default="") or "", sources=v.strlist(pack, "sources", "pack."),
        backend=backend, voice=voice, epitran_code=epitran_code, mnemonics=mnemonics, words=words,
        reader=reader, vowels=vowels, normalizer=normalizer, phones=MappingProxyType(phones), source=source,
        mouth=mouth,
    )
