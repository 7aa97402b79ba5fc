"""The two corpus jobs the runner does: ``align-corpus`` (timings out) and ``animate-corpus`` (curves out).

Both align the same way (:mod:`visemes.pipeline.runner`: pooled adaptation with the built-in aligner)
and read transcripts the same way, so an ``animate-corpus`` file carries exactly the alignment
``align-corpus`` gives it; they differ in what :meth:`finish` writes and where
(:mod:`visemes.pipeline.staging`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from visemes import lang_packs
from visemes.alignment.base import Aligner, get_aligner
from visemes.alignment.transcripts import TRANSCRIPT_EXTENSIONS, read_transcript_file
from visemes.core.atomic import atomic_write_text
from visemes.core.curves import check_fps
from visemes.core.errors import InputError, PartialExportError, TranscriptError
from visemes.core.textgrid import write_textgrid
from visemes.core.timeline import Transcript
from visemes.core.vocabulary import check_set
from visemes.formats import DEFAULT_FORMATS, FORMATS, expand_formats
from visemes.pipeline.animator import AnimationResult, animate, load_pack
from visemes.pipeline.corpus import CorpusItem, CorpusReport
from visemes.pipeline.qa import aligner_flags
from visemes.pipeline.runner import Aligned, Progress, check_aligner, run_corpus
from visemes.pipeline.staging import FilesLayout, FolderLayout

#: What ``align-corpus`` writes: an alignment has no curves, so only these of visemes.formats apply.
#: ``json`` is the bare alignment document (``Alignment.to_json``), which eval-align and the json reader take.
ALIGN_FORMATS = ("textgrid", "json")


def _transcript_of(item: CorpusItem, *, ipa: bool, lang: str | None) -> Transcript:
    if item.transcript is None:
        exts = " or ".join(TRANSCRIPT_EXTENSIONS)
        raise TranscriptError(f"No transcript beside {item.audio.name}; add {Path(item.rel).name}{exts} next to it.")
    pack = None if ipa or not lang else lang_packs.load(lang)  # loaded once per process (cached)
    return read_transcript_file(item.transcript, ipa=ipa, lang=lang, pack=pack)


def align_formats(spec: str | Sequence[str]) -> tuple[str, ...]:
    """``"textgrid,json"`` -> format names (visemes.formats owns the names); only alignment formats."""
    names = expand_formats(spec if isinstance(spec, str) else ",".join(spec))
    other = [n for n in names if n not in ALIGN_FORMATS]
    if other:
        raise InputError(f"align-corpus writes {' and '.join(ALIGN_FORMATS)} (alignments only), not {', '.join(other)}; "
                         "animate-corpus writes the other formats.")
    return tuple(names)


@dataclass(frozen=True)
class AlignJob:
    """``align-corpus``: ``OUT/<rel>.TextGrid`` and/or ``OUT/<rel>.json`` per file."""

    aligner: Aligner
    lang: str | None = None
    ipa: bool = False
    formats: tuple[str, ...] = ("textgrid",)
    name: str = "align-corpus"

    @property
    def layout(self) -> FilesLayout:
        return FilesLayout(tuple(FORMATS[f].suffix for f in self.formats))

    def check(self) -> None:
        if not self.ipa and not self.lang:
            raise InputError("Give --lang CODE to phonemize the corpus's text transcripts, or --ipa for IPA ones.")
        check_aligner(self.aligner)
        if not self.ipa:
            lang_packs.load(self.lang or "")  # an unknown language fails once, here, not once per file

    def stamp(self) -> Mapping[str, Any]:
        return {"aligner": self.aligner.name, "lang": self.lang, "ipa": self.ipa, "formats": list(self.formats)}

    def needs_alignment(self, item: CorpusItem) -> bool:
        return True

    def transcript(self, item: CorpusItem) -> Transcript:
        return _transcript_of(item, ipa=self.ipa, lang=self.lang)

    def finish(self, item: CorpusItem, aligned: Aligned | None, staging: Path, stem: str) -> Mapping[str, Any]:
        assert aligned is not None  # every file of this job is aligned
        alignment = aligned.alignment
        facts = {"source": item.audio.name, "aligner": self.aligner.name, "lang": self.lang}
        alignment = alignment.with_meta(**{k: v for k, v in facts.items() if v and k not in alignment.meta})
        for fmt in self.formats:
            path = staging / (stem + FORMATS[fmt].suffix)
            if fmt == "textgrid":
                write_textgrid(alignment, path, confidence_tier=True)
            else:
                atomic_write_text(path, alignment.to_json() + "\n")
        confidence = alignment.meta.get("confidence")
        return {"duration": alignment.duration,
                "confidence": float(confidence) if isinstance(confidence, (int, float)) else None,
                "qa_flags": [name for name, _ in aligner_flags(dict(alignment.meta))]}


@dataclass(frozen=True)
class AnimateOptions:
    """What ``animate-corpus`` makes of each file (recorded in its summary.json: other options redo it)."""

    lang: str
    fps: float = 30.0
    viseme_set: str = "oculus"
    formats: tuple[str, ...] = DEFAULT_FORMATS
    adapter: str | None = None
    use_model: bool | None = None  # None: the neural model if model or adapter is given, else the rules
    model: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["formats"] = list(self.formats)
        return out


@dataclass(frozen=True)
class AnimateJob:
    """``animate-corpus``: ``OUT/<rel>/visemes.<format>`` + ``summary.json`` per file.

    Files with timings beside them (``<rel>.TextGrid``) are animated on those; the others are aligned
    (pooled with the whole corpus) and animated on the alignment, with QA as for a single file.
    """

    options: AnimateOptions
    aligner: Aligner = field(default_factory=lambda: get_aligner("builtin"))
    name: str = "animate-corpus"

    @property
    def layout(self) -> FolderLayout:
        return FolderLayout("visemes")

    def check(self) -> None:
        check_fps(self.options.fps)
        check_set(self.options.viseme_set)
        expand_formats(",".join(self.options.formats), viseme_set=self.options.viseme_set)
        if self.options.adapter is not None and self.options.use_model is False:
            raise InputError("--adapter needs the neural model; drop --no-model (the coarticulation model has no adapters).")
        load_pack(self.options.lang)  # an unknown language fails once, here, not once per file
        check_aligner(self.aligner)

    def stamp(self) -> Mapping[str, Any]:
        return self.options.to_dict()

    def needs_alignment(self, item: CorpusItem) -> bool:
        return item.timings is None

    def transcript(self, item: CorpusItem) -> Transcript:
        if item.transcript is None:
            raise TranscriptError(
                f"No transcript for {item.audio.name}: put the words in {Path(item.rel).name}.txt (or timings in "
                f"{Path(item.rel).name}.TextGrid) beside it."
            )
        return _transcript_of(item, ipa=False, lang=self.options.lang)

    def finish(self, item: CorpusItem, aligned: Aligned | None, staging: Path, stem: str) -> Mapping[str, Any]:
        o = self.options
        result = animate_item(item, aligned, o)
        try:
            written = result.save(staging, o.formats, stem=stem, summary=False)
        except PartialExportError as exc:  # the formats that could be written are kept; the report names the rest
            summary = result.summary(exc.written)
            summary["failed_outputs"] = exc.failed
            summary["qa_flags"] = [*summary["qa_flags"], "export_failed"]
            summary["qa_notes"] = [*summary["qa_notes"], str(exc)]
            return summary
        return result.summary(written)


def animate_item(item: CorpusItem, aligned: Aligned | None, options: AnimateOptions,
                 name: str | None = None) -> AnimationResult:
    """One corpus file animated as ``animate-corpus`` animates it: on its given timings (``aligned`` None)
    or on the runner's pooled alignment. The one place that call is made, so other front ends of the
    runner (``visemes serve``) give the same curves. ``name``: the result's name (default: the audio's stem)."""
    o = options
    common: dict[str, Any] = {"lang": o.lang, "fps": o.fps, "viseme_set": o.viseme_set,
                              "use_model": o.use_model, "model": o.model, "adapter": o.adapter, "name": name}
    if aligned is None:
        return animate(item.audio, alignment=item.timings, **common)
    return animate(item.audio, alignment=aligned.alignment, aligned_to=aligned.transcript, **common)


# --- the front doors ------------------------------------------------------------------------------


def align_corpus(in_dir: str | os.PathLike, out_dir: str | os.PathLike, aligner: Aligner, *, lang: str | None = None,
                 ipa: bool = False, formats: str | Sequence[str] = ("textgrid",), **run: Any) -> CorpusReport:
    """Align every file of the corpus in ``in_dir`` into ``out_dir`` (``run``: see :func:`run_corpus`)."""
    return run_corpus(in_dir, out_dir, AlignJob(aligner, lang, ipa, align_formats(formats)), **run)


def animate_corpus(in_dir: str | os.PathLike, out_dir: str | os.PathLike, options: AnimateOptions, *,
                   aligner: Aligner | None = None, progress: Progress | None = None, **run: Any) -> CorpusReport:
    """Animate every file of the corpus in ``in_dir`` into ``out_dir`` (``run``: see :func:`run_corpus`)."""
    job = AnimateJob(options) if aligner is None else AnimateJob(options, aligner)
    return run_corpus(in_dir, out_dir, job, progress=progress, **run)
