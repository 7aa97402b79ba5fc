"""Given phone labels (a timings file's phones tier, or ``--phones``) in any notation -> the pack's IPA.

The notation (IPA, ARPAbet, SAMPA, X-SAMPA) is detected or named (``visemes.lang_packs.notation``);
each label becomes the pack's own symbol (``AY1`` -> ``a ɪ`` in en-US, the interval split evenly, as
the pack's G2P writes the diphthong), with stress kept as an attribute. A label the notation cannot
read is an UnknownPhoneError naming it, never a silent gap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from visemes.core.errors import TimelineError, TranscriptError
from visemes.core.timeline import PHONES, Alignment, Interval, PhoneToken, Tier, Transcript, WordPhones
from visemes.core.textgrid import canonical_tier_name
from visemes.lang_packs.notation import DISPLAY, NOTATIONS, Detection, Phone, convert, pack_symbols

NOTATION_CHOICES: tuple[str, ...] = ("auto",) + NOTATIONS


@dataclass(frozen=True)
class Relabelled:
    alignment: Alignment
    detection: Detection
    detected: bool

    @property
    def message(self) -> str:
        return f"phone labels: {self.detection.describe(self.detected)}"


def select_phones_tier(alignment: Alignment, tier_name: str | None, source: str = "the timings") -> Alignment:
    """The alignment with tier ``tier_name`` as its phones tier (None: the phones/phone tier it has)."""
    if tier_name is None:
        if not alignment.has_tier(PHONES):
            raise TimelineError(
                f"{source} has no phones tier (tiers: {', '.join(alignment.tier_names) or 'none'}); name the tier "
                "that holds the phones with --phones-tier NAME."
            )
        return alignment
    wanted = [t for t in alignment.tiers if t.name == tier_name or t.name == canonical_tier_name(tier_name)]
    if not wanted:
        raise TimelineError(
            f"{source} has no tier {tier_name!r}; its tiers are {', '.join(alignment.tier_names) or 'none'}."
        )
    tier = wanted[0]
    others = tuple(t for t in alignment.tiers if t.name not in (tier.name, PHONES))
    return Alignment(others + (Tier(PHONES, tier.intervals),), alignment.duration, alignment.meta)


def _lang_of(pack: Any) -> str:
    return str(getattr(pack, "code", "") or "")


def _symbols(phone: Phone, pack: Any) -> tuple[str, ...]:
    return pack_symbols(phone.ipa, getattr(pack, "inventory", {}) or {})


def relabel(alignment: Alignment, pack: Any, notation: str = "auto") -> Relabelled:
    """Phones tier labels -> the pack's IPA symbols; a diphthong the pack writes as two vowels is split
    into two intervals of equal length."""
    phones = alignment.phones
    converted, found = convert([iv.label for iv in phones], notation, _lang_of(pack))
    out: list[Interval] = []
    for iv, phone in zip(phones, converted):
        if phone is None:  # read_textgrid drops silence already; a JSON alignment may hold some
            continue
        parts = _symbols(phone, pack)
        step = (iv.end - iv.start) / len(parts)
        for k, symbol in enumerate(parts):
            attrs = dict(iv.attrs)
            if phone.stress and k == 0:
                attrs["stress"] = phone.stress
            end = iv.end if k == len(parts) - 1 else iv.start + step * (k + 1)
            out.append(Interval(iv.start + step * k, end, symbol, attrs))
    if not out:
        raise TimelineError("The phones tier holds only silence; nothing to animate.")
    relabelled = alignment.with_tier(Tier(PHONES, tuple(out))).with_meta(phone_notation=found.notation)
    return Relabelled(relabelled, found, notation == "auto")


def phones_transcript(phones: str, pack: Any, notation: str = "auto", lang: str | None = None) -> tuple[Transcript, Detection]:
    """A ``--phones`` string (labels separated by spaces, `` | `` between words) in any notation."""
    words = [chunk.split() for line in phones.splitlines() for chunk in line.split("|")]
    words = [w for w in words if w]
    if not words:
        raise TranscriptError("The phones are empty: give phones separated by spaces, ' | ' between words.")
    flat = [lab for w in words for lab in w]
    converted, found = convert(flat, notation, _lang_of(pack))
    it = iter(converted)
    out_words = []
    for labels in words:
        tokens: list[PhoneToken] = []
        for _ in labels:
            phone = next(it)
            if phone is None:
                continue
            for k, symbol in enumerate(_symbols(phone, pack)):
                tokens.append(PhoneToken(symbol, {"stress": phone.stress} if phone.stress and k == 0 else {}))
        if tokens:
            out_words.append(WordPhones("".join(t.symbol for t in tokens), tuple(tokens)))
    if not out_words:
        raise TranscriptError("The phones are all silence labels; give the phones spoken.")
    return Transcript(tuple(out_words), lang or _lang_of(pack) or None), found


def describe(found: Detection, detected: bool) -> str:
    return f"phone labels: {found.describe(detected)}"


__all__ = ["DISPLAY", "NOTATION_CHOICES", "Relabelled", "describe", "phones_transcript", "relabel", "select_phones_tier"]
