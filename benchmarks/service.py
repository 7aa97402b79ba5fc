"""HTTP service benchmark, loopback only, bounded in count and time.

1. **API load**: ``visemes serve`` in a subprocess; ``--clients`` concurrent clients (asyncio + httpx)
   submit ``--submits`` text-only jobs (every tenth submit is retried with the same Idempotency-Key),
   then poll job status ``--polls`` times. Reports submits/s, polls/s, p50/p95 latency, and checks that
   no job was lost or duplicated (the listed jobs are exactly the distinct submitted ids; every retry
   got its original id). The jobs are canceled afterwards.
2. **End-to-end throughput** on the same ``--files`` clips (espeak-ng speech, made here; or
   ``--corpus DIR`` of NAME.wav|flac + NAME.txt in ``--lang``): ``visemes animate-corpus --jobs J``
   against a fresh ``visemes serve --jobs J`` given the corpus as one batch (server-side paths), each
   run ``--repeats`` times, alternating; audio seconds per wall second for each, and a byte-for-byte
   comparison of every JSON document with animate-corpus's.

    python benchmarks/service.py --clients 100 --submits 400 --polls 2000 --files 12 --jobs 1
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [str(_HERE.parent)] + [p for p in sys.path if Path(p or ".").resolve() != _HERE]
ROOT = _HERE.parent
TOKEN = "bench-token-0123456789"
SENTENCES = ["hello world", "good morning to you", "thank you very much", "see you tomorrow",
             "the quick brown fox jumps", "where is the station", "I would like a coffee", "it is raining again"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


class Server:
    def __init__(self, data: Path, jobs: int, allowed_root: Path | None = None):
        self.port = free_port()
        cmd = [sys.executable, "-m", "visemes.cli.main", "serve", "--port", str(self.port), "--data", str(data),
               "--jobs", str(jobs)]
        if allowed_root is not None:
            cmd += ["--allowed-root", str(allowed_root)]
        env = {**os.environ, "VISEMES_TOKENS": f"bench {TOKEN}", "MPLBACKEND": "Agg", "JAX_PLATFORMS": "cpu",
               "PYTHONPATH": str(ROOT)}
        self.log = open(data.parent / f"serve-{self.port}.log", "wb")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.url = f"http://127.0.0.1:{self.port}"

    def wait(self, timeout: float = 120.0) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/v1/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise SystemExit("visemes serve did not start")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # its worker processes, if any are left
        except ProcessLookupError:
            pass
        self.log.close()


async def api_load(url: str, clients: int, submits: int, polls: int, time_limit: float) -> dict:
    import httpx

    headers = {"authorization": f"Bearer {TOKEN}"}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    submit_lat: list[float] = []
    poll_lat: list[float] = []
    ids: dict[str, str] = {}   # idempotency key -> job id
    retries_ok = retries = errors = 0
    deadline = time.monotonic() + time_limit
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=60) as client:
        queue: asyncio.Queue = asyncio.Queue()
        for n in range(submits):
            queue.put_nowait(n)

        async def submitter() -> None:
            nonlocal retries_ok, retries, errors
            while not queue.empty() and time.monotonic() < deadline:
                n = queue.get_nowait()
                key = f"bench-{n}"
                body = {"text": SENTENCES[n % len(SENTENCES)], "lang": "en-US", "use_model": False}
                t0 = time.perf_counter()
                r = await client.post("/v1/jobs", json=body, headers={"Idempotency-Key": key})
                submit_lat.append(time.perf_counter() - t0)
                if r.status_code != 201:
                    errors += 1
                    continue
                ids[key] = r.json()["id"]
                if n % 10 == 0:  # a client that did not see the answer and retries
                    retries += 1
                    again = await client.post("/v1/jobs", json=body, headers={"Idempotency-Key": key})
                    retries_ok += again.status_code == 200 and again.json()["id"] == ids[key]

        t0 = time.perf_counter()
        await asyncio.gather(*(submitter() for _ in range(clients)))
        submit_wall = time.perf_counter() - t0
        job_ids = list(ids.values())
        counter = iter(range(polls))

        async def poller() -> None:
            nonlocal errors
            for n in counter:
                if time.monotonic() >= deadline:
                    return
                t0 = time.perf_counter()
                r = await client.get(f"/v1/jobs/{job_ids[n % len(job_ids)]}")
                poll_lat.append(time.perf_counter() - t0)
                errors += r.status_code != 200

        t0 = time.perf_counter()
        await asyncio.gather(*(poller() for _ in range(clients)))
        poll_wall = time.perf_counter() - t0
        listed: list[str] = []
        page: int | None = 1
        while page is not None and page <= submits:
            body = (await client.get("/v1/jobs", params={"page": page, "per_page": 100})).json()
            listed += [j["id"] for j in body["jobs"]]
            page = body["next_page"]
        for job_id in job_ids:
            await client.delete(f"/v1/jobs/{job_id}")
    return {"submits": len(submit_lat), "submit_wall": submit_wall, "submit_lat": submit_lat,
            "polls": len(poll_lat), "poll_wall": poll_wall, "poll_lat": poll_lat, "errors": errors,
            "distinct": len(set(job_ids)), "accepted": len(job_ids),
            "lost": len(set(job_ids) - set(listed)), "duplicated": len(listed) - len(set(listed)),
            "extra": len(set(listed) - set(job_ids)), "retries": retries, "retries_ok": retries_ok}


def make_clips(folder: Path, n: int) -> None:
    import soundfile as sf

    from visemes.pipeline.animator import animate

    folder.mkdir(parents=True)
    for i in range(n):
        text = " ".join(SENTENCES[(i + k) % len(SENTENCES)] for k in range(3))  # ~3-4 s each
        result = animate(text=text, lang="en-US", use_model=False)
        sf.write(folder / f"clip{i:03d}.wav", result.audio, result.sample_rate, subtype="PCM_16")
        (folder / f"clip{i:03d}.txt").write_text(text + "\n", encoding="utf-8")


AUDIO = (".wav", ".flac", ".ogg")


def audio_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in AUDIO)  # corpus order (by name)


def audio_seconds(folder: Path) -> float:
    import soundfile as sf

    return sum(sf.info(str(p)).duration for p in audio_files(folder))


def run_cli(corpus: Path, out: Path, jobs: int, lang: str, use_model: bool, time_limit: float) -> float:
    env = {**os.environ, "MPLBACKEND": "Agg", "JAX_PLATFORMS": "cpu", "PYTHONPATH": str(ROOT)}
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "visemes.cli.main", "animate-corpus", str(corpus), str(out), "--lang", lang,
                    "--jobs", str(jobs), "--format", "json", "--quiet", *([] if use_model else ["--no-model"])],
                   cwd=ROOT, env=env, check=True, timeout=time_limit)
    return time.perf_counter() - t0


def run_service(tmp: Path, corpus: Path, jobs: int, lang: str, use_model: bool, time_limit: float,
                docs: Path, warm: bool = True) -> dict:
    """The corpus as one batch (server-side paths, in corpus order, each named after its file) on a fresh
    `visemes serve --jobs J`; wall time from the submit to the batch's completion (the worker processes
    start on the first job, as animate-corpus starts its own). Downloads each JSON document into ``docs``.
    ``warm``: then the same batch again on the same server (its workers already running), timed apart."""
    import httpx

    server = Server(tmp / f"svc-data-{time.monotonic_ns()}", jobs, allowed_root=corpus)
    try:
        server.wait()
        headers = {"authorization": f"Bearer {TOKEN}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=60) as client:
            files = audio_files(corpus)
            manifest = {"defaults": {"lang": lang, "use_model": use_model, "formats": "json"},
                        "jobs": [{"audio_path": f.name, "name": f.stem,
                                  "text": f.with_suffix(".txt").read_text(encoding="utf-8").strip()} for f in files]}

            def one_batch() -> tuple[float, dict, list[dict]]:
                t0 = time.perf_counter()
                r = client.post("/v1/batches", json=manifest)
                r.raise_for_status()
                batch_id = r.json()["id"]
                deadline = time.monotonic() + time_limit
                batch: dict = {}
                while time.monotonic() < deadline:
                    batch = client.get(f"/v1/batches/{batch_id}").json()
                    if batch["done"]:
                        break
                    time.sleep(0.1)
                wall = time.perf_counter() - t0
                return wall, batch, client.get(f"/v1/batches/{batch_id}", params={"expand": "jobs"}).json()["jobs"]

            wall, batch, jobs_view = one_batch()  # cold: the worker processes start with it
            docs.mkdir(parents=True, exist_ok=True)
            for f, job in zip(files, jobs_view):
                if job["state"] == "succeeded":
                    (docs / f"{f.stem}.json").write_bytes(client.get(f"/v1/jobs/{job['id']}/outputs").content)
            warm_wall, _, warm_jobs = one_batch() if warm else (None, None, [])  # the same again, workers running
    finally:
        server.stop()
    stages = jobs_view[0]["timings"] if jobs_view else {}
    return {"wall": wall, "warm_wall": warm_wall, "files": len(files),
            "succeeded": sum(j["state"] == "succeeded" for j in [*jobs_view, *warm_jobs]),
            "stages": stages, "batch": batch.get("timings", {})}


def throughput(tmp: Path, corpus: Path, jobs: int, lang: str, use_model: bool, time_limit: float,
               repeats: int) -> dict:
    """animate-corpus and the service on the same corpus, alternating (CLI, service, CLI, service...) so
    both see the same machine load; every run's outputs compared byte for byte with the first CLI run's."""
    cli_walls, svc_runs, identical = [], [], []
    reference = tmp / "cli-out-0"
    for n in range(repeats):
        out = tmp / f"cli-out-{n}"
        cli_walls.append(run_cli(corpus, out, jobs, lang, use_model, time_limit))
        docs = tmp / f"svc-docs-{n}"
        svc_runs.append(run_service(tmp, corpus, jobs, lang, use_model, time_limit, docs))
        same = 0
        for f in audio_files(corpus):
            ours, cli = docs / f"{f.stem}.json", reference / f.stem / "visemes.json"
            same += ours.is_file() and cli.is_file() and ours.read_bytes() == cli.read_bytes()
        identical.append(same)
    return {"cli_walls": cli_walls, "svc": svc_runs, "identical": identical}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--submits", type=int, default=400)
    parser.add_argument("--polls", type=int, default=2000)
    parser.add_argument("--files", type=int, default=12, help="clips for the throughput part (0: skip it)")
    parser.add_argument("--corpus", type=Path, default=None, help="NAME.wav + NAME.txt folder instead of clips")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes, for both the CLI and the service "
                        "(1: the measured default of animate-corpus on <= 2 cores)")
    parser.add_argument("--lang", default="en-US", help="language of the --corpus files")
    parser.add_argument("--repeats", type=int, default=2, help="throughput runs of each, alternating")
    parser.add_argument("--model", action="store_true", help="neural model curves (default: coarticulation)")
    parser.add_argument("--time-limit", type=float, default=300.0, help="seconds per part, at most")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="visemes-bench-service-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "load").mkdir()
        server = Server(tmp / "load" / "data", jobs=1)
        try:
            server.wait()
            load = asyncio.run(api_load(server.url, args.clients, args.submits, args.polls, args.time_limit))
        finally:
            server.stop()
        print(f"API load: {args.clients} concurrent clients on loopback, one `visemes serve` process")
        print(f"{'request':<10} {'count':>6} {'per s':>8} {'p50 ms':>8} {'p95 ms':>8}")
        for name, n, wall, lat in (("submit", load["submits"], load["submit_wall"], load["submit_lat"]),
                                   ("status", load["polls"], load["poll_wall"], load["poll_lat"])):
            print(f"{name:<10} {n:>6} {n / wall:>8.1f} {pct(lat, .5) * 1e3:>8.1f} {pct(lat, .95) * 1e3:>8.1f}")
        print(f"jobs accepted {load['accepted']}, distinct {load['distinct']}, lost {load['lost']}, "
              f"duplicated {load['duplicated']}, unexpected {load['extra']}; idempotent retries "
              f"{load['retries_ok']}/{load['retries']} got the same job; errors {load['errors']}")

        if args.files or args.corpus:
            corpus = args.corpus
            if corpus is None:
                corpus = tmp / "clips"
                make_clips(corpus, args.files)
            seconds = audio_seconds(corpus)
            result = throughput(tmp, corpus, args.jobs, args.lang, args.model, args.time_limit, args.repeats)
            n = len(audio_files(corpus))
            print()
            print(f"end to end: {n} files, {seconds:.1f} s of audio, --jobs {args.jobs} for both, "
                  f"{'neural model' if args.model else 'coarticulation'} curves, JSON output; the service gets "
                  "the corpus as one batch (one corpus run, pooled adaptation)")
            print(f"{'run':<4} {'animate-corpus s':>17} {'service s':>10} {'CLI audio s/s':>14} {'svc audio s/s':>14} "
                  f"{'svc / CLI':>10} {'identical':>10} {'warm svc s':>11}")
            for i, (cli, svc, same) in enumerate(zip(result["cli_walls"], result["svc"], result["identical"]), 1):
                print(f"{i:<4} {cli:>17.1f} {svc['wall']:>10.1f} {seconds / cli:>14.2f} {seconds / svc['wall']:>14.2f} "
                      f"{cli / svc['wall']:>10.2f} {same:>5}/{n:<4} {svc['warm_wall']:>11.1f}")
            cli_med = statistics.median(result["cli_walls"])
            svc_med = statistics.median(s["wall"] for s in result["svc"])
            print(f"median: service throughput / animate-corpus throughput = {cli_med / svc_med:.2f} "
                  f"({seconds / svc_med:.2f} vs {seconds / cli_med:.2f} audio s per wall s); "
                  f"succeeded {[s['succeeded'] for s in result['svc']]} of {2 * n} (cold + warm batch); warm batch "
                  f"median {statistics.median(s['warm_wall'] for s in result['svc']):.1f} s")
            last = result["svc"][-1]
            stages = {k: v for k, v in last["stages"].items() if k.endswith("seconds") or k.startswith("group")}
            print(f"service stages (last run, from GET /v1/jobs/{{id}}): {stages}; batch {last['batch']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
