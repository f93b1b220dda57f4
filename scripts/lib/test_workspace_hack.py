"""One feature set for the whole workspace: every member of the Cargo workspace depends on the
workspace-hack crate that cargo-hakari manages (docs/development.md, "One feature set"), so that
building any one package reuses the workspace build's compiled dependencies. CI does not install
cargo-hakari (it takes minutes to build); this check is the cheap half of `cargo hakari verify`:
a member added without the dependency line fails here, with the command that adds it.

Run: .venv/bin/python -m unittest discover -s scripts/lib -p 'test_*.py'
"""
import glob
import tomllib
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
HACK = "fleetopt-workspace-hack"


def toml(path):
    with open(path, "rb") as f:
        return tomllib.load(f)


def members():
    """The workspace members' folders, as the root Cargo.toml lists them (globs expanded)."""
    listed = toml(ROOT / "Cargo.toml")["workspace"]["members"]
    found = []
    for pattern in listed:
        found += [Path(p) for p in sorted(glob.glob(str(ROOT / pattern)))]
    return found


class WorkspaceHack(unittest.TestCase):
    def test_the_hack_is_a_workspace_dependency_at_its_folder(self):
        config = toml(ROOT / ".config" / "hakari.toml")
        self.assertEqual(config["hakari-package"], HACK)
        self.assertEqual(config["resolver"], toml(ROOT / "Cargo.toml")["workspace"]["resolver"])
        self.assertIn("x86_64-unknown-linux-gnu", config["platforms"])
        self.assertIn("aarch64-unknown-linux-gnu", config["platforms"])
        line = toml(ROOT / "Cargo.toml")["workspace"]["dependencies"][HACK]
        self.assertEqual(toml(ROOT / line["path"] / "Cargo.toml")["package"]["name"], HACK)

    def test_every_member_depends_on_the_workspace_hack(self):
        missing = []
        paths = members()
        self.assertGreater(len(paths), 10)
        for path in paths:
            manifest = toml(path / "Cargo.toml")
            if manifest["package"]["name"] == HACK:
                continue
            line = manifest.get("dependencies", {}).get(HACK)
            if line != {"workspace": True}:
                missing.append(str(path.relative_to(ROOT)))
        self.assertEqual(
            missing,
            [],
            f"members without `{HACK}.workspace = true` in [dependencies]: run "
            "`cargo hakari manage-deps` (docs/development.md)",
        )


if __name__ == "__main__":
    unittest.main()
