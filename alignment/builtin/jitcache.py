"""The aligner's persistent compile cache; it lives in :mod:`visemes.core.jitcache` (the CLI sets it up
before importing JAX), re-exported here where the aligner's users look for it."""

from visemes.core.jitcache import default_cache_dir, enable_compile_cache

__all__ = ["default_cache_dir", "enable_compile_cache"]
