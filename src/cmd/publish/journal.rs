//! The journal of `canary publish`: the one file whose appearance commits a
//! publication (docs/FORMAT.md, "Publishing and interruptions").
//!
//! `canary publish` verifies the draft, renders every file and stages the
//! site before it changes anything a reader sees. Then it writes the
//! journal, `.canary-publish/journal.json` in the project, holding
//! everything still to be done (the canary's bytes, its text files, which
//! staged site goes where): synced, renamed into place, its folder synced.
//! That rename is the commit point. Only then are the files written into
//! `canaries/` and the staged site swapped in ([`finish`]), each step one
//! that can be repeated; last, the journal and its folder are removed.
//!
//! So a publish interrupted before the commit point changed nothing (what
//! it staged is removed by the next run), and one interrupted after it is
//! finished by the next `canary publish`, from the journal alone.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::sitefs::{self, SiteSwap};
use canary::error::{show_path, Error, Result};
use canary::project::Project;
use canary::store;
use canary_core::config::POLICY_FILE;
use canary_core::digest::Sha256Digest;
use canary_core::envelope::Envelope;
use canary_core::layout::canary_file_name;
use canary_core::policy::TrustedPolicy;
use canary_core::statement::Statement;
use canary_core::verify::CanaryFile;

/// `canary publish`'s work folder in the project: the journal and the
/// staged site. It exists only while a publish runs or was interrupted.
pub(crate) const WORK_DIR: &str = ".canary-publish";
const JOURNAL_FILE: &str = "journal.json";
/// The journal's `format` field.
pub(crate) const FORMAT: &str = "canary-publish-journal/v1";
/// One canary is at most 1 MiB; its texts and signatures are a few KiB.
const MAX_JOURNAL_BYTES: u64 = 8 * 1024 * 1024;

/// What a committed publication still has to do (docs/FORMAT.md).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Journal {
    pub format: String,
    /// The canary's number.
    pub sequence: u64,
    /// Its identity (SHA-256 of the payload), for people reading the file.
    pub payload_sha256: String,
    /// The exact bytes of `canaries/NNNN.json` and `canaries/latest.json`.
    pub canary: String,
    /// `canaries/NNNN.txt` and its signature files, written first.
    pub texts: Vec<TextFile>,
    /// The staged site and where it goes, if a site was asked for.
    pub site: Option<SiteMove>,
    /// The policy version the canary is signed under, when it is a
    /// pending one: `keys/policy.json` becomes it in the same commit, so a
    /// rotation takes effect exactly with its first canary. Absent
    /// otherwise (journals of unrotated projects keep their shape).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<PolicyFile>,
}

/// The new `keys/policy.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PolicyFile {
    /// SHA-256 of `content`: the hash the canary names.
    pub sha256: String,
    /// The exact bytes of the policy version.
    pub content: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TextFile {
    /// A file name in `canaries/`.
    pub name: String,
    pub content: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SiteMove {
    /// The site folder (`--site`), absolute.
    pub folder: PathBuf,
    /// The complete new site, absolute, in the work folder or beside
    /// `folder`.
    pub staged: PathBuf,
}

/// What [`finish`] did.
pub(crate) struct Finished {
    pub sequence: u64,
    /// The files it wrote in `canaries/` (those already in place are not).
    pub written: Vec<PathBuf>,
    /// The site folder and what became of it.
    pub site: Option<(PathBuf, SiteSwap)>,
}

/// The work folder of the project at `root`.
pub(crate) fn work_dir(root: &Path) -> PathBuf {
    root.join(WORK_DIR)
}

/// The journal of the project at `root`.
pub(crate) fn path(root: &Path) -> PathBuf {
    work_dir(root).join(JOURNAL_FILE)
}

impl Journal {
    /// The journal of canary `sequence`, whose bytes are `canary`.
    pub fn new(
        sequence: u64,
        canary: &[u8],
        texts: Vec<(String, Vec<u8>)>,
        site: Option<SiteMove>,
        policy: Option<&[u8]>,
    ) -> Result<Journal> {
        let text = |name: &str, bytes: Vec<u8>| {
            String::from_utf8(bytes).map_err(|_| Error::write(name, "is not UTF-8 text"))
        };
        let env = Envelope::parse(canary).map_err(|e| Error::input("the canary", e))?;
        Ok(Journal {
            format: FORMAT.into(),
            sequence,
            payload_sha256: env.payload_digest().to_string(),
            canary: text(&canary_file_name(sequence), canary.to_vec())?,
            texts: texts
                .into_iter()
                .map(|(name, bytes)| {
                    Ok(TextFile {
                        content: text(&name, bytes)?,
                        name,
                    })
                })
                .collect::<Result<_>>()?,
            site,
            policy: policy
                .map(|p| {
                    Ok::<_, Error>(PolicyFile {
                        sha256: Sha256Digest::of(p).to_string(),
                        content: text(POLICY_FILE, p.to_vec())?,
                    })
                })
                .transpose()?,
        })
    }

    /// The name of the canary's file in `canaries/`.
    pub fn file_name(&self) -> String {
        canary_file_name(self.sequence)
    }

    /// Refuses a journal `canary publish` would not have written: another
    /// format, a canary that is not one or has another number, a file name
    /// that is not one of the canary's (so nothing outside `canaries/` is
    /// ever written from it). A staged site is checked by [`site_to_swap`].
    fn check(&self, at: &Path) -> Result<()> {
        let bad = |p: String| Err(Error::input(at, p));
        if self.format != FORMAT {
            return bad(format!("format is not {FORMAT}"));
        }
        let env = Envelope::parse(self.canary.as_bytes()).map_err(|e| Error::input(at, e))?;
        let st = Statement::parse(&env.payload).map_err(|e| Error::input(at, e))?;
        if st.sequence != self.sequence || env.payload_digest().to_string() != self.payload_sha256 {
            return bad(format!(
                "its canary is not canary {} with payload sha256 {}",
                self.sequence,
                canary_core::sanitize::line(&self.payload_sha256)
            ));
        }
        if env.published().to_json() != self.canary.as_bytes() {
            return bad("its canary is not in the form canary publish writes".into());
        }
        if let Some(p) = &self.policy {
            // Only the version the canary names may become policy.json.
            let sha = Sha256Digest::of(p.content.as_bytes());
            if sha.to_string() != p.sha256 || sha != st.policy_sha256 {
                return bad("its policy is not the one its canary is signed under".into());
            }
            TrustedPolicy::from_bytes(p.content.as_bytes())
                .map_err(|e| Error::input(at, format!("its policy: {e}")))?;
        }
        for t in &self.texts {
            if !is_text_name(&t.name, self.sequence) {
                return bad(format!(
                    "`{}` is not a text file of canary {}",
                    canary_core::sanitize::line(&t.name),
                    self.sequence
                ));
            }
        }
        Ok(())
    }
}

/// `NNNN.txt`, `NNNN.txt.NAME.sig` or `NNNN.txt.NAME.minisig` for canary `n`.
fn is_text_name(name: &str, n: u64) -> bool {
    let Some(rest) = name.strip_prefix(&format!("{n:04}.txt")) else {
        return false;
    };
    if rest.is_empty() {
        return true;
    }
    let signer = rest.strip_prefix('.').and_then(|r| {
        r.strip_suffix(".sig")
            .or_else(|| r.strip_suffix(".minisig"))
    });
    signer.is_some_and(|s| canary_core::policy::check_name(s).is_ok())
}

/// The journal of the project at `root`, if a publish was interrupted
/// after it committed; a journal that cannot be read or is not one
/// `canary publish` writes is an error naming it.
pub(crate) fn read(root: &Path) -> Result<Option<Journal>> {
    let at = path(root);
    if fs::symlink_metadata(&at).is_err() {
        return Ok(None);
    }
    let bytes = store::read_capped_to(&at, MAX_JOURNAL_BYTES)?;
    let j: Journal = canary_core::json::from_slice(&bytes).map_err(|e| Error::input(&at, e))?;
    j.check(&at)?;
    Ok(Some(j))
}

/// Writes the journal: the commit point of the publication. Everything it
/// refers to (the staged site) must already be synced. Durable once this
/// returns; the folder is made first, 0700, and synced into the project.
pub(crate) fn commit(root: &Path, j: &Journal) -> Result<()> {
    let work = work_dir(root);
    store::ensure_private_dir(&work)?;
    store::sync_dir(&store::parent_dir(&work))?;
    let mut bytes = serde_json::to_vec_pretty(j).expect("a journal serialises");
    bytes.push(b'\n');
    store::write_new_atomic(&path(root), &bytes)
}

/// Removes the work folder if it is empty (a publish that failed before
/// its commit point, or a `--rebuild`, leaves nothing).
pub(crate) fn discard_empty_work_dir(root: &Path) {
    if fs::remove_dir(work_dir(root)).is_ok() {
        let _ = store::sync_dir(root);
    }
}

/// Does what the journal says is left, in order: the text files, the
/// canary, `latest.json`, `keys/policy.json` (a rotation), the site; then removes the journal and the work
/// folder. Each step is skipped when its result is already in place, so
/// `finish` can be run again after any interruption, and gives the same
/// end state. A canary file holding another canary is never replaced.
pub(crate) fn finish(project: &Project, j: &Journal) -> Result<Finished> {
    let dir = project.canaries_dir();
    store::ensure_dir(&dir)?;
    let mut written = Vec::new();
    let mut put = |name: &str, bytes: &[u8], new: bool| -> Result<()> {
        let p = dir.join(name);
        if install(&p, bytes, new)? {
            written.push(p);
        }
        Ok(())
    };
    for t in &j.texts {
        put(&t.name, t.content.as_bytes(), false)?;
    }
    put(&j.file_name(), j.canary.as_bytes(), true)?;
    put("latest.json", j.canary.as_bytes(), false)?;
    if let Some(p) = &j.policy {
        // The rotation takes effect with this canary.
        let path = project.policy_path();
        if install(&path, p.content.as_bytes(), false)? {
            written.push(path);
        }
    }
    let site = match site_to_swap(&project.root, j) {
        Some(s) => {
            let done = sitefs::finish_swap(&s.staged, &s.folder, j.canary.as_bytes())?;
            Some((s.folder.clone(), done))
        }
        None => j
            .site
            .as_ref()
            .map(|s| (s.folder.clone(), SiteSwap::NotStaged)),
    };
    let journal = path(&project.root);
    fs::remove_file(&journal).map_err(|e| Error::write(&journal, store::io_problem(&e)))?;
    store::sync_dir(&work_dir(&project.root))?;
    if fs::remove_dir_all(work_dir(&project.root)).is_ok() {
        let _ = store::sync_dir(&project.root);
    }
    Ok(Finished {
        sequence: j.sequence,
        written,
        site,
    })
}

/// The journal's site, if its staging folder is one `canary publish`
/// makes: in the work folder, or beside the site folder. Anything else is
/// never swapped (the site is then left for `--rebuild`).
fn site_to_swap<'a>(root: &Path, j: &'a Journal) -> Option<&'a SiteMove> {
    let s = j.site.as_ref()?;
    let name = s.staged.file_name()?.to_string_lossy().into_owned();
    let parent = s.staged.parent()?;
    let in_work = fs::canonicalize(work_dir(root)).is_ok_and(|w| w == parent)
        && name.starts_with(sitefs::STAGED_PREFIX);
    let beside = s.folder.parent() == Some(parent) && name.starts_with(sitefs::BESIDE_PREFIX);
    (s.folder.is_absolute() && s.folder.file_name().is_some() && (in_work || beside)).then_some(s)
}

/// Writes `bytes` to `path` unless it holds them already; returns whether
/// it wrote. `new`: a file holding other bytes is a conflict, not replaced.
fn install(path: &Path, bytes: &[u8], new: bool) -> Result<bool> {
    let exists = fs::symlink_metadata(path).is_ok();
    if exists && store::read_regular(path).is_ok_and(|b| b == bytes) {
        return Ok(false);
    }
    if exists && new {
        return Err(Error::refused_with_hint(
            format!(
                "{}: holds another canary than the one the interrupted publish committed; nothing more was written",
                show_path(path)
            ),
            format!(
                "find out which canary is right; to drop the interrupted publish, remove the folder {WORK_DIR}"
            ),
        ));
    }
    if new {
        store::write_new_atomic(path, bytes)?;
    } else {
        store::write_atomic(path, bytes)?;
    }
    Ok(true)
}

/// For `canary verify` of the project at `root`: when an interrupted
/// publish committed canary N and `canaries/NNNN.json` holds it (the
/// newest file) while `latest.json` does not yet, the bytes to verify as
/// `latest.json` (what it holds once the publish is finished), with a note
/// for the user; a note alone when a journal is found otherwise.
///
/// This cannot hide anything: it only ever points `latest.json` at the
/// newest canary file, which whoever can write the folder could do anyway.
pub(crate) fn committed_latest(
    root: &Path,
    files: &[CanaryFile],
) -> (Option<Vec<u8>>, Option<String>) {
    let at = show_path(&path(root));
    let j = match read(root) {
        Ok(Some(j)) => j,
        Ok(None) => return (None, None),
        Err(e) => {
            let note = format!("note: {e}: ignored; `canary publish` reports what it is\n");
            return (None, Some(note));
        }
    };
    let n = j.sequence;
    let intro =
        format!("note: the publish of canary {n} was interrupted after it committed ({at})");
    match files.last() {
        Some(f) if f.number == n && f.bytes == j.canary.as_bytes() => (
            Some(f.bytes.clone()),
            Some(format!(
                "{intro}: verifying {} as latest.json, as it will be once the publish is \
                 finished; `canary publish` finishes it\n",
                f.name
            )),
        ),
        Some(f) if f.number >= n => (
            None,
            Some(format!(
                "{intro}, but the canaries here are not the ones it committed to; \
                 `canary publish` says what is wrong\n"
            )),
        ),
        _ => (
            None,
            Some(format!(
                "{intro}, before its canary file was written: verifying the canaries as \
                 they are; `canary publish` finishes it\n"
            )),
        ),
    }
}

/// For `canary verify` of the project at `root`: when an interrupted
/// publish committed the first canary under a pending policy version and
/// `canaries/NNNN.json` holds that canary (the newest file), the hash of
/// that version, which `keys/policy.json` holds once the publish is
/// finished. (Verifying under it still walks the rotation files by both
/// thresholds: the journal names a version, it cannot make one.)
pub(crate) fn committed_policy(root: &Path, files: &[CanaryFile]) -> Option<Sha256Digest> {
    let j = read(root).ok()??;
    let p = j.policy.as_ref()?;
    let newest = files.last()?;
    if newest.number != j.sequence || newest.bytes != j.canary.as_bytes() {
        return None;
    }
    Some(Sha256Digest::of(p.content.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_names_are_the_canarys_own() {
        for ok in ["0002.txt", "0002.txt.alice.sig", "0002.txt.bob.minisig"] {
            assert!(is_text_name(ok, 2), "{ok}");
        }
        for bad in [
            "0003.txt",
            "0002.json",
            "latest.json",
            "0002.txt.alice",
            "0002.txt..sig",
            "0002.txt.../x.sig",
            "0002.txt.a/b.sig",
            "0002.txt.-a.sig",
            "../0002.txt",
        ] {
            assert!(!is_text_name(bad, 2), "{bad}");
        }
    }
}
