//! What the analyzer's benchmarks share: their numeric arguments, the run's table and tag, the
//! emulator proxy's metrics generator and added latency, and the configuration they analyze with.

// Compiled into each benchmark, which uses part of it.
#![allow(dead_code)]

use std::collections::HashMap;

use chrono::Utc;
use fleetopt_aws::emulator::{proxy_admin, sdk_config};
use fleetopt_aws::{Clients, SdkConfig, create_table};
use fleetopt_config::Config;
use fleetopt_model::recommendations_table;

/// The command line's numbers, in order (cargo's own `--bench` is not one).
pub fn args() -> Vec<usize> {
    std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect()
}

/// A call to the proxy's admin API, which must answer 200: its answer.
pub fn admin(method: &str, path: &str, body: &str) -> String {
    let (status, answer) = proxy_admin(method, path, body);
    assert_eq!(status, 200, "{method} {path}: {answer}");
    answer
}

/// One benchmark run on the emulator: its own table and tag, the metrics generator on and no
/// faults until [`Bench::add_latency`].
pub struct Bench {
    pub sdk: SdkConfig,
    pub clients: Clients,
    /// The run's name, a prefix of everything it creates.
    pub run: String,
    pub table: String,
    /// The tag key its groups carry (value `true`).
    pub tag: String,
}

impl Bench {
    pub async fn start(name: &str) -> Bench {
        let sdk = sdk_config().await;
        let clients = Clients::new(&sdk);
        let run = format!("{name}{}", Utc::now().timestamp());
        let table = format!("{run}-recommendations");
        create_table(&clients.dynamodb, recommendations_table(), &table)
            .await
            .unwrap();
        admin("DELETE", "/_fleetopt/faults", "");
        admin("POST", "/_fleetopt/generator", r#"{"enabled": true}"#);
        let tag = format!("fleet-optimizer:{run}");
        Bench {
            sdk,
            clients,
            run,
            table,
            tag,
        }
    }

    /// Every request the proxy sees from now on waits `ms` first.
    pub fn add_latency(&self, ms: usize) {
        admin(
            "POST",
            "/_fleetopt/faults",
            &format!(r#"{{"operation": "*", "latencyMs": {ms}}}"#),
        );
    }

    /// The production preset over this run's table and tagged groups.
    pub fn config(&self) -> Config {
        let vars = HashMap::from([
            ("FLEETOPT_ENVIRONMENT", "production".to_owned()),
            ("FLEETOPT_APPLICATION", "bench".to_owned()),
            ("FLEETOPT_TABLE", self.table.clone()),
            ("FLEETOPT_TARGET_TAG", format!("{}=true", self.tag)),
        ]);
        Config::from_lookup(&|k| vars.get(k).cloned()).unwrap()
    }

    /// The proxy as it was: no latency, no generator.
    pub fn finish(&self) {
        admin("DELETE", "/_fleetopt/faults", "");
        admin("DELETE", "/_fleetopt/generator", "");
    }
}
