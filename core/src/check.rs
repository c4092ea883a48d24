//! `canary check`: the pure rules on top of a verification report (no I/O).
//!
//! * [`due_soon`]: the "publish the next canary soon" warning;
//! * [`compare_with_repository`]: whether a published site shows exactly the
//!   repository's latest canary;
//! * [`findings`]: one line per finding, the unit of `check`'s output;
//! * [`github_annotation`]: a GitHub Actions workflow command for a finding,
//!   escaped so untrusted text cannot end it or start another.

use serde::Serialize;

use crate::digest::Sha256Digest;
use crate::sanitize;
use crate::timefmt::{human_duration, Timestamp};
use crate::verify::{Class, Report};

/// Default `--warn-days`.
pub const DEFAULT_WARN_DAYS: u32 = 14;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    Error,
    Warning,
}

/// One line of `canary check`'s output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckFinding {
    pub level: Level,
    /// A short stable name: a verification class (`expired`, `tripped`, …),
    /// `due-soon`, `site-not-redeployed`, `site-differs`, `site-ahead`.
    pub kind: String,
    /// One line, untrusted text already escaped for a terminal.
    pub message: String,
}

/// The "due soon" finding, when the latest canary is still valid but
/// expires within `warn_days` days of `now` (the boundary included).
pub fn due_soon(report: &Report, warn_days: u32, now: Timestamp) -> Option<CheckFinding> {
    if report.failure.is_some() {
        return None;
    }
    let latest = report.latest.as_ref()?;
    let left = now.seconds_until(latest.expires_at);
    if left <= 0 || left > i64::from(warn_days) * 86_400 {
        return None;
    }
    Some(CheckFinding {
        level: Level::Warning,
        kind: "due-soon".into(),
        message: format!(
            "canary {} of {} expires at {} ({}), within the {warn_days}-day warning window: publish canary {} before then",
            latest.sequence,
            report.policy.org,
            latest.expires_at,
            human_duration(left),
            latest.sequence + 1
        ),
    })
}

/// What a site shows and what the repository has, for the comparison.
#[derive(Debug, Clone, Copy)]
pub struct Latest<'a> {
    pub sequence: u64,
    pub payload_sha256: Sha256Digest,
    /// The exact bytes of the latest envelope.
    pub bytes: &'a [u8],
}

/// Compares the site's latest canary with the repository's. They must be
/// byte-identical; each way they can differ is a named error finding.
pub fn compare_with_repository(site: Latest<'_>, repo: Latest<'_>) -> Option<CheckFinding> {
    if site.bytes == repo.bytes {
        return None;
    }
    let (kind, message) = if site.sequence < repo.sequence {
        (
            "site-not-redeployed",
            format!(
                "the site still shows canary {}, the repository has canary {}: rebuild and deploy the site",
                site.sequence, repo.sequence
            ),
        )
    } else if site.sequence > repo.sequence {
        (
            "site-ahead",
            format!(
                "site ahead of the repository: site shows canary {}, repository has canary {} (published from elsewhere, or this checkout is old)",
                site.sequence, repo.sequence
            ),
        )
    } else if site.payload_sha256 != repo.payload_sha256 {
        (
            "site-differs",
            format!(
                "site differs from the repository: both show canary {}, but the site's is sha256 {} and the repository's sha256 {}",
                site.sequence,
                site.payload_sha256.short(),
                repo.payload_sha256.short()
            ),
        )
    } else {
        (
            "site-differs",
            format!(
                "site differs from the repository: canary {} has the same statement but other signatures or encoding (the site's file is not byte-identical to the repository's latest)",
                site.sequence
            ),
        )
    };
    Some(CheckFinding {
        level: Level::Error,
        kind: kind.into(),
        message,
    })
}

/// The overall result of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Fresh,
    DueSoon,
    /// A check failed; the class decides the exit code. A site that is not
    /// byte-identical to the repository counts as [`Class::Rollback`] (it
    /// shows another canary than the newest its publisher has), and the
    /// earlier class in [`Class`]'s order wins, as in `verify`.
    Failed(Class),
}

pub fn outcome(report: &Report, repo: Option<&CheckFinding>, due: bool) -> Outcome {
    let repo_class = repo.map(|_| Class::Rollback);
    match (report.failure, repo_class) {
        (Some(a), Some(b)) => Outcome::Failed(a.min(b)),
        (Some(c), None) | (None, Some(c)) => Outcome::Failed(c),
        (None, None) if due => Outcome::DueSoon,
        (None, None) => Outcome::Fresh,
    }
}

/// The stable kind of a verification finding (`expired`, `tripped`, …).
pub fn class_kind(c: Class) -> &'static str {
    match c {
        Class::Signature => "signature",
        Class::Threshold => "threshold",
        Class::Policy => "policy",
        Class::History => "history",
        Class::Rollback => "rollback",
        Class::Tripped => "tripped",
        Class::Expired => "expired",
        Class::NotYetValid => "not-yet-valid",
        Class::Freshness => "freshness",
        Class::IncidentLog => "incident-log",
    }
}

/// Every finding of a check, errors first: the repository comparison, the
/// report's failures, its warnings, then the due-soon warning.
pub fn findings(
    report: &Report,
    repo: Option<CheckFinding>,
    due: Option<CheckFinding>,
) -> Vec<CheckFinding> {
    let mut out: Vec<CheckFinding> = repo.into_iter().collect();
    for f in &report.failures {
        out.push(CheckFinding {
            level: Level::Error,
            kind: class_kind(f.class).into(),
            message: sanitize::rendered_line(&f.message()),
        });
    }
    for f in &report.warnings {
        out.push(CheckFinding {
            level: Level::Warning,
            kind: class_kind(f.class).into(),
            message: sanitize::rendered_line(&f.message()),
        });
    }
    out.extend(due);
    out
}

/// One line of plain output: `error: expired: canary 3 expired …`.
pub fn plain_line(f: &CheckFinding) -> String {
    let level = match f.level {
        Level::Error => "error",
        Level::Warning => "warning",
    };
    format!("{level}: {}: {}", f.kind, sanitize::line(&f.message))
}

/// Escapes the message of a workflow command: `%`, CR and LF (GitHub's
/// rules), so the text stays one command on one line.
pub fn escape_data(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes a property value of a workflow command: as [`escape_data`], and
/// also `:` and `,`, which end a property.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// `::error title=canary: expired::message` (or `::warning …`).
pub fn github_annotation(f: &CheckFinding) -> String {
    let cmd = match f.level {
        Level::Error => "error",
        Level::Warning => "warning",
    };
    format!(
        "::{cmd} title={}::{}",
        escape_property(&format!("canary {}", f.kind)),
        escape_data(&f.message)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_command_escaping() {
        assert_eq!(escape_data("50% done\r\nnext"), "50%25 done%0D%0Anext");
        assert_eq!(escape_data("%0A"), "%250A");
        assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");
        let f = CheckFinding {
            level: Level::Warning,
            kind: "due-soon".into(),
            message: "x\n::error::forged\r\n%0A::error::also".into(),
        };
        let a = github_annotation(&f);
        assert_eq!(
            a,
            "::warning title=canary due-soon::x%0A::error::forged%0D%0A%250A::error::also"
        );
        assert_eq!(a.lines().count(), 1);
    }

    #[test]
    fn repository_comparison_names_the_difference() {
        let (a, b) = (Sha256Digest::of(b"a"), Sha256Digest::of(b"b"));
        let l = |sequence, payload_sha256, bytes| Latest {
            sequence,
            payload_sha256,
            bytes,
        };
        assert!(compare_with_repository(l(3, a, b"x"), l(3, a, b"x")).is_none());
        let f = compare_with_repository(l(3, a, b"x"), l(4, b, b"y")).unwrap();
        assert_eq!(
            f.message,
            "the site still shows canary 3, the repository has canary 4: rebuild and deploy the site"
        );
        assert_eq!(
            (f.level, f.kind.as_str()),
            (Level::Error, "site-not-redeployed")
        );
        let f = compare_with_repository(l(5, a, b"x"), l(4, b, b"y")).unwrap();
        assert!(f.message.starts_with("site ahead"), "{}", f.message);
        let f = compare_with_repository(l(4, a, b"x"), l(4, b, b"y")).unwrap();
        assert!(f.message.starts_with("site differs"), "{}", f.message);
        let f = compare_with_repository(l(4, a, b"x"), l(4, a, b"y")).unwrap();
        assert!(f.message.contains("byte-identical"), "{}", f.message);
    }
}
