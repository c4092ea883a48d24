//! `canary sign`: review a draft and add one signature. Makes no network
//! connection, so it can run on an offline machine.

use std::path::Path;

use crate::cli::SignArgs;
use canary::error::{show_path, Error, Result};
use canary::project::Project;
use canary::store;
use canary::term::{self, paint, BAD, BOLD};
use canary_core::envelope::{Signature, TextSignature};
use canary_core::exit::Exit;
use canary_core::keys::{KeyError, SecretKey};
use canary_core::textsig::{self, TextSignatures};
use canary_core::verify::check_signatures;
use canary_core::{diff, render};

pub fn run(root: &Path, a: SignArgs) -> Result<Exit> {
    let project = Project::load(root)?;
    let trusted = project.load_policy()?;
    let draft = super::read_draft(&a.draft)?;
    let st = &draft.statement;

    if st.policy_sha256 != trusted.sha256 {
        return Err(Error::refused(format!(
            "{}: drafted under policy {}, but this project's policy is {}",
            show_path(&a.draft),
            st.policy_sha256.short(),
            trusted.sha256.short()
        )));
    }
    let key = load_secret(&a)?;
    let public = key.public();
    let Some(signer) = trusted.policy.signer_for(&public) else {
        return Err(Error::refused_with_hint(
            format!(
                "{}: key {} is not a signer in the trust policy",
                show_path(&a.key),
                public.fingerprint()
            ),
            "see `canary policy show` for the signers' fingerprints",
        ));
    };

    let sigs = check_signatures(&draft.envelope, &trusted);
    let domain = &trusted.policy.domain;
    // The plain-text canary signers also sign with standard-tool formats.
    let text = super::site::text_for(st, draft.envelope.payload_digest(), &trusted.policy);
    let fingerprint = public.fingerprint();
    let has_text = draft.envelope.text_signatures.iter().any(|t| {
        t.keyid == fingerprint
            && textsig::verify(
                &public,
                domain,
                st.sequence,
                text.as_bytes(),
                &TextSignatures {
                    sshsig: t.sshsig.clone(),
                    minisig: t.minisig.clone(),
                },
            )
            .is_ok()
    });
    let has_dsse = sigs.valid.contains(&signer.name);
    if has_dsse && has_text {
        super::out(&format!(
            "{} has already signed {}; nothing changed ({} signature(s), {} required).\n",
            signer.name,
            show_path(&a.draft),
            sigs.valid.len(),
            trusted.policy.threshold
        ));
        return Ok(Exit::Ok);
    }

    // Show exactly what is about to be signed.
    let mut o = format!(
        "{}\n\n{}",
        paint(
            BOLD,
            &format!("You are about to sign, as `{}`:", signer.name)
        ),
        render::statement(st)
    );
    o.push_str(&format!(
        "  Also signed: the plain-text canary.txt ({} bytes, sha256 {}) with OpenSSH (namespace {}) and minisign signatures.\n",
        text.len(),
        canary_core::digest::Sha256Digest::of(text.as_bytes()).short(),
        textsig::namespace(domain)
    ));
    o.push_str("  Changes since the previous canary:\n");
    o.push_str(&changes_since_previous(&project, st)?);
    o.push_str(&super::incident::review_for_signing(&project, st)?);
    o.push_str(&format!(
        "  Already signed by: {}\n",
        if sigs.valid.is_empty() {
            "nobody yet".into()
        } else {
            sigs.valid.join(", ")
        }
    ));
    if !sigs.invalid.is_empty() {
        o.push_str(&format!(
            "  {} signatures that do not verify: {} (the draft was altered after they signed)\n",
            paint(BAD, "WARNING:"),
            sigs.invalid.join(", ")
        ));
    }
    let problems = canary_core::freshness::check(
        st.freshness.as_ref(),
        &trusted.policy.freshness,
        st.issued_at,
    );
    if !problems.is_empty() {
        o.push_str(&format!(
            "  {} the proof of freshness does not hold, so this canary will not publish or verify: {}\n",
            paint(BAD, "WARNING:"),
            canary_core::freshness::describe_all(&problems)
        ));
    }
    super::note(&o);

    if !a.yes {
        if !term::stdin_is_terminal() {
            return Err(Error::refused_with_hint(
                "not confirmed: there is no terminal to ask on",
                "review the draft, then pass --yes",
            ));
        }
        if !term::confirm(&question(st))? {
            return Err(Error::refused("not signed: you did not confirm"));
        }
    }

    let mut env = draft.envelope.clone();
    if !has_dsse {
        let sig = key.sign(&env.signed_bytes());
        env.signatures.push(Signature {
            keyid: fingerprint.clone(),
            sig: sig.to_vec(),
        });
    }
    let ts = textsig::sign(&key, &signer.name, domain, st.sequence, text.as_bytes());
    env.text_signatures.retain(|t| t.keyid != fingerprint);
    env.text_signatures.push(TextSignature {
        keyid: fingerprint,
        sshsig: ts.sshsig,
        minisig: ts.minisig,
    });
    store::write_atomic(&a.draft, &env.to_json())?;
    let count = sigs.valid.len() + usize::from(!has_dsse);
    let t = trusted.policy.threshold;
    super::out(&format!(
        "Signed {} as {} ({}). {} signature(s), {} required.{}\n",
        show_path(&a.draft),
        signer.name,
        public.fingerprint(),
        count,
        t,
        if count >= t { " Ready to publish." } else { "" }
    ));
    Ok(Exit::Ok)
}

/// The confirmation prompt. The draft is untrusted until signed.
fn question(st: &canary_core::statement::Statement) -> String {
    format!(
        "Sign canary {} of {}?",
        st.sequence,
        canary_core::sanitize::line(&st.org)
    )
}

fn load_secret(a: &SignArgs) -> Result<SecretKey> {
    let text = zeroize::Zeroizing::new(store::read_capped(&a.key)?);
    match SecretKey::from_openssh(&text, None) {
        Err(KeyError::PassphraseNeeded) => {
            let pass = term::passphrase(
                a.passphrase.passphrase_file.as_deref(),
                false,
                &show_path(&a.key),
            )?;
            SecretKey::from_openssh(&text, Some(pass.as_bytes()))
                .map_err(|e| Error::input(&a.key, e))
        }
        other => other.map_err(|e| Error::input(&a.key, e)),
    }
}

/// The diff against the previous canary, if this checkout has it.
fn changes_since_previous(
    project: &Project,
    st: &canary_core::statement::Statement,
) -> Result<String> {
    let Some(prev_digest) = st.previous_sha256 else {
        return Ok("    none: this is the first canary\n".into());
    };
    let (files, _) = super::read_history(&project.canaries_dir())?;
    let prev = files
        .iter()
        .find(|f| f.number.checked_add(1) == Some(st.sequence));
    let prev = match prev.map(|f| super::newest_statement(std::slice::from_ref(f))) {
        Some(Ok(Some((p, d)))) if d == prev_digest => p,
        _ => {
            return Ok(format!(
                "    {} the previous canary ({}) is not in this checkout; compare by hand\n",
                paint(BAD, "unknown:"),
                prev_digest.short()
            ))
        }
    };
    let ch = diff::changes(&prev, st);
    Ok(if ch.is_empty() {
        "    none\n".into()
    } else {
        render::changes(&ch)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prompt_escapes_the_drafts_org() {
        // The last line before the answer: an escape sequence in the
        // (untrusted) draft's org could clear the review printed above it.
        let mut st = canary_core::statement::Statement::parse(
            br#"{"org":"x","domain":"example.org","sequence":1,"issued_at":"2026-01-01T00:00:00Z","expires_at":"2026-02-01T00:00:00Z","policy_sha256":"0000000000000000000000000000000000000000000000000000000000000000","previous_sha256":null,"statements":[{"id":"a","text":"t"}],"announcements":[]}"#,
        )
        .unwrap();
        st.org = "Example\u{1b}[2J\u{1b}[H\u{202e}".into();
        assert_eq!(
            question(&st),
            "Sign canary 1 of Example\\u{001b}[2J\\u{001b}[H\\u{202e}?"
        );
    }
}
