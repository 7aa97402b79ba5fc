"""The built-in universal forced aligner (registered as backend ``"builtin"``).

No model download: a flat-start / prior-initialised HMM adapted by Viterbi EM on the audio being
aligned (one file, or a whole corpus pooled), with phones tied by IPA symbol across languages.
"""

from __future__ import annotations

from visemes.alignment.base import register_aligner
from visemes.alignment.builtin.aligner import AdaptedParams, AlignerConfig, BuiltinAligner, Prepared
from visemes.alignment.builtin.jitcache import enable_compile_cache

register_aligner("builtin", BuiltinAligner)

__all__ = ["AdaptedParams", "AlignerConfig", "BuiltinAligner", "Prepared", "enable_compile_cache"]
