//! `canary verify URL`: fetch a published site, decide whether its policy is
//! trusted, verify it exactly like a local folder, and remember what was
//! seen (docs/FORMAT.md, "Remote verification and local state").

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::cli::{RemoteArgs, VerifyArgs};
use canary::error::{show_path, Error, Result};
use canary::fetch::{Client, Deadline, FetchError, Fetched, RequestLimits, SiteTransport};
use canary::{cache, lock, project, store};
use canary_core::digest::Sha256Digest;
use canary_core::exit::Exit;
use canary_core::incidents::LogMark;
use canary_core::limits::Limits;
use canary_core::policy::TrustedPolicy;
use canary_core::remote::cache::{CachedResponse, SiteCache};
use canary_core::remote::{
    self, Concurrent, Outcome, Pins, RemoteError, SiteRecord, SiteUrls, State, Untrusted,
};
use canary_core::render::{self, RemoteSource};
use canary_core::sanitize;
use canary_core::timefmt::Timestamp;
use canary_core::verify::{self, Class, Report};

/// The client every verification by URL uses.
pub(crate) fn client(total: Duration) -> Result<Client> {
    let l = Limits::DEFAULT;
    Ok(Client::new(RequestLimits {
        max_bytes: l.max_file_bytes,
        connect_timeout: l.connect_timeout.min(total),
        total_timeout: total,
        max_redirects: l.max_redirects,
    })?)
}

/// The command a first-contact hint tells the user to run again: the same
/// subcommand, with the same state file (else the pin lands elsewhere).
pub(crate) struct Again<'a> {
    pub command: &'static str,
    pub state: Option<&'a Path>,
}

/// Fetches and verifies one site with the core's procedure
/// ([`remote::verify_site`]) over the network. Nothing is written; the
/// caller stores the state when the report has no failure.
///
/// With `full`, the record's checkpoint is not used: every canary is
/// fetched and verified (`--full`). With `cached`, files are asked for
/// conditionally on the responses of the last run that passed; what each
/// file got is returned beside the outcome, for [`cache_after`].
#[allow(clippy::too_many_arguments)]
pub(crate) fn check_site(
    client: &Client,
    deadline: Deadline,
    urls: &SiteUrls,
    pins: &Pins<'_>,
    record: Option<&SiteRecord>,
    full: bool,
    cached: Option<&SiteCache>,
    now: Timestamp,
    again: &Again<'_>,
) -> Result<(Outcome, Vec<Fetched>)> {
    let mut transport = SiteTransport::new(client, deadline, cached);
    if cached.is_some() {
        transport.log = record
            .and_then(|r| r.incident_log)
            .map(|mark| (urls.incidents(), mark));
    }
    let without_checkpoint = record.filter(|_| full).map(|r| SiteRecord {
        checkpoint: None,
        ..r.clone()
    });
    let request = remote::Request {
        urls,
        pins,
        record: without_checkpoint.as_ref().or(record),
        now,
        limits: &Limits::DEFAULT,
    };
    let out =
        remote::verify_site(&mut transport, &request).map_err(|e| remote_error(e, urls, again))?;
    Ok((out, transport.fetched))
}

/// Whether a run asks conditionally, from the response cache: for a site
/// the state file knows, unless `--full` or `--replace-pin` (which are
/// about seeing everything afresh).
pub(crate) fn uses_cache(record: Option<&SiteRecord>, full: bool, replace_pin: bool) -> bool {
    record.is_some() && !full && !replace_pin
}

/// The site's response cache after a run that passed every check
/// ([`cache::after_run`]): the bodies it had, the incident log's from the
/// outcome.
pub(crate) fn cache_after(urls: &SiteUrls, out: &Outcome, fetched: Vec<Fetched>) -> SiteCache {
    let log = urls.incidents();
    let responses = fetched.into_iter().filter_map(|f| {
        let body = match f.body {
            Some(b) => b,
            None if f.url == log => out.incidents.clone()?,
            None => return None,
        };
        Some(CachedResponse {
            url: f.url,
            validators: f.validators,
            body,
        })
    });
    remote::cache::after_run(urls, responses, out.seen.sequence)
}

/// Writes a site's cache after a run that passed; a failure is a note,
/// not the run's failure (the next run only fetches more).
pub(crate) fn save_cache(dir: &Path, next: &SiteCache, before: Option<&SiteCache>) {
    if let Err(e) = cache::save(dir, next, before) {
        super::note(&format!(
            "canary: note: the response cache was not updated: {e}\n"
        ));
    }
}

/// Keeps the cache folder within [`Limits::max_cache_bytes`], once per
/// command; a failure is a note, as in [`save_cache`].
pub(crate) fn bound_cache(dir: &Path) {
    if let Err(e) = cache::evict(dir, Limits::DEFAULT.max_cache_bytes) {
        super::note(&format!(
            "canary: note: the response cache was not trimmed: {e}\n"
        ));
    }
}

/// A site that could not be verified, as the user's error: the class of
/// an unauthentic latest canary, the input that is malformed, the network
/// failure, or the trust decision the user must make.
fn remote_error(e: RemoteError<FetchError>, urls: &SiteUrls, again: &Again<'_>) -> Error {
    let class = e.class();
    match e {
        RemoteError::Transport(f) => Error::Fetch(f),
        RemoteError::TooMuch { url, limit } => Error::Fetch(FetchError::TooLarge { url, limit }),
        RemoteError::Malformed { url, problem } => Error::Input { path: url, problem },
        RemoteError::NoCanaries { site } => Error::Input {
            path: site,
            problem: "the site has no canaries".into(),
        },
        RemoteError::Untrusted {
            policy_url,
            reason,
            fetched,
        } => untrusted(reason, urls, &policy_url, &fetched, again),
        RemoteError::Verify(v) => Error::from(v),
        // docs/FORMAT.md: a broken chain is a policy failure, as by folder.
        chain @ RemoteError::Chain { .. } => Error::Verification {
            class: Class::Policy,
            message: chain.to_string(),
        },
        other => match class {
            Some(class) => Error::Verification {
                class,
                message: other.to_string(),
            },
            None => Error::Input {
                path: sanitize::line(urls.key()),
                problem: other.to_string(),
            },
        },
    }
}

/// Single-quotes a shell word when it needs it.
fn shell_word(s: &str) -> String {
    let plain = s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_./:@%+=,".contains(&b));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn untrusted(
    u: Untrusted,
    urls: &SiteUrls,
    policy_url: &str,
    fetched: &TrustedPolicy,
    again: &Again<'_>,
) -> Error {
    let site = sanitize::line(urls.key());
    let p = &fetched.policy;
    let policy = |class, message| Error::Verification { class, message };
    match u {
        Untrusted::FirstContact => {
            let mut url = shell_word(&site);
            if let Some(state) = again.state {
                url.push_str(&format!(" --state {}", shell_word(&show_path(state))));
            }
            let command = again.command;
            let mut hint = format!(
                "the site's policy (sha256 {}) is for {} ({}), {} of {} signatures required:\n",
                fetched.sha256,
                p.org,
                sanitize::line(&p.domain),
                p.threshold,
                p.signers.len()
            );
            for s in &p.signers {
                hint.push_str(&format!("    {:<12} {}\n", s.name, s.key.fingerprint()));
            }
            let keys: Vec<String> = p
                .signers
                .iter()
                .map(|s| format!("--key {}", s.key.fingerprint()))
                .collect();
            hint.push_str(&format!(
                "  These come from the site itself. Confirm them with the organisation over another channel, then pin them:\n    canary {command} {url} {} --threshold {}\n  or trust what the site serves now and pin it:\n    canary {command} {url} --trust-on-first-use",
                keys.join(" "),
                p.threshold
            ));
            Error::refused_with_hint(
                format!(
                    "{site}: first contact: no policy is pinned for this site, and none of --key, --policy or --trust-on-first-use was given"
                ),
                hint,
            )
        }
        Untrusted::ChainRolledBack { pinned, fetched } => policy(
            Class::Rollback,
            format!(
                "{policy_url}: ROLLBACK of the policy chain: policy version {} (sha256 {}) is pinned for this site, but the site now serves a chain ending at version {} (sha256 {}): an older policy than one seen before",
                pinned.version, pinned.sha256, fetched.version, fetched.sha256
            ),
        ),
        Untrusted::PinChanged { pinned, fetched } => policy(
            Class::Policy,
            format!(
                "{policy_url}: the site's policy CHANGED: pinned sha256 {pinned}, the site now serves sha256 {fetched}. If the organisation really changed its signers, confirm the new fingerprints elsewhere and run again with --replace-pin --key FINGERPRINT…"
            ),
        ),
        Untrusted::FileDiffers { file, fetched } => policy(
            Class::Policy,
            format!(
                "{policy_url}: the site's policy (sha256 {fetched}) is not the trusted --policy file (sha256 {file})"
            ),
        ),
        Untrusted::KeysDiffer { missing, extra } => {
            let mut parts = Vec::new();
            if !missing.is_empty() {
                parts.push(format!("lacks pinned key(s) {}", missing.join(", ")));
            }
            if !extra.is_empty() {
                parts.push(format!("lists key(s) not pinned {}", extra.join(", ")));
            }
            policy(
                Class::Policy,
                format!(
                    "{policy_url}: the site's policy (sha256 {}) does not have exactly the --key signers: it {}",
                    fetched.sha256,
                    parts.join(" and ")
                ),
            )
        }
        Untrusted::ThresholdTooLow { threshold, minimum } => policy(
            Class::Policy,
            format!(
                "{policy_url}: the site's policy (sha256 {}) requires only {threshold} signature(s); at least {minimum} are required (--threshold)",
                fetched.sha256
            ),
        ),
        Untrusted::ReplaceWithoutPins => {
            Error::Usage("--replace-pin needs --key or --policy: say which policy to pin".into())
        }
    }
}

/// `$XDG_DATA_HOME/canary/state.json` (or the platform's data dir).
pub(crate) fn default_state_path() -> Result<PathBuf> {
    let base = dirs::data_dir().ok_or_else(|| {
        Error::Usage("no data directory is known for this user; pass --state FILE".into())
    })?;
    Ok(base.join("canary").join("state.json"))
}

/// The state file, or an empty state if there is none yet.
pub(crate) fn read_state(path: &Path) -> Result<State> {
    if !path.exists() {
        return Ok(State::default());
    }
    let bytes = store::read_capped(path)?;
    State::parse(&bytes).map_err(|e| Error::input(path, e))
}

pub(crate) fn write_state(path: &Path, state: &State) -> Result<()> {
    ensure_parent(path)?;
    store::write_atomic(path, &state.to_json())
}

/// Makes the folder of a state file (and of its lock file).
pub(crate) fn ensure_parent(path: &Path) -> Result<()> {
    match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => store::ensure_dir(dir),
        None => Ok(()),
    }
}

#[derive(Serialize)]
struct IncidentLog {
    url: String,
    sha256: Sha256Digest,
    bytes: usize,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    exit_code: u8,
    site: String,
    policy_url: String,
    trusted_by: &'a [remote::TrustSource],
    state_file: String,
    /// True when this run wrote the state file ([`remote::may_remember`]).
    state_updated: bool,
    /// True when this run pinned the policy (first contact or --replace-pin).
    pinned_now: bool,
    incident_log: Option<IncidentLog>,
    /// This site's state-file record before this run (null on first contact).
    previously_seen: Option<&'a SiteRecord>,
    #[serde(flatten)]
    report: &'a Report,
}

/// Checks the spelling of `--key` and the range of `--threshold`.
pub(crate) fn check_remote_args(r: &crate::cli::RemoteArgs) -> Result<()> {
    threshold_needs_keys(r)?;
    for (i, k) in r.keys.iter().enumerate() {
        remote::check_fingerprint(k).map_err(|e| Error::Usage(format!("--key: {e}")))?;
        // As in a watch list: the keys are a set, and --threshold is
        // bounded by their number.
        if r.keys[..i].contains(k) {
            return Err(Error::Usage(format!("--key {k} is given twice")));
        }
    }
    if let Some(t) = r.threshold {
        if t == 0 || t > r.keys.len() {
            return Err(Error::Usage(format!(
                "--threshold {t}: must be between 1 and the number of --key fingerprints ({})",
                r.keys.len()
            )));
        }
    }
    Ok(())
}

/// `--threshold` without `--key` (outside `--foreign`): a usage error, as
/// when clap required it.
pub(crate) fn threshold_needs_keys(r: &crate::cli::RemoteArgs) -> Result<()> {
    if r.threshold.is_some() && r.keys.is_empty() {
        return Err(Error::Usage(
            "--threshold requires --key (or --foreign)".into(),
        ));
    }
    Ok(())
}

/// Stores what a verified site showed (state only moves forward, and
/// only when [`remote::may_remember`] allows). Returns whether it did.
///
/// Another `canary` may have written the state file since `record` was
/// read from it, so under the state file's lock the file is read again
/// and this site's record merged into it ([`remote::merge_record`]: the
/// newest canary wins, a concurrently written pin stays); every other
/// site keeps the record the file has now. A canary another run recorded
/// meanwhile that contradicts this run's is added to the report as a
/// rollback failure, and nothing is written.
pub(crate) fn remember(
    command: &str,
    state_path: &Path,
    urls: &SiteUrls,
    record: Option<&SiteRecord>,
    out: &mut Outcome,
    now: Timestamp,
) -> Result<bool> {
    if !remote::may_remember(&out.report, &out.accepted, record) {
        return Ok(false);
    }
    ensure_parent(state_path)?;
    let _lock = lock::state(state_path, command)?;
    let mut state = read_state(state_path)?;
    let on_disk = state.sites.get(urls.key());
    let pin = remote::remembered_pin(&out.report, &out.accepted, record);
    let chain: Vec<Sha256Digest> = out.chain.versions.iter().map(|v| v.sha256).collect();
    let rec = match remote::merge_record(record, on_disk, pin, &chain, &out.seen, now) {
        // Only a run that passed every check moves the checkpoint, and
        // the mark of its incident log.
        Ok(mut rec) if out.report.failure.is_none() => {
            remote::advance_checkpoint(&mut rec, &out.seen, out.trusted.sha256, now);
            rec.incident_log = out.incidents.as_deref().and_then(LogMark::of);
            rec
        }
        Ok(rec) => rec,
        Err(Concurrent::Seen(f)) => {
            verify::add_failures(&mut out.report, [*f]);
            return Ok(false);
        }
        Err(Concurrent::PinChanged { pinned, trusted }) => {
            return Err(Error::refused_with_hint(
                format!(
                    "{}: while this run verified {}, another canary run pinned its policy sha256 {pinned}; this run trusted sha256 {trusted} under the pin it started with, so the state file was not updated",
                    show_path(state_path),
                    sanitize::line(urls.key())
                ),
                "run the verification again: it is compared with the new pin",
            ))
        }
    };
    state.sites.insert(urls.key().to_string(), rec);
    write_state(state_path, &state)?;
    Ok(true)
}

/// One verification of a site by URL under the user's pins, remembered in
/// the state file when [`remote::may_remember`] allows: what `verify URL` and
/// `check URL` share.
pub(crate) struct SiteCheck {
    pub urls: SiteUrls,
    pub state_path: PathBuf,
    /// What the state file said about the site before this check.
    pub record: Option<SiteRecord>,
    pub out: Outcome,
    /// Whether the state file was updated.
    pub remembered: bool,
}

pub(crate) fn verify_site(
    command: &'static str,
    raw_url: &str,
    r: &RemoteArgs,
    policy_file: Option<&TrustedPolicy>,
    checks_at: Timestamp,
    now: Timestamp,
) -> Result<SiteCheck> {
    let urls = SiteUrls::resolve(raw_url)?;
    let state_path = match &r.state {
        Some(p) => p.clone(),
        None => default_state_path()?,
    };
    let record = read_state(&state_path)?.sites.remove(urls.key());
    let pins = Pins {
        policy: policy_file,
        keys: &r.keys,
        min_threshold: r.threshold,
        first_use: r.trust_on_first_use,
        replace_pin: r.replace_pin,
    };
    let total = Duration::from_secs(r.timeout);
    let cache_dir = cache::dir_for(&state_path);
    let cached = uses_cache(record.as_ref(), r.full, r.replace_pin)
        .then(|| cache::load(&cache_dir, urls.key()))
        .flatten();
    let (mut out, fetched) = check_site(
        &client(total)?,
        Deadline::after(total),
        &urls,
        &pins,
        record.as_ref(),
        r.full,
        cached.as_ref(),
        checks_at,
        &Again {
            command,
            state: r.state.as_deref(),
        },
    )?;
    let remembered = remember(command, &state_path, &urls, record.as_ref(), &mut out, now)?;
    if remembered && out.report.failure.is_none() {
        save_cache(
            &cache_dir,
            &cache_after(&urls, &out, fetched),
            cached.as_ref(),
        );
        bound_cache(&cache_dir);
    }
    Ok(SiteCheck {
        urls,
        state_path,
        record,
        out,
        remembered,
    })
}

pub fn run(raw_url: &str, a: &VerifyArgs, now: Timestamp) -> Result<Exit> {
    let checks_at = super::parse_time(a.at.as_deref(), "--at", now)?;
    check_remote_args(&a.remote)?;
    let policy_file = a.policy.as_deref().map(project::load_policy).transpose()?;
    let SiteCheck {
        urls,
        state_path,
        record,
        out,
        remembered: passed,
    } = verify_site(
        "verify",
        raw_url,
        &a.remote,
        policy_file.as_ref(),
        checks_at,
        now,
    )?;
    let pinned_now = passed && out.accepted.new_pin.is_some();
    let exit = out.report.failure.map_or(Exit::Ok, Exit::from);
    let incidents = out.incidents.as_ref().map(|b| IncidentLog {
        url: urls.incidents(),
        sha256: Sha256Digest::of(b),
        bytes: b.len(),
    });
    if a.json {
        let j = JsonReport {
            exit_code: exit.code(),
            site: urls.key().to_string(),
            policy_url: urls.policy(),
            trusted_by: &out.accepted.sources,
            state_file: show_path(&state_path),
            state_updated: passed,
            pinned_now,
            incident_log: incidents,
            previously_seen: record.as_ref(),
            report: &out.report,
        };
        super::out(&canary_core::json::to_report(&j));
    } else {
        let mut trust: Vec<&str> = out.accepted.sources.iter().map(|s| s.describe()).collect();
        if out.accepted.new_pin.is_some() {
            trust.push(if passed {
                "now pinned in the state file"
            } else {
                "NOT pinned: verification failed"
            });
        }
        // A pin that follows the site's rotations says so, and only moves
        // when every check passed.
        let follow = match &record {
            Some(rec) if out.accepted.new_pin.is_none() && rec.pin() != out.accepted.pin => {
                let (from, to) = (rec.policy_version, out.accepted.pin.version);
                if out.report.failure.is_none() && passed {
                    format!("the pin follows the policy chain from version {from} to version {to}")
                } else {
                    format!("the pin stays at policy version {from}: verification failed")
                }
            }
            _ => String::new(),
        };
        if !follow.is_empty() {
            trust.push(&follow);
        }
        let source = RemoteSource {
            site: urls.key().to_string(),
            trust: format!("{} ({})", trust.join("; "), show_path(&state_path)),
            incidents: incidents.map(|i| (i.url, i.sha256, i.bytes)),
            seen_before: match &record {
                None => "first check of this site: nothing seen before to compare".into(),
                Some(rec) => format!(
                    "canary {} (sha256 {}) seen here at {}",
                    rec.sequence,
                    rec.payload_sha256.short(),
                    rec.checked_at
                ),
            },
        };
        super::out(&render::remote_report(&out.report, &urls.policy(), &source));
    }
    Ok(exit)
}
