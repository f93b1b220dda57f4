//! How `fleetopt` and the functions reach AWS: every kind of profile the AWS CLI takes, and
//! timeouts that end a call to an endpoint that never answers.

use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use fleetopt_aws::FunctionInvoker;
use fleetopt_ports::RecommendationStore;

use crate::support::{
    LocalLambda, binary, emulator_config, emulator_endpoint, fleetopt_at_with, fresh_table,
    output_within, recent_sample, stderr, stdout, unique_name,
};

/// An endpoint on loopback that accepts connections and never answers, and how many it has
/// accepted. It holds them for two minutes at most, then closes them and stops by itself.
fn black_hole() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    std::thread::spawn(move || {
        let until = Instant::now() + Duration::from_secs(120);
        let mut held = Vec::new();
        while Instant::now() < until {
            match listener.accept() {
                Ok((stream, _)) => {
                    held.push(stream);
                    count.fetch_add(1, Ordering::SeqCst);
                }
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    });
    (format!("http://{address}"), accepted)
}

/// `fleetopt` with `args`, the emulator's endpoint, a shared config file of `config` and no
/// credentials in the environment: what the profile says is all it has.
fn fleetopt_with_profile(dir: &Path, config: &str, args: &[&str]) -> std::process::Output {
    let config_file = dir.join("config");
    std::fs::write(&config_file, config).unwrap();
    let mut command = Command::new(binary("fleetopt"));
    command
        .args(args)
        .env("NO_COLOR", "1")
        .env("HOME", dir)
        .env("AWS_CONFIG_FILE", &config_file)
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("credentials"))
        .env("AWS_ENDPOINT_URL", emulator_endpoint())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env_remove("FLEETOPT_TABLE");
    output_within(command, 60)
}

fn temp_dir(prefix: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(unique_name(prefix));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn a_credential_process_profile_signs_fleetopts_calls() {
    let (table, store) = fresh_table("e2e-profile").await;
    let r = recent_sample("web", 7);
    store.put_new(&r).await.unwrap();

    let dir = temp_dir("e2e-credential-process");
    let process = dir.join("credentials.sh");
    let ran = dir.join("ran");
    std::fs::write(
        &process,
        format!(
            "#!/bin/sh\ntouch '{}'\necho '{{\"Version\": 1, \"AccessKeyId\": \"processkey\", \
             \"SecretAccessKey\": \"processsecret\"}}'\n",
            ran.display()
        ),
    )
    .unwrap();
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&process)
        .status()
        .unwrap();
    let output = fleetopt_with_profile(
        &dir,
        &format!(
            "[profile ops]\nregion = us-east-1\ncredential_process = {}\n",
            process.display()
        ),
        &[
            "--profile",
            "ops",
            "recommendations",
            "--table",
            &table,
            "--output",
            "json",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(ran.exists(), "the credential process was not run");
    let listed: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(
        listed["recommendations"][0]["id"],
        r.id.as_str(),
        "{listed}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_sso_profile_without_a_login_fails_asking_for_one() {
    let dir = temp_dir("e2e-sso");
    for config in [
        // IAM Identity Center with an sso-session section, as `aws configure sso` writes it.
        "[profile ops]\nsso_session = corp\nsso_account_id = 123456789012\n\
         sso_role_name = ReadOnly\nregion = us-east-1\n\n[sso-session corp]\n\
         sso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n",
        // The legacy form, everything in the profile.
        "[profile ops]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n\
         sso_account_id = 123456789012\nsso_role_name = ReadOnly\nregion = us-east-1\n",
    ] {
        let output = fleetopt_with_profile(
            &dir,
            config,
            &["--profile", "ops", "recommendations", "--table", "t"],
        );
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        let err = stderr(&output);
        assert!(!err.contains("feature"), "a build-feature message: {err}");
        assert!(err.contains("aws sso login --profile ops"), "{err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fleetopt_gives_up_on_an_endpoint_that_never_answers_within_its_timeout() {
    let (endpoint, _) = black_hole();
    let started = Instant::now();
    let output = fleetopt_at_with(
        &endpoint,
        &[
            "recommendations",
            "--table",
            "t",
            "--timeout",
            "3",
            "--attempt-timeout",
            "1",
        ],
        &[],
    );
    let took = started.elapsed();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(took < Duration::from_secs(15), "took {took:?}");
    let err = stderr(&output);
    assert!(err.contains("no answer within the timeout"), "{err}");
    assert_eq!(err.lines().count(), 1, "one clear line: {err}");
}

#[test]
fn retries_follow_aws_max_attempts_and_the_profile_and_debug_shows_each_attempt() {
    let call = ["recommendations", "--table", "t", "--attempt-timeout", "1"];
    let with = |before: &[&'static str]| [before, &call[..]].concat();
    let (endpoint, accepted) = black_hole();
    let output = fleetopt_at_with(&endpoint, &with(&["--debug"]), &[("AWS_MAX_ATTEMPTS", "2")]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        2,
        "two attempts, two connections"
    );
    let err = stderr(&output);
    for line in [
        "loaded credentials provider=Environment",
        "max_attempts: 2",
        "beginning attempt #2",
        "no answer within the timeout",
    ] {
        assert!(err.contains(line), "{line:?} not in {err}");
    }

    // The profile's max_attempts, when the environment says nothing.
    let dir = temp_dir("e2e-retries");
    let config = dir.join("config");
    std::fs::write(
        &config,
        "[profile ops]\nmax_attempts = 1\nregion = us-east-1\n",
    )
    .unwrap();
    let (endpoint, accepted) = black_hole();
    let output = fleetopt_at_with(
        &endpoint,
        &with(&["--profile", "ops"]),
        &[("AWS_CONFIG_FILE", config.to_str().unwrap())],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        1,
        "the profile's one attempt"
    );
    assert!(
        !stderr(&output).contains("DEBUG"),
        "no SDK log without --debug"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_function_gives_up_on_an_endpoint_that_never_answers_within_its_timeout() {
    let lambda = LocalLambda::start(
        "analyzer",
        &[
            ("FLEETOPT_ENVIRONMENT", "production".into()),
            ("FLEETOPT_APPLICATION", "e2e".into()),
            ("FLEETOPT_TARGET_GROUPS", "web".into()),
            ("FLEETOPT_AWS_ATTEMPT_TIMEOUT_SECONDS", "1".into()),
            ("FLEETOPT_AWS_OPERATION_TIMEOUT_SECONDS", "3".into()),
            ("AWS_ENDPOINT_URL", black_hole().0),
        ],
    );
    let mut lambda_config = emulator_config().await.into_builder();
    lambda_config.set_endpoint_url(Some(lambda.endpoint.clone()));
    let invoker = FunctionInvoker::from_config(&lambda_config.build());
    let started = Instant::now();
    let answer = tokio::time::timeout(
        Duration::from_secs(60),
        invoker.invoke("analyzer", &serde_json::json!({})),
    )
    .await
    .expect("the analyzer answered within 60 s");
    let took = started.elapsed();
    let err = answer.expect_err("no AWS call can succeed").to_string();
    assert!(took < Duration::from_secs(20), "took {took:?}: {err}");
    assert!(err.contains("no answer within"), "{err}");
}
