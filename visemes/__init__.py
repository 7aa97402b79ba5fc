"""visemes: multilingual viseme modeling and phoneme alignment.

The front door of the distribution. Heavy parts (JAX models, the aligner, espeak-ng) load lazily, so
``import visemes`` is cheap and has no side effects.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

# The repository keeps alignment/, lang_packs/ and models/ beside this folder and the build maps them
# to visemes.alignment, visemes.lang_packs and visemes.models (package-dir in pyproject.toml). When
# Python finds this package straight in a checkout (the repository root on sys.path: `python -m pytest`,
# `python -c`, `python -m visemes...` there), add the root to the search path so the three resolve to
# the same folders under the same names as when installed. An installed copy has them inside.
_CHECKOUT = Path(__file__).resolve().parent.parent
if (_CHECKOUT / "pyproject.toml").is_file() and not (Path(__file__).parent / "alignment").is_dir():
    __path__.append(str(_CHECKOUT))  # noqa: F821 - __path__ is the package's module search path

from visemes.core.errors import VisemesError
from visemes.core.timeline import Alignment, Interval, PhoneToken, Tier, Transcript, WordPhones

__version__ = "0.1.0"

# Public API name -> "module:attribute", imported on first use (PEP 562).
_LAZY = {
    "phonemize": "visemes.pipeline.text:phonemize",
    "text_to_visemes": "visemes.pipeline.text:text_to_visemes",
    "animate": "visemes.pipeline.animator:animate",
    "load_pack": "visemes.lang_packs:load",
    "stream": "visemes.pipeline.stream:stream",
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
