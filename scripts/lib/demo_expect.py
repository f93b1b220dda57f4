"""Checks what scripts/demo announces, from `fleetopt recommendations --output json` on stdin:
the demo fails loudly, naming what did not happen, instead of telling a story the fleet did not
live.

Usage: demo_expect.py TYPE GROUP STATUS [outcome] [account=ID] < recommendations.json
  passes when an item of TYPE for GROUP is in STATUS (and, with `outcome`, has its measured
  outcome; with `account=ID`, is about a group of that member account); else prints what the
  group's items of that type are and exits 1.
"""
import json
import sys


def check(document: dict, kind: str, group: str, status: str, outcome: bool = False,
          account: str | None = None) -> str | None:
    """None when an item matches; otherwise why not, naming what there is instead."""
    items = [
        r for r in document.get("recommendations", [])
        if r.get("type") == kind and r.get("autoScalingGroupName") == group
        and (account is None or r.get("accountId") == account)
    ]
    for r in items:
        if r.get("status") == status and (not outcome or r.get("outcome")):
            return None
    found = ", ".join(
        f"{r.get('id')} {r.get('status')}{' with an outcome' if r.get('outcome') else ''}"
        for r in items
    ) or "none"
    wanted = (f"{kind} for {group}" + (f" in account {account}" if account else "") + f" {status}"
              + (" with a measured outcome" if outcome else ""))
    return f"expected {wanted}; found: {found}"


def main() -> int:
    args = sys.argv[1:]
    account = next((a.split("=", 1)[1] for a in args[3:] if a.startswith("account=")), None)
    outcome = "outcome" in args[3:]
    if len(args) < 3 or any(a != "outcome" and not a.startswith("account=") for a in args[3:]):
        print(__doc__, file=sys.stderr)
        return 2
    problem = check(json.load(sys.stdin), args[0], args[1], args[2], outcome, account)
    if problem:
        print(f"scripts/demo: {problem}", file=sys.stderr)
        return 1
    where = f" in account {account}" if account else ""
    print(f"  checked: {args[0]} for {args[1]}{where} is {args[2]}{' with its outcome' if outcome else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
