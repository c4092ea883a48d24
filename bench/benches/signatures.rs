//! Criterion benchmark: strict Ed25519 signature checks, alone and as
//! verification counts them (`cargo bench -p canary-bench --bench signatures`).
//!
//! * `verify_strict`: one ed25519-dalek `verify_strict` over a canary's
//!   signed bytes (PAE of a ~1.4 KB statement), the floor every other
//!   figure is compared with;
//! * `PublicKey::verify`: the same through canary-core (signature bytes
//!   decoded first);
//! * `check_signatures 2-of-3`: `verify::check_signatures` on an envelope
//!   signed by two of three policy keys (two strict checks, the key-id
//!   lookup, the count);
//! * `parse + check_signatures`: the same from the envelope's JSON bytes.
//!
//! Figures and the machine: docs/PERFORMANCE.md. Reports only; asserts no time.

use canary_bench::history as support;

use std::hint::black_box;

use canary_core::envelope::Envelope;
use canary_core::policy::TrustedPolicy;
use canary_core::timefmt::Timestamp;
use canary_core::verify::check_signatures;
use criterion::{criterion_group, criterion_main, Criterion};

fn signatures(c: &mut Criterion) {
    let h = support::history(
        1,
        0,
        Timestamp::parse_canonical("2026-06-01T00:00:00Z").unwrap(),
    );
    let bytes = &h.files[0].bytes;
    let env = Envelope::parse(bytes).unwrap();
    let policy = TrustedPolicy::from_bytes(&h.policy_json).unwrap();
    let msg = env.signed_bytes();
    let public = support::key(0).public();
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&public.to_bytes()).unwrap();
    let sig = ed25519_dalek::Signature::from_slice(&env.signatures[0].sig).unwrap();
    assert!(vk.verify_strict(&msg, &sig).is_ok());

    let mut g = c.benchmark_group("signature");
    g.bench_function("verify_strict", |b| {
        b.iter(|| black_box(&vk).verify_strict(black_box(&msg), black_box(&sig)))
    });
    g.bench_function("PublicKey::verify", |b| {
        b.iter(|| black_box(&public).verify(black_box(&msg), black_box(&env.signatures[0].sig)))
    });
    g.bench_function("check_signatures 2-of-3", |b| {
        b.iter(|| {
            let check = check_signatures(black_box(&env), black_box(&policy));
            assert_eq!(check.valid.len(), 2);
            check
        })
    });
    g.bench_function("parse + check_signatures 2-of-3", |b| {
        b.iter(|| {
            let env = Envelope::parse(black_box(bytes)).unwrap();
            check_signatures(&env, &policy)
        })
    });
    g.finish();
}

criterion_group!(benches, signatures);
criterion_main!(benches);
