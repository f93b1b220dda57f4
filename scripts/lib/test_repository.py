"""The repository stands alone: every relative link in its Markdown pages resolves to a file or
folder inside it, nothing points at the team's handbook outside it, and the license is the same
Apache-2.0 everywhere it is declared.

Run: .venv/bin/python -m unittest discover -s scripts/lib -p 'test_*.py'
"""
import json
import re
import subprocess
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
# [text](target) and [text](target "title"); images too.
LINK = re.compile(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
# The handbook beside the checkout: `../shared/...` from the root (not this repository's own
# shared/ crates, reached as `../../shared/` from a crate), its DESIGN.md and STYLE.md.
HANDBOOK = re.compile(r"(?<![/.\w])\.\./shared/|shared/DESIGN\.md|STYLE\.md")


def markdown_pages():
    """The Markdown files git tracks (what a clone holds)."""
    listed = subprocess.run(
        ["git", "ls-files", "*.md"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.split()
    return [ROOT / name for name in listed]


class RepositoryStandsAlone(unittest.TestCase):
    def test_every_relative_link_resolves_inside_the_repository(self):
        broken = []
        pages = markdown_pages()
        self.assertGreater(len(pages), 5)
        for page in pages:
            text = page.read_text(encoding="utf-8")
            # Links inside code blocks are examples, not links.
            text = re.sub(r"```.*?```", "", text, flags=re.S)
            for target in LINK.findall(text):
                if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                    continue
                path = target.split("#", 1)[0]
                resolved = (page.parent / path).resolve()
                if ROOT not in resolved.parents and resolved != ROOT or not resolved.exists():
                    broken.append(f"{page.relative_to(ROOT)}: {target}")
        self.assertEqual(broken, [], "links that leave the repository or lead nowhere")

    def test_nothing_names_the_handbook_outside_the_repository(self):
        listed = subprocess.run(
            ["git", "ls-files"], cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout.split()
        this = Path(__file__).resolve().relative_to(ROOT).as_posix()
        found = []
        for name in listed:
            if name == this or name.endswith((".lock", ".png", "package-lock.json")):
                continue
            path = ROOT / name
            try:
                text = path.read_text(encoding="utf-8")
            except (UnicodeDecodeError, IsADirectoryError, FileNotFoundError):
                continue
            if HANDBOOK.search(text):
                found.append(name)
        self.assertEqual(found, [])

    def test_the_license_is_apache_2_everywhere_it_is_declared(self):
        self.assertIn("Apache License", (ROOT / "LICENSE").read_text(encoding="utf-8"))
        self.assertIn("Version 2.0", (ROOT / "LICENSE").read_text(encoding="utf-8"))
        cargo = (ROOT / "Cargo.toml").read_text(encoding="utf-8")
        self.assertRegex(cargo, r'(?m)^license = "Apache-2.0"$')
        package = json.loads((ROOT / "infra" / "package.json").read_text(encoding="utf-8"))
        self.assertEqual(package["license"], "Apache-2.0")


if __name__ == "__main__":
    unittest.main()
