"""Suite-wide settings.

Hypothesis runs derandomized (the same examples every run, so CI never flakes on a rare draw) and with
no per-example deadline (the CI machine is shared: a slow example is load, not a bug).
"""

import os
import sys

import pytest
from hypothesis import settings

settings.register_profile("visemes", derandomize=True, deadline=None, print_blob=True)
settings.load_profile("visemes")


@pytest.fixture(scope="session", autouse=True)
def _one_import_name():
    """Every project module is imported under its ``visemes.*`` name only, never a second time as a
    top-level ``alignment``/``models``/``lang_packs`` (which a checkout on sys.path would allow)."""
    yield
    stray = sorted(m for m in sys.modules if m.split(".")[0] in ("alignment", "models", "lang_packs"))
    assert not stray, f"modules imported outside the visemes namespace: {stray[:10]}"


@pytest.fixture(scope="session", autouse=True)
def _compile_cache_in_a_temporary_folder(tmp_path_factory):
    """CLI calls in tests fill JAX's compile cache in a folder of this session, not the user's ~/.cache."""
    if "VISEMES_COMPILE_CACHE" not in os.environ:
        os.environ["VISEMES_COMPILE_CACHE"] = str(tmp_path_factory.mktemp("jax-compile-cache"))
    yield
