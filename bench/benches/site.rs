//! Benchmark: `canary verify URL` of one 40-canary site over a slow link.
//!
//! Builds a site in memory (one organisation, three signer keys, 2
//! required, `CANARY_BENCH_CANARIES` linked canaries, default 40), serves it
//! from the test HTTP server on 127.0.0.1 (tests/it/support/http.rs) with
//! every response delayed by `CANARY_BENCH_DELAY_MS` (default 50), and
//! times the real binary as a child process, `CANARY_BENCH_RUNS` times
//! each (default 5): first contact (no state file), a repeat run (the
//! state's checkpoint at the newest canary), a repeat after one new canary,
//! and a repeat with `--full`. Run with `cargo bench -p canary-bench --bench site`; the
//! figures are in docs/PERFORMANCE.md. Not a test: nothing here asserts a
//! time.

#[path = "../../tests/it/support/http.rs"]
mod http;

use canary_bench::env_or;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use canary_core::envelope::{Envelope, STATEMENT_PAYLOAD_TYPE};
use canary_core::keys::SecretKey;
use canary_core::policy::TrustedPolicy;
use canary_core::statement::{default_claims, Statement};
use canary_core::timefmt::Timestamp;

/// The policy's bytes and canaries 1..=n (the newest issued a day before
/// `now`, one day apart), each linked to the one before.
fn site(n: usize, now: Timestamp) -> (Vec<u8>, Vec<Vec<u8>>) {
    let keys: Vec<SecretKey> = (1..=3u8).map(|k| SecretKey::from_seed(&[k; 32])).collect();
    let signers: Vec<serde_json::Value> = ["alice", "bob", "carol"]
        .iter()
        .zip(&keys)
        .map(|(n, k)| serde_json::json!({"name": n, "public_key": k.public().to_openssh(n)}))
        .collect();
    let policy = serde_json::json!({
        "format": "warrant-canary-policy/v1",
        "version": 1,
        "org": "Example Org",
        "domain": "example.org",
        "threshold": 2,
        "cadence_days": 90,
        "signers": signers,
    });
    let policy_bytes = serde_json::to_vec_pretty(&policy).unwrap();
    let trusted = TrustedPolicy::from_bytes(&policy_bytes).expect("valid policy");
    let mut canaries = Vec::new();
    let mut previous: Option<canary_core::digest::Sha256Digest> = None;
    for i in 1..=n {
        let issued = Timestamp::from_unix(now.unix() - (n - i + 1) as i64 * 86_400);
        let statement = serde_json::json!({
            "org": "Example Org",
            "domain": "example.org",
            "sequence": i,
            "issued_at": issued,
            "expires_at": issued.plus_days(90).unwrap(),
            "policy_sha256": trusted.sha256,
            "previous_sha256": previous,
            "statements": default_claims("Example Org"),
            "announcements": [format!("Canary {i}.")],
        });
        let st = Statement::parse(&serde_json::to_vec(&statement).unwrap()).expect("statement");
        let mut env = Envelope::new(STATEMENT_PAYLOAD_TYPE, st.to_payload());
        for k in &keys[..2] {
            env.add_signature(k);
        }
        previous = Some(env.payload_digest());
        canaries.push(env.to_json());
    }
    (policy_bytes, canaries)
}

fn serve(server: &http::Server, policy: &[u8], canaries: &[Vec<u8>]) {
    server.body("/keys/policy.json", policy.to_vec());
    for (i, c) in canaries.iter().enumerate() {
        server.body(&format!("/canaries/{:04}.json", i + 1), c.clone());
    }
    let latest = canaries.last().expect("a canary").clone();
    server.body("/.well-known/warrant-canary.json", latest);
}

/// One `canary verify URL`; its time and the number of GETs it made.
fn verify(server: &http::Server, state: &Path, extra: &[&str]) -> (Duration, usize) {
    let before = server.gets().len();
    let t = Instant::now();
    let out = Command::new(canary_bench::canary_bin())
        .args(["verify", &server.url("/"), "--json", "--state"])
        .arg(state)
        .args(extra)
        .env("NO_COLOR", "1")
        .output()
        .expect("run canary");
    let took = t.elapsed();
    assert_eq!(
        out.status.code(),
        Some(0),
        "the site should verify: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (took, server.gets().len() - before)
}

fn report(label: &str, times: &mut [Duration], requests: usize) {
    times.sort();
    println!(
        "{label}: median {:.3} s (min {:.3}, max {:.3}; {} runs), {requests} requests",
        times[times.len() / 2].as_secs_f64(),
        times[0].as_secs_f64(),
        times[times.len() - 1].as_secs_f64(),
        times.len()
    );
}

fn main() {
    let n = env_or("CANARY_BENCH_CANARIES", 40);
    let delay = env_or("CANARY_BENCH_DELAY_MS", 50);
    let runs = env_or("CANARY_BENCH_RUNS", 5).max(1);
    let now = Timestamp::now();
    let dir = tempfile::tempdir().expect("temp dir");
    let server = http::Server::start();
    let (policy, canaries) = site(n + 1, now);
    serve(&server, &policy, &canaries[..n]);
    server.set_delay(Duration::from_millis(delay as u64));
    println!(
        "a {n}-canary site, every response delayed {delay} ms, on {}",
        server.addr
    );
    let state = dir.path().join("state.json");

    let mut first = Vec::new();
    let mut asked = 0;
    for _ in 0..runs {
        let _ = std::fs::remove_file(&state);
        let (t, r) = verify(&server, &state, &["--trust-on-first-use"]);
        first.push(t);
        asked = r;
    }
    report("first contact (no state)", &mut first, asked);

    let mut repeat = Vec::new();
    for _ in 0..runs {
        let (t, r) = verify(&server, &state, &[]);
        repeat.push(t);
        asked = r;
    }
    report("repeat, nothing new", &mut repeat, asked);

    let mut full = Vec::new();
    for _ in 0..runs {
        let (t, r) = verify(&server, &state, &["--full"]);
        full.push(t);
        asked = r;
    }
    report("repeat with --full", &mut full, asked);

    // One new canary: the state's checkpoint is at n, the site at n + 1.
    let saved = std::fs::read(&state).unwrap();
    serve(&server, &policy, &canaries);
    let mut one_new = Vec::new();
    for _ in 0..runs {
        std::fs::write(&state, &saved).unwrap();
        let (t, r) = verify(&server, &state, &[]);
        one_new.push(t);
        asked = r;
    }
    report("repeat, one new canary", &mut one_new, asked);
}
