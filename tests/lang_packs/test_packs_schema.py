"""Malformed packs give PackError naming the file and key; inheritance and entry-point packs work."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import pytest

from visemes import lang_packs
from visemes.lang_packs import loader, registry
from visemes.lang_packs.loader import merge, read_document
from visemes.lang_packs.registry import PackFile
from visemes.lang_packs.schema import validate
from visemes.core.errors import PackError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

GOOD = """
[pack]
code = "xx"
name = "Test"
scripts = ["Latn"]
[g2p]
voice = "en-us"
[[rules]]
match = '^ɹ$'
replace = 'r'
[phones]
"p" = { viseme = "PP" }
"r" = { viseme = "RR", target = { lip_round = 0.5 } }
"""


def doc() -> dict:
    return tomllib.loads(GOOD)


def test_good_document_validates():
    spec = validate(doc(), "xx.toml")
    assert spec.code == "xx" and spec.backend == "espeak" and spec.words == "whitespace"
    assert spec.phones["r"].target["lip_round"] == 0.5


def _broken(path: list, value=None, delete: bool = False) -> dict:
    d = copy.deepcopy(doc())
    node = d
    for key in path[:-1]:
        node = node[key]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return d


@pytest.mark.parametrize(
    "path,value,delete,key,words",
    [
        (["pack", "code"], None, True, "pack.code", "missing"),
        (["pack", "code"], "Not A Code", False, "pack.code", "BCP-47"),
        (["pack", "scripts"], [], False, "pack.scripts", "script"),
        (["pack", "scripts"], ["Klingon"], False, "pack.scripts", "ISO 15924"),
        (["pack", "colour"], "red", False, "pack.colour", "unknown key"),
        (["g2p", "backend"], "festival", False, "g2p.backend", "not one of"),
        (["g2p", "voice"], None, True, "g2p.voice", "missing"),
        (["g2p", "words"], "morphemes", False, "g2p.words", "not one of"),
        (["g2p", "vowels"], "harakat", False, "g2p.vowels", "not one of"),
        (["phones", "p", "viseme"], "MM", False, "phones.p.viseme", "OCULUS_15"),
        (["phones", "p", "viseme"], None, True, "phones.p.viseme", "missing"),
        (["phones", "r", "target", "lip_round"], 1.5, False, "phones.r.target.lip_round", "[0, 1]"),
        (["phones", "r", "target", "nose"], 0.5, False, "phones.r.target.nose", "unknown mouth parameter"),
        (["phones"], {}, False, "phones", "empty"),
        (["rules"], {"match": "x"}, False, "rules", "array"),
        (["tone"], {"values": {}}, False, "tone.ipa", "missing"),
    ],
)
def test_malformed_values_name_the_key(path, value, delete, key, words):
    with pytest.raises(PackError) as info:
        validate(_broken(path, value, delete), "xx.toml")
    assert info.value.source == "xx.toml" and info.value.key == key
    assert words in info.value.problem and str(info.value).startswith("xx.toml: ")


def test_bad_regex_in_rule():
    d = doc()
    d["rules"][0]["match"] = "^(ɹ$"
    with pytest.raises(PackError) as info:
        validate(d, "xx.toml")
    assert info.value.key == "rules[0].match" and "regular expression" in info.value.problem


def test_invalid_toml_names_the_file(tmp_path):
    path = tmp_path / "xx.toml"
    path.write_text("[pack\ncode = 'xx'", encoding="utf-8")
    with pytest.raises(PackError) as info:
        read_document(PackFile("xx", path, "builtin"))
    assert "xx.toml" in str(info.value) and "TOML" in str(info.value)


def test_merge_dialect_over_parent():
    parent = doc()
    child = {"pack": {"code": "xx-YY", "name": "Dialect", "parent": "xx"},
             "rules": [{"match": "^p$", "replace": "b"}],
             "phones": {"b": {"viseme": "PP"}, "r": {"note": "tap"}}}
    merged = merge(parent, child)
    spec = validate(merged, "xx-YY.toml")
    assert spec.parent == "xx" and spec.scripts == ("Latn",)
    assert [r.replace for r in spec.normalizer.rules] == ["r", "b"]  # parent's rules first
    assert set(spec.phones) == {"p", "r", "b"}
    assert spec.phones["r"].viseme == "RR" and spec.phones["r"].note == "tap"
    assert spec.phones["r"].target["lip_round"] == 0.5


def test_mouth_table_validates_and_inherits():
    """[mouth]: known settings in their ranges; a dialect inherits its parent's and overrides key by key."""
    parent = doc()
    parent["mouth"] = {"anticipation_span": 0.4, "jaw_intensity": 0.9}
    assert dict(validate(parent, "xx.toml").mouth) == {"anticipation_span": 0.4, "jaw_intensity": 0.9}
    assert dict(validate(doc(), "xx.toml").mouth) == {}
    child = {"pack": {"code": "xx-YY", "name": "Dialect", "parent": "xx"}, "mouth": {"jaw_intensity": 1.2}}
    spec = validate(merge(parent, child), "xx-YY.toml")
    assert dict(spec.mouth) == {"anticipation_span": 0.4, "jaw_intensity": 1.2}


@pytest.mark.parametrize("table, key, words", [
    ({"jaw": 1.0}, "mouth.jaw", "unknown key"),
    ({"jaw_intensity": 3.0}, "mouth.jaw_intensity", "[0, 2]"),
    ({"min_hold": "long"}, "mouth.min_hold", "must be a number"),
    ({"anticipation_span": True}, "mouth.anticipation_span", "must be a number"),
])
def test_mouth_table_errors_name_the_key(table, key, words):
    d = doc()
    d["mouth"] = table
    with pytest.raises(PackError) as info:
        validate(d, "xx.toml")
    assert info.value.key == key and words in info.value.problem and "xx.toml" in str(info.value)


@pytest.fixture
def plugin_folder(tmp_path, monkeypatch):
    """Third-party packs through the `visemes.lang_packs` entry point group (a fake entry point)."""
    child = tmp_path / "ar-XX.toml"
    child.write_text(
        '[pack]\ncode = "ar-XX"\nname = "Arabic, test dialect"\nparent = "ar"\n'
        "[[rules]]\nmatch = '^q$'\nreplace = 'ʔ'\n"
        '[phones]\n"ʔ" = { viseme = "kk", note = "qaf as glottal stop" }\n',
        encoding="utf-8",
    )
    bad = tmp_path / "zz.toml"

    class FakeEP:
        name, value = "test-packs", "fake:folder"

        def load(self):
            return lambda: [str(child)] + ([str(bad)] if bad.exists() else [])

    monkeypatch.setattr(registry, "_entry_points", lambda: [FakeEP()])
    loader.clear_caches()
    yield tmp_path
    monkeypatch.undo()
    loader.clear_caches()


def test_entry_point_dialect_inherits_from_ar(plugin_folder):
    pack = lang_packs.load("ar_xx")
    assert pack.code == "ar-XX" and pack.parent == "ar" and pack.voice == "ar"
    assert "sˤ" in pack.inventory  # inherited
    assert [p.symbol for p in pack.phonemize("قَلْب").phones][0] == "ʔ"  # the dialect's rule
    info = {i.code: i for i in lang_packs.available()}["ar-XX"]
    assert info.origin == "entry point test-packs" and info.parent == "ar"


def test_entry_point_pack_errors_name_the_plugin_file(plugin_folder):
    (plugin_folder / "zz.toml").write_text('[pack]\ncode = "zz"\nname = "Z"\nscripts = ["Latn"]\n'
                                           '[g2p]\nvoice = "en-us"\n[phones]\n"p" = { viseme = "XX" }\n',
                                           encoding="utf-8")
    loader.clear_caches()
    with pytest.raises(PackError) as info:
        lang_packs.load("zz")
    assert "zz.toml" in info.value.source and info.value.key == "phones.p.viseme"


def test_file_name_must_match_code(tmp_path, monkeypatch):
    path = tmp_path / "qq.toml"
    path.write_text(GOOD, encoding="utf-8")  # declares code "xx"
    monkeypatch.setattr(registry, "pack_files", lambda: {"qq": PackFile("qq", path, "builtin")})
    monkeypatch.setattr(loader, "pack_files", lambda: {"qq": PackFile("qq", path, "builtin")})
    with pytest.raises(PackError) as info:
        loader.spec_of("qq")
    assert info.value.key == "pack.code" and "file name" in info.value.problem


def test_missing_parent(tmp_path, monkeypatch):
    path = tmp_path / "xx.toml"
    path.write_text(GOOD.replace('name = "Test"', 'name = "Test"\nparent = "nope"'), encoding="utf-8")
    monkeypatch.setattr(loader, "pack_files", lambda: {"xx": PackFile("xx", path, "builtin")})
    with pytest.raises(PackError) as info:
        loader.spec_of("xx")
    assert info.value.key == "pack.parent" and "nope" in info.value.problem


def test_builtin_pack_files_are_found_by_listing():
    data = Path(lang_packs.__file__).parent / "data"
    listed = {p.stem for p in data.glob("*.toml") if not p.name.startswith("_")}
    assert {pf.code for pf in registry.pack_files().values() if pf.origin == "builtin"} == listed


def test_rule_stressed_condition():
    d = doc()
    d["rules"] = [{"match": "^ɪ$", "replace": "e", "stressed": False}]
    norm = validate(d, "xx.toml").normalizer
    # espeak marks stress on the vowel token: only the unstressed ɪ changes
    assert [t.symbol for t in norm(["p", "ˈɪ", "t", "ɪ"])] == ["p", "ɪ", "t", "e"]
    d["rules"][0]["stressed"] = True
    assert [t.symbol for t in validate(d, "xx.toml").normalizer(["p", "ˈɪ", "t", "ɪ"])] == ["p", "e", "t", "ɪ"]
    d["rules"][0]["stressed"] = "no"
    with pytest.raises(PackError) as info:
        validate(d, "xx.toml")
    assert info.value.key == "rules[0].stressed" and "true" in info.value.problem
