//! `canary sign`: review a draft and add one signature. Makes no network
//! connection, so it can run on an offline machine.

use canary_core::rotation::PolicyChain;
use std::path::Path;

use super::Draft;
use crate::cli::{PassphraseArgs, SignArgs};
use canary::error::{show_path, Error, Result};
use canary::project::Project;
use canary::store;
use canary::term::{self, paint, BAD, BOLD};
use canary_core::envelope::{Envelope, TextSignature};
use canary_core::exit::Exit;
use canary_core::keys::{KeyError, PublicKey, SecretKey};
use canary_core::policy::TrustedPolicy;
use canary_core::statement::Statement;
use canary_core::textsig::{self, TextSignatures};
use canary_core::timefmt::Timestamp;
use canary_core::verify::{self, check_signatures, CanaryFile, Class, SignatureCheck};
use canary_core::{diff, render};

pub fn run(root: &Path, a: SignArgs, now: Timestamp) -> Result<Exit> {
    let project = Project::load(root)?;
    // Held until the draft is written, prompts included: a second signer
    // signing meanwhile would otherwise lose their signature (or this one).
    let _lock = project.lock("sign")?;
    // The newest accepted version, pending included: the next canary is
    // signed under it (docs/FORMAT.md, "Rotation").
    let versions = project.load_chain_with_pending()?;
    let trusted = versions.newest().clone();
    let draft = super::read_draft(&a.draft)?;
    let st = &draft.statement;
    check_drafted_under(&a.draft, st, &versions.chain)?;
    check_follows_history(&project, &versions.chain, &a.draft, &draft, now)?;
    let key = load_secret(&a.key, &a.passphrase)?;
    let signer = signer_of(&a, &trusted, &key.public())?;
    let sigs = check_signatures(&draft.envelope, &trusted);
    // The plain-text canary signers also sign with standard-tool formats.
    let text = super::site::text_for(st, draft.envelope.payload_digest(), &trusted.policy);
    let has_text = has_text_signature(&draft, &trusted, &key.public(), &text);
    let has_dsse = sigs.valid.contains(&signer);
    if has_dsse && has_text {
        super::out(&format!(
            "{} has already signed {}; nothing changed ({} signature(s), {} required).\n",
            signer,
            show_path(&a.draft),
            sigs.valid.len(),
            trusted.policy.threshold
        ));
        return Ok(Exit::Ok);
    }
    super::note(&review(&project, &trusted, st, &signer, &text, &sigs)?);
    confirm(a.yes, &question(st))?;
    let env = signed(&draft, &key, &signer, &trusted, &text, has_dsse);
    store::write_atomic(&a.draft, &env.to_json())?;
    let count = sigs.valid.len() + usize::from(!has_dsse);
    let t = trusted.policy.threshold;
    super::out(&format!(
        "Signed {} as {} ({}). {} signature(s), {} required.{}\n",
        show_path(&a.draft),
        signer,
        key.public().fingerprint(),
        count,
        t,
        if count >= t { " Ready to publish." } else { "" }
    ));
    Ok(Exit::Ok)
}

/// Refuses a draft made under another policy than the newest accepted
/// version: its signatures would count for a policy this project no
/// longer (or never) had, or one a rotation has superseded.
fn check_drafted_under(path: &Path, st: &Statement, chain: &PolicyChain) -> Result<()> {
    let newest = chain.newest();
    if st.policy_sha256 == newest.sha256 {
        return Ok(());
    }
    let message = format!(
        "{}: drafted under policy {}, but this project's policy is {}",
        show_path(path),
        st.policy_sha256.short(),
        newest.sha256.short()
    );
    Err(match chain.position(st.policy_sha256) {
        Some(i) => Error::refused_with_hint(
            message,
            format!(
                "policy version {} has been accepted since this draft was made under version {}; draft again (`canary draft --force`)",
                newest.policy.version,
                chain.versions[i].policy.version
            ),
        ),
        None => Error::refused(message),
    })
}

/// Refuses, before any passphrase is asked or signature made, a draft
/// that can never be published after this checkout's history: a
/// signature is for ever. It runs the verification `canary publish` runs
/// (the published history with the draft as the next and newest canary;
/// [`verify::verify_draft`], which judges the draft's content although
/// too few have signed it yet) and refuses on what no further signature
/// can mend, with the exit code of its class, as `publish` would for the
/// same draft once signed:
///
/// * policy (12): another organisation or domain, validity over the
///   cadence (another policy is refused above, exit 4);
/// * history (13): not the next number (a gap, or already published; as
///   `publish`'s sequence check), a wrong previous hash, an issue time not
///   after the previous canary's;
/// * any failure up to the history class of a published canary: nothing
///   can follow a history that does not verify.
///
/// Not refused: the draft's own threshold (too few signatures yet is why
/// it is being signed) and other signers' signatures on it (the review
/// warns of those); and what `publish` judges when it publishes (a trip,
/// which needs `--accept-trip`; the incident log, which a signer's
/// checkout may not hold yet; freshness, which the review warns of;
/// expiry). A checkout that lacks the previous canaries cannot tell a gap
/// from its own age, so it is refused too, and told to update.
fn check_follows_history(
    project: &Project,
    chain: &PolicyChain,
    path: &Path,
    draft: &Draft,
    now: Timestamp,
) -> Result<()> {
    let (files, _) = super::read_history(&project.canaries_dir())?;
    let number = files.last().map_or(1, |f| f.number.saturating_add(1));
    let seq = draft.statement.sequence;
    if seq != number {
        return Err(Error::Verification {
            class: Class::History,
            message: format!(
                "not signed, nothing changed: {} is a draft of canary {seq}, but the next canary is {number}{}",
                show_path(path),
                if seq < number {
                    format!(" (canary {seq} is already published)")
                } else {
                    " (if this checkout lacks published canaries, update it first)".into()
                }
            ),
        });
    }
    let next = CanaryFile {
        name: show_path(path),
        number,
        bytes: draft.envelope.published().to_json(),
    };
    // No incident log: its class is not judged here, and no rule of the
    // classes judged reads it.
    let input = verify::Input {
        chain,
        files: &files,
        latest: None,
        now,
        incident_log: None,
    };
    let report = verify::verify_draft(input, &next).map_err(Error::from)?;
    let mut blocking = report.failures.iter().filter(|f| {
        f.class <= Class::History && !(f.canary == Some(number) && f.class <= Class::Threshold)
    });
    let Some(first) = blocking.next() else {
        return Ok(());
    };
    for f in blocking {
        super::note(&format!("{} {}\n", paint(BAD, "also:"), f.message()));
    }
    Err(Error::Verification {
        class: first.class,
        message: format!(
            "not signed, nothing changed: {}; this draft can never follow the published history",
            first.message(),
        ),
    })
}

/// The policy name of the signer holding this key; refuses a key that is
/// not in the policy before anything is shown or signed.
fn signer_of(a: &SignArgs, trusted: &TrustedPolicy, public: &PublicKey) -> Result<String> {
    refuse_revoked(&a.key, trusted, public)?;
    match trusted.policy.signer_for(public) {
        Some(signer) => Ok(signer.name.clone()),
        None => Err(Error::refused_with_hint(
            format!(
                "{}: key {} is not a signer in the trust policy",
                show_path(&a.key),
                public.fingerprint()
            ),
            "see `canary policy show` for the signers' fingerprints",
        )),
    }
}

/// Refuses a key the policy revokes, saying so (rather than only "not a
/// signer"): its signatures never count again. `canary policy sign` too.
pub(crate) fn refuse_revoked(
    path: &Path,
    trusted: &TrustedPolicy,
    public: &PublicKey,
) -> Result<()> {
    let Some(r) = trusted.policy.revoked_from(public) else {
        return Ok(());
    };
    Err(Error::refused_with_hint(
        format!(
            "{}: key {} of {} is revoked as compromised from {} by policy version {}",
            show_path(path),
            public.fingerprint(),
            canary_core::sanitize::line(&r.name),
            r.compromised_at,
            trusted.policy.version
        ),
        "sign with your new key; see `canary policy show`",
    ))
}

/// Whether the draft already carries this key's valid signatures of the
/// plain text, so signing again would change nothing.
fn has_text_signature(
    draft: &Draft,
    trusted: &TrustedPolicy,
    public: &PublicKey,
    text: &str,
) -> bool {
    let fingerprint = public.fingerprint();
    draft.envelope.text_signatures.iter().any(|t| {
        t.keyid == fingerprint
            && textsig::verify(
                public,
                &trusted.policy.domain,
                draft.statement.sequence,
                text.as_bytes(),
                &TextSignatures {
                    sshsig: t.sshsig.clone(),
                    minisig: t.minisig.clone(),
                },
            )
            .is_ok()
    })
}

/// Exactly what is about to be signed, for the signer to review: the
/// statement, the plain text, the changes, the incidents, who signed and
/// what will not hold.
fn review(
    project: &Project,
    trusted: &TrustedPolicy,
    st: &Statement,
    signer: &str,
    text: &str,
    sigs: &SignatureCheck,
) -> Result<String> {
    let mut o = format!(
        "{}\n\n{}",
        paint(BOLD, &format!("You are about to sign, as `{signer}`:")),
        render::statement(st)
    );
    o.push_str(&format!(
        "  Also signed: the plain-text canary.txt ({} bytes, sha256 {}) with OpenSSH (namespace {}) and minisign signatures.\n",
        text.len(),
        canary_core::digest::Sha256Digest::of(text.as_bytes()).short(),
        textsig::namespace(&trusted.policy.domain)
    ));
    o.push_str("  Changes since the previous canary:\n");
    o.push_str(&changes_since_previous(project, st)?);
    o.push_str(&super::incident::review_for_signing(project, st)?);
    o.push_str(&signatures_so_far(sigs));
    o.push_str(&freshness_warning(st, trusted));
    Ok(o)
}

/// Who has signed already, and a warning about signatures the draft no
/// longer matches.
fn signatures_so_far(sigs: &SignatureCheck) -> String {
    let mut o = format!(
        "  Already signed by: {}\n",
        if sigs.valid.is_empty() {
            "nobody yet".into()
        } else {
            sigs.valid.join(", ")
        }
    );
    if !sigs.invalid.is_empty() {
        o.push_str(&format!(
            "  {} signatures that do not verify: {} (the draft was altered after they signed)\n",
            paint(BAD, "WARNING:"),
            sigs.invalid.join(", ")
        ));
    }
    o
}

/// A warning when the draft's proof of freshness does not meet the policy:
/// better said before signing than at publication.
fn freshness_warning(st: &Statement, trusted: &TrustedPolicy) -> String {
    let problems = canary_core::freshness::check(
        st.freshness.as_ref(),
        &trusted.policy.freshness,
        st.issued_at,
    );
    if problems.is_empty() {
        return String::new();
    }
    format!(
        "  {} the proof of freshness does not hold, so this canary will not publish or verify: {}\n",
        paint(BAD, "WARNING:"),
        canary_core::freshness::describe_all(&problems)
    )
}

/// Asks the signer to confirm `question`, unless --yes; with no terminal
/// to ask on, refuses rather than sign unseen. `canary policy sign` asks
/// the same way.
pub(crate) fn confirm(yes: bool, question: &str) -> Result<()> {
    if yes {
        return Ok(());
    }
    if !term::stdin_is_terminal() {
        return Err(Error::refused_with_hint(
            "not confirmed: there is no terminal to ask on",
            "review the draft, then pass --yes",
        ));
    }
    if !term::confirm(question)? {
        return Err(Error::refused("not signed: you did not confirm"));
    }
    Ok(())
}

/// The draft with this signer's DSSE signature (unless it already has a
/// valid one) and fresh canary.txt signatures in place of any old ones.
fn signed(
    draft: &Draft,
    key: &SecretKey,
    signer: &str,
    trusted: &TrustedPolicy,
    text: &str,
    has_dsse: bool,
) -> Envelope {
    let fingerprint = key.public().fingerprint();
    let mut env = draft.envelope.clone();
    if !has_dsse {
        env.add_signature(key);
    }
    let ts = textsig::sign(
        key,
        signer,
        &trusted.policy.domain,
        draft.statement.sequence,
        text.as_bytes(),
    );
    env.text_signatures.retain(|t| t.keyid != fingerprint);
    env.text_signatures.push(TextSignature {
        keyid: fingerprint,
        sshsig: ts.sshsig,
        minisig: ts.minisig,
    });
    env
}

/// The confirmation prompt. The draft is untrusted until signed.
fn question(st: &Statement) -> String {
    format!("Sign canary {} of {}?", st.sequence, st.org)
}

/// Reads the secret key at `path`, asking for its passphrase (file,
/// CANARY_PASSPHRASE or prompt) only if it is encrypted; the file's bytes
/// and the passphrase are zeroized once read.
pub(crate) fn load_secret(path: &Path, passphrase: &PassphraseArgs) -> Result<SecretKey> {
    let text = zeroize::Zeroizing::new(store::read_capped(path)?);
    match SecretKey::from_openssh(&text, None) {
        Err(KeyError::PassphraseNeeded) => {
            let pass = term::passphrase(
                passphrase.passphrase_file.as_deref(),
                false,
                &show_path(path),
            )?;
            SecretKey::from_openssh(&text, Some(pass.as_bytes())).map_err(|e| Error::input(path, e))
        }
        other => other.map_err(|e| Error::input(path, e)),
    }
}

/// The diff against the previous canary, if this checkout has it.
fn changes_since_previous(project: &Project, st: &Statement) -> Result<String> {
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
