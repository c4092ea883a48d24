//! Writes an honest history for benchmarks (scripts/bench-compare):
//!
//! ```text
//! cargo run --release -p canary-bench --bin make-history -- DIR CANARIES [LOG_ENTRIES]
//! ```
//!
//! DIR/keys/policy.json (2 of 3 signers), DIR/canaries/0001.json … N (two
//! signatures each, linked), latest.json, and with LOG_ENTRIES > 0 an
//! incident log the canaries commit to; the newest canary is issued an
//! hour ago, so `canary verify DIR` finds it valid now. Built in memory
//! with canary-core (bench/src/history.rs): 10,000 canaries in about
//! a second, where 10,000 CLI ceremonies would take an hour. The keys come
//! from public fixed seeds: this is test data, never a real canary.

use canary_bench::history as support;

use std::path::Path;
use std::process::ExitCode;

use canary_core::timefmt::Timestamp;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(dir), Some(Ok(n))) = (args.first(), args.get(1).map(|a| a.parse::<usize>())) else {
        eprintln!("usage: make-history DIR CANARIES [LOG_ENTRIES]");
        return ExitCode::from(2);
    };
    let log = args.get(2).map_or(Ok(0), |a| a.parse::<usize>());
    let (Ok(log), true) = (log, n >= 1) else {
        eprintln!("usage: make-history DIR CANARIES [LOG_ENTRIES] (CANARIES >= 1)");
        return ExitCode::from(2);
    };
    let newest = Timestamp::from_unix(Timestamp::now().unix() - 3600);
    let h = support::history(n, log, newest);
    let dir = Path::new(dir);
    let write = |rel: &str, bytes: &[u8]| {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, bytes).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    };
    write("keys/policy.json", &h.policy_json);
    for f in &h.files {
        write(&f.name, &f.bytes);
    }
    write("canaries/latest.json", &h.latest);
    if let Some(log) = &h.log {
        write("canaries/incidents.jsonl", log);
    }
    println!(
        "{}: {n} canaries, {log} log entries, {} bytes",
        dir.display(),
        h.data_bytes()
    );
    ExitCode::SUCCESS
}
