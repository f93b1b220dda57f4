"""Installs cost seed files for the emulator proxy and pushes Cost Explorer results into moto.

  install --to DIR [--from scripts/seed] [--now ISO8601] [--no-rebase]
      copies the seed files (*.json under --from) into DIR, the proxy's seed directory, moving
      their dates to the present (unless --no-rebase):
        ec2/spot-price-history.json   every timestamp shifted by whole hours so that the newest
                                      is the current hour
        ce/GetCostForecast.json       from today to the first day of next month; amounts scaled
                                      by the number of days
        ce/Get*PurchaseRecommendation.json   Metadata.GenerationTimestamp = now
        ce/cost-and-usage.json        monthly periods become the last complete months plus this
                                      month to date (the last month scaled, Estimated), daily
                                      ones the cost optimizer's days (last month's first day
                                      or 30 days back, to today; the seeded days repeated;
                                      Estimated in this month)
  push --endpoint URL [--seed-dir DIR] [--account-id ID]
      posts DIR/ce/cost-and-usage.json (a list of GetCostAndUsage results) to moto's
      /moto-api/static/ce/cost-and-usage-results (through the proxy, which forwards it).
      moto queues them: each request with a request body it has not seen takes the next
      result, and the same body gets the same result again until moto is reset.
  all --to DIR --endpoint URL [--from DIR] [--now ISO8601] [--no-rebase]
      install, then push.
"""
import argparse
import json
import os
import shutil
import sys
import urllib.request
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SOURCE = ROOT / "scripts" / "seed"
COST_AND_USAGE = "ce/cost-and-usage.json"


def parse_time(text):
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def iso(t):
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def first_of_month(d, months_ahead=0):
    index = d.year * 12 + d.month - 1 + months_ahead
    return date(index // 12, index % 12 + 1, 1)


def scaled(amount, factor):
    return f"{float(amount) * factor:.2f}"


def rebase_spot(records, now):
    if not records:
        return records
    newest = max(parse_time(r["timestamp"]) for r in records)
    hour = now.replace(minute=0, second=0, microsecond=0)
    shift = timedelta(hours=round((hour - newest).total_seconds() / 3600))
    return [dict(r, timestamp=iso(parse_time(r["timestamp"]) + shift)) for r in records]


def rebase_forecast(body, now):
    results = body.get("ForecastResultsByTime") or []
    if not results:
        return body
    today = now.date()
    month_end = first_of_month(today, 1)
    days = (month_end - today).days
    starts = [date.fromisoformat(r["TimePeriod"]["Start"]) for r in results]
    ends = [date.fromisoformat(r["TimePeriod"]["End"]) for r in results]
    if len(results) == 1:  # MONTHLY: one period to the month's end
        factor = days / max((ends[0] - starts[0]).days, 1)
        result = dict(results[0], TimePeriod={"Start": today.isoformat(), "End": month_end.isoformat()})
        for key in ("MeanValue", "PredictionIntervalLowerBound", "PredictionIntervalUpperBound"):
            if key in result:
                result[key] = scaled(result[key], factor)
        new = [result]
    else:  # DAILY: one result a day to the month's end, the seeded days repeated as needed
        new = []
        for i in range(days):
            day = today + timedelta(days=i)
            new.append(dict(results[i % len(results)], TimePeriod={
                "Start": day.isoformat(), "End": (day + timedelta(days=1)).isoformat()}))
    out = dict(body, ForecastResultsByTime=new)
    if "Total" in body:
        total = sum(float(r.get("MeanValue", 0)) for r in new)
        out["Total"] = dict(body["Total"], Amount=f"{total:.2f}")
    return out


def rebase_recommendation(body, now):
    if isinstance(body.get("Metadata"), dict) and "GenerationTimestamp" in body["Metadata"]:
        return dict(body, Metadata=dict(body["Metadata"], GenerationTimestamp=iso(now)))
    return body


def month_to_date(last_month, today):
    """This month so far: the last month's costs scaled by the share of this month elapsed up to
    tomorrow (as Cost Explorer reports a month to date: estimated, ending tomorrow)."""
    start = first_of_month(today)
    end = today + timedelta(days=1)
    days = (first_of_month(today, 1) - start).days
    factor = (end - start).days / days

    def scale(metrics):
        return {k: dict(v, Amount=scaled(v["Amount"], factor)) for k, v in metrics.items()}

    period = dict(last_month, TimePeriod={"Start": start.isoformat(), "End": end.isoformat()},
                  Estimated=True)
    if "Total" in last_month:
        period["Total"] = scale(last_month["Total"])
    if "Groups" in last_month:
        period["Groups"] = [dict(g, Metrics=scale(g["Metrics"])) for g in last_month["Groups"]]
    return period


def application_days(today):
    """The days the cost optimizer reads the application's costs for (fleetopt_costing's
    Periods::application_days): from last month's first day or 30 days ago, whichever is
    earlier, to tomorrow."""
    return min(first_of_month(today, -1), today - timedelta(days=30)), today + timedelta(days=1)


def rebase_cost_and_usage(results, now):
    today = now.date()
    out = []
    for result in results:
        periods = result.get("ResultsByTime") or []
        lengths = {(date.fromisoformat(p["TimePeriod"]["End"])
                    - date.fromisoformat(p["TimePeriod"]["Start"])).days for p in periods}
        n = len(periods)
        if lengths and min(lengths) >= 28:  # MONTHLY: the last n complete months, and this one
            new = []
            for i, p in enumerate(periods):
                start = first_of_month(today, i - n)
                new.append(dict(p, TimePeriod={"Start": start.isoformat(),
                                               "End": first_of_month(start, 1).isoformat()},
                                Estimated=False))
            if periods:
                new.append(month_to_date(periods[-1], today))
        elif lengths == {1}:  # DAILY: what the cost optimizer reads, the seeded days repeated
            new = []
            start, end = application_days(today)
            days = (end - start).days
            for i in range(days):
                day = start + timedelta(days=i)
                p = periods[(i - days) % n]  # the last seeded day falls on today
                new.append(dict(p, TimePeriod={"Start": day.isoformat(),
                                               "End": (day + timedelta(days=1)).isoformat()},
                                Estimated=day >= first_of_month(today)))
        else:
            new = periods
        out.append(dict(result, ResultsByTime=new))
    return out


REBASE = {
    "ec2/spot-price-history.json": rebase_spot,
    "ce/GetCostForecast.json": rebase_forecast,
    "ce/GetReservationPurchaseRecommendation.json": rebase_recommendation,
    "ce/GetSavingsPlansPurchaseRecommendation.json": rebase_recommendation,
    COST_AND_USAGE: rebase_cost_and_usage,
}


def dump(relative, data):
    if isinstance(data, list) and relative != COST_AND_USAGE:
        return "[\n" + ",\n".join(json.dumps(i, separators=(",", ":")) for i in data) + "\n]\n"
    return json.dumps(data, indent=1) + "\n"


def install(source, target, now=None, rebase=True):
    """Copies source's *.json files into target (dates moved to `now`); returns their paths."""
    source, target = Path(source), Path(target)
    if not source.is_dir():
        raise SystemExit(f"seed_costs: no seed directory {source}")
    now = now or datetime.now(timezone.utc)
    written = []
    for path in sorted(source.rglob("*.json")):
        relative = path.relative_to(source).as_posix()
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        if rebase and relative in REBASE:
            data = REBASE[relative](json.loads(path.read_text()), now)
            # One temporary name per process: tests install the seeds concurrently.
            tmp = destination.with_suffix(f".json.{os.getpid()}.tmp")
            tmp.write_text(dump(relative, data))
            tmp.replace(destination)  # readers (the proxy) never see half a file
        else:
            shutil.copyfile(path, destination)
        written.append(destination)
    return written


def push(endpoint, seed_dir, account_id=None):
    """Queues seed_dir's GetCostAndUsage results in moto; returns how many (None: no file)."""
    path = Path(seed_dir) / COST_AND_USAGE
    if not path.is_file():
        return None
    results = json.loads(path.read_text())
    if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
        raise SystemExit(f"seed_costs: {path} must hold a JSON list of GetCostAndUsage results")
    payload = {"results": results}
    if account_id:
        payload["account_id"] = account_id
    request = urllib.request.Request(
        endpoint.rstrip("/") + "/moto-api/static/ce/cost-and-usage-results",
        data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"},
        method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        if response.status != 201:
            raise SystemExit(f"seed_costs: moto answered {response.status} to the results")
    return len(results)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("install", "all"):
        sub = commands.add_parser(name)
        sub.add_argument("--from", dest="source", default=str(DEFAULT_SOURCE))
        sub.add_argument("--to", dest="target", required=True)
        sub.add_argument("--now", type=parse_time, help="the present, for the dates (default: now)")
        sub.add_argument("--no-rebase", dest="rebase", action="store_false")
        if name == "all":
            sub.add_argument("--endpoint", required=True)
            sub.add_argument("--account-id")
    sub = commands.add_parser("push")
    sub.add_argument("--endpoint", required=True)
    sub.add_argument("--seed-dir", required=True)
    sub.add_argument("--account-id")
    args = parser.parse_args(argv)

    if args.command in ("install", "all"):
        written = install(args.source, args.target, args.now, args.rebase)
        print(f"seed_costs: {len(written)} seed file(s) from {args.source} installed in {args.target}")
    if args.command in ("push", "all"):
        seed_dir = args.seed_dir if args.command == "push" else args.target
        count = push(args.endpoint, seed_dir, args.account_id)
        if count is None:
            print(f"seed_costs: no {COST_AND_USAGE} in {seed_dir}: nothing queued in moto")
        else:
            print(f"seed_costs: {count} GetCostAndUsage result(s) queued in moto at {args.endpoint}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
