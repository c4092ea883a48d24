//! Criterion benchmark: verification of whole histories as a function of
//! their size (`cargo bench -p canary-bench --bench history`): 1, 10, 100, 1,000 and
//! 10,000 canaries under a 2-of-3 policy, two signatures each, built in
//! memory (bench/src/history.rs) and verified with
//! `canary_core::verify::verify`, as `canary verify DIR` does after
//! reading the files. From 64 canaries on, verification checks signatures
//! on every core (core/src/verify/steps.rs, `prepare_all`).
//!
//! `one-core baseline/20000 verify_strict` is the same 20,000 strict
//! Ed25519 checks done one by one on the calling thread: the issue's
//! yardstick for the 10,000-canary figure (`cargo bench -p canary-bench --bench parallel`
//! prints the ratio and peak memory). Figures: docs/PERFORMANCE.md.
//! Reports only; asserts no time.

use canary_bench::history as support;

use std::hint::black_box;
use std::time::Duration;

use canary_core::envelope::Envelope;
use canary_core::timefmt::Timestamp;
use canary_core::verify::{verify, Verdict};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn newest() -> Timestamp {
    Timestamp::parse_canonical("2026-06-01T00:00:00Z").unwrap()
}

fn histories(c: &mut Criterion) {
    let mut g = c.benchmark_group("verify history");
    for n in [1usize, 10, 100, 1_000, 10_000] {
        let h = support::history(n, 0, newest());
        let report = verify(h.input()).unwrap();
        assert_eq!(report.verdict, Verdict::Valid, "{:?}", report.failures);
        if n >= 1_000 {
            // About 0.1 to 1 s an iteration: fewer samples keep the run short.
            g.sample_size(10).measurement_time(Duration::from_secs(10));
        }
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &h, |b, h| {
            b.iter(|| verify(black_box(h.input())).unwrap())
        });
    }
    g.finish();
}

/// The strict checks of the 10,000-canary history, decoded in advance and
/// done one after another on this thread.
pub fn one_core_checks(
    n: usize,
) -> Vec<(
    ed25519_dalek::VerifyingKey,
    Vec<u8>,
    ed25519_dalek::Signature,
)> {
    let h = support::history(n, 0, newest());
    let keys: Vec<_> = (0..2)
        .map(|i| {
            ed25519_dalek::VerifyingKey::from_bytes(&support::key(i).public().to_bytes()).unwrap()
        })
        .collect();
    let mut out = Vec::with_capacity(2 * n);
    for f in &h.files {
        let env = Envelope::parse(&f.bytes).unwrap();
        let msg = env.signed_bytes();
        for (k, s) in keys.iter().zip(&env.signatures) {
            out.push((
                *k,
                msg.clone(),
                ed25519_dalek::Signature::from_slice(&s.sig).unwrap(),
            ));
        }
    }
    out
}

fn baseline(c: &mut Criterion) {
    let checks = one_core_checks(10_000);
    let mut g = c.benchmark_group("one-core baseline");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    g.throughput(Throughput::Elements(checks.len() as u64));
    g.bench_function(BenchmarkId::new("verify_strict", checks.len()), |b| {
        b.iter(|| {
            for (k, msg, sig) in &checks {
                assert!(k.verify_strict(black_box(msg), black_box(sig)).is_ok());
            }
        })
    });
    g.finish();
}

criterion_group!(benches, histories, baseline);
criterion_main!(benches);
