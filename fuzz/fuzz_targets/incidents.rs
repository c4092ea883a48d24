//! The incident log (`incidents.jsonl`): `incidents::scan` / `parse`, then
//! `incidents::check` against commitments made from what was read, the way
//! a verification checks a published log.
#![no_main]

use canary_core::incidents::{self, Commitment, Fold};
use canary_core::statement::LogCommitment;
use canary_core::timefmt::Timestamp;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let scan = incidents::scan(data);
    let valid = &scan.valid;
    // Every valid entry's line is the bytes it was read from.
    for r in valid {
        let _ = r.entry.to_line();
    }
    if scan.problem.is_none() {
        let records = incidents::parse(data).expect("a log scan found no problem in parses");
        assert_eq!(records.len(), valid.len());
    }
    let half = valid.len() / 2;
    let whole = LogCommitment {
        entries: scan.line_hashes.len() as u64,
        head_sha256: scan.line_hashes.last().copied(),
    };
    let commitments = [
        Commitment {
            canary: 1,
            log: None,
        },
        Commitment {
            canary: 2,
            log: Some(incidents::commitment(&valid[..half])),
        },
        Commitment {
            canary: 3,
            log: Some(incidents::commitment(valid)),
        },
        Commitment {
            canary: 4,
            log: Some(whole),
        },
    ];
    let now = Timestamp::from_unix(1_790_000_000);
    for n in 0..=commitments.len() {
        let c = incidents::check(Some(data), &commitments[..n], now);
        for p in c.failures.iter().chain(&c.warnings) {
            let _ = p.to_string();
        }
        if let Some(s) = &c.summary {
            let _ = canary_core::render::incidents(s);
        }
    }
    let fold = Fold::of(valid);
    let comps: Vec<String> = fold
        .incidents
        .iter()
        .flat_map(|i| i.components.iter().cloned())
        .collect();
    let _ = incidents::component_status(&fold, &comps, now);
    let _ = incidents::default_id(now, "Fuzzed title", &fold);
});
