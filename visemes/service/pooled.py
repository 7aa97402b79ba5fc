"""A group of service jobs run by the corpus runner of ``animate-corpus`` (:mod:`visemes.pipeline.runner`).

The group's inputs are linked into a corpus folder (``<first job folder>/.corpus-<run id>/in/0000/NAME.wav``
+ ``NAME.txt`` or ``NAME.TextGrid``, NAME the job's ``name``; numbered in batch order, which is the
corpus order the aligner adapts in), and :func:`~visemes.pipeline.runner.run_corpus` runs it: every file is prepared, the
aligner adapts once on the pooled files, each file is decoded and then animated by
:func:`visemes.pipeline.jobs.animate_item`, the call ``animate-corpus`` makes, with the job's own
options. So a batch gives the curves ``animate-corpus`` gives on the same files, in the same order.

Outputs go through the runner's staging (``.corpus-<run id>/out/.staging/``) and are renamed, whole,
to ``<job folder>/out-<run id>/`` (:class:`JobFolders`); the corpus folder is removed afterwards.
"""

from __future__ import annotations

import os
import shutil
import time
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from visemes.alignment.base import Aligner, get_aligner
from visemes.core.errors import VisemesError
from visemes.core.timeline import Transcript
from visemes.pipeline.corpus import CorpusItem, FileOutcome
from visemes.pipeline.jobs import AnimateJob, AnimateOptions, animate_item
from visemes.pipeline.runner import Aligned, run_corpus
from visemes.pipeline.staging import State
from visemes.service.jobspec import STEM, JobSpec, RunOutcome, pooled


@dataclass(frozen=True)
class JobFolders:
    """The runner's output layout for service jobs: file ``rel`` goes to its job's ``out-<run id>`` folder."""

    targets_by_rel: Mapping[str, str]

    def stem(self, item: CorpusItem) -> str:
        return STEM

    def targets(self, out_dir: Path, item: CorpusItem) -> list[Path]:
        return [Path(self.targets_by_rel[item.rel])]

    def state(self, out_dir: Path, item: CorpusItem, stamp: Mapping[str, Any]) -> State:
        # a run id is new for every run, so its folder exists only if this very run placed it
        return "stale" if Path(self.targets_by_rel[item.rel]).exists() else "missing"

    def finished_summary(self, out_dir: Path, item: CorpusItem) -> dict[str, Any]:
        return {}

    def place(self, out_dir: Path, item: CorpusItem, staging: Path, summary: Mapping[str, Any],
              stamp: Mapping[str, Any], overwrite: bool) -> None:
        os.replace(staging, self.targets_by_rel[item.rel])  # atomic: the job's outputs appear together


@dataclass(frozen=True)
class GroupJob:
    """A :class:`~visemes.pipeline.runner.CorpusJob`: aligned as ``animate-corpus`` aligns (its
    :class:`~visemes.pipeline.jobs.AnimateJob` reads the transcripts), animated with each job's options."""

    corpus: AnimateJob
    specs: Mapping[str, JobSpec]     # rel -> the job's spec
    layout: JobFolders
    name: str = "visemes serve"

    @property
    def aligner(self) -> Aligner:
        return self.corpus.aligner

    def check(self) -> None:
        self.corpus.check()

    def stamp(self) -> Mapping[str, Any]:
        return {"lang": self.corpus.options.lang}

    def needs_alignment(self, item: CorpusItem) -> bool:
        return self.corpus.needs_alignment(item)

    def transcript(self, item: CorpusItem) -> Transcript:
        return self.corpus.transcript(item)

    def finish(self, item: CorpusItem, aligned: Aligned | None, staging: Path, stem: str) -> Mapping[str, Any]:
        spec = self.specs[item.rel]
        options = AnimateOptions(lang=self.corpus.options.lang, fps=spec.fps, viseme_set=spec.viseme_set,
                                 formats=spec.formats, adapter=spec.adapter, use_model=spec.use_model,
                                 model=spec.model)
        result = animate_item(item, aligned, options, name=spec.name)
        formats = [f for f in spec.formats if f != "wav" or result.audio is not None]
        written = result.save(staging, formats, stem=stem, plot=spec.plot, preview=spec.preview, summary=True)
        return result.summary(written)


@dataclass
class StageClock:
    """A runner :class:`~visemes.pipeline.runner.Progress` that notes when each phase began."""

    phases: list[tuple[str, float]] = field(default_factory=list)

    def phase(self, name: str, total: int) -> None:
        self.phases.append((name, time.perf_counter()))

    def advance(self, outcome: FileOutcome | None = None) -> None:
        pass

    def seconds(self, end: float) -> dict[str, float]:
        """Seconds per phase: ``prepare`` (features of every file), ``adapt`` (the pooled adaptation)."""
        out: dict[str, float] = {}
        for (name, start), (_, stop) in zip(self.phases, [*self.phases[1:], ("end", end)]):
            if name == "preparing":
                out["prepare_seconds"] = round(stop - start, 4)
            elif name.startswith("adapting"):
                out["adapt_seconds"] = round(stop - start, 4)
        return out


def _link_inputs(folder: Path, rel: str, spec: JobSpec) -> None:
    """``<rel>.wav`` + ``<rel>.txt`` (or ``.TextGrid`` / ``.alignment.json``) in ``folder``: links to the job's
    checked files. ``rel`` ends in the job's name, so the documents name what ``animate-corpus`` would."""
    audio = Path(spec.audio or "")
    (folder / rel).parent.mkdir(parents=True, exist_ok=True)
    os.symlink(audio, folder / f"{rel}{audio.suffix.lower()}")
    if spec.timings is not None:
        suffix = ".TextGrid" if spec.timings.endswith(".TextGrid") else ".alignment.json"
        os.symlink(spec.timings, folder / f"{rel}{suffix}")
    else:
        (folder / f"{rel}.txt").write_text((spec.text or "") + "\n", encoding="utf-8")


def _gone(spec: JobSpec) -> RunOutcome:
    return RunOutcome(False, error_type="AudioError", error=f"The audio file {Path(spec.audio or '').name} is no "
                      "longer on the server; submit the job again with the file in place.")


def run_pooled(specs: Sequence[JobSpec], run_ids: Sequence[str], jobs: int = 1) -> list[RunOutcome]:
    """Run ``specs`` (all :func:`~visemes.service.jobspec.pooled`, one language) as one corpus: this
    process adapts, ``jobs`` worker processes prepare and decode (1: this process does everything), as
    ``animate-corpus --jobs``. One outcome per job, in order. Errors come back as values."""
    started = time.perf_counter()
    assert specs and len(specs) == len(run_ids) and all(pooled(s) for s in specs)
    assert len({s.lang for s in specs}) == 1, "one language per group"
    work = Path(specs[0].job_dir) / f".corpus-{run_ids[0]}"
    # <batch position>/<job name>: corpus order is batch order; names are safe_name()s (never a path)
    rels = [f"{i:04d}/{spec.name}" for i, spec in enumerate(specs)]
    if not any(Path(spec.audio or "").is_file() for spec in specs):
        return [_gone(spec) for spec in specs]
    try:
        shutil.rmtree(work, ignore_errors=True)
        (work / "in").mkdir(parents=True)
        for rel, spec in zip(rels, specs):
            _link_inputs(work / "in", rel, spec)
        targets = {rel: str(Path(spec.job_dir) / f"out-{run_id}") for rel, spec, run_id in zip(rels, specs, run_ids)}
        job = GroupJob(AnimateJob(AnimateOptions(lang=str(specs[0].lang)), get_aligner("builtin")),
                       dict(zip(rels, specs)), JobFolders(targets))
        clock = StageClock()
        # the links are the service's own, to checked files
        report = run_corpus(work / "in", work / "out", job, jobs=max(1, int(jobs)), follow_symlinks=True,
                            progress=clock)
    except VisemesError as exc:
        return [RunOutcome(False, error_type=type(exc).__name__, error=str(exc)) for _ in specs]
    except Exception as exc:  # a bug, not bad input: keep the traceback's last lines for the operator
        tail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)[-3:])
        return [RunOutcome(False, error_type="InternalError", error=f"{type(exc).__name__}: {exc}\n{tail}")
                for _ in specs]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ended = time.perf_counter()
    shared = {**clock.seconds(ended), "group_seconds": round(ended - started, 4), "group_jobs": len(specs),
              "group_processes": max(1, int(jobs))}
    outcomes = {o.rel: o for o in report.outcomes}
    out = []
    for rel, run_id, spec in zip(rels, run_ids, specs):
        o = outcomes.get(rel)
        if o is None and not Path(spec.audio or "").is_file():  # a server-side file removed since the submit
            out.append(_gone(spec))
        elif o is None:
            out.append(RunOutcome(False, error_type="InternalError", error="the corpus runner returned nothing for it"))
        elif o.status == "done":
            out.append(RunOutcome(True, f"out-{run_id}", dict(o.summary),
                                  {**shared, "file_seconds": round(o.seconds, 4)}))
        else:
            out.append(RunOutcome(False, error_type=o.error_type, error=o.message,
                                  timings={**shared, "file_seconds": round(o.seconds, 4)}))
    return out
