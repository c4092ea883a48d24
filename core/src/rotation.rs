//! Trust-policy rotation: version N+1 of a policy is valid only with a DSSE
//! envelope over its exact bytes signed by a threshold of version N's
//! signers *and* a threshold of version N+1's, as The Update Framework
//! requires of a new root (TUF specification, 5.3.4 and 5.3.5). The chain
//! 1 → 2 → … → N is walked one version at a time: no version skipped, none
//! repeated, at most [`crate::limits::Limits::max_policy_versions`] of them
//! (docs/FORMAT.md, "Rotation").
//!
//! Nothing here reads a file: [`load_chain`] asks a caller-supplied reader
//! for `keys/policy.1.json` and each `keys/rotation.K.json`, so a folder
//! and a site are walked by the same rules.

use serde::Serialize;

use crate::digest::Sha256Digest;
use crate::envelope::Envelope;
use crate::json::JsonError;
use crate::policy::{Policy, PolicyError, TrustedPolicy};
use crate::sanitize::{self, Untrusted};
use crate::signatures::check_signatures;
use crate::timefmt::Timestamp;

/// Payload type of a rotation envelope: the payload is a policy's bytes.
/// Distinct from the statement type, so a signature over a policy can never
/// be taken for a signature over a canary, or the reverse.
pub const POLICY_PAYLOAD_TYPE: &str = "application/vnd.warrant-canary.policy.v1+json";

/// Why one step N → N+1 of the chain is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StepProblem {
    /// Not a strict DSSE envelope.
    #[error("{0}")]
    Envelope(JsonError),
    /// A published rotation carries a draft's unsigned `review` copy.
    #[error("a published rotation must not carry a draft's `review` copy")]
    DraftFields,
    /// The payload type is not [`POLICY_PAYLOAD_TYPE`].
    #[error("payload type is `{}`, expected `{POLICY_PAYLOAD_TYPE}`", sanitize::line(.found))]
    PayloadType { found: String },
    /// The payload is not a valid policy.
    #[error("the signed payload is not a valid policy: {0}")]
    Policy(PolicyError),
    /// The new policy's version is not the old one's plus one.
    #[error("holds policy version {found}, expected version {expected}")]
    Version { expected: u64, found: u64 },
    /// `previous_sha256` does not name the version before.
    #[error("names {} as the version before, but version {} is {}", short(.found), .version - 1, .expected.short())]
    Previous {
        version: u64,
        expected: Sha256Digest,
        found: Option<Sha256Digest>,
    },
    /// The organisation or domain changed: that is a new chain, not a
    /// rotation.
    #[error("changes the organisation or domain; that needs a new policy chain, not a rotation")]
    Identity,
    /// A revocation of the version before is missing or altered.
    #[error("drops or alters the revocation of `{}` from version {version}", sanitize::line(.name))]
    RevocationDropped { name: String, version: u64 },
    /// Signatures attributed to a signer of either version that do not
    /// verify: the envelope was altered.
    #[error("the signature(s) attributed to {} do not verify", names(.signers))]
    BadSignature { signers: Vec<String> },
    /// Too few of the old version's signers signed (revoked keys not
    /// counted).
    #[error("signed by {} of version {version}'s signers ({}), {required} required", .signed_by.len(), names(.signed_by))]
    OldThreshold {
        version: u64,
        signed_by: Vec<String>,
        required: usize,
    },
    /// Too few of the new version's signers signed.
    #[error("signed by {} of version {version}'s signers ({}), {required} required", .signed_by.len(), names(.signed_by))]
    NewThreshold {
        version: u64,
        signed_by: Vec<String>,
        required: usize,
    },
}

fn short(d: &Option<Sha256Digest>) -> String {
    d.map_or_else(|| "nothing".into(), |d| d.short())
}

fn names(v: &[String]) -> String {
    if v.is_empty() {
        "none".into()
    } else {
        v.iter()
            .map(|n| sanitize::line(n))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// One signer set's part in a rotation envelope.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Signed {
    /// Signers whose signature verifies, distinct keys, in policy order.
    pub valid: Vec<String>,
    /// Signers named by key id whose signature does not verify.
    pub invalid: Vec<String>,
    pub required: usize,
}

impl Signed {
    pub fn met(&self) -> bool {
        self.valid.len() >= self.required
    }
}

/// How far a rotation envelope (a proposal or a published one) is signed:
/// by the old version's signers, counting no key the new version revokes,
/// and by the new version's. For `canary policy sign` and `publish` to
/// show, and for [`check_step`] to decide.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assessment {
    pub old: Signed,
    pub new: Signed,
    /// Key ids of neither version (ignored).
    pub unknown: Vec<String>,
}

/// Counts the signatures of `env` for the step `old` → `new`, by the rule
/// canaries are counted by ([`crate::signatures::check_signatures`]: a key id
/// only selects the key to try, each key counts once however often it
/// signed). A key the new version revokes does not count for the old
/// threshold (a thief's signature cannot help rotate).
pub fn assess(env: &Envelope, old: &TrustedPolicy, new: &TrustedPolicy) -> Assessment {
    let of_old = check_signatures(env, old);
    let of_new = check_signatures(env, new);
    let revoked = |name: &String| {
        old.policy
            .signers
            .iter()
            .any(|s| &s.name == name && new.policy.revoked_from(&s.key).is_some())
    };
    let kept = |v: Vec<String>| -> Vec<String> { v.into_iter().filter(|n| !revoked(n)).collect() };
    let unknown = of_old
        .unknown
        .into_iter()
        .filter(|k| of_new.unknown.contains(k))
        .collect();
    Assessment {
        old: Signed {
            valid: kept(of_old.valid),
            invalid: distinct(kept(of_old.invalid)),
            required: old.policy.threshold,
        },
        new: Signed {
            valid: of_new.valid,
            invalid: distinct(of_new.invalid),
            required: new.policy.threshold,
        },
        unknown,
    }
}

/// `names` without repeats, in the order first seen.
fn distinct(names: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for n in names {
        if !out.contains(&n) {
            out.push(n);
        }
    }
    out
}

/// One accepted step of the chain, for the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// The version it introduced.
    pub version: u64,
    pub sha256: Sha256Digest,
    /// The signed explanation.
    pub explanation: Untrusted,
    pub changes: Vec<Change>,
    /// Who signed, of the old version and of the new.
    pub signed_by_previous: Vec<String>,
    pub signed_by: Vec<String>,
}

/// Checks one rotation envelope against the trusted version `old`: the
/// rules of docs/FORMAT.md, "Rotation", in order. Returns the new version
/// (its exact bytes are the payload) and the step for the report.
pub fn check_step(
    old: &TrustedPolicy,
    envelope: &[u8],
) -> Result<(TrustedPolicy, Step), StepProblem> {
    let env = Envelope::parse(envelope).map_err(StepProblem::Envelope)?;
    if env.review.is_some() || !env.text_signatures.is_empty() {
        return Err(StepProblem::DraftFields);
    }
    let (new, a) = check_proposal(old, &env)?;
    let signers = distinct(a.old.invalid.iter().chain(&a.new.invalid).cloned());
    if !signers.is_empty() {
        return Err(StepProblem::BadSignature { signers });
    }
    if !a.old.met() {
        return Err(StepProblem::OldThreshold {
            version: old.policy.version,
            signed_by: a.old.valid,
            required: a.old.required,
        });
    }
    if !a.new.met() {
        return Err(StepProblem::NewThreshold {
            version: new.policy.version,
            signed_by: a.new.valid,
            required: a.new.required,
        });
    }
    let step = Step {
        version: new.policy.version,
        sha256: new.sha256,
        explanation: new.policy.explanation.clone().unwrap_or_default(),
        changes: changes(&old.policy, &new.policy),
        signed_by_previous: a.old.valid,
        signed_by: a.new.valid,
    };
    Ok((new, step))
}

/// Every rule of a step but the signatures: for a proposal being drafted
/// or signed as much as for a published rotation. Returns the proposed
/// version and how far it is signed.
pub fn check_proposal(
    old: &TrustedPolicy,
    env: &Envelope,
) -> Result<(TrustedPolicy, Assessment), StepProblem> {
    if env.payload_type != POLICY_PAYLOAD_TYPE {
        return Err(StepProblem::PayloadType {
            found: env.payload_type.clone(),
        });
    }
    let new = TrustedPolicy::from_bytes(&env.payload).map_err(StepProblem::Policy)?;
    check_successor(old, &new.policy)?;
    let a = assess(env, old, &new);
    Ok((new, a))
}

/// The content rules of a step: the next version number, naming the old
/// version by hash, the same organisation and domain, and every earlier
/// revocation kept as it was.
pub fn check_successor(old: &TrustedPolicy, new: &Policy) -> Result<(), StepProblem> {
    let o = &old.policy;
    let expected = o.version.saturating_add(1);
    if new.version != expected {
        return Err(StepProblem::Version {
            expected,
            found: new.version,
        });
    }
    if new.previous_sha256 != Some(old.sha256) {
        return Err(StepProblem::Previous {
            version: new.version,
            expected: old.sha256,
            found: new.previous_sha256,
        });
    }
    if new.org != o.org || new.domain != o.domain {
        return Err(StepProblem::Identity);
    }
    for r in &o.revoked {
        if !new.revoked.contains(r) {
            return Err(StepProblem::RevocationDropped {
                name: r.name.clone(),
                version: o.version,
            });
        }
    }
    Ok(())
}

/// What a rotation changed, for readers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Change {
    SignerAdded {
        name: String,
        fingerprint: String,
    },
    SignerRemoved {
        name: String,
        fingerprint: String,
    },
    /// The same name with another key.
    KeyReplaced {
        name: String,
        old_fingerprint: String,
        new_fingerprint: String,
    },
    Threshold {
        from: usize,
        to: usize,
    },
    Cadence {
        from: u32,
        to: u32,
    },
    Freshness {
        from: String,
        to: String,
    },
    Revoked {
        name: String,
        fingerprint: String,
        compromised_at: Timestamp,
    },
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let l = sanitize::line;
        match self {
            Change::SignerAdded { name, fingerprint } => {
                write!(f, "signer {} added ({fingerprint})", l(name))
            }
            Change::SignerRemoved { name, fingerprint } => {
                write!(f, "signer {} removed ({fingerprint})", l(name))
            }
            Change::KeyReplaced {
                name,
                old_fingerprint,
                new_fingerprint,
            } => write!(
                f,
                "signer {}'s key replaced ({old_fingerprint} → {new_fingerprint})",
                l(name)
            ),
            Change::Threshold { from, to } => write!(f, "threshold {from} → {to}"),
            Change::Cadence { from, to } => write!(f, "cadence {from} → {to} days"),
            Change::Freshness { from, to } => write!(f, "freshness {from} → {to}"),
            Change::Revoked {
                name,
                fingerprint,
                compromised_at,
            } => write!(
                f,
                "key of {} ({fingerprint}) revoked as compromised from {compromised_at}",
                l(name)
            ),
        }
    }
}

/// The differences from `old` to `new`, signers first.
pub fn changes(old: &Policy, new: &Policy) -> Vec<Change> {
    let mut out = Vec::new();
    for s in &old.signers {
        match new.signers.iter().find(|n| n.name == s.name) {
            Some(n) if n.key != s.key => out.push(Change::KeyReplaced {
                name: s.name.clone(),
                old_fingerprint: s.key.fingerprint(),
                new_fingerprint: n.key.fingerprint(),
            }),
            Some(_) => {}
            None => out.push(Change::SignerRemoved {
                name: s.name.clone(),
                fingerprint: s.key.fingerprint(),
            }),
        }
    }
    for n in &new.signers {
        if !old.signers.iter().any(|s| s.name == n.name) {
            out.push(Change::SignerAdded {
                name: n.name.clone(),
                fingerprint: n.key.fingerprint(),
            });
        }
    }
    if old.threshold != new.threshold {
        out.push(Change::Threshold {
            from: old.threshold,
            to: new.threshold,
        });
    }
    if old.cadence_days != new.cadence_days {
        out.push(Change::Cadence {
            from: old.cadence_days,
            to: new.cadence_days,
        });
    }
    if old.freshness != new.freshness {
        out.push(Change::Freshness {
            from: old.freshness.describe(),
            to: new.freshness.describe(),
        });
    }
    for r in &new.revoked {
        if !old.revoked.contains(r) {
            out.push(Change::Revoked {
                name: r.name.clone(),
                fingerprint: r.key.fingerprint(),
                compromised_at: r.compromised_at,
            });
        }
    }
    out
}

/// Every version of a trust policy from version 1, each accepted by the
/// rules of [`check_step`] from the one before.
#[derive(Debug, Clone)]
pub struct PolicyChain {
    /// Versions 1, 2, …, in order.
    pub versions: Vec<TrustedPolicy>,
    /// `steps[i]` introduced `versions[i + 1]`.
    pub steps: Vec<Step>,
}

impl PolicyChain {
    /// A policy that was never rotated.
    pub fn single(policy: TrustedPolicy) -> Self {
        PolicyChain {
            versions: vec![policy],
            steps: Vec::new(),
        }
    }

    pub fn newest(&self) -> &TrustedPolicy {
        self.versions.last().expect("a chain has a version")
    }

    /// The position of the version whose hash is `sha256`.
    pub fn position(&self, sha256: Sha256Digest) -> Option<usize> {
        self.versions.iter().position(|v| v.sha256 == sha256)
    }

    /// Accepts `envelope` as the next version.
    pub fn push(&mut self, envelope: &[u8]) -> Result<(), StepProblem> {
        let (next, step) = check_step(self.newest(), envelope)?;
        self.versions.push(next);
        self.steps.push(step);
        Ok(())
    }
}

/// A file of the chain, by its place under `keys/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainFile {
    /// `policy.1.json`: version 1, kept when the first rotation is
    /// published.
    FirstPolicy,
    /// `rotation.K.json`: the envelope introducing version K ≥ 2.
    Rotation(u64),
}

impl ChainFile {
    /// The file name, relative to the keys folder.
    pub fn file_name(self) -> String {
        match self {
            ChainFile::FirstPolicy => "policy.1.json".into(),
            ChainFile::Rotation(k) => format!("rotation.{k}.json"),
        }
    }
}

/// Why a chain cannot be walked.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError<E> {
    /// The reader failed.
    #[error("{0}")]
    Read(E),
    /// The newest policy claims more versions than are walked.
    #[error("policy version {version} is beyond the {max} versions canary walks")]
    TooLong { version: u64, max: u64 },
    /// A file of the chain is not there.
    #[error("{}: missing; every version of a rotated policy must be kept", .0.file_name())]
    Missing(ChainFile),
    /// `policy.1.json` is not a valid version-1 policy.
    #[error("{}: {problem}", ChainFile::FirstPolicy.file_name())]
    First { problem: String },
    /// A step is refused.
    #[error("{}: {problem}", .file.file_name())]
    Step {
        file: ChainFile,
        problem: StepProblem,
    },
    /// The last rotation's payload is not the newest policy's bytes.
    #[error("{}: its policy is not byte for byte the newest policy", .0.file_name())]
    NewestDiffers(ChainFile),
}

/// Walks the chain that ends in `newest` (the exact bytes of
/// `keys/policy.json`), asking `read` for each file: version 1, then the
/// rotations 2 … N in order, each checked against the version before
/// ([`check_step`]); the last one's payload must be `newest` itself. A
/// version-1 policy is a chain of one and reads nothing.
pub fn load_chain<E>(
    newest: &TrustedPolicy,
    newest_bytes: &[u8],
    max_versions: u64,
    mut read: impl FnMut(ChainFile) -> Result<Option<Vec<u8>>, E>,
) -> Result<PolicyChain, ChainError<E>> {
    let n = newest.policy.version;
    if n <= 1 {
        return Ok(PolicyChain::single(newest.clone()));
    }
    if n > max_versions {
        return Err(ChainError::TooLong {
            version: n,
            max: max_versions,
        });
    }
    let mut get = |f: ChainFile| match read(f) {
        Ok(Some(b)) => Ok(b),
        Ok(None) => Err(ChainError::Missing(f)),
        Err(e) => Err(ChainError::Read(e)),
    };
    let first_bytes = get(ChainFile::FirstPolicy)?;
    let first = TrustedPolicy::from_bytes(&first_bytes).map_err(|e| ChainError::First {
        problem: e.to_string(),
    })?;
    if first.policy.version != 1 {
        return Err(ChainError::First {
            problem: format!("holds policy version {}, expected 1", first.policy.version),
        });
    }
    let mut chain = PolicyChain::single(first);
    for k in 2..=n {
        let file = ChainFile::Rotation(k);
        chain
            .push(&get(file)?)
            .map_err(|problem| ChainError::Step { file, problem })?;
    }
    if chain.newest().sha256 != Sha256Digest::of(newest_bytes) {
        return Err(ChainError::NewestDiffers(ChainFile::Rotation(n)));
    }
    Ok(chain)
}

#[cfg(test)]
mod tests {
    //! The table of TUF's root-rotation tests (python-tuf
    //! `tests/test_updater_key_rotations.py`), in this format's terms.
    use super::*;
    use crate::freshness::Requirement;
    use crate::keys::SecretKey;
    use crate::policy::{Revocation, Signer};

    fn key(seed: u8) -> SecretKey {
        SecretKey::from_seed(&[seed; 32])
    }

    /// Version `version` with signers `seeds` (named s<seed>).
    fn policy(
        version: u64,
        seeds: &[u8],
        threshold: usize,
        previous: Option<&TrustedPolicy>,
    ) -> Policy {
        Policy {
            version,
            org: "Example".into(),
            domain: "example.org".into(),
            threshold,
            cadence_days: 90,
            signers: seeds
                .iter()
                .map(|s| Signer {
                    name: format!("s{s}"),
                    key: key(*s).public(),
                })
                .collect(),
            freshness: Requirement::NONE,
            previous_sha256: previous.map(|p| p.sha256),
            explanation: previous.map(|_| "Rotation.".into()),
            revoked: previous.map_or_else(Vec::new, |p| p.policy.revoked.clone()),
        }
    }

    fn trusted(p: &Policy) -> TrustedPolicy {
        TrustedPolicy::from_bytes(&p.to_json()).unwrap()
    }

    fn rotation(new: &Policy, signers: &[u8]) -> Vec<u8> {
        let mut env = Envelope::new(POLICY_PAYLOAD_TYPE, new.to_json());
        for s in signers {
            env.add_signature(&key(*s));
        }
        env.to_json()
    }

    /// (case, old signers and threshold, new signers and threshold, who
    /// signs the rotation, accepted?)
    #[test]
    fn the_root_rotation_table() {
        type Case = (
            &'static str,
            (&'static [u8], usize),
            (&'static [u8], usize),
            &'static [u8],
            bool,
        );
        let cases: [Case; 9] = [
            (
                "signed only by the new keys",
                (&[1, 2], 2),
                (&[3, 4], 2),
                &[3, 4],
                false,
            ),
            (
                "signed only by the old keys",
                (&[1, 2], 2),
                (&[3, 4], 2),
                &[1, 2],
                false,
            ),
            (
                "3-of-5 old with two old signatures",
                (&[1, 2, 3, 4, 5], 3),
                (&[1, 2, 3, 4, 6], 3),
                &[1, 2, 6],
                false,
            ),
            (
                "3-of-5 old with three old signatures",
                (&[1, 2, 3, 4, 5], 3),
                (&[1, 2, 3, 4, 6], 3),
                &[1, 2, 3],
                true,
            ),
            (
                "1-of-3 to 2-of-3 with one new signature",
                (&[1, 2, 3], 1),
                (&[1, 2, 3], 2),
                &[1],
                false,
            ),
            (
                "1-of-3 to 2-of-3 with two",
                (&[1, 2, 3], 1),
                (&[1, 2, 3], 2),
                &[1, 2],
                true,
            ),
            (
                "a signer added, both thresholds met",
                (&[1, 2], 2),
                (&[1, 2, 3], 2),
                &[1, 2],
                true,
            ),
            (
                "same key twice counts once",
                (&[1, 2], 2),
                (&[1, 2], 2),
                &[1, 1],
                false,
            ),
            (
                "an outsider's signature counts for nobody",
                (&[1, 2], 2),
                (&[1, 2], 2),
                &[1, 9],
                false,
            ),
        ];
        for (name, (os, ot), (ns, nt), signers, ok) in cases {
            let old = trusted(&policy(1, os, ot, None));
            let new = policy(2, ns, nt, Some(&old));
            let got = check_step(&old, &rotation(&new, signers));
            assert_eq!(got.is_ok(), ok, "{name}: {got:?}");
        }
    }

    #[test]
    fn the_old_threshold_failure_is_named() {
        let old = trusted(&policy(1, &[1, 2], 2, None));
        let new = policy(2, &[3, 4], 2, Some(&old));
        let e = check_step(&old, &rotation(&new, &[3, 4])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "signed by 0 of version 1's signers (none), 2 required"
        );
        let e = check_step(&old, &rotation(&new, &[1, 2])).unwrap_err();
        assert!(
            matches!(e, StepProblem::NewThreshold { version: 2, .. }),
            "{e}"
        );
    }

    #[test]
    fn skipped_repeated_or_unlinked_versions_are_refused() {
        let v1 = trusted(&policy(1, &[1, 2], 2, None));
        let mut skip = policy(3, &[1, 2], 2, Some(&v1));
        skip.explanation = Some("skip".into());
        let e = check_step(&v1, &rotation(&skip, &[1, 2])).unwrap_err();
        assert_eq!(
            e,
            StepProblem::Version {
                expected: 2,
                found: 3
            }
        );
        // Version 2 naming another version 1 (a fork).
        let other = trusted(&policy(1, &[1, 2, 3], 2, None));
        let forked = policy(2, &[1, 2], 2, Some(&other));
        let e = check_step(&v1, &rotation(&forked, &[1, 2])).unwrap_err();
        assert!(matches!(e, StepProblem::Previous { version: 2, .. }), "{e}");
        // A canary signature over the same bytes is not a rotation.
        let good = policy(2, &[1, 2], 2, Some(&v1));
        let mut env = Envelope::parse(&rotation(&good, &[1, 2])).unwrap();
        env.payload_type = crate::envelope::STATEMENT_PAYLOAD_TYPE.into();
        assert!(matches!(
            check_step(&v1, &env.to_json()),
            Err(StepProblem::PayloadType { .. })
        ));
    }

    #[test]
    fn an_altered_signature_is_a_failure_even_above_threshold() {
        let v1 = trusted(&policy(1, &[1, 2, 3], 2, None));
        let v2 = policy(2, &[1, 2, 3], 2, Some(&v1));
        let mut env = Envelope::parse(&rotation(&v2, &[1, 2, 3])).unwrap();
        env.signatures[2].sig[0] ^= 1;
        let e = check_step(&v1, &env.to_json()).unwrap_err();
        assert_eq!(
            e,
            StepProblem::BadSignature {
                signers: vec!["s3".into()]
            }
        );
    }

    #[test]
    fn a_revoked_key_cannot_help_rotate_and_revocations_are_kept() {
        let v1 = trusted(&policy(1, &[1, 2, 3], 2, None));
        let mut v2 = policy(2, &[1, 3, 4], 2, Some(&v1));
        v2.revoked.push(Revocation {
            name: "s2".into(),
            key: key(2).public(),
            compromised_at: Timestamp::from_unix(1_780_000_000),
        });
        // The thief (2) and one honest signer: not the old threshold.
        let e = check_step(&v1, &rotation(&v2, &[1, 2, 4])).unwrap_err();
        assert!(
            matches!(e, StepProblem::OldThreshold { ref signed_by, .. } if signed_by == &["s1"]),
            "{e}"
        );
        // The remaining signers meet it.
        let (t2, step) = check_step(&v1, &rotation(&v2, &[1, 3, 4])).unwrap();
        assert!(step
            .changes
            .iter()
            .any(|c| matches!(c, Change::Revoked { name, .. } if name == "s2")));
        assert!(step
            .changes
            .iter()
            .any(|c| matches!(c, Change::SignerAdded { name, .. } if name == "s4")));
        // Version 3 may not drop the revocation.
        let mut v3 = policy(3, &[1, 3, 4], 2, Some(&t2));
        v3.revoked.clear();
        let e = check_step(&t2, &rotation(&v3, &[1, 3, 4])).unwrap_err();
        assert!(
            matches!(e, StepProblem::RevocationDropped { version: 2, .. }),
            "{e}"
        );
    }

    /// 1 → 2 → 3 → 4: two of two, then three of three, then back to two of
    /// two with another key, each step signed by both sets.
    fn three_rotations() -> (Vec<Policy>, Vec<Vec<u8>>) {
        let v1 = policy(1, &[1, 2], 2, None);
        let t1 = trusted(&v1);
        let v2 = policy(2, &[1, 2, 3], 3, Some(&t1));
        let t2 = trusted(&v2);
        let v3 = policy(3, &[1, 3], 2, Some(&t2));
        let t3 = trusted(&v3);
        let v4 = policy(4, &[1, 4], 2, Some(&t3));
        let rotations = vec![
            rotation(&v2, &[1, 2, 3]),
            rotation(&v3, &[1, 2, 3]),
            rotation(&v4, &[1, 3, 4]),
        ];
        (vec![v1, v2, v3, v4], rotations)
    }

    fn reader<'a>(
        first: &'a [u8],
        rotations: &'a [Vec<u8>],
    ) -> impl FnMut(ChainFile) -> Result<Option<Vec<u8>>, String> + 'a {
        move |f| {
            Ok(match f {
                ChainFile::FirstPolicy => Some(first.to_vec()),
                ChainFile::Rotation(k) => rotations.get(k as usize - 2).cloned(),
            })
        }
    }

    #[test]
    fn a_chain_of_three_rotations_is_accepted() {
        let (versions, rotations) = three_rotations();
        let newest = versions[3].to_json();
        let t = TrustedPolicy::from_bytes(&newest).unwrap();
        let first = versions[0].to_json();
        let chain = load_chain(&t, &newest, 256, reader(&first, &rotations)).unwrap();
        assert_eq!(chain.versions.len(), 4);
        assert_eq!(chain.steps.len(), 3);
        assert_eq!(chain.newest().sha256, t.sha256);
        assert_eq!(chain.position(Sha256Digest::of(&first)), Some(0));
        assert_eq!(chain.steps[1].signed_by_previous, ["s1", "s2", "s3"]);
        assert_eq!(
            chain.steps[0]
                .changes
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()[1],
            "threshold 2 → 3"
        );
    }

    #[test]
    fn a_broken_chain_names_the_file() {
        let (versions, mut rotations) = three_rotations();
        let newest = versions[3].to_json();
        let t = TrustedPolicy::from_bytes(&newest).unwrap();
        let first = versions[0].to_json();
        // Missing version 3.
        let mut gone = rotations.clone();
        gone.truncate(1);
        let e = load_chain(&t, &newest, 256, reader(&first, &gone)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "rotation.3.json: missing; every version of a rotated policy must be kept"
        );
        // Too long.
        let e = load_chain(&t, &newest, 3, reader(&first, &rotations)).unwrap_err();
        assert!(matches!(e, ChainError::TooLong { version: 4, max: 3 }));
        // Rotation 3 signed only by its own (new) signers.
        rotations[1] = rotation(&versions[2], &[1, 3]);
        let e = load_chain(&t, &newest, 256, reader(&first, &rotations)).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("rotation.3.json: signed by 2 of version 2's signers"),
            "{e}"
        );
        // The newest policy is not the last rotation's.
        let (versions, rotations) = three_rotations();
        let mut other = versions[3].clone();
        other.cadence_days = 30;
        let other_bytes = other.to_json();
        let ot = TrustedPolicy::from_bytes(&other_bytes).unwrap();
        let e = load_chain(&ot, &other_bytes, 256, reader(&first, &rotations)).unwrap_err();
        assert!(matches!(
            e,
            ChainError::NewestDiffers(ChainFile::Rotation(4))
        ));
    }

    #[test]
    fn a_version_one_policy_is_a_chain_of_one_and_reads_nothing() {
        let v1 = policy(1, &[1, 2], 2, None);
        let bytes = v1.to_json();
        let t = TrustedPolicy::from_bytes(&bytes).unwrap();
        let chain = load_chain(&t, &bytes, 256, |_| -> Result<Option<Vec<u8>>, String> {
            panic!("nothing to read")
        })
        .unwrap();
        assert_eq!(chain.versions.len(), 1);
    }
}
