"""What an exporter gets: an alignment and/or a mouth animation (plus optional audio and pack).

Every writer takes :class:`ExportParts`, so ``write_all`` can hand the same bundle to each format and a
format that lacks its input fails with one clear message instead of an AttributeError.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from visemes.core.curves import MouthAnimation
from visemes.core.errors import ExportError, InputError
from visemes.core.timeline import Alignment, Tier
from visemes.formats.options import ExportOptions
from visemes.lang_packs import PhoneLookup
from visemes.lang_packs import load as load_pack
from visemes.mouth.visemesets import viseme_tier


@dataclass(frozen=True)
class ExportParts:
    """The inputs of the exporters. Any of them may be missing; each format says what it needs."""

    alignment: Alignment | None = None
    animation: MouthAnimation | None = None
    audio: np.ndarray | None = field(default=None, repr=False, compare=False)
    sample_rate: int | None = None
    #: The language pack (or any PhoneLookup); used to derive a viseme tier in another set.
    pack: PhoneLookup | None = field(default=None, repr=False, compare=False)
    #: Path written into Rhubarb's ``metadata.soundFile`` (Rhubarb writes the input audio's path).
    sound_file: str = ""
    #: per-format adjustments of the written files (minimum cue/hold, Rhubarb's extended shapes)
    options: ExportOptions = ExportOptions()

    def __post_init__(self) -> None:
        if self.alignment is not None and not isinstance(self.alignment, Alignment):
            raise InputError(f"alignment must be an Alignment, got {type(self.alignment).__name__}.")
        if self.animation is not None and not isinstance(self.animation, MouthAnimation):
            raise InputError(f"animation must be a MouthAnimation, got {type(self.animation).__name__}.")
        if self.audio is not None and not self.sample_rate:
            raise InputError("audio was given without its sample_rate; pass both.")

    def need_alignment(self, fmt: str) -> Alignment:
        if self.alignment is None:
            raise ExportError(f"The {fmt!r} export needs an alignment (words/phones/visemes tiers); none was given.")
        return self.alignment

    def need_animation(self, fmt: str) -> MouthAnimation:
        if self.animation is None:
            raise ExportError(
                f"The {fmt!r} export needs per-frame mouth curves (a MouthAnimation); none was given. "
                "Animate the alignment first (visemes.mouth.coarticulation.animate_phones or a model)."
            )
        return self.animation


class Exportable(Protocol):
    """A result the exporters can take apart: ``visemes.pipeline.animator.AnimationResult`` (a higher
    layer hands it down; only these attributes are read, ``sound_file`` too where present)."""

    @property
    def alignment(self) -> Alignment | None: ...

    @property
    def animation(self) -> MouthAnimation | None: ...

    @property
    def audio(self) -> np.ndarray | None: ...

    @property
    def sample_rate(self) -> int | None: ...

    @property
    def pack(self) -> PhoneLookup | None: ...


#: Everything ``write_all``/``write_one`` accept.
Exportables = ExportParts | Alignment | MouthAnimation | tuple[Alignment, MouthAnimation] | Exportable


def as_parts(obj: Exportables) -> ExportParts:
    """Accept the shapes callers naturally hold: ExportParts, an Alignment, a MouthAnimation, an
    ``(alignment, animation)`` pair, or a result object (:class:`Exportable`)."""
    if isinstance(obj, ExportParts):
        return obj
    if isinstance(obj, Alignment):
        return ExportParts(alignment=obj)
    if isinstance(obj, MouthAnimation):
        return ExportParts(animation=obj)
    if isinstance(obj, tuple) and len(obj) == 2:
        alignment, animation = obj
        return ExportParts(alignment=alignment, animation=animation)
    if hasattr(obj, "alignment") or hasattr(obj, "animation"):
        audio = getattr(obj, "audio", None)
        return ExportParts(
            alignment=getattr(obj, "alignment", None),
            animation=getattr(obj, "animation", None),
            audio=audio,
            sample_rate=getattr(obj, "sample_rate", None) if audio is not None else None,
            pack=getattr(obj, "pack", None),
            sound_file=str(getattr(obj, "sound_file", "") or ""),
        )
    raise InputError(
        f"Cannot export a {type(obj).__name__}: give an Alignment, a MouthAnimation, an (alignment, "
        "animation) pair or an ExportParts."
    )


def viseme_tier_in_set(parts: ExportParts, set_name: str, fmt: str) -> Tier:
    """The alignment's viseme tier in ``set_name``: reused when the alignment already is in that set,
    otherwise derived from the phones with the pack (``parts.pack``, else the pack of ``meta['lang']``)."""
    alignment = parts.need_alignment(fmt)
    if alignment.meta.get("viseme_set") == set_name and alignment.has_tier("visemes"):
        return alignment.visemes
    if not alignment.has_tier("phones"):
        raise ExportError(
            f"The {fmt!r} export needs {set_name!r} visemes: give an alignment with a phones tier (and a "
            f"language) or one whose visemes tier is already in the {set_name!r} set (meta viseme_set)."
        )
    pack = parts.pack
    if pack is None:
        lang = alignment.lang
        if not lang:
            raise ExportError(
                f"The {fmt!r} export must map phones to {set_name!r} visemes but the alignment names no "
                "language (meta 'lang'); pass the language pack (ExportParts(pack=...))."
            )
        pack = load_pack(lang)
    return viseme_tier(alignment.phones, pack, set_name, duration=alignment.duration)
