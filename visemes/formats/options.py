"""Per-format export options (what a writer may adjust in its own output, never the timeline itself).

Writers get them on :attr:`ExportParts.options`; the defaults reproduce each format's plain output.
"""

from __future__ import annotations

from dataclasses import dataclass

from visemes.core.errors import InputError

#: Rhubarb's optional mouth shapes (``rhubarb --extendedShapes``); the basic A-F are always used.
RHUBARB_EXTENDED = "GHX"


@dataclass(frozen=True)
class ExportOptions:
    #: shortest mouth cue (Rhubarb outputs) and shortest viseme hold (Oculus weights), seconds; 0 = off.
    #: Rhubarb itself keeps shapes >= 7 cs (``minShapeDuration`` in its timing optimisation).
    min_cue: float = 0.0
    #: Rhubarb extended shapes to keep (any of G, H, X, like ``--extendedShapes``); others become their
    #: basic shape (G -> B, H -> C, X -> A, as Rhubarb's ``getBasicShape``).
    extended_shapes: str = RHUBARB_EXTENDED

    def __post_init__(self) -> None:
        if not (self.min_cue >= 0.0) or self.min_cue > 1.0:
            raise InputError(f"The minimum cue duration must be 0 to 1000 ms, got {self.min_cue * 1000:g} ms.")
        shapes = self.extended_shapes.strip().upper()
        bad = sorted(set(shapes) - set(RHUBARB_EXTENDED))
        if bad:
            raise InputError(f"Extended shapes are a subset of {RHUBARB_EXTENDED!r}; {''.join(bad)!r} is not "
                             "(the basic shapes A-F are always used).")
        object.__setattr__(self, "extended_shapes", "".join(s for s in RHUBARB_EXTENDED if s in shapes))
