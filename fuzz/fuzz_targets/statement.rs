//! `Statement::parse`: a signed payload, read only after its signatures
//! verified, yet still the signers' free-form input. Also renders it the
//! ways a report and the plain-text canary show it.
#![no_main]

use canary_core::freshness::{self, Requirement};
use canary_core::statement::Statement;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = Statement::parse(data) else {
        return;
    };
    // parse(write(x)) == x for every statement the parser accepts.
    let again = Statement::parse(&s.to_payload()).expect("a statement's own payload parses");
    assert_eq!(again, s);
    let _ = canary_core::render::statement(&s);
    let _ = canary_core::diff::changes(&s, &s);
    if let Some(f) = &s.freshness {
        let _ = freshness::check(Some(f), &Requirement::DEFAULT, s.issued_at);
        let _ = canary_core::render::freshness(f, "  ");
    }
});
