//! The site's edges: reading the published texts and signatures, writing
//! the site atomically beside its final place, and uploading it.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use canary::error::{show_path, Error, Result};
use canary::fetch::{Client, RequestLimits};
use canary::store;
use canary_core::canarytext::{self, TextInput};
use canary_core::digest::Sha256Digest;
use canary_core::envelope::Envelope;
use canary_core::policy::{Policy, TrustedPolicy};
use canary_core::site::{self, PublishedCanary, SiteFile, TextRecord};
use canary_core::statement::Statement;
use canary_core::textsig::TextSignatures;
use canary_core::verify::{CanaryFile, Report};

/// The exact `canary.txt` bytes of a canary. `canary sign` and
/// `canary publish` both call this, so what signers sign is what is
/// published. The proof of freshness and the incident-log commitment are
/// rendered from the signed statement itself (never from the log file or
/// the clock), so every signer and the publisher get the same bytes.
pub(crate) fn text_for(st: &Statement, payload_sha256: Sha256Digest, policy: &Policy) -> String {
    canarytext::render(&TextInput {
        statement: st,
        payload_sha256,
        policy,
        sections: &[],
    })
}

/// `canaries/NNNN.txt`.
pub(crate) fn text_path(dir: &Path, number: u64) -> PathBuf {
    dir.join(format!("{number:04}.txt"))
}

/// `canaries/NNNN.txt.NAME.sig` and `.minisig`.
pub(crate) fn sig_paths(dir: &Path, number: u64, signer: &str) -> (PathBuf, PathBuf) {
    (
        dir.join(format!("{number:04}.txt.{signer}.sig")),
        dir.join(format!("{number:04}.txt.{signer}.minisig")),
    )
}

/// Reads a published canary's text and signatures, if it has them.
fn read_text_record(dir: &Path, number: u64, policy: &Policy) -> Result<Option<TextRecord>> {
    let path = text_path(dir, number);
    if !path.exists() {
        return Ok(None);
    }
    let text = store::read_capped(&path)?;
    let mut signatures = Vec::new();
    for s in &policy.signers {
        let (sig, minisig) = sig_paths(dir, number, &s.name);
        match (sig.exists(), minisig.exists()) {
            (false, false) => continue,
            (true, true) => signatures.push((
                s.name.clone(),
                TextSignatures {
                    sshsig: store::read_text(&sig)?,
                    minisig: store::read_text(&minisig)?,
                },
            )),
            (true, false) => return Err(Error::input(minisig, "no such file (the .sig has one)")),
            (false, true) => return Err(Error::input(sig, "no such file (the .minisig has one)")),
        }
    }
    Ok(Some(TextRecord { text, signatures }))
}

/// Parses a verified history into what the site shows.
pub(crate) fn published(
    dir: &Path,
    files: &[CanaryFile],
    policy: &Policy,
) -> Result<Vec<PublishedCanary>> {
    let mut out = Vec::with_capacity(files.len());
    for f in files {
        let env = Envelope::parse(&f.bytes).map_err(|e| Error::input(&f.name, e))?;
        let statement = Statement::parse(&env.payload).map_err(|e| Error::input(&f.name, e))?;
        out.push(PublishedCanary {
            number: f.number,
            json: f.bytes.clone(),
            statement,
            payload_sha256: env.payload_digest(),
            text: read_text_record(dir, f.number, policy)?,
        });
    }
    Ok(out)
}

/// Inputs of a site build besides the history.
pub(crate) struct SiteSources {
    pub policy_bytes: Vec<u8>,
    pub incidents: Option<Vec<u8>>,
    /// The components listed in canary.toml (status shown for each).
    pub components: Vec<String>,
    pub base_url: String,
}

impl SiteSources {
    pub fn read(
        policy_path: &Path,
        trusted: &TrustedPolicy,
        canaries_dir: &Path,
        components: &[String],
        base_url: Option<&str>,
    ) -> Result<Self> {
        let policy_bytes = store::read_capped(policy_path)?;
        if Sha256Digest::of(&policy_bytes) != trusted.sha256 {
            return Err(Error::input(
                policy_path,
                "changed while canary was running",
            ));
        }
        let inc = canaries_dir.join("incidents.jsonl");
        let incidents = if inc.exists() {
            Some(store::read_capped(&inc)?)
        } else {
            None
        };
        let mut base_url = match base_url {
            Some(u) => canary_core::address::check_url(u)
                .map_err(|e| Error::Usage(format!("--base-url: {e}")))?
                .to_string(),
            None => format!("https://{}/", trusted.policy.domain),
        };
        if !base_url.ends_with('/') {
            base_url.push('/');
        }
        Ok(SiteSources {
            policy_bytes,
            incidents,
            components: components.to_vec(),
            base_url,
        })
    }
}

/// Builds the site's files (pure) from the verified history.
pub(crate) fn build(
    src: &SiteSources,
    trusted: &TrustedPolicy,
    canaries: &[PublishedCanary],
    latest_json: &[u8],
    report: &Report,
) -> Result<Vec<SiteFile>> {
    site::build(&site::SiteInput {
        policy_bytes: &src.policy_bytes,
        policy: trusted,
        canaries,
        latest_json,
        incidents: src.incidents.as_deref(),
        components: &src.components,
        report,
        base_url: &src.base_url,
    })
    .map_err(|e| Error::refused(format!("site not built, nothing changed: {e}")))
}

/// A complete site written to a temporary folder beside its destination,
/// waiting to be swapped in. Dropped without [`Staged::commit`], it is
/// removed and the destination is untouched.
pub(crate) struct Staged {
    tmp: tempfile::TempDir,
    dest: PathBuf,
}

/// Refuses to replace a folder that is not a site `canary` built: the swap
/// replaces the whole folder.
fn check_destination(dest: &Path) -> Result<()> {
    let meta = match fs::symlink_metadata(dest) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::write(dest, store::io_problem(&e))),
    };
    if !meta.is_dir() {
        return Err(Error::refused(format!(
            "{}: exists and is not a folder",
            show_path(dest)
        )));
    }
    let empty = fs::read_dir(dest)
        .map_err(|e| Error::write(dest, store::io_problem(&e)))?
        .next()
        .is_none();
    if !empty && !dest.join(site::WELL_KNOWN).is_file() {
        return Err(Error::refused_with_hint(
            format!(
                "{}: is a folder with other content, not a site built by canary",
                show_path(dest)
            ),
            "the site folder is replaced as a whole; pass an empty or new folder",
        ));
    }
    Ok(())
}

/// Writes every file into a new temporary folder beside `dest`.
pub(crate) fn stage(dest: &Path, files: &[SiteFile]) -> Result<Staged> {
    check_destination(dest)?;
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    store::ensure_dir(&parent)?;
    let tmp = tempfile::Builder::new()
        .prefix(".canary-site-")
        .tempdir_in(&parent)
        .map_err(|e| Error::write(dest, store::io_problem(&e)))?;
    #[cfg(unix)]
    {
        // Temporary folders are private; a site is for a web server to read.
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755))
            .map_err(|e| Error::write(dest, store::io_problem(&e)))?;
    }
    for f in files {
        let shown = dest.join(&f.path);
        let path = tmp.path().join(&f.path);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|e| Error::write(&shown, store::io_problem(&e)))?;
        }
        let mut file =
            fs::File::create(&path).map_err(|e| Error::write(&shown, store::io_problem(&e)))?;
        file.write_all(&f.bytes)
            .and_then(|_| file.sync_all())
            .map_err(|e| Error::write(&shown, store::io_problem(&e)))?;
    }
    Ok(Staged {
        tmp,
        dest: dest.to_path_buf(),
    })
}

impl Staged {
    /// Swaps the staged site in: atomically where the system can exchange
    /// two paths (Linux), else by two renames.
    pub fn commit(self) -> Result<()> {
        let dest = self.dest;
        let staged = self.tmp.keep();
        let fail = |e: std::io::Error, staged: &Path| {
            let _ = fs::remove_dir_all(staged);
            Error::write(&dest, store::io_problem(&e))
        };
        if fs::symlink_metadata(&dest).is_err() {
            return fs::rename(&staged, &dest).map_err(|e| fail(e, &staged));
        }
        match exchange(&staged, &dest) {
            Ok(()) => {
                // `staged` now holds the previous site.
                let _ = fs::remove_dir_all(&staged);
                Ok(())
            }
            Err(_) => {
                let old = staged.with_extension("old");
                fs::rename(&dest, &old).map_err(|e| fail(e, &staged))?;
                if let Err(e) = fs::rename(&staged, &dest) {
                    let _ = fs::rename(&old, &dest);
                    return Err(fail(e, &staged));
                }
                let _ = fs::remove_dir_all(&old);
                Ok(())
            }
        }
    }
}

#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use rustix::fs::{renameat_with, RenameFlags, CWD};
    renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).map_err(std::io::Error::from)
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
}

/// The `--upload` base URL, ending in `/`, or a usage error; `publish`
/// checks it before anything is written.
pub(crate) fn upload_base(base: &str) -> Result<String> {
    let mut base = base.to_string();
    if !base.ends_with('/') {
        base.push('/');
    }
    canary_core::address::check_url(&base).map_err(|e| Error::Usage(format!("--upload: {e}")))?;
    Ok(base)
}

/// PUTs every file under `base` in the site's order (the pointers last).
pub(crate) fn upload(base: &str, files: &[SiteFile]) -> Result<()> {
    let base = upload_base(base)?;
    let client = Client::new(RequestLimits::default()).map_err(|e| Error::write(&base, e))?;
    for (i, f) in files.iter().enumerate() {
        let url = format!("{base}{}", f.path);
        client
            .put(&url, f.bytes.clone(), f.content_type)
            .map_err(|e| Error::Write {
                path: "upload".into(),
                problem: format!(
                    "{e} (stopped after {i} of {} files; the .well-known pointer was not replaced, \
                     so readers still see the previous site; retry with \
                     `canary publish --rebuild --upload URL`)",
                    files.len()
                ),
            })?;
    }
    Ok(())
}
