//! The static site: a pure function from a verified, published history to
//! the list of files a web server serves (docs/USAGE-site.md). Writing the
//! files (atomically) and uploading them happens in `cmd/site.rs`.
//!
//! The order of [`build`]'s result is the upload order: history, keys and
//! pages first, then `canaries/latest.json`, and the `.well-known` pointer
//! last, so a reader who follows the pointer never finds a file missing.

use std::fmt::Write as _;

use atom_syndication::{Content, Entry, Feed, Generator, Link, Person, Text};
use chrono::{FixedOffset, TimeZone, Utc};
use serde::Serialize;

use crate::diff::{self, Change};
use crate::digest::Sha256Digest;
use crate::policy::TrustedPolicy;
use crate::sanitize;
use crate::statement::Statement;
use crate::textsig::{self, TextSignatures};
use crate::timefmt::{human_duration, Timestamp};
use crate::verify::{Class, Report, Verdict};

/// Where the latest bundle is published for discovery.
pub const WELL_KNOWN: &str = ".well-known/warrant-canary.json";

const INDEX_TEMPLATE: &str = include_str!("../templates/index.html");

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SiteError {
    #[error("canary {0} has no plain-text canary and signatures (it was published before text signatures existed); publish a new canary first")]
    NoText(u64),
    #[error(
        "canary {number}: the {kind} signature of canary.txt by {signer} does not hold: {problem}"
    )]
    BadTextSignature {
        number: u64,
        signer: String,
        kind: &'static str,
        problem: String,
    },
    #[error("canary {number}: canary.txt is signed by {have} signer(s), {need} required")]
    TooFewTextSignatures {
        number: u64,
        have: usize,
        need: usize,
    },
    #[error("the history does not verify ({0}); a site is built only from a history that does")]
    Unverified(String),
    #[error("could not render {0}: {1}")]
    Render(&'static str, String),
}

/// The plain-text canary of one published canary and its signatures.
#[derive(Debug, Clone)]
pub struct TextRecord {
    pub text: Vec<u8>,
    /// (policy signer name, signatures), in policy order.
    pub signatures: Vec<(String, TextSignatures)>,
}

/// One published canary, authenticated by the caller's verification.
#[derive(Debug, Clone)]
pub struct PublishedCanary {
    pub number: u64,
    /// The exact bytes of `canaries/NNNN.json`.
    pub json: Vec<u8>,
    pub statement: Statement,
    pub payload_sha256: Sha256Digest,
    pub text: Option<TextRecord>,
}

/// Everything the site is built from.
#[derive(Debug, Clone, Copy)]
pub struct SiteInput<'a> {
    /// The exact bytes of `keys/policy.json`.
    pub policy_bytes: &'a [u8],
    pub policy: &'a TrustedPolicy,
    /// The whole history, sorted by number.
    pub canaries: &'a [PublishedCanary],
    /// The exact bytes of `canaries/latest.json`.
    pub latest_json: &'a [u8],
    /// `canaries/incidents.jsonl`, copied as is when it exists.
    pub incidents: Option<&'a [u8]>,
    /// The verification of this history as of the build time.
    pub report: &'a Report,
    /// Absolute URL the site is served from, ending in `/` (feed links).
    pub base_url: &'a str,
}

/// One file of the site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteFile {
    /// Relative path with `/` separators.
    pub path: String,
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
}

/// The status badge, computed at build time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Badge {
    Valid,
    ExpiringSoon,
    Expired,
    Tripped,
}

impl Badge {
    pub fn label(self) -> &'static str {
        match self {
            Badge::Valid => "valid",
            Badge::ExpiringSoon => "expiring soon",
            Badge::Expired => "expired",
            Badge::Tripped => "TRIPPED",
        }
    }
}

/// "Expiring soon": less than 14 days, or less than a quarter of the
/// cadence, whichever is shorter, before expiry.
pub fn soon_window_secs(cadence_days: u32) -> i64 {
    (i64::from(cadence_days) * 86_400 / 4).min(14 * 86_400)
}

/// The badge for a report that passed the authenticity checks.
pub fn badge(report: &Report) -> Badge {
    if report.verdict == Verdict::Tripped {
        return Badge::Tripped;
    }
    match &report.latest {
        Some(l) if l.expires_in_seconds <= 0 => Badge::Expired,
        _ if report.failed(Class::Expired) => Badge::Expired,
        Some(l) if l.expires_in_seconds < soon_window_secs(report.policy.cadence_days) => {
            Badge::ExpiringSoon
        }
        _ => Badge::Valid,
    }
}

/// Failure classes a site may still be built with: they are the news the
/// site exists to show. Anything else (authenticity, history) refuses.
fn displayable(c: Class) -> bool {
    matches!(c, Class::Tripped | Class::Expired)
}

/// Checks one canary's text signatures: each present one must verify, and
/// at least the policy threshold of signers must have signed.
pub fn check_text(
    policy: &TrustedPolicy,
    number: u64,
    domain: &str,
    rec: &TextRecord,
) -> Result<(), SiteError> {
    let mut valid = 0;
    for (name, sigs) in &rec.signatures {
        let signer = policy
            .policy
            .signers
            .iter()
            .find(|s| &s.name == name)
            .ok_or_else(|| SiteError::BadTextSignature {
                number,
                signer: sanitize::line(name),
                kind: "text",
                problem: "not a signer in the policy".into(),
            })?;
        textsig::verify_sshsig(&signer.key, domain, &rec.text, &sigs.sshsig).map_err(|e| {
            SiteError::BadTextSignature {
                number,
                signer: name.clone(),
                kind: "SSHSIG",
                problem: e.to_string(),
            }
        })?;
        textsig::verify_minisig(&signer.key, domain, number, &rec.text, &sigs.minisig).map_err(
            |e| SiteError::BadTextSignature {
                number,
                signer: name.clone(),
                kind: "minisign",
                problem: e.to_string(),
            },
        )?;
        valid += 1;
    }
    if valid < policy.policy.threshold {
        return Err(SiteError::TooFewTextSignatures {
            number,
            have: valid,
            need: policy.policy.threshold,
        });
    }
    Ok(())
}

/// Builds every file of the site.
pub fn build(input: &SiteInput<'_>) -> Result<Vec<SiteFile>, SiteError> {
    let r = input.report;
    if let Some(f) = r.failures.iter().find(|f| !displayable(f.class)) {
        return Err(SiteError::Unverified(f.message.clone()));
    }
    let Some(latest) = input.canaries.last() else {
        return Err(SiteError::Unverified("no canaries".into()));
    };
    let domain = &input.policy.policy.domain;
    let Some(latest_text) = &latest.text else {
        return Err(SiteError::NoText(latest.number));
    };
    for c in input.canaries {
        if let Some(t) = &c.text {
            check_text(input.policy, c.number, domain, t)?;
        }
    }

    let mut files = Vec::new();
    let mut add = |path: String, bytes: Vec<u8>, content_type: &'static str| {
        files.push(SiteFile {
            path,
            bytes,
            content_type,
        })
    };
    const JSON: &str = "application/json";
    const TEXT: &str = "text/plain; charset=utf-8";

    // History, each canary with its text and signatures.
    for c in input.canaries {
        let stem = format!("canaries/{:04}", c.number);
        add(format!("{stem}.json"), c.json.clone(), JSON);
        if let Some(t) = &c.text {
            add(format!("{stem}.txt"), t.text.clone(), TEXT);
            for (name, s) in &t.signatures {
                add(
                    format!("{stem}.txt.{name}.sig"),
                    s.sshsig.clone().into_bytes(),
                    TEXT,
                );
                add(
                    format!("{stem}.txt.{name}.minisig"),
                    s.minisig.clone().into_bytes(),
                    TEXT,
                );
            }
        }
    }
    if let Some(inc) = input.incidents {
        add(
            "canaries/incidents.jsonl".into(),
            inc.to_vec(),
            "application/jsonl",
        );
    }

    // Trust: the policy's exact bytes and each signer's keys.
    add("keys/policy.json".into(), input.policy_bytes.to_vec(), JSON);
    let ns = textsig::namespace(domain);
    let mut allowed = String::new();
    for s in &input.policy.policy.signers {
        add(
            format!("keys/{}.pub", s.name),
            format!("{}\n", s.key.to_openssh(&s.name)).into_bytes(),
            TEXT,
        );
        add(
            format!("keys/{}.minisign.pub", s.name),
            textsig::minisign_public_key_file(&s.key, &s.name).into_bytes(),
            TEXT,
        );
        let _ = writeln!(
            allowed,
            "{} namespaces=\"{ns}\" {}",
            s.name,
            s.key.to_openssh(&s.name)
        );
    }
    add("allowed_signers".into(), allowed.into_bytes(), TEXT);

    // The latest canary as text, with every signer's signatures; the
    // unsuffixed names are the first signer's (policy order).
    add("canary.txt".into(), latest_text.text.clone(), TEXT);
    for (name, s) in &latest_text.signatures {
        add(
            format!("canary.txt.{name}.sig"),
            s.sshsig.clone().into_bytes(),
            TEXT,
        );
        add(
            format!("canary.txt.{name}.minisig"),
            s.minisig.clone().into_bytes(),
            TEXT,
        );
    }
    let (_, first) = &latest_text.signatures[0];
    add(
        "canary.txt.sig".into(),
        first.sshsig.clone().into_bytes(),
        TEXT,
    );
    add(
        "canary.txt.minisig".into(),
        first.minisig.clone().into_bytes(),
        TEXT,
    );

    add(
        "index.html".into(),
        render_index(input)?.into_bytes(),
        "text/html; charset=utf-8",
    );
    add(
        "feed.xml".into(),
        render_feed(input)?.into_bytes(),
        "application/atom+xml",
    );

    // Pointers last.
    add(
        "canaries/latest.json".into(),
        input.latest_json.to_vec(),
        JSON,
    );
    add(WELL_KNOWN.into(), input.latest_json.to_vec(), JSON);
    Ok(files)
}

#[derive(Serialize)]
struct ClaimView {
    id: String,
    text: String,
}

#[derive(Serialize)]
struct SignerView {
    name: String,
    fingerprint: String,
    minisign_key: String,
    minisign_key_id: String,
    signed: bool,
}

#[derive(Serialize)]
struct HistoryView {
    number: u64,
    file: String,
    text_file: Option<String>,
    issued_at: String,
    expires_at: String,
    sha256: String,
    tripped: bool,
}

#[derive(Serialize)]
struct IndexView {
    org: String,
    domain: String,
    badge: Badge,
    badge_label: &'static str,
    badge_explanation: String,
    as_of: String,
    sequence: u64,
    issued_at: String,
    expires_at: String,
    expires_relative: String,
    statements: Vec<ClaimView>,
    announcements: Vec<String>,
    tripped: Vec<String>,
    threshold: usize,
    signers: Vec<SignerView>,
    signed_by: Vec<String>,
    namespace: String,
    first_signer: String,
    first_minisign_key: String,
    base_url: String,
    payload_sha256: String,
    policy_sha256: String,
    history: Vec<HistoryView>,
}

fn tripped_in(prev: Option<&Statement>, st: &Statement) -> bool {
    prev.is_some_and(|p| diff::changes(p, st).iter().any(Change::trips))
}

fn render_index(input: &SiteInput<'_>) -> Result<String, SiteError> {
    let r = input.report;
    let latest = input.canaries.last().expect("checked non-empty");
    let st = &latest.statement;
    let text = latest.text.as_ref().expect("checked");
    let b = badge(r);
    let expires_in = r.now.seconds_until(st.expires_at);
    let explanation = match b {
        Badge::Valid => "Every check holds: signatures, threshold, policy, history and statements.".to_string(),
        Badge::ExpiringSoon => format!(
            "Every check holds, but this canary expires {}; a new one is due.",
            human_duration(expires_in)
        ),
        Badge::Expired => format!(
            "This canary expired {}, and no newer canary has been published. Treat it as void.",
            human_duration(expires_in)
        ),
        Badge::Tripped => "A statement made by an earlier canary was removed or reworded. Read this as the signal the canary exists to give.".to_string(),
    };
    let signed: Vec<&str> = text.signatures.iter().map(|(n, _)| n.as_str()).collect();
    let p = &input.policy.policy;
    let mut history = Vec::new();
    let mut prev: Option<&Statement> = None;
    for c in input.canaries {
        history.push(HistoryView {
            number: c.number,
            file: format!("canaries/{:04}.json", c.number),
            text_file: c
                .text
                .as_ref()
                .map(|_| format!("canaries/{:04}.txt", c.number)),
            issued_at: c.statement.issued_at.to_string(),
            expires_at: c.statement.expires_at.to_string(),
            sha256: c.payload_sha256.to_string(),
            tripped: tripped_in(prev, &c.statement),
        });
        prev = Some(&c.statement);
    }
    history.reverse();
    let first = &text.signatures[0].0;
    let first_key = p
        .signers
        .iter()
        .find(|s| &s.name == first)
        .map(|s| textsig::minisign_public_key(&s.key))
        .unwrap_or_default();
    let view = IndexView {
        org: sanitize::line(&st.org),
        domain: sanitize::line(&st.domain),
        badge: b,
        badge_label: b.label(),
        badge_explanation: explanation,
        as_of: r.now.to_string(),
        sequence: st.sequence,
        issued_at: st.issued_at.to_string(),
        expires_at: st.expires_at.to_string(),
        expires_relative: human_duration(expires_in),
        statements: st
            .statements
            .iter()
            .map(|c| ClaimView {
                id: sanitize::line(&c.id),
                text: sanitize::block(&c.text),
            })
            .collect(),
        announcements: st
            .announcements
            .iter()
            .map(|a| sanitize::block(a))
            .collect(),
        tripped: r
            .failures
            .iter()
            .filter(|f| f.class == Class::Tripped)
            .map(|f| f.message.clone())
            .collect(),
        threshold: p.threshold,
        signers: p
            .signers
            .iter()
            .map(|s| SignerView {
                name: s.name.clone(),
                fingerprint: s.key.fingerprint(),
                minisign_key: textsig::minisign_public_key(&s.key),
                minisign_key_id: textsig::minisign_key_id_hex(&s.key),
                signed: signed.contains(&s.name.as_str()),
            })
            .collect(),
        signed_by: signed.iter().map(|s| s.to_string()).collect(),
        namespace: textsig::namespace(&p.domain),
        first_signer: first.clone(),
        first_minisign_key: first_key,
        base_url: input.base_url.to_string(),
        payload_sha256: latest.payload_sha256.to_string(),
        policy_sha256: input.policy.sha256.to_string(),
        history,
    };
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.add_template("index.html", INDEX_TEMPLATE)
        .map_err(|e| SiteError::Render("index.html", e.to_string()))?;
    env.get_template("index.html")
        .and_then(|t| t.render(&view))
        .map_err(|e| SiteError::Render("index.html", e.to_string()))
}

/// `YYYY-MM-DD` of a time.
fn day(t: Timestamp) -> String {
    let s = t.to_string();
    s.get(..10).unwrap_or(&s).to_string()
}

/// Terminal-safe text that is also a valid XML 1.0 character sequence
/// (XML forbids U+FFFE and U+FFFF, which the terminal sanitizer keeps).
fn xml_safe(s: &str) -> String {
    sanitize::line(s)
        .chars()
        .map(|c| match c {
            '\u{fffe}' | '\u{ffff}' => '\u{fffd}',
            c => c,
        })
        .collect()
}

fn atom_time(t: Timestamp) -> chrono::DateTime<FixedOffset> {
    Utc.timestamp_opt(t.unix(), 0)
        .single()
        .unwrap_or_default()
        .fixed_offset()
}

/// The Atom feed: one entry per canary, newest first. Ids are tag URIs
/// fixed by the domain and the first canary's issue date, so they never
/// change when the site moves.
fn render_feed(input: &SiteInput<'_>) -> Result<String, SiteError> {
    let p = &input.policy.policy;
    let first = &input.canaries[0].statement;
    let latest = input.canaries.last().expect("checked non-empty");
    let tag = format!("tag:{},{}:warrant-canary", p.domain, day(first.issued_at));
    let org = xml_safe(&p.org);
    let link = |href: String, rel: &str, mime: &str| Link {
        href,
        rel: rel.into(),
        mime_type: Some(mime.into()),
        ..Default::default()
    };
    let mut entries = Vec::new();
    let mut prev: Option<&Statement> = None;
    for c in input.canaries {
        let st = &c.statement;
        let changes = prev.map(|p| diff::changes(p, st)).unwrap_or_default();
        let tripped = changes.iter().any(Change::trips);
        let mut body = String::new();
        if tripped {
            body.push_str("TRIPPED: a statement of the previous canary was removed or reworded.\n");
            for ch in changes.iter().filter(|c| c.trips()) {
                let _ = match ch {
                    Change::Removed { id, text } => {
                        writeln!(body, "Removed [{}]: {}", xml_safe(id), xml_safe(text))
                    }
                    Change::Reworded { id, old, new } => writeln!(
                        body,
                        "Reworded [{}]: was \"{}\", now \"{}\"",
                        xml_safe(id),
                        xml_safe(old),
                        xml_safe(new)
                    ),
                    _ => Ok(()),
                };
            }
            body.push('\n');
        }
        let _ = writeln!(
            body,
            "As of {}, {org} states (next update due by {}):",
            st.issued_at, st.expires_at
        );
        for claim in &st.statements {
            let _ = writeln!(body, "- {}", xml_safe(&claim.text));
        }
        if !st.announcements.is_empty() {
            body.push_str("Special announcements:\n");
            for a in &st.announcements {
                let _ = writeln!(body, "- {}", xml_safe(a));
            }
        }
        let _ = write!(body, "Payload sha256: {}", c.payload_sha256);
        let mut links = vec![link(
            format!("{}canaries/{:04}.json", input.base_url, c.number),
            "alternate",
            "application/json",
        )];
        if c.text.is_some() {
            links.push(link(
                format!("{}canaries/{:04}.txt", input.base_url, c.number),
                "alternate",
                "text/plain",
            ));
        }
        let title = format!(
            "{}Canary {} of {org}, issued {}",
            if tripped { "TRIPPED: " } else { "" },
            c.number,
            day(st.issued_at)
        );
        let mut entry = Entry::default();
        entry.set_title(Text::plain(title));
        entry.set_id(format!("{tag}:{}", c.number));
        entry.set_updated(atom_time(st.issued_at));
        entry.set_published(Some(atom_time(st.issued_at)));
        entry.set_links(links);
        entry.set_content(Some(Content {
            value: Some(body),
            content_type: Some("text".into()),
            ..Default::default()
        }));
        entries.push(entry);
        prev = Some(st);
    }
    entries.reverse();
    let mut feed = Feed::default();
    feed.set_title(Text::plain(format!("Warrant canary of {org}")));
    feed.set_id(tag);
    feed.set_updated(atom_time(latest.statement.issued_at));
    feed.set_authors(vec![Person {
        name: org.clone(),
        ..Default::default()
    }]);
    feed.set_links(vec![
        link(
            format!("{}feed.xml", input.base_url),
            "self",
            "application/atom+xml",
        ),
        link(input.base_url.to_string(), "alternate", "text/html"),
    ]);
    feed.set_generator(Some(Generator {
        value: "canary".into(),
        uri: None,
        version: Some(env!("CARGO_PKG_VERSION").into()),
    }));
    feed.set_entries(entries);
    let mut out = Vec::new();
    feed.write_to(&mut out)
        .map_err(|e| SiteError::Render("feed.xml", e.to_string()))?;
    out.push(b'\n');
    String::from_utf8(out).map_err(|e| SiteError::Render("feed.xml", e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feed_text_is_valid_xml_characters() {
        assert_eq!(xml_safe("a\u{ffff}b\x07"), "a\u{fffd}b\\u{0007}");
    }

    #[test]
    fn soon_window_is_the_shorter_of_two_weeks_and_a_quarter() {
        assert_eq!(soon_window_secs(90), 14 * 86_400);
        assert_eq!(soon_window_secs(28), 7 * 86_400);
    }
}
