"""Prints an optimization engine response (JSON on stdin) as one line per decision."""

import json
import sys


def main() -> None:
    response = json.load(sys.stdin)
    for d in response["decisions"]:
        change = d.get("desiredCapacity")
        size = f" {change['from']} -> {change['to']}" if change else ""
        kind = d.get("type", "")
        group = d.get("autoScalingGroupName", "")
        print(f"  {d['outcome']:<17} {kind:<20} {group}{size}: {d['reason']}")
    print(
        f"  applied {response['actionsApplied']}, failed {response['actionsFailed']}, "
        f"rolled back {response['actionsRolledBack']}; AWS calls {response['awsCalls']}"
    )


if __name__ == "__main__":
    main()
