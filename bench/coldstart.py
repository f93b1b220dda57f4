#!/usr/bin/env python3
"""Cold start, size and peak memory of the three Lambda functions (issue 9, item 3).

For each function, the harness runs its release binary as a fresh process with the environment a
deployed function has, and plays the Lambda service itself: a small Lambda runtime API server on
127.0.0.1 (AWS_LAMBDA_RUNTIME_API) that the binary polls.

- cold start: from just before the process is spawned to its first
  GET /2018-06-01/runtime/invocation/next, that is configuration, logging, the SdkConfig and every
  client, up to the runtime loop; repeated --runs times (min / median / p95);
- peak RSS on one invocation: a fresh process is given one event (an EventBridge schedule for the
  analyzer and the cost optimizer, {"sweep": true} for the engine), which it runs against the local
  emulator (AWS_ENDPOINT_URL); when it asks for the next event, its VmHWM is read from
  /proc/<pid>/status and the process is stopped. VmHWM at the first GET (initialization only) is
  reported beside it;
- sizes: the release binaries in <target>/release (this machine's architecture) and the bundles
  `scripts/build-bundles` leaves in <target>/lambda/<binary>/bootstrap (arm64 by default), with
  the architecture read from each file's ELF header.

Before each function's runs it seeds the emulator with what one real invocation needs: the
recommendations table, one Auto Scaling group and an hour of its CPU samples (boto3, from the
emulator's venv: run this with that venv's python). The endpoint must be on loopback.

    scripts/emulator start && eval "$(scripts/emulator env)" && scripts/emulator seed-costs
    cargo build --release --locked --bin analyzer --bin optimization-engine --bin cost-optimizer
    .venv/bin/python bench/coldstart.py --runs 20
"""

from __future__ import annotations

import argparse
import http.server
import ipaddress
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BINARIES = ("analyzer", "optimization-engine", "cost-optimizer")
APPLICATION = "bench"
ENVIRONMENT = "production"
GROUP = "bench-coldstart-web"
MEMORY_MB = 512

SCHEDULE_EVENT = {
    "version": "0",
    "id": "8d0f1c64-2f0b-4c55-9e2f-1b6a3f7c9a10",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2026-11-23T09:00:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/bench-production-schedule"],
    "detail": {},
}

# The event each function is given for its one measured invocation.
EVENTS = {
    "analyzer": SCHEDULE_EVENT,
    "optimization-engine": {"sweep": True},
    "cost-optimizer": SCHEDULE_EVENT,
}

# ELF e_machine values of the architectures a Lambda function can have.
ELF_MACHINES = {0x3E: "x86_64", 0xB7: "arm64"}


# ---------------------------------------------------------------------------------------------
# Pure parts


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile: the smallest sample with at least `fraction` of them at or below."""
    if not samples:
        raise ValueError("no samples")
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction {fraction} is not in (0, 1]")
    ordered = sorted(samples)
    # Rounded first so that 0.95 * 20 is rank 19, not 20 through a float's last digit.
    rank = math.ceil(round(len(ordered) * fraction, 9))
    return ordered[max(rank, 1) - 1]


def summary(samples: list[float]) -> dict[str, float]:
    """min, median and p95 of the samples."""
    return {
        "min": min(samples),
        "median": statistics.median(samples),
        "p95": percentile(samples, 0.95),
    }


def elf_architecture(header: bytes) -> str:
    """The architecture of an ELF file from its first 20 bytes, or 'not ELF' / 'unknown'."""
    if len(header) < 20 or header[:4] != b"\x7fELF":
        return "not ELF"
    order = "little" if header[5] == 1 else "big"
    machine = int.from_bytes(header[18:20], order)
    return ELF_MACHINES.get(machine, f"unknown (e_machine {machine:#x})")


def proc_status_kib(status: str, field_name: str) -> int | None:
    """A `kB` figure of /proc/<pid>/status (VmHWM, VmRSS), in KiB."""
    for line in status.splitlines():
        name, _, value = line.partition(":")
        if name == field_name:
            parts = value.split()
            if len(parts) == 2 and parts[1] == "kB":
                return int(parts[0])
    return None


def function_environment(binary: str, runtime_api: str, aws: dict[str, str]) -> dict[str, str]:
    """What Lambda gives a provided.al2023 function's process, plus the emulator's endpoint.

    Nothing of the caller's environment leaks in (no HOME, no profile, no RUST_LOG): a deployed
    function has none of it.
    """
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": "/var/task",
        "LAMBDA_RUNTIME_DIR": "/var/runtime",
        "_HANDLER": "bootstrap",
        "AWS_LAMBDA_RUNTIME_API": runtime_api,
        "AWS_LAMBDA_FUNCTION_NAME": f"{APPLICATION}-{ENVIRONMENT}-{binary}",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(MEMORY_MB),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{APPLICATION}-{ENVIRONMENT}-{binary}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/11/23/[$LATEST]0123456789abcdef",
        "AWS_REGION": aws["region"],
        "AWS_DEFAULT_REGION": aws["region"],
        "AWS_ACCESS_KEY_ID": aws["access_key_id"],
        "AWS_SECRET_ACCESS_KEY": aws["secret_access_key"],
        "AWS_SESSION_TOKEN": "bench-session-token",
        "AWS_ENDPOINT_URL": aws["endpoint"],
        "FLEETOPT_ENVIRONMENT": ENVIRONMENT,
        "FLEETOPT_APPLICATION": APPLICATION,
        "FLEETOPT_TABLE": table_name(),
        "FLEETOPT_TARGET_GROUPS": GROUP,
    }


def table_name() -> str:
    """The recommendations table's name for the bench application."""
    schema = json.loads((ROOT / "shared/schema/recommendations-table.json").read_text())
    return f"{APPLICATION}-{ENVIRONMENT}-{schema['nameSuffix']}"


def is_loopback_endpoint(endpoint: str) -> bool:
    """Whether an endpoint URL points at this machine (the emulator), never at AWS."""
    host = urllib.parse.urlsplit(endpoint).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# ---------------------------------------------------------------------------------------------
# The Lambda runtime API, played by the harness


@dataclass
class Launch:
    """What the runtime API saw of one process."""

    event: dict | None
    pid: int | None = None
    spawned_ns: int = 0
    first_next_ns: int | None = None
    init_hwm_kib: int | None = None
    outcome: str | None = None  # "response", "error", "init error"
    outcome_body: bytes = b""
    invocation_hwm_kib: int | None = None
    invocation_rss_kib: int | None = None
    served: bool = False
    ready: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


def read_status(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return ""


class RuntimeApi(http.server.ThreadingHTTPServer):
    """One process's Lambda runtime API on a free 127.0.0.1 port."""

    daemon_threads = True

    def __init__(self, launch: Launch):
        super().__init__(("127.0.0.1", 0), RuntimeApiHandler)
        self.launch = launch

    @property
    def address(self) -> str:
        host, port = self.server_address[:2]
        return f"{host}:{port}"  # as Lambda sets it: host and port, no scheme


class RuntimeApiHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # the runtime keeps its connection alive, as with Lambda
    server: RuntimeApi

    def log_message(self, *args):  # noqa: D102 - quiet: the harness prints the figures
        pass

    def do_GET(self):  # noqa: N802 - the http.server convention
        now = time.perf_counter_ns()
        launch = self.server.launch
        if self.path != "/2018-06-01/runtime/invocation/next":
            self.reply(404, b'{"errorMessage":"not found"}')
            return
        if launch.first_next_ns is None:
            launch.first_next_ns = now
            launch.init_hwm_kib = proc_status_kib(read_status(launch.pid), "VmHWM")
            launch.ready.set()
        if launch.event is not None and not launch.served:
            launch.served = True
            body = json.dumps(launch.event).encode()
            deadline_ms = int(time.time() * 1000) + 900_000
            self.reply(200, body, {
                "Lambda-Runtime-Aws-Request-Id": str(uuid.uuid4()),
                "Lambda-Runtime-Deadline-Ms": str(deadline_ms),
                "Lambda-Runtime-Invoked-Function-Arn":
                    "arn:aws:lambda:us-east-1:123456789012:function:bench",
                "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000;Sampled=0",
            })
            return
        if launch.served:
            # The invocation is over and the process waits for the next one: its peak is final.
            status = read_status(launch.pid)
            launch.invocation_hwm_kib = proc_status_kib(status, "VmHWM")
            launch.invocation_rss_kib = proc_status_kib(status, "VmRSS")
            launch.done.set()
        # Hold the request, as Lambda does between invocations, until the process is stopped.
        launch.release.wait()

    def do_POST(self):  # noqa: N802
        launch = self.server.launch
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path.endswith("/response"):
            launch.outcome = "response"
        elif self.path.endswith("/error"):
            launch.outcome = "init error" if "/init/" in self.path else "error"
        else:
            self.reply(404, b'{"errorMessage":"not found"}')
            return
        launch.outcome_body = body
        self.reply(202, b'{"status":"OK"}')
        if launch.outcome == "init error":
            launch.ready.set()
            launch.done.set()

    def reply(self, code: int, body: bytes, headers: dict[str, str] | None = None):
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


def launch(binary_path: Path, binary: str, aws: dict[str, str], event: dict | None,
           log: Path, timeout: float, overrides: dict[str, str] | None = None) -> Launch:
    """Starts one fresh process of the function, serves it `event` (or nothing) and stops it."""
    state = Launch(event=event)
    server = RuntimeApi(state)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    env = function_environment(binary, server.address, aws) | (overrides or {})
    try:
        with open(log, "ab") as out:
            state.spawned_ns = time.perf_counter_ns()
            process = subprocess.Popen([str(binary_path)], env=env, stdout=out, stderr=out,
                                       stdin=subprocess.DEVNULL, cwd=tempfile.gettempdir())
            state.pid = process.pid
            try:
                waiting = state.done if event is not None else state.ready
                deadline = time.monotonic() + timeout
                while not waiting.wait(0.05):
                    if process.poll() is not None:
                        break
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"{binary} did not get that far in {timeout} s (log: {log})")
            finally:
                process.terminate()
                try:
                    process.wait(5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()
    if state.first_next_ns is None:
        raise RuntimeError(f"{binary} exited before asking for an event (log: {log})")
    return state


# ---------------------------------------------------------------------------------------------
# The emulator's fleet


def seed(aws: dict[str, str]) -> None:
    """The table, one group of 4 instances and an hour of its CPU at 85 % (so it gets a finding)."""
    import datetime

    import boto3

    subprocess.run(
        [str(ROOT / "scripts/emulator"), "create-table", "--application", APPLICATION,
         "--environment", ENVIRONMENT],
        check=True, stdout=subprocess.DEVNULL,
    )
    session = boto3.session.Session(
        aws_access_key_id=aws["access_key_id"], aws_secret_access_key=aws["secret_access_key"],
        region_name=aws["region"])
    autoscaling = session.client("autoscaling", endpoint_url=aws["endpoint"])
    if not autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[GROUP])["AutoScalingGroups"]:
        autoscaling.create_launch_configuration(
            LaunchConfigurationName=f"{GROUP}-lc", ImageId="ami-12c6146b", InstanceType="m5.large")
        autoscaling.create_auto_scaling_group(
            AutoScalingGroupName=GROUP, LaunchConfigurationName=f"{GROUP}-lc", MinSize=2,
            MaxSize=10, DesiredCapacity=4, AvailabilityZones=[f"{aws['region']}a"])
    # The last hour, every run: the analysis window ends now. A repeated run adds the same values.
    cloudwatch = session.client("cloudwatch", endpoint_url=aws["endpoint"])
    now = datetime.datetime.now(datetime.timezone.utc).replace(second=0, microsecond=0)
    points = [now - datetime.timedelta(minutes=m) for m in range(1, 61)]
    for start in range(0, len(points), 20):
        cloudwatch.put_metric_data(Namespace="AWS/EC2", MetricData=[
            {"MetricName": "CPUUtilization", "Timestamp": t, "Value": 85.0, "Unit": "Percent",
             "Dimensions": [{"Name": "AutoScalingGroupName", "Value": GROUP}]}
            for t in points[start:start + 20]
        ])


# ---------------------------------------------------------------------------------------------
# The run


def file_size(path: Path) -> tuple[int, str] | None:
    try:
        with open(path, "rb") as f:
            header = f.read(20)
        return path.stat().st_size, elf_architecture(header)
    except OSError:
        return None


def emulator_aws() -> dict[str, str]:
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
    if not endpoint:
        sys.exit("bench/coldstart.py: AWS_ENDPOINT_URL is unset: "
                 'scripts/emulator start && eval "$(scripts/emulator env)"')
    if not is_loopback_endpoint(endpoint):
        sys.exit(f"bench/coldstart.py: AWS_ENDPOINT_URL={endpoint} is not on loopback: "
                 "the harness runs against the local emulator only")
    return {
        "endpoint": endpoint,
        "region": os.environ.get("AWS_REGION", "us-east-1"),
        "access_key_id": "testing",
        "secret_access_key": "testing",
    }


def default_target_dir() -> Path:
    if os.environ.get("CARGO_TARGET_DIR"):
        return Path(os.environ["CARGO_TARGET_DIR"])
    out = subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps"], cwd=ROOT,
                         check=True, capture_output=True, text=True).stdout
    return Path(json.loads(out)["target_directory"])


def kib_to_mib(kib: int | None) -> str:
    return "n/a" if kib is None else f"{kib / 1024:.1f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20, help="cold starts per function (20)")
    parser.add_argument("--target-dir", type=Path,
                        help="cargo's target directory (default: CARGO_TARGET_DIR or cargo metadata's)")
    parser.add_argument("--function", action="append", choices=BINARIES,
                        help="only this function (repeatable; default all three)")
    parser.add_argument("--no-seed", action="store_true", help="do not seed the emulator")
    parser.add_argument("--timeout", type=float, default=120, help="seconds per launch (120)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="add or override one variable of the functions' environment, for "
                             "experiments (repeatable; the figures then say so)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    overrides = {}
    for item in args.set:
        name, sep, value = item.partition("=")
        if not sep or not name:
            parser.error(f"--set {item!r}: expected NAME=VALUE")
        overrides[name] = value
    aws = emulator_aws()
    target = args.target_dir or default_target_dir()
    functions = args.function or list(BINARIES)
    logs = Path(tempfile.mkdtemp(prefix="fleetopt-coldstart-"))
    if not args.no_seed:
        seed(aws)

    results = {}
    load_before = os.getloadavg()
    for binary in functions:
        path = target / "release" / binary
        if not path.is_file():
            sys.exit(f"bench/coldstart.py: no release binary at {path}: "
                     f"cargo build --release --locked --bin {binary}")
        print(f"{binary}: {args.runs} cold starts, then one invocation", file=sys.stderr)
        starts_ms, init_hwm = [], []
        for _ in range(args.runs):
            state = launch(path, binary, aws, None, logs / f"{binary}-coldstart.log", args.timeout,
                           overrides)
            if state.outcome == "init error":
                sys.exit(f"bench/coldstart.py: {binary} failed to initialize: "
                         f"{state.outcome_body.decode(errors='replace')}")
            starts_ms.append((state.first_next_ns - state.spawned_ns) / 1e6)
            if state.init_hwm_kib is not None:
                init_hwm.append(state.init_hwm_kib)
        invocation = launch(path, binary, aws, EVENTS[binary], logs / f"{binary}-invocation.log",
                            args.timeout, overrides)
        outcome_body = invocation.outcome_body.decode(errors="replace")
        results[binary] = {
            "cold_start_ms": {k: round(v, 2) for k, v in summary(starts_ms).items()},
            "cold_start_samples_ms": [round(s, 2) for s in starts_ms],
            "init_peak_rss_kib": max(init_hwm) if init_hwm else None,
            "invocation_peak_rss_kib": invocation.invocation_hwm_kib,
            "invocation_outcome": invocation.outcome,
            "invocation_outcome_body": outcome_body if invocation.outcome != "response"
            else outcome_body[:2000],
            "release_binary": file_size(path),
            "bundle": file_size(target / "lambda" / binary / "bootstrap"),
        }

    # The machine's load beside the figures: other work on the cores shows in the cold starts.
    machine = {"cpus": os.cpu_count(), "load_average_1m_before": load_before[0],
               "load_average_1m_after": os.getloadavg()[0]}
    if args.json:
        print(json.dumps({"target_dir": str(target), "logs": str(logs), "overrides": overrides,
                          "machine": machine, "functions": results}, indent=2))
        return 0
    print(f"logs: {logs}", file=sys.stderr)
    print(f"{machine['cpus']} CPUs, 1-minute load average {machine['load_average_1m_before']:.2f} "
          f"before, {machine['load_average_1m_after']:.2f} after; {args.runs} cold starts each")
    if overrides:
        print(f"environment overrides: {overrides}")
    print("| function | cold start min / median / p95 (ms) | peak RSS: init / one invocation (MiB) "
          "| invocation | release binary | bundle (target/lambda) |")
    print("|---|---|---|---|---|---|")
    for binary, r in results.items():
        c = r["cold_start_ms"]
        binary_size = r["release_binary"]
        bundle = r["bundle"]
        print(f"| {binary} | {c['min']:.1f} / {c['median']:.1f} / {c['p95']:.1f} "
              f"| {kib_to_mib(r['init_peak_rss_kib'])} / {kib_to_mib(r['invocation_peak_rss_kib'])} "
              f"| {r['invocation_outcome']} "
              f"| {binary_size[0]:,} B {binary_size[1]} "
              f"| {f'{bundle[0]:,} B {bundle[1]}' if bundle else 'not built'} |")
    for binary, r in results.items():
        if r["invocation_outcome"] != "response":
            print(f"{binary}: {r['invocation_outcome']}: {r['invocation_outcome_body']}",
                  file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
