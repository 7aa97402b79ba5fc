"""One exception tree for the whole distribution.

Every error the library raises on purpose derives from :class:`VisemesError`, so callers can catch one
type. Each message says what was wrong *and* what to do next; build messages with that in mind.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from pathlib import Path


class VisemesError(Exception):
    """Root of every error raised on purpose by visemes, lang_packs, alignment and models."""


class InputError(VisemesError, ValueError):
    """Bad user input: arguments, text, phones, option values."""


class TimelineError(InputError):
    """An interval, tier or alignment that breaks the timeline rules (order, overlap, bounds)."""


class TranscriptError(InputError):
    """Empty, unusable or unsupported text or phone transcript."""


class UnknownPhoneError(TranscriptError):
    """Phone labels (IPA, ARPAbet, SAMPA, X-SAMPA) that the chosen notation cannot read; names them."""

    def __init__(self, labels: Iterable[str], notation: str, hint: str = ""):
        self.labels = tuple(dict.fromkeys(labels))
        self.notation = notation
        shown = ", ".join(repr(lab) for lab in self.labels[:8]) + (" ..." if len(self.labels) > 8 else "")
        super().__init__(
            f"Unknown {notation} phone label{'s' if len(self.labels) > 1 else ''} {shown}: "
            + (hint or "fix the labels, or name the notation they are written in (--notation ipa|arpabet|sampa|x-sampa).")
        )


class UnknownLanguageError(InputError, LookupError):
    """A language or dialect code no pack (and no espeak-ng voice) provides."""

    def __init__(self, code: str, available: Iterable[str], names: Mapping[str, str] | None = None):
        self.code = code
        self.available = sorted(set(available))
        # a language *name* ("mandarin", "Egyptian") finds packs whose name contains it
        by_name = sorted((c for c, name in (names or {}).items() if code.strip() and code.strip().lower() in name.lower()), key=len)
        close = list(dict.fromkeys(by_name + closest_matches(code, self.available)))[:5]
        hint = f" Closest available codes: {', '.join(close)}." if close else ""
        super().__init__(
            f"Unknown language code {code!r}.{hint} Run `visemes langs` to list every available pack."
        )


class PackError(VisemesError):
    """A malformed language pack; the message names the file and the key."""

    def __init__(self, source: str, key: str, problem: str):
        self.source = source
        self.key = key
        self.problem = problem
        super().__init__(f"{source}: {key}: {problem}")


class G2PError(VisemesError):
    """Text-to-phoneme conversion failed (backend missing, or it produced nothing usable)."""


class BackendUnavailableError(VisemesError):
    """A requested backend (G2P, aligner, cluster engine) is not installed or cannot run here."""


class AudioError(InputError):
    """Audio that cannot be read or used: empty, corrupt, non-finite, unsupported rate or format."""


class AlignmentError(VisemesError):
    """The aligner could not produce an alignment for this audio and transcript."""


class ModelError(VisemesError):
    """Missing, truncated or incompatible model weights or configuration."""


class AdapterMismatchError(ModelError):
    """An adapter that was trained for a different base model."""


class ExportError(VisemesError):
    """An output could not be written (or read back) in the requested format."""


class OutputWriteError(ExportError):
    """The file system refused an output (full disk, read-only folder, I/O error): it concerns every output
    of the set, so the set is abandoned and nothing of it is left (run again once the cause is fixed)."""


class PartialExportError(ExportError):
    """Some outputs could not be written; the others were (each output stands alone, so one format that
    fails does not cost the rest). ``written``: the paths written; ``failed``: output name -> reason."""

    def __init__(self, written: Iterable[object], failed: Mapping[str, str]):
        self.written = list(written)
        self.failed = dict(failed)
        done = ", ".join(Path(str(p)).name for p in self.written) or "nothing"
        reasons = "; ".join(f"{name}: {reason}" for name, reason in self.failed.items())
        super().__init__(f"Could not write {', '.join(self.failed)} ({reasons}). Written: {done}.")


class OutputExistsError(ExportError, FileExistsError):
    """Refusing to overwrite an existing output without an explicit overwrite flag."""

    def __init__(self, path: object):
        self.path = path
        super().__init__(f"{path} already exists; pass --overwrite (overwrite=True) to replace it.")


def closest_matches(word: str, candidates: Iterable[str], n: int = 5) -> list[str]:
    """Closest candidates to ``word``, case-insensitively, for "did you mean" hints."""
    candidates = list(candidates)
    lowered = {c.lower(): c for c in candidates}
    hits = difflib.get_close_matches(word.lower(), list(lowered), n=n, cutoff=0.5)
    prefix = [c for c in candidates if c.lower().split("-")[0] == word.lower().split("-")[0]]
    ordered = list(dict.fromkeys(prefix + [lowered[h] for h in hits]))
    return ordered[:n]
