//! The site's edges: reading the published texts and signatures, staging
//! the site where no web server serves it and swapping it in atomically,
//! and uploading it.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use canary::error::{show_path, Error, Result};
use canary::fetch::{Client, RequestLimits};
use canary::project::{Project, Versions};
use canary::store;
use canary_core::canarytext::{self, TextInput};
use canary_core::digest::Sha256Digest;
use canary_core::envelope::Envelope;
use canary_core::policy::{Policy, TrustedPolicy};
use canary_core::rotation::{ChainFile, PolicyChain};
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

/// Parses a verified history into what the site shows. Each canary's
/// text signatures are those of the signers of the policy version it is
/// signed under (the newest of `chain` for one it does not name).
pub(crate) fn published(
    dir: &Path,
    files: &[CanaryFile],
    chain: &PolicyChain,
) -> Result<Vec<PublishedCanary>> {
    let mut out = Vec::with_capacity(files.len());
    for f in files {
        let env = Envelope::parse(&f.bytes).map_err(|e| Error::input(&f.name, e))?;
        let statement = Statement::parse(&env.payload).map_err(|e| Error::input(&f.name, e))?;
        let policy = &chain
            .position(statement.policy_sha256)
            .map_or(chain.newest(), |i| &chain.versions[i])
            .policy;
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
    /// The exact bytes of the site's `keys/policy.json`.
    pub policy_bytes: Vec<u8>,
    /// Versions 1 to the site's policy version.
    pub chain: PolicyChain,
    /// The exact bytes of `keys/policy.1.json` and each
    /// `keys/rotation.K.json` up to the site's version (none if it is 1).
    pub chain_files: Vec<(String, Vec<u8>)>,
    pub incidents: Option<Vec<u8>>,
    /// The components listed in canary.toml (status shown for each).
    pub components: Vec<String>,
    pub base_url: String,
}

impl SiteSources {
    /// What the site of `project` is built from when its policy is version
    /// `versions.chain.versions[upto]` (in effect, or pending and taking
    /// effect with the canary being published).
    pub fn read(
        project: &Project,
        versions: &Versions,
        upto: usize,
        base_url: Option<&str>,
    ) -> Result<Self> {
        let trusted = &versions.chain.versions[upto];
        let policy_path = project.policy_path();
        let policy_bytes = match versions.pending_bytes(trusted.sha256) {
            Some(b) => b.to_vec(),
            None => store::read_capped(&policy_path)?,
        };
        if Sha256Digest::of(&policy_bytes) != trusted.sha256 {
            return Err(Error::input(
                &policy_path,
                "changed while canary was running",
            ));
        }
        let chain = versions.chain_upto(upto);
        let mut chain_files = Vec::new();
        if upto > 0 {
            let files = std::iter::once(ChainFile::FirstPolicy)
                .chain((2..=trusted.policy.version).map(ChainFile::Rotation));
            for f in files {
                let name = f.file_name();
                // Already walked by the chain: regular files, checked.
                let bytes = store::read_regular(&project.keys_dir().join(&name))?;
                chain_files.push((name, bytes));
            }
        }
        let canaries_dir = project.canaries_dir();
        let components = &project.config.components;
        let incidents =
            super::incident::read_log(&canaries_dir.join(canary_core::incidents::LOG_FILE))?;
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
            chain,
            chain_files,
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
        chain: &src.chain,
        chain_files: &src.chain_files,
        canaries,
        latest_json,
        incidents: src.incidents.as_deref(),
        components: &src.components,
        report,
        base_url: &src.base_url,
    })
    .map_err(|e| Error::refused(format!("site not built, nothing changed: {e}")))
}

/// The name prefix of a staging folder made beside the site, which
/// `canary publish` does only when its work folder is on another file
/// system than the site (older versions always staged there);
/// [`remove_stale_staging`] removes those left by a kill.
pub(crate) const BESIDE_PREFIX: &str = ".canary-site-";
/// The name prefix of a staging folder in `canary publish`'s work folder.
pub(crate) const STAGED_PREFIX: &str = "site-";

/// A complete site written to a private staging folder, waiting to be
/// swapped in. Dropped without [`Staged::keep`] or [`Staged::commit`], it
/// is removed and the destination is untouched.
///
/// The staging folder is in `canary publish`'s work folder in the project
/// (`.canary-publish/site-XXXXXX`), which no web server serves, whenever
/// that is on the site's file system (the swap is a rename, which cannot
/// cross file systems). Otherwise it is a `.canary-site-XXXXXX` folder
/// beside the site. Either way it is mode 0700 until the moment it is
/// swapped in, so a web server running as another user cannot read it.
pub(crate) struct Staged {
    tmp: tempfile::TempDir,
    /// The site folder, as an absolute path.
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

/// `dest` as an absolute path with its folder's symbolic links resolved,
/// so a journal can name it from any working directory.
pub(crate) fn absolute_site(dest: &Path) -> Result<PathBuf> {
    let werr = |e: std::io::Error| Error::write(dest, store::io_problem(&e));
    match dest.file_name() {
        Some(name) => Ok(fs::canonicalize(store::parent_dir(dest))
            .map_err(werr)?
            .join(name)),
        // `.`, `..`, `/`: a folder that exists (or the swap fails later).
        None => fs::canonicalize(dest).map_err(werr),
    }
}

/// Writes every file into a new private staging folder: in `work` (made if
/// need be) when it is on the site's file system, else beside `dest`.
/// Every file and folder is synced, so a journal may refer to it.
pub(crate) fn stage(dest: &Path, files: &[SiteFile], work: &Path) -> Result<Staged> {
    check_destination(dest)?;
    let parent = store::parent_dir(dest);
    store::ensure_dir(&parent)?;
    store::ensure_private_dir(work)?;
    let abs_dest = absolute_site(dest)?;
    let near = if abs_dest.is_dir() {
        &abs_dest
    } else {
        &parent
    };
    let (base, prefix) = if store::same_filesystem(work, near) && can_rename(work, &parent) {
        (work.to_path_buf(), STAGED_PREFIX)
    } else {
        (parent, BESIDE_PREFIX)
    };
    let base = fs::canonicalize(&base).map_err(|e| Error::write(&base, store::io_problem(&e)))?;
    // Private (0700) from its creation until the moment it is swapped in.
    let mut builder = tempfile::Builder::new();
    builder.prefix(prefix);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o700));
    }
    let tmp = builder
        .tempdir_in(&base)
        .map_err(|e| Error::write(dest, store::io_problem(&e)))?;
    let mut dirs = std::collections::BTreeSet::new();
    for f in files {
        let shown = dest.join(&f.path);
        let path = tmp.path().join(&f.path);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|e| Error::write(&shown, store::io_problem(&e)))?;
            dirs.extend(
                dir.ancestors()
                    .take_while(|a| a.starts_with(tmp.path()))
                    .map(Path::to_path_buf),
            );
        }
        let mut file =
            fs::File::create(&path).map_err(|e| Error::write(&shown, store::io_problem(&e)))?;
        file.write_all(&f.bytes)
            .and_then(|_| file.sync_all())
            .map_err(|e| Error::write(&shown, store::io_problem(&e)))?;
    }
    for d in dirs.iter().rev() {
        store::sync_dir(d)?;
    }
    store::sync_dir(tmp.path())?;
    store::sync_dir(&base)?;
    Ok(Staged {
        tmp,
        dest: abs_dest,
    })
}

/// Whether a folder can be renamed from `from` into `to`: one file system
/// is not enough (two bind mounts of one file system refuse it). Asked by
/// renaming a name that does not exist, which creates nothing: Linux
/// refuses a rename across mounts (EXDEV) before it looks for the source
/// (ENOENT).
fn can_rename(from: &Path, to: &Path) -> bool {
    let name = ".canary-rename-probe";
    match fs::rename(from.join(name), to.join(name)) {
        Err(e) => e.kind() == std::io::ErrorKind::NotFound,
        Ok(()) => {
            // There was such a file after all: put it back.
            let _ = fs::rename(to.join(name), from.join(name));
            true
        }
    }
}

impl Staged {
    /// The staging folder (absolute).
    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    /// The site folder it is for (absolute).
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Keeps the staging folder past this value, once a journal names it.
    pub fn keep(self) -> PathBuf {
        self.tmp.keep()
    }

    /// Swaps the staged site in at once (`--rebuild`, where the swap is the
    /// one step that changes anything); a failure removes the staging.
    pub fn commit(self) -> Result<()> {
        let dest = self.dest.clone();
        let staged = self.tmp.keep();
        swap_in(&staged, &dest).inspect_err(|_| {
            let _ = fs::remove_dir_all(&staged);
        })
    }
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: u32) -> std::io::Result<()> {
    Ok(())
}

/// Swaps the complete site in `staged` in at `dest` (a site folder, or
/// nothing yet): in one step where the system can exchange two paths
/// (Linux), else by two renames; both folders are synced after the swap.
/// The site it replaced is then removed.
pub(crate) fn swap_in(staged: &Path, dest: &Path) -> Result<()> {
    let werr = |e: std::io::Error| Error::write(dest, store::io_problem(&e));
    // A site is for a web server to read; it becomes readable only now.
    set_mode(staged, 0o755).map_err(werr)?;
    let (from, to) = (store::parent_dir(staged), store::parent_dir(dest));
    let sync = || -> Result<()> {
        store::sync_dir(&to)?;
        if from != to {
            store::sync_dir(&from)?;
        }
        Ok(())
    };
    if fs::symlink_metadata(dest).is_err() {
        fs::rename(staged, dest).map_err(werr)?;
        return sync();
    }
    match exchange(staged, dest) {
        Ok(()) => {
            // `staged` now holds the previous site.
            sync()?;
            retire(staged);
            Ok(())
        }
        Err(_) => {
            let old = staged.with_extension("old");
            fs::rename(dest, &old).map_err(werr)?;
            if let Err(e) = fs::rename(staged, dest) {
                let _ = fs::rename(&old, dest);
                return Err(werr(e));
            }
            sync()?;
            retire(&old);
            Ok(())
        }
    }
}

/// Removes a site that was swapped out: first made private again (0700),
/// so that a kill midway leaves nothing a web server can read, then
/// deleted. What a failure leaves, the next `canary publish` removes.
fn retire(old: &Path) {
    let _ = set_mode(old, 0o700);
    if fs::remove_dir_all(old).is_ok() {
        let _ = store::sync_dir(&store::parent_dir(old));
    }
}

/// Whether the site folder `dir` serves `canary` as its latest canary.
fn shows(dir: &Path, canary: &[u8]) -> bool {
    fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir())
        && store::read_regular(&dir.join(site::WELL_KNOWN)).is_ok_and(|b| b == canary)
}

/// What [`finish_swap`] found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SiteSwap {
    /// The staged site was swapped in.
    Swapped,
    /// The site already showed the canary (the swap had happened).
    AlreadyShown,
    /// The staged site is missing or not the one for this canary, so the
    /// site was left as it is.
    NotStaged,
}

/// Makes `dest` the site staged in `staged` for `canary` (the exact bytes
/// of its `.well-known` pointer), unless it shows that canary already:
/// a step that can be repeated after any interruption.
pub(crate) fn finish_swap(staged: &Path, dest: &Path, canary: &[u8]) -> Result<SiteSwap> {
    if shows(dest, canary) {
        // What remains at `staged` is the site the swap replaced.
        for old in [staged.to_path_buf(), staged.with_extension("old")] {
            if fs::symlink_metadata(&old).is_ok() {
                retire(&old);
            }
        }
        return Ok(SiteSwap::AlreadyShown);
    }
    if !shows(staged, canary) {
        return Ok(SiteSwap::NotStaged);
    }
    check_destination(dest)?;
    swap_in(staged, dest)?;
    Ok(SiteSwap::Swapped)
}

/// Removes the staging folders an interrupted publish left beside `dest`
/// (`.canary-site-*`, from before the work folder or across file systems);
/// returns their paths.
pub(crate) fn remove_stale_staging(dest: &Path) -> Result<Vec<PathBuf>> {
    let own = dest.file_name().map(|n| n.to_string_lossy().into_owned());
    if own.is_some_and(|n| n.starts_with(BESIDE_PREFIX)) {
        // A site named like a staging folder: never remove it.
        return Ok(Vec::new());
    }
    store::remove_leftovers(&store::parent_dir(dest), BESIDE_PREFIX)
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn site(latest: &[u8]) -> Vec<SiteFile> {
        [(site::WELL_KNOWN, latest), ("index.html", b"<p>hi</p>")]
            .into_iter()
            .map(|(path, bytes)| SiteFile {
                path: path.into(),
                bytes: bytes.to_vec(),
                content_type: "text/plain",
            })
            .collect()
    }

    fn mode(p: &Path) -> u32 {
        fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_site_is_staged_privately_in_the_work_folder_and_swapped_in_whole() {
        let d = tempfile::tempdir().unwrap();
        let (work, www) = (d.path().join("project/.work"), d.path().join("www"));
        let dest = www.join("canary");
        stage(&dest, &site(b"one"), &work)
            .unwrap()
            .commit()
            .unwrap();
        assert_eq!(fs::read(dest.join(site::WELL_KNOWN)).unwrap(), b"one");

        let staged = stage(&dest, &site(b"two"), &work).unwrap();
        assert!(staged.path().starts_with(fs::canonicalize(&work).unwrap()));
        assert_eq!(mode(staged.path()), 0o700, "no one else may read it yet");
        assert_eq!(names(&www), ["canary"], "nothing beside the site");
        assert_eq!(fs::read(dest.join(site::WELL_KNOWN)).unwrap(), b"one");
        let (path, to) = (staged.path().to_path_buf(), staged.dest().to_path_buf());
        staged.keep();
        assert_eq!(finish_swap(&path, &to, b"two").unwrap(), SiteSwap::Swapped);
        assert_eq!(fs::read(dest.join(site::WELL_KNOWN)).unwrap(), b"two");
        assert_eq!(mode(&dest), 0o755, "a web server may read it now");
        assert!(!path.exists(), "the old site is removed");
        assert!(names(&work).is_empty());
        // Finishing again (after a kill) finds the swap done.
        assert_eq!(
            finish_swap(&path, &to, b"two").unwrap(),
            SiteSwap::AlreadyShown
        );
        assert_eq!(
            finish_swap(&path, &to, b"three").unwrap(),
            SiteSwap::NotStaged
        );
    }

    #[test]
    fn a_staging_that_fails_or_is_dropped_leaves_nothing() {
        let d = tempfile::tempdir().unwrap();
        let work = d.path().join("work");
        let dest = d.path().join("www/canary");
        drop(stage(&dest, &site(b"one"), &work).unwrap());
        assert!(names(&work).is_empty());
        assert!(!dest.exists());
        let mut bad = site(b"one");
        bad.push(SiteFile {
            path: "index.html/inside".into(),
            bytes: Vec::new(),
            content_type: "text/plain",
        });
        assert!(stage(&dest, &bad, &work).is_err());
        assert!(names(&work).is_empty());
        assert_eq!(names(&d.path().join("www")), Vec::<String>::new());
    }

    #[test]
    fn stale_staging_beside_a_site_is_removed_but_never_the_site() {
        let d = tempfile::tempdir().unwrap();
        for n in [".canary-site-aaa/x", ".canary-site-bbb.old/x", "other/x"] {
            let p = d.path().join(n);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, "x").unwrap();
        }
        let gone = remove_stale_staging(&d.path().join("canary")).unwrap();
        assert_eq!(gone.len(), 2, "{gone:?}");
        assert_eq!(names(d.path()), ["other"]);
        fs::create_dir(d.path().join(".canary-site-mine")).unwrap();
        let mine = d.path().join(".canary-site-mine");
        assert!(remove_stale_staging(&mine).unwrap().is_empty());
        assert!(mine.is_dir());
    }
}
