"""Golden words per pack (hand-checked phones, visemes, tones, stress): tests/lang_packs/golden/<code>.toml.

One file per pack, so that pack authors working in parallel never edit the same file. Each
``[[word]]``: ``text``; ``phones`` (a list per orthographic word); optional ``visemes`` (of all phones,
flattened); optional ``attrs`` ({"<flat phone index>" = {tone = "1", stress = "primary"}}); optional ``note``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from packs_util import builtin_codes

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

MIN_GOLDEN = 4
GOLDEN_DIR = Path(__file__).parent / "golden"
ROW_KEYS = {"text", "phones", "visemes", "attrs", "note"}


def _rows(code: str) -> list[dict]:
    path = GOLDEN_DIR / f"{code}.toml"
    return tomllib.loads(path.read_text(encoding="utf-8")).get("word", []) if path.is_file() else []


CASES = [(path.stem, row) for path in sorted(GOLDEN_DIR.glob("*.toml")) for row in _rows(path.stem)]


@pytest.mark.parametrize("code", builtin_codes())
def test_every_pack_has_golden_words(code):
    assert len(_rows(code)) >= MIN_GOLDEN, (
        f"pack {code!r} needs at least {MIN_GOLDEN} hand-checked [[word]] rows in tests/lang_packs/golden/{code}.toml"
    )


@pytest.mark.parametrize("code,row", CASES, ids=[f"{c}-{r.get('text')}" for c, r in CASES])
def test_golden(packs, code, row):
    assert set(row) <= ROW_KEYS and {"text", "phones"} <= set(row), f"golden/{code}.toml: bad row {row}"
    pack = packs(code)
    tr = pack.phonemize(row["text"])
    assert [w.symbols for w in tr.words] == row["phones"]
    flat = tr.phones
    for index, expected in row.get("attrs", {}).items():
        for key, value in expected.items():
            assert flat[int(index)].attrs.get(key) == value, (row["text"], index, key, dict(flat[int(index)].attrs))
    if "visemes" in row:
        assert [pack.phone(p.symbol).viseme for p in flat] == row["visemes"]
    assert all(pack.phone(p.symbol).explicit for p in flat)
