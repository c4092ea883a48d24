//! `Envelope::parse`: the DSSE envelope of every canary file, and the
//! payload it carries, read as a statement.
#![no_main]

use canary_core::envelope::Envelope;
use canary_core::statement::Statement;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(env) = Envelope::parse(data) {
        // What was read writes back to something that reads the same.
        let again = Envelope::parse(&env.to_json()).expect("an envelope's own JSON parses");
        assert_eq!(again, env);
        let _ = env.signed_bytes();
        let _ = env.payload_digest();
        let _ = Statement::parse(&env.payload);
    }
});
