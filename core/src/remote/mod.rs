//! Verification by URL: the rules and the procedure (no I/O).
//!
//! * [`verify_site`]: the procedure, over a [`Transport`] (the binary's
//!   network client, or [`MemoryTransport`]).
//! * [`SiteUrls`]: where a published site keeps each file.
//! * [`accept_chain`]: when a policy chain fetched from a site is trusted,
//!   given the user's pins (`--policy`, `--key`, the state file, first use).
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
use crate::rotation::{ChainFile, PolicyChain};
use crate::timefmt::Timestamp;
use crate::verify::{Finding, Problem};

pub mod cache;
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
    /// A file of the policy chain: `keys/policy.1.json`,
    /// `keys/rotation.K.json` (docs/FORMAT.md, "Rotation").
    pub fn chain_file(&self, file: ChainFile) -> String {
        self.join(&format!("keys/{}", file.file_name()))
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

/// A pinned policy version: the hash of its exact bytes and its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pin {
    pub sha256: Sha256Digest,
    pub version: u64,
}

impl Pin {
    pub fn of(policy: &TrustedPolicy) -> Pin {
        Pin {
            sha256: policy.sha256,
            version: policy.policy.version,
        }
    }
}

/// The fetched policy chain is trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// Every rule that vouched for it (the pin is listed when it held).
    pub sources: Vec<TrustSource>,
    /// A pin this run sets or replaces (first contact, `--replace-pin`):
    /// the chain's newest version, written only once every other check
    /// passed.
    pub new_pin: Option<Sha256Digest>,
    /// The chain's newest version: the pin a run that passes every check
    /// records. Past the state file's pin when the site rotated since (the
    /// pin follows the chain, forward only).
    pub pin: Pin,
}

/// Why a fetched policy is not trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Untrusted {
    /// No pin and no explicit trust: the user must decide (exit 4).
    FirstContact,
    /// The pinned policy is not a version of the site's chain, and is a
    /// later version than the site's newest: the site serves an older
    /// chain than one seen before (rollback, exit 19).
    ChainRolledBack {
        pinned: Pin,
        /// The site's newest version.
        fetched: Pin,
    },
    /// The pinned policy is not a version of the site's chain (exit 12).
    PinChanged {
        pinned: Sha256Digest,
        fetched: Sha256Digest,
    },
    /// The `--policy` file is no version of the site's chain (exit 12).
    FileDiffers {
        file: Sha256Digest,
        fetched: Sha256Digest,
    },
    /// No version's signer keys are exactly the `--key` set (exit 12); the
    /// difference is the newest version's.
    KeysDiffer {
        /// Pinned keys the policy lacks.
        missing: Vec<String>,
        /// Policy keys that were not pinned.
        extra: Vec<String>,
    },
    /// The threshold of the newest version whose signers are the `--key`
    /// set is below the minimum (exit 12).
    ThresholdTooLow { threshold: usize, minimum: usize },
    /// `--replace-pin` needs `--key` or `--policy` (exit 2).
    ReplaceWithoutPins,
}

/// The pinning rule, over the site's whole policy chain (every version
/// from 1, each step checked by [`crate::rotation::check_step`]). The chain
/// is accepted when every pin the user has holds:
///
/// 1. `--policy FILE`: the file's hash is the hash of some version.
/// 2. `--key`: the set of signer fingerprints of some version equals the
///    set of `--key` fingerprints (no key missing, none added); of such
///    versions the newest must have a threshold of at least `--threshold`,
///    or a strict majority of the keys without it.
/// 3. The state file's pin for this site is a version of the chain. A pin
///    that is not: a rollback when the pin's version is later than the
///    chain's newest (the site serves an older chain than one seen), else
///    a changed policy. With `--replace-pin` (and 1 or 2) a pin outside
///    the chain is replaced instead.
/// 4. With none of these, only `--trust-on-first-use` accepts the chain.
///
/// Later versions than the one a pin matched are trusted through the
/// chain's steps (both thresholds at each). The pin is set or moved to the
/// newest version only by the caller, after every other check passed.
pub fn accept_chain(
    chain: &PolicyChain,
    pins: &Pins<'_>,
    pinned: Option<Pin>,
) -> Result<Accepted, Untrusted> {
    let newest = chain.newest();
    let pin = Pin::of(newest);
    let explicit = pins.policy.is_some() || !pins.keys.is_empty();
    if pins.replace_pin && !explicit {
        return Err(Untrusted::ReplaceWithoutPins);
    }
    let mut sources = Vec::new();
    if let Some(file) = pins.policy {
        if chain.position(file.sha256).is_none() {
            return Err(Untrusted::FileDiffers {
                file: file.sha256,
                fetched: newest.sha256,
            });
        }
        sources.push(TrustSource::PolicyFile);
    }
    if !pins.keys.is_empty() {
        let want: BTreeSet<&str> = pins.keys.iter().map(String::as_str).collect();
        let fingerprints = |p: &TrustedPolicy| -> BTreeSet<String> {
            p.policy
                .signers
                .iter()
                .map(|s| s.key.fingerprint())
                .collect()
        };
        let same = |p: &&TrustedPolicy| {
            let have = fingerprints(p);
            have.len() == want.len() && have.iter().all(|k| want.contains(k.as_str()))
        };
        let Some(matched) = chain.versions.iter().rev().find(same) else {
            let have = fingerprints(newest);
            let have: BTreeSet<&str> = have.iter().map(String::as_str).collect();
            return Err(Untrusted::KeysDiffer {
                missing: want.difference(&have).map(|s| s.to_string()).collect(),
                extra: have.difference(&want).map(|s| s.to_string()).collect(),
            });
        };
        let minimum = pins
            .min_threshold
            .unwrap_or_else(|| default_min_threshold(want.len()));
        if matched.policy.threshold < minimum {
            return Err(Untrusted::ThresholdTooLow {
                threshold: matched.policy.threshold,
                minimum,
            });
        }
        sources.push(TrustSource::Keys);
    }
    let in_chain = |p: &Pin| chain.position(p.sha256).is_some();
    match pinned {
        Some(p) if pins.replace_pin && !in_chain(&p) => Ok(Accepted {
            sources,
            new_pin: Some(newest.sha256),
            pin,
        }),
        Some(p) if !in_chain(&p) && p.version > pin.version => Err(Untrusted::ChainRolledBack {
            pinned: p,
            fetched: pin,
        }),
        Some(p) if !in_chain(&p) => Err(Untrusted::PinChanged {
            pinned: p.sha256,
            fetched: newest.sha256,
        }),
        Some(_) => {
            sources.push(TrustSource::Pin);
            Ok(Accepted {
                sources,
                new_pin: None,
                pin,
            })
        }
        None if explicit => Ok(Accepted {
            sources,
            new_pin: Some(newest.sha256),
            pin,
        }),
        None if pins.first_use => Ok(Accepted {
            sources: vec![TrustSource::FirstUse],
            new_pin: Some(newest.sha256),
            pin,
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
    /// That policy's version: a site whose chain ends before it rolled
    /// back. Absent (1) in every record made before rotations, so those
    /// files keep their bytes.
    #[serde(default = "version_one", skip_serializing_if = "is_version_one")]
    pub policy_version: u64,
    /// When the policy was pinned.
    pub pinned_at: Timestamp,
    /// The highest canary sequence number seen (and fully verified).
    pub sequence: u64,
    /// SHA-256 of that canary's payload (its identity, as in
    /// `previous_sha256`).
    pub payload_sha256: Sha256Digest,
    /// When that canary was last verified.
    pub checked_at: Timestamp,
    /// The newest canary of the last run that passed every check: the
    /// next run verifies from it ([`checkpoint_for`]). Unlike `sequence`,
    /// which a run remembered on a content failure (TRIPPED, expired) also
    /// moves, it moves only on a full pass. Absent in records made before
    /// it existed, which keep their bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<Checkpoint>,
    /// The incident log of the last run that passed every check, where it
    /// ended: the next run asks only for the bytes after it when the
    /// response cache holds exactly that log (docs/FORMAT.md, "Response
    /// cache"). Set and cleared with the checkpoint's moves; absent in
    /// records made before it existed, or for a site without a log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident_log: Option<crate::incidents::LogMark>,
}

/// Where an earlier run's full verification ended (docs/FORMAT.md, "The
/// state file"): canaries 1 … `sequence` verified under the chain ending
/// at `policy_sha256`, the newest of them with this payload digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    pub sequence: u64,
    pub payload_sha256: Sha256Digest,
    /// The newest policy version it was verified under: after a rotation
    /// (a key revoked, perhaps) everything is verified again.
    pub policy_sha256: Sha256Digest,
    pub verified_at: Timestamp,
}

impl Checkpoint {
    /// As the continuation compares it ([`crate::verify::verify_fetched_from`]).
    pub fn seen(&self) -> crate::verify::Seen {
        crate::verify::Seen {
            sequence: self.sequence,
            sha256: self.payload_sha256,
            at: self.verified_at,
        }
    }
}

/// The checkpoint a run may continue from, given the record, what the
/// pinning rule accepted and the latest canary's number `n`: none on
/// first contact or a replaced pin, none after a rotation since it was
/// set (the new chain may revoke a key that signed canaries before it),
/// none past the latest canary or past the record's own canary (a
/// rollback is verified as in full).
pub fn checkpoint_for(
    record: Option<&SiteRecord>,
    accepted: &Accepted,
    chain: &PolicyChain,
    n: u64,
) -> Option<Checkpoint> {
    let r = record?;
    let cp = r.checkpoint?;
    let usable = accepted.new_pin.is_none()
        && cp.policy_sha256 == chain.newest().sha256
        && (1..=n).contains(&cp.sequence)
        && cp.sequence <= r.sequence;
    usable.then_some(cp)
}

/// Moves `rec`'s checkpoint to what a run that passed every check
/// verified: the newest canary `seen` under the chain ending at
/// `policy`. Never back along the same chain (a run that started earlier
/// and verified less keeps the further checkpoint another run wrote).
pub fn advance_checkpoint(rec: &mut SiteRecord, seen: &Seen, policy: Sha256Digest, now: Timestamp) {
    let ours = Checkpoint {
        sequence: seen.sequence,
        payload_sha256: seen.payload_sha256,
        policy_sha256: policy,
        verified_at: now,
    };
    match rec.checkpoint {
        Some(cp) if cp.policy_sha256 == policy && cp.sequence > ours.sequence => {}
        _ => rec.checkpoint = Some(ours),
    }
}

fn version_one() -> u64 {
    1
}

fn is_version_one(v: &u64) -> bool {
    *v == 1
}

impl SiteRecord {
    /// The pinned policy version.
    pub fn pin(&self) -> Pin {
        Pin {
            sha256: self.policy_sha256,
            version: self.policy_version,
        }
    }
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

/// The pin a remembered run records ([`may_remember`]): the chain's newest
/// version when every check passed, else the record's own pin. A run that
/// failed never moves the pin, not even along a chain it trusted.
pub fn remembered_pin(
    report: &crate::verify::Report,
    accepted: &Accepted,
    record: Option<&SiteRecord>,
) -> Pin {
    match record {
        Some(r) if report.failure.is_some() => r.pin(),
        _ => accepted.pin,
    }
}

/// The record to store after a fully successful verification. Keeps the
/// highest canary seen (a caller never lowers it) and the pin.
pub fn updated_record(
    prev: Option<&SiteRecord>,
    pin: Pin,
    seen: &Seen,
    now: Timestamp,
) -> SiteRecord {
    let pinned_at = match prev {
        Some(p) if p.policy_sha256 == pin.sha256 => p.pinned_at,
        _ => now,
    };
    let (sequence, payload_sha256) = match prev {
        Some(p) if p.sequence > seen.sequence => (p.sequence, p.payload_sha256),
        _ => (seen.sequence, seen.payload_sha256),
    };
    SiteRecord {
        policy_sha256: pin.sha256,
        policy_version: pin.version,
        pinned_at,
        sequence,
        payload_sha256,
        checked_at: now,
        // Moved only by [`advance_checkpoint`], after a full pass.
        checkpoint: prev.and_then(|p| p.checkpoint),
        incident_log: prev.and_then(|p| p.incident_log),
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
/// `trusted` the pin this run records ([`remembered_pin`]), `chain` the
/// hashes of the versions of the chain it verified with (oldest first) and
/// `seen` what it saw (its verification passed). When nobody wrote
/// meanwhile this is [`updated_record`]; otherwise the two are merged so
/// that the record still only moves forward:
///
/// * the sequence and payload digest are the higher of the file's and
///   this run's (a run that started earlier and saw an older canary does
///   not move the record back: that is not a rollback, only a slower run);
/// * this run's canary must not contradict the file's ([`check_seen`]
///   without its rollback branch): [`Concurrent::Seen`];
/// * a pin the file gained or changed meanwhile is kept, and this run's
///   record is not written: [`Concurrent::PinChanged`] (a pin this run
///   replaces itself, `--replace-pin`, replaces the one it started with).
///   A pin that is a version of this run's chain is no conflict: another
///   run followed the same rotations; the later version of the two is
///   kept;
/// * `pinned_at` is the earlier of the two for the same pin, `checked_at`
///   the later.
pub fn merge_record(
    started: Option<&SiteRecord>,
    on_disk: Option<&SiteRecord>,
    trusted: Pin,
    chain: &[Sha256Digest],
    seen: &Seen,
    now: Timestamp,
) -> Result<SiteRecord, Concurrent> {
    let ours = updated_record(started, trusted, seen, now);
    let Some(disk) = on_disk.filter(|d| Some(*d) != started) else {
        return Ok(ours);
    };
    let replacing = started.map(|s| s.policy_sha256) == Some(disk.policy_sha256);
    // The version is the place in the chain, not the file's word for it.
    let disk_version = chain
        .iter()
        .position(|h| *h == disk.policy_sha256)
        .map(|i| i as u64 + 1);
    if disk.policy_sha256 != trusted.sha256 && !replacing && disk_version.is_none() {
        return Err(Concurrent::PinChanged {
            pinned: disk.policy_sha256,
            trusted: trusted.sha256,
        });
    }
    if let Some(f) = check_seen(Some(disk), seen)
        .into_iter()
        .find(|f| !matches!(f.problem, Problem::Rollback { .. }))
    {
        return Err(Concurrent::Seen(Box::new(f)));
    }
    let pin = match disk_version {
        Some(version) if !replacing && version > trusted.version => Pin {
            sha256: disk.policy_sha256,
            version,
        },
        _ => trusted,
    };
    let mut merged = updated_record(Some(disk), pin, seen, now);
    if disk.policy_sha256 == pin.sha256 && pin == trusted {
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

    /// The pinning rule for a site whose policy was never rotated.
    fn accept(
        p: &TrustedPolicy,
        pins: &Pins<'_>,
        pinned: Option<Sha256Digest>,
    ) -> Result<Accepted, Untrusted> {
        let pinned = pinned.map(|sha256| Pin { sha256, version: 1 });
        accept_chain(&PolicyChain::single(p.clone()), pins, pinned)
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
        assert_eq!(accept(&p, &none(), None), Err(Untrusted::FirstContact));
        let tofu = Pins {
            first_use: true,
            ..none()
        };
        let a = accept(&p, &tofu, None).unwrap();
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
        let a = accept(&p, &tofu, Some(p.sha256)).unwrap();
        assert_eq!(a.sources, vec![TrustSource::Pin]);
        assert_eq!(a.new_pin, None);
        // --trust-on-first-use never overrides an existing pin.
        assert_eq!(
            accept(&q, &tofu, Some(p.sha256)),
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
        let a = accept(&p, &pins, None).unwrap();
        assert_eq!(a.sources, vec![TrustSource::Keys]);
        assert_eq!(a.new_pin, Some(p.sha256));

        // Fewer keys in the policy.
        let fewer = policy(&[1, 2], 2);
        let e = accept(&fewer, &pins, None).unwrap_err();
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
            accept(&other, &pins, None),
            Err(Untrusted::KeysDiffer { .. })
        ));
        // One more key than pinned.
        let more = policy(&[1, 2, 3, 4], 3);
        let e = accept(&more, &pins, None).unwrap_err();
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
            accept(&policy(&[1, 2, 3], 1), &pins, None),
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
            accept(&policy(&[1, 2, 3], 2), &strict, None),
            Err(Untrusted::ThresholdTooLow {
                threshold: 2,
                minimum: 3
            })
        );
        assert!(accept(&policy(&[1, 2, 3], 3), &strict, None).is_ok());
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
            accept(&q, &pins, Some(p.sha256)),
            Err(Untrusted::PinChanged { .. })
        ));
        // --replace-pin with keys that hold replaces the pin.
        let replace = Pins {
            replace_pin: true,
            ..pins
        };
        let a = accept(&q, &replace, Some(p.sha256)).unwrap();
        assert_eq!(a.new_pin, Some(q.sha256));
        // --replace-pin alone is refused.
        let bare = Pins {
            replace_pin: true,
            first_use: true,
            ..none()
        };
        assert_eq!(
            accept(&q, &bare, Some(p.sha256)),
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
            accept(&p, &pins, None).unwrap().sources,
            vec![TrustSource::PolicyFile]
        );
        assert_eq!(
            accept(&q, &pins, None),
            Err(Untrusted::FileDiffers {
                file: p.sha256,
                fetched: q.sha256
            })
        );
    }

    fn d(b: u8) -> Sha256Digest {
        Sha256Digest::of(&[b])
    }

    /// Version 1 of a policy with hash `sha256`.
    fn p1(sha256: Sha256Digest) -> Pin {
        Pin { sha256, version: 1 }
    }

    fn record(sequence: u64, digest: Sha256Digest) -> SiteRecord {
        SiteRecord {
            policy_sha256: d(0),
            policy_version: 1,
            pinned_at: Timestamp::from_unix(1_700_000_000),
            sequence,
            payload_sha256: digest,
            checked_at: Timestamp::from_unix(1_700_000_000),
            checkpoint: None,
            incident_log: None,
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
        let r = updated_record(Some(&prev), p1(d(0)), &seen(&[(4, 4)]), now);
        assert_eq!((r.sequence, r.payload_sha256), (5, d(5)));
        assert_eq!(r.pinned_at, prev.pinned_at);
        let r = updated_record(Some(&prev), p1(d(9)), &seen(&[(5, 5), (6, 6)]), now);
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
        let lone = merge_record(
            Some(&start),
            Some(&start),
            p1(d(0)),
            &[],
            &seen(&history[..2]),
            now,
        );
        assert_eq!(
            lone,
            Ok(updated_record(
                Some(&start),
                p1(d(0)),
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
        let r = merge_record(
            Some(&start),
            Some(&disk),
            p1(d(0)),
            &[],
            &seen(&history[..2]),
            now,
        )
        .unwrap();
        assert_eq!((r.sequence, r.payload_sha256), (3, d(3)));
        assert_eq!((r.pinned_at, r.checked_at), (disk.pinned_at, later));
        // The other way round: this run saw 3 after another recorded 2.
        let disk = record(2, d(2));
        let r = merge_record(
            Some(&start),
            Some(&disk),
            p1(d(0)),
            &[],
            &seen(&history),
            now,
        )
        .unwrap();
        assert_eq!((r.sequence, r.payload_sha256), (3, d(3)));
        assert_eq!(r.checked_at, now);
        // First contact in both runs, the same policy: merged, and pinned
        // when the first of them pinned it.
        let r = merge_record(None, Some(&disk), p1(d(0)), &[], &seen(&history), now).unwrap();
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
            p1(d(0)),
            &[],
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
            p1(d(0)),
            &[],
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
            merge_record(None, Some(&other), p1(d(0)), &[], &s, now),
            Err(Concurrent::PinChanged {
                pinned: d(8),
                trusted: d(0)
            })
        );
        // This run trusted the pin it started with; another run replaced
        // that pin meanwhile (--replace-pin): the replacement stays.
        let start = record(1, d(1));
        assert_eq!(
            merge_record(Some(&start), Some(&other), p1(d(0)), &[], &s, now),
            Err(Concurrent::PinChanged {
                pinned: d(8),
                trusted: d(0)
            })
        );
        // This run replaces the pin itself while another only recorded a
        // newer canary under the old one: replaced, the newer canary kept.
        let newer = record(3, d(3));
        let r = merge_record(Some(&start), Some(&newer), p1(d(9)), &[], &s, now).unwrap();
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
            checkpoint: None,
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
            pin: Pin::of(&p),
        };
        let new = Accepted {
            sources: vec![TrustSource::FirstUse],
            new_pin: Some(p.sha256),
            pin: Pin::of(&p),
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

    // ---- rotations ----------------------------------------------------

    /// Version `version` after `prev`, signed by `seeds`.
    fn successor(prev: &TrustedPolicy, seeds: &[u8], threshold: usize) -> Policy {
        let mut p = policy(seeds, threshold).policy;
        p.version = prev.policy.version + 1;
        p.previous_sha256 = Some(prev.sha256);
        p.explanation = Some("Rotation.".into());
        p
    }

    /// Adds `next` to `chain`, signed by `signers` (both sets' thresholds).
    fn rotate(chain: &mut PolicyChain, next: &Policy, signers: &[u8]) {
        use crate::envelope::Envelope;
        let mut env = Envelope::new(crate::rotation::POLICY_PAYLOAD_TYPE, next.to_json());
        for &i in signers {
            env.add_signature(&SecretKey::from_seed(&[i; 32]));
        }
        chain.push(&env.to_json()).unwrap();
    }

    /// 1: s1 s2 s3, 2 of 3; 2: s1 s2 s4, 2 of 3; 3: s1 s2 s4, 1 of 3.
    fn three_versions() -> PolicyChain {
        let mut c = PolicyChain::single(policy(&[1, 2, 3], 2));
        let v2 = successor(c.newest(), &[1, 2, 4], 2);
        rotate(&mut c, &v2, &[1, 2, 4]);
        let v3 = successor(c.newest(), &[1, 2, 4], 1);
        rotate(&mut c, &v3, &[1, 2]);
        c
    }

    fn pin_of(chain: &PolicyChain, version: usize) -> Pin {
        Pin::of(&chain.versions[version - 1])
    }

    #[test]
    fn a_pin_on_an_older_version_follows_the_chain_to_the_newest() {
        let c = three_versions();
        let a = accept_chain(&c, &none(), Some(pin_of(&c, 1))).unwrap();
        assert_eq!(a.sources, vec![TrustSource::Pin]);
        // Not a replacement: only the pin recorded after a pass moves.
        assert_eq!(a.new_pin, None);
        assert_eq!(a.pin, pin_of(&c, 3));
        assert_eq!(a.pin.version, 3);
    }

    #[test]
    fn an_older_chain_than_the_pinned_version_is_a_rollback() {
        let c = three_versions();
        let mut old = c.clone();
        old.versions.truncate(2);
        old.steps.truncate(1);
        assert_eq!(
            accept_chain(&old, &none(), Some(pin_of(&c, 3))),
            Err(Untrusted::ChainRolledBack {
                pinned: pin_of(&c, 3),
                fetched: pin_of(&c, 2),
            })
        );
        // A never-rotated site, pinned at version 3 before: also rollback.
        let one = PolicyChain::single(c.versions[0].clone());
        assert!(matches!(
            accept_chain(&one, &none(), Some(pin_of(&c, 3))),
            Err(Untrusted::ChainRolledBack { .. })
        ));
        // A pin outside the chain at or below its newest version: another
        // chain, the changed-policy failure it always was.
        let other = Pin {
            sha256: d(7),
            version: 2,
        };
        assert_eq!(
            accept_chain(&c, &none(), Some(other)),
            Err(Untrusted::PinChanged {
                pinned: d(7),
                fetched: c.newest().sha256
            })
        );
        // --replace-pin with a pin that holds replaces a rolled-back pin.
        let keys = fps(&[1, 2, 3]);
        let replace = Pins {
            keys: &keys,
            min_threshold: Some(2),
            replace_pin: true,
            ..none()
        };
        let a = accept_chain(&old, &replace, Some(pin_of(&c, 3))).unwrap();
        assert_eq!(a.new_pin, Some(old.newest().sha256));
    }

    #[test]
    fn keys_and_policy_file_anchor_anywhere_in_the_chain() {
        let c = three_versions();
        // Version 1's keys: version 1's threshold (2) meets the majority.
        let keys = fps(&[1, 2, 3]);
        let pins = Pins {
            keys: &keys,
            ..none()
        };
        let a = accept_chain(&c, &pins, None).unwrap();
        assert_eq!(a.sources, vec![TrustSource::Keys]);
        assert_eq!(a.new_pin, Some(c.newest().sha256));
        assert_eq!(a.pin.version, 3);
        // Versions 2 and 3 share a signer set: the newest (3, 1 of 3) is the
        // one whose threshold counts, and it is too low.
        let keys = fps(&[4, 2, 1]);
        let pins = Pins {
            keys: &keys,
            ..none()
        };
        assert_eq!(
            accept_chain(&c, &pins, None),
            Err(Untrusted::ThresholdTooLow {
                threshold: 1,
                minimum: 2
            })
        );
        // No version has these keys: the difference is the newest's.
        let keys = fps(&[1, 2, 9]);
        let pins = Pins {
            keys: &keys,
            ..none()
        };
        assert_eq!(
            accept_chain(&c, &pins, None),
            Err(Untrusted::KeysDiffer {
                missing: fps(&[9]),
                extra: fps(&[4]),
            })
        );
        // --policy: any version of the chain; another policy is refused.
        let v2 = c.versions[1].clone();
        let file = Pins {
            policy: Some(&v2),
            ..none()
        };
        let a = accept_chain(&c, &file, None).unwrap();
        assert_eq!(a.sources, vec![TrustSource::PolicyFile]);
        let stranger = policy(&[1, 2], 2);
        let file = Pins {
            policy: Some(&stranger),
            ..none()
        };
        assert_eq!(
            accept_chain(&c, &file, None),
            Err(Untrusted::FileDiffers {
                file: stranger.sha256,
                fetched: c.newest().sha256
            })
        );
    }

    #[test]
    fn the_pin_advances_only_when_the_whole_run_passes() {
        use crate::verify::{Class, Finding, Problem, Report, Verdict};
        let c = three_versions();
        let mut rec = record(2, d(2));
        rec.policy_sha256 = c.versions[0].sha256;
        let accepted = accept_chain(&c, &none(), Some(rec.pin())).unwrap();
        let report = |failure: Option<Class>| Report {
            verdict: if failure.is_some() {
                Verdict::Tripped
            } else {
                Verdict::Valid
            },
            failure,
            now: Timestamp::from_unix(0),
            policy: crate::verify::PolicySummary::of(c.newest()),
            policy_chain: None,
            canaries: 2,
            checkpoint: None,
            chain_intact: true,
            latest: None,
            failures: failure
                .into_iter()
                .map(|class| Finding {
                    class,
                    canary: Some(2),
                    problem: Problem::LatestMissing,
                })
                .collect(),
            warnings: vec![],
            incidents: None,
        };
        assert_eq!(
            remembered_pin(&report(None), &accepted, Some(&rec)),
            pin_of(&c, 3)
        );
        // TRIPPED under a followed chain: the canary may be remembered,
        // the pin stays where it was.
        assert_eq!(
            remembered_pin(&report(Some(Class::Tripped)), &accepted, Some(&rec)),
            rec.pin()
        );
        let now = Timestamp::from_unix(1_800_000_000);
        let r = updated_record(Some(&rec), pin_of(&c, 3), &seen(&[(2, 2), (3, 3)]), now);
        assert_eq!((r.policy_sha256, r.policy_version), (c.newest().sha256, 3));
        assert_eq!(r.pinned_at, now);
    }

    #[test]
    fn concurrent_runs_following_one_chain_keep_the_later_version() {
        let c = three_versions();
        let hashes: Vec<Sha256Digest> = c.versions.iter().map(|v| v.sha256).collect();
        let now = Timestamp::from_unix(1_800_000_000);
        let s = seen(&[(1, 1), (2, 2)]);
        let at = |version: usize, n: u64| SiteRecord {
            policy_sha256: hashes[version - 1],
            policy_version: version as u64,
            ..record(n, d(n as u8))
        };
        // This run follows 1 → 3 while another followed 1 → 2: version 3.
        let r = merge_record(
            Some(&at(1, 1)),
            Some(&at(2, 1)),
            pin_of(&c, 3),
            &hashes,
            &s,
            now,
        )
        .unwrap();
        assert_eq!(r.pin(), pin_of(&c, 3));
        // This run keeps version 1 (it failed on content) while another
        // moved the pin to 3: the pin never goes back.
        let r = merge_record(
            Some(&at(1, 1)),
            Some(&at(3, 1)),
            pin_of(&c, 1),
            &hashes,
            &s,
            now,
        )
        .unwrap();
        assert_eq!(r.pin(), pin_of(&c, 3));
        // A pin outside the chain written meanwhile is still kept.
        let stranger = SiteRecord {
            policy_sha256: d(8),
            ..record(1, d(1))
        };
        assert_eq!(
            merge_record(
                Some(&at(1, 1)),
                Some(&stranger),
                pin_of(&c, 3),
                &hashes,
                &s,
                now
            ),
            Err(Concurrent::PinChanged {
                pinned: d(8),
                trusted: hashes[2]
            })
        );
    }

    #[test]
    fn policy_version_is_left_out_at_one_and_kept_above() {
        let mut s = State::default();
        s.sites
            .insert("https://example.org/".into(), record(3, d(3)));
        let one = s.to_json();
        assert!(!String::from_utf8_lossy(&one).contains("policy_version"));
        let mut rec = record(3, d(3));
        rec.policy_version = 3;
        s.sites.insert("https://example.org/".into(), rec.clone());
        let three = s.to_json();
        let text = String::from_utf8(three.clone()).unwrap();
        assert!(text.contains("\"policy_version\": 3"), "{text}");
        assert_eq!(
            State::parse(&three).unwrap().sites["https://example.org/"],
            rec
        );
        // A file written before rotations parses with version 1.
        let old = State::parse(&one).unwrap();
        assert_eq!(old.sites["https://example.org/"].policy_version, 1);
    }

    #[test]
    fn chain_files_are_under_keys() {
        let s = SiteUrls::resolve("https://example.org/sub").unwrap();
        assert_eq!(
            s.chain_file(ChainFile::FirstPolicy),
            "https://example.org/sub/keys/policy.1.json"
        );
        assert_eq!(
            s.chain_file(ChainFile::Rotation(12)),
            "https://example.org/sub/keys/rotation.12.json"
        );
    }

    /// The checkpoint moves only forward along one chain, and a record
    /// without one keeps its bytes.
    #[test]
    fn the_checkpoint_moves_forward_and_is_left_out_when_absent() {
        let t0 = Timestamp::from_unix(1_800_000_000);
        let mut rec = record(3, d(3));
        let bytes = serde_json::to_vec(&rec).unwrap();
        assert!(!String::from_utf8(bytes).unwrap().contains("checkpoint"));
        let seen = |n: u64| Seen {
            sequence: n,
            payload_sha256: d(n as u8),
            history: BTreeMap::new(),
        };
        advance_checkpoint(&mut rec, &seen(3), d(0), t0);
        assert_eq!(rec.checkpoint.unwrap().sequence, 3);
        // A slower run that verified less does not move it back…
        advance_checkpoint(&mut rec, &seen(2), d(0), t0);
        assert_eq!(rec.checkpoint.unwrap().sequence, 3);
        // …unless under another chain (then the old one is of no use).
        advance_checkpoint(&mut rec, &seen(2), d(9), t0);
        assert_eq!(
            (
                rec.checkpoint.unwrap().sequence,
                rec.checkpoint.unwrap().policy_sha256
            ),
            (2, d(9))
        );
        // A remembered run that did not pass carries it unchanged.
        let kept = updated_record(Some(&rec), p1(d(9)), &seen(5), t0);
        assert_eq!(kept.checkpoint, rec.checkpoint);
        assert_eq!(kept.sequence, 5);
        let back = SiteRecord::deserialize(&serde_json::to_value(&kept).unwrap()).unwrap();
        assert_eq!(back, kept);
    }
}
