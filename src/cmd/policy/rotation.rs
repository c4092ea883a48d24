//! `canary policy propose | sign | publish`: a rotation of the trust
//! policy (docs/FORMAT.md, "Rotation"). Version N+1 is proposed as a DSSE
//! envelope over its exact bytes (`drafts/policy.N+1.json`, with a review
//! copy like a canary draft), signed offline one signer at a time, and
//! accepted once a threshold of version N's signers and one of version
//! N+1's have signed. It is then pending: `keys/policy.json` becomes it
//! when the first canary signed under it is published.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::cli::{PolicySignArgs, ProposeArgs};
use canary::error::{show_path, Error, Result};
use canary::project::{read_public_key, Project, Versions};
use canary::store;
use canary::term::{paint, BAD, BOLD};
use canary_core::envelope::Envelope;
use canary_core::exit::Exit;
use canary_core::keys::PublicKey;
use canary_core::policy::{check_name, Policy, Revocation, Signer, TrustedPolicy};
use canary_core::rotation::{
    assess, changes, check_proposal, check_step, check_successor, Assessment, ChainFile, Change,
    Signed, StepProblem, POLICY_PAYLOAD_TYPE,
};
use canary_core::sanitize::{line, Untrusted};
use canary_core::timefmt::Timestamp;
use canary_core::verify::Class;

/// `drafts/policy.K.json`, the default proposal of version `k`.
fn proposal_path(project: &Project, k: u64) -> PathBuf {
    project.drafts_dir().join(format!("policy.{k}.json"))
}

/// `canary policy propose`.
pub(super) fn propose(project: &Project, a: ProposeArgs) -> Result<Exit> {
    let versions = project.load_chain_with_pending()?;
    let base = versions.newest();
    let explanation = match (&a.explain, &a.explain_file) {
        (Some(t), _) => t.clone(),
        // A file's final newline ends the file, not the explanation.
        (None, Some(f)) => {
            let t = store::read_text(f)?;
            t.strip_suffix('\n').map(str::to_string).unwrap_or(t)
        }
        (None, None) => return Err(Error::Usage("--explain or --explain-file is needed".into())),
    };
    let (policy, new_pubs) = next_version(project, base, &a, explanation)?;
    let list = changes(&base.policy, &policy);
    if list.is_empty() {
        return Err(Error::Usage(
            "the proposal changes nothing: give at least one change (--add-signer, --remove-signer, --replace-key, --threshold, --cadence-days, --min-feeds, --block, --max-age-hours, --revoke)".into(),
        ));
    }
    let payload = policy.to_json();
    let mut env = Envelope::new(POLICY_PAYLOAD_TYPE, payload.clone());
    env.review = Some(serde_json::from_slice(&payload).expect("own payload is JSON"));
    let path = a
        .out
        .clone()
        .unwrap_or_else(|| proposal_path(project, policy.version));
    if !a.force && path.exists() {
        return Err(Error::refused_with_hint(
            format!(
                "{}: a proposal already exists (it may carry signatures)",
                show_path(&path)
            ),
            "pass --force to replace it, or --out FILE",
        ));
    }
    // The keys of new signers first: a proposal is never written naming a
    // key file that is not there.
    for (pub_path, name, key) in &new_pubs {
        store::write_new_atomic(pub_path, format!("{}\n", key.to_openssh(name)).as_bytes())?;
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        store::ensure_dir(dir)?;
    }
    if a.force {
        store::write_atomic(&path, &env.to_json())?;
    } else {
        store::write_new_atomic(&path, &env.to_json())?;
    }
    let new = TrustedPolicy::from_bytes(&payload).expect("a checked policy parses");
    let mut o = format!(
        "Proposed policy version {} (sha256 {}) written to {}\n",
        policy.version,
        new.sha256,
        show_path(&path)
    );
    o.push_str(&describe(base, &new, &list));
    o.push_str(&format!(
        "\nNext: {} of version {}'s signers ({}) and {} of version {}'s ({}) each run `canary policy sign {} --key SECRET`; then `canary policy publish {}`.\n",
        base.policy.threshold,
        base.policy.version,
        signer_names(&base.policy),
        policy.threshold,
        policy.version,
        signer_names(&policy),
        show_path(&path),
        show_path(&path),
    ));
    super::super::out(&o);
    Ok(Exit::Ok)
}

/// A new signer's key to copy to `keys/NAME.pub`.
type NewPub = (PathBuf, String, PublicKey);

/// Version N+1 built from `base` (version N) by the changes asked for,
/// checked as a policy and as a successor of `base`; and the public key
/// files to write for the signers added with NAME=PUBFILE.
fn next_version(
    project: &Project,
    base: &TrustedPolicy,
    a: &ProposeArgs,
    explanation: String,
) -> Result<(Policy, Vec<NewPub>)> {
    let old = &base.policy;
    let n = old.version;
    let mut p = old.clone();
    p.version = n.saturating_add(1);
    p.previous_sha256 = Some(base.sha256);
    p.explanation = Some(Untrusted::new(explanation));
    let keys = project.keys_dir();
    let mut new_pubs = Vec::new();
    let not_signer =
        |name: &str| Error::refused(format!("`{}` is not a signer of version {n}", line(name)));
    for spec in &a.add_signer {
        let (name, file) = match spec.split_once('=') {
            Some((name, file)) => (name, Some(Path::new(file))),
            None => (spec.as_str(), None),
        };
        check_name(name).map_err(Error::usage)?;
        if p.signers.iter().any(|s| s.name == name) {
            return Err(Error::refused(format!("`{name}` is already a signer")));
        }
        let pub_path = keys.join(format!("{name}.pub"));
        let key = match file {
            Some(f) => {
                let k = read_public_key(f)?;
                if pub_path.exists() {
                    if read_public_key(&pub_path)? != k {
                        return Err(Error::refused(format!(
                            "{}: already holds a different key",
                            show_path(&pub_path)
                        )));
                    }
                } else {
                    new_pubs.push((pub_path, name.to_string(), k.clone()));
                }
                k
            }
            None => read_public_key(&pub_path)?,
        };
        p.signers.push(Signer {
            name: name.into(),
            key,
        });
    }
    for name in &a.remove_signer {
        let i = p
            .signers
            .iter()
            .position(|s| &s.name == name)
            .ok_or_else(|| not_signer(name))?;
        p.signers.remove(i);
    }
    let mut replaced = BTreeSet::new();
    for spec in &a.replace_key {
        let (name, file) = spec.split_once('=').ok_or_else(|| {
            Error::Usage(format!(
                "--replace-key {}: expected NAME=PUBFILE",
                line(spec)
            ))
        })?;
        let key = read_public_key(Path::new(file))?;
        let s = p
            .signers
            .iter_mut()
            .find(|s| s.name == name)
            .ok_or_else(|| not_signer(name))?;
        s.key = key;
        replaced.insert(name.to_string());
    }
    for spec in &a.revoke {
        let (name, time) = spec
            .split_once('=')
            .ok_or_else(|| Error::Usage(format!("--revoke {}: expected NAME=TIME", line(spec))))?;
        let compromised_at = Timestamp::parse_lenient(time)
            .map_err(|e| Error::Usage(format!("--revoke {}: {e}", line(spec))))?;
        // The key NAME has in version N is the one revoked.
        let key = old
            .signers
            .iter()
            .find(|s| s.name == name)
            .ok_or_else(|| not_signer(name))?
            .key
            .clone();
        p.revoked.push(Revocation {
            name: name.into(),
            key,
            compromised_at,
        });
        if !replaced.contains(name) {
            p.signers.retain(|s| s.name != name);
        }
    }
    if let Some(t) = a.threshold {
        p.threshold = t;
    }
    if let Some(d) = a.cadence_days {
        p.cadence_days = d;
    }
    let f = &mut p.freshness;
    f.min_feeds = a.min_feeds.unwrap_or(f.min_feeds);
    f.block = a.block.unwrap_or(f.block);
    f.max_age_hours = a.max_age_hours.unwrap_or(f.max_age_hours);
    p.check()
        .map_err(|e| Error::Usage(format!("policy version {}: {e}", p.version)))?;
    check_successor(base, &p)
        .map_err(|e| Error::Usage(format!("policy version {}: {e}", p.version)))?;
    Ok((p, new_pubs))
}

fn signer_names(p: &Policy) -> String {
    p.signers
        .iter()
        .map(|s| line(&s.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Version N → N+1: every change, the new version in brief, and the
/// explanation (escaped: it is whatever the proposal's author wrote).
fn describe(old: &TrustedPolicy, new: &TrustedPolicy, list: &[Change]) -> String {
    let p = &new.policy;
    let mut o = format!(
        "  version {} → {} of the trust policy of {} ({})\n  Changes:\n",
        old.policy.version,
        p.version,
        p.org,
        line(&p.domain)
    );
    for c in list {
        o.push_str(&format!("    {c}\n"));
    }
    o.push_str(&format!(
        "  Version {}: threshold {} of {} ({}), cadence {} days, {}\n",
        p.version,
        p.threshold,
        p.signers.len(),
        signer_names(p),
        p.cadence_days,
        if p.freshness.required() {
            format!("proof of freshness {}", p.freshness.describe())
        } else {
            "no proof of freshness required".into()
        }
    ));
    o.push_str("  Explanation (signed with the policy, shown to readers):\n");
    let text = p
        .explanation
        .as_ref()
        .map(Untrusted::block)
        .unwrap_or_default();
    for l in text.lines() {
        o.push_str(&format!("    | {l}\n"));
    }
    o
}

/// One threshold's part: "version 1: alice, bob (2 signed, 2 required)".
fn part(version: u64, s: &Signed) -> String {
    format!(
        "version {version}: {} ({} signed, {} required)",
        if s.valid.is_empty() {
            "nobody yet".to_string()
        } else {
            s.valid
                .iter()
                .map(|n| line(n))
                .collect::<Vec<_>>()
                .join(", ")
        },
        s.valid.len(),
        s.required
    )
}

fn progress(old: u64, new: u64, a: &Assessment) -> String {
    format!("{}; {}", part(old, &a.old), part(new, &a.new))
}

/// Reads a proposal: a strict envelope whose review copy, if any, is the
/// payload.
fn read_proposal(path: &Path) -> Result<Envelope> {
    let bytes = store::read_capped(path)?;
    let env = Envelope::parse(&bytes).map_err(|e| Error::input(path, e))?;
    if let Some(review) = &env.review {
        let payload: serde_json::Value = serde_json::from_slice(&env.payload)
            .map_err(|e| Error::input(path, format!("the signed payload is not JSON: {e}")))?;
        if review != &payload {
            return Err(Error::input(
                path,
                "the readable `review` copy differs from the signed payload: the proposal was edited by hand",
            ));
        }
    }
    Ok(env)
}

/// A refused step as the error of its class: a signature that does not
/// verify (10), a threshold not met (11), anything else a policy failure
/// (12); one line naming the file.
fn step_error(path: &Path, what: &str, e: StepProblem) -> Error {
    let class = match e {
        StepProblem::BadSignature { .. } => Class::Signature,
        StepProblem::OldThreshold { .. } | StepProblem::NewThreshold { .. } => Class::Threshold,
        _ => Class::Policy,
    };
    Error::Verification {
        class,
        message: format!("{what}: {}: {e}", show_path(path)),
    }
}

/// `canary policy sign`.
pub(super) fn sign(project: &Project, a: PolicySignArgs) -> Result<Exit> {
    let versions = project.load_chain_with_pending()?;
    let base = versions.newest();
    let mut env = read_proposal(&a.draft)?;
    let (new, before) = check_proposal(base, &env)
        .map_err(|e| step_error(&a.draft, "not signed, nothing changed", e))?;
    let key = super::super::sign::load_secret(&a.key, &a.passphrase)?;
    let public = key.public();
    // A revoked key counts for neither threshold.
    super::super::sign::refuse_revoked(&a.key, base, &public)?;
    super::super::sign::refuse_revoked(&a.key, &new, &public)?;
    let Some(name) = new
        .policy
        .signer_for(&public)
        .or_else(|| base.policy.signer_for(&public))
        .map(|s| s.name.clone())
    else {
        return Err(Error::refused_with_hint(
            format!(
                "{}: key {} is a signer of neither policy version {} nor version {}",
                show_path(&a.key),
                public.fingerprint(),
                base.policy.version,
                new.policy.version
            ),
            "see `canary policy show` and the proposal's signers",
        ));
    };
    let (n, k) = (base.policy.version, new.policy.version);
    let msg = env.signed_bytes();
    if env.signatures.iter().any(|s| public.verify(&msg, &s.sig)) {
        super::super::out(&format!(
            "{} has already signed {}; nothing changed ({}).\n",
            line(&name),
            show_path(&a.draft),
            progress(n, k, &before)
        ));
        return Ok(Exit::Ok);
    }
    let mut review = format!(
        "{}\n",
        paint(
            BOLD,
            &format!(
                "You are about to sign, as `{}`, a new version of the trust policy:",
                line(&name)
            )
        )
    );
    review.push_str(&describe(base, &new, &changes(&base.policy, &new.policy)));
    review.push_str(&format!("  Signed so far: {}\n", progress(n, k, &before)));
    let bad: Vec<String> = before
        .old
        .invalid
        .iter()
        .chain(&before.new.invalid)
        .map(|s| line(s))
        .collect();
    if !bad.is_empty() {
        review.push_str(&format!(
            "  {} signatures that do not verify: {} (the proposal was altered after they signed)\n",
            paint(BAD, "WARNING:"),
            bad.join(", ")
        ));
    }
    super::super::note(&review);
    super::super::sign::confirm(
        a.yes,
        &format!("Sign policy version {k} of {}?", new.policy.org),
    )?;
    env.add_signature(&key);
    store::write_atomic(&a.draft, &env.to_json())?;
    let after = assess(&env, base, &new);
    let ready = after.old.met() && after.new.met();
    super::super::out(&format!(
        "Signed {} as {} ({}). {}.{}\n",
        show_path(&a.draft),
        line(&name),
        public.fingerprint(),
        progress(n, k, &after),
        if ready {
            format!(" Ready: `canary policy publish {}`.", show_path(&a.draft))
        } else {
            String::new()
        }
    ));
    Ok(Exit::Ok)
}

/// `canary policy publish`.
pub(super) fn publish(project: &Project, draft: Option<PathBuf>) -> Result<Exit> {
    let versions = project.load_chain_with_pending()?;
    let base = versions.newest();
    let path =
        draft.unwrap_or_else(|| proposal_path(project, base.policy.version.saturating_add(1)));
    let env = read_proposal(&path)?;
    let published = env.published().to_json();
    let refused = "not published, nothing changed";
    let (new, step) = check_step(base, &published).map_err(|e| step_error(&path, refused, e))?;
    let k = new.policy.version;
    let keys = project.keys_dir();
    let mut wrote = Vec::new();
    let first = keys.join(ChainFile::FirstPolicy.file_name());
    if std::fs::symlink_metadata(&first).is_err() {
        let bytes = first_version_bytes(project, &versions)?;
        store::write_new_atomic(&first, &bytes)?;
        wrote.push(first);
    } else if versions.chain.versions.len() == 1 {
        // Left by an interrupted first rotation: it must be version 1.
        if store::read_regular(&first)? != first_version_bytes(project, &versions)? {
            return Err(Error::refused_with_hint(
                format!(
                    "{refused}: {}: is not {}, the policy's version 1",
                    show_path(&first),
                    show_path(&project.policy_path())
                ),
                "no rotation names it yet; remove it",
            ));
        }
    }
    // A convenience copy; written before the rotation, whose appearance
    // is what accepts the version.
    let copy = keys.join(format!("policy.{k}.json"));
    if std::fs::symlink_metadata(&copy).is_ok() {
        if store::read_regular(&copy)? != env.payload {
            return Err(Error::refused_with_hint(
                format!(
                    "{refused}: {}: holds another policy than version {k} of {}",
                    show_path(&copy),
                    show_path(&path)
                ),
                "it was left by another proposal; remove it if no rotation file names it",
            ));
        }
    } else {
        store::write_new_atomic(&copy, &env.payload)?;
        wrote.push(copy);
    }
    let rotation = keys.join(ChainFile::Rotation(k).file_name());
    store::write_new_atomic(&rotation, &published)?;
    wrote.push(rotation);
    let names = |v: &[String]| v.iter().map(|n| line(n)).collect::<Vec<_>>().join(", ");
    super::super::out(&format!(
        "Accepted policy version {k} (sha256 {}), signed by {} of version {} and {} of version {k}: wrote {}.\n\
         {} stays version {} until the first canary signed under version {k} is published; draft it with `canary draft`.\n",
        new.sha256,
        names(&step.signed_by_previous),
        base.policy.version,
        names(&step.signed_by),
        wrote.iter().map(|p| show_path(p)).collect::<Vec<_>>().join(", "),
        show_path(&project.policy_path()),
        versions.in_effect().policy.version,
    ));
    Ok(Exit::Ok)
}

/// The exact bytes of version 1, for `keys/policy.1.json` when the first
/// rotation is accepted: then `keys/policy.json` is version 1.
fn first_version_bytes(project: &Project, versions: &Versions) -> Result<Vec<u8>> {
    let path = project.policy_path();
    let bytes = store::read_regular(&path)?;
    let v1 = &versions.chain.versions[0];
    if versions.chain.versions.len() != 1
        || canary_core::digest::Sha256Digest::of(&bytes) != v1.sha256
    {
        return Err(Error::Verification {
            class: Class::Policy,
            message: format!(
                "{}: missing; every version of a rotated policy must be kept",
                show_path(&project.keys_dir().join(ChainFile::FirstPolicy.file_name()))
            ),
        });
    }
    Ok(bytes)
}

/// For `canary policy show`: each version of the chain with its hash, what
/// changed and the explanation, and which are pending.
pub(super) fn chain_listing(versions: &Versions) -> String {
    let chain = &versions.chain;
    if chain.versions.len() < 2 {
        return String::new();
    }
    let mut o = String::from("  versions:\n");
    for (i, v) in chain.versions.iter().enumerate() {
        let state = if i + 1 == versions.in_effect {
            "in effect"
        } else if i + 1 > versions.in_effect {
            "pending: takes effect with the next canary"
        } else {
            "superseded"
        };
        o.push_str(&format!(
            "    version {:<4} sha256 {} ({state})\n",
            v.policy.version, v.sha256
        ));
        let Some(step) = i.checked_sub(1).map(|j| &chain.steps[j]) else {
            continue;
        };
        for c in &step.changes {
            o.push_str(&format!("      {c}\n"));
        }
        for l in step.explanation.block().lines() {
            o.push_str(&format!("      | {l}\n"));
        }
    }
    o
}
