//! Verification by URL as a procedure over a [`Transport`]: the order of
//! fetching, the pinning rule and the rollback rule of docs/FORMAT.md,
//! "Remote verification and local state". Nothing is written here: the
//! caller stores the state when the report has no failure.

use crate::digest::Sha256Digest;
use crate::envelope::{Envelope, STATEMENT_PAYLOAD_TYPE};
use crate::limits::Limits;
use crate::policy::TrustedPolicy;
use crate::rotation::{self, ChainError, ChainFile, PolicyChain};
use crate::sanitize;
use crate::statement::Statement;
use crate::timefmt::Timestamp;
use crate::verify::{self, CanaryFile, Class, Report, VerifyError};

use super::transport::{Transport, MAX_BATCH};
use super::{accept_chain, check_seen, Accepted, Pins, Seen, SiteRecord, SiteUrls, Untrusted};

/// One verification of one site.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub urls: &'a SiteUrls,
    /// What the user told us to trust.
    pub pins: &'a Pins<'a>,
    /// What the state file remembers of this site.
    pub record: Option<&'a SiteRecord>,
    /// The "now" of every time check.
    pub now: Timestamp,
    pub limits: &'a Limits,
}

/// Everything one verification by URL found.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub report: Report,
    /// The site's newest policy version (the chain's last).
    pub trusted: TrustedPolicy,
    /// Every version of the site's policy, the canaries verified under it.
    pub chain: PolicyChain,
    pub accepted: Accepted,
    pub seen: Seen,
    /// The exact bytes of the site's `.well-known` latest canary.
    pub latest: Vec<u8>,
    /// The bytes of `canaries/incidents.jsonl`, when the site has one.
    pub incidents: Option<Vec<u8>>,
}

/// Why a site could not be verified at all (a verification that ran and
/// failed is an [`Outcome`] whose report says so). URLs are escaped.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum RemoteError<E> {
    /// The transport could not get a file.
    #[error("{0}")]
    Transport(E),
    /// All responses together passed [`Limits::max_total_bytes`] (with the
    /// incident log, [`Limits::max_run_bytes`]).
    #[error("{url}: response is larger than the {limit} byte limit")]
    TooMuch { url: String, limit: u64 },
    /// A file that cannot be read as what it should be.
    #[error("{url}: {problem}")]
    Malformed { url: String, problem: String },
    /// The site's policy chain does not hold: `url` is the file at fault
    /// (`keys/policy.json` for a chain too long to walk).
    #[error("{url}: the site's policy chain is broken: {}", chain_detail(.error))]
    Chain {
        url: String,
        error: ChainError<std::convert::Infallible>,
    },
    /// The pinning rule does not accept the site's policy.
    #[error("{policy_url}: the site's policy is not trusted")]
    Untrusted {
        policy_url: String,
        reason: Untrusted,
        fetched: Box<TrustedPolicy>,
    },
    /// The latest canary's payload type is not the v1 statement type.
    #[error("{url}: payload type is `{}`, expected `{STATEMENT_PAYLOAD_TYPE}`", sanitize::line(.found))]
    LatestPayloadType { url: String, found: String },
    /// The latest canary is not signed by a threshold of the policy.
    #[error("{url}: the latest canary is not authentic: {valid} valid signature(s) from distinct policy keys, {required} required{}", not_verifying(.invalid))]
    LatestNotAuthentic {
        url: String,
        valid: usize,
        required: usize,
        /// Signers whose signature does not verify.
        invalid: Vec<String>,
    },
    /// The site serves no canary history.
    #[error("{site}: the site has no canaries")]
    NoCanaries { site: String },
    /// A canary of the history cannot be read at all.
    #[error("{0}")]
    Verify(VerifyError),
}

/// A chain error's words without its file name (the URL says it).
fn chain_detail(e: &ChainError<std::convert::Infallible>) -> String {
    match e {
        ChainError::Read(never) => match *never {},
        ChainError::TooLong { .. } => e.to_string(),
        ChainError::Missing(_) => "missing; every version of a rotated policy must be kept".into(),
        ChainError::First { problem } => problem.clone(),
        ChainError::Step { problem, .. } => problem.to_string(),
        ChainError::NewestDiffers(_) => {
            format!("its policy is not byte for byte {}", super::POLICY_PATH)
        }
    }
}

fn not_verifying(invalid: &[String]) -> String {
    if invalid.is_empty() {
        String::new()
    } else {
        format!(
            "; the signature(s) attributed to {} do not verify",
            invalid.join(", ")
        )
    }
}

impl<E> RemoteError<E> {
    /// The failure class of an unauthentic latest canary, if it is one.
    pub fn class(&self) -> Option<Class> {
        match self {
            RemoteError::LatestPayloadType { .. } => Some(Class::Signature),
            RemoteError::LatestNotAuthentic { invalid, .. } if invalid.is_empty() => {
                Some(Class::Threshold)
            }
            RemoteError::LatestNotAuthentic { .. } => Some(Class::Signature),
            _ => None,
        }
    }
}

/// Fetches and verifies one site, in the order of docs/FORMAT.md, "Order
/// of fetching": the policy and the pinning rule; the latest canary,
/// authenticated before its number is believed; the history (from the
/// state file's checkpoint on, when it has a usable one) and the incident
/// log, several at a time; then the local verification and the rollback
/// rule.
pub fn verify_site<T: Transport>(
    transport: &mut T,
    req: &Request<'_>,
) -> Result<Outcome, RemoteError<T::Error>> {
    let mut f = Fetcher {
        transport,
        total: 0,
        limit: req.limits.max_total_bytes,
    };
    let (chain, accepted) = fetch_trusted_policy(&mut f, req)?;
    // The newest canary must be under the newest version.
    let trusted = chain.newest().clone();
    let (latest, n, latest_digest) = fetch_latest(&mut f, req, &trusted)?;
    let mut from = super::checkpoint_for(req.record, &accepted, &chain, n);
    let first = from.map_or(1, |cp| cp.sequence);
    let mut files = fetch_canaries(&mut f, req.urls, first, n)?;
    if let Some(cp) = from {
        // The site no longer holds the checkpoint canary as it was: fetch
        // and verify all of it, as without a checkpoint, so the report
        // (the rollback rule's history-rewritten) is the one a full run
        // makes.
        let holds = files
            .first()
            .filter(|f| f.number == cp.sequence)
            .and_then(|f| Envelope::parse(&f.bytes).ok())
            .is_some_and(|e| e.payload_digest() == cp.payload_sha256);
        if !holds {
            let mut all = fetch_canaries(&mut f, req.urls, 1, cp.sequence - 1)?;
            all.append(&mut files);
            files = all;
            from = None;
        }
    }
    // The log has a cap of its own, past every other file's, and on top
    // of the total for them (docs/FORMAT.md, "Limits"); fetched after the
    // canaries, alone, for that cap.
    f.limit = req.limits.max_run_bytes();
    let incidents =
        f.get_optional_up_to(&req.urls.incidents(), req.limits.max_incident_log_bytes)?;
    let input = verify::Input {
        chain: &chain,
        files: &files,
        latest: Some(&latest),
        incident_log: incidents.as_deref(),
        now: req.now,
    };
    let verified = match from {
        Some(cp) => verify::verify_fetched_from(input, n, &cp.seen()),
        None => verify::verify_fetched(input, n),
    };
    let mut report = verified.map_err(|e| match e {
        VerifyError::Empty => RemoteError::NoCanaries {
            site: sanitize::line(req.urls.key()),
        },
        other => RemoteError::Verify(other),
    })?;
    let seen = Seen {
        sequence: n,
        payload_sha256: latest_digest,
        history: files
            .iter()
            .filter_map(|f| Some((f.number, Envelope::parse(&f.bytes).ok()?.payload_digest())))
            .collect(),
    };
    verify::add_failures(&mut report, check_seen(req.record, &seen));
    Ok(Outcome {
        report,
        trusted,
        chain,
        accepted,
        seen,
        latest,
        incidents,
    })
}

/// Counts bytes against the cap on all responses together.
struct Fetcher<'a, T> {
    transport: &'a mut T,
    total: u64,
    limit: u64,
}

impl<T: Transport> Fetcher<'_, T> {
    fn get(&mut self, url: &str) -> Result<Vec<u8>, RemoteError<T::Error>> {
        let body = self.transport.get(url);
        self.count(url, body)
    }

    /// [`Fetcher::get_optional`] for a file allowed up to `max_bytes`.
    fn get_optional_up_to(
        &mut self,
        url: &str,
        max_bytes: u64,
    ) -> Result<Option<Vec<u8>>, RemoteError<T::Error>> {
        let body = self.transport.get_up_to(url, max_bytes);
        match self.count(url, body) {
            Ok(b) => Ok(Some(b)),
            Err(RemoteError::Transport(e)) if T::is_not_found(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn count(
        &mut self,
        url: &str,
        body: Result<Vec<u8>, T::Error>,
    ) -> Result<Vec<u8>, RemoteError<T::Error>> {
        let body = body.map_err(RemoteError::Transport)?;
        self.total += body.len() as u64;
        if self.total > self.limit {
            return Err(RemoteError::TooMuch {
                url: sanitize::line(url),
                limit: self.limit,
            });
        }
        Ok(body)
    }

    /// A file the site may lack: "not found" means it is not there.
    fn get_optional(&mut self, url: &str) -> Result<Option<Vec<u8>>, RemoteError<T::Error>> {
        match self.get(url) {
            Ok(b) => Ok(Some(b)),
            Err(RemoteError::Transport(e)) if T::is_not_found(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// [`Fetcher::get_optional`] of several files, [`MAX_BATCH`] at a
    /// time through [`Transport::get_many`]. The results are taken in the
    /// order of `urls`, each counted against the cap in that order: the
    /// first failure in that order is the one returned, as one after
    /// another.
    fn get_optional_many(
        &mut self,
        urls: &[String],
    ) -> Result<Vec<Option<Vec<u8>>>, RemoteError<T::Error>> {
        let mut out = Vec::with_capacity(urls.len());
        for batch in urls.chunks(MAX_BATCH) {
            for (url, got) in batch.iter().zip(self.transport.get_many(batch)) {
                let body = match got {
                    Ok(b) => b,
                    Err(e) if T::is_not_found(&e) => {
                        out.push(None);
                        continue;
                    }
                    Err(e) => return Err(RemoteError::Transport(e)),
                };
                self.total += body.len() as u64;
                if self.total > self.limit {
                    return Err(RemoteError::TooMuch {
                        url: sanitize::line(url),
                        limit: self.limit,
                    });
                }
                out.push(Some(body));
            }
        }
        Ok(out)
    }
}

/// Step 1: `keys/policy.json`, parsed like a local policy; for a version
/// N > 1, its chain (`keys/policy.1.json`, `keys/rotation.2.json` …
/// `rotation.N.json`, walked by [`rotation::load_chain`]); then the
/// pinning rule ([`accept_chain`]). Nothing else is fetched from a site
/// whose chain does not hold or is not trusted: a site cannot make an
/// untrusted policy's canaries look checked.
fn fetch_trusted_policy<T: Transport>(
    f: &mut Fetcher<'_, T>,
    req: &Request<'_>,
) -> Result<(PolicyChain, Accepted), RemoteError<T::Error>> {
    let policy_url = req.urls.policy();
    let bytes = f.get(&policy_url)?;
    let fetched = TrustedPolicy::from_bytes(&bytes).map_err(|e| RemoteError::Malformed {
        url: sanitize::line(&policy_url),
        problem: e.to_string(),
    })?;
    let max = req.limits.max_policy_versions;
    let read = |file: ChainFile| f.get_optional(&req.urls.chain_file(file));
    let chain =
        rotation::load_chain(&fetched, &bytes, max, read).map_err(|e| chain_error(e, req.urls))?;
    match accept_chain(&chain, req.pins, req.record.map(SiteRecord::pin)) {
        Ok(accepted) => Ok((chain, accepted)),
        Err(reason) => Err(RemoteError::Untrusted {
            policy_url: sanitize::line(&policy_url),
            reason,
            fetched: Box::new(fetched),
        }),
    }
}

/// A chain that does not hold, named by the URL of the file at fault; a
/// file that could not be fetched stays the fetch's own error.
fn chain_error<E>(e: ChainError<RemoteError<E>>, urls: &SiteUrls) -> RemoteError<E> {
    let (file, error) = match e {
        ChainError::Read(e) => return e,
        ChainError::TooLong { version, max } => (None, ChainError::TooLong { version, max }),
        ChainError::Missing(f) => (Some(f), ChainError::Missing(f)),
        ChainError::First { problem } => {
            (Some(ChainFile::FirstPolicy), ChainError::First { problem })
        }
        ChainError::Step { file, problem } => (Some(file), ChainError::Step { file, problem }),
        ChainError::NewestDiffers(f) => (Some(f), ChainError::NewestDiffers(f)),
    };
    let url = file.map_or_else(|| urls.policy(), |f| urls.chain_file(f));
    RemoteError::Chain {
        url: sanitize::line(&url),
        error,
    }
}

/// Step 2: `.well-known/warrant-canary.json`, authenticated against the
/// trusted policy before its payload is read; its sequence number N says
/// how many canaries to fetch (a forged N could otherwise send the
/// verifier after ten thousand files). Returns the bytes, N and the
/// canary's digest.
fn fetch_latest<T: Transport>(
    f: &mut Fetcher<'_, T>,
    req: &Request<'_>,
    trusted: &TrustedPolicy,
) -> Result<(Vec<u8>, u64, Sha256Digest), RemoteError<T::Error>> {
    let url = req.urls.well_known();
    let bytes = f.get(&url)?;
    let shown = sanitize::line(&url);
    let malformed = |problem: String| RemoteError::Malformed {
        url: shown.clone(),
        problem,
    };
    let env = Envelope::parse(&bytes).map_err(|e| malformed(e.to_string()))?;
    if env.payload_type != STATEMENT_PAYLOAD_TYPE {
        return Err(RemoteError::LatestPayloadType {
            url: shown,
            found: env.payload_type,
        });
    }
    let sigs = verify::check_signatures(&env, trusted);
    let required = trusted.policy.threshold;
    if sigs.valid.len() < required {
        return Err(RemoteError::LatestNotAuthentic {
            url: shown,
            valid: sigs.valid.len(),
            required,
            invalid: sigs.invalid,
        });
    }
    let st = Statement::parse(&env.payload)
        .map_err(|e| malformed(format!("signed payload is not a valid v1 statement: {e}")))?;
    let max = req.limits.max_history;
    if st.sequence > max {
        return Err(malformed(format!(
            "canary number {} is beyond the {max} canaries canary fetches",
            st.sequence
        )));
    }
    let digest = env.payload_digest();
    Ok((bytes, st.sequence, digest))
}

/// Canaries `first` … `last` alone.
fn fetch_canaries<T: Transport>(
    f: &mut Fetcher<'_, T>,
    urls: &SiteUrls,
    first: u64,
    last: u64,
) -> Result<Vec<CanaryFile>, RemoteError<T::Error>> {
    let wanted: Vec<String> = (first..=last).map(|i| urls.canary(i)).collect();
    let got = f.get_optional_many(&wanted)?;
    Ok(canary_files(&wanted, first, got))
}

fn canary_files(urls: &[String], first: u64, got: Vec<Option<Vec<u8>>>) -> Vec<CanaryFile> {
    (first..)
        .zip(urls.iter().zip(got))
        .filter_map(|(number, (url, bytes))| {
            Some(CanaryFile {
                name: sanitize::line(url),
                number,
                bytes: bytes?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::SecretKey;
    use crate::policy::Signer;
    use crate::remote::transport::MemoryTransport;
    use crate::remote::{SiteRecord, TrustSource};
    use crate::statement::{default_claims, Statement};

    const SITE: &str = "https://canary.example.org/";

    fn keys() -> [SecretKey; 2] {
        [
            SecretKey::from_seed(&[1; 32]),
            SecretKey::from_seed(&[2; 32]),
        ]
    }

    fn policy() -> TrustedPolicy {
        TrustedPolicy::from_bytes(&policy_bytes()).unwrap()
    }

    fn policy_bytes() -> Vec<u8> {
        crate::policy::example_policy(&keys()).to_json()
    }

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse_canonical(s).unwrap()
    }

    /// Canaries 1..=n, each linked to the one before, signed by `signers`.
    fn history(n: u64, signers: &[&SecretKey]) -> Vec<Vec<u8>> {
        history_under(&policy(), n, signers)
    }

    /// The same, every canary naming policy `p`.
    fn history_under(p: &TrustedPolicy, n: u64, signers: &[&SecretKey]) -> Vec<Vec<u8>> {
        history_every(p, n, signers, 60)
    }

    /// The same, `days` apart.
    fn history_every(p: &TrustedPolicy, n: u64, signers: &[&SecretKey], days: i64) -> Vec<Vec<u8>> {
        let mut out: Vec<Vec<u8>> = Vec::new();
        let mut previous = None;
        for i in 1..=n {
            let issued = 1_767_225_600 + (i as i64 - 1) * days * 86_400;
            let st = Statement {
                org: "Example".into(),
                domain: "example.org".into(),
                sequence: i,
                issued_at: Timestamp::from_unix(issued),
                expires_at: Timestamp::from_unix(issued + 90 * 86_400),
                policy_sha256: p.sha256,
                previous_sha256: previous,
                statements: default_claims("Example"),
                announcements: vec![],
                freshness: None,
                incident_log: None,
            };
            let mut env = Envelope::new(STATEMENT_PAYLOAD_TYPE, st.to_payload());
            for k in signers {
                env.add_signature(k);
            }
            previous = Some(env.payload_digest());
            out.push(env.to_json());
        }
        out
    }

    fn site(canaries: &[Vec<u8>]) -> MemoryTransport {
        let urls = SiteUrls::resolve(SITE).unwrap();
        let mut t = MemoryTransport::default();
        t.files.insert(urls.policy(), policy_bytes());
        for (i, c) in canaries.iter().enumerate() {
            t.files.insert(urls.canary(i as u64 + 1), c.clone());
        }
        if let Some(last) = canaries.last() {
            t.files.insert(urls.well_known(), last.clone());
        }
        t
    }

    fn tofu() -> Pins<'static> {
        Pins {
            policy: None,
            keys: &[],
            min_threshold: None,
            first_use: true,
            replace_pin: false,
        }
    }

    fn run(
        t: &mut MemoryTransport,
        pins: &Pins<'_>,
        record: Option<&SiteRecord>,
        limits: &Limits,
    ) -> Result<Outcome, RemoteError<crate::remote::transport::NotHeld>> {
        let urls = SiteUrls::resolve(SITE).unwrap();
        let req = Request {
            urls: &urls,
            pins,
            record,
            now: ts("2026-03-15T00:00:00Z"),
            limits,
        };
        verify_site(t, &req)
    }

    fn paths(t: &MemoryTransport) -> Vec<&str> {
        t.requests.iter().map(|u| &u[SITE.len()..]).collect()
    }

    #[test]
    fn fetches_in_the_documented_order_and_verifies() {
        let [a, b] = keys();
        let mut t = site(&history(2, &[&a, &b]));
        let out = run(&mut t, &tofu(), None, &Limits::DEFAULT).unwrap();
        assert_eq!(out.report.failure, None, "{:?}", out.report.failures);
        assert_eq!(out.accepted.sources, vec![TrustSource::FirstUse]);
        assert_eq!(out.seen.sequence, 2);
        assert_eq!(
            paths(&t),
            [
                "keys/policy.json",
                ".well-known/warrant-canary.json",
                "canaries/0001.json",
                "canaries/0002.json",
                "canaries/incidents.jsonl",
            ]
        );
    }

    #[test]
    fn nothing_past_the_policy_on_first_contact() {
        let [a, b] = keys();
        let mut t = site(&history(1, &[&a, &b]));
        let none = Pins {
            first_use: false,
            ..tofu()
        };
        let e = run(&mut t, &none, None, &Limits::DEFAULT).unwrap_err();
        assert!(matches!(
            e,
            RemoteError::Untrusted {
                reason: Untrusted::FirstContact,
                ..
            }
        ));
        assert_eq!(paths(&t), ["keys/policy.json"]);
    }

    #[test]
    fn an_unauthentic_latest_ends_it_before_the_history() {
        let [a, _] = keys();
        let mut t = site(&history(3, &[&a]));
        let e = run(&mut t, &tofu(), None, &Limits::DEFAULT).unwrap_err();
        assert!(matches!(
            e,
            RemoteError::LatestNotAuthentic {
                valid: 1,
                required: 2,
                ..
            }
        ));
        assert_eq!(e.class(), Some(Class::Threshold));
        assert_eq!(
            paths(&t),
            ["keys/policy.json", ".well-known/warrant-canary.json"]
        );
    }

    #[test]
    fn a_canary_the_site_lacks_breaks_the_history() {
        let [a, b] = keys();
        let mut t = site(&history(3, &[&a, &b]));
        let urls = SiteUrls::resolve(SITE).unwrap();
        t.files.remove(&urls.canary(2));
        let out = run(&mut t, &tofu(), None, &Limits::DEFAULT).unwrap();
        assert_eq!(out.report.failure, Some(Class::History));
        assert!(out
            .report
            .failures
            .iter()
            .any(|f| f.problem == verify::Problem::Missing { first: 2, last: 2 }));
    }

    /// FORMAT.md: a canary the site answers 404 for is reported missing,
    /// also when it serves none of the history its latest canary claims.
    #[test]
    fn a_site_serving_only_its_latest_canary_has_a_broken_history() {
        let [a, b] = keys();
        let mut t = site(&history(3, &[&a, &b]));
        let urls = SiteUrls::resolve(SITE).unwrap();
        for i in 1..=3 {
            t.files.remove(&urls.canary(i));
        }
        let out = run(&mut t, &tofu(), None, &Limits::DEFAULT).unwrap();
        assert_eq!(out.report.failure, Some(Class::History));
        assert_eq!(
            out.report.failures[0].problem,
            verify::Problem::Missing { first: 1, last: 3 }
        );
        assert!(!out.report.chain_intact);
        // Canaries 1 and 2 served, 3 (the latest's own number) not.
        let mut t = site(&history(3, &[&a, &b]));
        t.files.remove(&urls.canary(3));
        let out = run(&mut t, &tofu(), None, &Limits::DEFAULT).unwrap();
        assert!(out
            .report
            .failures
            .iter()
            .any(|f| f.problem == verify::Problem::Missing { first: 3, last: 3 }));
    }

    #[test]
    fn an_older_canary_than_one_seen_is_a_rollback() {
        let [a, b] = keys();
        let canaries = history(2, &[&a, &b]);
        let mut t = site(&canaries);
        let seen = run(&mut t, &tofu(), None, &Limits::DEFAULT).unwrap();
        let record = crate::remote::updated_record(
            None,
            seen.accepted.pin,
            &seen.seen,
            ts("2026-03-15T00:00:00Z"),
        );
        // The site now serves canary 1 as its latest, and only canary 1.
        let mut old = site(&canaries[..1]);
        let out = run(&mut old, &tofu(), Some(&record), &Limits::DEFAULT).unwrap();
        assert_eq!(out.report.failure, Some(Class::Rollback));
        assert!(matches!(
            out.report.failures[0].problem,
            verify::Problem::Rollback { shown: 1, .. }
        ));
    }

    #[test]
    fn all_responses_together_are_capped() {
        let [a, b] = keys();
        let mut t = site(&history(3, &[&a, &b]));
        let small = Limits {
            max_total_bytes: 4_000,
            ..Limits::DEFAULT
        };
        let e = run(&mut t, &tofu(), None, &small).unwrap_err();
        assert!(
            matches!(e, RemoteError::TooMuch { limit: 4_000, .. }),
            "{e}"
        );
    }

    /// The incident log has a budget of its own, on top of the total for
    /// every other file: a log past `max_total_bytes` is fetched, one past
    /// its own cap is not.
    #[test]
    fn the_log_counts_on_top_of_the_total_for_other_files() {
        let [a, b] = keys();
        let mut t = site(&history(2, &[&a, &b]));
        let others: u64 = t.files.values().map(|b| b.len() as u64).sum();
        let log_url = format!("{SITE}canaries/incidents.jsonl");
        t.files.insert(log_url, vec![b'x'; 10_000]);
        let tight = Limits {
            max_total_bytes: others,
            max_incident_log_bytes: 10_000,
            ..Limits::DEFAULT
        };
        let out = run(&mut t, &tofu(), None, &tight).unwrap();
        assert_eq!(out.incidents.map(|b| b.len()), Some(10_000));
        let smaller = Limits {
            max_incident_log_bytes: 9_999,
            ..tight
        };
        let e = run(&mut t, &tofu(), None, &smaller).unwrap_err();
        assert!(
            matches!(&e, RemoteError::TooMuch { url, limit } if url.ends_with("incidents.jsonl") && *limit == others + 9_999),
            "{e}"
        );
    }

    /// Version 2 of the test policy: carol (seed 3) added, 2 of 3; and
    /// its rotation envelope, signed by `signers`.
    fn rotated(signers: &[&SecretKey]) -> (Vec<u8>, Vec<u8>) {
        let v1 = policy();
        let mut v2 = v1.policy.clone();
        v2.version = 2;
        v2.previous_sha256 = Some(v1.sha256);
        v2.explanation = Some("Carol joins.".into());
        v2.signers.push(Signer {
            name: "carol".into(),
            key: SecretKey::from_seed(&[3; 32]).public(),
        });
        let bytes = v2.to_json();
        let mut env = Envelope::new(crate::rotation::POLICY_PAYLOAD_TYPE, bytes.clone());
        for k in signers {
            env.add_signature(k);
        }
        (bytes, env.to_json())
    }

    /// A site at policy version 2, its canaries all under version 2.
    fn rotated_site(rotation_signers: &[&SecretKey]) -> MemoryTransport {
        let [a, b] = keys();
        let (v2, rotation) = rotated(rotation_signers);
        let t2 = TrustedPolicy::from_bytes(&v2).unwrap();
        let mut t = site(&history_under(&t2, 2, &[&a, &b]));
        let urls = SiteUrls::resolve(SITE).unwrap();
        t.files.insert(urls.policy(), v2);
        t.files
            .insert(urls.chain_file(ChainFile::FirstPolicy), policy_bytes());
        t.files
            .insert(urls.chain_file(ChainFile::Rotation(2)), rotation);
        t
    }

    #[test]
    fn the_chain_is_fetched_after_the_policy_and_a_pin_follows_it() {
        let [a, b] = keys();
        let mut t = rotated_site(&[&a, &b]);
        // Pinned at version 1 by an earlier run.
        let record = SiteRecord {
            policy_sha256: policy().sha256,
            policy_version: 1,
            pinned_at: ts("2026-01-02T00:00:00Z"),
            sequence: 1,
            payload_sha256: Envelope::parse(&t.files[&SiteUrls::resolve(SITE).unwrap().canary(1)])
                .unwrap()
                .payload_digest(),
            checked_at: ts("2026-01-02T00:00:00Z"),
            checkpoint: None,
            incident_log: None,
        };
        let none = Pins {
            first_use: false,
            ..tofu()
        };
        let out = run(&mut t, &none, Some(&record), &Limits::DEFAULT).unwrap();
        assert_eq!(out.report.failure, None, "{:?}", out.report.failures);
        assert_eq!(out.accepted.sources, vec![TrustSource::Pin]);
        assert_eq!(out.accepted.pin.version, 2);
        assert_eq!(out.chain.versions.len(), 2);
        assert_eq!(
            paths(&t),
            [
                "keys/policy.json",
                "keys/policy.1.json",
                "keys/rotation.2.json",
                ".well-known/warrant-canary.json",
                "canaries/0001.json",
                "canaries/0002.json",
                "canaries/incidents.jsonl",
            ]
        );
    }

    #[test]
    fn a_broken_chain_names_the_file_and_ends_it() {
        let [a, b] = keys();
        // Signed by alice alone: version 1's threshold (2) is not met.
        let mut t = rotated_site(&[&a]);
        let e = run(&mut t, &tofu(), None, &Limits::DEFAULT).unwrap_err();
        let RemoteError::Chain { url, error } = &e else {
            panic!("{e}")
        };
        assert_eq!(url, &format!("{SITE}keys/rotation.2.json"));
        assert!(matches!(error, ChainError::Step { .. }), "{e}");
        assert!(
            e.to_string().starts_with(&format!(
                "{SITE}keys/rotation.2.json: the site's policy chain is broken: signed by 1 of version 1's signers"
            )),
            "{e}"
        );
        assert_eq!(
            paths(&t),
            [
                "keys/policy.json",
                "keys/policy.1.json",
                "keys/rotation.2.json"
            ]
        );
        // Version 1 missing from the site.
        let mut t = rotated_site(&[&a, &b]);
        t.files.remove(
            &SiteUrls::resolve(SITE)
                .unwrap()
                .chain_file(ChainFile::FirstPolicy),
        );
        let e = run(&mut t, &tofu(), None, &Limits::DEFAULT).unwrap_err();
        assert!(
            matches!(&e, RemoteError::Chain { url, error: ChainError::Missing(ChainFile::FirstPolicy) } if url.ends_with("keys/policy.1.json")),
            "{e}"
        );
        // Too many versions for the limit: named by keys/policy.json.
        let mut t = rotated_site(&[&a, &b]);
        let one = Limits {
            max_policy_versions: 1,
            ..Limits::DEFAULT
        };
        let e = run(&mut t, &tofu(), None, &one).unwrap_err();
        assert!(
            matches!(&e, RemoteError::Chain { url, error: ChainError::TooLong { .. } } if url.ends_with("keys/policy.json")),
            "{e}"
        );
    }

    #[test]
    fn chain_files_count_against_the_total_cap() {
        let [a, b] = keys();
        let mut t = rotated_site(&[&a, &b]);
        let policy_len = t.files[&format!("{SITE}keys/policy.json")].len() as u64;
        let small = Limits {
            max_total_bytes: policy_len + 10,
            ..Limits::DEFAULT
        };
        let e = run(&mut t, &tofu(), None, &small).unwrap_err();
        assert!(
            matches!(&e, RemoteError::TooMuch { url, .. } if url.ends_with("keys/policy.1.json")),
            "{e}"
        );
    }

    /// The record a run leaves, as the binary stores it: moved when
    /// `may_remember` allows, the checkpoint only on a full pass.
    fn remembered(out: &Outcome, prev: Option<&SiteRecord>) -> Option<SiteRecord> {
        let now = ts("2026-03-15T00:00:00Z");
        if !crate::remote::may_remember(&out.report, &out.accepted, prev) {
            return prev.cloned();
        }
        let pin = crate::remote::remembered_pin(&out.report, &out.accepted, prev);
        let mut rec = crate::remote::updated_record(prev, pin, &out.seen, now);
        if out.report.failure.is_none() {
            crate::remote::advance_checkpoint(&mut rec, &out.seen, out.trusted.sha256, now);
        }
        Some(rec)
    }

    #[test]
    fn a_repeat_run_fetches_from_the_checkpoint_on() {
        let [a, b] = keys();
        let canaries = history_every(&policy(), 3, &[&a, &b], 10);
        let mut t = site(&canaries);
        let first = run(&mut t, &tofu(), None, &Limits::DEFAULT).unwrap();
        assert!(first.report.checkpoint.is_none());
        let rec = remembered(&first, None).unwrap();
        let cp = rec.checkpoint.unwrap();
        assert_eq!((cp.sequence, cp.policy_sha256), (3, policy().sha256));
        // Two more canaries since.
        let mut t = site(&history_every(&policy(), 5, &[&a, &b], 10));
        let out = run(&mut t, &tofu(), Some(&rec), &Limits::DEFAULT).unwrap();
        assert_eq!(out.report.failure, None, "{:?}", out.report.failures);
        assert_eq!(
            paths(&t),
            [
                "keys/policy.json",
                ".well-known/warrant-canary.json",
                "canaries/0003.json",
                "canaries/0004.json",
                "canaries/0005.json",
                "canaries/incidents.jsonl",
            ]
        );
        assert_eq!(out.report.canaries, 3);
        assert_eq!(out.report.checkpoint.unwrap().canaries_skipped, 2);
        let rec = remembered(&out, Some(&rec)).unwrap();
        assert_eq!(rec.checkpoint.unwrap().sequence, 5);
        // Nothing new: the checkpoint canary alone.
        let mut t = site(&history_every(&policy(), 5, &[&a, &b], 10));
        let out = run(&mut t, &tofu(), Some(&rec), &Limits::DEFAULT).unwrap();
        assert_eq!(out.report.failure, None);
        assert_eq!(
            paths(&t)[2..],
            ["canaries/0005.json", "canaries/incidents.jsonl"]
        );
        // Without the checkpoint (what --full passes): everything.
        let full = SiteRecord {
            checkpoint: None,
            ..rec.clone()
        };
        let mut t = site(&history_every(&policy(), 5, &[&a, &b], 10));
        run(&mut t, &tofu(), Some(&full), &Limits::DEFAULT).unwrap();
        assert_eq!(paths(&t).len(), 8);
    }

    /// TRIPPED at the canary after the checkpoint, on every later run: a
    /// tripped run is remembered (its canary is real) but does not move
    /// the checkpoint, so the next run compares with the same canary.
    #[test]
    fn a_trip_after_the_checkpoint_stays_tripped() {
        let [a, b] = keys();
        let good = history_every(&policy(), 2, &[&a, &b], 10);
        let mut t = site(&good);
        let rec = remembered(&run(&mut t, &tofu(), None, &Limits::DEFAULT).unwrap(), None);
        // Canary 3 drops a statement; canary 4 after it keeps that.
        let urls = SiteUrls::resolve(SITE).unwrap();
        let mut t = site(&good);
        let mut previous = Envelope::parse(&good[1]).unwrap().payload_digest();
        for i in 3..=4u64 {
            let mut st = Statement::parse(&Envelope::parse(&good[1]).unwrap().payload).unwrap();
            st.sequence = i;
            st.issued_at = Timestamp::from_unix(1_767_225_600 + (i as i64 - 1) * 10 * 86_400);
            st.expires_at = Timestamp::from_unix(st.issued_at.unix() + 80 * 86_400);
            st.previous_sha256 = Some(previous);
            st.statements.remove(0);
            let mut env = Envelope::new(STATEMENT_PAYLOAD_TYPE, st.to_payload());
            env.add_signature(&a);
            env.add_signature(&b);
            previous = env.payload_digest();
            t.files.insert(urls.canary(i), env.to_json());
            t.files.insert(urls.well_known(), env.to_json());
        }
        let mut rec = rec;
        for _ in 0..2 {
            t.requests.clear();
            let out = run(&mut t, &tofu(), rec.as_ref(), &Limits::DEFAULT).unwrap();
            assert_eq!(out.report.verdict, verify::Verdict::Tripped);
            assert_eq!(out.report.failures[0].canary, Some(3));
            assert_eq!(paths(&t)[2], "canaries/0002.json");
            rec = remembered(&out, rec.as_ref());
            let r = rec.as_ref().unwrap();
            // Remembered (canary 4 seen), the checkpoint left at 2.
            assert_eq!((r.sequence, r.checkpoint.unwrap().sequence), (4, 2));
        }
    }

    /// The site serves another canary under the checkpoint's number: it is
    /// all fetched and verified again, and reported as without a
    /// checkpoint (the history was rewritten).
    #[test]
    fn a_checkpoint_the_site_rewrote_is_verified_in_full() {
        let [a, b] = keys();
        let mut t = site(&history_every(&policy(), 2, &[&a, &b], 10));
        let out = run(&mut t, &tofu(), None, &Limits::DEFAULT).unwrap();
        let rec = remembered(&out, None).unwrap();
        // Another history, its canary 2 different (issued a day later).
        let other = history_every(&policy(), 3, &[&a, &b], 10);
        let mut t = site(&other);
        let mut cp = rec.checkpoint.unwrap();
        cp.payload_sha256 = Sha256Digest::of(b"not canary 2");
        let tampered = SiteRecord {
            checkpoint: Some(cp),
            payload_sha256: cp.payload_sha256,
            ..rec
        };
        let out = run(&mut t, &tofu(), Some(&tampered), &Limits::DEFAULT).unwrap();
        assert_eq!(out.report.failure, Some(Class::Rollback));
        assert!(out.report.checkpoint.is_none());
        assert_eq!(out.report.canaries, 3);
        assert!(matches!(
            out.report.failures[0].problem,
            verify::Problem::HistoryRewritten { found: Some(_), .. }
        ));
        assert_eq!(
            paths(&t)[2..],
            [
                "canaries/0002.json",
                "canaries/0003.json",
                "canaries/0001.json",
                "canaries/incidents.jsonl",
            ]
        );
    }

    /// A checkpoint set under another newest policy version (the site
    /// rotated since), or past the latest canary, is not used.
    #[test]
    fn a_checkpoint_is_used_only_under_the_same_chain() {
        let [a, b] = keys();
        let mut t = rotated_site(&[&a, &b]);
        let urls = SiteUrls::resolve(SITE).unwrap();
        let d1 = Envelope::parse(&t.files[&urls.canary(1)])
            .unwrap()
            .payload_digest();
        let record = SiteRecord {
            policy_sha256: policy().sha256,
            policy_version: 1,
            pinned_at: ts("2026-01-02T00:00:00Z"),
            sequence: 1,
            payload_sha256: d1,
            checked_at: ts("2026-01-02T00:00:00Z"),
            checkpoint: Some(crate::remote::Checkpoint {
                sequence: 1,
                payload_sha256: d1,
                policy_sha256: policy().sha256,
                verified_at: ts("2026-01-02T00:00:00Z"),
            }),
            incident_log: None,
        };
        let out = run(&mut t, &tofu(), Some(&record), &Limits::DEFAULT).unwrap();
        assert_eq!(out.report.failure, None, "{:?}", out.report.failures);
        assert!(out.report.checkpoint.is_none());
        assert_eq!(out.report.canaries, 2);
    }
}
