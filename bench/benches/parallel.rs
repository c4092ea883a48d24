//! Benchmark: the 10,000-canary history against its signature checks done
//! one by one on one core, and the memory verification takes
//! (`cargo bench -p canary-bench --bench parallel`; `CANARY_BENCH_CANARIES`,
//! `CANARY_BENCH_RUNS` to change the defaults of 10,000 and 7).
//!
//! Prints the median wall time of
//! * `one core`: the 2 × N strict Ed25519 checks (`verify_strict`, keys and
//!   signatures decoded in advance) on this thread: the yardstick;
//! * `verify`: `canary_core::verify::verify` of the N-canary history, all
//!   cores (core/src/verify/steps.rs, `prepare_all`);
//! * `verify, pinned to one CPU`: the same with this process's affinity
//!   set to one CPU, so verification stays on one thread;
//!
//! the ratio one core / verify (the target is at least 1.6), where the
//! one-CPU time goes (each phase alone, on this thread), and the peak
//! resident memory verification adds (Linux: VmHWM reset through
//! /proc/self/clear_refs) against the size of the data verified.
//! Figures: docs/PERFORMANCE.md. Reports only; asserts no time.

use canary_bench::history as support;
use canary_bench::{env_or, median};

use std::hint::black_box;
use std::time::{Duration, Instant};

use canary_core::envelope::Envelope;
use canary_core::signatures::check_signatures_chain;
use canary_core::statement::Statement;
use canary_core::timefmt::Timestamp;
use canary_core::verify::{verify, Verdict};

/// Median of `runs` timed calls after one warm-up call.
fn time(runs: usize, mut f: impl FnMut()) -> Duration {
    f();
    median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect(),
    )
}

/// A field of /proc/self/status in KiB (VmRSS, VmHWM); 0 elsewhere.
fn status_kib(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Pins this process to CPU 0, so `available_parallelism` says 1.
fn pin_to_one_cpu() -> bool {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; the call only reads it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(0, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0
    }
}

fn main() {
    // `cargo bench` passes `--bench`; nothing here takes arguments.
    let n = env_or("CANARY_BENCH_CANARIES", 10_000);
    let runs = env_or("CANARY_BENCH_RUNS", 7).max(1);
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    let newest = Timestamp::parse_canonical("2026-06-01T00:00:00Z").unwrap();
    let h = support::history(n, 0, newest);

    let keys: Vec<_> = (0..2)
        .map(|i| {
            ed25519_dalek::VerifyingKey::from_bytes(&support::key(i).public().to_bytes()).unwrap()
        })
        .collect();
    let mut checks = Vec::with_capacity(2 * n);
    for f in &h.files {
        let env = Envelope::parse(&f.bytes).unwrap();
        let msg = env.signed_bytes();
        for (k, s) in keys.iter().zip(&env.signatures) {
            let sig = ed25519_dalek::Signature::from_slice(&s.sig).unwrap();
            checks.push((*k, msg.clone(), sig));
        }
    }

    let one_core = time(runs, || {
        for (k, msg, sig) in &checks {
            assert!(k.verify_strict(black_box(msg), black_box(sig)).is_ok());
        }
    });
    drop(checks);

    // Peak memory of one verification, over what is resident before it.
    let before = status_kib("VmRSS");
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let report = verify(h.input()).unwrap();
    let peak = status_kib("VmHWM");
    assert_eq!(report.verdict, Verdict::Valid, "{:?}", report.failures);
    drop(report);

    let all = time(runs, || {
        black_box(verify(black_box(h.input())).unwrap());
    });
    let pinned = pin_to_one_cpu().then(|| {
        time(runs.min(3), || {
            black_box(verify(black_box(h.input())).unwrap());
        })
    });
    // The phases of verification one at a time, on this thread.
    let envs: Vec<Envelope> = h
        .files
        .iter()
        .map(|f| Envelope::parse(&f.bytes).unwrap())
        .collect();
    let phase = |f: &mut dyn FnMut()| time(runs.min(3), f);
    let parse_env = phase(&mut || {
        for f in &h.files {
            black_box(Envelope::parse(black_box(&f.bytes)).unwrap());
        }
    });
    let parse_st = phase(&mut || {
        for e in &envs {
            black_box(Statement::parse(black_box(&e.payload)).unwrap());
        }
    });
    let index = canary_core::signatures::KeyIndex::of_each(&h.chain.versions);
    let sigs = phase(&mut || {
        for e in &envs {
            black_box(check_signatures_chain(black_box(e), &index));
        }
    });

    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let data = h.data_bytes() as f64 / 1024.0;
    println!(
        "{n} canaries, {} signatures, {cores} CPUs, median of {runs} runs",
        2 * n
    );
    println!(
        "  one core, {} x verify_strict: {:8.1} ms ({:.1} µs each)",
        2 * n,
        ms(one_core),
        ms(one_core) * 1e3 / (2 * n) as f64
    );
    println!(
        "  verify (all cores):              {:8.1} ms ({:.1} µs per signature)",
        ms(all),
        ms(all) * 1e3 / (2 * n) as f64
    );
    if let Some(p) = pinned {
        println!(
            "  verify, pinned to one CPU:       {:8.1} ms ({:.1} µs per signature)",
            ms(p),
            ms(p) * 1e3 / (2 * n) as f64
        );
    }
    println!(
        "  one thread, Envelope::parse x {n}:      {:8.1} ms",
        ms(parse_env)
    );
    println!(
        "  one thread, check_signatures x {n}:    {:8.1} ms (PAE, key ids, 2 x verify_strict)",
        ms(sigs)
    );
    println!("  one thread, Statement::parse x {n}:    {:8.1} ms (after the threshold: on the calling thread)", ms(parse_st));
    println!(
        "  ratio one core / verify:         {:8.2} (target >= 1.6)",
        ms(one_core) / ms(all)
    );
    println!("  data verified:                   {:8.0} KiB", data);
    if reset && peak > 0 {
        let extra = peak.saturating_sub(before) as f64;
        println!(
            "  resident before verify:          {:8} KiB (the data, the code)",
            before
        );
        println!(
            "  peak during verify:              {:8} KiB (+{:.0} KiB, {:.2} x the data)",
            peak,
            extra,
            extra / data
        );
    } else {
        println!("  peak memory: not measured (needs Linux /proc/self/clear_refs)");
    }
}
