"""Where pack files come from: the shipped ``lang_packs/data/*.toml`` and the ``visemes.lang_packs``
entry point group (third-party packs). Found by listing; nothing is imported or read until asked."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from visemes.core.errors import PackError

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


def _entry_point_files() -> list[PackFile]:
    files: list[PackFile] = []
    for ep in _entry_points():
        origin = f"entry point {ep.name}"
        try:
            obj = ep.load()
            obj = obj() if callable(obj) else obj
        except Exception as exc:  # a broken plug-in must not hide the built-in packs' error message
            raise PackError(origin, ep.value, f"cannot load the entry point: {exc}.") from exc
        items = obj if isinstance(obj, (list, tuple)) else [obj]
        for item in items:
            path = Path(item) if isinstance(item, str) else item
            if path.is_dir():
                files.extend(_list_dir(path, origin))
            elif path.name.endswith(".toml"):
                files.append(PackFile(path.name[: -len(".toml")], path, origin))
            else:
                raise PackError(origin, ep.value, f"{item!r} is neither a .toml pack file nor a folder of them.")
    return files


@functools.lru_cache(maxsize=1)
def pack_files() -> dict[str, PackFile]:
    """Lower-case code -> pack file; built-in packs win over entry-point packs with the same code."""
    found: dict[str, PackFile] = {}
    for pf in _entry_point_files() + _list_dir(builtin_folder(), "builtin"):
        found[pf.code.lower()] = pf
    return found
