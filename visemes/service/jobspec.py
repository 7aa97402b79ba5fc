"""What a job is to the runners: its :class:`JobSpec` (stored as JSON, sent to worker processes) and
the :class:`RunOutcome` a run sends back; and which jobs the corpus runner takes (:func:`pooled`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from visemes.core.audio import MEDIA_EXTENSIONS

STEM = "visemes"  # outputs are <out folder>/visemes<suffix>; a download names them after the job


@dataclass(frozen=True)
class JobSpec:
    """What to run (JSON in the database; picklable for worker processes). Paths are the server's."""

    job_dir: str
    lang: str | None
    audio: str | None = None          # an upload inside job_dir, or a server-side path inside the allowed root
    timings: str | None = None        # given timings (TextGrid / alignment JSON) uploaded into job_dir
    text: str | None = None
    phones: str | None = None
    fps: float = 30.0
    viseme_set: str = "oculus"
    use_model: bool = False  # the rules measure closer to real mouths (README, docs/benchmarks.md)
    model: str | None = None          # other weights than the shipped ones (a checked server-side path)
    adapter: str | None = None        # a model adapter (a checked server-side path)
    formats: tuple[str, ...] = ("json",)
    plot: bool = False
    preview: bool = False
    name: str = "visemes"             # what downloads are called (sanitised); never a path

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["formats"] = list(self.formats)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "JobSpec":
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["formats"] = tuple(known.get("formats", ("json",)))
        return cls(**known)


@dataclass(frozen=True)
class RunOutcome:
    """What a run sends back: small (a summary), never per-frame data."""

    ok: bool
    output_dir: str | None = None      # the out-* folder name inside the job folder
    summary: dict[str, Any] | None = None
    timings: dict[str, float] = field(default_factory=dict)
    error_type: str | None = None
    error: str | None = None


def pooled(spec: JobSpec) -> bool:
    """Whether the job is one ``animate-corpus`` could run: audio the corpus reads (its MEDIA_EXTENSIONS: audio files and videos) with
    a text transcript or given timings, and a language. Those run through the corpus runner; a batch's
    such jobs in one language are aligned together (pooled adaptation)."""
    return (spec.audio is not None and Path(spec.audio).suffix.lower() in MEDIA_EXTENSIONS and spec.phones is None
            and bool(spec.lang) and (spec.text is not None or spec.timings is not None))


def pool_key(spec: JobSpec) -> str | None:
    """Jobs of one batch with the same key run as one corpus (None: the job runs on its own)."""
    return spec.lang if pooled(spec) else None
