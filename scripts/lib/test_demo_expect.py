"""scripts/lib/demo_expect.py: what the demo checks after each step it announces.

Run: .venv/bin/python -m unittest discover -s scripts/lib -p 'test_*.py'
"""
import unittest

from demo_expect import check

DOC = {
    "recommendations": [
        {"id": "rec-1", "type": "SCALE_UP", "autoScalingGroupName": "web", "status": "IN_PROGRESS"},
        {"id": "rec-2", "type": "SCALE_DOWN", "autoScalingGroupName": "api", "status": "AWAITING_APPROVAL"},
        {"id": "rec-3", "type": "SCALE_UP", "autoScalingGroupName": "checkout", "status": "COMPLETED",
         "outcome": {"verdict": "IMPROVED"}},
        {"id": "rec-4", "type": "SCALE_UP", "autoScalingGroupName": "api", "status": "COMPLETED"},
        {"id": "rec-5", "type": "SCALE_UP", "autoScalingGroupName": "store", "status": "PENDING",
         "accountId": "210987654321", "region": "us-east-1"},
    ]
}


class DemoExpect(unittest.TestCase):
    def test_a_matching_item_passes(self):
        self.assertIsNone(check(DOC, "SCALE_UP", "web", "IN_PROGRESS"))
        self.assertIsNone(check(DOC, "SCALE_UP", "checkout", "COMPLETED", outcome=True))

    def test_a_missing_step_names_what_there_is_instead(self):
        self.assertEqual(
            check(DOC, "SCALE_UP", "web", "COMPLETED"),
            "expected SCALE_UP for web COMPLETED; found: rec-1 IN_PROGRESS",
        )
        self.assertEqual(
            check(DOC, "SCALE_UP", "api", "COMPLETED", outcome=True),
            "expected SCALE_UP for api COMPLETED with a measured outcome; found: rec-4 COMPLETED",
        )
        self.assertEqual(
            check(DOC, "INSTANCE_TYPE_CHANGE", "web", "PENDING"),
            "expected INSTANCE_TYPE_CHANGE for web PENDING; found: none",
        )


    def test_an_account_narrows_to_that_member_accounts_items(self):
        self.assertIsNone(check(DOC, "SCALE_UP", "store", "PENDING", account="210987654321"))
        self.assertEqual(
            check(DOC, "SCALE_UP", "store", "PENDING", account="111122223333"),
            "expected SCALE_UP for store in account 111122223333 PENDING; found: none",
        )
        self.assertEqual(
            check(DOC, "SCALE_UP", "web", "IN_PROGRESS", account="210987654321"),
            "expected SCALE_UP for web in account 210987654321 IN_PROGRESS; found: none",
        )


if __name__ == "__main__":
    unittest.main()
