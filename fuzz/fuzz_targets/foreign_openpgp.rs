//! The OpenPGP side of foreign canaries (`canary verify --foreign openpgp`):
//! a detached signature or a clear-signed text comes from the server and is
//! parsed before anything is authenticated, and every signature naming a
//! pinned key is then checked with rPGP. Each input is read three ways: as
//! detached signatures and as a clear-signed text (checked against the
//! pinned Qubes keys over a real canary), and as certificates (pinned in
//! place of the real ones, so that mutated self-signatures, subkey
//! bindings and certifications are verified). None may panic.
//!
//! The pinned keys, canary and signatures are the real Qubes OS files in
//! `../shared/vectors/canaries/qubes-secpack` (no licence stated, so not
//! copied here), or in `$CANARY_FUZZ_CANARIES`; without them only the
//! readers run.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use canary_core::foreign::openpgp::{self, Cert, Signature};
use canary_core::timefmt::Timestamp;
use libfuzzer_sys::fuzz_target;

struct Pinned {
    certs: Vec<Cert>,
    certifiers: Vec<Cert>,
    text: Vec<u8>,
    sigs: Vec<Signature>,
}

fn pinned() -> Option<&'static Pinned> {
    static P: OnceLock<Option<Pinned>> = OnceLock::new();
    P.get_or_init(|| {
        let root = std::env::var_os("CANARY_FUZZ_CANARIES")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors/canaries")
            })
            .join("qubes-secpack");
        let read = |rel: &str| std::fs::read(root.join(rel)).ok();
        let load = || -> Option<Pinned> {
            // Each signer's certificate, and their signature over canary 047.
            let (mut certs, mut sigs) = (Vec::new(), Vec::new());
            for who in ["marmarek", "simon"] {
                let key = read(&format!(
                    "keys/security-team/{who}-qubes-secpack-signing-key.asc"
                ))?;
                certs.extend(openpgp::read_certs(&key).ok()?);
                let sig = read(&format!("canaries/canary-047-2026.txt.sig.{who}"))?;
                sigs.extend(openpgp::read_signatures(&sig).ok()?);
            }
            let certifiers =
                openpgp::read_certs(&read("keys/master-key/qubes-master-key.asc")?).ok()?;
            Some(Pinned {
                certs,
                certifiers,
                text: read("canaries/canary-047-2026.txt")?,
                sigs,
            })
        };
        let p = load();
        if p.is_none() {
            eprintln!(
                "foreign_openpgp: no Qubes keys under {}: only the readers run",
                root.display()
            );
        }
        p
    })
    .as_ref()
}

fuzz_target!(|data: &[u8]| {
    // Ten days after Qubes canary 047 was signed.
    let now = Timestamp::from_unix(1_781_049_600);
    let p = pinned();
    if let Ok(sigs) = openpgp::read_signatures(data) {
        if let Some(p) = p {
            let _ = openpgp::check(&p.text, &sigs, &p.certs, &p.certifiers, now);
        }
    }
    if let Ok(c) = openpgp::read_cleartext(data) {
        if let Some(p) = p {
            let _ = openpgp::check(
                c.signed_bytes(),
                &c.signatures,
                &p.certs,
                &p.certifiers,
                now,
            );
        }
    }
    if let Ok(certs) = openpgp::read_certs(data) {
        if let Some(p) = p {
            let _ = openpgp::check(&p.text, &p.sigs, &certs, &p.certifiers, now);
            for c in &certs {
                let _ = openpgp::certified_by(c.key(), &p.certifiers, now.unix());
            }
        }
    }
});
