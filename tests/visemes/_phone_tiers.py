"""Phone tiers written as (symbol, seconds) lists, for the mouth tests."""

from __future__ import annotations

from visemes.core.timeline import Interval, Tier


def phone_tier(spec, start: float = 0.0) -> tuple[Tier, float]:
    """Phones back to back from ``start``; ``None`` as a symbol leaves a pause of that length.
    Returns the tier and the time after the last entry."""
    out, t = [], start
    for sym, dur in spec:
        if sym is not None:
            out.append(Interval(t, t + dur, sym))
        t += dur
    return Tier("phones", tuple(out)), t
