//! The state files: `canary verify URL`'s (`remote::State::parse`) and
//! `canary watch`'s (`watch::WatchState`), both local files that another
//! program, or a damaged disk, may have written.
#![no_main]

use std::collections::BTreeMap;

use canary_core::digest::Sha256Digest;
use canary_core::remote::{self, Seen, State};
use canary_core::timefmt::Timestamp;
use canary_core::watch::{self, WatchState};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let seen = Seen {
        sequence: 3,
        payload_sha256: Sha256Digest::of(b"3"),
        history: BTreeMap::from([(1, Sha256Digest::of(b"1")), (2, Sha256Digest::of(b"2"))]),
    };
    let now = Timestamp::from_unix(1_790_000_000);
    if let Ok(s) = State::parse(data) {
        // parse(write(x)) == x.
        assert_eq!(State::parse(&s.to_json()).expect("own JSON parses"), s);
        for r in s.sites.values() {
            let _ = remote::check_seen(Some(r), &seen);
            let _ = remote::updated_record(Some(r), r.pin(), &seen, now);
        }
    }
    if let Ok(s) = WatchState::parse(data) {
        assert_eq!(WatchState::parse(&s.to_json()).expect("own JSON parses"), s);
        for r in s.sites.values() {
            if let Some(b) = watch::rollback_baseline(r) {
                let _ = remote::check_seen(Some(&b), &seen);
            }
            let _ = r.status.label();
        }
    }
});
