"""Checks what scripts/demo announces, from `fleetopt recommendations --output json` on stdin:
the demo fails loudly, naming what did not happen, instead of telling a story the fleet did not
live.

Usage: demo_expect.py TYPE GROUP STATUS [outcome] < recommendations.json
  passes when an item of TYPE for GROUP is in STATUS (and, with `outcome`, has its measured
  outcome); else prints what the group's items of that type are and exits 1.
"""
import json
import sys


def check(document: dict, kind: str, group: str, status: str, outcome: bool = False) -> str | None:
    """None when an item matches; otherwise why not, naming what there is instead."""
    items = [
        r for r in document.get("recommendations", [])
        if r.get("type") == kind and r.get("autoScalingGroupName") == group
    ]
    for r in items:
        if r.get("status") == status and (not outcome or r.get("outcome")):
            return None
    found = ", ".join(
        f"{r.get('id')} {r.get('status')}{' with an outcome' if r.get('outcome') else ''}"
        for r in items
    ) or "none"
    wanted = f"{kind} for {group} {status}" + (" with a measured outcome" if outcome else "")
    return f"expected {wanted}; found: {found}"


def main() -> int:
    args = sys.argv[1:]
    if len(args) not in (3, 4) or (len(args) == 4 and args[3] != "outcome"):
        print(__doc__, file=sys.stderr)
        return 2
    problem = check(json.load(sys.stdin), args[0], args[1], args[2], len(args) == 4)
    if problem:
        print(f"scripts/demo: {problem}", file=sys.stderr)
        return 1
    print(f"  checked: {args[0]} for {args[1]} is {args[2]}{' with its outcome' if len(args) == 4 else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
