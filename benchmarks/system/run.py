#!/usr/bin/env python3
"""Kura's side-by-side system benchmark.

Runs `kura standalone`, Debian's `prometheus` (remote-write receiver) and Debian's
`victoria-metrics` in turn, each with a fresh data directory on 127.0.0.1, feeds every one the
same dataset from `kura-loadgen`, and prints one markdown table with the figures side by side
and the ratios Kura/peer. Per store:

  1. start, wait until ready;
  2. ingest: samples/s, server CPU-seconds per million samples (from /proc/PID/stat, during the
     send), peak RSS (VmHWM) and RSS per active series;
  3. kill -9 right after the last acknowledgement, restart, time until ready and peak RSS while
     recovering;
  4. completeness: `count_over_time` summed over the whole window must equal the samples the
     store acknowledged (Kura must not lose any; a peer's loss is reported);
  5. pause it (SIGSTOP), so that it does no background work while the next store ingests.

Then every store is resumed and, once all are idle, timed on the same range queries over the
whole window, taking turns run by run (median of 5), so that a machine that speeds up or slows
down during the run does not skew the ratios. Last, per store: persist what it can
(Prometheus: a snapshot, which writes its head as a block; VictoriaMetrics:
/internal/force_flush; Kura: a compaction), stop it gracefully (SIGTERM) and measure the bytes
of its data directory per sample.

`--quick` runs a few thousand series over minutes of data so CI can check that the harness
works; only the default run's figures mean anything. The exit status is non-zero when a store
fails to start or answer, or when Kura lost an acknowledged sample.
"""

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# Range queries over the whole window, as Grafana panels ask them.
QUERIES = [
    ("sum by (job) (rate(counter[5m]))",
     "sum by (job) (rate(node_cpu_seconds_total[5m]))"),
    ("histogram_quantile(0.9, ...)",
     "histogram_quantile(0.9, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))"),
    ("topk(5, gauge)", "topk(5, node_filesystem_avail_bytes)"),
    ("one series, raw", 'node_memory_MemAvailable_bytes{instance="10.0.0.0:9100"}'),
    ('count({__name__=~"node_.*"})', 'count({__name__=~"node_.*"})'),
    ("regex on instance",
     'sum(rate(node_network_receive_bytes_total{instance=~"10\\\\.0\\\\.0\\\\.[0-9]:9100"}[5m]))'),
]


class Failure(Exception):
    """The harness could not do what it must (a store did not start, answer or stop)."""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(url, data=None, timeout=600):
    """GET (or form-POST `data`) and return (status, body bytes); never raises on HTTP codes."""
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    try:
        with urllib.request.urlopen(url, data=body, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # Fields after the command: state is #3, utime #14 and stime #15 (man 5 proc).
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def peak_rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise Failure(f"no VmHWM for pid {pid}")


def tree_bytes(path):
    """Apparent size of every file under `path`: what the store wrote, not what it reserved."""
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except FileNotFoundError:
                pass
    return total


def package_version(package):
    r = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", package],
                       capture_output=True, text=True, check=False)
    return r.stdout.strip() or "unknown"


class Store:
    """One system under test: how to start it, when it is ready, how it persists."""

    name = ""
    ready_path = ""
    query_extra = {}

    def __init__(self, workdir):
        self.workdir = workdir
        self.data = workdir / self.name / "data"
        self.data.mkdir(parents=True)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = None
        self.log = None
        self.starts = 0

    def argv(self):
        raise NotImplementedError

    def version(self):
        raise NotImplementedError

    def start(self, timeout):
        """Starts the store; returns seconds until it answered ready."""
        self.starts += 1
        self.log = open(self.workdir / self.name / f"log.{self.starts}", "wb")
        began = time.monotonic()
        self.proc = subprocess.Popen(self.argv(), stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        deadline = began + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise Failure(f"{self.name} exited with {self.proc.returncode} while starting; "
                              f"see {self.log.name}")
            try:
                status, _ = http(self.base + self.ready_path, timeout=2)
                if status == 200:
                    return time.monotonic() - began
            except OSError:
                pass
            time.sleep(0.05)
        raise Failure(f"{self.name} not ready within {timeout}s")

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=60)

    def stop(self, timeout=120):
        """SIGTERM, wait for a clean exit; kills it and fails if it does not stop."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise Failure(f"{self.name} did not stop within {timeout}s of SIGTERM")

    def persist(self):
        """Makes the store write what it holds in memory; returns extra disk figures."""
        return {}

    def query(self, path, params, timeout=600):
        """Form-POSTs `params` to an API path, or GETs it when `params` is None."""
        if params is None:
            status, body = http(self.base + path, timeout=timeout)
        else:
            status, body = http(self.base + path, {**params, **self.query_extra},
                                timeout=timeout)
        try:
            doc = json.loads(body)
        except ValueError:
            doc = {"status": "error", "error": body[:200].decode(errors="replace")}
        if status != 200 or doc.get("status") != "success":
            raise Failure(f"{self.name} {path} {(params or {}).get('query')}: HTTP {status}: "
                          f"{doc.get('error', '')}")
        return doc["data"]


class Kura(Store):
    name = "kura"
    ready_path = "/-/ready"

    def __init__(self, workdir, binary):
        self.binary = binary
        super().__init__(workdir)

    def argv(self):
        return [str(self.binary), "standalone", f"--http.listen-address=127.0.0.1:{self.port}",
                f"--storage.path={self.data}", "--log.level=warn", "--web.enable-admin-api"]

    def persist(self):
        # Kura merges and re-encodes chunks in the background once a partition (a UTC day) has
        # closed; the benchmark's hours stay in an open one, so compact them now, as
        # VictoriaMetrics's force_flush makes it write what it holds.
        status, body = http(self.base + "/api/v1/admin/tsdb/compact", {})
        if status != 204:
            raise Failure(f"kura compact: HTTP {status}: {body[:200]!r}")
        return {}

    def version(self):
        r = subprocess.run([str(self.binary), "--version"], capture_output=True, text=True,
                           check=False)
        words = r.stdout.split()  # "kura, version X"
        return words[-1] if words else "unknown"


class Prometheus(Store):
    name = "prometheus"
    ready_path = "/-/ready"

    def __init__(self, workdir):
        super().__init__(workdir)
        self.config = workdir / self.name / "prometheus.yml"
        self.config.write_text("global:\n  scrape_interval: 15s\n")

    def argv(self):
        return ["prometheus", f"--config.file={self.config}", f"--storage.tsdb.path={self.data}",
                f"--web.listen-address=127.0.0.1:{self.port}", "--web.enable-remote-write-receiver",
                "--web.enable-admin-api", "--log.level=warn"]

    def version(self):
        return package_version("prometheus")

    def persist(self):
        # Prometheus keeps the last hours in its head (WAL + head chunks) and compacts them into a
        # block only later; a snapshot writes the head as a block now, which shows its block size.
        status, body = http(self.base + "/api/v1/admin/tsdb/snapshot", {})
        if status != 200:
            raise Failure(f"prometheus snapshot: HTTP {status}: {body[:200]!r}")
        snapshot = self.data / "snapshots" / json.loads(body)["data"]["name"]
        figures = {"block_bytes": tree_bytes(snapshot)}
        subprocess.run(["rm", "-rf", str(self.data / "snapshots")], check=True)
        return figures

    def disk_split(self):
        wal = tree_bytes(self.data / "wal") + tree_bytes(self.data / "chunks_head")
        return {"wal_bytes": wal, "blocks_bytes": tree_bytes(self.data) - wal}


class VictoriaMetrics(Store):
    name = "victoria-metrics"
    ready_path = "/health"
    # Measure the engine, not VictoriaMetrics's cache of earlier results (Kura and Prometheus
    # have none).
    query_extra = {"nocache": "1"}

    def argv(self):
        return ["victoria-metrics", f"-storageDataPath={self.data}",
                f"-httpListenAddr=127.0.0.1:{self.port}", "-retentionPeriod=10y",
                "-search.latencyOffset=0s", "-loggerLevel=WARN"]

    def version(self):
        return package_version("victoria-metrics")

    def persist(self):
        status, body = http(self.base + "/internal/force_flush")
        if status != 200:
            raise Failure(f"victoria-metrics force_flush: HTTP {status}: {body[:200]!r}")
        return {}


def run_loadgen(args, store, start_s, result):
    """Sends the dataset; server CPU is read when the client starts sending and when it ends."""
    argv = [str(args.loadgen), f"--series={args.series}", f"--duration={args.duration}",
            f"--start={start_s}", f"--scrape-interval={args.scrape_interval}",
            f"--connections={args.connections}", f"--churn={args.churn}",
            f"--url={store.base}/api/v1/write"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    cpu_before = None
    for line in proc.stderr:  # The loadgen writes one line when encoding is done.
        if line.startswith("encoded "):
            cpu_before = cpu_seconds(store.proc.pid)
            break
    try:
        out, err = proc.communicate(timeout=args.ingest_timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise Failure(f"loadgen against {store.name} took over {args.ingest_timeout}s")
    cpu_after = cpu_seconds(store.proc.pid)
    fields = dict(kv.split("=", 1) for kv in out.split())
    if cpu_before is None or "acknowledged" not in fields:
        raise Failure(f"loadgen against {store.name} failed: {err.strip()}")
    acked = int(fields["acknowledged"])
    result.update(
        samples_sent=int(fields["samples_sent"]), acknowledged=acked,
        ingest_seconds=float(fields["seconds"]),
        samples_per_second=float(fields["samples_per_second"]),
        non_2xx=fields["non_2xx"], transport_errors=int(fields["transport_errors"]),
        client_cpu_seconds=float(fields["client_cpu_seconds"]),
        cpu_per_million=(cpu_after - cpu_before) / max(acked, 1) * 1e6,
        peak_rss=peak_rss_bytes(store.proc.pid))


def count_samples(store, at_s, window_s):
    total = 0
    # Per metric name: count_over_time drops the name, so one query over several names would
    # clash on equal label sets; it also keeps each query under the stores' sample limits.
    for name in store.query("/api/v1/label/__name__/values", None):
        data = store.query("/api/v1/query", {
            "query": f'sum(count_over_time({{__name__="{name}"}}[{window_s}s]))', "time": at_s})
        total += sum(int(float(r["value"][1])) for r in data["result"])
    return total


def wait_idle(stores, timeout_s=120, busy_fraction=0.05):
    """Waits until no store uses more than busy_fraction of a core over a second (bounded)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        before = [cpu_seconds(store.proc.pid) for store in stores]
        time.sleep(1)
        used = [cpu_seconds(store.proc.pid) - b for store, b in zip(stores, before)]
        if max(used) <= busy_fraction:
            return
    print(f"stores still busy after {timeout_s}s; timing queries anyway", file=sys.stderr)


def time_queries(stores, start_s, end_s, repeats):
    """Per store, the median latency of each query; the stores take turns run by run."""
    runs = {store.name: {label: [] for label, _ in QUERIES} for store in stores}
    series = {store.name: {} for store in stores}
    for label, query in QUERIES:
        for i in range(repeats):
            # The order rotates, so no store always runs first (on a cold cache) or last.
            turn = stores[i % len(stores):] + stores[:i % len(stores)]
            for store in turn:
                began = time.monotonic()
                data = store.query("/api/v1/query_range",
                                   {"query": query, "start": start_s, "end": end_s,
                                    "step": "60"})
                runs[store.name][label].append(time.monotonic() - began)
                series[store.name][label] = len(data["result"])
    return {store.name: {label: {"median_s": statistics.median(runs[store.name][label]),
                                 "series": series[store.name][label]}
                         for label, _ in QUERIES}
            for store in stores}


def load_store(args, store, start_s, end_s, result):
    """Steps 1-4 of the module doc, then pauses the store, which stays running."""
    store.start(args.start_timeout)
    run_loadgen(args, store, start_s, result)
    store.kill()  # At once: whatever was acknowledged must survive.
    result["restart_seconds"] = store.start(args.start_timeout)
    result["recovery_peak_rss"] = peak_rss_bytes(store.proc.pid)
    window_s = end_s - start_s + 600
    result["counted"] = count_samples(store, end_s + 60, window_s)
    result["lost"] = result["acknowledged"] - result["counted"]
    store.proc.send_signal(signal.SIGSTOP)


def finish_store(store, result):
    """Persists, stops and measures the disk of a store that load_store left running."""
    result.update(store.persist())
    store.stop()
    result["disk_bytes"] = tree_bytes(store.data)
    if isinstance(store, Prometheus):
        result.update(store.disk_split())


# Table rows: label, how to get the figure, format, and whether lower is better.
def rows():
    mib = 1024 * 1024
    def q(label):
        return lambda r: r["queries"][label]["median_s"] * 1000
    table = [
        ("ingest, samples/s", lambda r: r["samples_per_second"], "{:,.0f}"),
        ("server CPU-s per million samples", lambda r: r["cpu_per_million"], "{:.2f}"),
        ("peak RSS, MiB", lambda r: r["peak_rss"] / mib, "{:,.0f}"),
        ("RSS per active series, bytes", lambda r: r["peak_rss"] / r["series"], "{:,.0f}"),
        ("disk after stop, bytes/sample", lambda r: r["disk_bytes"] / r["acknowledged"],
         "{:.2f}"),
        ("restart after kill -9, s to ready", lambda r: r["restart_seconds"], "{:.2f}"),
        ("peak RSS while recovering, MiB", lambda r: r["recovery_peak_rss"] / mib, "{:,.0f}"),
        ("acknowledged samples lost", lambda r: r["lost"], "{:,}"),
    ]
    table += [(f"query `{label}`, ms", q(label), "{:,.1f}") for label, _ in QUERIES]
    return table


def markdown(results, args):
    names = [r["name"] for r in results]
    kura = next((r for r in results if r["name"] == "kura"), None)
    peers = [r for r in results if r["name"] != "kura"]
    head = ["figure"] + names + ([f"kura/{p['name']}" for p in peers] if kura else [])
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" + " ---: |" * (len(head) - 1)]
    for label, get, fmt in rows():
        cells = []
        values = {}
        for r in results:
            try:
                values[r["name"]] = get(r)
                cells.append(fmt.format(values[r["name"]]))
            except (KeyError, TypeError, ZeroDivisionError):
                cells.append("n/a")
        if kura:
            for p in peers:
                a, b = values.get("kura"), values.get(p["name"])
                cells.append(f"{a / b:.2f}" if a is not None and b else "n/a")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    notes = []
    for r in results:
        notes.append(f"- {r['name']} {r['version']}: {r['acknowledged']:,} of "
                     f"{r['samples_sent']:,} samples acknowledged, non-2xx {r['non_2xx']}, "
                     f"transport errors {r['transport_errors']}; load generator CPU "
                     f"{r['client_cpu_seconds']:.2f} s over {r['ingest_seconds']:.1f} s; "
                     f"queries returned " + ", ".join(
                         str(v["series"]) for v in r["queries"].values()) + " series.")
        if "block_bytes" in r:
            notes.append(f"- prometheus on disk after stop: WAL and head chunks "
                         f"{r['wal_bytes'] / r['acknowledged']:.2f} bytes/sample, blocks "
                         f"{r['blocks_bytes'] / r['acknowledged']:.2f}; its head written as a "
                         f"block (snapshot): {r['block_bytes'] / r['acknowledged']:.2f} "
                         f"bytes/sample.")
    setup = (f"{args.series:,} series x {args.duration} at {args.scrape_interval}, churn "
             f"{args.churn}, {args.connections} connections, {os.cpu_count()} cores, "
             f"{total_memory_gib():.0f} GiB")
    return "\n".join([f"Dataset and machine: {setup}.", ""] + lines + [""] + notes) + "\n"


def print_log_tails(workdir, lines=20):
    for log in sorted(workdir.glob("*/log.*")):
        tail = log.read_text(errors="replace").splitlines()[-lines:]
        print(f"--- last lines of {log}:", *tail, sep="\n", file=sys.stderr)


def total_memory_gib():
    with open("/proc/meminfo") as f:
        return int(f.readline().split()[1]) / 1024 / 1024


def parse_duration_s(text):
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if not text or text[-1] not in units:
        raise argparse.ArgumentTypeError(f"bad duration {text!r} (e.g. 90s, 30m, 3h)")
    return int(float(text[:-1]) * units[text[-1]])


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--kura", type=Path, default=REPO / "build/cmd/kura/kura")
    p.add_argument("--loadgen", type=Path,
                   default=REPO / "build/benchmarks/loadgen/kura-loadgen")
    p.add_argument("--stores", default="kura,prometheus,victoria-metrics",
                   help="comma-separated subset of kura,prometheus,victoria-metrics")
    p.add_argument("--series", type=int, default=100000)
    p.add_argument("--duration", default="3h")
    p.add_argument("--scrape-interval", default="15s")
    p.add_argument("--churn", default="0s", help="replace every pod once per interval")
    p.add_argument("--connections", type=int, default=4)
    p.add_argument("--repeats", type=int, default=5, help="runs per query; the median counts")
    p.add_argument("--quick", action="store_true",
                   help="2,000 series x 20m: checks the harness, measures nothing")
    p.add_argument("--workdir", type=Path, help="keep data and logs here (default: temporary)")
    p.add_argument("--json", type=Path, help="also write the raw figures here")
    p.add_argument("--start-timeout", type=int, default=300)
    p.add_argument("--ingest-timeout", type=int, default=3600)
    args = p.parse_args()
    if args.quick:
        args.series, args.duration, args.repeats = 2000, "20m", 2

    duration_s = parse_duration_s(args.duration)
    interval_s = parse_duration_s(args.scrape_interval)
    # The data ends 5 minutes ago, so no store holds it back as too recent, and every store
    # gets the very same samples.
    start_s = int(time.time()) - duration_s - 300
    start_s -= start_s % interval_s
    end_s = start_s + duration_s

    owned = args.workdir is None
    if owned:
        workdir = Path(tempfile.mkdtemp(prefix="kura-system-bench-",
                                        dir=os.environ.get("TEST_TMPDIR")))
    else:
        workdir = args.workdir
        workdir.mkdir(parents=True, exist_ok=True)
    makers = {"kura": lambda: Kura(workdir, args.kura), "prometheus": lambda: Prometheus(workdir),
              "victoria-metrics": lambda: VictoriaMetrics(workdir)}
    results = []
    stores = []
    status = 0
    try:
        for name in args.stores.split(","):
            if name not in makers:
                raise Failure(f"unknown store {name!r}")
            print(f"loading {name} ...", file=sys.stderr, flush=True)
            store = makers[name]()
            stores.append(store)
            result = {"name": store.name, "version": store.version(), "series": args.series}
            results.append(result)
            load_store(args, store, start_s, end_s, result)
            if name == "kura" and (result["lost"] != 0 or
                                   result["acknowledged"] != result["samples_sent"]):
                print(f"kura lost {result['lost']} acknowledged samples or refused some "
                      f"(non-2xx {result['non_2xx']})", file=sys.stderr)
                status = 1
        for store in stores:
            store.proc.send_signal(signal.SIGCONT)
        wait_idle(stores)
        print("timing queries ...", file=sys.stderr, flush=True)
        latencies = time_queries(stores, start_s, end_s, args.repeats)
        for store, result in zip(stores, results):
            result["queries"] = latencies[store.name]
            print(f"persisting and stopping {store.name} ...", file=sys.stderr, flush=True)
            finish_store(store, result)
    except Failure as e:
        print(f"system benchmark failed: {e}", file=sys.stderr)
        status = 1
    except Exception:  # A bug in the harness: show where, and still clean up.
        traceback.print_exc()
        status = 1
    finally:
        for store in stores:
            store.kill()
        if status != 0:
            print_log_tails(workdir)
        if owned and os.environ.get("KURA_KEEP_TEST_DIRS") != "1":
            subprocess.run(["rm", "-rf", str(workdir)], check=False)
        else:
            print(f"data and logs are in {workdir}", file=sys.stderr)
    finished = [r for r in results if "disk_bytes" in r]  # a failed run has partial figures
    if finished:
        sys.stdout.write(markdown(finished, args))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return status


if __name__ == "__main__":
    sys.exit(main())
