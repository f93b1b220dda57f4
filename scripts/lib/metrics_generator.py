"""Deterministic CloudWatch datapoints for benchmarks, computed instead of stored.

moto answers GetMetricData by scanning every stored datapoint for every query, which takes
seconds per request once a few thousand groups have a day of metrics. For the scale benchmark
(bench/RESULTS.md) the emulator proxy can answer cloudwatch:GetMetricData and
cloudwatch:GetMetricStatistics from this generator instead (POST /_fleetopt/generator), so the
figures measure the caller and the number of calls, not moto's scan.

Every series is a function of (namespace, metric, dimensions, time) only: the same question
always gets the same answer, whichever API asks it. A group's load class comes from a hash of
its name: a third overloaded (CPU around 85 %), a third idle (around 15 %), a third in range
(around 60 %); one group in seven has no memory metric (no CloudWatch agent), and no datapoint
is ever 0 for lack of data: a missing series is an empty one.
"""
import hashlib
import math
from datetime import datetime, timezone

DAY = 86400
# (base, daily amplitude, jitter) per load class, in percent.
CPU = {"overloaded": (85.0, 5.0, 3.0), "idle": (15.0, 4.0, 2.0), "normal": (60.0, 8.0, 4.0)}
MEMORY = {"overloaded": (80.0, 3.0, 2.0), "idle": (35.0, 3.0, 2.0), "normal": (60.0, 5.0, 3.0)}
PERCENT_METRICS = {"CPUUtilization", "mem_used_percent"}


def _unit(*parts):
    """A number in [0, 1) from the parts: stable across runs and processes."""
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def subject(dimensions):
    """What a series is about: the group (or target group, or instance) it names."""
    by_name = {d["Name"]: d["Value"] for d in dimensions or []}
    for name in ("AutoScalingGroupName", "TargetGroup", "LoadBalancer", "InstanceId"):
        if name in by_name:
            return by_name[name]
    return "|".join(f"{k}={v}" for k, v in sorted(by_name.items()))


def load_class(name):
    """overloaded, idle or normal, a third each, from the group's name."""
    return ("overloaded", "idle", "normal")[int(_unit("class", name) * 3)]


def has_agent(name):
    """Whether the group reports memory (six groups in seven)."""
    return int(_unit("agent", name) * 7) != 0


def _average(metric, name, at):
    cls = load_class(name)
    phase = _unit("phase", name) * 2 * math.pi
    wave = math.sin(2 * math.pi * (at % DAY) / DAY + phase)
    noise = _unit("noise", metric, name, at) * 2 - 1
    if metric in ("CPUUtilization", "mem_used_percent"):
        base, amplitude, jitter = (CPU if metric == "CPUUtilization" else MEMORY)[cls]
        return min(100.0, max(0.5, base + amplitude * wave + jitter * noise))
    if metric in ("NetworkIn", "NetworkOut"):
        return 5e7 * (1.5 + wave) * (1 + 0.1 * noise)
    if metric == "TargetResponseTime":
        return {"overloaded": 0.9, "idle": 0.08, "normal": 0.25}[cls] * (1 + 0.2 * wave + 0.1 * noise)
    if metric == "RequestCount":
        return 2000.0 * (1.5 + wave) * (1 + 0.1 * noise)
    # Capacity and anything else: a small positive level.
    return 4.0 + round(2 * (1 + wave))


def value(namespace, metric, dimensions, stat, at, period):
    """The datapoint of one statistic for the period starting at epoch second `at`."""
    name = subject(dimensions)
    average = _average(metric, name, at)
    if stat == "Average":
        return average
    if stat == "Maximum":
        spike = 1 + 0.15 * _unit("spike", namespace, metric, name, at)
        peak = average * spike
        return min(100.0, peak) if metric in PERCENT_METRICS else peak
    if stat == "Minimum":
        return average * 0.85
    if stat == "Sum":
        return average * (period / 60 if metric != "RequestCount" else 1)
    if stat == "SampleCount":
        return float(max(1, period // 60))
    return average  # percentiles and the rest: the average is a fair stand-in


def timestamps(start, end, period):
    """Period starts from `start` (aligned up to the period) to before `end`, epoch seconds."""
    first = math.ceil(start.timestamp() / period) * period
    stop = end.timestamp()
    out, t = [], first
    while t < stop:
        out.append(int(t))
        t += period
    return out


def _has_data(metric, dimensions):
    return not (metric == "mem_used_percent" and not has_agent(subject(dimensions)))


def _time(epoch):
    return datetime.fromtimestamp(epoch, tz=timezone.utc)


def get_metric_data(params):
    """A GetMetricData answer: one result per MetricStat query, newest first (the API's default
    order); expression queries get an empty series."""
    start, end = params["StartTime"], params["EndTime"]
    descending = params.get("ScanBy", "TimestampDescending") == "TimestampDescending"
    results = []
    for query in params.get("MetricDataQueries", []):
        if query.get("ReturnData") is False:
            continue
        stat = query.get("MetricStat")
        series = []
        if stat is not None:
            metric = stat["Metric"]
            if _has_data(metric["MetricName"], metric.get("Dimensions")):
                period = stat["Period"]
                series = [(t, value(metric.get("Namespace"), metric["MetricName"],
                                    metric.get("Dimensions"), stat["Stat"], t, period))
                          for t in timestamps(start, end, period)]
        if descending:
            series.reverse()
        results.append({
            "Id": query["Id"],
            "Label": query.get("Label") or (stat or {}).get("Metric", {}).get("MetricName", query["Id"]),
            "Timestamps": [_time(t) for t, _ in series],
            "Values": [v for _, v in series],
            "StatusCode": "Complete",
        })
    return {"MetricDataResults": results, "Messages": []}


def get_metric_statistics(params):
    """A GetMetricStatistics answer: one datapoint per period with each statistic asked for."""
    metric, dimensions, period = params["MetricName"], params.get("Dimensions"), params["Period"]
    statistics = params.get("Statistics") or []
    points = []
    if _has_data(metric, dimensions):
        for t in timestamps(params["StartTime"], params["EndTime"], period):
            point = {"Timestamp": _time(t),
                     "Unit": "Percent" if metric in PERCENT_METRICS else "None"}
            for stat in statistics:
                point[stat] = value(params.get("Namespace"), metric, dimensions, stat, t, period)
            points.append(point)
    return {"Label": metric, "Datapoints": points}


ANSWERS = {"GetMetricData": get_metric_data, "GetMetricStatistics": get_metric_statistics}

