//! Human-readable text for reports and statements. Every string that came
//! from a file is passed through [`crate::sanitize`] here. Styles are ANSI
//! codes that the output stream strips when colour is off.

use std::fmt::Write as _;

use crate::diff::Change;
use crate::freshness::Freshness;
use crate::statement::Statement;
use crate::style::{paint, BAD, BOLD, DIM, OK, WARN};
use crate::timefmt::human_duration;
use crate::verify::{Class, LatestSummary, Report, Verdict};

use crate::sanitize::{line, rendered_line};

const CLASSES: [(Class, &str); 10] = [
    (Class::Signature, "signatures"),
    (Class::Threshold, "threshold"),
    (Class::Policy, "policy"),
    (Class::History, "history"),
    (Class::Rollback, "rollback"),
    (Class::Tripped, "statements"),
    (Class::Expired, "expiry"),
    (Class::NotYetValid, "issue date"),
    (Class::Freshness, "freshness proof"),
    (Class::IncidentLog, "incident log"),
];

/// Where a report verified by URL came from, for [`remote_report`].
#[derive(Debug, Clone)]
pub struct RemoteSource {
    /// The site root URL.
    pub site: String,
    /// How the policy came to be trusted, in words.
    pub trust: String,
    /// The incident log, if the site has one: URL, sha256, size.
    pub incidents: Option<(String, crate::digest::Sha256Digest, usize)>,
    /// What the rollback check compared against, in words.
    pub seen_before: String,
}

/// The verification report a journalist reads.
pub fn report(r: &Report, policy_source: &str) -> String {
    report_from(r, policy_source, None)
}

/// The report of a verification by URL: the same report, naming the site
/// and the trust decision, with the rollback check (which only a
/// verification that remembers earlier runs can make).
pub fn remote_report(r: &Report, policy_source: &str, remote: &RemoteSource) -> String {
    report_from(r, policy_source, Some(remote))
}

fn report_from(r: &Report, policy_source: &str, remote: Option<&RemoteSource>) -> String {
    let mut o = headline(r);
    o.push('\n');
    o.push_str(&newest_canary(r));
    if let Some(rs) = remote {
        let _ = writeln!(o, "  Site         {}", line(&rs.site));
    }
    o.push_str(&trust(r, policy_source, remote));
    o.push_str(&rotations(r));
    o.push_str(&history_line(r));
    if let Some(l) = &r.latest {
        o.push('\n');
        o.push_str(&content(l));
    }
    if let Some(s) = &r.incidents {
        o.push_str(&incidents(s));
    }
    o.push('\n');
    o.push_str(&checks(r, remote));
    o
}

/// Whose canary, and the verdict in one line.
fn headline(r: &Report) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "Warrant canary of {} ({})",
        paint(BOLD, &r.policy.org.to_string()),
        line(&r.policy.domain)
    );
    let _ = writeln!(
        o,
        "{} (as of {})",
        verdict_line(r.verdict, r.failure),
        r.now
    );
    o
}

/// The newest canary's number, dates and signers, when it is authentic.
/// "VALID: every check holds", "TRIPPED: …", "NOT VALID: the X check
/// failed": the verdict line of our own and of foreign canaries' reports.
pub(crate) fn verdict_line(verdict: Verdict, failure: Option<Class>) -> String {
    let word = match verdict {
        Verdict::Valid => paint(OK, "VALID"),
        Verdict::Tripped => paint(BAD, "TRIPPED"),
        Verdict::Invalid => paint(BAD, "NOT VALID"),
    };
    let why = match (verdict, failure) {
        (Verdict::Valid, _) => "every check holds".to_string(),
        (Verdict::Tripped, _) => {
            "a statement was removed or reworded: read this as the signal the canary exists to give"
                .to_string()
        }
        (_, Some(c)) => format!("{} check failed", c.label()),
        _ => String::new(),
    };
    format!("{word}: {why}")
}

fn newest_canary(r: &Report) -> String {
    let mut o = String::new();
    let Some(l) = &r.latest else {
        let _ = writeln!(
            o,
            "  The newest canary could not be authenticated; nothing it says is shown."
        );
        return o;
    };
    let signed: Vec<String> = l.signed_by.iter().map(|s| line(&s.name)).collect();
    let _ = writeln!(
        o,
        "  Canary       {} (sha256 {})",
        l.sequence,
        l.sha256.short()
    );
    let _ = writeln!(o, "  Issued       {}", l.issued_at);
    let expiry = if l.expires_in_seconds > 0 {
        format!(
            "{} ({})",
            l.expires_at,
            human_duration(l.expires_in_seconds)
        )
    } else {
        let ago = format!("expired {}", human_duration(l.expires_in_seconds));
        format!("{} ({})", l.expires_at, paint(BAD, &ago))
    };
    let _ = writeln!(o, "  Expires      {expiry}");
    let _ = writeln!(
        o,
        "  Signed by    {} ({} of {} signers, {} required)",
        if signed.is_empty() {
            "nobody".into()
        } else {
            signed.join(", ")
        },
        l.signed_by.len(),
        r.policy.signers.len(),
        r.policy.threshold
    );
    o
}

/// The policy, every signer's fingerprint, and (by URL) why it is trusted.
fn trust(r: &Report, policy_source: &str, remote: Option<&RemoteSource>) -> String {
    let mut o = String::new();
    // In full, with every signer's fingerprint: a reader compares these
    // with ones obtained independently (a short prefix could be matched).
    let _ = writeln!(
        o,
        "  Policy       {} v{} (sha256 {})",
        rendered_line(policy_source),
        r.policy.version,
        r.policy.sha256
    );
    for (i, s) in r.policy.signers.iter().enumerate() {
        let _ = writeln!(
            o,
            "  {:<12} {:<12} {}",
            if i == 0 { "Signers" } else { "" },
            line(&s.name),
            line(&s.fingerprint)
        );
    }
    if let Some(rs) = remote {
        let _ = writeln!(o, "  Trust        {}", rendered_line(&rs.trust));
        if let Some((url, digest, len)) = &rs.incidents {
            let _ = writeln!(
                o,
                "  Incidents    {} ({} bytes, sha256 {})",
                line(url),
                len,
                digest.short()
            );
        }
    }
    o
}

/// Revoked keys, and how the policy reached its newest version: each
/// rotation's changes, who signed it, and its signed explanation (the
/// organisation's words, escaped). Nothing for a policy never rotated.
fn rotations(r: &Report) -> String {
    let mut o = String::new();
    for (i, k) in r.policy.revoked.iter().enumerate() {
        let _ = writeln!(
            o,
            "  {:<12} {:<12} {} (compromised from {})",
            if i == 0 { "Revoked" } else { "" },
            line(&k.name),
            line(&k.fingerprint),
            k.compromised_at
        );
    }
    let Some(chain) = &r.policy_chain else {
        return o;
    };
    let _ = writeln!(o, "  Rotations    v1 (sha256 {})", chain.first_sha256);
    for step in &chain.rotations {
        let names = |v: &[String]| v.iter().map(|n| line(n)).collect::<Vec<_>>().join(", ");
        let _ = writeln!(
            o,
            "               → v{} (sha256 {}), signed by {} of v{} and {} of v{}",
            step.version,
            step.sha256,
            names(&step.signed_by_previous),
            step.version.saturating_sub(1),
            names(&step.signed_by),
            step.version
        );
        for c in &step.changes {
            let _ = writeln!(o, "                   {c}");
        }
        for l in step.explanation.block().lines() {
            let _ = writeln!(o, "                   | {l}");
        }
    }
    o
}

fn history_line(r: &Report) -> String {
    // A continuation says what it did not verify again, and how to.
    let skipped = match &r.checkpoint {
        Some(cp) if cp.canaries_skipped > 0 => format!(
            " verified now, from canary {} (the state file's checkpoint; the {} before it were verified by earlier runs, --full verifies them again)",
            cp.sequence, cp.canaries_skipped
        ),
        Some(cp) => format!(" verified now, from canary {} (the state file's checkpoint)", cp.sequence),
        None => String::new(),
    };
    format!(
        "  History      {} canar{}{skipped}, chain {}\n",
        r.canaries,
        if r.canaries == 1 { "y" } else { "ies" },
        if r.chain_intact {
            "intact"
        } else if r.failed(Class::History) {
            "BROKEN"
        } else {
            "not verifiable (a canary could not be authenticated)"
        }
    )
}

/// What the newest authentic canary says: statements, announcements,
/// changes, proof of freshness.
fn content(l: &LatestSummary) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "{}", paint(BOLD, "Statements"));
    for c in &l.statements {
        let _ = writeln!(
            o,
            "  - {} {}",
            paint(DIM, &format!("[{}]", line(&c.id))),
            c.text
        );
    }
    let _ = writeln!(o, "{}", paint(BOLD, "Special announcements"));
    if l.announcements.is_empty() {
        let _ = writeln!(o, "  none");
    }
    for a in &l.announcements {
        let _ = writeln!(o, "  - {}", a.block().replace('\n', "\n    "));
    }
    if !l.changes.is_empty() {
        let _ = writeln!(o, "{}", paint(BOLD, "Changes since the previous canary"));
        o.push_str(&changes(&l.changes));
    }
    match &l.freshness {
        Some(f) => o.push_str(&freshness(f, "  ")),
        None => {
            let _ = writeln!(o, "{}", paint(BOLD, "Proof of freshness"));
            let _ = writeln!(o, "  none");
        }
    }
    o
}

/// The Checks section: one line per class (ok, not checked, or each
/// failure), then the warnings.
fn checks(r: &Report, remote: Option<&RemoteSource>) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "{}", paint(BOLD, "Checks"));
    for (class, name) in CLASSES {
        let fails: Vec<_> = r.failures.iter().filter(|f| f.class == class).collect();
        if fails.is_empty() {
            if let Some(status) = passed_check(r, class, remote) {
                let _ = writeln!(o, "  {status} {name}{}", status_note(r, class, remote));
            }
            continue;
        }
        let tag = if class == Class::Tripped {
            "TRIP"
        } else {
            "FAIL"
        };
        for f in fails {
            let _ = writeln!(o, "  {} {name}: {}", paint(BAD, tag), f.message());
        }
    }
    for w in &r.warnings {
        let _ = writeln!(o, "  {} {}", paint(WARN, "warn"), w.message());
    }
    o
}

/// How a check with no failure is shown: `ok`, `--` (not evaluated or
/// nothing to check), or not at all (rollback, except by URL).
fn passed_check(r: &Report, class: Class, remote: Option<&RemoteSource>) -> Option<String> {
    if class == Class::Rollback {
        // Only a verification by URL remembers what it saw before.
        return remote.map(|_| paint(OK, "ok  "));
    }
    if status_note(r, class, remote).is_empty() {
        Some(paint(OK, "ok  "))
    } else {
        Some(paint(DIM, "--  "))
    }
}

/// Why a check without failure is not simply `ok` (empty when it is), or
/// what the rollback check compared with.
fn status_note(r: &Report, class: Class, remote: Option<&RemoteSource>) -> String {
    let no_proof = r.latest.as_ref().is_some_and(|l| l.freshness.is_none());
    match class {
        Class::Rollback => remote.map_or(String::new(), |rs| {
            format!(" ({})", rendered_line(&rs.seen_before))
        }),
        Class::IncidentLog if r.incidents.is_none() => " (none published)".into(),
        Class::IncidentLog | Class::Signature | Class::Threshold | Class::History => String::new(),
        _ if r.latest.is_none() => " (not checked: no authentic canary)".into(),
        Class::Freshness if no_proof && !r.policy.freshness.required() => {
            " (none carried; the policy requires none)".into()
        }
        _ => String::new(),
    }
}

/// The incident log: what is signed, on-going incidents, component status.
pub fn incidents(s: &crate::incidents::Summary) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "{}", paint(BOLD, "Incident log"));
    let signed = match s.signed_by_canary {
        Some(k) => format!("{} signed (canary {k})", s.signed_entries),
        None => "none signed".into(),
    };
    let unsigned = if s.unsigned_entries > 0 {
        format!(
            ", {}",
            paint(WARN, &format!("{} NOT YET SIGNED", s.unsigned_entries))
        )
    } else {
        String::new()
    };
    let _ = writeln!(
        o,
        "  {} entr{}: {signed}{unsigned}",
        s.entries,
        if s.entries == 1 { "y" } else { "ies" }
    );
    if s.ongoing.is_empty() {
        let _ = writeln!(o, "  On-going incidents: none");
    } else {
        let _ = writeln!(o, "  On-going incidents:");
    }
    for i in &s.ongoing {
        let mut notes = Vec::new();
        if !i.signed {
            notes.push(paint(WARN, "not yet signed"));
        }
        if i.unsigned_updates > 0 {
            notes.push(format!("{} update(s) not yet signed", i.unsigned_updates));
        }
        let notes = if notes.is_empty() {
            String::new()
        } else {
            format!(" ({})", notes.join("; "))
        };
        let _ = writeln!(
            o,
            "    - {} {}: since {}, affecting {}{notes}",
            paint(BAD, &line(&i.id)),
            i.title,
            i.started_at,
            i.components
                .iter()
                .map(|c| line(c))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if !s.components.is_empty() {
        let _ = writeln!(o, "  Components:");
        o.push_str(&components(&s.components, "    "));
    }
    o
}

/// Each component's status, names aligned.
pub fn components(status: &[crate::incidents::ComponentStatus], indent: &str) -> String {
    use crate::incidents::Status;
    let width = status
        .iter()
        .map(|c| line(&c.name).chars().count())
        .max()
        .unwrap_or(0);
    let mut o = String::new();
    for c in status {
        let name = line(&c.name);
        let pad = " ".repeat(width - name.chars().count());
        let what = match c.status {
            Status::Operational => paint(OK, "operational"),
            Status::Affected => paint(
                BAD,
                &format!(
                    "affected by on-going incident {}",
                    c.affected_by
                        .iter()
                        .map(|i| line(i))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
        };
        let _ = writeln!(o, "{indent}{name}{pad}  {what}");
    }
    o
}

/// Statement changes, trips first and loud.
pub fn changes(changes: &[Change]) -> String {
    let mut o = String::new();
    for c in changes {
        let _ = match c {
            Change::Removed { id, text } => writeln!(
                o,
                "  {} statement [{}] \"{}\"",
                paint(BAD, "REMOVED"),
                line(id),
                text
            ),
            Change::Reworded { id, old, new } => writeln!(
                o,
                "  {} statement [{}]\n      was: \"{}\"\n      now: \"{}\"",
                paint(BAD, "REWORDED"),
                line(id),
                old,
                new
            ),
            Change::Added { id, text } => {
                writeln!(o, "  added statement [{}] \"{}\"", line(id), text)
            }
            Change::AnnouncementAdded { text } => {
                writeln!(o, "  new announcement: \"{}\"", text)
            }
            Change::AnnouncementRemoved { text } => {
                writeln!(o, "  announcement dropped: \"{}\"", text)
            }
        };
    }
    o
}

/// A statement as a signer reviews it before signing.
pub fn statement(st: &Statement) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "  Organisation {} ({})", st.org, st.domain);
    let _ = writeln!(o, "  Canary       {}", st.sequence);
    let _ = writeln!(o, "  Issued       {}", st.issued_at);
    let _ = writeln!(o, "  Expires      {}", st.expires_at);
    let _ = writeln!(
        o,
        "  Previous     {}",
        st.previous_sha256
            .map(|d| d.to_string())
            .unwrap_or_else(|| "none (first canary)".into())
    );
    let _ = writeln!(o, "  Policy       {}", st.policy_sha256);
    if let Some(l) = &st.incident_log {
        let _ = writeln!(
            o,
            "  Incident log {} entr{}{}",
            l.entries,
            if l.entries == 1 { "y" } else { "ies" },
            l.head_sha256
                .map(|h| format!(" (head {h})"))
                .unwrap_or_default()
        );
    }
    let _ = writeln!(o, "  Statements:");
    for (i, c) in st.statements.iter().enumerate() {
        let _ = writeln!(o, "    {}. [{}] {}", i + 1, line(&c.id), c.text);
    }
    let _ = writeln!(o, "  Special announcements:");
    if st.announcements.is_empty() {
        let _ = writeln!(o, "    none");
    }
    for a in &st.announcements {
        let _ = writeln!(o, "    - {}", a.block().replace('\n', "\n      "));
    }
    match &st.freshness {
        Some(f) => o.push_str(&freshness(f, "    ")),
        None => {
            let _ = writeln!(o, "  Proof of freshness: none");
        }
    }
    o
}

/// A proof of freshness: the block and every headline, for a reader to judge
/// against the news of that day. Everything in it is untrusted text.
pub fn freshness(f: &Freshness, indent: &str) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{}",
        paint(
            BOLD,
            &format!(
                "{}Proof of freshness (fetched {}, sha256 {})",
                &indent[..indent.len().saturating_sub(2)],
                f.fetched_at,
                f.sha256.short()
            )
        )
    );
    match &f.block {
        Some(b) => {
            let _ = writeln!(
                o,
                "{indent}Bitcoin block {} {} (time {}, from {})",
                b.height,
                line(&b.hash),
                b.time,
                b.explorers
                    .iter()
                    .map(|e| line(e))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        None => {
            let _ = writeln!(o, "{indent}Bitcoin block: none");
        }
    }
    for feed in &f.feeds {
        let _ = writeln!(o, "{indent}Headlines from {}", feed.url);
        for h in &feed.headlines {
            let when = h
                .published
                .map(|t| t.to_string())
                .unwrap_or_else(|| "(undated)".into());
            let _ = writeln!(o, "{indent}  - {when:<20}  {}", h.title);
            if let Some(link) = &h.link {
                let _ = writeln!(
                    o,
                    "{indent}    {:<20}  {}",
                    "",
                    paint(DIM, &link.to_string())
                );
            }
        }
    }
    if !f.failed_sources.is_empty() {
        let _ = writeln!(o, "{indent}Sources that failed");
        for s in &f.failed_sources {
            let _ = writeln!(
                o,
                "{indent}  - {} {}: {}",
                s.url,
                paint(WARN, s.problem.as_str()),
                s.detail
            );
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::freshness::{Feed, Headline};
    use crate::timefmt::Timestamp;

    #[test]
    fn headlines_are_sanitized_for_the_terminal() {
        let f = Freshness::new(
            Timestamp::from_unix(1_743_544_800),
            vec![Feed {
                url: "https://n.example/\u{1b}]8;;x".into(),
                headlines: vec![Headline {
                    title: "Evil \u{1b}[2J\u{202e}txet".into(),
                    link: Some("https://n.example/\u{7}".into()),
                    published: None,
                }],
            }],
            None,
            vec![],
        );
        let out = freshness(&f, "  ");
        // (Styles are ANSI codes of our own; the feed's are escaped.)
        assert!(!out.contains("\u{1b}[2J") && !out.contains("\u{1b}]8"));
        assert!(!out.contains('\u{202e}') && !out.contains('\u{7}'));
        assert!(out.contains("Evil \\u{001b}[2J\\u{202e}txet"), "{out}");
        assert!(out.contains("(undated)"));
        assert!(out.contains("Bitcoin block: none"));
    }
}
