//! The verification rules: a pure function from bytes and a time to a report.
//!
//! A failed verification is a value (a [`Report`] whose findings say what
//! failed), not an `Err`; `Err` is kept for input that cannot be read at all.
//! Each canary is authenticated (payload type, strict signatures, threshold
//! counted per distinct policy key) *before* its payload is parsed.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::diff::{self, Change};
use crate::digest::Sha256Digest;
use crate::envelope::{Envelope, STATEMENT_PAYLOAD_TYPE};
use crate::freshness::{self, Freshness, Requirement};
use crate::json::JsonError;
use crate::policy::TrustedPolicy;
use crate::statement::{Claim, Statement};
use crate::timefmt::{human_duration, Timestamp};

/// Allowed clock skew for an issued-at time in the future (five minutes).
pub const CLOCK_SKEW_SECS: i64 = 300;

/// Failure classes, in the order that decides the exit code when several
/// fail: authenticity first (nothing an unauthenticated canary says
/// counts), then the integrity of what was published around it, then the
/// trip signal, then the proof that the canary is not pre-signed, then time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    Signature,
    Threshold,
    Policy,
    History,
    /// A site served an older canary than one seen before, or a different
    /// canary under a number already seen (docs/FORMAT.md, "Remote
    /// verification and local state"). Checked only when verifying by URL.
    Rollback,
    /// The incident log is not the one the canaries committed to.
    IncidentLog,
    Tripped,
    /// The proof of freshness does not hold (docs/FORMAT.md, "Freshness").
    Freshness,
    Expired,
    NotYetValid,
}

impl Class {
    pub fn label(self) -> &'static str {
        match self {
            Class::Signature => "signature",
            Class::Threshold => "threshold",
            Class::Policy => "policy",
            Class::History => "history",
            Class::Rollback => "rollback",
            Class::Tripped => "TRIPPED",
            Class::Expired => "expired",
            Class::NotYetValid => "not yet valid",
            Class::Freshness => "freshness",
            Class::IncidentLog => "incident log",
        }
    }
}

/// One failed check, or a warning (which never changes the verdict).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub class: Class,
    /// The canary's sequence number (file number) it is about, if any.
    pub canary: Option<u64>,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Valid,
    Tripped,
    Invalid,
}

#[derive(Debug, Clone, Serialize)]
pub struct SignerSummary {
    pub name: String,
    pub fingerprint: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PolicySummary {
    pub sha256: Sha256Digest,
    pub version: u64,
    pub org: String,
    pub domain: String,
    pub threshold: usize,
    pub cadence_days: u32,
    pub signers: Vec<SignerSummary>,
    pub freshness: Requirement,
}

/// What the newest authenticated canary says.
#[derive(Debug, Clone, Serialize)]
pub struct LatestSummary {
    pub sequence: u64,
    pub sha256: Sha256Digest,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
    /// Seconds from "now" to expiry (negative once expired).
    pub expires_in_seconds: i64,
    pub signed_by: Vec<SignerSummary>,
    pub statements: Vec<Claim>,
    pub announcements: Vec<String>,
    /// Changes against the canary before it (empty for the first).
    pub changes: Vec<Change>,
    /// The embedded proof of freshness, for the reader to judge.
    pub freshness: Option<Freshness>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub verdict: Verdict,
    /// The class that decides the exit code, if not valid.
    pub failure: Option<Class>,
    pub now: Timestamp,
    pub policy: PolicySummary,
    pub canaries: usize,
    pub chain_intact: bool,
    pub latest: Option<LatestSummary>,
    pub failures: Vec<Finding>,
    pub warnings: Vec<Finding>,
    /// The incident log, when one is published or committed to.
    pub incidents: Option<crate::incidents::Summary>,
}

impl Report {
    pub fn failed(&self, class: Class) -> bool {
        self.failures.iter().any(|f| f.class == class)
    }
}

/// A canary file as read from a directory or a server.
#[derive(Debug, Clone)]
pub struct CanaryFile {
    /// Where it came from, for messages (`canaries/0003.json`).
    pub name: String,
    /// The number in its file name.
    pub number: u64,
    pub bytes: Vec<u8>,
}

/// Input that cannot be verified at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    #[error("no canaries to verify")]
    Empty,
    /// A canary file that cannot be read; `name` already says where it is.
    #[error("{name}: {source}")]
    Malformed { name: String, source: JsonError },
}

/// Signature evaluation of one envelope against a policy.
#[derive(Debug, Clone, Default)]
pub struct SignatureCheck {
    /// Distinct policy signers whose signature verifies, in policy order.
    pub valid: Vec<String>,
    /// Signers named by key id whose signature does not verify.
    pub invalid: Vec<String>,
    /// Key ids not in the policy.
    pub unknown: Vec<String>,
    /// Extra valid signatures by a key already counted.
    pub duplicates: usize,
}

/// Checks every signature of `env` against the policy's keys. Key ids only
/// select the key to try; a signature counts once per distinct key.
pub fn check_signatures(env: &Envelope, policy: &TrustedPolicy) -> SignatureCheck {
    let msg = env.signed_bytes();
    let mut out = SignatureCheck::default();
    let mut counted = BTreeSet::new();
    // Each fingerprint once: the envelope may carry thousands of key ids.
    let by_keyid: BTreeMap<String, &crate::policy::Signer> = policy
        .policy
        .signers
        .iter()
        .rev() // the first signer wins, as in `Policy::signer_by_keyid`
        .map(|s| (s.key.fingerprint(), s))
        .collect();
    for s in &env.signatures {
        match by_keyid.get(s.keyid.as_str()).copied() {
            None => out.unknown.push(crate::sanitize::line(&s.keyid)),
            Some(signer) if signer.key.verify(&msg, &s.sig) => {
                if counted.insert(signer.key.to_bytes()) {
                    out.valid.push(signer.name.clone());
                } else {
                    out.duplicates += 1;
                }
            }
            Some(signer) => out.invalid.push(signer.name.clone()),
        }
    }
    let order = |n: &String| policy.policy.signers.iter().position(|s| &s.name == n);
    out.valid.sort_by_key(order);
    out
}

#[derive(Default)]
struct Findings {
    failures: Vec<Finding>,
    warnings: Vec<Finding>,
}

impl Findings {
    fn fail(&mut self, class: Class, canary: Option<u64>, message: String) {
        self.failures.push(Finding {
            class,
            canary,
            message,
        });
    }
}

struct Entry {
    number: u64,
    digest: Sha256Digest,
    statement: Option<Statement>,
    signed_by: Vec<String>,
}

/// Everything a verification looks at.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    pub policy: &'a TrustedPolicy,
    /// The published canaries, in any order.
    pub files: &'a [CanaryFile],
    /// The content of the `latest.json` pointer, if one exists.
    pub latest: Option<&'a [u8]>,
    /// The single "now" every time check uses.
    pub now: Timestamp,
    /// The incident log (`incidents.jsonl`) published beside the canaries,
    /// if there is one.
    pub incident_log: Option<&'a [u8]>,
}

/// Verifies a whole history.
pub fn verify(input: Input<'_>) -> Result<Report, VerifyError> {
    let Input {
        policy,
        files,
        latest,
        now,
        incident_log,
    } = input;
    if files.is_empty() {
        return Err(VerifyError::Empty);
    }
    let mut files: Vec<&CanaryFile> = files.iter().collect();
    files.sort_by_key(|f| f.number);

    let mut out = Findings::default();
    let p = &policy.policy;

    // 1. Authenticate each canary, then parse what was authenticated.
    let mut entries = Vec::with_capacity(files.len());
    for f in &files {
        let env = Envelope::parse(&f.bytes).map_err(|source| VerifyError::Malformed {
            name: f.name.clone(),
            source,
        })?;
        if env.review.is_some() || !env.text_signatures.is_empty() {
            return Err(VerifyError::Malformed {
                name: f.name.clone(),
                source: JsonError(
                    "a published canary must not carry a draft's `review` copy or `textSignatures`"
                        .into(),
                ),
            });
        }
        let n = Some(f.number);
        let mut entry = Entry {
            number: f.number,
            digest: env.payload_digest(),
            statement: None,
            signed_by: Vec::new(),
        };
        if env.payload_type != STATEMENT_PAYLOAD_TYPE {
            out.fail(
                Class::Signature,
                n,
                format!(
                    "{}: payload type is `{}`, expected `{STATEMENT_PAYLOAD_TYPE}`",
                    f.name,
                    crate::sanitize::line(&env.payload_type)
                ),
            );
            entries.push(entry);
            continue;
        }
        let sigs = check_signatures(&env, policy);
        for name in &sigs.invalid {
            out.fail(
                Class::Signature,
                n,
                format!("{}: the signature attributed to {name} does not verify (file altered or forged)", f.name),
            );
        }
        if !sigs.unknown.is_empty() {
            out.warnings.push(Finding {
                class: Class::Signature,
                canary: n,
                message: format!(
                    "{}: {} signature(s) by keys not in the policy were ignored ({})",
                    f.name,
                    sigs.unknown.len(),
                    sigs.unknown.join(", ")
                ),
            });
        }
        if sigs.valid.len() < p.threshold {
            let mut msg = format!(
                "{}: {} valid signature(s) from distinct policy keys, {} required",
                f.name,
                sigs.valid.len(),
                p.threshold
            );
            if !sigs.valid.is_empty() {
                msg.push_str(&format!(" (signed by {})", sigs.valid.join(", ")));
            }
            if sigs.duplicates > 0 {
                msg.push_str(&format!(
                    "; {} repeated signature(s) by the same key not counted",
                    sigs.duplicates
                ));
            }
            out.fail(Class::Threshold, n, msg);
            entries.push(entry);
            continue;
        }
        let st = Statement::parse(&env.payload).map_err(|e| VerifyError::Malformed {
            name: f.name.clone(),
            source: JsonError(format!("signed payload is not a valid v1 statement: {e}")),
        })?;
        if st.policy_sha256 != policy.sha256 {
            out.fail(
                Class::Policy,
                n,
                format!(
                    "{}: signed under policy {}, but the trusted policy is {}",
                    f.name,
                    st.policy_sha256.short(),
                    policy.sha256.short()
                ),
            );
        }
        if st.org != p.org || st.domain != p.domain {
            out.fail(
                Class::Policy,
                n,
                format!(
                    "{}: issued for `{}` ({}), but the policy is for `{}` ({})",
                    f.name,
                    crate::sanitize::line(&st.org),
                    crate::sanitize::line(&st.domain),
                    crate::sanitize::line(&p.org),
                    p.domain
                ),
            );
        }
        let validity = st.issued_at.seconds_until(st.expires_at);
        if validity > i64::from(p.cadence_days) * 86_400 {
            out.fail(
                Class::Policy,
                n,
                format!(
                    "{}: valid for {} days, longer than the policy's cadence of {} days",
                    f.name,
                    validity / 86_400,
                    p.cadence_days
                ),
            );
        }
        entry.signed_by = sigs.valid;
        entry.statement = Some(st);
        entries.push(entry);
    }

    // 2. History: consecutive numbers from 1, each linked to the one before.
    let history_failures_before = out.failures.len();
    let mut expected = 1u64;
    for e in &entries {
        if e.number > expected {
            let missing = if e.number - expected == 1 {
                format!("canary {expected} is missing")
            } else {
                format!("canaries {expected} to {} are missing", e.number - 1)
            };
            out.fail(Class::History, Some(e.number), missing);
        } else if e.number < expected {
            out.fail(
                Class::History,
                Some(e.number),
                format!("canary {} appears twice", e.number),
            );
        }
        expected = e.number.saturating_add(1);
        if let Some(st) = &e.statement {
            if st.sequence != e.number {
                out.fail(
                    Class::History,
                    Some(e.number),
                    format!(
                        "file {:04}.json holds canary {} (renamed or reordered)",
                        e.number, st.sequence
                    ),
                );
            }
        }
    }
    for pair in entries.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let (Some(sa), Some(sb)) = (&a.statement, &b.statement) else {
            continue;
        };
        if a.number.checked_add(1) != Some(b.number) {
            continue;
        }
        if sb.previous_sha256 != Some(a.digest) {
            out.fail(
                Class::History,
                Some(b.number),
                format!(
                    "canary {} does not link to canary {}: it names {} as its predecessor, but canary {} is {} (replaced or altered)",
                    b.number,
                    a.number,
                    sb.previous_sha256.map(|d| d.short()).unwrap_or_else(|| "none".into()),
                    a.number,
                    a.digest.short()
                ),
            );
        }
        if sb.issued_at <= sa.issued_at {
            out.fail(
                Class::History,
                Some(b.number),
                format!(
                    "canary {} is issued at {}, not after canary {} ({})",
                    b.number, sb.issued_at, a.number, sa.issued_at
                ),
            );
        }
        if sb.issued_at > sa.expires_at {
            out.warnings.push(Finding {
                class: Class::Expired,
                canary: Some(b.number),
                message: format!(
                    "canary {} was issued {} after canary {} had expired: there was a gap with no valid canary",
                    b.number,
                    human_duration(sa.expires_at.seconds_until(sb.issued_at)).trim_start_matches("in "),
                    a.number
                ),
            });
        }
        for c in diff::changes(sa, sb).into_iter().filter(Change::trips) {
            let message = match c {
                Change::Removed { id, text } => format!(
                    "statement `{id}` was REMOVED in canary {}: \"{}\"",
                    b.number,
                    crate::sanitize::line(&text)
                ),
                Change::Reworded { id, old, new } => format!(
                    "statement `{id}` was REWORDED in canary {}: was \"{}\", now \"{}\"",
                    b.number,
                    crate::sanitize::line(&old),
                    crate::sanitize::line(&new)
                ),
                _ => unreachable!("filtered to trips"),
            };
            out.fail(Class::Tripped, Some(b.number), message);
        }
    }
    let newest = entries.last().expect("non-empty");
    match latest {
        None => out.fail(Class::History, None, "latest.json is missing".into()),
        Some(bytes) => {
            let newest_file = files.last().expect("non-empty");
            if bytes != newest_file.bytes.as_slice() {
                // It may not be a canary at all (garbage, another file).
                let which = files
                    .iter()
                    .find(|f| f.bytes.as_slice() == bytes)
                    .map(|f| format!("an older canary ({})", f.name))
                    .unwrap_or_else(|| "none of the history's canaries".into());
                out.fail(
                    Class::History,
                    None,
                    format!(
                        "latest.json is {which}, not the newest canary {}",
                        newest_file.name
                    ),
                );
            }
        }
    }
    let chain_intact = out.failures[history_failures_before..]
        .iter()
        .all(|f| f.class != Class::History)
        && entries.iter().all(|e| e.statement.is_some());

    // 3. The newest canary, as of `now`.
    let mut latest_summary = None;
    if let Some(st) = &newest.statement {
        let n = Some(newest.number);
        if now >= st.expires_at {
            out.fail(
                Class::Expired,
                n,
                format!(
                    "canary {} expired at {} ({})",
                    newest.number,
                    st.expires_at,
                    human_duration(now.seconds_until(st.expires_at))
                ),
            );
        }
        if now.seconds_until(st.issued_at) > CLOCK_SKEW_SECS {
            out.fail(
                Class::NotYetValid,
                n,
                format!(
                    "canary {} claims to be issued at {}, which is in the future ({})",
                    newest.number,
                    st.issued_at,
                    human_duration(now.seconds_until(st.issued_at))
                ),
            );
        }
        // Only the newest canary's proof matters: it is the one that must
        // not have been written in advance.
        for problem in freshness::check(st.freshness.as_ref(), &p.freshness, st.issued_at) {
            out.fail(
                Class::Freshness,
                n,
                format!("canary {}: {problem}", newest.number),
            );
        }
        let changes = entries
            .iter()
            .rev()
            .nth(1)
            .and_then(|prev| prev.statement.as_ref())
            .filter(|_| entries.len() >= 2)
            .map(|prev| diff::changes(prev, st))
            .unwrap_or_default();
        latest_summary = Some(LatestSummary {
            sequence: newest.number,
            sha256: newest.digest,
            issued_at: st.issued_at,
            expires_at: st.expires_at,
            expires_in_seconds: now.seconds_until(st.expires_at),
            signed_by: newest
                .signed_by
                .iter()
                .filter_map(|n| p.signers.iter().find(|s| &s.name == n))
                .map(summary)
                .collect(),
            statements: st.statements.clone(),
            announcements: st.announcements.clone(),
            changes,
            freshness: st.freshness.clone(),
        });
    }

    // 4. The incident log against what each authentic canary committed to.
    let commitments: Vec<crate::incidents::Commitment> = entries
        .iter()
        .filter_map(|e| {
            e.statement.as_ref().map(|st| crate::incidents::Commitment {
                canary: e.number,
                log: st.incident_log,
            })
        })
        .collect();
    let log = crate::incidents::check(incident_log, &commitments, now);
    for (canary, message) in log.failures {
        out.fail(Class::IncidentLog, canary, message);
    }
    for (canary, message) in log.warnings {
        out.warnings.push(Finding {
            class: Class::IncidentLog,
            canary,
            message,
        });
    }

    let Findings {
        mut failures,
        warnings,
    } = out;
    failures.sort_by_key(|f| f.class);
    let (verdict, failure) = outcome(&failures);
    Ok(Report {
        verdict,
        failure,
        now,
        policy: PolicySummary {
            sha256: policy.sha256,
            version: p.version,
            org: p.org.clone(),
            domain: p.domain.clone(),
            threshold: p.threshold,
            cadence_days: p.cadence_days,
            signers: p.signers.iter().map(summary).collect(),
            freshness: p.freshness,
        },
        canaries: entries.len(),
        chain_intact,
        latest: latest_summary,
        failures,
        warnings,
        incidents: log.summary,
    })
}

/// The verdict and deciding class of a sorted list of failures.
fn outcome(failures: &[Finding]) -> (Verdict, Option<Class>) {
    let failure = failures.first().map(|f| f.class);
    let verdict = match failure {
        None => Verdict::Valid,
        Some(Class::Tripped) => Verdict::Tripped,
        // An authentic canary that also tripped reads as tripped, whatever
        // else (expiry) is wrong with it.
        Some(_) if failures.iter().any(|f| f.class == Class::Tripped) => Verdict::Tripped,
        Some(_) => Verdict::Invalid,
    };
    (verdict, failure)
}

/// Adds failures found by a rule outside [`verify`] (e.g. the rollback rule
/// of [`crate::remote::check_seen`]) and recomputes the verdict.
pub fn add_failures(report: &mut Report, findings: impl IntoIterator<Item = Finding>) {
    report.failures.extend(findings);
    report.failures.sort_by_key(|f| f.class);
    (report.verdict, report.failure) = outcome(&report.failures);
}

fn summary(s: &crate::policy::Signer) -> SignerSummary {
    SignerSummary {
        name: s.name.clone(),
        fingerprint: s.key.fingerprint(),
    }
}

#[cfg(test)]
mod tests {
    use super::Class::*;

    /// Key ids are looked up, not compared with every signer's freshly
    /// computed fingerprint: a policy with thousands of signers (a site's,
    /// trusted on first use, or the verified folder's) and a canary with
    /// tens of thousands of bogus key ids took minutes per canary file.
    #[test]
    fn many_key_ids_against_many_signers_stay_cheap() {
        use crate::envelope::{Envelope, Signature, STATEMENT_PAYLOAD_TYPE};
        use crate::keys::SecretKey;
        use crate::policy::{Policy, Signer, TrustedPolicy};
        let signers: Vec<Signer> = (0..2_000u32)
            .map(|i| {
                let mut seed = [0u8; 32];
                seed[..4].copy_from_slice(&i.to_le_bytes());
                Signer {
                    name: format!("s{i}"),
                    key: SecretKey::from_seed(&seed).public(),
                }
            })
            .collect();
        let trusted = TrustedPolicy {
            policy: Policy {
                version: 1,
                org: "Example".into(),
                domain: "example.org".into(),
                threshold: 1,
                cadence_days: 90,
                signers,
                freshness: crate::freshness::Requirement::NONE,
            },
            sha256: crate::digest::Sha256Digest::of(b"policy"),
        };
        let mut env = Envelope::new(STATEMENT_PAYLOAD_TYPE, b"{}".to_vec());
        env.signatures = (0..20_000)
            .map(|i| Signature {
                keyid: format!("SHA256:{i}"),
                sig: Vec::new(),
            })
            .collect();
        let start = std::time::Instant::now();
        let c = super::check_signatures(&env, &trusted);
        assert_eq!(c.unknown.len(), 20_000);
        // Generous for a debug build on a busy machine; it was ~100 times
        // longer.
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "{:?}",
            start.elapsed()
        );
    }

    /// The exit-code priority documented in docs/FORMAT.md ("Verification").
    #[test]
    fn failure_classes_are_ordered_as_documented() {
        let documented = [
            Signature,
            Threshold,
            Policy,
            History,
            Rollback,
            IncidentLog,
            Tripped,
            Freshness,
            Expired,
            NotYetValid,
        ];
        assert!(documented.windows(2).all(|w| w[0] < w[1]));
    }
}
