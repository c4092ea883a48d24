//! The plain-text canary (`canary.txt`): a pure, deterministic rendering of
//! a statement and the policy it was signed under. Signers sign these exact
//! bytes with standard tools ([`crate::textsig`]), so the same inputs must
//! always give the same bytes: no clock, no locale, no environment.
//!
//! Layout (docs/FORMAT.md, "Plain-text canary and standard-tool
//! signatures"): title, statements, special announcements, the proof of
//! freshness and the incident-log commitment (each only when the statement
//! carries one), any extra [`Section`]s, next update, signers, how to
//! verify, and the hashes that bind the text to the signed JSON canary.
//!
//! Everything comes from the signed statement and the policy: the text is
//! signed during `canary sign` and rebuilt byte for byte at publish time,
//! so nothing that could differ between the two (the incident log file, a
//! clock) may feed it.

use std::fmt::Write as _;

use crate::digest::Sha256Digest;
use crate::freshness::Freshness;
use crate::policy::Policy;
use crate::sanitize::{self, Untrusted};
use crate::statement::{LogCommitment, Statement};
use crate::textsig;

/// Width the prose is wrapped to.
const WIDTH: usize = 76;
const INDENT: &str = "   ";

/// An optional section placed after the special announcements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// One line, e.g. "Freshness".
    pub heading: String,
    /// Free text; wrapped and indented like the rest.
    pub body: String,
}

/// Everything the text is rendered from.
#[derive(Debug, Clone, Copy)]
pub struct TextInput<'a> {
    pub statement: &'a Statement,
    /// SHA-256 of the exact DSSE payload bytes of this canary.
    pub payload_sha256: Sha256Digest,
    /// The policy the canary is signed under (its hash is in the statement).
    pub policy: &'a Policy,
    pub sections: &'a [Section],
}

/// Renders `canary.txt`. Untrusted text is passed through
/// [`sanitize`] so the file is safe to `cat` on a terminal.
pub fn render(input: &TextInput<'_>) -> String {
    let st = input.statement;
    let mut o = String::new();
    statements_into(&mut o, st);
    o.push('\n');
    announcements_into(&mut o, &st.announcements);
    if let Some(f) = &st.freshness {
        o.push('\n');
        freshness_into(&mut o, f);
    }
    if let Some(l) = &st.incident_log {
        o.push('\n');
        incident_log_into(&mut o, l);
    }
    for s in input.sections {
        o.push('\n');
        let _ = writeln!(o, "{}:", sanitize::line(&s.heading));
        wrap_into(&mut o, &sanitize::block(&s.body), INDENT);
    }
    o.push('\n');
    next_update_into(&mut o, st);
    o.push('\n');
    signers_into(&mut o, input.policy);
    o.push('\n');
    how_to_verify_into(&mut o, st);
    o.push('\n');
    bindings_into(&mut o, st, input.payload_sha256);
    o
}

/// The title, then each statement under its number and id.
fn statements_into(o: &mut String, st: &Statement) {
    let org = st.org.to_string();
    let domain = st.domain.to_string();
    let _ = writeln!(o, "WARRANT CANARY");
    let _ = writeln!(o, "{org} ({domain}), canary {}", st.sequence);
    o.push('\n');
    wrap_into(
        o,
        &format!(
            "As of {}, {org} makes the following statements:",
            st.issued_at
        ),
        "",
    );
    for (i, c) in st.statements.iter().enumerate() {
        o.push('\n');
        let _ = writeln!(o, "{}. [{}]", i + 1, sanitize::line(&c.id));
        wrap_into(o, &c.text.block(), INDENT);
    }
}

/// The special announcements, or an explicit "None.": their absence is
/// said, not left to be inferred.
fn announcements_into(o: &mut String, announcements: &[Untrusted]) {
    let _ = writeln!(o, "Special announcements:");
    if announcements.is_empty() {
        let _ = writeln!(o, "{INDENT}None.");
    }
    for a in announcements {
        wrap_into(o, &a.block(), INDENT);
    }
}

/// When the next canary is due, and how to read a missing or changed one.
fn next_update_into(o: &mut String, st: &Statement) {
    let _ = writeln!(o, "Next update due by: {}", st.expires_at);
    wrap_into(
        o,
        "If no newer canary has been published by then, treat this one as expired. \
         If a statement above is missing or reworded in a later canary, treat it as \
         withdrawn.",
        "",
    );
}

/// The policy's threshold and each signer's OpenSSH fingerprint and
/// minisign key, names aligned.
fn signers_into(o: &mut String, p: &Policy) {
    let _ = writeln!(
        o,
        "Signers ({} of these {} must sign each canary):",
        p.threshold,
        p.signers.len()
    );
    let width = p.signers.iter().map(|s| s.name.len()).max().unwrap_or(0);
    for s in &p.signers {
        let _ = writeln!(o, "{INDENT}{:width$}  ssh {}", s.name, s.key.fingerprint());
        let _ = writeln!(
            o,
            "{INDENT}{:width$}  minisign {}",
            "",
            textsig::minisign_public_key(&s.key)
        );
    }
}

/// The commands that check this text with standard tools, and the one
/// that checks the whole history.
fn how_to_verify_into(o: &mut String, st: &Statement) {
    let ns = textsig::namespace(st.domain.raw());
    let domain = st.domain.to_string();
    wrap_into(
        o,
        "How to verify this text: each signer's signatures are canary.txt.NAME.sig \
         (OpenSSH) and canary.txt.NAME.minisig (minisign); canary.txt.sig and \
         canary.txt.minisig are the first signer's. For each signer NAME:",
        "",
    );
    let _ = writeln!(
        o,
        "{INDENT}ssh-keygen -Y verify -f allowed_signers -I NAME -n {ns} -s canary.txt.NAME.sig < canary.txt"
    );
    let _ = writeln!(
        o,
        "{INDENT}minisign -Vm canary.txt -x canary.txt.NAME.minisig -P <NAME's minisign key>"
    );
    let _ = writeln!(
        o,
        "The whole signed history: canary verify https://{domain}/"
    );
}

/// The hashes that bind this text to the signed JSON canary, its policy
/// and the canary before it.
fn bindings_into(o: &mut String, st: &Statement, payload_sha256: Sha256Digest) {
    let _ = writeln!(o, "Signed canary: canaries/{:04}.json", st.sequence);
    let _ = writeln!(o, "Payload sha256: {payload_sha256}");
    let _ = writeln!(o, "Policy sha256: {}", st.policy_sha256);
    match st.previous_sha256 {
        Some(d) => {
            let _ = writeln!(o, "Previous canary sha256: {d}");
        }
        None => {
            let _ = writeln!(o, "Previous canary: none (this is the first)");
        }
    }
}

/// The proof of freshness, verbatim: fetch time, block, every headline
/// under its feed, the sources that failed, and the proof's digest.
fn freshness_into(o: &mut String, f: &Freshness) {
    let _ = writeln!(o, "Proof of freshness:");
    let _ = writeln!(o, "{INDENT}Fetched at: {}", f.fetched_at);
    match &f.block {
        Some(b) => {
            let _ = writeln!(o, "{INDENT}Bitcoin block: height {}", b.height);
            let _ = writeln!(o, "{INDENT}{INDENT}hash {}", sanitize::line(&b.hash));
            let _ = writeln!(o, "{INDENT}{INDENT}time {}", b.time);
        }
        None => {
            let _ = writeln!(o, "{INDENT}Bitcoin block: none");
        }
    }
    for feed in &f.feeds {
        let _ = writeln!(o, "{INDENT}Headlines from {}:", feed.url);
        for h in &feed.headlines {
            let title = match h.published {
                Some(t) => format!("{} ({t})", h.title),
                None => h.title.to_string(),
            };
            let lead = format!("{INDENT}{INDENT}- ");
            let rest = format!("{INDENT}{INDENT}  ");
            wrap_hanging(o, &title, &lead, &rest);
            if let Some(link) = &h.link {
                let _ = writeln!(o, "{rest}{}", link);
            }
        }
    }
    for s in &f.failed_sources {
        let text = format!("Source {} ({}): {}", s.url, s.problem.as_str(), s.detail);
        wrap_hanging(o, &text, INDENT, &format!("{INDENT}{INDENT}"));
    }
    let _ = writeln!(o, "{INDENT}Proof sha256: {}", f.sha256);
}

/// The canary's commitment to the incident log: count and head hash only.
/// The incidents themselves are not restated here (the log is published
/// beside the text, and this hash binds it).
fn incident_log_into(o: &mut String, l: &LogCommitment) {
    let _ = writeln!(o, "Incident log:");
    match l.head_sha256 {
        Some(head) => {
            wrap_into(
                o,
                &format!(
                    "This canary commits to {} of canaries/incidents.jsonl (the whole log \
                     when it was drafted). Entry {}'s line (without its newline) has sha256:",
                    if l.entries == 1 {
                        "entry 1".to_string()
                    } else {
                        format!("entries 1-{}", l.entries)
                    },
                    l.entries
                ),
                INDENT,
            );
            let _ = writeln!(o, "{INDENT}{head}");
            wrap_into(
                o,
                "Each entry names the sha256 of the entry before it, so this hash fixes \
                 every earlier entry too. To check it:",
                INDENT,
            );
            let _ = writeln!(
                o,
                "{INDENT}sed -n '{}p' canaries/incidents.jsonl | tr -d '\\n' | sha256sum",
                l.entries
            );
        }
        None => wrap_into(
            o,
            "This canary commits to an empty incident log (0 entries).",
            INDENT,
        ),
    }
}

/// Appends `text` greedily wrapped at [`WIDTH`], each line prefixed with
/// `indent`; explicit newlines start new lines. Words longer than a line
/// are kept whole.
fn wrap_into(o: &mut String, text: &str, indent: &str) {
    for para in text.split('\n') {
        wrap_hanging(o, para, indent, indent);
    }
}

/// Wraps one paragraph: the first line prefixed with `first`, the others
/// with `rest` (both ASCII).
fn wrap_hanging(o: &mut String, para: &str, first: &str, rest: &str) {
    let mut indent = first;
    let mut line = String::new();
    for word in para.split(' ').filter(|w| !w.is_empty()) {
        let len = line.chars().count();
        if len > 0 && len + 1 + word.chars().count() + indent.len() > WIDTH {
            let _ = writeln!(o, "{indent}{line}");
            indent = rest;
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    let _ = writeln!(o, "{indent}{line}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::SecretKey;
    use crate::policy::Signer;
    use crate::statement::{default_claims, Claim};
    use crate::timefmt::Timestamp;

    fn policy() -> Policy {
        Policy {
            version: 1,
            org: "Example".into(),
            domain: "example.org".into(),
            threshold: 2,
            cadence_days: 90,
            freshness: crate::freshness::Requirement::NONE,
            previous_sha256: None,
            explanation: None,
            revoked: Vec::new(),
            signers: ["alice", "bob"]
                .iter()
                .enumerate()
                .map(|(i, n)| Signer {
                    name: n.to_string(),
                    key: SecretKey::from_seed(&[i as u8 + 1; 32]).public(),
                })
                .collect(),
        }
    }

    fn statement() -> Statement {
        Statement {
            org: "Example".into(),
            domain: "example.org".into(),
            sequence: 2,
            issued_at: Timestamp::parse_canonical("2026-01-01T00:00:00Z").unwrap(),
            expires_at: Timestamp::parse_canonical("2026-04-01T00:00:00Z").unwrap(),
            policy_sha256: Sha256Digest::of(b"policy"),
            previous_sha256: Some(Sha256Digest::of(b"prev")),
            statements: default_claims("Example"),
            announcements: vec!["Nothing to report.".into()],
            freshness: None,
            incident_log: None,
        }
    }

    fn render_with(st: &Statement, sections: &[Section]) -> String {
        let p = policy();
        render(&TextInput {
            statement: st,
            payload_sha256: Sha256Digest::of(b"payload"),
            policy: &p,
            sections,
        })
    }

    #[test]
    fn renders_every_part() {
        let st = statement();
        let t = render_with(&st, &[]);
        for needle in [
            "Example (example.org), canary 2",
            "As of 2026-01-01T00:00:00Z",
            "1. [no-keys-surrendered]",
            "Nothing to report.",
            "Next update due by: 2026-04-01T00:00:00Z",
            "warrant-canary@example.org",
            "Signed canary: canaries/0002.json",
            &Sha256Digest::of(b"payload").to_string(),
            &Sha256Digest::of(b"prev").to_string(),
        ] {
            assert!(t.contains(needle), "missing {needle}:\n{t}");
        }
        assert!(t.ends_with('\n'));
    }

    #[test]
    fn optional_sections_come_after_announcements() {
        let st = statement();
        let t = render_with(
            &st,
            &[Section {
                heading: "Freshness".into(),
                body: "Headlines of the day.".into(),
            }],
        );
        let a = t.find("Special announcements").unwrap();
        let f = t.find("Freshness:\n   Headlines of the day.").unwrap();
        let n = t.find("Next update due by").unwrap();
        assert!(a < f && f < n);
    }

    fn proof() -> Freshness {
        use crate::freshness::{Block, Feed, Headline};
        Freshness::new(
            Timestamp::parse_canonical("2025-12-31T22:00:00Z").unwrap(),
            vec![Feed {
                url: "https://news.example/rss".into(),
                headlines: vec![
                    Headline {
                        title: "Talks resume \u{202e}& markets react".into(),
                        link: Some("https://news.example/1".into()),
                        published: Some(
                            Timestamp::parse_canonical("2025-12-31T21:00:00Z").unwrap(),
                        ),
                    },
                    Headline {
                        title: "A headline long enough to be wrapped onto a second line of the \
                                plain-text canary, with words"
                            .into(),
                        link: None,
                        published: None,
                    },
                ],
            }],
            Some(Block {
                height: 890442,
                hash: "00".repeat(32),
                time: Timestamp::parse_canonical("2025-12-31T19:47:14Z").unwrap(),
                explorers: vec!["https://mempool.example/api".into()],
            }),
            vec![],
        )
    }

    #[test]
    fn freshness_and_log_commitment_come_from_the_statement() {
        let mut st = statement();
        let bare = render_with(&st, &[]);
        assert!(!bare.contains("Proof of freshness") && !bare.contains("Incident log"));
        st.freshness = Some(proof());
        st.incident_log = Some(LogCommitment {
            entries: 3,
            head_sha256: Some(Sha256Digest::of(b"head")),
        });
        let t = render_with(&st, &[]);
        let f = st.freshness.as_ref().unwrap();
        for needle in [
            "Proof of freshness:\n   Fetched at: 2025-12-31T22:00:00Z\n",
            "   Bitcoin block: height 890442\n",
            &format!("      hash {}\n", "00".repeat(32)),
            "      time 2025-12-31T19:47:14Z\n",
            "   Headlines from https://news.example/rss:\n",
            "      - Talks resume \\u{202e}& markets react (2025-12-31T21:00:00Z)\n        https://news.example/1\n",
            "      - A headline long enough to be wrapped onto a second line of the\n        plain-text canary, with words\n",
            &format!("   Proof sha256: {}\n", f.sha256),
            "This canary commits to entries 1-3 of canaries/incidents.jsonl (the whole\n   log when it was drafted).",
            &format!("   {}\n", Sha256Digest::of(b"head")),
            "sed -n '3p' canaries/incidents.jsonl | tr -d '\\n' | sha256sum",
        ] {
            assert!(t.contains(needle), "missing {needle:?}:\n{t}");
        }
        let (a, f, l, n) = (
            t.find("Special announcements").unwrap(),
            t.find("Proof of freshness").unwrap(),
            t.find("Incident log:").unwrap(),
            t.find("Next update due by").unwrap(),
        );
        assert!(a < f && f < l && l < n);
        st.incident_log = Some(LogCommitment {
            entries: 0,
            head_sha256: None,
        });
        assert!(render_with(&st, &[]).contains("commits to an empty incident log (0 entries)"));
    }

    #[test]
    fn hostile_text_is_made_visible() {
        let mut st = statement();
        st.statements.push(Claim {
            id: "x".into(),
            text: "has never\u{202e} been \x1b[31mcompelled".into(),
        });
        let t = render_with(&st, &[]);
        assert!(!t.contains('\u{202e}') && !t.contains('\x1b'));
        assert!(t.contains("\\u{202e}"));
    }

    /// The pinned vectors of `core/tests/data/canarytext/` (README.md
    /// there): fixed seeds, fixed times, every part of the text.
    mod pinned {
        use super::*;
        use crate::freshness::{Block, FailedSource, Feed, Headline, Problem};
        use crate::textsig::{self, TextSignatures};

        const SIGNERS: [(&str, u8); 2] = [("alice", 1), ("bob-the-builder", 2)];

        fn ts(s: &str) -> Timestamp {
            Timestamp::parse_canonical(s).unwrap()
        }

        fn key(seed: u8) -> SecretKey {
            SecretKey::from_seed(&[seed; 32])
        }

        fn policy() -> Policy {
            Policy {
                version: 1,
                org: "Example Mail \u{202e}Ltd".into(),
                domain: "mail.example.org".into(),
                threshold: 2,
                cadence_days: 90,
                freshness: crate::freshness::Requirement::NONE,
                previous_sha256: None,
                explanation: None,
                revoked: Vec::new(),
                signers: SIGNERS
                    .iter()
                    .map(|&(name, seed)| Signer {
                        name: name.into(),
                        key: key(seed).public(),
                    })
                    .collect(),
            }
        }

        /// Canary 1: no previous canary, no announcement, no proof of
        /// freshness, an empty incident log.
        fn first() -> Statement {
            Statement {
                org: "Example Mail \u{202e}Ltd".into(),
                domain: "mail.example.org".into(),
                sequence: 1,
                issued_at: ts("2026-01-01T09:30:00Z"),
                expires_at: ts("2026-04-01T09:30:00Z"),
                policy_sha256: Sha256Digest::of(b"pinned policy"),
                previous_sha256: None,
                statements: default_claims("Example Mail"),
                announcements: vec![],
                freshness: None,
                incident_log: Some(LogCommitment {
                    entries: 0,
                    head_sha256: None,
                }),
            }
        }

        /// Canary 2: every optional part, hostile and overlong text.
        fn second() -> Statement {
            let mut claims = default_claims("Example Mail");
            claims.push(Claim {
                id: "no-gag-order".into(),
                text: "Example Mail has never received a gag order.\nA second paragraph \
                       of this statement, long enough that it has to wrap onto more \
                       than one line of the plain text."
                    .into(),
            });
            Statement {
                org: "Example Mail \u{202e}Ltd".into(),
                domain: "mail.example.org".into(),
                sequence: 2,
                issued_at: ts("2026-04-01T09:30:00Z"),
                expires_at: ts("2026-06-30T09:30:00Z"),
                policy_sha256: Sha256Digest::of(b"pinned policy"),
                previous_sha256: Some(Sha256Digest::of(b"canary 1 payload")),
                statements: claims,
                announcements: vec![
                    "We moved to a new data centre.".into(),
                    "See https://mail.example.org/announcements/2026/the-very-long-address-of-this-announcement-page for details \x1b[2J of the move."
                        .into(),
                ],
                freshness: Some(proof()),
                incident_log: Some(LogCommitment {
                    entries: 12,
                    head_sha256: Some(Sha256Digest::of(b"entry 12")),
                }),
            }
        }

        fn proof() -> Freshness {
            Freshness::new(
                ts("2026-04-01T07:00:00Z"),
                vec![
                    Feed {
                        url: "https://news.example/world/rss.xml".into(),
                        headlines: vec![
                            Headline {
                                title: "Talks resume \u{202e}& markets react".into(),
                                link: Some("https://news.example/world/1".into()),
                                published: Some(ts("2026-04-01T06:10:00Z")),
                            },
                            Headline {
                                title: "A headline long enough to be wrapped onto a second \
                                        line of the plain-text canary, with a few more words"
                                    .into(),
                                link: None,
                                published: Some(ts("2026-04-01T05:55:00Z")),
                            },
                        ],
                    },
                    Feed {
                        url: "https://other.example/feed.atom".into(),
                        headlines: vec![Headline {
                            title: "Short".into(),
                            link: Some("https://other.example/short".into()),
                            published: None,
                        }],
                    },
                ],
                Some(Block {
                    height: 944_000,
                    hash: "00000000000000000000a1b2c3d4e5f60718293a4b5c6d7e8f9012345678abcd".into(),
                    time: ts("2026-04-01T06:41:07Z"),
                    explorers: vec!["https://mempool.example/api".into()],
                }),
                vec![FailedSource {
                    url: "https://slow.example/rss".into(),
                    problem: Problem::Failed,
                    detail: "server answered HTTP 503 after a very long wait, which is recorded here in full".into(),
                }],
            )
        }

        fn text_of(st: &Statement) -> String {
            render(&TextInput {
                statement: st,
                payload_sha256: Sha256Digest::of(&st.to_payload()),
                policy: &policy(),
                sections: &[],
            })
        }

        /// A committed text and each signer's (.sig, .minisig) of it, in
        /// [`SIGNERS`] order.
        type Vector = (&'static str, [(&'static str, &'static str); 2]);

        const FIRST: Vector = (
            include_str!("../tests/data/canarytext/0001.txt"),
            [
                (
                    include_str!("../tests/data/canarytext/0001.txt.alice.sig"),
                    include_str!("../tests/data/canarytext/0001.txt.alice.minisig"),
                ),
                (
                    include_str!("../tests/data/canarytext/0001.txt.bob-the-builder.sig"),
                    include_str!("../tests/data/canarytext/0001.txt.bob-the-builder.minisig"),
                ),
            ],
        );
        const SECOND: Vector = (
            include_str!("../tests/data/canarytext/0002.txt"),
            [
                (
                    include_str!("../tests/data/canarytext/0002.txt.alice.sig"),
                    include_str!("../tests/data/canarytext/0002.txt.alice.minisig"),
                ),
                (
                    include_str!("../tests/data/canarytext/0002.txt.bob-the-builder.sig"),
                    include_str!("../tests/data/canarytext/0002.txt.bob-the-builder.minisig"),
                ),
            ],
        );

        /// The rendered text and the signatures made over it are the
        /// committed bytes, and the committed signatures verify.
        fn check(st: &Statement, (text, sigs): Vector) {
            assert_eq!(text_of(st), text, "canary {} text differs", st.sequence);
            for (&(name, seed), (sshsig, minisig)) in SIGNERS.iter().zip(sigs) {
                let made = textsig::sign(
                    &key(seed),
                    name,
                    st.domain.raw(),
                    st.sequence,
                    text.as_bytes(),
                );
                assert_eq!(
                    made.sshsig, sshsig,
                    "{name}'s SSHSIG of canary {}",
                    st.sequence
                );
                assert_eq!(
                    made.minisig, minisig,
                    "{name}'s minisig of canary {}",
                    st.sequence
                );
                let pinned = TextSignatures {
                    sshsig: sshsig.into(),
                    minisig: minisig.into(),
                };
                textsig::verify(
                    &key(seed).public(),
                    st.domain.raw(),
                    st.sequence,
                    text.as_bytes(),
                    &pinned,
                )
                .unwrap();
            }
        }

        #[test]
        fn first_canary_text_and_signatures_are_the_pinned_bytes() {
            check(&first(), FIRST);
        }

        #[test]
        fn full_canary_text_and_signatures_are_the_pinned_bytes() {
            check(&second(), SECOND);
        }

        /// Lines that are not prose and so are never wrapped: commands,
        /// keys and hashes a reader copies whole.
        const UNWRAPPED: [&str; 7] = [
            "                    minisign RW",
            "   ssh-keygen -Y verify ",
            "   minisign -Vm canary.txt ",
            "   Proof sha256: ",
            "Payload sha256: ",
            "Policy sha256: ",
            "Previous canary sha256: ",
        ];

        #[test]
        fn prose_is_wrapped_at_the_width_and_only_fixed_lines_are_longer() {
            assert_eq!(WIDTH, 76, "docs/FORMAT.md says 76 columns");
            for (st, text) in [(first(), FIRST.0), (second(), SECOND.0)] {
                let rendered = text_of(&st);
                for t in [rendered.as_str(), text] {
                    for line in t.lines() {
                        let n = line.chars().count();
                        // A word longer than the line is kept whole.
                        let one_word = !line.trim_start().contains(' ');
                        assert!(
                            n <= WIDTH || one_word || UNWRAPPED.iter().any(|p| line.starts_with(p)),
                            "line of {n} characters in canary {}: {line:?}",
                            st.sequence
                        );
                    }
                    // Each exemption is needed: its lines are longer.
                    for p in UNWRAPPED {
                        for line in t.lines().filter(|l| l.starts_with(p)) {
                            assert!(line.chars().count() > WIDTH, "{line:?} needs no exemption");
                        }
                    }
                }
            }
            // The vectors hold an overlong word, kept whole on its line.
            assert!(SECOND.0.lines().any(|l| l.chars().count() > WIDTH
                && l.trim_start()
                    .starts_with("https://mail.example.org/announcements/")
                && !l.trim_start().contains(' ')));
        }

        /// Writes the vectors (run by hand after a deliberate format
        /// change: `cargo test -p canary-core -- --ignored write_pinned`).
        #[test]
        #[ignore]
        fn write_pinned_vectors() {
            let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/canarytext");
            for st in [first(), second()] {
                let text = text_of(&st);
                let stem = format!("{dir}/{:04}.txt", st.sequence);
                std::fs::write(&stem, &text).unwrap();
                for &(name, seed) in &SIGNERS {
                    let s = textsig::sign(
                        &key(seed),
                        name,
                        st.domain.raw(),
                        st.sequence,
                        text.as_bytes(),
                    );
                    std::fs::write(format!("{stem}.{name}.sig"), s.sshsig).unwrap();
                    std::fs::write(format!("{stem}.{name}.minisig"), s.minisig).unwrap();
                }
            }
        }
    }
}
