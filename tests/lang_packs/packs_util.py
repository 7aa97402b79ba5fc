"""Helpers for the lang_packs tests (a uniquely named module: test folders share one import namespace)."""

from __future__ import annotations

from visemes.lang_packs.registry import pack_files


def builtin_codes() -> list[str]:
    return sorted(pf.code for pf in pack_files().values() if pf.origin == "builtin")
