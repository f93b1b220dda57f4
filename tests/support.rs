//! Finding the built binaries, the repository and the emulator.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A workspace binary built next to this test binary (`target/<profile>/<name>`).
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/e2e-<hash> -> target/<profile>/<name>
    let path = exe.parent().unwrap().parent().unwrap().join(name);
    assert!(
        path.exists(),
        "{} is not built: run `cargo build --workspace --bins` (scripts/test does)",
        path.display()
    );
    path
}

/// Runs `fleetopt` with `args`, without any AWS variables from the caller's shell.
pub fn fleetopt(args: &[&str]) -> Output {
    Command::new(binary("fleetopt"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// The emulator's endpoint: `AWS_ENDPOINT_URL` or `.emulator/endpoint`, on loopback only.
pub fn emulator_endpoint() -> String {
    let endpoint = std::env::var("AWS_ENDPOINT_URL")
        .ok()
        .or_else(|| std::fs::read_to_string(repo().join(".emulator/endpoint")).ok())
        .expect("no emulator endpoint: run `scripts/emulator start` (scripts/test does) first")
        .trim()
        .to_owned();
    assert!(
        endpoint.starts_with("http://127.0.0.1:") || endpoint.starts_with("http://localhost:"),
        "refusing to run against {endpoint}: end-to-end tests only talk to the local emulator"
    );
    endpoint
}

/// Standard output as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}
