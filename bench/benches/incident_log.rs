//! Criterion benchmark: incident-log verification as a function of the
//! log's size (`cargo bench -p canary-bench --bench incident_log`): 1,000 and 10,000 entries
//! (incidents opened and resolved, chained as `canary incident` appends
//! them), as `incidents::check` against one canary's commitment to the
//! whole log, and as part of verifying a 4-canary history that commits to
//! it step by step. Figures: docs/PERFORMANCE.md. Reports only.

use canary_bench::history as support;

use std::hint::black_box;
use std::time::Duration;

use canary_core::incidents::{self, Commitment};
use canary_core::statement::LogCommitment;
use canary_core::timefmt::Timestamp;
use canary_core::verify::{verify, Verdict};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn logs(c: &mut Criterion) {
    let newest = Timestamp::parse_canonical("2026-06-01T00:00:00Z").unwrap();
    let mut g = c.benchmark_group("incident log");
    g.sample_size(20).measurement_time(Duration::from_secs(8));
    for n in [1_000usize, 10_000] {
        let log = support::incident_log(n, Timestamp::from_unix(newest.unix() - 30 * 86_400));
        let commitment = [Commitment {
            canary: 1,
            log: Some(LogCommitment {
                entries: n as u64,
                head_sha256: log.hashes.last().copied(),
            }),
        }];
        let checked = incidents::check(Some(&log.bytes), &commitment, newest);
        assert!(checked.failures.is_empty(), "{:?}", checked.failures);
        g.throughput(Throughput::Bytes(log.bytes.len() as u64));
        g.bench_with_input(BenchmarkId::new("check", n), &log.bytes, |b, bytes| {
            b.iter(|| incidents::check(Some(black_box(bytes)), &commitment, newest))
        });

        let h = support::history(4, n, newest);
        let report = verify(h.input()).unwrap();
        assert_eq!(report.verdict, Verdict::Valid, "{:?}", report.failures);
        g.bench_with_input(BenchmarkId::new("verify 4 canaries +", n), &h, |b, h| {
            b.iter(|| verify(black_box(h.input())).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, logs);
criterion_main!(benches);
