//! `watch::parse_list`: the TOML list of canaries `canary watch` checks.
#![no_main]

use canary_core::watch;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match watch::parse_list(text) {
        Ok(entries) => {
            assert!(!entries.is_empty());
            for e in &entries {
                assert!(e.line >= 1);
                let _ = e.site.well_known();
                let _ = e.site.policy();
            }
        }
        Err(e) => {
            // The line named is one of the file's (or 1 for an empty file).
            assert!(e.line >= 1 && e.line <= text.lines().count().max(1) + 1);
            let _ = e.to_string();
        }
    }
});
