//! The trust policy: who may sign, how many must, and how often.
//!
//! A policy is a JSON file (`keys/policy.json`). Canaries commit to the
//! SHA-256 of its exact bytes, so verification needs no re-serialisation.
//! Version N+1 of a policy names version N by hash (`previous_sha256`),
//! says why it changed (`explanation`) and lists every key revoked so far
//! (`revoked`); it is introduced by a rotation envelope signed by both
//! versions' signers (`crate::rotation`), while old canaries keep naming
//! the hash of the version they were signed under (docs/FORMAT.md,
//! "Policy" and "Rotation").

use serde::{Deserialize, Serialize};

use crate::digest::Sha256Digest;
use crate::freshness::{Requirement, RequirementError};
use crate::json;
use crate::keys::{KeyError, PublicKey};
use crate::sanitize::Untrusted;
use crate::timefmt::Timestamp;

/// Value of the `format` field.
pub const POLICY_FORMAT: &str = "warrant-canary-policy/v1";
/// Longest cadence accepted, in days.
pub const MAX_CADENCE_DAYS: u32 = 366;
/// Longest explanation of a rotation, in bytes (as a statement's text).
pub const MAX_EXPLANATION: usize = 4000;
/// Most revoked keys one policy lists.
pub const MAX_REVOKED: usize = 256;

/// Why a policy (or a name, domain or organisation meant for one) is
/// refused. The words are in the `Display` impl (thiserror).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The document is not strict, canonical JSON of the policy's shape.
    #[error("{0}")]
    Json(#[from] json::JsonError),
    /// The `format` field is not [`POLICY_FORMAT`] (the value, escaped).
    #[error("`format` is `{0}`, expected `{POLICY_FORMAT}`")]
    Format(String),
    /// A signer's public key does not parse (the name, escaped).
    #[error("signer `{name}`: {source}")]
    Key { name: String, source: KeyError },
    /// `version` is 0.
    #[error("`version` must be at least 1")]
    Version,
    /// The organisation name breaks the rule of [`check_org`].
    #[error("organisation name must be 1-200 characters without control characters")]
    Org,
    /// The domain breaks the rule of [`check_domain`].
    #[error(
        "domain `{}` must be a lowercase DNS name like example.org",
        crate::sanitize::line(.domain)
    )]
    Domain { domain: String },
    /// `cadence_days` is 0 or more than [`MAX_CADENCE_DAYS`].
    #[error("`cadence_days` must be between 1 and {MAX_CADENCE_DAYS}")]
    Cadence { days: u32 },
    /// The signer list is empty.
    #[error("the policy has no signers")]
    NoSigners,
    /// A signer name breaks the rule of [`check_name`].
    #[error(
        "signer name `{}` must be 1-64 characters of a-z, 0-9, `-`, `_`, `.`, starting with a letter or digit",
        crate::sanitize::line(.name)
    )]
    SignerName { name: String },
    /// Two signers share a name (already checked by [`check_name`]).
    #[error("signer `{name}` is listed twice")]
    DuplicateSigner { name: String },
    /// Two signers share a key, which would let one person count twice.
    #[error("signers `{first}` and `{second}` have the same key")]
    SameKey { first: String, second: String },
    /// The freshness requirement is out of bounds.
    #[error(transparent)]
    Freshness(#[from] RequirementError),
    /// Version 1 carries `previous_sha256` or `explanation`, or a later
    /// version lacks one of them.
    #[error("`previous_sha256` and `explanation` must be absent in version 1 and present in every later version")]
    RotationFields { version: u64 },
    /// The explanation is blank or longer than [`MAX_EXPLANATION`] bytes.
    #[error("`explanation` must be 1 to {MAX_EXPLANATION} bytes of text")]
    Explanation,
    /// A revoked key does not parse, is listed twice or is still a signer.
    #[error("revoked key `{name}`: {problem}")]
    Revoked { name: String, problem: String },
    /// More than [`MAX_REVOKED`] revoked keys.
    #[error("at most {MAX_REVOKED} keys can be revoked")]
    TooManyRevoked,
    /// `threshold` is 0 or more than the number of signers.
    #[error(
        "`threshold` is {threshold}, but must be between 1 and the number of signers ({signers})"
    )]
    Threshold { threshold: usize, signers: usize },
}

/// One signer: a short name and an Ed25519 key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signer {
    pub name: String,
    pub key: PublicKey,
}

/// A key declared compromised from a time on: its signatures on canaries
/// issued at or after `compromised_at` do not count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    /// The name the key's signer had (for reports).
    pub name: String,
    pub key: PublicKey,
    pub compromised_at: Timestamp,
}

/// A checked policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub version: u64,
    pub org: Untrusted,
    pub domain: String,
    pub threshold: usize,
    pub cadence_days: u32,
    pub signers: Vec<Signer>,
    /// What every canary's proof of freshness must hold.
    pub freshness: Requirement,
    /// The hash of version − 1 (absent in version 1).
    pub previous_sha256: Option<Sha256Digest>,
    /// Why this version differs from the one before, signed and shown to
    /// readers (absent in version 1).
    pub explanation: Option<Untrusted>,
    /// Every key revoked in this version or an earlier one.
    pub revoked: Vec<Revocation>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireSigner {
    name: String,
    public_key: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WirePolicy {
    format: String,
    version: u64,
    org: String,
    domain: String,
    threshold: usize,
    cadence_days: u32,
    signers: Vec<WireSigner>,
    /// Absent means no proof is required; a policy that requires none is
    /// written without the field, so its bytes (and hash) stay those of a
    /// policy from before the field existed.
    #[serde(default = "no_requirement", skip_serializing_if = "is_no_requirement")]
    freshness: Requirement,
    /// The rotation fields: absent in version 1, so a policy that was
    /// never rotated keeps the bytes (and hash) it had before they existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    previous_sha256: Option<Sha256Digest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    explanation: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    revoked: Vec<WireRevocation>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireRevocation {
    name: String,
    public_key: String,
    compromised_at: Timestamp,
}

fn is_no_requirement(r: &Requirement) -> bool {
    *r == Requirement::NONE
}

fn no_requirement() -> Requirement {
    Requirement::NONE
}

/// A policy together with the exact bytes it was read from.
#[derive(Debug, Clone)]
pub struct TrustedPolicy {
    pub policy: Policy,
    pub sha256: Sha256Digest,
}

impl TrustedPolicy {
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, PolicyError> {
        Ok(TrustedPolicy {
            policy: Policy::parse(bytes)?,
            sha256: Sha256Digest::of(bytes),
        })
    }
}

/// Signer names double as file names (`keys/NAME.pub`), so they are tame.
pub fn check_name(name: &str) -> Result<(), PolicyError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b))
        && name.as_bytes()[0].is_ascii_alphanumeric();
    if ok {
        Ok(())
    } else {
        Err(PolicyError::SignerName {
            name: name.to_string(),
        })
    }
}

pub fn check_domain(domain: &str) -> Result<(), PolicyError> {
    let ok = !domain.is_empty()
        && domain.len() <= 253
        && domain.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        });
    if ok {
        Ok(())
    } else {
        Err(PolicyError::Domain {
            domain: domain.to_string(),
        })
    }
}

pub fn check_org(org: &str) -> Result<(), PolicyError> {
    if org.trim().is_empty() || org.chars().count() > 200 || org.chars().any(char::is_control) {
        return Err(PolicyError::Org);
    }
    Ok(())
}

impl Policy {
    /// Parses and checks a policy document.
    pub fn parse(bytes: &[u8]) -> Result<Self, PolicyError> {
        let w: WirePolicy = json::from_slice_exact(bytes)?;
        if w.format != POLICY_FORMAT {
            return Err(PolicyError::Format(crate::sanitize::line(&w.format)));
        }
        let mut signers = Vec::with_capacity(w.signers.len());
        for s in w.signers {
            let key =
                PublicKey::from_openssh(&s.public_key).map_err(|source| PolicyError::Key {
                    name: crate::sanitize::line(&s.name),
                    source,
                })?;
            signers.push(Signer { name: s.name, key });
        }
        if w.revoked.len() > MAX_REVOKED {
            return Err(PolicyError::TooManyRevoked);
        }
        let mut revoked = Vec::with_capacity(w.revoked.len());
        for r in w.revoked {
            let key = PublicKey::from_openssh(&r.public_key).map_err(|e| PolicyError::Revoked {
                name: crate::sanitize::line(&r.name),
                problem: e.to_string(),
            })?;
            revoked.push(Revocation {
                name: r.name,
                key,
                compromised_at: r.compromised_at,
            });
        }
        let p = Policy {
            version: w.version,
            org: w.org.into(),
            domain: w.domain,
            threshold: w.threshold,
            cadence_days: w.cadence_days,
            signers,
            freshness: w.freshness,
            previous_sha256: w.previous_sha256,
            explanation: w.explanation.map(Untrusted::from),
            revoked,
        };
        p.check()?;
        Ok(p)
    }

    /// Every rule a policy must satisfy.
    pub fn check(&self) -> Result<(), PolicyError> {
        if self.version == 0 {
            return Err(PolicyError::Version);
        }
        check_org(self.org.raw())?;
        check_domain(&self.domain)?;
        if self.cadence_days == 0 || self.cadence_days > MAX_CADENCE_DAYS {
            return Err(PolicyError::Cadence {
                days: self.cadence_days,
            });
        }
        if self.signers.is_empty() {
            return Err(PolicyError::NoSigners);
        }
        for (i, s) in self.signers.iter().enumerate() {
            check_name(&s.name)?;
            for t in &self.signers[..i] {
                if t.name == s.name {
                    return Err(PolicyError::DuplicateSigner {
                        name: s.name.clone(),
                    });
                }
                // One key under two names would let one person count twice.
                if t.key == s.key {
                    return Err(PolicyError::SameKey {
                        first: t.name.clone(),
                        second: s.name.clone(),
                    });
                }
            }
        }
        self.freshness.check()?;
        self.check_rotation_fields()?;
        if self.threshold == 0 || self.threshold > self.signers.len() {
            return Err(PolicyError::Threshold {
                threshold: self.threshold,
                signers: self.signers.len(),
            });
        }
        Ok(())
    }

    /// The fields only later versions have, and the revocation list.
    fn check_rotation_fields(&self) -> Result<(), PolicyError> {
        let later = self.version > 1;
        if later != self.previous_sha256.is_some() || later != self.explanation.is_some() {
            return Err(PolicyError::RotationFields {
                version: self.version,
            });
        }
        if let Some(e) = &self.explanation {
            if e.raw().trim().is_empty() || e.raw().len() > MAX_EXPLANATION {
                return Err(PolicyError::Explanation);
            }
        }
        if self.revoked.len() > MAX_REVOKED {
            return Err(PolicyError::TooManyRevoked);
        }
        for (i, r) in self.revoked.iter().enumerate() {
            let problem = |p: &str| PolicyError::Revoked {
                name: r.name.clone(),
                problem: p.into(),
            };
            check_name(&r.name)?;
            if self.revoked[..i].iter().any(|q| q.key == r.key) {
                return Err(problem("is listed twice"));
            }
            if self.signer_for(&r.key).is_some() {
                return Err(problem("is still a signer"));
            }
        }
        Ok(())
    }

    /// When `key` was revoked from, if it was.
    pub fn revoked_from(&self, key: &PublicKey) -> Option<&Revocation> {
        self.revoked.iter().find(|r| &r.key == key)
    }

    /// Pretty JSON with a trailing newline; the bytes canaries commit to.
    pub fn to_json(&self) -> Vec<u8> {
        let w = WirePolicy {
            format: POLICY_FORMAT.into(),
            version: self.version,
            org: self.org.clone().into_raw(),
            domain: self.domain.clone(),
            threshold: self.threshold,
            cadence_days: self.cadence_days,
            signers: self
                .signers
                .iter()
                .map(|s| WireSigner {
                    name: s.name.clone(),
                    public_key: s.key.to_openssh(&s.name),
                })
                .collect(),
            freshness: self.freshness,
            previous_sha256: self.previous_sha256,
            explanation: self.explanation.as_ref().map(|e| e.raw().to_string()),
            revoked: self
                .revoked
                .iter()
                .map(|r| WireRevocation {
                    name: r.name.clone(),
                    public_key: r.key.to_openssh(&r.name),
                    compromised_at: r.compromised_at,
                })
                .collect(),
        };
        let mut out = serde_json::to_vec_pretty(&w).expect("policy serialises");
        out.push(b'\n');
        out
    }

    /// The signer holding `key`, if any.
    pub fn signer_for(&self, key: &PublicKey) -> Option<&Signer> {
        self.signers.iter().find(|s| &s.key == key)
    }

    /// Signers whose key id (fingerprint) equals `keyid`.
    pub fn signer_by_keyid(&self, keyid: &str) -> Option<&Signer> {
        self.signers.iter().find(|s| s.key.fingerprint() == keyid)
    }
}

/// Test fixture shared by core's unit tests: version 1 of "Example"
/// (example.org), 2 of the given keys required, named alice, bob, carol….
#[cfg(test)]
pub(crate) fn example_policy(keys: &[crate::keys::SecretKey]) -> Policy {
    Policy {
        version: 1,
        org: "Example".into(),
        domain: "example.org".into(),
        threshold: 2,
        cadence_days: 90,
        freshness: Requirement::NONE,
        previous_sha256: None,
        explanation: None,
        revoked: Vec::new(),
        signers: keys
            .iter()
            .zip(["alice", "bob", "carol", "dave"])
            .map(|(k, name)| Signer {
                name: name.into(),
                key: k.public(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::SecretKey;

    fn sample(n: usize, threshold: usize) -> Policy {
        Policy {
            version: 1,
            org: "Example".into(),
            domain: "example.org".into(),
            threshold,
            cadence_days: 90,
            signers: (0..n)
                .map(|i| Signer {
                    name: format!("s{i}"),
                    key: SecretKey::from_seed(&[i as u8 + 1; 32]).public(),
                })
                .collect(),
            freshness: Requirement::DEFAULT,
            previous_sha256: None,
            explanation: None,
            revoked: vec![],
        }
    }

    #[test]
    fn round_trip() {
        let p = sample(3, 2);
        assert_eq!(Policy::parse(&p.to_json()).unwrap(), p);
    }

    #[test]
    fn freshness_requirement_defaults_to_none_when_absent() {
        let p = sample(1, 1);
        let mut v: serde_json::Value = serde_json::from_slice(&p.to_json()).unwrap();
        assert_eq!(v["freshness"]["min_feeds"], 2);
        v.as_object_mut().unwrap().remove("freshness");
        let old = Policy::parse(&serde_json::to_vec(&v).unwrap()).unwrap();
        assert_eq!(old.freshness, Requirement::NONE);
    }

    #[test]
    fn threshold_bounds_and_duplicates() {
        assert!(sample(3, 0).check().is_err());
        let e = sample(3, 4).check().unwrap_err();
        assert_eq!(
            e,
            PolicyError::Threshold {
                threshold: 4,
                signers: 3
            }
        );
        assert_eq!(
            e.to_string(),
            "`threshold` is 4, but must be between 1 and the number of signers (3)"
        );
        let mut p = sample(2, 1);
        p.signers[1].key = p.signers[0].key.clone();
        let e = p.check().unwrap_err();
        assert!(e.to_string().contains("same key"));
        assert!(
            matches!(&e, PolicyError::SameKey { first, second } if first == "s0" && second == "s1")
        );
        let mut p = sample(2, 1);
        p.signers[1].name = "s0".into();
        let e = p.check().unwrap_err();
        assert!(e.to_string().contains("twice"));
        assert!(matches!(&e, PolicyError::DuplicateSigner { name } if name == "s0"));
    }

    #[test]
    fn the_other_rules_are_typed() {
        let mut p = sample(1, 1);
        p.version = 0;
        assert_eq!(p.check(), Err(PolicyError::Version));
        let mut p = sample(1, 1);
        p.cadence_days = MAX_CADENCE_DAYS + 1;
        assert!(matches!(p.check(), Err(PolicyError::Cadence { days: 367 })));
        let mut p = sample(1, 1);
        p.signers.clear();
        assert_eq!(p.check(), Err(PolicyError::NoSigners));
        let mut p = sample(1, 1);
        p.freshness.max_age_hours = 0;
        let e = Policy::parse(&p.to_json()).unwrap_err();
        assert!(matches!(e, PolicyError::Freshness(_)), "{e:?}");
        assert!(
            e.to_string().starts_with("`freshness.max_age_hours`"),
            "{e}"
        );
        assert_eq!(check_org(" "), Err(PolicyError::Org));
    }

    #[test]
    fn rotation_fields_belong_to_later_versions_and_round_trip() {
        let mut p = sample(2, 1);
        p.previous_sha256 = Some(Sha256Digest::of(b"v1"));
        assert_eq!(p.check(), Err(PolicyError::RotationFields { version: 1 }));
        p.version = 2;
        assert_eq!(p.check(), Err(PolicyError::RotationFields { version: 2 }));
        p.explanation = Some(" ".into());
        assert_eq!(p.check(), Err(PolicyError::Explanation));
        p.explanation = Some("Carol joins.\nThe threshold stays 1.".into());
        p.revoked.push(Revocation {
            name: "old".into(),
            key: SecretKey::from_seed(&[9; 32]).public(),
            compromised_at: Timestamp::from_unix(1_780_000_000),
        });
        assert_eq!(Policy::parse(&p.to_json()).unwrap(), p);
        let mut twice = p.clone();
        twice.revoked.push(p.revoked[0].clone());
        assert!(twice
            .check()
            .unwrap_err()
            .to_string()
            .contains("listed twice"));
        let mut signer = p.clone();
        signer.revoked[0].key = p.signers[0].key.clone();
        assert!(signer
            .check()
            .unwrap_err()
            .to_string()
            .contains("still a signer"));
        // Version 1 never carries them: its bytes are those of before.
        let v1 = sample(1, 1).to_json();
        assert!(!String::from_utf8(v1).unwrap().contains("previous_sha256"));
    }

    #[test]
    fn names_and_domains() {
        assert!(check_name("alice").is_ok());
        assert!(
            matches!(check_name("../etc"), Err(PolicyError::SignerName { name }) if name == "../etc")
        );
        assert!(check_name("Alice").is_err());
        assert!(check_domain("example.org").is_ok());
        let e = check_domain("example..org").unwrap_err();
        assert!(matches!(&e, PolicyError::Domain { domain } if domain == "example..org"));
        assert_eq!(
            e.to_string(),
            "domain `example..org` must be a lowercase DNS name like example.org"
        );
        assert!(check_domain("EXAMPLE.org").is_err());
    }
}
