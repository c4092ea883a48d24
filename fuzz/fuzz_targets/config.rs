//! `Config::parse`: `canary.toml`.
#![no_main]

use canary_core::config::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(c) = Config::parse(text) else {
        return;
    };
    // parse(write(x)) == x.
    let again = Config::parse(&c.to_toml()).expect("a configuration's own TOML parses");
    assert_eq!(again, c);
});
