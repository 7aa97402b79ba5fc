"""Every built-in pack lists every phone its 2,000 most frequent words produce (100%)."""

from __future__ import annotations

import pytest

from packs_util import builtin_codes
from visemes.lang_packs.info import recorded_coverage


@pytest.mark.parametrize("code", builtin_codes())
def test_full_coverage(coverages, code):
    cov = coverages(code)
    assert cov.tokens > 1000, f"{code}: only {cov.tokens} phone tokens in {cov.words}"
    assert not cov.missing, (
        f"{code}: phones not listed in the pack: {' '.join(cov.missing)}; draft entries with "
        f"`python -m visemes.lang_packs.tools.draft_inventory {code}`"
    )


@pytest.mark.parametrize("code", builtin_codes())
def test_recorded_coverage_is_current(coverages, code):
    rec = recorded_coverage().get(code)
    assert rec is not None, f"{code}: run `python -m visemes.lang_packs.tools.coverage {code}` and commit _coverage.toml"
    cov = coverages(code)
    assert rec["coverage"] == pytest.approx(cov.ratio, abs=1e-6)
    assert rec["words"] == cov.words
