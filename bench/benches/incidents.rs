//! Benchmark: verifying large incident logs (issue 11: 100,000 entries,
//! about 30 MB, in at most 2 s with bounded memory).
//!
//! For each size (default 1,000, 10,000 and 100,000 entries;
//! `CANARY_BENCH_LOG_SIZES=1000,50000`), generates a valid log
//! (tests/it/support/biglog.rs) and
//! 1. times `incidents::check` in this process (the whole log check: chain,
//!    model, commitment, summary), median of `CANARY_BENCH_RUNS` (5) runs;
//! 2. writes a folder with one signed canary committing to the whole log
//!    and times the real binary, `canary verify DIR --json`, as a child
//!    process, with its peak resident memory (`ru_maxrss` from wait4);
//! 3. unless `CANARY_BENCH_COMMANDS=0`, makes a project with that log and
//!    times once each of the maintainers' commands that read it: `incident
//!    add`, `draft`, `sign`, `publish --site` (which builds the site),
//!    `incident list --json`, `incident show`, `verify`.
//!
//! Run with `cargo bench -p canary-bench --bench incidents`; the figures and the machine are
//! in docs/PERFORMANCE.md. Not a test: nothing here asserts a time.

#[path = "../../tests/it/support/biglog.rs"]
mod biglog;

use canary_bench::{env_or, median};

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use canary_core::digest::Sha256Digest;
use canary_core::envelope::{Envelope, STATEMENT_PAYLOAD_TYPE};
use canary_core::incidents;
use canary_core::keys::SecretKey;
use canary_core::policy::TrustedPolicy;
use canary_core::statement::{default_claims, LogCommitment, Statement};
use canary_core::timefmt::Timestamp;

/// SHA-256 of the last line of a log ending in a newline.
fn head(log: &[u8]) -> Option<Sha256Digest> {
    let body = log.strip_suffix(b"\n")?;
    let start = body.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    Some(Sha256Digest::of(&body[start..]))
}

/// A published folder: a 1-of-1 policy, one canary committing to `log`.
fn folder(dir: &Path, log: &[u8], entries: u64, now: Timestamp) {
    let key = SecretKey::from_seed(&[7u8; 32]);
    let policy = serde_json::json!({
        "format": "warrant-canary-policy/v1",
        "version": 1,
        "org": "Example Org",
        "domain": "example.org",
        "threshold": 1,
        "cadence_days": 90,
        "signers": [{"name": "alice", "public_key": key.public().to_openssh("alice")}],
    });
    let policy_bytes = serde_json::to_vec_pretty(&policy).unwrap();
    let trusted = TrustedPolicy::from_bytes(&policy_bytes).expect("valid policy");
    let issued = Timestamp::from_unix(now.unix() - 86_400);
    let commitment = LogCommitment {
        entries,
        head_sha256: head(log),
    };
    let statement = serde_json::json!({
        "org": "Example Org",
        "domain": "example.org",
        "sequence": 1,
        "issued_at": issued,
        "expires_at": issued.plus_days(90).unwrap(),
        "policy_sha256": trusted.sha256,
        "previous_sha256": null,
        "statements": default_claims("Example Org"),
        "announcements": ["Nothing to report."],
        "incident_log": commitment,
    });
    let st = Statement::parse(&serde_json::to_vec(&statement).unwrap()).expect("valid statement");
    let mut env = Envelope::new(STATEMENT_PAYLOAD_TYPE, st.to_payload());
    env.add_signature(&key);
    let canary = env.published().to_json();
    std::fs::create_dir_all(dir.join("keys")).unwrap();
    std::fs::create_dir_all(dir.join("canaries")).unwrap();
    std::fs::write(dir.join("keys/policy.json"), policy_bytes).unwrap();
    std::fs::write(dir.join("canaries/0001.json"), &canary).unwrap();
    std::fs::write(dir.join("canaries/latest.json"), &canary).unwrap();
    std::fs::write(dir.join("canaries/incidents.jsonl"), log).unwrap();
}

/// Runs `cmd` to completion; its wall time and peak RSS in KiB.
fn run_measured(cmd: &mut Command) -> (Duration, u64, i32) {
    let t = Instant::now();
    let child = cmd.spawn().expect("run canary");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill in, and
    // `pid` is our own child, not yet waited for (std's handle is dropped
    // unwaited, which neither kills nor reaps it).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let took = t.elapsed();
    drop(child);
    assert_eq!(r, pid, "wait4");
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    (took, usage.ru_maxrss as u64, code)
}

/// `canary ARGS` in `dir` with a clean environment, output discarded;
/// panics unless it succeeds. Returns the wall time and peak RSS (KiB).
fn canary_in(dir: &Path, args: &[&str]) -> (Duration, u64) {
    let mut cmd = Command::new(canary_bench::canary_bin());
    cmd.args(args)
        .current_dir(dir)
        .env_clear()
        .env("HOME", dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let (took, rss, code) = run_measured(&mut cmd);
    assert_eq!(code, 0, "canary {args:?} failed (exit {code})");
    (took, rss)
}

/// The maintainers' commands on a project whose log has `log`'s entries.
fn commands(log: &[u8], n: usize, now: Timestamp) {
    let d = tempfile::tempdir().expect("temp dir");
    let dir = d.path();
    canary_in(
        dir,
        &[
            "keygen",
            "--name",
            "alice",
            "--no-passphrase",
            "--secret",
            "alice.key",
        ],
    );
    canary_in(
        dir,
        &[
            "init",
            "--org",
            "Example Org",
            "--domain",
            "example.org",
            "--threshold",
            "1",
            "--no-freshness-requirement",
        ],
    );
    std::fs::create_dir_all(dir.join("canaries")).unwrap();
    std::fs::write(dir.join("canaries/incidents.jsonl"), log).unwrap();
    let issued = Timestamp::from_unix(now.unix() - 3_600).to_string();
    let at = now.to_string();
    let show = format!("inc-{:06}", n / 3 / 2);
    let steps: [(&str, Vec<&str>); 7] = [
        (
            "incident add",
            vec![
                "incident",
                "add",
                "--id",
                "bench",
                "--title",
                "Bench",
                "--started-at",
                "2026-01-01T00:00:00Z",
                "--component",
                "Email",
                "--what-happened",
                "Benchmarked.",
                "--compromised",
                "nothing",
            ],
        ),
        ("draft", vec!["draft", "--issued-at", &issued]),
        (
            "sign",
            vec!["sign", "drafts/0001.json", "--key", "alice.key", "--yes"],
        ),
        (
            "publish --site public",
            vec![
                "publish",
                "drafts/0001.json",
                "--site",
                "public",
                "--at",
                &at,
            ],
        ),
        ("incident list --json", vec!["incident", "list", "--json"]),
        ("incident show", vec!["incident", "show", &show]),
        ("verify", vec!["verify", "--at", &at]),
    ];
    for (name, args) in steps {
        let (took, rss) = canary_in(dir, &args);
        println!(
            "  {name}: {:.1} ms, peak RSS {:.1} MiB",
            took.as_secs_f64() * 1e3,
            rss as f64 / 1024.0
        );
    }
}

fn main() {
    let sizes: Vec<usize> = std::env::var("CANARY_BENCH_LOG_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1_000, 10_000, 100_000]);
    let runs = env_or("CANARY_BENCH_RUNS", 5).max(1);
    let now = Timestamp::now();
    for n in sizes {
        let log = biglog::log(n);
        let mb = log.len() as f64 / 1e6;
        let c = [incidents::Commitment {
            canary: 1,
            log: Some(LogCommitment {
                entries: n as u64,
                head_sha256: head(&log),
            }),
        }];
        let mut times = Vec::new();
        for _ in 0..runs {
            let t = Instant::now();
            let checked = incidents::check(Some(&log), &c, now);
            times.push(t.elapsed());
            assert!(checked.failures.is_empty(), "{:?}", checked.failures);
            assert_eq!(checked.summary.map(|s| s.signed_entries), Some(n as u64));
        }
        let m = median(times);
        println!(
            "incidents::check: {n} entries ({mb:.1} MB): {:.1} ms (median of {runs}; {:.0} MB/s)",
            m.as_secs_f64() * 1e3,
            mb / m.as_secs_f64()
        );

        let dir = tempfile::tempdir().expect("temp dir");
        folder(dir.path(), &log, n as u64, now);
        drop(log);
        let out = dir.path().join("report.json");
        let mut times = Vec::new();
        let mut rss = 0;
        for _ in 0..runs {
            let mut cmd = Command::new(canary_bench::canary_bin());
            cmd.arg("verify")
                .arg(dir.path())
                .arg("--json")
                .env("NO_COLOR", "1")
                .stdin(Stdio::null())
                .stdout(std::fs::File::create(&out).unwrap())
                .stderr(Stdio::null());
            let (took, maxrss, code) = run_measured(&mut cmd);
            let report: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap_or_default();
            assert_eq!(code, 0, "canary verify should pass (exit {code}): {report}");
            times.push(took);
            rss = rss.max(maxrss);
        }
        println!(
            "canary verify DIR --json: {n} entries: {:.1} ms (median of {runs}), peak RSS {:.1} MiB",
            median(times).as_secs_f64() * 1e3,
            rss as f64 / 1024.0
        );
        if env_or("CANARY_BENCH_COMMANDS", 1) != 0 {
            println!("maintainers' commands, {n} entries (one run each):");
            commands(&biglog::log(n), n, now);
        }
    }
}
