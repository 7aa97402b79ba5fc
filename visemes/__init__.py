"""visemes: multilingual viseme modeling and phoneme alignment.

The front door of the distribution. Heavy parts (JAX models, the aligner, espeak-ng) load lazily, so
``import visemes`` is cheap and has no side effects.
"""

from __future__ import annotations

import importlib
from typing import Any

from visemes.errors import VisemesError
from visemes.timeline import Alignment, Interval, PhoneToken, Tier, Transcript, WordPhones

__version__ = "0.1.0"

# Public API name -> "module:attribute", imported on first use (PEP 562).
_LAZY = {
    "phonemize": "visemes.api:phonemize",
    "text_to_visemes": "visemes.api:text_to_visemes",
    "animate": "visemes.pipeline:animate",
    "load_pack": "lang_packs:load",
}

__all__ = [
    "Alignment", "Interval", "PhoneToken", "Tier", "Transcript", "VisemesError", "WordPhones",
    "__version__", *_LAZY,
]


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'visemes' has no attribute {name!r}")
    module, attr = target.split(":")
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value
