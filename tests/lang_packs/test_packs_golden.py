"""Golden words per pack (hand-checked phones, visemes, tones, stress); data in golden.py."""

from __future__ import annotations

import pytest

from packs_golden import GOLDEN, MIN_GOLDEN
from packs_util import builtin_codes

CASES = [(code, row) for code, rows in GOLDEN.items() for row in rows]


@pytest.mark.parametrize("code", builtin_codes())
def test_every_pack_has_golden_words(code):
    assert len(GOLDEN.get(code, [])) >= MIN_GOLDEN, (
        f"pack {code!r} needs at least {MIN_GOLDEN} hand-checked rows in tests/lang_packs/golden.py"
    )


@pytest.mark.parametrize("code,row", CASES, ids=[f"{c}-{r[0]}" for c, r in CASES])
def test_golden(packs, code, row):
    text, words, attrs, visemes = row
    pack = packs(code)
    tr = pack.phonemize(text)
    assert [w.symbols for w in tr.words] == words
    flat = tr.phones
    for index, expected in attrs.items():
        for key, value in expected.items():
            assert flat[index].attrs.get(key) == value, (text, index, key, dict(flat[index].attrs))
    if visemes is not None:
        assert [pack.phone(p.symbol).viseme for p in flat] == visemes
    assert all(pack.phone(p.symbol).explicit for p in flat)
