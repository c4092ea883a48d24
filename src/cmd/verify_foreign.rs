//! `canary verify --foreign openpgp|signify`: a plain-text canary as Qubes
//! OS and Kicksecure publish them (docs/USAGE-foreign.md). Reads the text,
//! its signatures and the pinned keys (files or URLs), calls the core
//! (`canary_core::foreign::verify`), asks the block explorers with
//! `--online`, and remembers the canary in `--state`.

use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use crate::cli::{ForeignKind, VerifyArgs};
use canary::error::{show_path, Error, Result};
use canary::fetch::Client;
use canary::{lock, store};
use canary_core::exit::Exit;
use canary_core::foreign::{self, openpgp, signify, state, Kind};
use canary_core::limits::Limits;
use canary_core::sanitize;
use canary_core::timefmt::Timestamp;

/// Where one input comes from: a file, or a URL (HTTPS, or HTTP to
/// loopback only, as everywhere else).
pub(crate) enum Source<'a> {
    File(&'a Path),
    Url(&'a str),
}

impl<'a> Source<'a> {
    pub(crate) fn of(s: &'a str) -> Self {
        if canary_core::remote::looks_like_url(s) {
            Source::Url(s)
        } else {
            Source::File(Path::new(s))
        }
    }
    pub(crate) fn show(&self) -> String {
        match self {
            Source::File(p) => show_path(p),
            Source::Url(u) => sanitize::line(u),
        }
    }
}

/// Reads an input, capped like every other file (1 MiB).
pub(crate) fn read(src: &Source<'_>, client: &mut Option<Client>, timeout: u64) -> Result<Vec<u8>> {
    match src {
        Source::File(p) => store::read_capped(p),
        Source::Url(u) => {
            canary_core::address::check_url(u)?;
            if client.is_none() {
                *client = Some(super::verify_url::client(Duration::from_secs(timeout))?);
            }
            Ok(client.as_ref().expect("just made").get(u)?)
        }
    }
}

/// The keys pinned for one kind, read from their files.
pub(crate) enum Keys {
    Openpgp {
        certs: Vec<openpgp::Cert>,
        certifiers: Vec<openpgp::Cert>,
    },
    Signify(Vec<signify::Key>),
}

impl Keys {
    pub(crate) fn ids(&self) -> Vec<String> {
        match self {
            Keys::Openpgp { certs, .. } => certs.iter().map(|c| c.fingerprint.clone()).collect(),
            Keys::Signify(k) => k.iter().map(signify::Key::keynum_hex).collect(),
        }
    }
}

fn read_certs(paths: &[impl AsRef<Path>]) -> Result<Vec<openpgp::Cert>> {
    let mut out = Vec::new();
    for p in paths {
        let bytes = store::read_capped(p.as_ref())?;
        out.extend(openpgp::read_certs(&bytes).map_err(|e| Error::input(p.as_ref(), e))?);
    }
    Ok(out)
}

/// Reads the pinned keys: OpenPGP certificates (narrowed to the
/// fingerprints, if any) and certifiers, or signify public keys.
pub(crate) fn read_keys(
    kind: Kind,
    certs: &[impl AsRef<Path>],
    fingerprints: &[String],
    certifiers: &[impl AsRef<Path>],
    signify_keys: &[impl AsRef<Path>],
) -> Result<Keys> {
    match kind {
        Kind::Openpgp => {
            if certs.is_empty() {
                return Err(Error::Usage(
                    "--foreign openpgp needs the signers' certificates: --cert FILE for each"
                        .into(),
                ));
            }
            let all = read_certs(certs)?;
            let certs = openpgp::pin(all, fingerprints).map_err(|e| match e {
                openpgp::OpenPgpError::Fingerprint(_) => {
                    Error::Usage(format!("--fingerprint: {e}"))
                }
                other => Error::Usage(format!("--fingerprint: {other}")),
            })?;
            Ok(Keys::Openpgp {
                certs,
                certifiers: read_certs(certifiers)?,
            })
        }
        Kind::Signify => {
            if signify_keys.is_empty() {
                return Err(Error::Usage(
                    "--foreign signify needs the public key: --signify-key FILE".into(),
                ));
            }
            let mut keys = Vec::new();
            for p in signify_keys {
                let bytes = store::read_capped(p.as_ref())?;
                let k = signify::read_key(&bytes).map_err(|e| Error::input(p.as_ref(), e))?;
                if !keys.iter().any(|x: &signify::Key| x.keynum == k.keynum) {
                    keys.push(k);
                }
            }
            Ok(Keys::Signify(keys))
        }
    }
}

/// The text and signatures of one canary, read.
pub(crate) struct Fetched {
    pub text: Vec<u8>,
    /// OpenPGP: the bytes signed (the clear-signed canonical text, or `text`).
    pub signed: Vec<u8>,
    pub openpgp: Vec<openpgp::Signature>,
    pub signify: Vec<signify::Sig>,
}

/// Reads the text (or the clear-signed / embedded form) and each
/// detached signature.
pub(crate) fn fetch(
    kind: Kind,
    text: Option<&Source<'_>>,
    sigs: &[Source<'_>],
    clearsigned: Option<&Source<'_>>,
    embedded: Option<&Source<'_>>,
    client: &mut Option<Client>,
    timeout: u64,
) -> Result<Fetched> {
    let mut f = Fetched {
        text: Vec::new(),
        signed: Vec::new(),
        openpgp: Vec::new(),
        signify: Vec::new(),
    };
    if let Some(c) = clearsigned {
        let bytes = read(c, client, timeout)?;
        let ct = openpgp::read_cleartext(&bytes).map_err(|e| Error::Input {
            path: c.show(),
            problem: e.to_string(),
        })?;
        f.signed = ct.signed_bytes().to_vec();
        f.text = ct.text.into_bytes();
        f.openpgp = ct.signatures;
    }
    if let Some(e) = embedded {
        let bytes = read(e, client, timeout)?;
        let sig = signify::read_sig(&bytes, true).map_err(|err| Error::Input {
            path: e.show(),
            problem: err.to_string(),
        })?;
        f.text = sig.embedded.clone().unwrap_or_default();
        f.signify.push(sig);
    }
    if let Some(t) = text {
        let bytes = read(t, client, timeout)?;
        // With an embedded signature too, the text given must be the one
        // it carries (signify::check refuses it otherwise).
        f.text = bytes;
    }
    if kind == Kind::Openpgp && clearsigned.is_none() {
        f.signed = f.text.clone();
    }
    for s in sigs {
        let bytes = read(s, client, timeout)?;
        let bad = |problem: String| Error::Input {
            path: s.show(),
            problem,
        };
        match kind {
            Kind::Openpgp => f
                .openpgp
                .extend(openpgp::read_signatures(&bytes).map_err(|e| bad(e.to_string()))?),
            Kind::Signify => f
                .signify
                .push(signify::read_sig(&bytes, false).map_err(|e| bad(e.to_string()))?),
        }
    }
    Ok(f)
}

/// The threshold: `--threshold`, else every pinned key.
pub(crate) fn threshold(given: Option<usize>, pinned: usize) -> Result<usize> {
    match given {
        None => Ok(pinned),
        Some(t) if (1..=pinned).contains(&t) => Ok(t),
        Some(t) => Err(Error::Usage(format!(
            "--threshold {t}: must be between 1 and the number of pinned keys ({pinned})"
        ))),
    }
}

#[derive(Serialize)]
struct JsonReport<'a> {
    exit_code: u8,
    text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    state_file: Option<String>,
    state_updated: bool,
    previously_seen: Option<&'a state::Record>,
    #[serde(flatten)]
    report: &'a foreign::Report,
}

fn usage(a: &VerifyArgs) -> Result<()> {
    let f = &a.foreign;
    let r = &a.remote;
    if !r.keys.is_empty() || r.trust_on_first_use || r.replace_pin || r.full || a.policy.is_some() {
        return Err(Error::Usage(
            "--key, --trust-on-first-use, --replace-pin, --full and --policy are for our own format, not --foreign".into(),
        ));
    }
    match f.foreign {
        Some(ForeignKind::Openpgp) => {
            if !f.signify_keys.is_empty() || f.embedded.is_some() {
                return Err(Error::Usage(
                    "--signify-key and --embedded are for --foreign signify".into(),
                ));
            }
            if f.clearsigned.is_some() && a.path.is_some() {
                return Err(Error::Usage(
                    "give the canary text or --clearsigned, not both (the clear-signed file holds the text)".into(),
                ));
            }
            if f.clearsigned.is_none() && (a.path.is_none() || f.sigs.is_empty()) {
                return Err(Error::Usage(
                    "--foreign openpgp needs the canary text and --sig FILE|URL for each signature, or --clearsigned FILE|URL".into(),
                ));
            }
        }
        Some(ForeignKind::Signify) => {
            if !f.certs.is_empty()
                || !f.fingerprints.is_empty()
                || !f.certifiers.is_empty()
                || f.clearsigned.is_some()
            {
                return Err(Error::Usage(
                    "--cert, --fingerprint, --certifier and --clearsigned are for --foreign openpgp".into(),
                ));
            }
            if f.embedded.is_none() && (a.path.is_none() || f.sigs.is_empty()) {
                return Err(Error::Usage(
                    "--foreign signify needs the canary text and --sig FILE|URL, or --embedded FILE|URL".into(),
                ));
            }
        }
        None => {}
    }
    if f.accept_statements && r.state.is_none() {
        return Err(Error::Usage(
            "--accept-statements needs --state FILE".into(),
        ));
    }
    Ok(())
}

pub fn run(root: &Path, a: &VerifyArgs, now: Timestamp) -> Result<Exit> {
    usage(a)?;
    let f = &a.foreign;
    let kind = match f.foreign.expect("--foreign given") {
        ForeignKind::Openpgp => Kind::Openpgp,
        ForeignKind::Signify => Kind::Signify,
    };
    let now = super::parse_time(a.at.as_deref(), "--at", now)?;
    let keys = read_keys(
        kind,
        &f.certs,
        &f.fingerprints,
        &f.certifiers,
        &f.signify_keys,
    )?;
    let threshold = threshold(a.remote.threshold, keys.ids().len())?;
    let text_arg = a.path.as_deref().map(|p| p.to_string_lossy().into_owned());
    let spec = Spec {
        kind,
        keys: &keys,
        threshold,
        text: text_arg.as_deref(),
        sigs: &f.sigs,
        clearsigned: f.clearsigned.as_deref(),
        embedded: f.embedded.as_deref(),
        cadence_days: f.cadence_days,
        timeout: a.remote.timeout,
    };
    let series = spec.series();
    let state_path = a.remote.state.as_deref();
    let previous = match state_path {
        Some(p) => read_state(p)?.sites.remove(&series),
        None => None,
    };
    let (mut report, shown) = check(&spec, now, previous.as_ref())?;
    if a.online {
        online(root, &a.explorers, &mut report)?;
    }
    let mut updated = false;
    if let Some(p) = state_path {
        if let Some(rec) = report.record(previous.as_ref(), f.accept_statements) {
            updated = remember(p, &series, rec, "canary verify --foreign")?;
        }
    }
    let exit = report.failure.map_or(Exit::Ok, Exit::from);
    if a.json {
        let j = JsonReport {
            exit_code: exit.code(),
            text: shown,
            state_file: state_path.map(show_path),
            state_updated: updated,
            previously_seen: previous.as_ref(),
            report: &report,
        };
        super::out(&canary_core::json::to_report(&j));
    } else {
        let st = state_path.map(|p| {
            let what = if updated { "updated" } else { "not updated" };
            format!("{} ({what})", show_path(p))
        });
        super::out(&foreign::render::report(&report, &shown, st.as_deref()));
    }
    Ok(exit)
}

/// One foreign canary to check, as `verify --foreign`'s flags (or a watch
/// list entry) give it: each input a file or a URL.
pub(crate) struct Spec<'a> {
    pub kind: Kind,
    pub keys: &'a Keys,
    pub threshold: usize,
    pub text: Option<&'a str>,
    pub sigs: &'a [String],
    pub clearsigned: Option<&'a str>,
    pub embedded: Option<&'a str>,
    pub cadence_days: u32,
    /// Seconds, for the URLs.
    pub timeout: u64,
}

impl Spec<'_> {
    /// The key of its series in a state file.
    pub(crate) fn series(&self) -> String {
        state::series_key(self.kind, &self.keys.ids())
    }
}

/// Reads and verifies one foreign canary against `previous` (the state
/// file's record of its series): `canary verify --foreign` and `canary
/// watch` both. Returns the report and the text's name as shown.
pub(crate) fn check(
    spec: &Spec<'_>,
    now: Timestamp,
    previous: Option<&state::Record>,
) -> Result<(foreign::Report, String)> {
    let text_src = spec.text.map(Source::of);
    let sigs: Vec<Source<'_>> = spec.sigs.iter().map(|s| Source::of(s)).collect();
    let clear = spec.clearsigned.map(Source::of);
    let embedded = spec.embedded.map(Source::of);
    let mut client = None;
    let fetched = fetch(
        spec.kind,
        text_src.as_ref(),
        &sigs,
        clear.as_ref(),
        embedded.as_ref(),
        &mut client,
        spec.timeout,
    )?;
    let shown = text_src
        .as_ref()
        .or(clear.as_ref())
        .or(embedded.as_ref())
        .map(Source::show)
        .unwrap_or_default();
    let report = verify_fetched(
        spec.keys,
        &fetched,
        spec.threshold,
        spec.cadence_days,
        now,
        previous,
    );
    Ok((report, shown))
}

/// The core's verification over what was read.
pub(crate) fn verify_fetched(
    keys: &Keys,
    f: &Fetched,
    threshold: usize,
    cadence_days: u32,
    now: Timestamp,
    previous: Option<&state::Record>,
) -> foreign::Report {
    let signatures = match keys {
        Keys::Openpgp { certs, certifiers } => foreign::Signatures::Openpgp {
            sigs: &f.openpgp,
            signed: &f.signed,
            certs,
            certifiers,
        },
        Keys::Signify(keys) => foreign::Signatures::Signify {
            sigs: &f.signify,
            keys,
        },
    };
    foreign::verify(foreign::Input {
        text: &f.text,
        signatures,
        threshold,
        cadence_days,
        now,
        previous,
    })
}

pub(crate) fn read_state(path: &Path) -> Result<state::State> {
    if !path.exists() {
        return Ok(state::State::default());
    }
    let bytes = store::read_capped(path)?;
    state::State::parse(&bytes).map_err(|e| Error::input(path, e))
}

/// Writes `rec` under the state file's lock, unless another run recorded
/// a newer canary of the series meanwhile. Returns whether it wrote.
fn remember(path: &Path, series: &str, rec: state::Record, command: &str) -> Result<bool> {
    super::verify_url::ensure_parent(path)?;
    let _lock = lock::state(path, command)?;
    let mut st = read_state(path)?;
    if st
        .sites
        .get(series)
        .is_some_and(|d| d.issued_at > rec.issued_at)
    {
        return Ok(false);
    }
    st.sites.insert(series.to_string(), rec);
    store::write_atomic(path, &st.to_json())?;
    Ok(true)
}

/// `--online`: asks each explorer about the block the text names (by
/// hash: `/block/HASH`, then `/block-height/H` for the main chain; by
/// height: as `verify --online` does), and compares its time with the
/// issue time.
pub(crate) fn online(
    root: &Path,
    explorers: &[String],
    report: &mut foreign::Report,
) -> Result<()> {
    let Some(c) = &report.canary else {
        return Ok(());
    };
    let (Some(issued), hash, height) = (
        c.issued_at,
        c.freshness.block_hash.clone(),
        c.freshness.block_height,
    ) else {
        return Ok(());
    };
    if hash.is_none() && height.is_none() {
        report.add_online(vec![(
            "--online: the text names no Bitcoin block to check".into(),
            true,
        )]);
        return Ok(());
    }
    let cfg = super::verify::explorer_config(root, explorers)?;
    let client = super::freshness::client(&cfg, Limits::DEFAULT.max_explorer_bytes)?;
    let answers: Vec<foreign::BlockAnswer> = cfg
        .explorers
        .iter()
        .map(|base| {
            let answer = match (&hash, height) {
                (Some(h), _) => by_hash(&client, base, h),
                (None, Some(n)) => {
                    let a = super::freshness::ask(&client, base, n, None);
                    match a.answer {
                        Ok((hash, Some(t))) => Ok((n, hash, t)),
                        Ok((_, None)) => Err("gave no block time".into()),
                        Err(e) => Err(e),
                    }
                }
                (None, None) => unreachable!("checked above"),
            };
            (base.clone(), answer)
        })
        .collect();
    report.add_online(foreign::online_problems(issued, &answers));
    Ok(())
}

fn by_hash(client: &Client, base: &str, hash: &str) -> Result<(u64, String, Timestamp), String> {
    let ep = |p: String| format!("{}/{p}", base.trim_end_matches('/'));
    let url = ep(format!("block/{hash}"));
    let body = client.get(&url).map_err(|e| e.to_string())?;
    let (height, time) = canary_core::freshness::parse_block_by_hash(&body, hash)
        .map_err(|e| format!("block/{hash}: {e}"))?;
    let url = ep(format!("block-height/{height}"));
    let body = client.get(&url).map_err(|e| e.to_string())?;
    let main = canary_core::freshness::parse_hash(&body).map_err(|e| e.to_string())?;
    if main != hash {
        return Err(format!(
            "block {hash} is not on the main chain (block {height} there is {main})"
        ));
    }
    Ok((height, hash.to_string(), time))
}
