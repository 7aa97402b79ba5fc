import pytest

from _export_samples import sample_alignment
from visemes.core.errors import ExportError, OutputExistsError
from visemes.core.textgrid import canonical_tier_name
from visemes.formats import textgrid
from visemes.core.timeline import Alignment, Interval, Tier

# Self-made fixtures shaped like the files MFA (short text format, ARPAbet, sil/sp/spn, "" gaps) and
# VoxAngeles (long text format, `word`/`phone` tier names, UTF-8 IPA) write.
MFA_SHORT = '''File type = "ooTextFile"
Object class = "TextGrid"

0
1.5
<exists>
2
"IntervalTier"
"words"
0
1.5
5
0
0.3
""
0.3
0.62
"this"
0.62
0.7
"sp"
0.7
1.21
"<unk>"
1.21
1.5
""
"IntervalTier"
"phones"
0
1.5
8
0
0.3
"sil"
0.3
0.41
"DH"
0.41
0.52
"IH1"
0.52
0.62
"S"
0.62
0.7
"sp"
0.7
1.21
"spn"
1.21
1.4
"sil"
1.4
1.5
""
'''

VOXANGELES_LONG = '''File type = "ooTextFile"
Object class = "TextGrid"

xmin = 0 
xmax = 0.93 
tiers? <exists> 
size = 3 
item []: 
    item [1]:
        class = "IntervalTier" 
        name = "word" 
        xmin = 0 
        xmax = 0.93 
        intervals: size = 3 
        intervals [1]:
            xmin = 0 
            xmax = 0.2 
            text = "" 
        intervals [2]:
            xmin = 0.2 
            xmax = 0.71 
            text = "ʃʊkˤra" 
        intervals [3]:
            xmin = 0.71 
            xmax = 0.93 
            text = "" 
    item [2]:
        class = "IntervalTier" 
        name = "phone" 
        xmin = 0 
        xmax = 0.93 
        intervals: size = 7 
        intervals [1]:
            xmin = 0 
            xmax = 0.2 
            text = "" 
        intervals [2]:
            xmin = 0.2 
            xmax = 0.33 
            text = "ʃ" 
        intervals [3]:
            xmin = 0.33 
            xmax = 0.41 
            text = "ʊ" 
        intervals [4]:
            xmin = 0.41 
            xmax = 0.5 
            text = "kˤ" 
        intervals [5]:
            xmin = 0.5 
            xmax = 0.6 
            text = "r" 
        intervals [6]:
            xmin = 0.6 
            xmax = 0.71 
            text = "a" 
        intervals [7]:
            xmin = 0.71 
            xmax = 0.93 
            text = "" 
    item [3]:
        class = "TextTier" 
        name = "events" 
        xmin = 0 
        xmax = 0.93 
        points: size = 1 
        points [1]:
            number = 0.5 
            mark = "burst" 
'''


def test_round_trip_keeps_tiers_times_and_ipa(tmp_path):
    alignment = sample_alignment()
    path = textgrid.write_textgrid(alignment, tmp_path / "s.TextGrid")
    text = path.read_text(encoding="utf-8")
    assert text.startswith('File type = "ooTextFile"\nObject class = "TextGrid"\n')
    assert 'name = "words"' in text and 'text = "oʊ"' in text
    # Gaps become empty intervals: words tier = 2 words + 3 gaps (start, between, end).
    assert "intervals: size = 5" in text
    back = textgrid.read_textgrid(path)
    assert back.tier_names == ["words", "phones", "visemes"]
    assert back.duration == pytest.approx(alignment.duration)
    for name in back.tier_names:
        got, want = back.tier(name), alignment.tier(name)
        assert got.labels == want.labels
        assert [t for iv in got for t in (iv.start, iv.end)] == pytest.approx([t for iv in want for t in (iv.start, iv.end)])


def test_short_format_round_trip(tmp_path):
    alignment = sample_alignment()
    path = textgrid.write_textgrid(alignment, tmp_path / "s.TextGrid", text_format="short")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[3:7] == ["0", "1.1", "<exists>", "3"]
    assert textgrid.read_textgrid(path).phones.labels == alignment.phones.labels


def test_reads_mfa_style_short_textgrid(tmp_path):
    path = tmp_path / "mfa.TextGrid"
    path.write_text(MFA_SHORT, encoding="utf-8")
    a = textgrid.read_textgrid(path, lang="en")
    assert a.words.labels == ["this", "<unk>"]
    assert a.phones.labels == ["DH", "IH1", "S"]  # sil, sp, spn and "" are silence gaps
    assert (a.phones[0].start, a.phones[-1].end) == (0.3, 0.62)
    assert a.duration == 1.5 and a.lang == "en"


def test_reads_voxangeles_style_long_textgrid(tmp_path):
    path = tmp_path / "vox.TextGrid"
    path.write_text(VOXANGELES_LONG, encoding="utf-8")
    a = textgrid.read_textgrid(path)
    assert a.tier_names == ["words", "phones"]  # word/phone renamed; the point tier is skipped
    assert a.words.labels == ["ʃʊkˤra"]
    assert a.phones.labels == ["ʃ", "ʊ", "kˤ", "r", "a"]
    a.check_nesting()


@pytest.mark.parametrize("name, expected", [
    ("words", "words"), ("Word", "words"), ("phone", "phones"), ("PHONES", "phones"),
    ("speaker1 - words", "words"), ("viseme", "visemes"), ("tones", "tones"),
])
def test_canonical_tier_names(name, expected):
    assert canonical_tier_name(name) == expected


def test_two_speakers_are_refused(tmp_path):
    a = Alignment((Tier("a - words", (Interval(0, 1, "x"),)), Tier("b - words", (Interval(0, 1, "y"),))), 1.0)
    path = textgrid.write_textgrid(a, tmp_path / "two.TextGrid")
    with pytest.raises(ExportError, match="more than one tier"):
        textgrid.read_textgrid(path)


def test_custom_silence_labels(tmp_path):
    path = tmp_path / "mfa.TextGrid"
    path.write_text(MFA_SHORT, encoding="utf-8")
    a = textgrid.read_textgrid(path, silence_labels=["", "sil", "sp", "spn", "<unk>"])
    assert a.words.labels == ["this"]


def test_unreadable_and_missing_files(tmp_path):
    junk = tmp_path / "junk.TextGrid"
    junk.write_text("this is not a textgrid", encoding="utf-8")
    with pytest.raises(ExportError, match="not a readable TextGrid"):
        textgrid.read_textgrid(junk)
    with pytest.raises(ExportError, match="no such file"):
        textgrid.read_textgrid(tmp_path / "nope.TextGrid")


def test_refuses_to_overwrite_and_leaves_no_temp_file(tmp_path):
    path = tmp_path / "s.TextGrid"
    path.write_text("old", encoding="utf-8")
    with pytest.raises(OutputExistsError):
        textgrid.write_textgrid(sample_alignment(), path)
    assert path.read_text(encoding="utf-8") == "old"
    textgrid.write_textgrid(sample_alignment(), path, overwrite=True)
    assert textgrid.read_textgrid(path).words.labels == ["héllo", "wörld"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.TextGrid"]


@pytest.mark.parametrize("text_format", ["long", "short"])
def test_quotes_in_labels_survive(tmp_path, text_format):
    a = Alignment((Tier("words", (Interval(0.1, 0.5, 'say "hi"'),)),), 1.0)
    path = textgrid.write_textgrid(a, tmp_path / "q.TextGrid", text_format=text_format)
    assert '"say ""hi"""' in path.read_text(encoding="utf-8")  # Praat doubles quotes inside strings
    assert textgrid.read_textgrid(path).words.labels == ['say "hi"']
