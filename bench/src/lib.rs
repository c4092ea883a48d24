//! canary's benchmarks, a package of their own so that `cargo test` (the
//! README's command) builds none of criterion: `cargo bench -p
//! canary-bench` (docs/PERFORMANCE.md has every command and figure).
//! Nothing here asserts a time.
//!
//! The benches that time whole processes run the release `canary` binary
//! of this workspace, which `cargo bench` of this package does not build:
//! build it first (`cargo build --release --bin canary`), or name another
//! with `CANARY_BIN`.

use std::path::PathBuf;
use std::time::Duration;

pub mod history;

/// The `canary` binary to time: `CANARY_BIN`, else the one `cargo build
/// --release` put beside this benchmark's target folder
/// (`target/release/canary`; a benchmark runs as
/// `target/release/deps/NAME-HASH`). Panics, saying how to build it, when
/// there is none: a benchmark is run by hand, and this is its one set-up
/// step.
pub fn canary_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("CANARY_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("the benchmark's own path");
    let release = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("a benchmark runs from target/PROFILE/deps/");
    let bin = release.join(format!("canary{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "{} not found: run `cargo build --release --bin canary` first (or set CANARY_BIN)",
        bin.display()
    );
    bin
}

/// A count from the environment (`CANARY_BENCH_*`), else `default`.
pub fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The median of some timed runs (at least one).
pub fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}
