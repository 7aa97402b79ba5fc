"""The timeline data model: immutable, validated intervals, tiers and alignments.

Rules (checked when an object is built, never with ``assert``):

* an interval has finite ``0 <= start < end`` and a non-empty label;
* a tier's intervals are ordered and do not overlap (touching is fine);
* silence is a *gap* between intervals, never an interval labelled "sil" in words/phones tiers;
* an alignment's tiers end no later than its ``duration``.

Times are seconds (float). Start and end are stored, not start and duration, so that boundaries shared
by neighbours stay bit-identical through round-trips.
"""

from __future__ import annotations

import bisect
import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Union

from visemes.core.errors import TimelineError, TranscriptError

FORMAT_VERSION = 1
#: Tolerance for "touching" intervals and for "inside the duration" checks (seconds).
TIME_EPSILON = 1e-6
#: Labels that mean "no speech" in files from other tools (TextGrids, Rhubarb, MFA, lab corpora),
#: compared case-insensitively after stripping spaces. Read as gaps, never as phones or words.
SILENCE_LABELS: frozenset[str] = frozenset({"", "sil", "sp", "spn", "<eps>", "<sil>", "[sil]", "silence", "#"})

AttrValue = Union[str, int, float, bool]

#: Longest timeline accepted (seconds): a claimed duration is checked against it before anything is
#: allocated per frame or per sample (a 4 KB file claiming 1e9 s would otherwise ask for hundreds of GiB).
MAX_DURATION_S = 6 * 3600.0


def read_user_text(path: Path, error: type[Exception], hint: str, *, encoding: str = "utf-8") -> str:
    """The text of a file a user gave; unreadable or non-UTF-8 files become ``error`` (``hint``: what to do)."""
    try:
        return path.read_text(encoding=encoding)
    except OSError as exc:
        raise error(f"Cannot read {path}: {exc.strerror or exc}.") from None
    except UnicodeDecodeError:
        raise error(f"{path} is not UTF-8 text; {hint}.") from None


def loads_json(text: str, source: str, error: type[Exception] = TimelineError,
               hint: str = "give a file written by visemes") -> Any:
    """``json.loads`` for files from users: deep nesting, huge integers and bad syntax become ``error``."""
    try:
        return json.loads(text)
    except RecursionError:  # the C decoder recurses once per nesting level
        raise error(f"{source} nests JSON arrays or objects too deeply; {hint}.") from None
    except json.JSONDecodeError as exc:
        raise error(f"{source} is not valid JSON ({exc}); {hint}.") from None
    except ValueError:  # an integer longer than Python's digit limit (its advice to raise the limit misleads)
        raise error(f"{source} holds a number with thousands of digits; it is not valid data; {hint}.") from None


def _field(data: Any, key: str, where: str, required: bool = True) -> Any:
    if not isinstance(data, Mapping):
        raise TimelineError(f"{where} must be a JSON object, got {_kind(data)}.")
    if key not in data:
        if required:
            raise TimelineError(f"{where} lacks the key {key!r}.")
        return None
    return data[key]


def _number(value: Any, what: str) -> float:
    """A JSON number (not a bool, not a string) as a finite float."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TimelineError(f"{what} must be a number of seconds, got {_kind(value)} {_short(value)}.")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise TimelineError(f"{what} must be a finite number of seconds, got {_short(value)}.")
    return number


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, (list, tuple)):
        raise TimelineError(f"{what} must be a JSON list, got {_kind(value)}.")
    return list(value)


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a bool", type(None): "null",
            int: "an integer", float: "a number"}.get(type(value), type(value).__name__)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def is_silence_label(label: str) -> bool:
    """True for a label that other tools write for silence or pauses (:data:`SILENCE_LABELS`)."""
    return label.strip().lower() in SILENCE_LABELS


def _freeze_attrs(attrs: Mapping[str, Any] | None, where: str) -> Mapping[str, AttrValue]:
    if not attrs:
        return MappingProxyType({})
    frozen: dict[str, AttrValue] = {}
    for key, value in attrs.items():
        if not isinstance(key, str) or not key:
            raise TimelineError(f"{where}: attribute names must be non-empty strings, got {key!r}.")
        if not isinstance(value, (str, int, float, bool)):
            raise TimelineError(
                f"{where}: attribute {key!r} must be a string, number or bool, got {type(value).__name__}."
            )
        frozen[key] = value
    return MappingProxyType(frozen)


@dataclass(frozen=True, eq=False)
class Interval:
    """A labelled span of time; ``attrs`` carries e.g. tone, stress, confidence."""

    start: float
    end: float
    label: str
    attrs: Mapping[str, AttrValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        start, end = float(self.start), float(self.end)
        if not (math.isfinite(start) and math.isfinite(end)):
            raise TimelineError(f"Interval {self.label!r} has a non-finite time ({start}, {end}).")
        if start < 0:
            raise TimelineError(f"Interval {self.label!r} starts before 0 s ({start}).")
        if not end > start:
            raise TimelineError(
                f"Interval {self.label!r} must have start < end, got start={start} end={end}."
            )
        if not isinstance(self.label, str) or not self.label.strip():
            raise TimelineError(
                f"Interval at {start:.3f}-{end:.3f} s has an empty label; leave silence as a gap instead."
            )
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)
        object.__setattr__(self, "attrs", _freeze_attrs(self.attrs, f"Interval {self.label!r}"))

    @property
    def duration(self) -> float:
        return self.end - self.start

    @property
    def midpoint(self) -> float:
        return 0.5 * (self.start + self.end)

    def with_label(self, label: str, **attrs: AttrValue) -> "Interval":
        return Interval(self.start, self.end, label, {**self.attrs, **attrs})

    def with_attrs(self, **attrs: AttrValue) -> "Interval":
        return Interval(self.start, self.end, self.label, {**self.attrs, **attrs})

    def shifted(self, offset: float) -> "Interval":
        return Interval(self.start + offset, self.end + offset, self.label, self.attrs)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"start": self.start, "end": self.end, "label": self.label}
        if self.attrs:
            out["attrs"] = dict(self.attrs)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "An interval record") -> "Interval":
        """Read a record of a JSON document; every field's type is checked (a null label is no phone)."""
        start = _number(_field(data, "start", where), f"{where}: 'start'")
        end = _number(_field(data, "end", where), f"{where}: 'end'")
        label = _field(data, "label", where)
        if not isinstance(label, str):
            raise TimelineError(f"{where}: 'label' must be a string, got {_kind(label)}; leave silence as a gap.")
        attrs = _field(data, "attrs", where, required=False)
        if attrs is not None and not isinstance(attrs, Mapping):
            raise TimelineError(f"{where}: 'attrs' must be an object, got {_kind(attrs)}.")
        return cls(start, end, label, attrs)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Interval):
            return NotImplemented
        return (self.start, self.end, self.label, dict(self.attrs)) == (
            other.start,
            other.end,
            other.label,
            dict(other.attrs),
        )

    def __hash__(self) -> int:
        return hash((self.start, self.end, self.label, tuple(sorted(self.attrs.items()))))

    def __reduce__(self):  # mappingproxy cannot be pickled; worker pipes need these objects
        return (Interval, (self.start, self.end, self.label, dict(self.attrs)))


@dataclass(frozen=True)
class Tier:
    """An ordered, non-overlapping sequence of intervals with a name (``words``, ``phones``...)."""

    name: str
    intervals: tuple[Interval, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise TimelineError("A tier needs a non-empty name.")
        intervals = tuple(self.intervals)
        for i, iv in enumerate(intervals):
            if not isinstance(iv, Interval):
                raise TimelineError(f"Tier {self.name!r}: item {i} is {type(iv).__name__}, not an Interval.")
        for prev, cur in zip(intervals, intervals[1:]):
            if cur.start < prev.end - TIME_EPSILON:
                raise TimelineError(
                    f"Tier {self.name!r}: interval {cur.label!r} at {cur.start:.4f} s overlaps or precedes "
                    f"{prev.label!r} ending at {prev.end:.4f} s; intervals must be ordered and disjoint."
                )
        object.__setattr__(self, "intervals", intervals)

    def __len__(self) -> int:
        return len(self.intervals)

    def __iter__(self) -> Iterator[Interval]:
        return iter(self.intervals)

    def __getitem__(self, index: int) -> Interval:
        return self.intervals[index]

    @property
    def labels(self) -> list[str]:
        return [iv.label for iv in self.intervals]

    @property
    def start(self) -> float:
        return self.intervals[0].start if self.intervals else 0.0

    @property
    def end(self) -> float:
        return self.intervals[-1].end if self.intervals else 0.0

    def at(self, time: float) -> Interval | None:
        """The interval covering ``time`` (start inclusive, end exclusive), or None in a gap."""
        starts = [iv.start for iv in self.intervals]
        i = bisect.bisect_right(starts, time) - 1
        if i >= 0 and self.intervals[i].start <= time < self.intervals[i].end:
            return self.intervals[i]
        return None

    def within(self, start: float, end: float) -> list[Interval]:
        """Intervals lying inside [start, end] (with tolerance)."""
        return [
            iv
            for iv in self.intervals
            if iv.start >= start - TIME_EPSILON and iv.end <= end + TIME_EPSILON
        ]

    def shifted(self, offset: float) -> "Tier":
        return Tier(self.name, tuple(iv.shifted(offset) for iv in self.intervals))

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "intervals": [iv.to_dict() for iv in self.intervals]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "A tier record") -> "Tier":
        name = _field(data, "name", where)
        if not isinstance(name, str) or not name:
            raise TimelineError(f"{where}: 'name' must be a non-empty string, got {_kind(name)}.")
        records = _field(data, "intervals", where, required=False)
        records = _list(records if records is not None else [], f"Tier {name!r}: 'intervals'")
        return cls(name, tuple(Interval.from_dict(d, f"Tier {name!r}, interval {i}") for i, d in enumerate(records)))


WORDS, PHONES, VISEMES = "words", "phones", "visemes"


@dataclass(frozen=True)
class Alignment:
    """A timeline: named tiers (``words``, ``phones``, optionally ``visemes``) over ``duration`` seconds.

    ``meta`` holds JSON-able facts about how it was made: language code, aligner name, viseme set,
    per-utterance confidence, QA flags.
    """

    tiers: tuple[Tier, ...]
    duration: float
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        tiers = tuple(self.tiers)
        names = [t.name for t in tiers]
        if len(set(names)) != len(names):
            raise TimelineError(f"Alignment has duplicate tier names: {names}.")
        duration = float(self.duration)
        if not math.isfinite(duration) or duration <= 0:
            raise TimelineError(f"Alignment duration must be a positive number of seconds, got {duration}.")
        if duration > MAX_DURATION_S:
            raise TimelineError(
                f"Alignment duration {duration:.6g} s is longer than {MAX_DURATION_S / 3600:g} h (the most this "
                "library animates); check the file's duration/xmax, or split the recording."
            )
        for tier in tiers:
            if tier.end > duration + TIME_EPSILON:
                raise TimelineError(
                    f"Tier {tier.name!r} ends at {tier.end:.4f} s, after the alignment's duration "
                    f"{duration:.4f} s."
                )
        object.__setattr__(self, "tiers", tiers)
        object.__setattr__(self, "duration", duration)
        object.__setattr__(self, "meta", MappingProxyType(dict(self.meta or {})))

    def __reduce__(self):
        return (Alignment, (self.tiers, self.duration, dict(self.meta)))

    # --- access -------------------------------------------------------------------------------
    @property
    def tier_names(self) -> list[str]:
        return [t.name for t in self.tiers]

    def tier(self, name: str) -> Tier:
        for t in self.tiers:
            if t.name == name:
                return t
        raise TimelineError(f"Alignment has no tier {name!r}; it has {self.tier_names}.")

    def has_tier(self, name: str) -> bool:
        return name in self.tier_names

    @property
    def words(self) -> Tier:
        return self.tier(WORDS)

    @property
    def phones(self) -> Tier:
        return self.tier(PHONES)

    @property
    def visemes(self) -> Tier:
        return self.tier(VISEMES)

    @property
    def lang(self) -> str | None:
        return self.meta.get("lang")

    # --- derivation (returns new objects) ----------------------------------------------------------
    def with_tier(self, tier: Tier) -> "Alignment":
        """A copy with ``tier`` added, or replacing the tier of the same name."""
        tiers = [t for t in self.tiers if t.name != tier.name] + [tier]
        order = {n: i for i, n in enumerate(self.tier_names)}
        tiers.sort(key=lambda t: order.get(t.name, len(order)))
        return Alignment(tuple(tiers), self.duration, self.meta)

    def with_meta(self, **meta: Any) -> "Alignment":
        return Alignment(self.tiers, self.duration, {**self.meta, **meta})

    def phones_of(self, word: Interval) -> list[Interval]:
        """Phones lying inside ``word``."""
        return self.phones.within(word.start, word.end)

    def check_nesting(self) -> None:
        """Raise if a phone straddles a word boundary or a word holds no phone."""
        if not (self.has_tier(WORDS) and self.has_tier(PHONES)):
            return
        for word in self.words:
            if not self.phones_of(word):
                raise TimelineError(f"Word {word.label!r} at {word.start:.3f} s contains no phone.")
        for phone in self.phones:
            if self.words.at(phone.midpoint) is None:
                continue  # a phone outside any word (e.g. from an IPA transcript with no word tier)
            word = self.words.at(phone.midpoint)
            if phone.start < word.start - TIME_EPSILON or phone.end > word.end + TIME_EPSILON:
                raise TimelineError(
                    f"Phone {phone.label!r} ({phone.start:.3f}-{phone.end:.3f} s) straddles the boundary "
                    f"of word {word.label!r} ({word.start:.3f}-{word.end:.3f} s)."
                )

    # --- serialization --------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "visemes.alignment",
            "format_version": FORMAT_VERSION,
            "duration": self.duration,
            "meta": dict(self.meta),
            "tiers": [t.to_dict() for t in self.tiers],
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Alignment":
        """Read a JSON document; its whole shape and every type is checked before anything is built."""
        where = "The alignment document"
        if not isinstance(data, Mapping):
            raise TimelineError(f"{where} must be a JSON object, got {_kind(data)}.")
        if data.get("format") not in (None, "visemes.alignment"):
            raise TimelineError(f"Not a visemes alignment document (format={_short(data.get('format'))}).")
        version = data.get("format_version")
        if version != FORMAT_VERSION or isinstance(version, bool):
            raise TimelineError(
                f"Alignment format_version {_short(version)} is not supported (this library reads "
                f"{FORMAT_VERSION}); upgrade visemes or re-export the file."
            )
        # the duration first: a claimed length beyond any recording is refused before the tiers are read
        duration = _number(_field(data, "duration", where), f"{where}: 'duration'")
        if duration > MAX_DURATION_S:
            raise TimelineError(
                f"{where} claims a duration of {duration:.6g} s, longer than {MAX_DURATION_S / 3600:g} h (the "
                "most this library animates); check the file, or split the recording."
            )
        records = _list(_field(data, "tiers", where), f"{where}: 'tiers'")
        tiers = tuple(Tier.from_dict(t, f"Tier record {i}") for i, t in enumerate(records))
        meta = data.get("meta")
        if meta is not None and not isinstance(meta, Mapping):
            raise TimelineError(f"{where}: 'meta' must be an object, got {_kind(meta)}.")
        return cls(tiers, duration, meta or {})

    @classmethod
    def from_json(cls, text: str, source: str = "The alignment JSON") -> "Alignment":
        data = loads_json(text, source)
        if not isinstance(data, dict):
            raise TimelineError(f"{source} must be an object at the top level, got {_kind(data)}.")
        return cls.from_dict(data)


# --- untimed transcripts (what G2P produces and aligners consume) -----------------------------------


@dataclass(frozen=True, eq=False)
class PhoneToken:
    """One IPA phone before timing; ``attrs`` carries syllable tone, stress, etc."""

    symbol: str
    attrs: Mapping[str, AttrValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.symbol, str) or not self.symbol.strip() or any(c.isspace() for c in self.symbol):
            raise TranscriptError(f"A phone must be a non-empty IPA symbol without spaces, got {self.symbol!r}.")
        object.__setattr__(self, "attrs", _freeze_attrs(self.attrs, f"Phone {self.symbol!r}"))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PhoneToken):
            return NotImplemented
        return self.symbol == other.symbol and dict(self.attrs) == dict(other.attrs)

    def __hash__(self) -> int:
        return hash((self.symbol, tuple(sorted(self.attrs.items()))))

    def __reduce__(self):
        return (PhoneToken, (self.symbol, dict(self.attrs)))

    def __repr__(self) -> str:
        extra = "".join(f" {k}={v}" for k, v in self.attrs.items())
        return f"<{self.symbol}{extra}>"


@dataclass(frozen=True)
class WordPhones:
    """A word and its phones, in order."""

    text: str
    phones: tuple[PhoneToken, ...]

    def __post_init__(self) -> None:
        phones = tuple(self.phones)
        if not phones:
            raise TranscriptError(f"Word {self.text!r} has no phones.")
        object.__setattr__(self, "phones", phones)

    @property
    def symbols(self) -> list[str]:
        return [p.symbol for p in self.phones]


@dataclass(frozen=True)
class Transcript:
    """What an aligner needs: words, each with its phone sequence, and the language (if known)."""

    words: tuple[WordPhones, ...]
    lang: str | None = None

    def __post_init__(self) -> None:
        words = tuple(self.words)
        if not words:
            raise TranscriptError("The transcript is empty: give at least one word with phones.")
        object.__setattr__(self, "words", words)

    @property
    def phones(self) -> list[PhoneToken]:
        return [p for w in self.words for p in w.phones]

    @property
    def symbols(self) -> list[str]:
        return [p.symbol for p in self.phones]

    @classmethod
    def from_ipa(cls, text: str, lang: str | None = None) -> "Transcript":
        """Parse space-separated IPA phones; words split by ``|`` or line breaks.

        With no separator the whole transcript is one word (named by its phones).
        """
        if not text or not text.strip():
            raise TranscriptError("The IPA transcript is empty: give phones separated by spaces.")
        chunks: list[str] = []
        for line in text.splitlines():
            chunks.extend(c for c in line.split("|"))
        words = []
        for chunk in chunks:
            symbols = chunk.split()
            if symbols:
                words.append(WordPhones("".join(symbols), tuple(PhoneToken(s) for s in symbols)))
        return cls(tuple(words), lang)
