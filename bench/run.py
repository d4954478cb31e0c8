"""Load Hearth and the bare Flask-SocketIO stack with the same rooms of phones; compare.

    python -m bench.run                                 # the whole matrix (make bench)
    python -m bench.run --scenario saturation --mode gevent --db postgresql --procs 2

For each scenario the same load runs against Hearth (`python wsgi.py`) and against the bare app
(`bench/bare_app.py`) in the same async mode, one after the other. It prints a table, one JSON
object per scenario, and last the headline JSON object (the first scenario, with every
scenario's figures under "scenarios").
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from bisect import bisect_left
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bench.loadgen import Load, RoomStats, worker

ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("HEARTH_BENCH_PG_URL", "postgresql://127.0.0.1:5432/test_bench")
REDIS_URL = os.environ.get("HEARTH_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
CHANNEL = "hearth-bench"  # our own pub/sub channel on a Redis others share


@dataclass(frozen=True)
class Scenario:
    name: str
    rooms: int
    phones: int
    votes: int
    think: float  # seconds between a phone's ack and its next answer (jittered +-50%)
    spread: float  # phones start within this many seconds
    deadline: float = 0.0  # stop sending new answers after this many seconds (0: never)
    mode: str = "eventlet"
    db: str = "sqlite"
    procs: int = 1


SCENARIOS = {
    # Offered load above what one core serves: 1,000 phones, each answering every ~0.35 s
    # (under the per-connection limit of 30 per 10 s), for 12 s.
    "saturation": Scenario("saturation", 40, 25, 100, 0.35, 0.5, deadline=12.0),
    # 40 rooms x 25 phones, each answering once every 5 s, for 30 s.
    "realistic": Scenario("realistic", 40, 25, 6, 5.0, 5.0),
    # CI smoke: a few rooms, a few answers each; checks correctness only.
    "smoke": Scenario("smoke", 3, 6, 3, 0.05, 0.2),
}

MATRIX = [
    ("saturation", "eventlet", "sqlite", 1),
    ("saturation", "gevent", "sqlite", 1),
    ("realistic", "eventlet", "sqlite", 1),
    ("realistic", "gevent", "sqlite", 1),
    ("saturation", "eventlet", "postgresql", 1),
    ("saturation", "gevent", "postgresql", 1),
    ("realistic", "gevent", "postgresql", 1),
    ("saturation", "gevent", "postgresql", 2),
    ("realistic", "gevent", "postgresql", 2),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mb(pid: int) -> float:
    """Resident memory of one process, from /proc (Linux)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def load_average() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


class Server:
    """One server process (Hearth's wsgi.py or the bare app) on a free port."""

    def __init__(self, target: str, mode: str, env: dict[str, str], log_dir: Path, name: str):
        self.target, self.mode, self.name = target, mode, name
        self.port = free_port()
        self.env = env
        self.log_dir = log_dir
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> Server:
        script = "wsgi.py" if self.target == "hearth" else "bench/bare_app.py"
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("SOCKETIO_", "DATABASE_", "RATELIMIT_", "PYTHONTRACEMALLOC"))
        }
        env.update(self.env, SOCKETIO_ASYNC_MODE=self.mode, PORT=str(self.port), HOST="127.0.0.1")
        log = open(self.log_dir / f"{self.name}.log", "wb")  # noqa: SIM115
        with log:
            self.proc = subprocess.Popen(
                [sys.executable, script], cwd=ROOT, env=env, stdout=log, stderr=log
            )
        try:
            wait_healthy(self.url, timeout, self.proc, self.log_dir / f"{self.name}.log")
        except BaseException:
            self.stop()
            raise
        profile = os.environ.get("HEARTH_BENCH_PYSPY")
        if profile and self.target == "hearth":  # sample the server with py-spy, if installed
            subprocess.Popen(
                [
                    str(Path(sys.executable).parent / "py-spy"),
                    "record",
                    "--pid",
                    str(self.proc.pid),
                    "--format",
                    "raw",
                    "--nonblocking",
                    "-r",
                    "200",
                    "-o",
                    f"{profile}.{self.name}.txt",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        return self

    def cpu_seconds(self) -> float:
        """User plus system CPU time the process has used, from /proc (Linux)."""
        with open(f"/proc/{self.proc.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss(self) -> float:
        return rss_mb(self.proc.pid)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def wait_healthy(url: str, timeout: float, proc: subprocess.Popen | None, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{url} exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer /healthz within {timeout} s")


def nginx_binary() -> str:
    """Debian's nginx (in /usr/sbin, which is not on every user's PATH)."""
    return shutil.which("nginx") or "/usr/sbin/nginx"


class Nginx:
    """nginx in front of several servers, from deploy/nginx.conf, as a process of our own."""

    def __init__(self, upstreams: list[int], run_dir: Path):
        self.port = free_port()
        self.run_dir = run_dir
        self.upstreams = upstreams
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Nginx:
        from bench.nginx import prepare, render

        prepare(self.run_dir)
        conf = self.run_dir / "nginx.conf"
        conf.write_text(render(self.port, self.upstreams))
        # Started as root, nginx's workers would drop to `nobody`, who cannot enter our
        # private temporary folder: keep them as the user who runs the benchmark.
        globals_ = "daemon off;" + (" user root;" if os.geteuid() == 0 else "")
        self.proc = subprocess.Popen(
            [nginx_binary(), "-p", str(self.run_dir), "-c", str(conf), "-g", globals_],
            stdout=subprocess.DEVNULL,
            stderr=open(self.run_dir / "logs" / "stderr.log", "wb"),  # noqa: SIM115
        )
        wait_healthy(self.url, 10, self.proc, self.run_dir / "logs" / "stderr.log")
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def database_url(scenario: Scenario, work: Path) -> str:
    if scenario.db == "postgresql":
        return PG_URL
    return "sqlite:///" + str(work / "hearth.db")


def drive_load(load: Load, rooms: list[dict], workers: int, servers: list[Server], settle: float):
    """Run the load generator processes; return (stats, start, rss before/connected/after)."""
    ctx = multiprocessing.get_context("spawn")
    ready_q, go_q, result_q = ctx.Queue(), ctx.Queue(), ctx.Queue()
    shares = [rooms[i::workers] for i in range(workers)]
    shares = [s for s in shares if s]
    rss_idle = sum(s.rss() for s in servers)
    procs = [
        ctx.Process(target=worker, args=(load, share, ready_q, go_q, result_q, settle))
        for share in shares
    ]
    for p in procs:
        p.start()
    try:
        for _ in procs:
            if not ready_q.get(timeout=600):
                break
        rss_connected = sum(s.rss() for s in servers)
        cpu_before = sum(s.cpu_seconds() for s in servers)
        start = time.time() + 0.5
        for _ in procs:
            go_q.put(start)
        stats: list[RoomStats] = []
        for _ in procs:
            status, value = result_q.get(timeout=900)
            if status != "ok":
                raise RuntimeError("load generator failed:\n" + value)
            stats.extend(value)
        rss_after = sum(s.rss() for s in servers)
        cpu = sum(s.cpu_seconds() for s in servers) - cpu_before
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()
    return stats, start, (rss_idle, rss_connected, rss_after), cpu


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def screen_lags(stats: RoomStats, strict: bool = False) -> list[float]:
    """Per answer: from sending it to the screen receiving the first snapshot built after that.

    "Built after" reads the snapshot's own clock (server_now; same machine, same clock). A
    snapshot built between the send and the commit would not show the answer yet, so this is a
    little optimistic when another answer's redraw falls in that window; `strict` asks instead
    for a snapshot built after the phone received its ack (sure to show it, but pessimistic: a
    redraw that overtakes the ack, the usual case when idle, does not count).
    """
    updates = sorted(stats.screen)
    received = [u[0] for u in updates]
    lags = []
    for sent, acked in stats.answers:
        after = acked if strict else sent
        i = bisect_left(received, after)
        while i < len(updates) and updates[i][1] < after:
            i += 1
        if i < len(updates):
            lags.append(updates[i][0] - sent)
    return lags


def measure(stats: list[RoomStats], start: float, deadline: float) -> dict[str, Any]:
    answers = [a for s in stats for a in s.answers]
    acked = [a[1] for a in answers]
    end = max(acked) if acked else start
    if deadline:
        end = min(end, start + deadline)
    counted = sum(1 for t in acked if t <= end)
    latencies = [(a[1] - a[0]) * 1000 for a in answers]
    lags = [lag * 1000 for s in stats for lag in screen_lags(s)]
    strict_lags = [lag * 1000 for s in stats for lag in screen_lags(s, strict=True)]
    errors: dict[str, int] = {}
    for s in stats:
        for code, n in s.errors.items():
            errors[code] = errors.get(code, 0) + n
    in_window = [u for s in stats for u in s.screen if start <= u[0] <= end]
    seconds = max(end - start, 1e-9)
    return {
        "answers": len(answers),
        "answers_per_s": round(counted / seconds, 1),
        "ack_p50_ms": _round(pct(latencies, 0.50)),
        "ack_p95_ms": _round(pct(latencies, 0.95)),
        "ack_p99_ms": _round(pct(latencies, 0.99)),
        "screen_lag_p50_ms": _round(pct(lags, 0.50)),
        "screen_lag_p95_ms": _round(pct(lags, 0.95)),
        "screen_lag_after_ack_p95_ms": _round(pct(strict_lags, 0.95)),
        "screen_updates_per_room_s": round(len(in_window) / seconds / max(len(stats), 1), 2),
        "screen_updates_per_100_answers": round(100 * len(in_window) / max(counted, 1), 1),
        "phones_connected": sum(s.connected for s in stats),
        "screens_connected": sum(1 for s in stats if s.screen_connected),
        "refused": [r for s in stats for r in s.refused][:5],
        "errors": errors,
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def count_lost(url: str, rooms: list[dict], stats: list[RoomStats]) -> int:
    """Phones whose last acknowledged answer is not in the database.

    Each answer replaces the phone's previous one, so the database must hold the phone's last
    acknowledged answer, or one it sent after that (a re-send whose ack timed out may still
    have been committed).
    """
    from bench.seed import stored_answers
    from facilitation.anonymity import slot_key

    by_room = {r["room"]: r for r in rooms}
    stored = stored_answers(url, [r["activity_id"] for r in rooms])
    lost = 0
    for s in stats:
        activity_id = by_room[s.room]["activity_id"]
        for secret in s.last_acked:
            stored_id = stored.get((activity_id, slot_key(secret, activity_id)))
            if stored_id not in s.sent_since_ack[secret]:
                lost += 1
    return lost


def run_target(target: str, scenario: Scenario, workers: int, work: Path) -> dict[str, Any]:
    """Seed (Hearth), start the server(s), drive the load, check the database, stop."""
    from bench.seed import SECRET_KEY, reset_schema, seed_rooms

    run_dir = work / target
    run_dir.mkdir(parents=True, exist_ok=True)
    url = database_url(scenario, work)
    if target == "hearth":
        reset_schema(url)
        rooms = seed_rooms(url, scenario.rooms, scenario.phones)
    else:
        members = list(range(scenario.phones))
        rooms = [
            {"room": r, "member_ids": members, "activity_id": 0} for r in range(scenario.rooms)
        ]
    env = {
        "DATABASE_URL": url,
        "SECRET_KEY": SECRET_KEY,
        "ARGON2_PROFILE": "cheapest",
        "PYTHONUNBUFFERED": "1",
    }
    if scenario.procs > 1:
        env.update(SOCKETIO_MESSAGE_QUEUE=REDIS_URL, SOCKETIO_CHANNEL=CHANNEL + f"-{target}")
        env.update(FORWARDED_PROXIES="1")
    servers: list[Server] = []
    nginx = None
    try:
        for i in range(scenario.procs):
            servers.append(Server(target, scenario.mode, env, run_dir, f"server-{i}").start())
        base = servers[0].url
        if scenario.procs > 1:
            nginx = Nginx([s.port for s in servers], run_dir / "nginx").start()
            base = nginx.url
        load = Load(
            target=target,
            base_url=base,
            votes=scenario.votes,
            think=scenario.think,
            start_spread=scenario.spread,
            deadline=scenario.deadline,
        )
        loadavg = load_average()
        stats, start, (rss_idle, rss_conn, rss_after), cpu = drive_load(
            load, rooms, workers, servers, settle=1.0
        )
    finally:
        if nginx is not None:
            nginx.stop()
        for s in servers:
            s.stop()
    result = measure(stats, start, scenario.deadline)
    connections = result["phones_connected"] + result["screens_connected"]
    result.update(
        rss_mb=round(rss_after, 1),
        rss_idle_mb=round(rss_idle, 1),
        mb_per_1000_connections=round((rss_conn - rss_idle) / max(connections, 1) * 1000, 1),
        server_cpu_ms_per_answer=round(cpu * 1000 / max(result["answers"], 1), 2),
        load_before=loadavg,
        load_after=load_average(),
    )
    result["lost"] = count_lost(url, rooms, stats) if target == "hearth" else 0
    return result


def run_scenario(scenario: Scenario, workers: int, hearth_only: bool = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="hearth-bench-") as tmp:
        work = Path(tmp)
        hearth = run_target("hearth", scenario, workers, work)
        bare = run_target("bare", scenario, workers, work) if not hearth_only else hearth
    expected = scenario.rooms * scenario.phones
    return {
        "scenario": scenario.name,
        "async_mode": scenario.mode,
        "db": scenario.db,
        "procs": scenario.procs,
        "rooms": scenario.rooms,
        "phones_per_room": scenario.phones,
        "answers_per_s": hearth["answers_per_s"],
        "bare_answers_per_s": bare["answers_per_s"],
        "ratio": round(hearth["answers_per_s"] / max(bare["answers_per_s"], 1e-9), 2),
        "ack_p50_ms": hearth["ack_p50_ms"],
        "ack_p95_ms": hearth["ack_p95_ms"],
        "ack_p99_ms": hearth["ack_p99_ms"],
        "screen_lag_p50_ms": hearth["screen_lag_p50_ms"],
        "screen_lag_p95_ms": hearth["screen_lag_p95_ms"],
        "screen_lag_after_ack_p95_ms": hearth["screen_lag_after_ack_p95_ms"],
        "screen_updates_per_100_answers": hearth["screen_updates_per_100_answers"],
        "screen_updates_per_room_s": hearth["screen_updates_per_room_s"],
        "cpu_ms_per_answer": hearth["server_cpu_ms_per_answer"],
        "bare_cpu_ms_per_answer": bare["server_cpu_ms_per_answer"],
        "bare_ack_p95_ms": bare["ack_p95_ms"],
        "bare_screen_lag_p95_ms": bare["screen_lag_p95_ms"],
        "connections": hearth["phones_connected"] + hearth["screens_connected"],
        "connections_expected": expected + scenario.rooms,
        "answers": hearth["answers"],
        "lost": hearth["lost"],
        "errors": hearth["errors"],
        "refused": hearth["refused"],
        "rss_mb": hearth["rss_mb"],
        "mb_per_1000_connections": hearth["mb_per_1000_connections"],
        "bare_rss_mb": bare["rss_mb"],
        "bare_mb_per_1000_connections": bare["mb_per_1000_connections"],
        "load": hearth["load_before"],
    }


COLUMNS = [
    ("scenario", "scenario"),
    ("async_mode", "mode"),
    ("db", "db"),
    ("procs", "procs"),
    ("answers_per_s", "ans/s"),
    ("bare_answers_per_s", "bare ans/s"),
    ("ratio", "ratio"),
    ("ack_p50_ms", "ack p50"),
    ("ack_p95_ms", "ack p95"),
    ("ack_p99_ms", "ack p99"),
    ("screen_lag_p95_ms", "screen p95"),
    ("screen_updates_per_100_answers", "redraws/100 ans"),
    ("cpu_ms_per_answer", "CPU ms/ans"),
    ("bare_cpu_ms_per_answer", "bare CPU ms/ans"),
    ("connections", "conns"),
    ("lost", "lost"),
    ("rss_mb", "RSS MB"),
    ("mb_per_1000_connections", "MB/1k conns"),
    ("load", "load (1/5/15 min)"),
]


def table(results: list[dict[str, Any]]) -> str:
    head = "| " + " | ".join(title for _, title in COLUMNS) + " |"
    rule = "|" + "|".join("---" for _ in COLUMNS) + "|"
    rows = ["| " + " | ".join(str(r.get(key)) for key, _ in COLUMNS) + " |" for r in results]
    return "\n".join([head, rule, *rows])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--mode", choices=["eventlet", "gevent"], default="eventlet")
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--procs", type=int, default=1)
    parser.add_argument("--rooms", type=int)
    parser.add_argument("--phones", type=int)
    parser.add_argument("--votes", type=int)
    parser.add_argument("--workers", type=int, default=2, help="load generator processes")
    parser.add_argument("--hearth-only", action="store_true", help="skip the bare stack")
    args = parser.parse_args(argv)
    if args.scenario:
        base = SCENARIOS[args.scenario]
        runs = [replace(base, mode=args.mode, db=args.db, procs=args.procs)]
    else:
        runs = [
            replace(SCENARIOS[name], mode=mode, db=db, procs=procs)
            for name, mode, db, procs in MATRIX
        ]
    runs = [
        replace(
            s,
            rooms=args.rooms or s.rooms,
            phones=args.phones or s.phones,
            votes=args.votes or s.votes,
        )
        for s in runs
    ]
    results = []
    for scenario in runs:
        print(
            f"# {scenario.name} {scenario.mode} {scenario.db} x{scenario.procs} "
            f"({scenario.rooms} rooms x {scenario.phones} phones), load {load_average()}",
            file=sys.stderr,
            flush=True,
        )
        result = run_scenario(scenario, args.workers, args.hearth_only)
        results.append(result)
        print(json.dumps(result), flush=True)
    print(table(results), flush=True)
    headline = dict(results[0])
    if len(results) > 1:
        headline["scenarios"] = results
    print(json.dumps(headline), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
