//! `canary watch LIST`: verify many sites at once, each exactly like
//! `canary verify URL` (same fetching, limits, pins and rollback rule), with
//! bounded concurrency; then a table, and the watch state file written once,
//! atomically, after the run.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use crate::cli::WatchArgs;
use canary::error::{show_path, Error, Result};
use canary::fetch::{Client, Deadline, FetchError};
use canary::{cache, lock, store};
use canary_core::digest::Sha256Digest;
use canary_core::exit::Exit;
use canary_core::foreign::{self, state};
use canary_core::incidents::LogMark;
use canary_core::limits::Limits;
use canary_core::policy::TrustedPolicy;
use canary_core::remote::{self, Concurrent, Pin, Pins, Seen, SiteRecord};
use canary_core::sanitize;
use canary_core::timefmt::{human_duration, Timestamp};
use canary_core::verify;
use canary_core::watch::{self, Entry, Observation, Status, WatchRecord, WatchState};

use super::{verify_foreign, verify_url};

/// One row of the result.
#[derive(Serialize)]
struct Row {
    name: String,
    /// A foreign canary's kind (absent for our own format).
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<foreign::Kind>,
    /// The site, or a foreign canary's text (file or URL).
    url: String,
    status: Status,
    /// The table's status cell ("expiring in 5 days").
    status_text: String,
    needs_attention: bool,
    detail: String,
    sequence: Option<u64>,
    payload_sha256: Option<Sha256Digest>,
    issued_at: Option<Timestamp>,
    /// The canary's expiry: the next one is due by then.
    next_due: Option<Timestamp>,
    /// What changed since the last run ("" when nothing did).
    changed: String,
    failing_since: Option<Timestamp>,
}

#[derive(Serialize)]
struct JsonWatch<'a> {
    exit_code: u8,
    now: Timestamp,
    list: String,
    state_file: String,
    warn_days: u32,
    canaries: &'a [Row],
}

/// `$XDG_DATA_HOME/canary/watch-state.json`, beside verify's state file.
fn default_state_path() -> Result<PathBuf> {
    Ok(verify_url::default_state_path()?.with_file_name("watch-state.json"))
}

fn read_state(path: &Path) -> Result<WatchState> {
    if !path.exists() {
        return Ok(WatchState::default());
    }
    let bytes = store::read_capped_to(path, Limits::DEFAULT.max_watch_state_bytes)?;
    WatchState::parse(&bytes).map_err(|e| Error::input(path, e))
}

fn write_state(path: &Path, state: &WatchState) -> Result<()> {
    verify_url::ensure_parent(path)?;
    store::write_atomic(path, &state.to_json())
}

/// One list entry, ready to check: its key in the state file (the site's
/// root URL, or a foreign canary's series), and what its files gave.
struct Listed {
    entry: Entry,
    key: String,
    policy: Option<TrustedPolicy>,
    foreign: Option<ForeignReady>,
}

/// A foreign entry with its pinned keys read and its paths resolved
/// against the list's folder.
struct ForeignReady {
    kind: foreign::Kind,
    keys: verify_foreign::Keys,
    threshold: usize,
    text: Option<String>,
    sigs: Vec<String>,
    clearsigned: Option<String>,
    embedded: Option<String>,
    cadence_days: u32,
}

impl ForeignReady {
    fn spec(&self, timeout: u64) -> verify_foreign::Spec<'_> {
        verify_foreign::Spec {
            kind: self.kind,
            keys: &self.keys,
            threshold: self.threshold,
            text: self.text.as_deref(),
            sigs: &self.sigs,
            clearsigned: self.clearsigned.as_deref(),
            embedded: self.embedded.as_deref(),
            cadence_days: self.cadence_days,
            timeout,
        }
    }
}

/// A file or URL of a foreign entry: a relative path is the list's
/// folder's.
fn resolve(base: &Path, s: &str) -> String {
    if canary_core::remote::looks_like_url(s) || Path::new(s).is_absolute() {
        s.to_string()
    } else {
        base.join(s).to_string_lossy().into_owned()
    }
}

/// Reads a foreign entry's pinned keys (as `verify --foreign` does) and
/// checks its threshold against them.
fn ready(base: &Path, f: &watch::Foreign, threshold: Option<usize>) -> Result<ForeignReady> {
    let paths = |v: &[String]| -> Vec<PathBuf> { v.iter().map(|p| base.join(p)).collect() };
    let keys = verify_foreign::read_keys(
        f.kind,
        &paths(&f.certs),
        &f.fingerprints,
        &paths(&f.certifiers),
        &paths(&f.signify_keys),
    )?;
    let pinned = keys.ids().len();
    let threshold = match threshold {
        None => pinned,
        Some(t) if t <= pinned => t,
        Some(t) => {
            return Err(Error::Usage(format!(
                "`threshold` {t} must be between 1 and the number of pinned keys ({pinned})"
            )))
        }
    };
    let one = |v: &Option<String>| v.as_deref().map(|s| resolve(base, s));
    Ok(ForeignReady {
        kind: f.kind,
        threshold,
        text: one(&f.text),
        sigs: f.sigs.iter().map(|s| resolve(base, s)).collect(),
        clearsigned: one(&f.clearsigned),
        embedded: one(&f.embedded),
        cadence_days: f.cadence_days,
        keys,
    })
}

/// Reads the list and the files it names (relative to its folder): the
/// policy files, and the keys of foreign entries. A problem names the list,
/// the line and the entry.
fn read_list(path: &Path) -> Result<Vec<Listed>> {
    let bytes = store::read_capped_to(path, Limits::DEFAULT.max_watch_list_bytes)?;
    let text = String::from_utf8(bytes).map_err(|_| Error::input(path, "is not UTF-8 text"))?;
    let entries = watch::parse_list(&text).map_err(|e| Error::input(path, e))?;
    let base = path.parent().unwrap_or(Path::new(""));
    let mut series: BTreeMap<String, usize> = BTreeMap::new();
    entries
        .into_iter()
        .map(|e| {
            let policy = e
                .policy
                .as_deref()
                .map(|p| {
                    canary::project::load_policy(&base.join(p))
                        .map_err(|x| Error::input(path, format!("line {}: policy: {x}", e.line)))
                })
                .transpose()?;
            let at = |x: String| {
                Error::input(
                    path,
                    format!("line {}: `{}`: {x}", e.line, sanitize::line(&e.name)),
                )
            };
            let (key, foreign) = match (&e.site, &e.foreign) {
                (Some(site), _) => (site.key().to_string(), None),
                (None, Some(f)) => {
                    let r = ready(base, f, e.threshold).map_err(|x| at(x.to_string()))?;
                    let key = r.spec(0).series();
                    if let Some(first) = series.insert(key.clone(), e.line) {
                        return Err(at(format!(
                            "the same {} keys are already watched on line {first}",
                            f.kind.name()
                        )));
                    }
                    (key, Some(r))
                }
                (None, None) => unreachable!("an entry is a site or a foreign canary"),
            };
            Ok(Listed {
                entry: e,
                key,
                policy,
                foreign,
            })
        })
        .collect()
}

pub fn run(a: WatchArgs, now: Timestamp) -> Result<Exit> {
    let checks_at = super::parse_time(a.at.as_deref(), "--at", now)?;
    let list = read_list(&a.list)?;
    let state_path = match &a.state {
        Some(p) => p.clone(),
        None => default_state_path()?,
    };
    let state = read_state(&state_path)?;
    let cache_dir = cache::dir_for(&state_path);

    // One client (one connection pool) for every site; each site's own
    // deadline bounds it, whatever the others do.
    let longest = list
        .iter()
        .map(|l| l.entry.timeout.unwrap_or(a.timeout))
        .max()
        .unwrap_or(a.timeout);
    let client = verify_url::client(Duration::from_secs(longest))?;

    let progress = progress_bar(list.len() as u64);
    let results: Vec<Mutex<Option<Checked>>> = list.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let jobs = usize::from(a.jobs).min(list.len()).max(1);
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(l) = list.get(i) else {
                    break;
                };
                let prev = state.sites.get(&l.key);
                let r = match &l.foreign {
                    Some(f) => check_foreign(f, &l.entry, prev, &a, checks_at),
                    None => check_one(&client, &cache_dir, l, prev, &a, checks_at),
                };
                *results[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
                progress.inc(1);
            });
        }
    });
    progress.finish_and_clear();
    let checked = results
        .into_iter()
        .map(|slot| {
            slot.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .expect("every entry was checked")
        })
        .collect();
    let rows = remember(&state_path, &state, &list, checked, checks_at, now)?;
    verify_url::bound_cache(&cache_dir);

    let exit = watch::exit(rows.iter().map(|r| r.status));
    if a.json {
        let j = JsonWatch {
            exit_code: exit.code(),
            now: checks_at,
            list: show_path(&a.list),
            state_file: show_path(&state_path),
            warn_days: a.warn_days,
            canaries: &rows,
        };
        super::out(&canary_core::json::to_report(&j));
    } else {
        super::out(&table(&rows, now));
    }
    Ok(exit)
}

/// Writes the state file once, after every site was checked, and returns
/// the rows of the result. Another watch may have written the file while
/// this one ran (from `state`), so under its lock it is read again and
/// each listed site's record merged into it ([`site_record`],
/// [`watch::merge_record`]); every other site keeps the file's record.
fn remember(
    state_path: &Path,
    state: &WatchState,
    list: &[Listed],
    checked: Vec<Checked>,
    checks_at: Timestamp,
    now: Timestamp,
) -> Result<Vec<Row>> {
    verify_url::ensure_parent(state_path)?;
    let _lock = lock::state(state_path, "watch")?;
    let mut written = read_state(state_path)?;
    let mut rows = Vec::with_capacity(list.len());
    for (l, (mut obs, verified, series)) in list.iter().zip(checked) {
        let (entry, key) = (&l.entry, l.key.clone());
        let prev = state.sites.get(&key);
        let on_disk = written.sites.get(&key);
        let site = site_record(prev, on_disk, verified, &mut obs, now);
        let changed = watch::changes(prev, &obs);
        let mut ours = watch::next_record(prev, &entry.name, site, &obs, now);
        if series.is_some() {
            ours.foreign = series;
        }
        let (kind, url) = match &l.foreign {
            Some(f) => (Some(f.kind), obs_source(f)),
            None => (None, key.clone()),
        };
        rows.push(Row {
            name: entry.name.clone(),
            kind,
            url,
            status: obs.status,
            status_text: obs.status_text(checks_at),
            needs_attention: obs.status.needs_attention(),
            detail: obs.detail,
            sequence: obs.sequence,
            payload_sha256: obs.payload_sha256,
            issued_at: obs.issued_at,
            next_due: obs.expires_at,
            changed,
            failing_since: ours.failing_since,
        });
        let rec = watch::merge_record(prev, on_disk, ours);
        written.sites.insert(key, rec);
    }
    // Sites no longer listed keep their records (their pins and the canary
    // seen there), so taking an entry out for a while weakens nothing.
    write_state(state_path, &written)?;
    Ok(rows)
}

/// What one entry came to; for a site whose every check passed, what the
/// remote record is to be updated with; for a foreign canary, its series'
/// new record when it may move.
type Checked = (Observation, Option<Verified>, Option<state::Record>);

/// The text a foreign row names: its `url`, or the clear-signed /
/// embedded file.
fn obs_source(f: &ForeignReady) -> String {
    let s = f
        .text
        .as_deref()
        .or(f.clearsigned.as_deref())
        .or(f.embedded.as_deref())
        .unwrap_or_default();
    verify_foreign::Source::of(s).show()
}

/// A site whose verification passed: the pin to record (the newest
/// version of the chain trusted), that chain's hashes, and what was seen.
struct Verified {
    pin: Pin,
    chain: Vec<Sha256Digest>,
    seen: Seen,
    /// Where its incident log ended, if it has one.
    log: Option<LogMark>,
}

/// The remote record to keep for a site, merged under the lock with the
/// one in the file now ([`remote::merge_record`], as `verify URL` does):
/// updated only when every check passed, never backwards, a pin another
/// run wrote meanwhile kept. A canary another run recorded that this
/// run's contradicts turns this run's status into a rollback.
fn site_record(
    prev: Option<&WatchRecord>,
    on_disk: Option<&WatchRecord>,
    verified: Option<Verified>,
    obs: &mut Observation,
    now: Timestamp,
) -> Option<SiteRecord> {
    let started = prev.and_then(|r| r.site.as_ref());
    let disk = match on_disk {
        Some(r) => r.site.as_ref(),
        None => started,
    };
    let Some(v) = verified else {
        return disk.cloned();
    };
    match remote::merge_record(started, disk, v.pin, &v.chain, &v.seen, now) {
        Ok(mut r) => {
            // A verified site passed every check: it moves the checkpoint.
            let newest = *v.chain.last().expect("a chain has a version");
            remote::advance_checkpoint(&mut r, &v.seen, newest, now);
            r.incident_log = v.log;
            Some(r)
        }
        Err(Concurrent::PinChanged { .. }) => disk.cloned(),
        Err(Concurrent::Seen(f)) => {
            obs.status = Status::from_class(f.class);
            obs.detail = sanitize::line(&f.message());
            disk.cloned()
        }
    }
}

/// A progress bar on stderr when it is a terminal; hidden otherwise.
fn progress_bar(len: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("checking {pos}/{len} canaries {wide_bar}") {
        bar.set_style(style);
    }
    bar
}

/// Fetches and verifies one site; never fails: every problem is a status.
/// Returns what was seen and, when every check passed (like `canary verify
/// URL`), what to update the remote record with.
fn check_one(
    client: &Client,
    cache_dir: &Path,
    l: &Listed,
    prev_watch: Option<&WatchRecord>,
    a: &WatchArgs,
    checks_at: Timestamp,
) -> Checked {
    let (entry, policy) = (&l.entry, l.policy.as_ref());
    let site = entry.site.as_ref().expect("not a foreign entry");
    let prev = prev_watch.and_then(|r| r.site.as_ref());
    let pins = Pins {
        policy,
        keys: &entry.keys,
        min_threshold: entry.threshold,
        first_use: entry.trust_on_first_use,
        replace_pin: entry.replace_pin,
    };
    let deadline = Deadline::after(Duration::from_secs(entry.timeout.unwrap_or(a.timeout)));
    let cached = verify_url::uses_cache(prev, a.full, entry.replace_pin)
        .then(|| cache::load(cache_dir, site.key()))
        .flatten();
    // A valid list always says whom to trust, so there is no first-contact
    // hint to word.
    let again = verify_url::Again {
        command: "verify",
        state: None,
    };
    match verify_url::check_site(
        client,
        deadline,
        site,
        &pins,
        prev,
        a.full,
        cached.as_ref(),
        checks_at,
        &again,
    ) {
        Ok((mut out, fetched)) => {
            if let Some(b) = prev_watch.and_then(watch::rollback_baseline) {
                verify::add_failures(&mut out.report, remote::check_seen(Some(&b), &out.seen));
            }
            let r = &out.report;
            let latest = r.latest.as_ref();
            let status = match (r.failure, latest) {
                (Some(c), _) => Status::from_class(c),
                (None, Some(l)) => watch::fresh_status(l.expires_at, checks_at, a.warn_days),
                (None, None) => Status::Malformed,
            };
            let detail = match (r.failures.first(), latest) {
                (Some(f), _) => sanitize::rendered_line(&f.message()),
                (None, Some(l)) => format!(
                    "canary {} expires at {} ({})",
                    l.sequence,
                    l.expires_at,
                    human_duration(checks_at.seconds_until(l.expires_at))
                ),
                (None, None) => String::new(),
            };
            // Only a full pass moves the record, and with it the pin along
            // the site's chain.
            let verified = r.failure.is_none().then(|| Verified {
                pin: out.accepted.pin,
                chain: out.chain.versions.iter().map(|v| v.sha256).collect(),
                seen: out.seen.clone(),
                log: out.incidents.as_deref().and_then(LogMark::of),
            });
            // Written here, by the worker, so that no more than `--jobs`
            // sites' bytes are held at once; only for a site whose every
            // check passed.
            if verified.is_some() {
                let next = verify_url::cache_after(site, &out, fetched);
                verify_url::save_cache(cache_dir, &next, cached.as_ref());
            }
            let obs = Observation {
                status,
                detail,
                sequence: latest.map(|l| l.sequence),
                payload_sha256: latest.map(|l| l.sha256),
                issued_at: latest.map(|l| l.issued_at),
                expires_at: latest.map(|l| l.expires_at),
            };
            (obs, verified, None)
        }
        Err(e) => (failed(&e), None, None),
    }
}

/// What a run that could not verify came to: the error's status.
fn failed(e: &Error) -> Observation {
    let status = match e {
        Error::Verification { class, .. } => Status::from_class(*class),
        Error::Refused { .. } => Status::NotPinned,
        Error::Fetch(FetchError::TooLarge { .. }) => Status::Malformed,
        Error::Fetch(_) => Status::Unreachable,
        _ => Status::Malformed,
    };
    Observation {
        status,
        detail: sanitize::rendered_line(&e.to_string()),
        sequence: None,
        payload_sha256: None,
        issued_at: None,
        expires_at: None,
    }
}

/// Fetches and verifies one foreign canary exactly as `canary verify
/// --foreign` does ([`verify_foreign::check`]), against its series' record
/// in the watch state: a trip or a rollback is found as there. Never fails:
/// every problem is a status.
fn check_foreign(
    f: &ForeignReady,
    entry: &Entry,
    prev_watch: Option<&WatchRecord>,
    a: &WatchArgs,
    checks_at: Timestamp,
) -> Checked {
    let previous = prev_watch.and_then(|r| r.foreign.as_ref());
    let spec = f.spec(entry.timeout.unwrap_or(a.timeout));
    let report = match verify_foreign::check(&spec, checks_at, previous) {
        Ok((r, _)) => r,
        Err(e) => return (failed(&e), None, None),
    };
    let c = report.canary.as_ref();
    let expires_at = c.and_then(|c| c.expires_at);
    let status = match (report.failure, expires_at) {
        (Some(class), _) => Status::from_class(class),
        (None, Some(e)) => watch::fresh_status(e, checks_at, a.warn_days),
        (None, None) => Status::Malformed,
    };
    let detail = match (report.failures.first(), expires_at) {
        // A finding may span lines (a reworded statement's before and now).
        (Some(x), _) => sanitize::rendered_line(
            &x.problem
                .to_string()
                .lines()
                .map(str::trim)
                .collect::<Vec<_>>()
                .join(" "),
        ),
        (None, Some(e)) => format!(
            "canary of {} expires at {e} ({})",
            c.and_then(|c| c.issued_at)
                .map_or("-".into(), |t| t.to_string()),
            human_duration(checks_at.seconds_until(e))
        ),
        (None, None) => String::new(),
    };
    let obs = Observation {
        status,
        detail,
        sequence: c.and_then(|c| c.serial),
        payload_sha256: c.map(|_| report.content_sha256),
        issued_at: c.and_then(|c| c.issued_at),
        expires_at,
    };
    // A watch never adopts new statements: a trip stays reported until the
    // canary's statements are back (docs/USAGE-check-watch.md).
    let record = report.record(previous, false);
    (obs, None, record)
}

fn date(t: Option<Timestamp>) -> String {
    t.map_or("-".into(), |t| t.to_string().chars().take(10).collect())
}

/// The table a person reads, then one line of detail for each canary that
/// needs attention, then a summary.
fn table(rows: &[Row], now: Timestamp) -> String {
    let head = ["NAME", "STATUS", "SEQ", "ISSUED", "NEXT DUE", "CHANGED"];
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            [
                sanitize::line(&r.name),
                r.status_text.clone(),
                r.sequence.map_or("-".into(), |n| n.to_string()),
                date(r.issued_at),
                date(r.next_due),
                if r.changed.is_empty() {
                    "-".into()
                } else {
                    r.changed.clone()
                },
            ]
        })
        .collect();
    let mut width = head.map(|h| h.chars().count());
    for c in &cells {
        for (w, cell) in width.iter_mut().zip(c) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let fmt = |cols: [&str; 6]| {
        let mut line = String::new();
        for (i, (c, w)) in cols.iter().zip(width).enumerate() {
            if i + 1 == cols.len() {
                line.push_str(c);
            } else {
                line.push_str(c);
                line.push_str(&" ".repeat(w - c.chars().count() + 2));
            }
        }
        line.push('\n');
        line
    };
    let mut o = fmt(head);
    for c in &cells {
        o.push_str(&fmt([&c[0], &c[1], &c[2], &c[3], &c[4], &c[5]]));
    }
    let attention: Vec<&Row> = rows.iter().filter(|r| r.needs_attention).collect();
    if !attention.is_empty() {
        o.push('\n');
        for r in &attention {
            let since = match r.failing_since {
                Some(t) if t != now => format!(" (failing since {t})"),
                _ => String::new(),
            };
            o.push_str(&format!(
                "{}: {}{since}\n",
                sanitize::line(&r.name),
                r.detail
            ));
        }
    }
    let expiring = rows.iter().filter(|r| r.status == Status::Expiring).count();
    o.push_str(&format!(
        "\n{} canaries: {} valid, {} expiring, {} need attention\n",
        rows.len(),
        rows.iter().filter(|r| r.status == Status::Valid).count(),
        expiring,
        attention.len()
    ));
    o
}
