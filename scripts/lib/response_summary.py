"""Prints a function's JSON response (on stdin) as a few lines, for the demo.

Usage: response_summary.py engine|cost < response.json
"""

import json
import sys


def engine(response: dict) -> None:
    for d in response["decisions"]:
        change = d.get("desiredCapacity")
        size = f" {change['from']} -> {change['to']}" if change else ""
        kind = d.get("type", "")
        group = d.get("autoScalingGroupName", "")
        if d.get("accountId"):
            group += f" (account {d['accountId']}, {d.get('region', '?')})"
        print(f"  {d['outcome']:<17} {kind:<20} {group}{size}: {d['reason']}")
    print(
        f"  applied {response['actionsApplied']}, failed {response['actionsFailed']}, "
        f"rolled back {response['actionsRolledBack']}, improved {response['actionsImproved']}, "
        f"worse {response['actionsWorse']}; signatures verified "
        f"{response['signaturesVerified']}; AWS calls {response['awsCalls']}"
    )
    if response["itemsSkipped"]:
        print(f"  skipped (not recommendations): {', '.join(response['itemsSkipped'])}")


def cost(response: dict) -> None:
    for g in response["groups"]:
        hourly = g.get("hourlyCostUsd")
        rate = f"${hourly:.3f}/h" if hourly is not None else "no price"
        potential = g.get("costSavingsPotential")
        share = f" ({potential:.0f} % of its cost)" if potential is not None else ""
        # One plan: the best change of each kind, composed; each part's saving alone beside it.
        named = {"SIZING": "right-sizing", "PURCHASE": "spot"}
        parts = ", ".join(f"{named.get(p['lever'], p['lever'].lower())} {p['percent']:.0f} %"
                          for p in g.get("savingsParts") or [])
        parts = f" [{parts}]" if len(g.get("savingsParts") or []) > 1 else ""
        sizing = g.get("rightSizing")
        if sizing is None:
            right_sizing = ""
        elif sizing["status"] == "INSUFFICIENT_DATA":
            right_sizing = (f"; right-sizing: insufficient data ({sizing['cpuHours']} of"
                            f" {sizing['minimumCpuHours']} hours)")
        else:
            right_sizing = f"; right-sizing: {sizing['status'].lower().replace('_', ' ')}"
            if sizing["options"]:
                right_sizing += f", {sizing['options']} option(s)"
        print(
            f"  {g['autoScalingGroupName']:<10} {g.get('instanceType') or '?':<10} x{g['desiredCapacity']:<3}"
            f" {rate:<12} savings ${g['monthlySavingsUsd']:.0f}/month{share}{parts}{right_sizing}"
        )
    budget = (response.get("costs") or {}).get("budget") or {}
    projection = budget.get("projection")
    if projection:
        print(
            f"  the application's month to date ${projection['monthToDate']:.2f}, projected"
            f" ${projection['projected']:.2f} against a ${projection['budget']:.2f} budget"
        )
    elif budget.get("unavailable"):
        print(f"  budget: {budget['unavailable']}")
    for u in response["unavailable"]:
        print(f"  unavailable: {u}")
    print(
        f"  {response['recommendationsWritten']} recommendation(s) written "
        f"({len(response['accountRecommendationIds'])} account-wide); "
        f"Cost Explorer calls {response['costExplorerCalls']}; cache {response['cache']}"
    )
    print(f"  AWS calls {response['awsCalls']}")


def main() -> None:
    kinds = {"engine": engine, "cost": cost}
    if len(sys.argv) != 2 or sys.argv[1] not in kinds:
        sys.exit(__doc__)
    kinds[sys.argv[1]](json.load(sys.stdin))


if __name__ == "__main__":
    main()
