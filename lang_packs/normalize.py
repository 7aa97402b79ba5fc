"""A pack's IPA normalizer: raw espeak/epitran tokens of one word -> clean PhoneTokens.

Stages, in order (see AUTHORING.md):
1. tone: take the tone marker off each token and keep it as an attribute (from espeak's mnemonic when
   the pack asks for mnemonics, because espeak's IPA output merges some tones; else from the IPA marker);
2. mnemonic overrides: replace a token whose espeak mnemonic is listed (IPA output merges some phonemes);
3. stress: strip ˈ ˌ and keep {"stress": "primary"|"secondary"};
4. geminate (if on): a doubled token (`ʕʕ`, `cʰcʰ`) or two equal consonant tokens -> one long `Cː`;
5. rules: ordered regex substitutions on each token's symbol, optionally conditioned on the previous /
   next token and on the token's stress; a result with spaces splits the token (attributes go to its
   syllabic parts), an empty result deletes it;
6. stress that sits on a consonant moves to the next syllabic phone.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from visemes.core.timeline import PhoneToken

from visemes.lang_packs.features import is_syllabic

_STRESS = {"ˈ": "primary", "ˌ": "secondary"}
_TIES = re.compile("[\u0361\u035c]")


@dataclass(frozen=True)
class Rule:
    match: re.Pattern
    replace: str
    prev: re.Pattern | None = None
    next: re.Pattern | None = None
    stressed: bool | None = None  # True: only tokens with stress; False: only tokens without; None: any


@dataclass(frozen=True)
class ToneSpec:
    ipa: re.Pattern                      # the tone marker at the end of an IPA token
    ipa_values: Mapping[str, str]        # IPA marker -> tone label
    mnemonic: re.Pattern | None = None   # the tone name at the end of an espeak mnemonic
    values: Mapping[str, str] = field(default_factory=dict)  # mnemonic tone name -> tone label
    default: str | None = None           # label of syllabic tokens with no marker (Vietnamese tone 1)


@dataclass(frozen=True)
class Normalizer:
    rules: tuple[Rule, ...] = ()
    tone: ToneSpec | None = None
    mnemonics: Mapping[str, str] = field(default_factory=dict)
    geminate: bool = False

    def __call__(self, raw: Sequence[str | tuple[str, str | None]]) -> list[PhoneToken]:
        toks: list[tuple[str, str | None]] = [(t, None) if isinstance(t, str) else t for t in raw]
        items: list[tuple[str, dict]] = []
        pending_stress: str | None = None
        for ipa, mnem in toks:
            ipa = _TIES.sub("", unicodedata.normalize("NFC", ipa.strip()))
            attrs: dict = {}
            ipa, tone = self._tone(ipa, mnem)
            if tone is not None:
                attrs["tone"] = tone
            if mnem is not None and self.mnemonics:
                key = mnem.strip("',")
                if self.tone is not None and self.tone.mnemonic is not None:
                    key = self.tone.mnemonic.sub("", key)
                if key in self.mnemonics:
                    stress = "".join(ch for ch in ipa if ch in _STRESS)
                    ipa = stress + self.mnemonics[key]
            for mark, level in _STRESS.items():
                if mark in ipa:
                    attrs.setdefault("stress", level)
                    ipa = ipa.replace(mark, "")
            if not ipa:
                pending_stress = attrs.get("stress", pending_stress)
                continue
            if tone is None and self.tone is not None and self.tone.default is not None and is_syllabic(ipa):
                attrs["tone"] = self.tone.default
            if pending_stress and "stress" not in attrs:
                attrs["stress"] = pending_stress
            pending_stress = None
            items.append((ipa, attrs))
        if self.geminate:
            items = _geminate(items)
        joined = "\n".join(sym for sym, _ in items)
        for rule in self.rules:
            # most rules match no token of a word: one search over the word's symbols (one per line,
            # so ^ and $ still anchor each symbol) skips them; a rule that may match is applied in full
            if not _multiline(rule.match.pattern).search(joined):
                continue
            items = _apply(rule, items)
            joined = "\n".join(sym for sym, _ in items)
        return _place_attrs(items)

    def _tone(self, ipa: str, mnem: str | None) -> tuple[str, str | None]:
        spec = self.tone
        if spec is None:
            return ipa, None
        m = spec.ipa.search(ipa)
        if not m:
            return ipa, None
        stripped = ipa[: m.start()] + ipa[m.end():]
        if mnem is not None and spec.mnemonic is not None:
            mm = spec.mnemonic.search(mnem)
            if mm and mm.group(0) in spec.values:
                return stripped, spec.values[mm.group(0)]
        return stripped, spec.ipa_values.get(m.group(0), m.group(0))


@functools.lru_cache(maxsize=None)
def _multiline(pattern: str) -> re.Pattern:
    """``pattern`` with ^/$ at line ends: a match in one symbol is a match in the joined symbols (a
    pattern that could also match across a line break only costs a full apply, never a skipped rule)."""
    if "\\A" in pattern or "\\Z" in pattern:
        return re.compile("")  # matches anything: always apply
    return re.compile(pattern, re.MULTILINE)


def _apply(rule: Rule, items: list[tuple[str, dict]]) -> list[tuple[str, dict]]:
    out: list[tuple[str, dict]] = []
    for i, (sym, attrs) in enumerate(items):
        prev = items[i - 1][0] if i > 0 else ""
        nxt = items[i + 1][0] if i + 1 < len(items) else ""
        if (rule.prev is not None and not rule.prev.search(prev)) or (
            rule.next is not None and not rule.next.search(nxt)
        ) or (rule.stressed is not None and ("stress" in attrs) != rule.stressed):
            out.append((sym, attrs))
            continue
        new = rule.match.sub(rule.replace, sym)
        if new == sym:
            out.append((sym, attrs))
            continue
        parts = new.split()
        if len(parts) == 1:
            out.append((parts[0], attrs))
        elif parts:
            syl = [p for p in parts if is_syllabic(p)]
            for p in parts:  # a split token's tone/stress belongs to its syllabic parts (or its last part)
                keep = (p in syl) if syl else (p is parts[-1])
                out.append((p, dict(attrs) if keep else {}))
    return out


def _geminate(items: list[tuple[str, dict]]) -> list[tuple[str, dict]]:
    """Gemination as one long consonant: `tt`, `t t`, `t tː` or `t t t` -> `tː` (vowels are left alone;
    espeak-ng's Arabic doubles a sun letter after al- as `s sː` or `z z z`)."""
    out: list[tuple[str, dict]] = []
    for sym, attrs in items:
        half = len(sym) // 2
        if len(sym) % 2 == 0 and half and sym[:half] == sym[half:] and not is_syllabic(sym[:half]):
            sym = sym[:half] + "ː"
        base = sym.removesuffix("ː")
        if out and base and out[-1][0].removesuffix("ː") == base and not is_syllabic(base):
            out[-1] = (base + "ː", {**out[-1][1], **attrs})
            continue
        out.append((sym, attrs))
    return out


def _place_attrs(items: list[tuple[str, dict]]) -> list[PhoneToken]:
    """Stress that landed on a consonant moves to the next syllabic phone of the word."""
    items = [(s, dict(a)) for s, a in items]
    for i, (sym, attrs) in enumerate(items):
        if "stress" in attrs and not is_syllabic(sym):
            for j in range(i + 1, len(items)):
                if is_syllabic(items[j][0]):
                    items[j][1].setdefault("stress", attrs["stress"])
                    break
            del attrs["stress"]
    return [PhoneToken(s, a) for s, a in items]
