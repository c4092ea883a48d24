//! Fetched site bytes: `remote::verify_site` over a `MemoryTransport`
//! serving files made from the input, and `verify::verify` over the same
//! files as a local folder.
//!
//! The input is split on NUL bytes (which no JSON file holds): part 0 is
//! `keys/policy.json`, part 1 `.well-known/warrant-canary.json`, part 2
//! `canaries/incidents.jsonl` (absent when empty), parts 3… are
//! `canaries/0001.json`, `0002.json`, …
#![no_main]

use canary_core::limits::Limits;
use canary_core::policy::TrustedPolicy;
use canary_core::remote::{self, MemoryTransport, Pins, Request, SiteUrls};
use canary_core::timefmt::Timestamp;
use canary_core::verify::{self, CanaryFile};
use libfuzzer_sys::fuzz_target;

/// The newest demo canary is valid then (examples/demo).
const NOW: i64 = 1_790_000_000; // 2026-09-21

fuzz_target!(|data: &[u8]| {
    let parts: Vec<&[u8]> = data.split(|&b| b == 0).collect();
    if parts.len() < 2 || parts.len() > 64 {
        return;
    }
    let urls = SiteUrls::resolve("https://canary.example.org/").unwrap();
    let mut t = MemoryTransport::default();
    t.files.insert(urls.policy(), parts[0].to_vec());
    t.files.insert(urls.well_known(), parts[1].to_vec());
    let incidents = parts.get(2).filter(|p| !p.is_empty());
    if let Some(log) = incidents {
        t.files.insert(urls.incidents(), log.to_vec());
    }
    let canaries = parts.get(3..).unwrap_or(&[]);
    for (i, c) in canaries.iter().enumerate() {
        t.files.insert(urls.canary(i as u64 + 1), c.to_vec());
    }
    let now = Timestamp::from_unix(NOW);
    let limits = Limits::DEFAULT;
    let pins = Pins {
        policy: None,
        keys: &[],
        min_threshold: None,
        first_use: true,
        replace_pin: false,
    };
    let req = Request {
        urls: &urls,
        pins: &pins,
        record: None,
        now,
        limits: &limits,
    };
    match remote::verify_site(&mut t.clone(), &req) {
        Ok(out) => {
            let _ = canary_core::render::report(&out.report, "fuzz");
            // Again, remembering this run: the rollback rule must hold.
            let record = remote::updated_record(None, out.accepted.pin, &out.seen, now);
            let again = Request {
                record: Some(&record),
                ..req
            };
            let second = remote::verify_site(&mut t, &again).expect("the same site verifies again");
            assert_eq!(second.report.verdict, out.report.verdict);
        }
        Err(e) => {
            let _ = e.to_string();
            let _ = e.class();
        }
    }
    // The same files as a local folder.
    let Ok(policy) = TrustedPolicy::from_bytes(parts[0]) else {
        return;
    };
    let files: Vec<CanaryFile> = canaries
        .iter()
        .enumerate()
        .map(|(i, c)| CanaryFile {
            name: format!("canaries/{:04}.json", i + 1),
            number: i as u64 + 1,
            bytes: c.to_vec(),
        })
        .collect();
    let chain = canary_core::rotation::PolicyChain::single(policy);
    let input = verify::Input {
        chain: &chain,
        files: &files,
        latest: Some(parts[1]),
        incident_log: incidents.copied(),
        now,
    };
    if let Ok(report) = verify::verify(input) {
        let _ = canary_core::render::report(&report, "fuzz");
    }
});
