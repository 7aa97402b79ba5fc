"""visemes.core.progress: the one progress bar (training, teacher data, corpora)."""

from visemes.core.progress import ProgressBar, track


def test_track_yields_every_item_in_order_and_draws_on_stderr(capsys):
    assert list(track(iter(range(7)), "items", total=7)) == list(range(7))
    captured = capsys.readouterr()
    assert captured.out == ""  # stdout stays clean for tables and JSON
    assert "items" in captured.err and "7/7" in captured.err


def test_bar_counts_from_the_initial_step_and_shows_the_status(capsys):
    with ProgressBar(10, "training", unit="steps", initial=4) as bar:
        for _ in range(6):
            bar.advance()
        bar.advance(0, status="loss 0.1234")
    assert bar.done == 10
    err = capsys.readouterr().err
    assert "10/10" in err and "loss 0.1234" in err


def test_disabled_bar_counts_but_prints_nothing(capsys):
    with ProgressBar(3, "quiet", enabled=False) as bar:
        bar.advance(2)
        bar.advance(status="x")
    assert bar.done == 3
    assert capsys.readouterr() == ("", "")
