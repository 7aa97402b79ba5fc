"""Suite-wide settings.

Hypothesis runs derandomized (the same examples every run, so CI never flakes on a rare draw) and with
no per-example deadline (the CI machine is shared: a slow example is load, not a bug).
"""

from hypothesis import settings

settings.register_profile("visemes", derandomize=True, deadline=None, print_blob=True)
settings.load_profile("visemes")
