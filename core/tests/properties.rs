//! Properties of the formats and of verification, over generated input
//! (proptest; 64 cases each, so the whole file runs in a few seconds):
//!
//! 1. any statement, signed by a threshold of the policy's keys, verifies
//!    as valid through `verify::verify`;
//! 2. any single-byte change of a signed canary file is refused (the one
//!    exception: insignificant JSON whitespace, which no signature covers
//!    and which leaves the envelope the same);
//! 3. round trips, parse(write(x)) == x, of every file format: statement
//!    payload, envelope, policy, freshness proof, incident-log entries, the
//!    two state files and canary.toml.
//!
//! The fuzz targets (fuzz/, docs/SECURITY.md "Fuzzing") check the other
//! direction: that whatever the parsers accept writes back the same.

use std::collections::BTreeMap;

use canary_core::config::{Config, FreshnessConfig};
use canary_core::digest::Sha256Digest;
use canary_core::envelope::{Envelope, Signature, TextSignature, STATEMENT_PAYLOAD_TYPE};
use canary_core::freshness::{self, Block, FailedSource, Feed, Freshness, Headline, Requirement};
use canary_core::incidents::{self, Compromise, Entry, IncidentEntry, LogMark, UpdateEntry};
use canary_core::keys::SecretKey;
use canary_core::policy::{Policy, Signer, TrustedPolicy};
use canary_core::remote::{Checkpoint, SiteRecord, State};
use canary_core::statement::{Claim, LogCommitment, Statement};
use canary_core::timefmt::Timestamp;
use canary_core::verify::{self, CanaryFile, Verdict};
use canary_core::watch::{HighestSeen, Status, WatchRecord, WatchState};
use proptest::prelude::*;
use proptest::sample::Index;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 64,
        // Failures are reported with their minimal case; no files are kept
        // beside the tests.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// --- generators -----------------------------------------------------------

/// 1970-01-01 to 9999-12-31: every time the canonical form can spell.
const LAST_SECOND: i64 = 253_402_300_799;

fn time() -> impl Strategy<Value = Timestamp> {
    (0..=LAST_SECOND).prop_map(Timestamp::from_unix)
}

fn digest() -> impl Strategy<Value = Sha256Digest> {
    any::<[u8; 32]>().prop_map(Sha256Digest)
}

/// Ids of statements and incidents: 1-64 of a-z, 0-9, `-`.
fn slug() -> impl Strategy<Value = String> {
    "[a-z0-9-]{1,64}"
}

/// Any text, newlines and control characters included, not all blank.
fn text(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("(?s).{{1,{max}}}"))
        .unwrap()
        .prop_filter("blank", |s| !s.trim().is_empty())
}

/// One line of visible text (no control, format or unassigned characters).
fn visible(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("\\PC{{1,{max}}}"))
        .unwrap()
        .prop_filter("blank", |s| !s.trim().is_empty())
}

/// An organisation name (policy::check_org).
fn org() -> impl Strategy<Value = String> {
    visible(60)
}

/// A lowercase DNS name (policy::check_domain).
fn domain() -> impl Strategy<Value = String> {
    prop::collection::vec("[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", 1..4).prop_map(|l| l.join("."))
}

/// 1-6 claims with distinct ids.
fn claims() -> impl Strategy<Value = Vec<Claim>> {
    prop::collection::btree_map(slug(), text(300), 1..6).prop_map(|m| {
        m.into_iter()
            .map(|(id, text)| Claim {
                id,
                text: text.into(),
            })
            .collect()
    })
}

fn announcements() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(".{0,120}", 0..3)
}

fn https_url() -> impl Strategy<Value = String> {
    // The last label is not numeric, or the URL parser reads an IPv4 address.
    (domain(), "[a-z0-9/._-]{0,30}").prop_map(|(d, p)| format!("https://{d}.example/{p}"))
}

fn headline() -> impl Strategy<Value = Headline> {
    (
        text(200),
        prop::option::of(https_url()),
        prop::option::of(time()),
    )
        .prop_map(|(title, link, published)| Headline {
            title: title.into(),
            link: link.map(Into::into),
            published,
        })
}

/// A proof of freshness that obeys `Freshness::check_structure`, sealed.
fn proof() -> impl Strategy<Value = Freshness> {
    let feeds =
        prop::collection::btree_map(https_url(), prop::collection::vec(headline(), 1..4), 0..4)
            .prop_map(|m| {
                m.into_iter()
                    .map(|(url, headlines)| Feed {
                        url: url.into(),
                        headlines,
                    })
                    .collect::<Vec<_>>()
            });
    let block = prop::option::of(
        (
            any::<u64>(),
            "[0-9a-f]{64}",
            time(),
            prop::collection::vec(https_url(), 0..3),
        )
            .prop_map(|(height, hash, time, explorers)| Block {
                height,
                hash,
                time,
                explorers,
            }),
    );
    let problem = prop_oneof![
        Just(freshness::Problem::Failed),
        Just(freshness::Problem::Short),
        Just(freshness::Problem::Frozen),
    ];
    let failed = prop::collection::vec(
        (https_url(), problem, ".{0,80}").prop_map(|(url, problem, detail)| FailedSource {
            url: url.into(),
            problem,
            detail: detail.into(),
        }),
        0..3,
    );
    (time(), feeds, block, failed)
        .prop_map(|(at, feeds, block, failed)| Freshness::new(at, feeds, block, failed))
}

/// A statement that obeys `Statement::check`.
fn statement() -> impl Strategy<Value = Statement> {
    (
        (org(), domain(), 1..=u64::MAX, 0..LAST_SECOND),
        (digest(), digest(), claims(), announcements()),
        (prop::option::of(proof()), prop::option::of(digest())),
        any::<u64>(),
    )
        .prop_flat_map(|(head, body, extra, entries)| {
            let (_, _, _, issued) = head;
            (
                Just((head, body, extra, entries)),
                (issued + 1)..=LAST_SECOND,
            )
        })
        .prop_map(
            |(
                ((org, domain, sequence, issued), (policy, prev, claims, ann), (fr, head), n),
                exp,
            )| {
                // `entries` is 0 exactly when there is no head.
                let incident_log = head.map(|h| LogCommitment {
                    entries: n.max(1),
                    head_sha256: Some(h),
                });
                Statement {
                    org: org.into(),
                    domain: domain.into(),
                    sequence,
                    issued_at: Timestamp::from_unix(issued),
                    expires_at: Timestamp::from_unix(exp),
                    policy_sha256: policy,
                    previous_sha256: (sequence > 1).then_some(prev),
                    statements: claims,
                    announcements: ann.into_iter().map(Into::into).collect(),
                    freshness: fr,
                    incident_log,
                }
            },
        )
}

/// Distinct signing keys (from random seeds).
fn keys(n: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = Vec<[u8; 32]>> {
    prop::collection::btree_set(any::<[u8; 32]>(), n).prop_map(|s| s.into_iter().collect())
}

fn signer_name() -> impl Strategy<Value = String> {
    "[a-z0-9][a-z0-9._-]{0,20}"
}

/// A policy that obeys `Policy::check`, with the secret keys of its signers.
fn policy() -> impl Strategy<Value = (Policy, Vec<[u8; 32]>)> {
    keys(1..=4)
        .prop_flat_map(|seeds| {
            let n = seeds.len();
            (
                Just(seeds),
                prop::collection::btree_set(signer_name(), n..=n),
                1..=n,
                (org(), domain(), 1..=u64::MAX, 1..=366u32),
                (0..=32u32, any::<bool>(), 1..=8760u32),
            )
        })
        .prop_map(
            |(seeds, names, threshold, (org, domain, version, cadence), (feeds, block, age))| {
                let signers = seeds
                    .iter()
                    .zip(names)
                    .map(|(s, name)| Signer {
                        name,
                        key: SecretKey::from_seed(s).public(),
                    })
                    .collect();
                let p = Policy {
                    version,
                    org: org.into(),
                    domain,
                    threshold,
                    cadence_days: cadence,
                    signers,
                    freshness: Requirement {
                        min_feeds: feeds,
                        block,
                        max_age_hours: age,
                    },
                    // Later versions name the one before and say why.
                    previous_sha256: (version > 1).then(|| Sha256Digest::of(&seeds.concat())),
                    explanation: (version > 1).then(|| "A rotation.".into()),
                    revoked: Vec::new(),
                };
                (p, seeds)
            },
        )
}

// --- signing ----------------------------------------------------------------

/// A verifiable history: the trusted policy, the signing keys (in the
/// policy's order), and for each canary the indexes of the keys that sign
/// it, its claims and announcements, and the times.
#[derive(Debug, Clone)]
struct History {
    org: String,
    domain: String,
    cadence_days: u32,
    seeds: Vec<[u8; 32]>,
    threshold: usize,
    canaries: Vec<CanarySpec>,
    now: Timestamp,
}

#[derive(Debug, Clone)]
struct CanarySpec {
    issued_at: i64,
    expires_at: i64,
    signers: Vec<usize>,
    claims: Vec<Claim>,
    announcements: Vec<String>,
}

/// 1-3 canaries, each keeping every claim of the one before (new claims
/// may be added), issued one after another within the previous canary's
/// validity, each signed by at least a threshold of distinct policy keys in
/// any order; `now` is inside the newest canary's validity (within the
/// clock-skew allowance before its issue time).
fn history(exact_threshold: bool) -> impl Strategy<Value = History> {
    (
        (org(), domain(), 1..=366u32, keys(1..=4)),
        claims(),
        prop::collection::vec(
            (claims(), announcements(), any::<u64>(), any::<u64>()),
            1..=3,
        ),
        0i64..4_000_000_000,
    )
        .prop_flat_map(move |((org, domain, cadence, seeds), first, rest, start)| {
            let n = seeds.len();
            let len = rest.len();
            (
                Just((org, domain, cadence, seeds, first, rest, start)),
                1..=n,
                // Per canary: a shuffled order of the keys and how many sign.
                prop::collection::vec((Just((0..n).collect::<Vec<_>>()).prop_shuffle(), 0..n), len),
                any::<Index>(),
            )
        })
        .prop_map(
            move |((org, domain, cadence, seeds, first, rest, start), threshold, order, at)| {
                let max_validity = i64::from(cadence) * 86_400;
                let mut canaries: Vec<CanarySpec> = Vec::new();
                let mut claims = first;
                let mut issued = start;
                for (i, ((more, ann, v, gap), (keys, extra))) in
                    rest.into_iter().zip(order).enumerate()
                {
                    if i > 0 {
                        // Within the previous validity, strictly later.
                        let prev = &canaries[i - 1];
                        let span = (prev.expires_at - prev.issued_at).max(1) as u64;
                        issued = prev.issued_at + 1 + (gap % span) as i64;
                        for c in more {
                            if !claims.iter().any(|k| k.id == c.id) {
                                claims.push(c);
                            }
                        }
                    }
                    let validity = 1 + (v % max_validity as u64) as i64;
                    let signing = if exact_threshold {
                        threshold
                    } else {
                        threshold + extra % (seeds.len() - threshold + 1)
                    };
                    canaries.push(CanarySpec {
                        issued_at: issued,
                        expires_at: issued + validity,
                        signers: keys[..signing].to_vec(),
                        claims: claims.clone(),
                        announcements: ann,
                    });
                }
                let last = canaries.last().unwrap();
                let lo = last.issued_at - verify::CLOCK_SKEW_SECS;
                let span = (last.expires_at - lo) as usize;
                let now = Timestamp::from_unix(lo + at.index(span) as i64);
                History {
                    org,
                    domain,
                    cadence_days: cadence,
                    seeds,
                    threshold,
                    canaries,
                    now,
                }
            },
        )
}

impl History {
    fn policy(&self) -> TrustedPolicy {
        let p = Policy {
            version: 1,
            org: self.org.as_str().into(),
            domain: self.domain.clone(),
            threshold: self.threshold,
            cadence_days: self.cadence_days,
            signers: self
                .seeds
                .iter()
                .enumerate()
                .map(|(i, s)| Signer {
                    name: format!("signer-{i}"),
                    key: SecretKey::from_seed(s).public(),
                })
                .collect(),
            freshness: Requirement::NONE,
            previous_sha256: None,
            explanation: None,
            revoked: Vec::new(),
        };
        TrustedPolicy::from_bytes(&p.to_json()).expect("the generated policy is valid")
    }

    /// The published files, `canaries/0001.json` …
    fn files(&self, policy: &TrustedPolicy) -> Vec<CanaryFile> {
        let mut previous = None;
        let mut out = Vec::new();
        for (i, c) in self.canaries.iter().enumerate() {
            let st = Statement {
                org: self.org.as_str().into(),
                domain: self.domain.as_str().into(),
                sequence: i as u64 + 1,
                issued_at: Timestamp::from_unix(c.issued_at),
                expires_at: Timestamp::from_unix(c.expires_at),
                policy_sha256: policy.sha256,
                previous_sha256: previous,
                statements: c.claims.clone(),
                announcements: c.announcements.iter().map(|a| a.as_str().into()).collect(),
                freshness: None,
                incident_log: None,
            };
            let mut env = Envelope::new(STATEMENT_PAYLOAD_TYPE, st.to_payload());
            for &k in &c.signers {
                env.add_signature(&SecretKey::from_seed(&self.seeds[k]));
            }
            previous = Some(env.payload_digest());
            out.push(CanaryFile {
                name: format!("canaries/{:04}.json", i + 1),
                number: i as u64 + 1,
                bytes: env.to_json(),
            });
        }
        out
    }
}

fn run(
    policy: &TrustedPolicy,
    files: &[CanaryFile],
    latest: &[u8],
    now: Timestamp,
) -> Option<verify::Report> {
    let chain = canary_core::rotation::PolicyChain::single(policy.clone());
    verify::verify(verify::Input {
        chain: &chain,
        files,
        latest: Some(latest),
        incident_log: None,
        now,
    })
    .ok()
}

fn is_json_space(b: u8) -> bool {
    matches!(b, b' ' | b'\n' | b'\r' | b'\t')
}

/// Changes one byte of `files[which]` (and of the latest pointer, when it
/// is the newest: a server serving one altered file at both URLs) and
/// checks the verification refuses it, unless the change is JSON
/// whitespace outside any string (the same envelope, the same signatures).
fn check_flip(
    h: &History,
    which: usize,
    at: impl Fn(usize) -> usize,
    mask: u8,
) -> Result<(), TestCaseError> {
    let policy = h.policy();
    let mut files = h.files(&policy);
    let original = files[which].bytes.clone();
    let i = at(original.len());
    files[which].bytes[i] ^= mask;
    let changed = files[which].bytes.clone();
    let newest = files.len() - 1;
    let latest = files[newest].bytes.clone();
    if let Some(r) = run(&policy, &files, &latest, h.now) {
        if r.verdict == Verdict::Valid {
            prop_assert!(
                is_json_space(original[i]) && is_json_space(changed[i]),
                "byte {i} of {} changed from {:?} to {:?}, yet the history verifies",
                files[which].name,
                original[i] as char,
                changed[i] as char
            );
            prop_assert_eq!(
                Envelope::parse(&changed).ok(),
                Envelope::parse(&original).ok()
            );
        }
    }
    if which == newest {
        // The latest pointer left as it was: refused, whatever the byte.
        let old_latest = original;
        let r = run(&policy, &files, &old_latest, h.now);
        prop_assert!(r.is_none_or(|r| r.verdict != Verdict::Valid));
    }
    Ok(())
}

// --- 1. sign, then verify -----------------------------------------------------

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_statement_signed_by_a_threshold_verifies(h in history(false)) {
        let policy = h.policy();
        let files = h.files(&policy);
        let latest = files.last().unwrap().bytes.clone();
        let chain = canary_core::rotation::PolicyChain::single(policy.clone());
        let report = verify::verify(verify::Input {
            chain: &chain,
            files: &files,
            latest: Some(&latest),
            incident_log: None,
            now: h.now,
        })
        .expect("a signed history is readable");
        prop_assert!(report.failures.is_empty(), "{:?}", report.failures);
        prop_assert_eq!(report.verdict, Verdict::Valid);
        prop_assert_eq!(report.canaries, h.canaries.len());
        prop_assert!(report.chain_intact);
        let newest = report.latest.expect("the newest canary is summarised");
        prop_assert_eq!(newest.sequence, h.canaries.len() as u64);
        prop_assert!(newest.signed_by.len() >= h.threshold);
    }

    #[test]
    fn one_signature_short_of_the_threshold_does_not_verify(h in history(true)) {
        let policy = h.policy();
        let mut files = h.files(&policy);
        let newest = files.len() - 1;
        let mut env = Envelope::parse(&files[newest].bytes).unwrap();
        env.signatures.pop();
        files[newest].bytes = env.to_json();
        let latest = files[newest].bytes.clone();
        let r = run(&policy, &files, &latest, h.now).unwrap();
        prop_assert_ne!(r.verdict, Verdict::Valid);
        prop_assert_eq!(r.failure, Some(verify::Class::Threshold));
    }

    // --- 2. any single-byte change is refused ---------------------------------

    #[test]
    fn any_single_byte_change_of_the_newest_canary_is_refused(
        h in history(true),
        at in any::<Index>(),
        mask in 1..=255u8,
    ) {
        check_flip(&h, h.canaries.len() - 1, |len| at.index(len), mask)?;
    }

    #[test]
    fn any_single_byte_change_of_an_older_canary_is_refused(
        h in history(true),
        which in any::<Index>(),
        at in any::<Index>(),
        mask in 1..=255u8,
    ) {
        check_flip(&h, which.index(h.canaries.len()), |len| at.index(len), mask)?;
    }

    // --- 3. round trips ---------------------------------------------------------

    #[test]
    fn statement_payload_round_trips(s in statement()) {
        prop_assert_eq!(Statement::parse(&s.to_payload()).unwrap(), s);
    }

    #[test]
    fn envelope_round_trips(
        payload_type in ".{0,60}",
        payload in prop::collection::vec(any::<u8>(), 0..300),
        sigs in prop::collection::vec((".{0,60}", prop::collection::vec(any::<u8>(), 0..80)), 0..4),
        review in prop::option::of((".{0,40}", any::<i64>(), any::<bool>())),
        texts in prop::collection::vec((".{0,50}", "(?s).{0,200}", "(?s).{0,200}"), 0..3),
    ) {
        let mut e = Envelope::new(&payload_type, payload);
        e.signatures = sigs.into_iter().map(|(keyid, sig)| Signature { keyid, sig }).collect();
        e.review = review.map(|(s, n, b)| serde_json::json!({"org": s, "n": n, "b": b, "list": [s, null]}));
        e.text_signatures = texts
            .into_iter()
            .map(|(keyid, sshsig, minisig)| TextSignature { keyid, sshsig, minisig })
            .collect();
        prop_assert_eq!(Envelope::parse(&e.to_json()).unwrap(), e.clone());
        let published = e.published();
        prop_assert_eq!(Envelope::parse(&published.to_json()).unwrap(), published);
    }

    #[test]
    fn policy_round_trips((p, _) in policy()) {
        let bytes = p.to_json();
        prop_assert_eq!(Policy::parse(&bytes).unwrap(), p);
        // Its own bytes again: the hash canaries commit to is stable.
        prop_assert_eq!(Policy::parse(&bytes).unwrap().to_json(), bytes);
    }

    #[test]
    fn freshness_proof_round_trips(f in proof()) {
        prop_assert_eq!(Freshness::parse(&f.to_json()).unwrap(), f);
    }

    #[test]
    fn incident_log_entries_round_trip(
        id in slug(),
        title in visible(100),
        (started, recorded) in (time(), time()),
        components in prop::collection::btree_set("[A-Za-z0-9&]([A-Za-z0-9 &]{0,20}[A-Za-z0-9&])?", 1..4),
        (what, details, measures) in (text(300), ".{0,100}", ".{0,100}"),
        updates in prop::collection::vec(
            (time(), prop::option::of(text(200)), prop::option::of(visible(50)), any::<bool>()),
            0..4,
        ),
    ) {
        let mut entries = vec![Entry::Incident(IncidentEntry {
            seq: 1,
            prev: None,
            recorded_at: recorded,
            id: id.clone(),
            title: title.into(),
            started_at: started,
            ended_at: None,
            components: components.into_iter().collect(),
            what_happened: what.into(),
            compromised: Compromise::Nothing,
            compromised_details: details.into(),
            measures: measures.into(),
        })];
        for (at, note, title, resolve) in updates {
            let mut u = UpdateEntry::new(&id, at);
            u.note = note;
            u.title = title.map(Into::into);
            if resolve || u.is_empty() {
                // Ends when it started: never before.
                u.resolved_at = Some(started);
                u.compromised = Some(Compromise::DataLost);
            }
            entries.push(Entry::Update(u));
        }
        // Written one entry at a time, as `canary incident` appends them.
        let mut log = Vec::new();
        let mut expected = Vec::new();
        let mut prev: Option<Sha256Digest> = None;
        for (i, mut e) in entries.into_iter().enumerate() {
            let seq = i as u64 + 1;
            match &mut e {
                Entry::Incident(x) => (x.seq, x.prev) = (seq, prev),
                Entry::Update(x) => (x.seq, x.prev) = (seq, prev),
            }
            let records = incidents::parse(&log).unwrap();
            log = incidents::append(&log, &records, e.clone()).unwrap();
            prev = Some(Sha256Digest::of(&e.to_line()));
            expected.push(e);
        }
        let records = incidents::parse(&log).unwrap();
        let read: Vec<Entry> = records.iter().map(|r| r.entry.clone()).collect();
        prop_assert_eq!(read, expected);
        prop_assert_eq!(records.last().map(|r| r.sha256), prev);
    }

    #[test]
    fn state_file_round_trips(
        sites in prop::collection::btree_map(
            ".{0,60}",
            (
                (digest(), 1u64..4, time(), any::<u64>(), digest(), time()),
                prop::option::of((any::<u64>(), digest(), digest(), time())),
            ),
            0..4,
        ),
    ) {
        let s = State {
            sites: sites
                .into_iter()
                .map(|(k, ((policy_sha256, policy_version, pinned_at, sequence, payload_sha256, checked_at), cp))| {
                    let checkpoint = cp.map(|(sequence, payload_sha256, policy_sha256, verified_at)| Checkpoint { sequence, payload_sha256, policy_sha256, verified_at });
                    // The incident log's mark rides on the checkpoint's digests.
                    let incident_log = cp.map(|(sequence, payload_sha256, policy_sha256, _)| LogMark { bytes: sequence, entries: sequence / 2, head_sha256: payload_sha256, sha256: policy_sha256 });
                    (k, SiteRecord { policy_sha256, policy_version, pinned_at, sequence, payload_sha256, checked_at, checkpoint, incident_log })
                })
                .collect(),
        };
        prop_assert_eq!(State::parse(&s.to_json()).unwrap(), s);
    }

    #[test]
    fn watch_state_file_round_trips(
        sites in prop::collection::btree_map(
            https_url(),
            (
                (".{0,40}", prop::option::of((digest(), time(), any::<u64>(), digest(), time())), 0..14usize, ".{0,80}"),
                (prop::option::of(any::<u64>()), prop::option::of(digest()), prop::option::of(time()), prop::option::of(time())),
                (time(), prop::option::of(time()), prop::option::of((any::<u64>(), digest(), time()))),
            ),
            0..4,
        ),
    ) {
        const STATUSES: [Status; 14] = [
            Status::Valid, Status::Expiring, Status::Expired, Status::NotYetValid,
            Status::Tripped, Status::BadSignature, Status::Untrusted, Status::HistoryBroken,
            Status::Rollback, Status::IncidentLog, Status::Freshness, Status::Unreachable,
            Status::Malformed, Status::NotPinned,
        ];
        let s = WatchState {
            sites: sites
                .into_iter()
                .map(|(url, ((name, site, status, detail), (sequence, payload_sha256, issued_at, expires_at), (checked_at, failing_since, highest)))| {
                    let r = WatchRecord {
                        name,
                        site: site.map(|(policy_sha256, pinned_at, sequence, payload_sha256, checked_at)| SiteRecord {
                            policy_sha256, policy_version: 1, pinned_at, sequence, payload_sha256, checked_at, checkpoint: None,
                            incident_log: None,
                        }),
                        status: STATUSES[status],
                        detail,
                        sequence,
                        payload_sha256,
                        issued_at,
                        expires_at,
                        checked_at,
                        failing_since,
                        highest_seen: highest.map(|(sequence, payload_sha256, seen_at)| HighestSeen { sequence, payload_sha256, seen_at }),
                        foreign: None,
                    };
                    (url, r)
                })
                .collect::<BTreeMap<_, _>>(),
        };
        prop_assert_eq!(WatchState::parse(&s.to_json()).unwrap(), s);
    }

    #[test]
    fn canary_toml_round_trips(
        dirs in ("(?s).{0,30}", "(?s).{0,30}", "(?s).{0,30}"),
        components in prop::collection::btree_set("[A-Za-z0-9&]([A-Za-z0-9 &._-]{0,20}[A-Za-z0-9&])?", 0..6),
        claims in claims(),
        urls in prop::collection::btree_set(https_url(), 0..6),
        (split, headlines, confirmations, window, timeout) in (any::<Index>(), 1..=50usize, 6..=1000u64, 1..=8760u32, 1..=300u64),
    ) {
        let urls: Vec<String> = urls.into_iter().collect();
        let (feeds, explorers) = urls.split_at(split.index(urls.len() + 1).min(urls.len()));
        let c = Config {
            keys_dir: dirs.0,
            canaries_dir: dirs.1,
            drafts_dir: dirs.2,
            components: components.into_iter().collect(),
            statements: claims,
            freshness: FreshnessConfig {
                feeds: feeds.to_vec(),
                headlines_per_feed: headlines,
                explorers: explorers.to_vec(),
                confirmations,
                window_hours: window,
                timeout_seconds: timeout,
            },
        };
        let text = c.to_toml();
        prop_assert_eq!(Config::parse(&text).map_err(|e| format!("{e}\n{text}")).unwrap(), c);
    }
}

/// Property 2 over every byte of one canary, not only sampled ones.
#[test]
fn every_single_byte_change_of_one_canary_is_refused() {
    let h = History {
        org: "Example".into(),
        domain: "example.org".into(),
        cadence_days: 90,
        seeds: vec![[1; 32], [2; 32], [3; 32]],
        threshold: 2,
        canaries: vec![CanarySpec {
            issued_at: 1_767_225_600,
            expires_at: 1_767_225_600 + 90 * 86_400,
            signers: vec![2, 0],
            claims: canary_core::statement::default_claims("Example")[..2].to_vec(),
            announcements: vec!["hello".into()],
        }],
        now: Timestamp::from_unix(1_767_225_600 + 86_400),
    };
    let len = h.files(&h.policy())[0].bytes.len();
    assert!(len > 1000);
    for i in 0..len {
        // A different change at each position, every mask in turn.
        let mask = (i % 255) as u8 + 1;
        check_flip(&h, 0, |_| i, mask).unwrap_or_else(|e| panic!("{e}"));
    }
}

/// A rotation envelope: the unchanged envelope is accepted, and no one-byte
/// change yields another policy than the one the signers signed (a change
/// that garbles only an extra signature may still be accepted, with the
/// same policy). TUF's rule that a new root needs both thresholds is only
/// as good as this.
#[test]
fn no_single_byte_change_of_a_rotation_yields_another_policy() {
    use canary_core::rotation::{check_step, POLICY_PAYLOAD_TYPE};
    let seeds: Vec<[u8; 32]> = (1..=3).map(|s| [s; 32]).collect();
    let signers = |n: usize| -> Vec<Signer> {
        seeds[..n]
            .iter()
            .enumerate()
            .map(|(i, s)| Signer {
                name: format!("s{i}"),
                key: SecretKey::from_seed(s).public(),
            })
            .collect()
    };
    let v1 = Policy {
        version: 1,
        org: "Example".into(),
        domain: "example.org".into(),
        threshold: 2,
        cadence_days: 90,
        signers: signers(2),
        freshness: Requirement::NONE,
        previous_sha256: None,
        explanation: None,
        revoked: Vec::new(),
    };
    let old = TrustedPolicy::from_bytes(&v1.to_json()).unwrap();
    let v2 = Policy {
        version: 2,
        signers: signers(3),
        previous_sha256: Some(old.sha256),
        explanation: Some("s2 joins; the threshold stays 2.".into()),
        ..v1.clone()
    };
    let mut env = Envelope::new(POLICY_PAYLOAD_TYPE, v2.to_json());
    for s in seeds {
        env.add_signature(&SecretKey::from_seed(&s));
    }
    let bytes = env.to_json();
    let (accepted, _) = check_step(&old, &bytes).expect("the honest rotation");
    for i in 0..bytes.len() {
        let mut b = bytes.clone();
        b[i] ^= (i % 255) as u8 + 1;
        if let Ok((p, _)) = check_step(&old, &b) {
            assert_eq!(p.sha256, accepted.sha256, "byte {i} changed the policy");
        }
    }
}
