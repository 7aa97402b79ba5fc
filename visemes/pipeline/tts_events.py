"""TTS timing events -> phone onsets, for streaming lip sync driven by a speech synthesizer.

Every reader returns :class:`Onset` items in time order: at ``time`` seconds the mouth starts on
``phone`` (an IPA symbol) or rests (``phone`` is None); the last item of a complete file is the end
of speech. What each synthesizer reports:

* **Amazon Polly** speech marks (JSON lines ``{"time": ms, "type": "viseme", "value": "p"}``): Polly's
  17 visemes; each becomes a representative IPA phone of its class (``POLLY_PHONES``).
* **Azure** ``VisemeReceived`` events (JSON list or lines of ``{"audio_offset": ticks of 100 ns,
  "viseme_id": 0..21}``; the SDK's ``AudioOffset``/``VisemeId`` spellings too): Azure's 22 viseme ids,
  likewise (``AZURE_PHONES``).
* **espeak-ng** phoneme events (JSON lines ``{"time": s, "type": "phoneme", "value": IPA}``, with
  ``"type": "end"`` at the end; :func:`espeak_event_lines` writes them from
  :func:`visemes.speech.synthesis.synthesize`): real phones.
* **Piper** phoneme durations (one JSON object: ``phonemes`` or ``phoneme_ids`` with the voice's
  ``phoneme_id_map``, and ``phoneme_id_samples`` with ``sample_rate``, or ``durations`` in seconds):
  real phones; Piper's pad/BOS/EOS ids and pauses are rests, pad time belongs to the phone before.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from visemes.core.errors import InputError
from visemes.speech.espeak import EspeakEvent

FORMATS: tuple[str, ...] = ("polly", "azure", "espeak", "piper")

#: Polly viseme -> a phone of its class (https://docs.aws.amazon.com/polly/latest/dg/ph-table-english-us.html)
POLLY_PHONES: Mapping[str, str | None] = {
    "sil": None, "p": "p", "t": "t", "S": "ʃ", "T": "θ", "f": "f", "k": "k", "i": "i", "r": "ɹ", "s": "s",
    "u": "u", "@": "ə", "a": "a", "e": "e", "E": "ɛ", "o": "o", "O": "ɔ",
}
#: Azure viseme id -> a phone of its class (Azure's en-US viseme table)
AZURE_PHONES: tuple[str | None, ...] = (
    None, "ə", "ɑ", "ɔ", "ɛ", "ɝ", "i", "u", "o", "a", "ɔ", "a", "h", "ɹ", "l", "s", "ʃ", "ð", "f", "t", "k", "p",
)
_PIPER_REST = frozenset({"_", "^", "$", " ", ",", ".", "!", "?", ";", ":", "—", "…"})
_PIPER_PAD = "_"


@dataclass(frozen=True)
class Onset:
    """From ``time`` (seconds) the mouth is on ``phone`` (IPA), or at rest when ``phone`` is None."""

    time: float
    phone: str | None


def _lines(text: str) -> list[Any]:
    text = text.strip()
    if not text:
        return []
    if text[0] == "[":
        data = json.loads(text)
        if not isinstance(data, list):
            raise InputError("A JSON event file must hold a list of events or one event per line.")
        return data
    try:
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    except json.JSONDecodeError as exc:
        raise InputError(f"Event file line is not JSON ({exc}); give one JSON object per line.") from None


def _ordered(onsets: list[Onset], what: str) -> list[Onset]:
    for a, b in zip(onsets, onsets[1:]):
        if b.time < a.time - 1e-9:
            raise InputError(f"{what} events go back in time ({a.time:.3f} s then {b.time:.3f} s); give them in order.")
    return onsets


def polly_onsets(text: str) -> list[Onset]:
    out = []
    for mark in _lines(text):
        if not isinstance(mark, dict) or mark.get("type") != "viseme":
            continue
        value = mark.get("value")
        if value not in POLLY_PHONES:
            raise InputError(f"Unknown Polly viseme {value!r}; expected one of {sorted(POLLY_PHONES)}.")
        out.append(Onset(float(mark["time"]) / 1000.0, POLLY_PHONES[value]))
    return _ordered(out, "Polly")


def azure_onsets(text: str) -> list[Onset]:
    out = []
    for ev in _lines(text):
        if not isinstance(ev, dict):
            raise InputError("Azure events must be JSON objects with audio_offset and viseme_id.")
        offset = ev.get("audio_offset", ev.get("AudioOffset"))
        vid = ev.get("viseme_id", ev.get("VisemeId"))
        if offset is None or not isinstance(vid, int) or not 0 <= vid < len(AZURE_PHONES):
            raise InputError(f"Azure event {ev} needs audio_offset (100 ns ticks) and viseme_id 0..21.")
        out.append(Onset(float(offset) / 1e7, AZURE_PHONES[vid]))
    return _ordered(out, "Azure")


def espeak_onsets(text: str) -> list[Onset]:
    out = []
    for ev in _lines(text):
        kind = ev.get("type") if isinstance(ev, dict) else None
        if kind == "phoneme":
            name = str(ev.get("value", "")).strip()
            out.append(Onset(float(ev["time"]), name or None))
        elif kind == "end":
            out.append(Onset(float(ev["time"]), None))
    return _ordered(out, "espeak-ng")


def espeak_event_lines(events: Sequence[EspeakEvent], sample_rate: int, n_samples: int) -> list[str]:
    """espeak-ng synthesis events as the JSON lines :func:`espeak_onsets` reads (phonemes and the end)."""
    lines = [json.dumps({"time": e.sample / sample_rate, "type": "phoneme", "value": e.name}, ensure_ascii=False)
             for e in events if e.kind == "phoneme"]
    lines.append(json.dumps({"time": n_samples / sample_rate, "type": "end"}))
    return lines


def piper_onsets(text: str) -> list[Onset]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"A Piper alignment file is one JSON object ({exc}).") from None
    if not isinstance(doc, dict):
        raise InputError("A Piper alignment file is one JSON object with phonemes/phoneme_ids and durations.")
    phonemes = doc.get("phonemes")
    if phonemes is None:
        ids, id_map = doc.get("phoneme_ids"), doc.get("phoneme_id_map")
        if ids is None or not isinstance(id_map, dict):
            raise InputError("Piper alignment: give 'phonemes', or 'phoneme_ids' with the voice's 'phoneme_id_map'.")
        by_id = {int(i): sym for sym, idx in id_map.items() for i in (idx if isinstance(idx, list) else [idx])}
        phonemes = [by_id.get(int(i), _PIPER_PAD) for i in ids]
    if "durations" in doc:
        durations = [float(d) for d in doc["durations"]]
    elif "phoneme_id_samples" in doc and "sample_rate" in doc:
        durations = [float(n) / float(doc["sample_rate"]) for n in doc["phoneme_id_samples"]]
    else:
        raise InputError("Piper alignment: give 'phoneme_id_samples' with 'sample_rate', or 'durations' in seconds.")
    if len(durations) != len(phonemes):
        raise InputError(f"Piper alignment: {len(phonemes)} phonemes but {len(durations)} durations.")
    out: list[Onset] = []
    t = 0.0
    for sym, d in zip(phonemes, durations):
        if d < 0:
            raise InputError(f"Piper alignment: negative duration {d} for {sym!r}.")
        if sym == _PIPER_PAD and out:
            pass  # pad time belongs to the phone (or rest) before it: no new onset
        else:
            phone = None if sym in _PIPER_REST else str(sym)
            if not out or out[-1].phone != phone or phone is not None:
                out.append(Onset(t, phone))
        t += d
    out.append(Onset(t, None))
    return out


_READERS = {"polly": polly_onsets, "azure": azure_onsets, "espeak": espeak_onsets, "piper": piper_onsets}


def guess_format(text: str) -> str:
    """Which synthesizer wrote ``text`` (from its keys)."""
    head = text.lstrip()[:2000]
    if '"phoneme_id' in head or '"phonemes"' in head:
        return "piper"
    if "udio_offset" in head or "AudioOffset" in head or "VisemeId" in head or "viseme_id" in head:
        return "azure"
    if '"viseme"' in head:
        return "polly"
    if '"phoneme"' in head:
        return "espeak"
    raise InputError("Cannot tell the event format; give --format (one of " + ", ".join(FORMATS) + ").")


def read_onsets(text: str, fmt: str | None = None) -> list[Onset]:
    """Onsets from an event file's text in ``fmt`` (guessed when None)."""
    fmt = fmt or guess_format(text)
    if fmt not in _READERS:
        raise InputError(f"Unknown event format {fmt!r}; choose one of {', '.join(FORMATS)}.")
    return _READERS[fmt](text)


def onsets_from_intervals(phones: Iterable[Any], duration: float) -> list[Onset]:
    """Onsets of timed phones (``Interval``-like: start, end, label), rests in the gaps, the end last."""
    out: list[Onset] = []
    cursor = 0.0
    for p in phones:
        if p.start > cursor + 1e-9:
            out.append(Onset(cursor, None))
        out.append(Onset(float(p.start), p.label))
        cursor = float(p.end)
    if cursor < duration - 1e-9:
        out.append(Onset(cursor, None))  # a rest to the end
    out.append(Onset(max(cursor, float(duration)), None))  # the end
    return out
