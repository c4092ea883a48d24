//! Verification by URL: the rules and the procedure (no I/O).
//!
//! * [`verify_site`]: the procedure, over a [`Transport`] (the binary's
//!   network client, or [`MemoryTransport`]).
//! * [`SiteUrls`]: where a published site keeps each file.
//! * [`accept_policy`]: when a policy fetched from a site is trusted, given
//!   the user's pins (`--policy`, `--key`, the state file, first use).
//! * [`State`]: the local state file (pins and the highest canary seen per
//!   site), and [`check_seen`]: the rollback / equivocation rule.
//!
//! The rules are documented in docs/FORMAT.md, "Remote verification and
//! local state"; `canary watch` reuses them.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use url::Url;

use crate::digest::Sha256Digest;
use crate::json::{self, JsonError};
use crate::policy::TrustedPolicy;
use crate::timefmt::Timestamp;
use crate::verify::{Finding, Problem};

mod procedure;
pub mod transport;

pub use procedure::{verify_site, Outcome, RemoteError, Request};
pub use transport::{MemoryTransport, Transport};

/// Path of the latest signed envelope, relative to the site root.
pub const WELL_KNOWN: &str = ".well-known/warrant-canary.json";
/// The trust policy, exact bytes.
pub const POLICY_PATH: &str = "keys/policy.json";
/// The incident log (optional).
pub const INCIDENTS_PATH: &str = "canaries/incidents.jsonl";
/// Value of the state file's `format` field.
pub const STATE_FORMAT: &str = "warrant-canary-state/v1";

/// The files of a published site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteUrls {
    /// The site root, ending in `/`; also the site's key in the state file.
    pub base: Url,
}

impl SiteUrls {
    /// Resolves what the user typed: a site root (`https://example.org`,
    /// `https://example.org/sub/`) or the full `.well-known` URL. Query and
    /// fragment are dropped; the URL rule of [`crate::address::check_url`]
    /// applies.
    pub fn resolve(raw: &str) -> Result<Self, crate::address::UrlError> {
        let mut url = crate::address::check_url(raw)?;
        url.set_query(None);
        url.set_fragment(None);
        let path = url.path().to_string();
        let base_path = match path.strip_suffix(WELL_KNOWN) {
            Some(prefix) if prefix.ends_with('/') => prefix.to_string(),
            _ if path.ends_with('/') => path,
            _ => format!("{path}/"),
        };
        url.set_path(&base_path);
        Ok(SiteUrls { base: url })
    }

    /// The site key: the normalised root URL.
    pub fn key(&self) -> &str {
        self.base.as_str()
    }

    fn join(&self, rel: &str) -> String {
        // `rel` is one of our own relative paths, so joining cannot fail.
        self.base
            .join(rel)
            .expect("relative path joins")
            .to_string()
    }

    pub fn well_known(&self) -> String {
        self.join(WELL_KNOWN)
    }
    pub fn policy(&self) -> String {
        self.join(POLICY_PATH)
    }
    pub fn incidents(&self) -> String {
        self.join(INCIDENTS_PATH)
    }
    /// `canaries/NNNN.json` (four digits or more).
    pub fn canary(&self, n: u64) -> String {
        self.join(&format!("canaries/{}", crate::layout::canary_file_name(n)))
    }
}

/// True when a `verify` argument names a URL rather than a folder.
pub fn looks_like_url(arg: &str) -> bool {
    let lower = arg.get(..8).unwrap_or(arg).to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

/// A `--key` (or watch-list key) that is not spelled like a key fingerprint;
/// the text is kept verbatim and escaped in the words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{}` is not a key fingerprint like SHA256:… (43 base64 characters, as `ssh-keygen -l` prints)",
    crate::sanitize::line(.fingerprint)
)]
pub struct FingerprintError {
    pub fingerprint: String,
}

/// Checks the spelling of a key fingerprint as `ssh-keygen -l` prints it:
/// `SHA256:` and 43 characters of unpadded base64.
pub fn check_fingerprint(fp: &str) -> Result<(), FingerprintError> {
    let ok = fp.strip_prefix("SHA256:").is_some_and(|b| {
        b.len() == 43
            && b.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/')
    });
    if ok {
        Ok(())
    } else {
        Err(FingerprintError {
            fingerprint: fp.to_string(),
        })
    }
}

/// The smallest threshold `--key` accepts when `--threshold` is not given:
/// a strict majority of the pinned keys.
pub fn default_min_threshold(keys: usize) -> usize {
    keys / 2 + 1
}

/// What the user told us to trust, besides the state file.
#[derive(Debug, Clone, Copy)]
pub struct Pins<'a> {
    /// `--policy FILE`: exactly this policy.
    pub policy: Option<&'a TrustedPolicy>,
    /// `--key FINGERPRINT…`: exactly these signer keys.
    pub keys: &'a [String],
    /// `--threshold N` (with `--key`): the smallest threshold accepted.
    pub min_threshold: Option<usize>,
    /// `--trust-on-first-use`.
    pub first_use: bool,
    /// `--replace-pin`: the explicit pins replace the state file's pin.
    pub replace_pin: bool,
}

/// How a fetched policy came to be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TrustSource {
    /// Equal to the `--policy` file.
    PolicyFile,
    /// Its signer keys are exactly the `--key` fingerprints.
    Keys,
    /// The site's policy on first contact (`--trust-on-first-use`).
    FirstUse,
    /// Equal to the policy pinned in the state file.
    Pin,
}

impl TrustSource {
    pub fn describe(self) -> &'static str {
        match self {
            TrustSource::PolicyFile => "equal to the --policy file",
            TrustSource::Keys => "its signers are exactly the --key fingerprints",
            TrustSource::FirstUse => "trusted on first use",
            TrustSource::Pin => "pinned in the state file",
        }
    }
}

/// The fetched policy is trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// Every rule that vouched for it (the pin is listed when it held).
    pub sources: Vec<TrustSource>,
    /// The pin to write once every other check passed, if it changes.
    pub new_pin: Option<Sha256Digest>,
}

/// Why a fetched policy is not trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Untrusted {
    /// No pin and no explicit trust: the user must decide (exit 4).
    FirstContact,
    /// The site's policy differs from the pinned one (exit 12).
    PinChanged {
        pinned: Sha256Digest,
        fetched: Sha256Digest,
    },
    /// The site's policy differs from the `--policy` file (exit 12).
    FileDiffers {
        file: Sha256Digest,
        fetched: Sha256Digest,
    },
    /// The policy's signer keys are not exactly the `--key` set (exit 12).
    KeysDiffer {
        /// Pinned keys the policy lacks.
        missing: Vec<String>,
        /// Policy keys that were not pinned.
        extra: Vec<String>,
    },
    /// The policy's threshold is below the minimum for `--key` (exit 12).
    ThresholdTooLow { threshold: usize, minimum: usize },
    /// `--replace-pin` needs `--key` or `--policy` (exit 2).
    ReplaceWithoutPins,
}

/// The pinning rule. A fetched policy is accepted when every pin the user
/// has holds:
///
/// 1. `--policy FILE`: the fetched bytes hash to the file's hash.
/// 2. `--key`: the set of the policy's signer fingerprints equals the set of
///    `--key` fingerprints (no key missing, none added), and its threshold is
///    at least `--threshold`, or a strict majority of the keys without it.
/// 3. The state file's pin for this site: the fetched bytes hash to it. With
///    `--replace-pin` (and 1 or 2) the pin is replaced instead of compared.
/// 4. With none of these, only `--trust-on-first-use` accepts the policy.
///
/// The policy is pinned (first contact, replacement) only by the caller,
/// after every other check passed.
pub fn accept_policy(
    fetched: &TrustedPolicy,
    pins: &Pins<'_>,
    pinned: Option<Sha256Digest>,
) -> Result<Accepted, Untrusted> {
    let explicit = pins.policy.is_some() || !pins.keys.is_empty();
    if pins.replace_pin && !explicit {
        return Err(Untrusted::ReplaceWithoutPins);
    }
    let mut sources = Vec::new();
    if let Some(file) = pins.policy {
        if file.sha256 != fetched.sha256 {
            return Err(Untrusted::FileDiffers {
                file: file.sha256,
                fetched: fetched.sha256,
            });
        }
        sources.push(TrustSource::PolicyFile);
    }
    if !pins.keys.is_empty() {
        let want: BTreeSet<&str> = pins.keys.iter().map(String::as_str).collect();
        let have: Vec<String> = fetched
            .policy
            .signers
            .iter()
            .map(|s| s.key.fingerprint())
            .collect();
        let have: BTreeSet<&str> = have.iter().map(String::as_str).collect();
        if want != have {
            return Err(Untrusted::KeysDiffer {
                missing: want.difference(&have).map(|s| s.to_string()).collect(),
                extra: have.difference(&want).map(|s| s.to_string()).collect(),
            });
        }
        let minimum = pins
            .min_threshold
            .unwrap_or_else(|| default_min_threshold(want.len()));
        if fetched.policy.threshold < minimum {
            return Err(Untrusted::ThresholdTooLow {
                threshold: fetched.policy.threshold,
                minimum,
            });
        }
        sources.push(TrustSource::Keys);
    }
    match pinned {
        Some(p) if pins.replace_pin => {
            let new_pin = (p != fetched.sha256).then_some(fetched.sha256);
            if new_pin.is_none() {
                sources.push(TrustSource::Pin);
            }
            Ok(Accepted { sources, new_pin })
        }
        Some(p) if p != fetched.sha256 => Err(Untrusted::PinChanged {
            pinned: p,
            fetched: fetched.sha256,
        }),
        Some(_) => {
            sources.push(TrustSource::Pin);
            Ok(Accepted {
                sources,
                new_pin: None,
            })
        }
        None if explicit => Ok(Accepted {
            sources,
            new_pin: Some(fetched.sha256),
        }),
        None if pins.first_use => Ok(Accepted {
            sources: vec![TrustSource::FirstUse],
            new_pin: Some(fetched.sha256),
        }),
        None => Err(Untrusted::FirstContact),
    }
}

/// What the state file remembers about one site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteRecord {
    /// SHA-256 of the exact bytes of the trusted policy.
    pub policy_sha256: Sha256Digest,
    /// When the policy was pinned.
    pub pinned_at: Timestamp,
    /// The highest canary sequence number seen (and fully verified).
    pub sequence: u64,
    /// SHA-256 of that canary's payload (its identity, as in
    /// `previous_sha256`).
    pub payload_sha256: Sha256Digest,
    /// When that canary was last verified.
    pub checked_at: Timestamp,
}

/// A record kept per site in a state file; `FORMAT` names the file's
/// format (and version) in its `format` field.
pub trait StateRecord: Serialize + serde::de::DeserializeOwned + Clone {
    const FORMAT: &'static str;
}

impl StateRecord for SiteRecord {
    const FORMAT: &'static str = STATE_FORMAT;
}

/// A local state file: site root URL → record. `verify URL` keeps
/// [`State`]; `canary watch` keeps its own records in the same shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateFile<R> {
    pub sites: BTreeMap<String, R>,
}

/// The state file of `canary verify URL`.
pub type State = StateFile<SiteRecord>;

impl<R> Default for StateFile<R> {
    fn default() -> Self {
        StateFile {
            sites: BTreeMap::new(),
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, bound = "R: StateRecord")]
struct WireState<R> {
    format: String,
    sites: BTreeMap<String, R>,
}

impl<R: StateRecord> StateFile<R> {
    pub fn parse(bytes: &[u8]) -> Result<Self, JsonError> {
        let w: WireState<R> = json::from_slice(bytes)?;
        if w.format != R::FORMAT {
            return Err(JsonError(format!(
                "`format` is `{}`, expected `{}`",
                crate::sanitize::line(&w.format),
                R::FORMAT
            )));
        }
        Ok(StateFile { sites: w.sites })
    }

    /// Pretty JSON with a trailing newline.
    pub fn to_json(&self) -> Vec<u8> {
        let w = WireState {
            format: R::FORMAT.into(),
            sites: self.sites.clone(),
        };
        let mut out = serde_json::to_vec_pretty(&w).expect("state serialises");
        out.push(b'\n');
        out
    }
}

/// What a fetch showed: the newest canary and the payload digest of every
/// canary in the history, by sequence number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub sequence: u64,
    pub payload_sha256: Sha256Digest,
    pub history: BTreeMap<u64, Sha256Digest>,
}

/// The rollback / equivocation rule: compares what a site shows now with
/// what was seen there before. Validly signed canaries still fail when
///
/// * the newest sequence is lower than the highest seen (rollback: an older
///   canary is being replayed, perhaps hiding a tripped or newer one);
/// * the newest sequence equals the highest seen but its payload differs
///   (equivocation: two different canaries with one number);
/// * the newest sequence is higher, but the history's canary at the
///   remembered sequence differs from the one seen (a forked history).
pub fn check_seen(prev: Option<&SiteRecord>, now: &Seen) -> Vec<Finding> {
    let Some(prev) = prev else {
        return Vec::new();
    };
    let seen = crate::verify::Seen {
        sequence: prev.sequence,
        sha256: prev.payload_sha256,
        at: prev.checked_at,
    };
    let (shown, shown_sha256) = (now.sequence, now.payload_sha256);
    let problem = if now.sequence < prev.sequence {
        Problem::Rollback {
            shown,
            shown_sha256,
            seen,
        }
    } else if now.sequence == prev.sequence && now.payload_sha256 != prev.payload_sha256 {
        Problem::Equivocation {
            shown,
            shown_sha256,
            seen,
        }
    } else if now.sequence > prev.sequence
        && now.history.get(&prev.sequence) != Some(&prev.payload_sha256)
    {
        Problem::HistoryRewritten {
            found: now.history.get(&prev.sequence).copied(),
            seen,
        }
    } else {
        return Vec::new();
    };
    vec![Finding::new(Some(now.sequence), problem)]
}

/// Whether a verification by URL may move the state file forward: when
/// every check passed; and, for a site already pinned (and the pin not
/// being replaced), also when the only failures are about what an
/// authentic, intact history says or when (TRIPPED, freshness, expiry,
/// not yet valid). Such a canary is real and signed: remembering it means
/// a site that later serves an older canary to hide a trip, or to hide
/// that the canary lapsed, is caught as a rollback. A first contact is
/// pinned only when everything passes.
pub fn may_remember(
    report: &crate::verify::Report,
    accepted: &Accepted,
    record: Option<&SiteRecord>,
) -> bool {
    use crate::verify::Class;
    if report.failure.is_none() {
        return true;
    }
    let about_content = |c: Class| {
        matches!(
            c,
            Class::Tripped | Class::Freshness | Class::Expired | Class::NotYetValid
        )
    };
    record.is_some()
        && accepted.new_pin.is_none()
        && report.chain_intact
        && report.latest.is_some()
        && report.failures.iter().all(|f| about_content(f.class))
}

/// The record to store after a fully successful verification. Keeps the
/// highest canary seen (a caller never lowers it) and the pin.
pub fn updated_record(
    prev: Option<&SiteRecord>,
    policy_sha256: Sha256Digest,
    seen: &Seen,
    now: Timestamp,
) -> SiteRecord {
    let pinned_at = match prev {
        Some(p) if p.policy_sha256 == policy_sha256 => p.pinned_at,
        _ => now,
    };
    let (sequence, payload_sha256) = match prev {
        Some(p) if p.sequence > seen.sequence => (p.sequence, p.payload_sha256),
        _ => (seen.sequence, seen.payload_sha256),
    };
    SiteRecord {
        policy_sha256,
        pinned_at,
        sequence,
        payload_sha256,
        checked_at: now,
    }
}

/// Why a run's record cannot simply be merged into a state file that
/// another process wrote while the run was verifying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Concurrent {
    /// Another run pinned another policy for the site meanwhile; this run
    /// trusted `trusted` under the pin it started with. The other pin is
    /// kept: it is never silently replaced.
    PinChanged {
        pinned: Sha256Digest,
        trusted: Sha256Digest,
    },
    /// What this run saw contradicts the canary another run recorded
    /// meanwhile: another canary under its number (equivocation), or a
    /// history in which it is missing or different. A rollback failure.
    Seen(Box<Finding>),
}

/// The record to write for a site when the state file may have changed
/// since this run read it, under the state file's lock: `started` is the
/// record the run verified against, `on_disk` the one in the file now,
/// `trusted` the policy this run trusted and `seen` what it saw (its
/// verification passed). When nobody wrote meanwhile this is
/// [`updated_record`]; otherwise the two are merged so that the record
/// still only moves forward:
///
/// * the sequence and payload digest are the higher of the file's and
///   this run's (a run that started earlier and saw an older canary does
///   not move the record back: that is not a rollback, only a slower run);
/// * this run's canary must not contradict the file's ([`check_seen`]
///   without its rollback branch): [`Concurrent::Seen`];
/// * a pin the file gained or changed meanwhile is kept, and this run's
///   record is not written: [`Concurrent::PinChanged`] (a pin this run
///   replaces itself, `--replace-pin`, replaces the one it started with);
/// * `pinned_at` is the earlier of the two for the same pin, `checked_at`
///   the later.
pub fn merge_record(
    started: Option<&SiteRecord>,
    on_disk: Option<&SiteRecord>,
    trusted: Sha256Digest,
    seen: &Seen,
    now: Timestamp,
) -> Result<SiteRecord, Concurrent> {
    let ours = updated_record(started, trusted, seen, now);
    let Some(disk) = on_disk.filter(|d| Some(*d) != started) else {
        return Ok(ours);
    };
    let replacing = started.map(|s| s.policy_sha256) == Some(disk.policy_sha256);
    if disk.policy_sha256 != trusted && !replacing {
        return Err(Concurrent::PinChanged {
            pinned: disk.policy_sha256,
            trusted,
        });
    }
    if let Some(f) = check_seen(Some(disk), seen)
        .into_iter()
        .find(|f| !matches!(f.problem, Problem::Rollback { .. }))
    {
        return Err(Concurrent::Seen(Box::new(f)));
    }
    let mut merged = updated_record(Some(disk), trusted, seen, now);
    if disk.policy_sha256 == trusted {
        merged.pinned_at = disk.pinned_at.min(ours.pinned_at);
    }
    merged.checked_at = disk.checked_at.max(now);
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::SecretKey;
    use crate::policy::{Policy, Signer};

    fn policy(seeds: &[u8], threshold: usize) -> TrustedPolicy {
        let p = Policy {
            version: 1,
            org: "Example".into(),
            domain: "example.org".into(),
            threshold,
            cadence_days: 90,
            freshness: crate::freshness::Requirement::NONE,
            previous_sha256: None,
            explanation: None,
            revoked: Vec::new(),
            signers: seeds
                .iter()
                .map(|&i| Signer {
                    name: format!("s{i}"),
                    key: SecretKey::from_seed(&[i; 32]).public(),
                })
                .collect(),
        };
        TrustedPolicy::from_bytes(&p.to_json()).unwrap()
    }

    fn fps(seeds: &[u8]) -> Vec<String> {
        seeds
            .iter()
            .map(|&i| SecretKey::from_seed(&[i; 32]).public().fingerprint())
            .collect()
    }

    fn none() -> Pins<'static> {
        Pins {
            policy: None,
            keys: &[],
            min_threshold: None,
            first_use: false,
            replace_pin: false,
        }
    }

    #[test]
    fn resolves_site_urls() {
        let s = SiteUrls::resolve("https://example.org").unwrap();
        assert_eq!(s.key(), "https://example.org/");
        assert_eq!(
            s.well_known(),
            "https://example.org/.well-known/warrant-canary.json"
        );
        assert_eq!(s.canary(7), "https://example.org/canaries/0007.json");
        assert_eq!(s.canary(12345), "https://example.org/canaries/12345.json");
        assert_eq!(s.policy(), "https://example.org/keys/policy.json");
        let w =
            SiteUrls::resolve("https://example.org/.well-known/warrant-canary.json?x#y").unwrap();
        assert_eq!(w, s);
        let sub = SiteUrls::resolve("https://example.org/org/canary").unwrap();
        assert_eq!(sub.key(), "https://example.org/org/canary/");
        assert_eq!(
            sub.incidents(),
            "https://example.org/org/canary/canaries/incidents.jsonl"
        );
        assert!(SiteUrls::resolve("http://example.org").is_err());
        assert!(SiteUrls::resolve("http://127.0.0.1:8000/").is_ok());
        assert!(looks_like_url("HTTPS://x"));
        assert!(looks_like_url("http://x"));
        assert!(!looks_like_url("canaries"));
        assert!(!looks_like_url("é"));
    }

    #[test]
    fn fingerprint_spelling() {
        let fp = &fps(&[1])[0];
        assert!(check_fingerprint(fp).is_ok());
        assert!(check_fingerprint(&fp[7..]).is_err());
        let e = check_fingerprint("SHA256:short\u{1b}").unwrap_err();
        assert_eq!(e.fingerprint, "SHA256:short\u{1b}");
        assert_eq!(
            e.to_string(),
            "`SHA256:short\\u{001b}` is not a key fingerprint like SHA256:… (43 base64 characters, as `ssh-keygen -l` prints)"
        );
        assert!(check_fingerprint(&format!("{fp}=")).is_err());
    }

    #[test]
    fn first_contact_needs_a_decision() {
        let p = policy(&[1, 2, 3], 2);
        assert_eq!(
            accept_policy(&p, &none(), None),
            Err(Untrusted::FirstContact)
        );
        let tofu = Pins {
            first_use: true,
            ..none()
        };
        let a = accept_policy(&p, &tofu, None).unwrap();
        assert_eq!(a.sources, vec![TrustSource::FirstUse]);
        assert_eq!(a.new_pin, Some(p.sha256));
    }

    #[test]
    fn pin_is_compared_on_later_runs() {
        let p = policy(&[1, 2, 3], 2);
        let q = policy(&[1, 2, 3], 1);
        let tofu = Pins {
            first_use: true,
            ..none()
        };
        let a = accept_policy(&p, &tofu, Some(p.sha256)).unwrap();
        assert_eq!(a.sources, vec![TrustSource::Pin]);
        assert_eq!(a.new_pin, None);
        // --trust-on-first-use never overrides an existing pin.
        assert_eq!(
            accept_policy(&q, &tofu, Some(p.sha256)),
            Err(Untrusted::PinChanged {
                pinned: p.sha256,
                fetched: q.sha256
            })
        );
    }

    #[test]
    fn keys_must_match_exactly() {
        let p = policy(&[1, 2, 3], 2);
        let keys = fps(&[3, 1, 2]);
        let pins = Pins {
            keys: &keys,
            ..none()
        };
        let a = accept_policy(&p, &pins, None).unwrap();
        assert_eq!(a.sources, vec![TrustSource::Keys]);
        assert_eq!(a.new_pin, Some(p.sha256));

        // Fewer keys in the policy.
        let fewer = policy(&[1, 2], 2);
        let e = accept_policy(&fewer, &pins, None).unwrap_err();
        assert_eq!(
            e,
            Untrusted::KeysDiffer {
                missing: fps(&[3]),
                extra: vec![]
            }
        );
        // Another key swapped in.
        let other = policy(&[1, 2, 9], 2);
        assert!(matches!(
            accept_policy(&other, &pins, None),
            Err(Untrusted::KeysDiffer { .. })
        ));
        // One more key than pinned.
        let more = policy(&[1, 2, 3, 4], 3);
        let e = accept_policy(&more, &pins, None).unwrap_err();
        assert_eq!(
            e,
            Untrusted::KeysDiffer {
                missing: vec![],
                extra: fps(&[4])
            }
        );
    }

    #[test]
    fn keys_refuse_a_lowered_threshold() {
        let keys = fps(&[1, 2, 3]);
        let pins = Pins {
            keys: &keys,
            ..none()
        };
        // Default minimum: a strict majority (2 of 3).
        assert_eq!(
            accept_policy(&policy(&[1, 2, 3], 1), &pins, None),
            Err(Untrusted::ThresholdTooLow {
                threshold: 1,
                minimum: 2
            })
        );
        let strict = Pins {
            keys: &keys,
            min_threshold: Some(3),
            ..none()
        };
        assert_eq!(
            accept_policy(&policy(&[1, 2, 3], 2), &strict, None),
            Err(Untrusted::ThresholdTooLow {
                threshold: 2,
                minimum: 3
            })
        );
        assert!(accept_policy(&policy(&[1, 2, 3], 3), &strict, None).is_ok());
        assert_eq!(default_min_threshold(1), 1);
        assert_eq!(default_min_threshold(2), 2);
        assert_eq!(default_min_threshold(4), 3);
    }

    #[test]
    fn explicit_pins_and_the_state_pin_must_both_hold() {
        let p = policy(&[1, 2, 3], 2);
        let q = policy(&[1, 2, 3], 3);
        let keys = fps(&[1, 2, 3]);
        let pins = Pins {
            keys: &keys,
            ..none()
        };
        // The keys match q, but q is not the pinned policy.
        assert!(matches!(
            accept_policy(&q, &pins, Some(p.sha256)),
            Err(Untrusted::PinChanged { .. })
        ));
        // --replace-pin with keys that hold replaces the pin.
        let replace = Pins {
            replace_pin: true,
            ..pins
        };
        let a = accept_policy(&q, &replace, Some(p.sha256)).unwrap();
        assert_eq!(a.new_pin, Some(q.sha256));
        // --replace-pin alone is refused.
        let bare = Pins {
            replace_pin: true,
            first_use: true,
            ..none()
        };
        assert_eq!(
            accept_policy(&q, &bare, Some(p.sha256)),
            Err(Untrusted::ReplaceWithoutPins)
        );
    }

    #[test]
    fn policy_file_must_be_identical() {
        let p = policy(&[1, 2, 3], 2);
        let q = policy(&[1, 2, 3], 3);
        let pins = Pins {
            policy: Some(&p),
            ..none()
        };
        assert_eq!(
            accept_policy(&p, &pins, None).unwrap().sources,
            vec![TrustSource::PolicyFile]
        );
        assert_eq!(
            accept_policy(&q, &pins, None),
            Err(Untrusted::FileDiffers {
                file: p.sha256,
                fetched: q.sha256
            })
        );
    }

    fn d(b: u8) -> Sha256Digest {
        Sha256Digest::of(&[b])
    }

    fn record(sequence: u64, digest: Sha256Digest) -> SiteRecord {
        SiteRecord {
            policy_sha256: d(0),
            pinned_at: Timestamp::from_unix(1_700_000_000),
            sequence,
            payload_sha256: digest,
            checked_at: Timestamp::from_unix(1_700_000_000),
        }
    }

    fn seen(history: &[(u64, u8)]) -> Seen {
        let &(sequence, last) = history.last().unwrap();
        Seen {
            sequence,
            payload_sha256: d(last),
            history: history.iter().map(|&(n, b)| (n, d(b))).collect(),
        }
    }

    #[test]
    fn rollback_and_equivocation() {
        let prev = record(2, d(2));
        // Nothing seen before: nothing to compare.
        assert!(check_seen(None, &seen(&[(1, 1)])).is_empty());
        // Same canary again, or a newer one continuing it: fine.
        assert!(check_seen(Some(&prev), &seen(&[(1, 1), (2, 2)])).is_empty());
        assert!(check_seen(Some(&prev), &seen(&[(1, 1), (2, 2), (3, 3)])).is_empty());
        // Lower sequence: rollback.
        let f = check_seen(Some(&prev), &seen(&[(1, 1)]));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].class, crate::verify::Class::Rollback);
        assert!(f[0].message().contains("ROLLBACK"), "{}", f[0].message());
        // Same sequence, other bytes: equivocation.
        let f = check_seen(Some(&prev), &seen(&[(1, 1), (2, 7)]));
        assert!(
            f[0].message().contains("EQUIVOCATION"),
            "{}",
            f[0].message()
        );
        // Higher sequence on a rewritten history.
        let f = check_seen(Some(&prev), &seen(&[(1, 1), (2, 7), (3, 3)]));
        assert!(f[0].message().contains("rewritten"), "{}", f[0].message());
    }

    #[test]
    fn records_never_go_backwards() {
        let now = Timestamp::from_unix(1_800_000_000);
        let prev = record(5, d(5));
        let r = updated_record(Some(&prev), d(0), &seen(&[(4, 4)]), now);
        assert_eq!((r.sequence, r.payload_sha256), (5, d(5)));
        assert_eq!(r.pinned_at, prev.pinned_at);
        let r = updated_record(Some(&prev), d(9), &seen(&[(5, 5), (6, 6)]), now);
        assert_eq!((r.sequence, r.payload_sha256, r.pinned_at), (6, d(6), now));
        assert_eq!(r.checked_at, now);
    }

    /// Two runs at once: this one started from `started` and verified
    /// `seen`; another wrote `on_disk` meanwhile.
    #[test]
    fn a_concurrent_record_only_moves_forward() {
        let now = Timestamp::from_unix(1_800_000_000);
        let later = Timestamp::from_unix(1_800_000_100);
        let start = record(1, d(1));
        let history = [(1, 1), (2, 2), (3, 3)];
        // Nobody wrote meanwhile: the record of a lone run.
        let lone = merge_record(Some(&start), Some(&start), d(0), &seen(&history[..2]), now);
        assert_eq!(
            lone,
            Ok(updated_record(
                Some(&start),
                d(0),
                &seen(&history[..2]),
                now
            ))
        );
        // A later run recorded canary 3; this slower one saw canary 2: the
        // record stays at 3 (not a rollback: this run only fetched earlier).
        let disk = SiteRecord {
            checked_at: later,
            ..record(3, d(3))
        };
        let r = merge_record(Some(&start), Some(&disk), d(0), &seen(&history[..2]), now).unwrap();
        assert_eq!((r.sequence, r.payload_sha256), (3, d(3)));
        assert_eq!((r.pinned_at, r.checked_at), (disk.pinned_at, later));
        // The other way round: this run saw 3 after another recorded 2.
        let disk = record(2, d(2));
        let r = merge_record(Some(&start), Some(&disk), d(0), &seen(&history), now).unwrap();
        assert_eq!((r.sequence, r.payload_sha256), (3, d(3)));
        assert_eq!(r.checked_at, now);
        // First contact in both runs, the same policy: merged, and pinned
        // when the first of them pinned it.
        let r = merge_record(None, Some(&disk), d(0), &seen(&history), now).unwrap();
        assert_eq!((r.sequence, r.pinned_at), (3, disk.pinned_at));
    }

    #[test]
    fn a_concurrent_record_that_contradicts_this_run_is_a_rollback_failure() {
        let now = Timestamp::from_unix(1_800_000_000);
        let start = record(1, d(1));
        let disk = record(2, d(2));
        // Another canary 2 than the one the other run recorded.
        let e = merge_record(
            Some(&start),
            Some(&disk),
            d(0),
            &seen(&[(1, 1), (2, 7)]),
            now,
        );
        let Err(Concurrent::Seen(f)) = e else {
            panic!("{e:?}")
        };
        assert_eq!(f.class, crate::verify::Class::Rollback);
        assert!(f.message().contains("EQUIVOCATION"), "{}", f.message());
        // A newer canary on a history without the other run's canary 2.
        let e = merge_record(
            Some(&start),
            Some(&disk),
            d(0),
            &seen(&[(1, 1), (2, 7), (3, 3)]),
            now,
        );
        assert!(
            matches!(&e, Err(Concurrent::Seen(f)) if f.message().contains("rewritten")),
            "{e:?}"
        );
    }

    #[test]
    fn a_concurrently_written_pin_is_never_replaced() {
        let now = Timestamp::from_unix(1_800_000_000);
        let s = seen(&[(1, 1), (2, 2)]);
        let other = SiteRecord {
            policy_sha256: d(8),
            ..record(1, d(1))
        };
        // Both runs made first contact; the other pinned another policy.
        assert_eq!(
            merge_record(None, Some(&other), d(0), &s, now),
            Err(Concurrent::PinChanged {
                pinned: d(8),
                trusted: d(0)
            })
        );
        // This run trusted the pin it started with; another run replaced
        // that pin meanwhile (--replace-pin): the replacement stays.
        let start = record(1, d(1));
        assert_eq!(
            merge_record(Some(&start), Some(&other), d(0), &s, now),
            Err(Concurrent::PinChanged {
                pinned: d(8),
                trusted: d(0)
            })
        );
        // This run replaces the pin itself while another only recorded a
        // newer canary under the old one: replaced, the newer canary kept.
        let newer = record(3, d(3));
        let r = merge_record(Some(&start), Some(&newer), d(9), &s, now).unwrap();
        assert_eq!((r.policy_sha256, r.pinned_at, r.sequence), (d(9), now, 3));
    }

    #[test]
    fn state_round_trips_strictly() {
        let mut s = State::default();
        s.sites
            .insert("https://example.org/".into(), record(3, d(3)));
        let bytes = s.to_json();
        assert_eq!(State::parse(&bytes).unwrap(), s);
        let text = String::from_utf8(bytes).unwrap();
        assert!(State::parse(text.replace("state/v1", "state/v9").as_bytes()).is_err());
        assert!(State::parse(
            text.replace("\"sequence\"", "\"extra\": 1, \"sequence\"")
                .as_bytes()
        )
        .is_err());
    }

    /// The state moves forward on a full pass, and, for a pinned site
    /// whose pin stays, on a report whose only failures are about what an
    /// authentic intact history says; never on first contact otherwise,
    /// nor on any failure of authenticity or integrity.
    #[test]
    fn what_may_move_the_state_forward() {
        use crate::verify::{Class, Finding, Problem, Report, Verdict};
        let p = policy(&[1, 2], 2);
        let report = |classes: &[Class], intact: bool| Report {
            verdict: Verdict::Invalid,
            failure: classes.first().copied(),
            now: Timestamp::from_unix(0),
            policy: crate::verify::PolicySummary::of(&p),
            policy_chain: None,
            canaries: 2,
            chain_intact: intact,
            latest: Some(crate::verify::LatestSummary {
                sequence: 2,
                sha256: d(2),
                issued_at: Timestamp::from_unix(0),
                expires_at: Timestamp::from_unix(1),
                expires_in_seconds: 1,
                signed_by: vec![],
                statements: vec![],
                announcements: vec![],
                changes: vec![],
                freshness: None,
            }),
            failures: classes
                .iter()
                .map(|&class| Finding {
                    class,
                    canary: Some(2),
                    problem: Problem::LatestMissing,
                })
                .collect(),
            warnings: vec![],
            incidents: None,
        };
        let kept = Accepted {
            sources: vec![TrustSource::Pin],
            new_pin: None,
        };
        let new = Accepted {
            sources: vec![TrustSource::FirstUse],
            new_pin: Some(p.sha256),
        };
        let rec = record(1, d(1));
        assert!(may_remember(&report(&[], true), &new, None));
        assert!(may_remember(
            &report(&[Class::Tripped], true),
            &kept,
            Some(&rec)
        ));
        assert!(may_remember(
            &report(&[Class::Freshness, Class::Expired], true),
            &kept,
            Some(&rec)
        ));
        // First contact, a replaced pin, a broken chain, or any failure of
        // authenticity or integrity: not remembered.
        assert!(!may_remember(&report(&[Class::Tripped], true), &new, None));
        assert!(!may_remember(
            &report(&[Class::Tripped], true),
            &new,
            Some(&rec)
        ));
        assert!(!may_remember(
            &report(&[Class::Tripped], false),
            &kept,
            Some(&rec)
        ));
        for bad in [
            Class::Signature,
            Class::Threshold,
            Class::Policy,
            Class::History,
            Class::Rollback,
            Class::IncidentLog,
        ] {
            assert!(
                !may_remember(&report(&[bad, Class::Tripped], true), &kept, Some(&rec)),
                "{bad:?}"
            );
        }
    }
}
