"""Shared, session-cached pack objects and coverage measurements (one espeak instance per pack)."""

from __future__ import annotations

import pytest

from visemes import lang_packs
from visemes.lang_packs.coverage import measure


@pytest.fixture(scope="session")
def packs():
    cache: dict = {}

    def get(code: str):
        if code not in cache:
            cache[code] = lang_packs.load(code)
        return cache[code]

    return get


@pytest.fixture(scope="session")
def coverages(packs):
    cache: dict = {}

    def get(code: str):
        if code not in cache:
            cache[code] = measure(packs(code))
        return cache[code]

    return get
