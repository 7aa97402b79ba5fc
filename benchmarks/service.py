"""HTTP service benchmark, loopback only, bounded in count and time.

1. **API load**: ``visemes serve`` in a subprocess; ``--clients`` concurrent clients (asyncio + httpx)
   submit ``--submits`` text-only jobs (every tenth submit is retried with the same Idempotency-Key),
   then poll job status ``--polls`` times. Reports submits/s, polls/s, p50/p95 latency, and checks that
   no job was lost or duplicated (the listed jobs are exactly the distinct submitted ids; every retry
   got its original id). The jobs are canceled afterwards.
2. **End-to-end throughput** on the same ``--files`` clips (espeak-ng speech, made here; or
   ``--corpus DIR`` of NAME.wav + NAME.txt): ``visemes animate-corpus --jobs J`` against the service
   with ``--jobs J`` (jobs by server-side path), audio seconds per wall second for each, in the same
   run, and a check that both give the same visemes for every file.

    python benchmarks/service.py --clients 100 --submits 400 --polls 2000 --files 12 --jobs 2
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
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


def audio_seconds(folder: Path) -> float:
    import soundfile as sf

    return sum(sf.info(str(p)).duration for p in sorted(folder.glob("*.wav")))


def visemes_of(path: Path) -> list[str]:
    from visemes.formats import FORMATS

    return [i.label for i in FORMATS["json"].read(path).alignment.visemes]


def throughput(tmp: Path, corpus: Path, jobs: int, use_model: bool, time_limit: float) -> dict:
    import httpx

    model_flag = [] if use_model else ["--no-model"]
    env = {**os.environ, "MPLBACKEND": "Agg", "JAX_PLATFORMS": "cpu", "PYTHONPATH": str(ROOT)}
    out = tmp / "cli-out"
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "visemes.cli.main", "animate-corpus", str(corpus), str(out), "--lang", "en-US",
                    "--jobs", str(jobs), "--format", "json", "--quiet", *model_flag], cwd=ROOT, env=env, check=True,
                   timeout=time_limit)
    cli_wall = time.perf_counter() - t0

    server = Server(tmp / "svc-data", jobs, allowed_root=corpus)
    try:
        server.wait()
        headers = {"authorization": f"Bearer {TOKEN}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=60) as client:
            wavs = sorted(corpus.glob("*.wav"))
            t0 = time.perf_counter()
            job_ids = {}
            for wav in wavs:
                body = {"audio_path": wav.name, "text": wav.with_suffix(".txt").read_text(encoding="utf-8").strip(),
                        "lang": "en-US", "use_model": use_model}
                r = client.post("/v1/jobs", json=body)
                r.raise_for_status()
                job_ids[wav.stem] = r.json()["id"]
            deadline = time.monotonic() + time_limit
            states: dict[str, str] = {}
            while time.monotonic() < deadline:
                states = {s: client.get(f"/v1/jobs/{j}").json()["state"] for s, j in job_ids.items()}
                if all(v in ("succeeded", "failed", "canceled") for v in states.values()):
                    break
                time.sleep(0.2)
            svc_wall = time.perf_counter() - t0
            same = 0
            for stem, job_id in job_ids.items():
                if states.get(stem) != "succeeded":
                    continue
                doc = tmp / f"svc-{stem}.json"
                doc.write_bytes(client.get(f"/v1/jobs/{job_id}/outputs").content)
                cli_docs = [p for p in sorted((out / stem).glob("*.json")) if "summary" not in p.name]
                cli_doc = cli_docs[0] if cli_docs else None
                same += cli_doc is not None and visemes_of(doc) == visemes_of(cli_doc)
    finally:
        server.stop()
    return {"cli_wall": cli_wall, "svc_wall": svc_wall, "files": len(job_ids),
            "succeeded": sum(v == "succeeded" for v in states.values()), "same": same}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--submits", type=int, default=400)
    parser.add_argument("--polls", type=int, default=2000)
    parser.add_argument("--files", type=int, default=12, help="clips for the throughput part (0: skip it)")
    parser.add_argument("--corpus", type=Path, default=None, help="NAME.wav + NAME.txt folder instead of clips")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes, for both the CLI and the service")
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
            result = throughput(tmp, corpus, args.jobs, args.model, args.time_limit)
            print()
            print(f"end to end: {result['files']} files, {seconds:.1f} s of audio, --jobs {args.jobs}, "
                  f"{'neural model' if args.model else 'coarticulation'} curves, JSON output")
            print(f"{'runner':<16} {'wall s':>7} {'audio s / wall s':>17}")
            print(f"{'animate-corpus':<16} {result['cli_wall']:>7.1f} {seconds / result['cli_wall']:>17.2f}")
            print(f"{'visemes serve':<16} {result['svc_wall']:>7.1f} {seconds / result['svc_wall']:>17.2f}")
            print(f"service / CLI throughput: {result['cli_wall'] / result['svc_wall']:.2f}; "
                  f"{result['succeeded']}/{result['files']} succeeded; identical viseme sequences: "
                  f"{result['same']}/{result['files']} (animate-corpus adapts the aligner on the pooled corpus, "
                  "a service job is aligned on its own)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
