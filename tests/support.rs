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

/// Runs `fleetopt` with `args`.
pub fn fleetopt(args: &[&str]) -> Output {
    Command::new(binary("fleetopt"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// Runs `fleetopt` with `args` against `endpoint`, with emulator credentials only.
pub fn fleetopt_at(endpoint: &str, args: &[&str]) -> Output {
    fleetopt_at_with(endpoint, args, &[])
}

/// [`fleetopt_at`] with these variables set as well (after the emulator's, so they win).
pub fn fleetopt_at_with(endpoint: &str, args: &[&str], vars: &[(&str, &str)]) -> Output {
    Command::new(binary("fleetopt"))
        .args(args)
        .env("NO_COLOR", "1")
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("FLEETOPT_TABLE")
        .env_remove("FLEETOPT_ACTOR")
        .env("FLEETOPT_APPROVAL_KEY", APPROVAL_KEY)
        .envs(vars.iter().copied())
        .output()
        .unwrap()
}

/// An SDK configuration for the emulator, for tests that set up state through the adapters.
pub use fleetopt_aws::emulator::sdk_config as emulator_config;

/// A fresh recommendations table on the emulator, named after `prefix`, and its store.
pub async fn fresh_table(prefix: &str) -> (String, fleetopt_aws::DynamoRecommendationStore) {
    let config = emulator_config().await;
    let name = unique_name(prefix);
    fleetopt_aws::create_table(
        &aws_sdk_dynamodb::Client::new(&config),
        fleetopt_model::recommendations_table(),
        &name,
    )
    .await
    .unwrap();
    let store = fleetopt_aws::DynamoRecommendationStore::from_config(&config, &name);
    (name, store)
}

/// The environment's two signing keys for a test, as the stack makes them (approvals,
/// findings), under aliases named after `prefix`: their ARNs.
pub async fn signing_keys(clients: &fleetopt_aws::Clients, prefix: &str) -> (String, String) {
    let approvals =
        fleetopt_aws::emulator::signing_key(clients, &format!("alias/{prefix}-approvals"))
            .await
            .unwrap();
    let findings =
        fleetopt_aws::emulator::signing_key(clients, &format!("alias/{prefix}-findings"))
            .await
            .unwrap();
    (approvals, findings)
}

/// The approvals key every `fleetopt` run of the tests signs with (FLEETOPT_APPROVAL_KEY),
/// created on first use.
pub const APPROVAL_KEY: &str = "alias/e2e-approvals";

/// Makes sure [`APPROVAL_KEY`] exists; returns its ARN.
pub async fn approval_key() -> String {
    let clients = fleetopt_aws::Clients::new(&emulator_config().await);
    fleetopt_aws::emulator::signing_key(&clients, APPROVAL_KEY)
        .await
        .unwrap()
}

/// A table name no other test uses.
pub fn unique_name(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// The emulator's endpoint (loopback only).
pub use fleetopt_aws::emulator::endpoint as emulator_endpoint;

/// Standard output as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A program installed in the emulator's venv (`FLEETOPT_VENV`, default `.venv`).
pub fn venv_bin(name: &str) -> PathBuf {
    let venv = std::env::var_os("FLEETOPT_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".venv"));
    let path = venv.join("bin").join(name);
    assert!(
        path.exists(),
        "{} is missing: run `scripts/emulator install` (scripts/test does)",
        path.display()
    );
    path
}

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `cargo lambda watch --only-lambda-apis` on loopback, and a built function binary polling its
/// Lambda runtime API: the function runs as on Lambda, invoked through the Invoke API.
pub struct LocalLambda {
    processes: Vec<std::process::Child>,
    /// The Invoke API's endpoint, for `AWS_ENDPOINT_URL_LAMBDA`.
    pub endpoint: String,
}

impl LocalLambda {
    /// Starts the runtime API and `binary` under the function name `binary`, with `env` (which
    /// may override the emulator's endpoint and credentials).
    pub fn start(binary_name: &str, env: &[(&str, String)]) -> Self {
        let port = free_port();
        let watch = Command::new(venv_bin("cargo-lambda"))
            .args([
                "lambda",
                "watch",
                "--only-lambda-apis",
                "-A",
                "127.0.0.1",
                "-P",
            ])
            .arg(port.to_string())
            .current_dir(repo())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut local = LocalLambda {
            processes: vec![watch],
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "cargo lambda watch did not listen on {port}"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let function = Command::new(binary(binary_name))
            .env(
                "AWS_LAMBDA_RUNTIME_API",
                format!("http://127.0.0.1:{port}/.rt/{binary_name}"),
            )
            .env("AWS_LAMBDA_FUNCTION_NAME", binary_name)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_ENDPOINT_URL", emulator_endpoint())
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "us-east-1")
            .env_remove("AWS_PROFILE")
            // The test's own variables last, so that they can point the function elsewhere.
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        local.processes.push(function);
        local
    }
}

impl Drop for LocalLambda {
    fn drop(&mut self) {
        for process in self.processes.iter_mut().rev() {
            let _ = process.kill();
            let _ = process.wait();
        }
    }
}

/// Runs `command` to completion, or kills it and fails the test after `seconds`: a test that
/// waits on a process never hangs the suite.
pub fn output_within(mut command: Command, seconds: u64) -> Output {
    let child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let id = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(std::time::Duration::from_secs(seconds)) {
        Ok(output) => output.unwrap(),
        Err(_) => {
            let _ = Command::new("kill").arg(id.to_string()).status();
            panic!("{command:?} did not finish within {seconds} s");
        }
    }
}

/// A group `name` with 4 of max 10 instances, overloaded for the last hour up to now (CPU
/// average 85 %, peak 95 %): 13 buckets up to the next 5-minute boundary, so an analysis window
/// still holds 12 of them if the clock crosses a boundary before the analyzer runs.
pub async fn overloaded_group(clients: &fleetopt_aws::Clients, name: &str) {
    use chrono::{DurationRound, TimeDelta, Utc};
    use fleetopt_aws::emulator::{SeedGroup, create_group, put_load};
    create_group(clients, &SeedGroup::new(name, (1, 4, 10)))
        .await
        .unwrap();
    put_load(
        clients,
        ("AWS/EC2", "CPUUtilization"),
        name,
        (85.0, 95.0),
        last_hour_end(),
        13,
    )
    .await
    .unwrap();

    fn last_hour_end() -> chrono::DateTime<Utc> {
        Utc::now().duration_trunc(TimeDelta::minutes(5)).unwrap() + TimeDelta::minutes(5)
    }
}

/// The store contract's sample for `group` over hour `hour` of yesterday (UTC), written now.
/// The binaries these tests run read the real clock, so the items they are shown are dated by
/// that clock too, never by a fixed day that the calendar leaves behind.
pub fn recent_sample(group: &str, hour: u32) -> fleetopt_model::Recommendation {
    use chrono::{Duration, Utc};
    let now = Utc::now();
    let day = (now - Duration::days(1)).date_naive();
    let start = day
        .and_hms_opt(hour, 0, 0)
        .expect("an hour of the day, 0 to 23")
        .and_utc();
    let window = fleetopt_model::AnalysisWindow {
        start,
        end: start + Duration::hours(1),
    };
    fleetopt_ports::fakes::contract::sample_over(group, window, now)
}
