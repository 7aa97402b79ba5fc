"""QA notes say what the user can check: audio-only results have no transcript to blame."""

from __future__ import annotations

from visemes.core.timeline import Alignment, Interval, Tier
from visemes.pipeline.qa import LOW_CONFIDENCE, assess


def _low_confidence_alignment() -> Alignment:
    phones = Tier("phones", tuple(
        Interval(0.1 * i, 0.1 * (i + 1), "a", {"confidence": LOW_CONFIDENCE / 2}) for i in range(10)))
    return Alignment((phones,), 1.0)


def _note(timing: str) -> str:
    qa = assess(_low_confidence_alignment(), None, None, timing)
    assert "low_confidence" in qa["flags"]
    return qa["notes"][qa["flags"].index("low_confidence")]


def test_aligned_low_confidence_points_at_the_transcript():
    assert "transcript" in _note("aligned")


def test_audio_only_low_confidence_does_not_mention_a_transcript():
    note = _note("audio-only")
    assert "transcript" not in note
    assert "--lang" in note
