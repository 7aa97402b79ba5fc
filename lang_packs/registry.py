"""Where pack files come from: the shipped ``lang_packs/data/*.toml`` and the ``visemes.lang_packs``
entry point group (third-party packs). Found by listing; nothing is imported or read until asked."""

from __future__ import annotations

import functools
import os
import sys
import warnings
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from visemes.core.errors import PackError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ENTRY_POINT_GROUP = "visemes.lang_packs"


@dataclass(frozen=True)
class PackFile:
    code: str          # the file stem, which must equal [pack].code
    path: Traversable  # readable through importlib.resources (works inside wheels and zips)
    origin: str        # "builtin" or "entry point <name>"

    @property
    def source(self) -> str:
        return f"{self.origin}:{self.path.name}" if self.origin != "builtin" else f"lang_packs/data/{self.path.name}"


def _list_dir(folder: Traversable, origin: str) -> list[PackFile]:
    # names starting with "_" are not packs (e.g. _coverage.toml, written by the coverage tool)
    return [
        PackFile(entry.name[: -len(".toml")], entry, origin)
        for entry in folder.iterdir()
        if entry.name.endswith(".toml") and not entry.name.startswith("_") and entry.is_file()
    ]


def builtin_folder() -> Traversable:
    return resources.files("visemes.lang_packs") / "data"


def _entry_points() -> list:
    from importlib import metadata  # imported on first discovery, not with the package

    return list(metadata.entry_points(group=ENTRY_POINT_GROUP))


class PluginWarning(UserWarning):
    """A third-party pack plug-in was skipped because it is broken (the built-in packs still work)."""


def skip_plugin(ep_name: str, value: str, problem: str) -> None:
    """Warn that a broken plug-in (or one of its packs) is left out."""
    warnings.warn(
        f"Skipping the language-pack plug-in {ep_name!r} ({value}): {problem}. Fix, reinstall or uninstall "
        "the package that provides it.", PluginWarning, stacklevel=3,
    )


def _plugin_files(ep: Any) -> list[PackFile]:
    """The pack files one entry point provides; PackError when it is broken."""
    origin = f"entry point {ep.name}"
    try:
        obj = ep.load()
        obj = obj() if callable(obj) else obj
    except Exception as exc:  # noqa: BLE001 - third-party code can fail in any way
        raise PackError(origin, ep.value, f"cannot load the entry point: {type(exc).__name__}: {exc}") from None
    items = obj if isinstance(obj, (list, tuple)) else [obj]
    files: list[PackFile] = []
    for item in items:
        path = Path(item) if isinstance(item, (str, os.PathLike)) else item
        try:
            is_dir, name = path.is_dir(), path.name
            if is_dir:
                found = _list_dir(path, origin)
            elif name.endswith(".toml"):
                found = [PackFile(name[: -len(".toml")], path, origin)]
            else:
                raise PackError(origin, ep.value, f"{item!r} is neither a .toml pack file nor a folder of them")
            for pf in found:  # parse now: one unreadable plug-in file must not break every other code
                tomllib.loads(pf.path.read_text(encoding="utf-8"))
        except PackError:
            raise
        except (AttributeError, OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise PackError(origin, ep.value, f"{item!r} is not a readable pack ({type(exc).__name__}: {exc})") from None
        files.extend(found)
    return files


def _entry_point_files() -> list[PackFile]:
    """Pack files of every plug-in; a broken plug-in is skipped with a :class:`PluginWarning`."""
    files: list[PackFile] = []
    try:
        entry_points = _entry_points()
    except Exception as exc:  # noqa: BLE001 - broken installed metadata
        warnings.warn(f"Cannot list language-pack plug-ins ({exc}); using the built-in packs only.", PluginWarning,
                      stacklevel=2)
        return files
    for ep in entry_points:
        try:
            files.extend(_plugin_files(ep))
        except PackError as exc:
            skip_plugin(ep.name, ep.value, exc.problem)
    return files


@functools.lru_cache(maxsize=1)
def pack_files() -> dict[str, PackFile]:
    """Lower-case code -> pack file; built-in packs win over entry-point packs with the same code."""
    found: dict[str, PackFile] = {}
    for pf in _entry_point_files() + _list_dir(builtin_folder(), "builtin"):
        found[pf.code.lower()] = pf
    return found
