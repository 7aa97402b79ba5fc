"""The job users come for: speech (or text, or timings) -> timed visemes + per-frame mouth curves -> files.

:func:`animate` composes the parts: a transcript from the language pack (``lang_packs``), timing from
the built-in aligner (``visemes.alignment.align``) or from given timings or from espeak-ng (text only), the pack's
viseme tier (``visemes.mouth.visemesets.viseme_tier``), and per-frame curves from the coarticulation
model (``visemes.mouth.coarticulation.animate_phones``, the default: it matches articulography better
than the shipped network, see docs/benchmarks.md "Mouth realism") or, with ``use_model=True``, the
shipped neural model (``visemes.models.load().predict``). It returns an :class:`AnimationResult` that saves every
export format plus a summary with QA flags (transcript mismatch, low confidence, clipped audio).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from visemes import alignment as aligners
from visemes import formats as exports
from visemes import lang_packs, models
from visemes.alignment.transcripts import check_text_fits, from_text, make_transcript
from visemes.core.atomic import all_or_nothing, atomic_write_text, check_writable
from visemes.core.audio import check_sample_rate, load_audio, validate_audio
from visemes.core.curves import MouthAnimation, check_fps
from visemes.core.errors import InputError, OutputWriteError, PartialExportError, TimelineError, TranscriptError
from visemes.core.timeline import PHONES, Alignment, Interval, Tier, Transcript
from visemes.core.vocabulary import VISEME_SETS, check_set, classes
from visemes.formats import plot as vplot
from visemes.formats import preview as vpreview
from visemes.lang_packs import LanguagePack
from visemes.mouth.coarticulation import animate_phones, params_for
from visemes.mouth.set_weights import weights_in_set
from visemes.mouth.visemesets import viseme_tier
from visemes.pipeline.phone_labels import NOTATION_CHOICES, phones_transcript, relabel, select_phones_tier
from visemes.pipeline.qa import LOW_CONFIDENCE, assess
from visemes.speech.synthesis import speak_with_pack

if TYPE_CHECKING:  # the model module imports jax; _model() loads it on first use
    from visemes.models.api import VisemeModel

SUMMARY_FORMAT_VERSION = 1
#: Timings given without audio may claim at most this much silence after their last interval: a small
#: file must not ask for hours of curves (issue 12: a 4 KB JSON claiming 6 h took minutes and gigabytes).
MAX_TRAILING_SILENCE_S = 600.0


# --- the result -----------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class AnimationResult:
    """Timed words/phones/visemes (``alignment``), per-frame curves (``animation``), and where they came from.

    What :func:`animate` and ``visemes.text_to_visemes`` return (``text``: the words, when they were given
    as text; text-only results keep the synthetic speech in ``audio``)."""

    alignment: Alignment
    animation: MouthAnimation
    audio: np.ndarray | None = field(default=None, repr=False)
    sample_rate: int | None = None
    pack: LanguagePack | None = field(default=None, repr=False)
    qa: Mapping[str, Any] = field(default_factory=dict)
    timing: str = "aligned"   # "aligned" | "given" | "synthesized"
    name: str = "visemes"     # stem for output files
    text: str | None = None

    def __repr__(self) -> str:
        a = self.alignment
        text = "" if self.text is None else f"text={_short(self.text)!r}, "
        return (
            f"AnimationResult({text}lang={self.lang!r}, viseme_set={self.viseme_set!r}, timing={self.timing!r}, "
            f"words={len(a.words) if a.has_tier('words') else 0}, phones={len(a.phones)}, "
            f"duration={a.duration:.3f}s, frames={self.animation.n_frames}@{self.fps:g}fps, "
            f"curves={self.animation.source!r})"
        )

    @property
    def visemes(self) -> Tier:
        return self.alignment.visemes

    @property
    def phones(self) -> Tier:
        return self.alignment.phones

    @property
    def curves(self) -> MouthAnimation:
        return self.animation

    @property
    def duration(self) -> float:
        return self.alignment.duration

    @property
    def lang(self) -> str | None:
        return self.alignment.meta.get("lang")

    @property
    def viseme_set(self) -> str | None:
        return self.alignment.meta.get("viseme_set")

    @property
    def fps(self) -> float:
        return self.animation.fps

    @property
    def qa_flags(self) -> list[str]:
        return list(self.qa.get("flags", ()))

    def summary(self, outputs: Sequence[str | os.PathLike] = ()) -> dict[str, Any]:
        """A JSON-able digest: sizes, confidence, QA flags, what made it, and the files written."""
        meta = self.alignment.meta
        return {
            "format": "visemes.summary",
            "format_version": SUMMARY_FORMAT_VERSION,
            "name": self.name,
            "lang": meta.get("lang"),
            "duration": round(self.duration, 4),
            "fps": self.animation.fps,
            "frames": self.animation.n_frames,
            "timing": self.timing,
            "aligner": meta.get("aligner"),
            "curves": self.animation.source,
            "viseme_set": meta.get("viseme_set"),
            "curve_viseme_set": _set_of(self.animation.visemes.channels),
            "words": len(self.alignment.words) if self.alignment.has_tier("words") else 0,
            "phones": len(self.phones),
            "visemes": len(self.visemes),
            "confidence": self.qa.get("confidence"),
            "low_confidence_share": self.qa.get("low_confidence_share"),
            "clipped_share": self.qa.get("clipped_share"),
            "voiced_seconds": self.qa.get("voiced_seconds"),
            "qa_flags": self.qa_flags,
            "qa_notes": list(self.qa.get("notes", ())),
            "outputs": [Path(p).name for p in outputs],
        }

    def save(
        self,
        out_dir: str | os.PathLike,
        formats: str | Iterable[str] = exports.DEFAULT_FORMATS,
        *,
        stem: str | None = None,
        overwrite: bool = False,
        summary: bool = True,
        plot: bool = False,
        preview: bool = False,
        protect: Iterable[str | os.PathLike] = (),
        export_options: exports.ExportOptions | None = None,
    ) -> list[Path]:
        """Write ``formats`` (see ``visemes.formats.FORMATS``) as ``out_dir/<stem><suffix>``, optionally a
        timeline plot (``<stem>.png``) and a preview video (``<stem>.mp4``), then ``<stem>.summary.json``.

        Everything is checked before anything is written; ``protect`` lists input files that must never
        be written over (even with ``overwrite``); ``export_options`` (``visemes.formats.ExportOptions``)
        adjusts the written formats. Returns the written paths. Each output is written on its own: when
        some fail, the others are still written, the summary lists the failures (``failed_outputs``) and
        :class:`~visemes.core.errors.PartialExportError` is raised at the end (``.written``, ``.failed``).
        A file system that refuses a write (full disk, read-only) leaves none of the set.
        """
        stem = stem or self.name
        out = Path(out_dir)
        chosen = exports.parse_formats(formats)
        planned = [f.path_for(out, stem) for f in chosen]
        if plot:
            planned.append(out / f"{stem}.png")
        preview_path = out / f"{stem}.mp4"
        if preview:
            preview_path = preview_path if vpreview.find_ffmpeg() else preview_path.with_suffix(".gif")
            planned.append(preview_path)
        if summary:
            planned.append(out / f"{stem}.summary.json")
        exports.check_needs(self, chosen)
        guarded = {Path(p).resolve() for p in protect}
        for path in planned:
            if path.resolve() in guarded:
                raise InputError(f"Writing {path} would overwrite an input file; choose another output folder or --stem.")
            check_writable(path, overwrite)
        # Each output stands alone: one that fails (a format that cannot hold this result, a bug in one
        # writer) does not cost the others; the summary and the PartialExportError raised after name it.
        # The file system refusing a write (full disk) concerns them all: then none of the set is left.
        paths = [f.path_for(out, stem) for f in chosen]
        parts = exports.export_parts(self, chosen, paths, export_options)
        with all_or_nothing():
            written, failed = exports.write_each(parts, chosen, paths, overwrite=overwrite)
            extras = []
            if plot:
                extras.append(("plot", lambda: self.plot(out / f"{stem}.png", overwrite=overwrite)))
            if preview:
                extras.append(("preview", lambda: self.preview(preview_path, overwrite=overwrite)))
            for name, make in extras:
                try:
                    written.append(make())
                except (OutputWriteError, OSError):
                    raise
                except Exception as exc:  # noqa: BLE001 - as for the formats
                    failed[name] = exports.failure_reason(exc)
            if summary:
                path = out / f"{stem}.summary.json"
                digest = self.summary(written + [path])
                if failed:
                    digest["failed_outputs"] = failed
                written.append(atomic_write_text(path, json.dumps(digest, ensure_ascii=False, indent=2),
                                                 overwrite=overwrite))
        if failed:
            raise PartialExportError(written, failed)
        return written

    def plot(self, path: str | os.PathLike | None = None, *, overwrite: bool = False, spectrogram: bool = False,
             **kwargs: Any) -> Path | bytes:
        """The timeline plot via :mod:`visemes.formats.plot`: waveform (or spectrogram), word/phone/viseme tiers,
        mouth curves, low-confidence phones shaded. Writes a PNG to ``path`` (returned), or returns PNG bytes."""
        common = dict(audio=self.audio, sample_rate=self.sample_rate, curves=self.animation, spectrogram=spectrogram,
                      confidence_threshold=LOW_CONFIDENCE, **kwargs)
        if path is None:
            return vplot.render_timeline(self.alignment, **common)
        return vplot.plot_timeline(self.alignment, path, overwrite=overwrite, **common)

    def preview(self, path: str | os.PathLike, *, overwrite: bool = False, size: tuple[int, int] | None = None,
                title: str | None = None, others: Sequence[tuple[str, "AnimationResult"]] = ()) -> Path:
        """A 2D mouth video of the curves with the audio (MP4; GIF without ffmpeg). ``others``: more
        ``(title, result)`` panels side by side (two languages or two adapters on the same audio)."""
        panels = [vpreview.PreviewPanel(self.animation.articulation, title or self.panel_title(), self.alignment)]
        panels += [vpreview.PreviewPanel(r.animation.articulation, t, r.alignment) for t, r in others]
        return vpreview.write_preview(path, panels, self.audio, self.sample_rate, size=size or vpreview.DEFAULT_SIZE, overwrite=overwrite)

    def panel_title(self) -> str:
        lang = self.alignment.meta.get("lang") or ""
        source = "model" if self.animation.source.startswith("model") else "coarticulation"
        adapter = self.alignment.meta.get("adapter")
        return f"{lang}  {source}" + (f" +{adapter}" if adapter else "")


# --- building blocks ------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _model(path: str | None) -> "VisemeModel":
    """The viseme model, loaded once per process (worker processes animate many files)."""
    return models.load(path)


@functools.lru_cache(maxsize=8)
def _adapter(model_path: str | None, adapter: str) -> str:
    """Load ``adapter`` (a path) into the cached model once; returns the name ``predict`` takes."""
    return _model(model_path).load_adapter(adapter)


def _check_claimed_duration(timed: Alignment) -> None:
    spoken_end = max((t.end for t in timed.tiers if len(t)), default=0.0)
    if timed.duration > spoken_end + MAX_TRAILING_SILENCE_S:
        raise TimelineError(
            f"The timings claim a duration of {timed.duration:.1f} s but their last interval ends at "
            f"{spoken_end:.1f} s; give the audio they were made for, or fix the duration (at most "
            f"{MAX_TRAILING_SILENCE_S:.0f} s of silence after the last interval without audio)."
        )


def load_pack(lang: str) -> LanguagePack:
    if not isinstance(lang, str) or not lang.strip():
        raise InputError("Give the language of the speech (--lang CODE, e.g. en-US, cmn, ar, hi); `visemes langs` lists them.")
    return lang_packs.load(lang)


def universal_pack() -> LanguagePack:
    """No language given (audio-only mode): the universal feature-based phone specs, no G2P."""
    return lang_packs.universal()


def audio_only_timings(samples: np.ndarray, rate: int, pack: LanguagePack) -> Alignment:
    """Phone-class timings recognised from the audio alone (the built-in aligner's free unit loop);
    a pack with an inventory narrows the loop to the classes and units its phones have."""
    # the aligner's modules load jax: only this path needs them
    from visemes.alignment.builtin.recognise import classes_of, recognise

    return recognise(samples, rate, classes=classes_of(pack.inventory) if pack.inventory else None,
                     inventory=tuple(pack.inventory) or None)


def read_timings(path: str | os.PathLike, phones_tier: str | None = None) -> Alignment:
    """Given timings: a Praat TextGrid (words/phones tiers) or our alignment/result JSON.

    ``phones_tier`` names the tier holding the phones when it is not called phones/phone (``phons``).
    The labels are converted from their notation later, with the pack (:func:`given_timings`)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"Timing file {path} does not exist; give a .TextGrid or an alignment .json.")
    fmt = exports.format_for_path(path)
    if fmt is None or fmt.name not in ("textgrid", "json"):
        raise InputError(f"Cannot read timings from {path.name}: give a Praat .TextGrid or a visemes alignment .json.")
    data = fmt.read(path)
    alignment = getattr(data, "alignment", data)
    if not isinstance(alignment, Alignment):
        raise TimelineError(f"{path} holds no alignment (words/phones tiers); export one with `visemes align`.")
    alignment = select_phones_tier(alignment, phones_tier, str(path))
    if not len(alignment.phones):
        raise TimelineError(f"{path} has an empty phones tier (or only silence); the timings need phones.")
    return alignment


def given_timings(alignment: Alignment, pack: Any, notation: str = "auto") -> Alignment:
    """Given timings with their phone labels (IPA, ARPAbet, SAMPA, X-SAMPA) as the pack's IPA symbols;
    ``meta["phone_notation"]`` says which notation was read (UnknownPhoneError names unreadable labels)."""
    return relabel(alignment, pack, notation).alignment


def _audio(audio: Any, sample_rate: int | None) -> tuple[np.ndarray, int, str | None]:
    """Mono float32 audio, its rate and its file name (for arrays: None)."""
    if isinstance(audio, (str, os.PathLike)):
        samples, rate = load_audio(Path(audio))
        if sample_rate is not None and check_sample_rate(sample_rate) != rate:
            raise InputError(f"{audio} is at {rate} Hz but sample_rate={sample_rate} was given; leave it out for files.")
        return samples, rate, Path(audio).stem
    if sample_rate is None:
        raise InputError("An audio array needs its sample_rate, e.g. animate(samples, 16000, text=..., lang=...).")
    rate = check_sample_rate(sample_rate)
    return validate_audio(audio, rate), rate, None


def _with_transcript_attrs(alignment: Alignment, transcript: Transcript) -> Alignment:
    """Put the transcript's phone attributes (tone, stress) on the aligned phones (aligners keep labels
    and order but may drop attributes; the model reads tone)."""
    tokens = transcript.phones
    phones = alignment.phones
    if len(tokens) != len(phones) or any(t.symbol != p.label for t, p in zip(tokens, phones)):
        return alignment
    merged = tuple(Interval(p.start, p.end, p.label, {**dict(t.attrs), **dict(p.attrs)}) for p, t in zip(phones, tokens))
    return alignment.with_tier(Tier(PHONES, merged))


def curves_for(alignment: Alignment, pack: LanguagePack, fps: float, *, use_model: bool = False, model: str | None = None,
               adapter: str | None = None, viseme_set: str = "oculus", audio: np.ndarray | None = None,
               sample_rate: int | None = None, mouth: Mapping[str, Any] | None = None) -> MouthAnimation:
    """Per-frame curves: the coarticulation model (``mouth``: overrides of its parameters, see
    :func:`visemes.mouth.coarticulation.params_for`; audio adds loudness and silence) or the shipped
    model (with an optional adapter; audio adds loudness/pitch). Viseme weights are in ``viseme_set``, by one rule on both paths: Oculus weights
    mapped with the timed phones (:func:`visemes.mouth.set_weights.weights_in_set`; the model does the
    same inside ``predict`` for a set it has no head for)."""
    if use_model:
        m = _model(model)
        name = None
        if adapter is not None:
            name = adapter if adapter in m.adapters else _adapter(model, adapter)
        return m.predict(alignment, fps=fps, adapter=name, pack=pack, audio=audio, sample_rate=sample_rate,
                         viseme_set=viseme_set)
    if adapter is not None:
        raise InputError(_ADAPTER_NEEDS_MODEL)
    anim = animate_phones(alignment.phones, pack, fps, alignment.duration, viseme_set="oculus",
                          params=params_for(pack, **dict(mouth or {})), audio=audio, sample_rate=sample_rate)
    return dataclasses.replace(anim, visemes=weights_in_set(anim.visemes, alignment.phones, pack, viseme_set))


_ADAPTER_NEEDS_MODEL = ("An adapter needs the neural model: pass use_model=True (CLI: --model, or drop --no-model); "
                        "the coarticulation model has no adapters.")


# --- the front door -------------------------------------------------------------------------------


def animate(
    audio: Any = None,
    sample_rate: int | None = None,
    *,
    text: str | None = None,
    phones: Sequence[str] | str | Transcript | None = None,
    alignment: Alignment | str | os.PathLike | None = None,
    lang: str | None = None,
    fps: float = 30.0,
    viseme_set: str = "oculus",
    use_model: bool | None = None,
    model: str | os.PathLike | None = None,
    adapter: str | os.PathLike | None = None,
    aligner: str = "builtin",
    name: str | None = None,
    aligned_to: Transcript | None = None,
    notation: str = "auto",
    phones_tier: str | None = None,
    jaw_intensity: float | None = None,
    lip_intensity: float | None = None,
    min_hold: float | None = None,
    anticipation: float | None = None,
    audio_effort: bool = True,
) -> AnimationResult:
    """Animate speech. Give one timing source:

    * ``audio`` (path or array + ``sample_rate``) with ``text`` (and ``lang``) or IPA ``phones``: aligned
      with the built-in aligner (``aligner=``);
    * ``alignment`` (an Alignment, or a .TextGrid / alignment .json path): timings given, ``audio`` optional;
    * ``text`` alone (no audio): timed by espeak-ng speech synthesis (the synthetic audio is kept);
    * ``audio`` alone (``lang`` optional): audio-only mode, phone classes recognised from the audio by the
      built-in aligner's free class loop (``visemes.alignment.builtin.recognise``).

    ``notation`` is that of the given phone labels (timings or ``phones``): ``auto`` (detected), ``ipa``,
    ``arpabet``, ``sampa`` or ``x-sampa``; ``phones_tier`` names a timings tier that holds the phones.
    The curves come from the deterministic coarticulation model; ``use_model=True`` uses the shipped
    neural model instead (``model``: other weights; ``adapter``: a model adapter, name or path; either
    implies the neural model unless ``use_model=False``). Controls of the coarticulation model (None: the
    language's defaults): ``jaw_intensity`` and ``lip_intensity`` scale jaw opening and lip
    rounding/spreading (1 = the pack's targets); ``min_hold`` is the shortest lip contact of a /p b m/
    (seconds); ``anticipation`` how far ahead lip rounding starts (seconds); ``audio_effort=False``
    ignores the audio's loudness and silences. ``aligned_to``: with an ``alignment`` that an aligner
    made from this transcript (the corpus runner's pooled alignment), its phone attributes are merged
    in and QA checks the timings as aligned ones, as if aligned here. Returns an :class:`AnimationResult`.
    """
    fps = check_fps(fps)
    check_set(viseme_set)
    if use_model is None:  # weights or an adapter ask for the neural model; otherwise the rules
        use_model = model is not None or adapter is not None
    if alignment is not None and (text is not None or phones is not None):
        raise InputError("Give timings (alignment=...) or a transcript (text/phones), not both.")
    if text is not None and phones is not None:
        raise InputError("Give the transcript as text=... or as IPA phones=..., not both.")
    if aligned_to is not None and not isinstance(alignment, Alignment):
        raise InputError("aligned_to= goes with an alignment=Alignment that was aligned to that transcript.")
    if alignment is None and text is None and phones is None and audio is None:
        raise InputError("Nothing to animate: give audio, text=... (with lang=...), IPA phones=..., or an alignment.")
    if text is not None and not isinstance(text, str):
        raise TranscriptError(f"The text must be a string, got {type(text).__name__}; give the words spoken as str.")
    if isinstance(text, str) and not text.strip():
        raise TranscriptError("The text is empty (or only whitespace); give the words spoken in the audio.")
    if notation not in NOTATION_CHOICES:
        raise InputError(f"Unknown phone notation {notation!r}; use one of {', '.join(NOTATION_CHOICES)}.")

    # Cheap checks first (language, audio, timings file), then the model (seconds to load), then the work.
    if use_model is False and adapter is not None:
        raise InputError(_ADAPTER_NEEDS_MODEL)
    controls = {"jaw_intensity": jaw_intensity, "lip_intensity": lip_intensity, "min_hold": min_hold,
                "anticipation": anticipation, "audio_effort": None if audio_effort else False}
    rule_controls = sorted(k for k, v in controls.items() if v is not None)
    if use_model and rule_controls:
        raise InputError(f"{', '.join(rule_controls)} control the coarticulation model; leave them out with "
                         "use_model=True (--model).")
    # animate()'s names -> CoarticulationParams fields
    mouth: dict[str, Any] = {"jaw_intensity": jaw_intensity, "lip_intensity": lip_intensity, "min_hold": min_hold,
                             "anticipation_span": anticipation}
    mouth = {k: v for k, v in mouth.items() if v is not None}
    if not audio_effort:
        mouth["effort"] = None
    early_pack = load_pack(lang) if lang else None
    samples: np.ndarray | None = None
    rate: int | None = None
    stem = name
    phone_notation: str | None = None  # the notation given phone labels were read in
    if audio is not None:
        samples, rate, file_stem = _audio(audio, sample_rate)
        stem = stem or file_stem
    given = None
    if alignment is not None:
        given = (select_phones_tier(alignment, phones_tier) if isinstance(alignment, Alignment)
                 else read_timings(alignment, phones_tier))
    if use_model:
        curves_model = _model(None if model is None else str(model))
        if adapter is not None and str(adapter) not in getattr(curves_model, "adapters", {}):
            _adapter(None if model is None else str(model), str(adapter))

    if alignment is not None:
        timed = given
        if not isinstance(alignment, Alignment):
            stem = stem or Path(alignment).stem
        lang = lang or timed.lang
        pack = early_pack or load_pack(lang or "")
        if aligned_to is None:  # phones an aligner made from aligned_to are that transcript's, as they are
            timed = given_timings(timed, pack, notation)
            phone_notation = timed.meta.get("phone_notation")
        if samples is None:
            _check_claimed_duration(timed)
        if samples is not None and timed.duration > len(samples) / rate + 0.05:
            raise TimelineError(
                f"The timings run to {timed.duration:.2f} s but the audio lasts {len(samples) / rate:.2f} s; "
                "give the audio these timings were made for."
            )
        timing = "given"
        if aligned_to is not None:
            timed, timing = _with_transcript_attrs(timed, aligned_to), "aligned"
    elif samples is not None and text is None and phones is None:
        pack = early_pack or universal_pack()
        timed, timing = audio_only_timings(samples, rate, pack), "audio-only"
    elif samples is not None:
        pack = early_pack
        if pack is None:
            raise InputError("Give the language (lang=... / --lang CODE): the language pack turns text into phones "
                             "and maps phones to visemes and mouth shapes.")
        if text is not None:
            check_text_fits(text, len(samples) / rate)
            transcript = from_text(text, lang, pack)
        elif isinstance(phones, str):
            transcript, found = phones_transcript(phones, pack, notation, lang)
            phone_notation = found.notation
        else:
            transcript = make_transcript(phones=phones, lang=lang)
        timed = aligners.align(samples, rate, phones=transcript, lang=lang, backend=aligner)
        timed = _with_transcript_attrs(timed, transcript)
        timing = "aligned"
    else:
        if phones is not None:
            raise InputError("IPA phones need audio to be timed; give the audio, or give text (espeak-ng times text).")
        pack = early_pack or load_pack(lang or "")
        spoken = speak_with_pack(text, pack)
        samples, rate, timed = spoken.audio, spoken.sample_rate, spoken.alignment
        timing = "synthesized"

    return finish(timed, pack, samples, rate, timing, fps=fps, viseme_set=viseme_set, use_model=use_model,
                  model=None if model is None else str(model), adapter=None if adapter is None else str(adapter),
                  name=stem, text=text, phone_notation=phone_notation, mouth=mouth)


def finish(timed: Alignment, pack: LanguagePack, samples: np.ndarray | None, rate: int | None, timing: str, *,
           fps: float, viseme_set: str, use_model: bool, model: str | None = None, adapter: str | None = None,
           name: str | None = None, text: str | None = None, phone_notation: str | None = None,
           mouth: Mapping[str, Any] | None = None) -> AnimationResult:
    """The common end of every timing source (:func:`animate`, ``text_to_visemes``): the visemes tier in
    ``viseme_set``, the curves, the metadata and the QA flags, as one :class:`AnimationResult`
    (``phone_notation``: the notation the given phone labels were read in, recorded in the meta)."""
    if not len(timed.phones):
        raise TimelineError("The timings hold no phones; nothing to animate.")
    timed = timed.with_tier(viseme_tier(timed.phones, pack, viseme_set, duration=timed.duration))
    anim = curves_for(timed, pack, fps, use_model=use_model, model=model, adapter=adapter, viseme_set=viseme_set,
                      audio=samples, sample_rate=rate, mouth=mouth)
    meta = {"lang": pack.code or timed.lang, "viseme_set": viseme_set, "timing": timing, "fps": fps}
    if phone_notation is not None:
        meta["phone_notation"] = phone_notation
    if adapter is not None:
        meta["adapter"] = Path(adapter).stem
    timed = timed.with_meta(**meta)
    qa = assess(timed, samples, rate, timing)
    timed = timed.with_meta(qa_flags=",".join(qa["flags"]))
    return AnimationResult(timed, anim, samples, rate, pack, qa, timing, _safe_stem(name or "visemes"), text)


def _set_of(channels: Sequence[str]) -> str | None:
    """Name of the viseme set whose classes are ``channels`` (in any order), or None."""
    return next((n for n in VISEME_SETS if set(classes(n)) == set(channels)), None)


def timing_only(alignment: Alignment) -> Alignment:
    """The words and phones of ``alignment`` with its language: timings to animate again (another adapter,
    another viseme set) without aligning again."""
    tiers = tuple(t for t in alignment.tiers if t.name in ("words", PHONES))
    return Alignment(tiers, alignment.duration, {"lang": alignment.meta.get("lang")})


def _short(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _safe_stem(stem: str) -> str:
    bad = '/\\:*?"<>|'
    out = "".join("_" if c in bad or ord(c) < 32 else c for c in stem).strip(". ")
    return out or "visemes"
