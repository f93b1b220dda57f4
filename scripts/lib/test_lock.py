"""The emulator's lock (scripts/requirements-emulator.lock): every package pinned to one version
with its sha256 hashes, the top-level pins of requirements-emulator.txt among them, and
scripts/emulator installing it with --require-hashes.

Run: .venv/bin/python -m unittest discover -s scripts/lib -p 'test_*.py'
"""
import re
import unittest
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s\\;]+)")


def requirements(text):
    """(name, version, hashes) per requirement, continuation lines joined."""
    joined = re.sub(r"\\\n", " ", text)
    entries = []
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = PIN.match(line)
        if match is None:
            entries.append((line, None, []))
            continue
        name = re.sub(r"[-_.]+", "-", match.group(1)).lower()
        entries.append((name, match.group(3), re.findall(r"--hash=sha256:([0-9a-f]{64})", line)))
    return entries


class LockTest(unittest.TestCase):
    def setUp(self):
        self.lock = requirements((SCRIPTS / "requirements-emulator.lock").read_text())

    def test_every_package_is_pinned_with_hashes(self):
        self.assertGreater(len(self.lock), 30)
        for name, version, hashes in self.lock:
            self.assertIsNotNone(version, f"not pinned with ==: {name}")
            self.assertTrue(hashes, f"no sha256 hash for {name}=={version}")

    def test_each_package_once(self):
        names = [name for name, _, _ in self.lock]
        self.assertEqual(len(names), len(set(names)))

    def test_the_top_level_pins_are_in_the_lock(self):
        locked = {name: version for name, version, _ in self.lock}
        for name, version, _ in requirements((SCRIPTS / "requirements-emulator.txt").read_text()):
            self.assertEqual(locked.get(name), version, f"{name}: {version} in requirements-emulator.txt")

    def test_scripts_emulator_requires_the_hashes(self):
        script = (SCRIPTS / "emulator").read_text()
        self.assertRegex(script, r'pip" install [^\n]*--require-hashes[^\n]*--requirement "\$LOCK"')


if __name__ == "__main__":
    unittest.main()
