"""Summaries of the available packs (for `visemes langs`), with coverage read from data/_coverage.toml."""

from __future__ import annotations

import sys
from dataclasses import dataclass

from visemes.lang_packs.loader import spec_of
from visemes.core.errors import PackError
from visemes.lang_packs.registry import builtin_folder, pack_files, skip_plugin

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

COVERAGE_FILE = "_coverage.toml"


@dataclass(frozen=True)
class PackInfo:
    code: str
    name: str
    parent: str | None
    backend: str
    voice: str
    phone_count: int
    coverage: float | None  # share of phone tokens in the coverage word list the pack lists explicitly
    coverage_words: str | None  # what the coverage was measured on
    origin: str

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def recorded_coverage() -> dict[str, dict]:
    """code -> {"coverage": float, "words": str, "tokens": int}, as written by tools/coverage.py."""
    path = builtin_folder() / COVERAGE_FILE
    if not path.is_file():
        return {}
    return dict(tomllib.loads(path.read_text(encoding="utf-8")).get("coverage", {}))


def available() -> list[PackInfo]:
    """Every pack file (built-in and entry points), validated, sorted by code."""
    cov = recorded_coverage()
    out = []
    for key, pf in sorted(pack_files().items()):
        try:
            spec = spec_of(key)
        except PackError as exc:
            if pf.origin == "builtin":
                raise
            skip_plugin(pf.origin, pf.path.name, str(exc))  # one broken plug-in pack must not hide the others
            continue
        c = cov.get(spec.code, {})
        out.append(PackInfo(spec.code, spec.name, spec.parent, spec.backend, spec.voice, len(spec.phones),
                            c.get("coverage"), c.get("words"), pf.origin))
    return out
