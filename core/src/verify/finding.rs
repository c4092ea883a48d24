//! What a verification found, as typed values: a [`Finding`] is the class
//! it counts against, the canary it is about, and a [`Problem`] holding the
//! data (which file, which key, which entry). The words are written once,
//! in `Problem`'s `Display`, and rendered only when a report is shown or
//! serialised.

use std::fmt;

use serde::ser::{Serialize, SerializeStruct, Serializer};

use crate::digest::Sha256Digest;
use crate::envelope::STATEMENT_PAYLOAD_TYPE;
use crate::freshness::{OnlineProblem, ProofProblem};
use crate::incidents::ChainProblem;
use crate::sanitize::{line, Untrusted};
use crate::timefmt::{human_duration, Timestamp};

use super::Class;

/// One failed check, or a warning (which never changes the verdict).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub class: Class,
    /// The canary's sequence number (file number) it is about, if any.
    pub canary: Option<u64>,
    pub problem: Problem,
}

impl Finding {
    /// A finding about `canary`, counted against the problem's class.
    pub fn new(canary: Option<u64>, problem: Problem) -> Self {
        Finding {
            class: problem.class(),
            canary,
            problem,
        }
    }

    /// The finding in words, safe for a terminal.
    pub fn message(&self) -> String {
        self.problem.to_string()
    }
}

/// In JSON: `class`, `canary`, `kind` (the problem's name) and `message`.
impl Serialize for Finding {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Finding", 4)?;
        st.serialize_field("class", &self.class)?;
        st.serialize_field("canary", &self.canary)?;
        st.serialize_field("kind", self.problem.kind())?;
        st.serialize_field("message", &self.message())?;
        st.end()
    }
}

/// Everything verification can find wrong, with the data it is about.
/// `file` fields are already escaped names (`canaries/0003.json` or a URL).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    // --- signature ---
    /// The envelope's payload type is not the v1 statement type.
    PayloadType {
        file: String,
        found: String,
    },
    /// A signature under a policy signer's key id does not verify.
    BadSignature {
        file: String,
        signer: String,
    },
    /// Signatures under key ids the policy does not list (a warning).
    UnknownKeys {
        file: String,
        keyids: Vec<String>,
    },
    // --- threshold ---
    BelowThreshold {
        file: String,
        signed_by: Vec<String>,
        required: usize,
        /// Extra valid signatures by a key already counted.
        duplicates: usize,
    },
    /// A signature by a key its policy chain revoked as compromised at or
    /// before the canary's issue time: not counted. A warning while the
    /// threshold still holds without it, a threshold failure when not.
    RevokedKey {
        file: String,
        signer: String,
        compromised_at: Timestamp,
    },
    // --- policy ---
    /// Signed under another policy than the trusted one.
    OtherPolicy {
        file: String,
        signed_under: Sha256Digest,
        trusted: Sha256Digest,
    },
    /// Issued for another organisation or domain.
    OtherOrg {
        file: String,
        org: Untrusted,
        domain: Untrusted,
        policy_org: Untrusted,
        policy_domain: String,
    },
    /// Valid for longer than the policy's cadence.
    ValidityOverCadence {
        file: String,
        days: i64,
        cadence_days: u32,
    },
    /// Signed under an older policy version than the canary before it:
    /// a rotation is never undone by a later canary.
    PolicyWentBack {
        canary: u64,
        version: u64,
        previous_version: u64,
    },
    /// The newest canary is not signed under the newest policy version
    /// (the policy was rotated and the canary after it was withheld, or a
    /// canary under the old keys was published after the rotation).
    NotNewestPolicy {
        canary: u64,
        version: u64,
        newest: u64,
    },
    // --- history ---
    /// Canaries `first..=last` are missing.
    Missing {
        first: u64,
        last: u64,
    },
    Duplicate {
        number: u64,
    },
    /// File `NNNN.json` holds canary `holds`.
    Renumbered {
        number: u64,
        holds: u64,
    },
    /// Canary `canary` does not name canary `canary - 1`'s hash.
    BrokenLink {
        canary: u64,
        names: Option<Sha256Digest>,
        actual: Sha256Digest,
    },
    /// Canary `canary` is not issued after the one before.
    NotAfter {
        canary: u64,
        issued_at: Timestamp,
        previous_issued_at: Timestamp,
    },
    LatestMissing,
    /// `latest.json` is not the newest canary: an older one (named), or
    /// none of the history's.
    LatestNotNewest {
        older: Option<String>,
        newest: String,
    },
    /// Canary `canary` came after canary `canary - 1` had expired (a
    /// warning: there was a window with no valid canary).
    RenewedLate {
        canary: u64,
        gap_seconds: i64,
    },
    // --- rollback (verification by URL) ---
    /// The site shows an older canary than one seen before.
    Rollback {
        shown: u64,
        shown_sha256: Sha256Digest,
        seen: Seen,
    },
    /// The same number, other bytes.
    Equivocation {
        shown: u64,
        shown_sha256: Sha256Digest,
        seen: Seen,
    },
    /// A newer canary on a history whose canary `seen.sequence` differs.
    HistoryRewritten {
        found: Option<Sha256Digest>,
        seen: Seen,
    },
    // --- incident log ---
    IncidentLog(ChainProblem),
    // --- TRIPPED ---
    StatementRemoved {
        canary: u64,
        id: String,
        text: Untrusted,
    },
    StatementReworded {
        canary: u64,
        id: String,
        old: Untrusted,
        new: Untrusted,
    },
    // --- freshness ---
    Freshness {
        canary: u64,
        problem: ProofProblem,
    },
    /// What `--online` found (a failure or, see [`OnlineProblem::is_failure`],
    /// a warning).
    Online {
        canary: u64,
        problem: OnlineProblem,
    },
    /// `--online`, but the canary records no block (a warning).
    NoBlockToCheck {
        canary: u64,
    },
    // --- time ---
    Expired {
        canary: u64,
        expires_at: Timestamp,
        now: Timestamp,
    },
    IssuedInFuture {
        canary: u64,
        issued_at: Timestamp,
        now: Timestamp,
    },
}

/// A canary seen at a site before (from the state file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    pub sequence: u64,
    pub sha256: Sha256Digest,
    pub at: Timestamp,
}

impl Problem {
    /// The failure class the problem counts against (docs/FORMAT.md,
    /// "Verification").
    pub fn class(&self) -> Class {
        use Problem::*;
        match self {
            PayloadType { .. } | BadSignature { .. } | UnknownKeys { .. } => Class::Signature,
            BelowThreshold { .. } | RevokedKey { .. } => Class::Threshold,
            OtherPolicy { .. }
            | OtherOrg { .. }
            | ValidityOverCadence { .. }
            | PolicyWentBack { .. }
            | NotNewestPolicy { .. } => Class::Policy,
            Missing { .. }
            | Duplicate { .. }
            | Renumbered { .. }
            | BrokenLink { .. }
            | NotAfter { .. }
            | LatestMissing
            | LatestNotNewest { .. } => Class::History,
            Rollback { .. } | Equivocation { .. } | HistoryRewritten { .. } => Class::Rollback,
            IncidentLog(_) => Class::IncidentLog,
            StatementRemoved { .. } | StatementReworded { .. } => Class::Tripped,
            Freshness { .. } | Online { .. } | NoBlockToCheck { .. } => Class::Freshness,
            RenewedLate { .. } | Expired { .. } => Class::Expired,
            IssuedInFuture { .. } => Class::NotYetValid,
        }
    }

    /// The problem's name in JSON (`kind`), kebab-case.
    pub fn kind(&self) -> &'static str {
        use Problem::*;
        match self {
            PayloadType { .. } => "payload-type",
            BadSignature { .. } => "bad-signature",
            UnknownKeys { .. } => "unknown-keys",
            BelowThreshold { .. } => "below-threshold",
            RevokedKey { .. } => "revoked-key",
            OtherPolicy { .. } => "other-policy",
            PolicyWentBack { .. } => "policy-went-back",
            NotNewestPolicy { .. } => "not-newest-policy",
            OtherOrg { .. } => "other-org",
            ValidityOverCadence { .. } => "validity-over-cadence",
            Missing { .. } => "missing",
            Duplicate { .. } => "duplicate",
            Renumbered { .. } => "renumbered",
            BrokenLink { .. } => "broken-link",
            NotAfter { .. } => "not-after-previous",
            LatestMissing => "latest-missing",
            LatestNotNewest { .. } => "latest-not-newest",
            RenewedLate { .. } => "renewed-late",
            Rollback { .. } => "rollback",
            Equivocation { .. } => "equivocation",
            HistoryRewritten { .. } => "history-rewritten",
            IncidentLog(_) => "incident-log",
            StatementRemoved { .. } => "statement-removed",
            StatementReworded { .. } => "statement-reworded",
            Freshness { .. } => "freshness",
            Online { .. } => "online",
            NoBlockToCheck { .. } => "no-block-to-check",
            Expired { .. } => "expired",
            IssuedInFuture { .. } => "issued-in-future",
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One group of rows at a time: each words its own problems.
        let groups = [
            authenticity_words,
            history_words,
            rollback_words,
            content_words,
        ];
        for words in groups {
            if let Some(done) = words(self, f) {
                return done;
            }
        }
        // Every problem is worded above; the name is a readable fallback.
        f.write_str(self.kind())
    }
}

/// Rows signature, threshold and policy.
fn authenticity_words(p: &Problem, f: &mut fmt::Formatter<'_>) -> Option<fmt::Result> {
    use Problem::*;
    Some(match p {
        PayloadType { file, found } => write!(
            f,
            "{file}: payload type is `{}`, expected `{STATEMENT_PAYLOAD_TYPE}`",
            line(found)
        ),
        BadSignature { file, signer } => write!(
            f,
            "{file}: the signature attributed to {signer} does not verify (file altered or forged)"
        ),
        UnknownKeys { file, keyids } => write!(
            f,
            "{file}: {} signature(s) by keys not in the policy were ignored ({})",
            keyids.len(),
            keyids
                .iter()
                .map(|k| line(k))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        BelowThreshold {
            file,
            signed_by,
            required,
            duplicates,
        } => below_threshold(f, file, signed_by, *required, *duplicates),
        RevokedKey {
            file,
            signer,
            compromised_at,
        } => write!(
            f,
            "{file}: the signature by {signer} does not count: that key was revoked as compromised from {compromised_at}"
        ),
        PolicyWentBack {
            canary,
            version,
            previous_version,
        } => write!(
            f,
            "canary {canary} is signed under policy version {version}, older than version {previous_version} of the canary before it"
        ),
        NotNewestPolicy {
            canary,
            version,
            newest,
        } => write!(
            f,
            "the newest canary ({canary}) is signed under policy version {version}, but the policy is at version {newest}"
        ),
        OtherPolicy {
            file,
            signed_under,
            trusted,
        } => write!(
            f,
            "{file}: signed under policy {}, but the trusted policy is {}",
            signed_under.short(),
            trusted.short()
        ),
        OtherOrg {
            file,
            org,
            domain,
            policy_org,
            policy_domain,
        } => write!(
            f,
            "{file}: issued for `{org}` ({domain}), but the policy is for `{policy_org}` ({policy_domain})"
        ),
        ValidityOverCadence {
            file,
            days,
            cadence_days,
        } => write!(
            f,
            "{file}: valid for {days} days, longer than the policy's cadence of {cadence_days} days"
        ),
        _ => return None,
    })
}

/// Row history (and the late-renewal warning).
fn history_words(p: &Problem, f: &mut fmt::Formatter<'_>) -> Option<fmt::Result> {
    use Problem::*;
    Some(match p {
        Missing { first, last } if first == last => write!(f, "canary {first} is missing"),
        Missing { first, last } => write!(f, "canaries {first} to {last} are missing"),
        Duplicate { number } => write!(f, "canary {number} appears twice"),
        Renumbered { number, holds } => write!(
            f,
            "file {number:04}.json holds canary {holds} (renamed or reordered)"
        ),
        BrokenLink {
            canary,
            names,
            actual,
        } => write!(
            f,
            "canary {canary} does not link to canary {prev}: it names {} as its predecessor, but canary {prev} is {} (replaced or altered)",
            names.map(|d| d.short()).unwrap_or_else(|| "none".into()),
            actual.short(),
            prev = canary - 1,
        ),
        NotAfter {
            canary,
            issued_at,
            previous_issued_at,
        } => write!(
            f,
            "canary {canary} is issued at {issued_at}, not after canary {} ({previous_issued_at})",
            canary - 1
        ),
        LatestMissing => f.write_str("latest.json is missing"),
        LatestNotNewest { older, newest } => match older {
            Some(name) => write!(
                f,
                "latest.json is an older canary ({name}), not the newest canary {newest}"
            ),
            None => write!(
                f,
                "latest.json is none of the history's canaries, not the newest canary {newest}"
            ),
        },
        RenewedLate {
            canary,
            gap_seconds,
        } => write!(
            f,
            "canary {canary} was issued {} after canary {} had expired: there was a gap with no valid canary",
            human_duration(*gap_seconds).trim_start_matches("in "),
            canary - 1
        ),
        _ => return None,
    })
}

/// Row rollback (verification by URL).
fn rollback_words(p: &Problem, f: &mut fmt::Formatter<'_>) -> Option<fmt::Result> {
    use Problem::*;
    Some(match p {
        Rollback {
            shown,
            shown_sha256,
            seen,
        } => write!(
            f,
            "ROLLBACK: the site now shows canary {shown} (sha256 {}), but canary {} (sha256 {}) was seen there at {}: an older canary is being served in place of a newer one",
            shown_sha256.short(),
            seen.sequence,
            seen.sha256.short(),
            seen.at
        ),
        Equivocation {
            shown,
            shown_sha256,
            seen,
        } => write!(
            f,
            "EQUIVOCATION: canary {shown} is now sha256 {}, but a different canary {} (sha256 {}) was seen there at {}: two different canaries carry the same number",
            shown_sha256.short(),
            seen.sequence,
            seen.sha256.short(),
            seen.at
        ),
        HistoryRewritten { found, seen } => write!(
            f,
            "EQUIVOCATION: the history's canary {} is {}, but canary {} (sha256 {}) was seen there at {}: the history was rewritten",
            seen.sequence,
            found.map_or("missing".into(), |d| format!("sha256 {}", d.short())),
            seen.sequence,
            seen.sha256.short(),
            seen.at
        ),
        _ => return None,
    })
}

/// Rows incident log, TRIPPED, freshness, expired, not yet valid.
fn content_words(p: &Problem, f: &mut fmt::Formatter<'_>) -> Option<fmt::Result> {
    use Problem::*;
    Some(match p {
        IncidentLog(p) => write!(f, "{p}"),
        StatementRemoved { canary, id, text } => write!(
            f,
            "statement `{id}` was REMOVED in canary {canary}: \"{text}\""
        ),
        StatementReworded {
            canary,
            id,
            old,
            new,
        } => write!(
            f,
            "statement `{id}` was REWORDED in canary {canary}: was \"{old}\", now \"{new}\""
        ),
        Freshness { canary, problem } => write!(f, "canary {canary}: {problem}"),
        Online { canary, problem } if problem.is_failure() => {
            write!(f, "canary {canary}: {problem}")
        }
        Online { problem, .. } => write!(f, "{problem}"),
        NoBlockToCheck { canary } => write!(
            f,
            "--online: canary {canary} records no Bitcoin block to check"
        ),
        Expired {
            canary,
            expires_at,
            now,
        } => write!(
            f,
            "canary {canary} expired at {expires_at} ({})",
            human_duration(now.seconds_until(*expires_at))
        ),
        IssuedInFuture {
            canary,
            issued_at,
            now,
        } => write!(
            f,
            "canary {canary} claims to be issued at {issued_at}, which is in the future ({})",
            human_duration(now.seconds_until(*issued_at))
        ),
        _ => return None,
    })
}

fn below_threshold(
    f: &mut fmt::Formatter<'_>,
    file: &str,
    signed_by: &[String],
    required: usize,
    duplicates: usize,
) -> fmt::Result {
    write!(
        f,
        "{file}: {} valid signature(s) from distinct policy keys, {required} required",
        signed_by.len()
    )?;
    if !signed_by.is_empty() {
        write!(f, " (signed by {})", signed_by.join(", "))?;
    }
    if duplicates > 0 {
        write!(
            f,
            "; {duplicates} repeated signature(s) by the same key not counted"
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One problem of each group of rows, word for word (the messages
    /// users and scripts have read since v1), with their class and kind.
    #[test]
    fn each_group_words_its_problems() {
        let d = Sha256Digest::of(b"x");
        let at = Timestamp::from_unix(1_767_225_600); // 2026-01-01
        let cases = [
            (
                Problem::BelowThreshold {
                    file: "canaries/0002.json".into(),
                    signed_by: vec!["alice".into()],
                    required: 2,
                    duplicates: 1,
                },
                Class::Threshold,
                "canaries/0002.json: 1 valid signature(s) from distinct policy keys, 2 required (signed by alice); 1 repeated signature(s) by the same key not counted",
            ),
            (
                Problem::Missing { first: 2, last: 3 },
                Class::History,
                "canaries 2 to 3 are missing",
            ),
            (
                Problem::Rollback {
                    shown: 1,
                    shown_sha256: d,
                    seen: Seen {
                        sequence: 2,
                        sha256: d,
                        at,
                    },
                },
                Class::Rollback,
                "ROLLBACK: the site now shows canary 1 (sha256 2d711642b726), but canary 2 (sha256 2d711642b726) was seen there at 2026-01-01T00:00:00Z: an older canary is being served in place of a newer one",
            ),
            (
                Problem::StatementRemoved {
                    canary: 3,
                    id: "no-warrants".into(),
                    text: "No \u{202e}warrants.".into(),
                },
                Class::Tripped,
                "statement `no-warrants` was REMOVED in canary 3: \"No \\u{202e}warrants.\"",
            ),
        ];
        for (problem, class, words) in cases {
            assert_eq!(problem.class(), class);
            assert_eq!(problem.to_string(), words);
            let json = serde_json::to_value(Finding::new(Some(1), problem.clone())).unwrap();
            assert_eq!(json["kind"], problem.kind());
            assert_eq!(json["message"], words);
        }
    }
}
