//! Benchmark: `canary watch` over many published canaries on loopback.
//!
//! Builds N sites in memory (default 1,000; `CANARY_BENCH_SITES`), each its
//! own organisation with three signer keys (2 required), a policy and one
//! signed canary, serves them from the test HTTP server on 127.0.0.1
//! (tests/it/support/http.rs), writes a watch list pinning every site's keys,
//! and times the real binary: `canary watch LIST --json` with watch's
//! default `--jobs` (`CANARY_BENCH_JOBS` to give one), a cold run (no
//! state) and warm runs (nothing changed: every file answered 304 from the
//! response cache). Every response is delayed by 50 ms, a simulated link
//! (`CANARY_BENCH_DELAY_MS`; 0 for bare loopback). Each run prints its
//! requests and how many were answered 304. Run with `cargo bench -p canary-bench --bench
//! watch`; the figures and the machine are in docs/PERFORMANCE.md. Not a
//! test: nothing here asserts a time.

#[path = "../../tests/it/support/http.rs"]
mod http;

use canary_bench::env_or;

use std::process::Command;
use std::time::{Duration, Instant};

use canary_core::envelope::{Envelope, STATEMENT_PAYLOAD_TYPE};
use canary_core::keys::SecretKey;
use canary_core::policy::TrustedPolicy;
use canary_core::statement::{default_claims, Statement};
use canary_core::timefmt::Timestamp;

/// One organisation's site: its files by path, and its key fingerprints.
fn site(i: usize, now: Timestamp) -> (Vec<(String, Vec<u8>)>, Vec<String>) {
    let keys: Vec<SecretKey> = (0..3)
        .map(|k| {
            let mut seed = [0u8; 32];
            seed[..8].copy_from_slice(&(i as u64).to_be_bytes());
            seed[8] = k as u8 + 1;
            SecretKey::from_seed(&seed)
        })
        .collect();
    let org = format!("Org {i}");
    let domain = format!("org{i}.example");
    // Built as the JSON documents a publisher serves (parsed back through
    // the library, so fields the format gains later keep their defaults).
    let signers: Vec<serde_json::Value> = ["alice", "bob", "carol"]
        .iter()
        .zip(&keys)
        .map(|(n, k)| serde_json::json!({"name": n, "public_key": k.public().to_openssh(n)}))
        .collect();
    let policy = serde_json::json!({
        "format": "warrant-canary-policy/v1",
        "version": 1,
        "org": org,
        "domain": domain,
        "threshold": 2,
        "cadence_days": 90,
        "signers": signers,
    });
    let policy_bytes = serde_json::to_vec_pretty(&policy).unwrap();
    let trusted = TrustedPolicy::from_bytes(&policy_bytes).expect("valid policy");
    let issued = Timestamp::from_unix(now.unix() - 86_400);
    let statement = serde_json::json!({
        "org": org,
        "domain": domain,
        "sequence": 1,
        "issued_at": issued,
        "expires_at": issued.plus_days(90).unwrap(),
        "policy_sha256": trusted.sha256,
        "previous_sha256": null,
        "statements": default_claims(&org),
        "announcements": ["Nothing to report."],
    });
    let st = Statement::parse(&serde_json::to_vec(&statement).unwrap()).expect("valid statement");
    let mut env = Envelope::new(STATEMENT_PAYLOAD_TYPE, st.to_payload());
    for k in &keys[..2] {
        env.add_signature(k);
    }
    let canary = env.to_json();
    let files = vec![
        ("keys/policy.json".to_string(), policy_bytes),
        (
            ".well-known/warrant-canary.json".to_string(),
            canary.clone(),
        ),
        ("canaries/0001.json".to_string(), canary.clone()),
        ("canaries/latest.json".to_string(), canary),
    ];
    (
        files,
        keys.iter().map(|k| k.public().fingerprint()).collect(),
    )
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is expected.
    let sites = env_or("CANARY_BENCH_SITES", 1000);
    let jobs = std::env::var("CANARY_BENCH_JOBS").ok();
    let runs = env_or("CANARY_BENCH_RUNS", 3);
    let delay = env_or("CANARY_BENCH_DELAY_MS", 50);
    let now = Timestamp::now();
    let dir = tempfile::tempdir().expect("temp dir");
    let server = http::Server::start();
    server.set_delay(Duration::from_millis(delay as u64));

    let t = Instant::now();
    let mut list = String::new();
    for i in 0..sites {
        let (files, fps) = site(i, now);
        for (path, bytes) in files {
            server.body(&format!("/s{i:05}/{path}"), bytes);
        }
        let keys: Vec<String> = fps.iter().map(|f| format!("\"{f}\"")).collect();
        list.push_str(&format!(
            "[[canary]]\nname = \"org {i}\"\nurl = \"{}\"\nkeys = [{}]\nthreshold = 2\n\n",
            server.url(&format!("/s{i:05}/")),
            keys.join(", ")
        ));
    }
    let list_path = dir.path().join("list.toml");
    std::fs::write(&list_path, list).unwrap();
    println!(
        "built {sites} signed sites in {:.2} s; serving on {}",
        t.elapsed().as_secs_f64(),
        server.addr
    );

    let state = dir.path().join("state.json");
    let mut times = Vec::new();
    for run in 0..=runs {
        server.clear_answers();
        let mut cmd = Command::new(canary_bench::canary_bin());
        cmd.args(["watch", "--json", "--state"]).arg(&state);
        if let Some(j) = &jobs {
            cmd.args(["--jobs", j]);
        }
        let t = Instant::now();
        let out = cmd
            .arg(&list_path)
            .env("NO_COLOR", "1")
            .output()
            .expect("run canary");
        let took = t.elapsed();
        let (requests, not_modified) = (server.answers().len(), server.count(304));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "canary watch printed no JSON ({e}): {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        let rows = v["canaries"].as_array().expect("rows");
        let valid = rows.iter().filter(|r| r["status"] == "valid").count();
        assert_eq!(
            valid,
            sites,
            "every site should verify (exit {:?}): {}",
            out.status.code(),
            rows.iter()
                .find(|r| r["status"] != "valid")
                .map(|r| r["detail"].to_string())
                .unwrap_or_default()
        );
        let label = if run == 0 { "cold (no state)" } else { "warm" };
        println!(
            "canary watch: {sites} canaries, {delay} ms a response, --jobs {}, {label}: {:.3} s ({valid} valid, {requests} requests, {not_modified} answered 304)",
            jobs.as_deref().unwrap_or("default"),
            took.as_secs_f64(),
        );
        if run > 0 {
            times.push(took);
        }
    }
    if !times.is_empty() {
        times.sort();
        let median: Duration = times[times.len() / 2];
        println!(
            "median of {} warm runs: {:.3} s ({:.2} ms per canary)",
            times.len(),
            median.as_secs_f64(),
            median.as_secs_f64() * 1000.0 / sites as f64
        );
    }
}
