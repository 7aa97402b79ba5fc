import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from visemes.cli.main import cli, main
from visemes.core.errors import InputError, OutputExistsError
from visemes.formats import FORMATS, ExportParts, curves_csv, json_doc, rhubarb

TEXT, LANG = "नमस्ते", "hi"


@pytest.fixture()
def runner():
    return CliRunner()


def test_help_texts_list_every_option_and_format(runner):
    out = runner.invoke(cli, ["text2visemes", "--help"])
    assert out.exit_code == 0
    for needle in ("--lang", "--fps", "--viseme-set", "--rate", "--format", "--overwrite", "oculus|azure|rhubarb|mpeg4"):
        assert needle in out.output
    for fmt in FORMATS.values():
        assert f"{fmt.name}: {fmt.suffix}" in out.output
    plot_help = runner.invoke(cli, ["plot", "--help"])
    assert plot_help.exit_code == 0 and "--audio" in plot_help.output and "--curves" in plot_help.output
    assert "text2visemes" in cli.list_commands(None) and "plot" in cli.list_commands(None)  # type: ignore[arg-type]


def test_folder_output_with_formats(runner, tmp_path):
    out = runner.invoke(cli, ["text2visemes", TEXT, "--lang", LANG, "--fps", "25", "--viseme-set", "rhubarb",
                              "-o", str(tmp_path / "out"), "--format", "json,csv,textgrid,rhubarb-tsv", "--stem", "hi"])
    assert out.exit_code == 0, out.output
    assert "1 words" in out.output and "rhubarb visemes" in out.output and "at 25 fps" in out.output
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["hi.TextGrid", "hi.csv", "hi.json", "hi.rhubarb.tsv"]
    parts = json_doc.read(tmp_path / "out" / "hi.json")
    assert parts.alignment.meta["viseme_set"] == "rhubarb" and parts.animation.fps == 25
    assert curves_csv.read_animation_csv(tmp_path / "out" / "hi.csv").articulation.allclose(
        parts.animation.articulation, atol=1e-5)
    tsv = rhubarb.read_tsv(tmp_path / "out" / "hi.rhubarb.tsv")
    assert [iv.label for iv in tsv.visemes] == [lab for lab in parts.alignment.visemes.labels if lab != "X"]


def test_single_file_output_takes_the_format_from_the_suffix(runner, tmp_path):
    target = tmp_path / "hello.rhubarb.json"
    out = runner.invoke(cli, ["text2visemes", TEXT, "-l", LANG, "-o", str(target)])
    assert out.exit_code == 0, out.output
    assert json.loads(target.read_text(encoding="utf-8"))["mouthCues"][0]["start"] == 0.0
    assert [p.name for p in tmp_path.iterdir()] == ["hello.rhubarb.json"]
    # "all" writes every format that fits (no Oculus weights for a Rhubarb-set result); aliases work.
    every = runner.invoke(cli, ["text2visemes", TEXT, "-l", LANG, "--viseme-set", "rhubarb", "-o", str(tmp_path / "all"),
                                "-f", "all"])
    assert every.exit_code == 0, every.output
    assert sorted(p.name for p in (tmp_path / "all").iterdir()) == sorted(
        f"visemes{f.suffix}" for f in FORMATS.values() if f.name != "oculus")
    alias = runner.invoke(cli, ["text2visemes", TEXT, "-l", LANG, "-o", str(tmp_path / "a"), "-f", "rhubarb,praat"])
    assert alias.exit_code == 0 and sorted(p.name for p in (tmp_path / "a").iterdir()) == [
        "visemes.TextGrid", "visemes.rhubarb.tsv"]
    # Default folder output is JSON; text from stdin.
    folder = runner.invoke(cli, ["text2visemes", "-", "-l", LANG, "-o", str(tmp_path / "d")], input=TEXT)
    assert folder.exit_code == 0 and (tmp_path / "d" / "visemes.json").exists()


def test_refusals(runner, tmp_path):
    target = tmp_path / "x.TextGrid"
    target.write_text("mine", encoding="utf-8")
    out = runner.invoke(cli, ["text2visemes", TEXT, "-l", LANG, "-o", str(target)])
    assert isinstance(out.exception, OutputExistsError) and target.read_text(encoding="utf-8") == "mine"
    out = runner.invoke(cli, ["text2visemes", TEXT, "-l", LANG, "-o", str(target), "--overwrite"])
    assert out.exit_code == 0 and target.read_text(encoding="utf-8") != "mine"
    several = runner.invoke(cli, ["text2visemes", TEXT, "-l", LANG, "-o", str(tmp_path / "y.json"), "-f", "json,csv"])
    assert isinstance(several.exception, InputError) and "give a folder" in str(several.exception)
    bad = runner.invoke(cli, ["text2visemes", TEXT, "-l", LANG, "-o", str(tmp_path), "-f", "textgird"])
    assert isinstance(bad.exception, InputError) and "textgrid" in str(bad.exception)
    assert runner.invoke(cli, ["text2visemes", TEXT, "-l", LANG, "-o", str(tmp_path), "--rate", "5"]).exit_code == 2
    odd = runner.invoke(cli, ["text2visemes", TEXT, "-l", LANG, "-o", str(tmp_path / "out.txt")])
    assert isinstance(odd.exception, InputError) and ".labels.txt" in str(odd.exception)
    assert not (tmp_path / "out.txt").exists()


def test_main_turns_library_errors_into_one_line(tmp_path, capsys):
    (tmp_path / "visemes.json").write_text("{}", encoding="utf-8")
    assert main(["text2visemes", TEXT, "-l", LANG, "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "--overwrite" in err and err.count("\n") == 1


def test_plot_command(runner, tmp_path):
    made = runner.invoke(cli, ["text2visemes", TEXT, "-l", LANG, "-o", str(tmp_path), "-f", "json,textgrid,wav,csv,livelink"])
    assert made.exit_code == 0, made.output
    png = tmp_path / "t.png"
    out = runner.invoke(cli, ["plot", str(tmp_path / "visemes.TextGrid"), "--audio", str(tmp_path / "visemes.wav"),
                              "--curves", str(tmp_path / "visemes.csv"), "-o", str(png), "--width", "600"])
    assert out.exit_code == 0, out.output
    assert png.read_bytes()[:4] == b"\x89PNG" and "words, phones, visemes" in out.output
    # The JSON result carries its own curves; a Live Link take or picked channels work as --curves too.
    for extra in (["--spectrogram"], ["--curves", str(tmp_path / "visemes.livelink.csv")], ["--channels", "jaw_open,lip_close"]):
        res = runner.invoke(cli, ["plot", str(tmp_path / "visemes.json"), "-o", str(png), "--overwrite", "--width", "600", *extra])
        assert res.exit_code == 0, (extra, res.output, res.exception)
    wrong = runner.invoke(cli, ["plot", str(tmp_path / "visemes.json"), "-o", str(tmp_path / "t.jpg")])
    assert isinstance(wrong.exception, InputError) and "PNG" in str(wrong.exception)
    refused = runner.invoke(cli, ["plot", str(tmp_path / "visemes.json"), "-o", str(png)])
    assert isinstance(refused.exception, OutputExistsError)
    bare = json_doc.write(ExportParts(json_doc.read(tmp_path / "visemes.json").alignment), tmp_path / "bare.json")
    no_curves = runner.invoke(cli, ["plot", str(tmp_path / "visemes.TextGrid"), "--curves", str(bare),
                                    "-o", str(tmp_path / "n.png")])
    assert isinstance(no_curves.exception, InputError) and "no curves" in str(no_curves.exception)
    assert "text2visemes" in str(no_curves.exception) and not (tmp_path / "n.png").exists()


def test_module_entry_point_in_a_subprocess(tmp_path):
    (tmp_path / "visemes.json").write_text("{}", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "visemes.cli.main", "text2visemes", "x", "-l", "hi", "-o", str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stderr.startswith("error: ") and "already exists" in proc.stderr
