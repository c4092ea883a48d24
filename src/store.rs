//! File-system edge: capped reads, atomic writes, secret files.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use canary_core::limits::Limits;
use canary_core::verify::CanaryFile;

/// Largest file `canary` reads ([`Limits::max_file_bytes`], 1 MiB).
/// Canaries, drafts, policies and keys are a few KiB; anything bigger is
/// refused before it is parsed.
pub const MAX_FILE_BYTES: u64 = Limits::DEFAULT.max_file_bytes;

/// Reads a whole file, refusing more than [`MAX_FILE_BYTES`].
pub fn read_capped(path: &Path) -> Result<Vec<u8>> {
    read_capped_to(path, MAX_FILE_BYTES)
}

/// Largest incident log `canary` reads
/// ([`Limits::max_incident_log_bytes`], 256 MiB): the one project file that
/// grows without end, verified in one streamed pass.
pub const MAX_INCIDENT_LOG_BYTES: u64 = Limits::DEFAULT.max_incident_log_bytes;

/// Reads the incident log (`canaries/incidents.jsonl`), regular files only,
/// refusing more than [`MAX_INCIDENT_LOG_BYTES`].
pub fn read_incident_log(path: &Path) -> Result<Vec<u8>> {
    read_capped_to(path, MAX_INCIDENT_LOG_BYTES)
}

/// Reads a whole file, refusing more than `max` bytes (for the few files
/// that grow with their user's list, like `canary watch`'s).
pub fn read_capped_to(path: &Path, max: u64) -> Result<Vec<u8>> {
    let f = open_regular(path)?;
    // Sized once from the file's length (a large log is not copied as
    // the buffer doubles); at most the cap, whatever the length says.
    let len = f.metadata().map_or(0, |m| m.len()).min(max);
    let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0).saturating_add(1));
    f.take(max + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Error::input(path, io_problem(&e)))?;
    if buf.len() as u64 > max {
        return Err(Error::input(
            path,
            format!("file is larger than the {} KiB limit", max / 1024),
        ));
    }
    Ok(buf)
}

/// Opens `path` for reading without ever blocking, and only if it is a
/// regular file: every file canary reads (project files, drafts,
/// `--policy`, `--state`, watch lists, passphrase and freshness files,
/// keys) comes through here. Opening a FIFO for reading blocks until a
/// writer appears, so it is opened non-blocking and then refused by its
/// type; a device would never end.
fn open_regular(path: &Path) -> Result<File> {
    let mut o = OpenOptions::new();
    o.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Only the open is non-blocking; reads of a regular file never are.
        o.custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32);
    }
    let f = o
        .open(path)
        .map_err(|e| Error::input(path, io_problem(&e)))?;
    let meta = f
        .metadata()
        .map_err(|e| Error::input(path, io_problem(&e)))?;
    if meta.is_dir() {
        return Err(Error::input(path, "is a directory, not a file"));
    }
    if !meta.is_file() {
        return Err(Error::input(path, "is not a regular file"));
    }
    Ok(f)
}

/// [`read_capped`], named where the file may have been planted by an
/// attacker (the published folder); every read refuses anything but a
/// regular file.
pub fn read_regular(path: &Path) -> Result<Vec<u8>> {
    read_capped(path)
}

/// Reads a UTF-8 text file (capped).
pub fn read_text(path: &Path) -> Result<String> {
    String::from_utf8(read_capped(path)?).map_err(|_| Error::input(path, "is not UTF-8 text"))
}

pub fn io_problem(e: &std::io::Error) -> String {
    match e.kind() {
        ErrorKind::NotFound => "no such file".into(),
        ErrorKind::PermissionDenied => "permission denied".into(),
        ErrorKind::AlreadyExists => "already exists".into(),
        _ => e.to_string(),
    }
}

fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The name prefix of the temporary file an atomic write makes beside its
/// target; one left behind was cut short (see [`remove_leftovers`]).
pub const TEMP_PREFIX: &str = ".canary-tmp-";

fn temp_beside(path: &Path) -> Result<tempfile::NamedTempFile> {
    let dir = parent_of(path);
    tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(&dir)
        .map_err(|e| Error::write(path, io_problem(&e)))
}

fn fill(tmp: &mut tempfile::NamedTempFile, path: &Path, bytes: &[u8]) -> Result<()> {
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| Error::write(path, io_problem(&e)))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o644))
            .map_err(|e| Error::write(path, io_problem(&e)))?;
    }
    Ok(())
}

/// Replaces `path` atomically: a reader sees the old or the new file, never
/// a mix, and a failure leaves the old file in place. The file is synced
/// before the rename and its folder after it, so once this returns the new
/// file survives a crash or a power cut.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut tmp = temp_beside(path)?;
    fill(&mut tmp, path, bytes)?;
    tmp.persist(path)
        .map_err(|e| Error::write(path, io_problem(&e.error)))?;
    sync_dir(&parent_of(path))
}

/// Replaces `path` atomically, like [`write_atomic`], without syncing the
/// file or its folder: for files that check themselves when read (the
/// response cache, whose every body carries its SHA-256), so that one cut
/// short by a crash is refused, not trusted, and an fsync per file (about
/// 2 ms here, once per site in `canary watch`) is not worth paying.
pub fn write_atomic_unsynced(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut tmp = temp_beside(path)?;
    tmp.write_all(bytes)
        .map_err(|e| Error::write(path, io_problem(&e)))?;
    tmp.persist(path)
        .map_err(|e| Error::write(path, io_problem(&e.error)))?;
    Ok(())
}

/// Creates `path` atomically, failing if it already exists; durable once
/// it returns, like [`write_atomic`].
pub fn write_new_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut tmp = temp_beside(path)?;
    fill(&mut tmp, path, bytes)?;
    tmp.persist_noclobber(path)
        .map_err(|e| Error::write(path, io_problem(&e.error)))?;
    sync_dir(&parent_of(path))
}

/// Flushes a folder's entries to disk, so that a rename, creation or
/// removal in it survives a crash (a file's own `fsync` does not cover the
/// name that points at it). A no-op where a folder cannot be opened for
/// reading or a file system cannot sync one (some network file systems
/// refuse with EINVAL): the rename itself has happened either way.
pub fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    match File::open(dir).and_then(|d| d.sync_all()) {
        Ok(()) => {}
        Err(e)
            if matches!(
                e.kind(),
                ErrorKind::InvalidInput | ErrorKind::Unsupported | ErrorKind::PermissionDenied
            ) => {}
        Err(e) => {
            return Err(Error::write(
                dir,
                format!("cannot sync the folder: {}", io_problem(&e)),
            ))
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// The folder `path` is in (`.` for a bare name).
pub fn parent_dir(path: &Path) -> PathBuf {
    parent_of(path)
}

/// Whether `a` and `b` (both existing) are on one file system, so that a
/// rename between them can succeed. `false` if either cannot be read.
pub fn same_filesystem(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (fs::metadata(a), fs::metadata(b)) {
            (Ok(x), Ok(y)) => x.dev() == y.dev(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (a, b);
        false
    }
}

/// Creates the folder `dir` (and its parents) with mode 0700 if it does not
/// exist: for work files no one else should read.
pub fn ensure_private_dir(dir: &Path) -> Result<()> {
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir).map_err(|e| Error::write(dir, io_problem(&e)))
}

/// Removes every entry of `dir` whose name starts with `prefix` (a file,
/// or a folder with all it holds; a symbolic link itself, never what it
/// points to), and returns their paths. These are the leftovers of an
/// interrupted write, such as [`TEMP_PREFIX`] files: call it only where no
/// other `canary` process can be writing them. A missing `dir` has none.
pub fn remove_leftovers(dir: &Path, prefix: &str) -> Result<Vec<PathBuf>> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::write(dir, io_problem(&e))),
    };
    let mut removed = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::write(dir, io_problem(&e)))?;
        if !entry.file_name().to_string_lossy().starts_with(prefix) {
            continue;
        }
        let path = entry.path();
        let is_dir = entry
            .file_type()
            .map_err(|e| Error::write(&path, io_problem(&e)))?
            .is_dir();
        let res = if is_dir {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        };
        res.map_err(|e| Error::write(&path, io_problem(&e)))?;
        removed.push(path);
    }
    if !removed.is_empty() {
        sync_dir(dir)?;
    }
    removed.sort();
    Ok(removed)
}

/// Creates a secret file with mode 0600, never overwriting; parent
/// directories it creates are 0700.
pub fn write_secret_new(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = parent_of(path);
    if !dir.exists() {
        let mut b = fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            b.mode(0o700);
        }
        b.create(&dir)
            .map_err(|e| Error::write(&dir, io_problem(&e)))?;
    }
    let mut o = OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let mut f = o
        .open(path)
        .map_err(|e| Error::write(path, io_problem(&e)))?;
    let res = f.write_all(bytes).and_then(|_| f.sync_all());
    if let Err(e) = res {
        let _ = fs::remove_file(path);
        return Err(Error::write(path, io_problem(&e)));
    }
    Ok(())
}

pub fn ensure_dir(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).map_err(|e| Error::write(dir, io_problem(&e)))
}

/// From this many canary files on, they are read on several threads.
const READ_PARALLEL_FROM: usize = 64;

/// Every published canary in `dir` and the bytes of `latest.json`, if any.
pub fn read_canaries(dir: &Path) -> Result<(Vec<CanaryFile>, Option<Vec<u8>>)> {
    let entries = fs::read_dir(dir).map_err(|e| Error::input(dir, io_problem(&e)))?;
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::input(dir, io_problem(&e)))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(number) = canary_core::layout::canary_number(&name) {
            // Each file is capped; so is their number (the same bound as a
            // remote history), so a folder cannot exhaust memory either.
            if found.len() as u64 >= Limits::DEFAULT.max_history {
                return Err(Error::input(
                    dir,
                    format!(
                        "more than {} canary files; refusing to read them all",
                        Limits::DEFAULT.max_history
                    ),
                ));
            }
            found.push((number, dir.join(&name)));
        }
    }
    found.sort_by_key(|(number, _)| *number);
    // A long history is mostly system calls (open, stat, read per file):
    // several threads keep more of them in flight. The first file that
    // cannot be read, in canary order, is the one reported.
    let files = canary_core::parallel::map(&found, READ_PARALLEL_FROM, |(number, path)| {
        Ok(CanaryFile {
            name: crate::error::show_path(path),
            number: *number,
            bytes: read_regular(path)?,
        })
    })
    .into_iter()
    .collect::<Result<Vec<_>>>()?;
    let latest_path = dir.join("latest.json");
    let latest = if latest_path.exists() {
        Some(read_regular(&latest_path)?)
    } else {
        None
    };
    Ok((files, latest))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names in `dir`, sorted.
    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    /// A long folder is read on several threads: the files still come in
    /// canary order, and the first unreadable one in that order is named.
    #[test]
    fn many_canaries_read_in_order_and_name_the_first_unreadable() {
        let d = tempfile::tempdir().unwrap();
        let n = READ_PARALLEL_FROM as u64 * 2 + 3;
        for i in (1..=n).rev() {
            fs::write(d.path().join(format!("{i:04}.json")), i.to_string()).unwrap();
        }
        fs::write(d.path().join("notes.txt"), "not a canary").unwrap();
        let (files, latest) = read_canaries(d.path()).unwrap();
        assert!(latest.is_none());
        let got: Vec<(u64, Vec<u8>)> = files.into_iter().map(|f| (f.number, f.bytes)).collect();
        let want: Vec<(u64, Vec<u8>)> = (1..=n).map(|i| (i, i.to_string().into_bytes())).collect();
        assert_eq!(got, want);
        for i in [n - 1, 70, 50] {
            let p = d.path().join(format!("{i:04}.json"));
            fs::remove_file(&p).unwrap();
            fs::create_dir(&p).unwrap();
        }
        let e = read_canaries(d.path()).unwrap_err().to_string();
        assert!(e.contains("0050.json"), "{e}");
    }

    #[test]
    fn capped_reads() {
        let d = tempfile::tempdir().unwrap();
        let at_limit = d.path().join("at-limit");
        fs::write(&at_limit, vec![b' '; MAX_FILE_BYTES as usize]).unwrap();
        assert_eq!(read_capped(&at_limit).unwrap().len() as u64, MAX_FILE_BYTES);
        let big = d.path().join("big");
        fs::write(&big, vec![b' '; (MAX_FILE_BYTES + 1) as usize]).unwrap();
        assert!(read_capped(&big).unwrap_err().to_string().contains("limit"));
        assert!(read_capped(&d.path().join("missing"))
            .unwrap_err()
            .to_string()
            .contains("no such file"));
        assert!(read_capped(d.path())
            .unwrap_err()
            .to_string()
            .contains("is a directory"));
    }

    #[test]
    fn write_new_atomic_creates_once_and_never_replaces() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f");
        write_new_atomic(&p, b"one").unwrap();
        assert_eq!(read_capped(&p).unwrap(), b"one");
        assert!(write_new_atomic(&p, b"two").is_err());
        assert_eq!(read_capped(&p).unwrap(), b"one", "the old file is intact");
        assert_eq!(names(d.path()), ["f"], "no temporary file is left");
    }

    /// Atomic means renamed into place: the new bytes are a new file (a
    /// new inode) that replaces the old one in one step, so a reader that
    /// opened the old file still reads all of the old bytes, and nothing
    /// is left beside it.
    #[cfg(unix)]
    #[test]
    fn write_atomic_renames_a_new_file_into_place() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f");
        let old = b"the old canary, long enough to be read in parts".repeat(100);
        fs::write(&p, &old).unwrap();
        let old_inode = fs::metadata(&p).unwrap().ino();
        let mut reader = File::open(&p).unwrap();
        let mut first = [0u8; 10];
        reader.read_exact(&mut first).unwrap();

        write_atomic(&p, b"new").unwrap();

        let mut rest = Vec::new();
        reader.read_to_end(&mut rest).unwrap();
        assert_eq!(
            [&first[..], &rest].concat(),
            old,
            "the reader sees only old bytes"
        );
        let meta = fs::metadata(&p).unwrap();
        assert_ne!(meta.ino(), old_inode, "replaced, not rewritten in place");
        assert_eq!(fs::read(&p).unwrap(), b"new");
        assert_eq!(meta.permissions().mode() & 0o777, 0o644);
        assert_eq!(names(d.path()), ["f"], "no temporary file is left");
    }

    #[test]
    fn a_failed_write_leaves_the_old_content_and_no_temporary_file() {
        let d = tempfile::tempdir().unwrap();
        // The target is a folder (with a file in it): the rename fails.
        let p = d.path().join("f");
        fs::create_dir(&p).unwrap();
        fs::write(p.join("inside"), b"old").unwrap();
        let e = write_atomic(&p, b"new").unwrap_err();
        assert!(e.to_string().contains(&show(&p)), "{e}");
        assert_eq!(fs::read(p.join("inside")).unwrap(), b"old");
        assert_eq!(names(d.path()), ["f"], "no temporary file is left");
        assert_eq!(names(&p), ["inside"]);
    }

    /// A folder the writer may not write to: the temporary file cannot be
    /// made, so the old file stays (not testable as root, who may write
    /// anywhere).
    #[cfg(unix)]
    #[test]
    fn a_write_into_a_read_only_folder_leaves_the_old_content() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f");
        fs::write(&p, b"old").unwrap();
        fs::set_permissions(d.path(), fs::Permissions::from_mode(0o555)).unwrap();
        if File::create(d.path().join("probe")).is_ok() {
            eprintln!("skipped: this user may write to a read-only folder (root)");
            let _ = fs::remove_file(d.path().join("probe"));
        } else {
            assert!(write_atomic(&p, b"new").is_err());
            assert_eq!(fs::read(&p).unwrap(), b"old");
            assert_eq!(names(d.path()), ["f"], "no temporary file is left");
        }
        fs::set_permissions(d.path(), fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn leftovers_are_removed_by_prefix_and_links_are_not_followed() {
        let d = tempfile::tempdir().unwrap();
        let keep = tempfile::tempdir().unwrap();
        fs::write(keep.path().join("precious"), b"x").unwrap();
        fs::write(d.path().join(".canary-tmp-a"), b"x").unwrap();
        fs::create_dir_all(d.path().join(".canary-tmp-b/inner")).unwrap();
        fs::write(d.path().join("0001.json"), b"x").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(keep.path(), d.path().join(".canary-tmp-link")).unwrap();
        let gone = remove_leftovers(d.path(), TEMP_PREFIX).unwrap();
        assert!(gone.len() >= 2, "{gone:?}");
        assert_eq!(names(d.path()), ["0001.json"]);
        assert_eq!(names(keep.path()), ["precious"], "a link's target stays");
        assert!(remove_leftovers(&d.path().join("missing"), TEMP_PREFIX)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn folders_sync_and_compare_by_file_system() {
        let d = tempfile::tempdir().unwrap();
        sync_dir(d.path()).unwrap();
        assert!(sync_dir(&d.path().join("missing")).is_err());
        fs::create_dir(d.path().join("a")).unwrap();
        assert!(same_filesystem(d.path(), &d.path().join("a")));
        assert!(!same_filesystem(d.path(), &d.path().join("missing")));
        ensure_private_dir(&d.path().join("p/q")).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(d.path().join("p/q"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o700);
        }
    }

    fn show(p: &Path) -> String {
        crate::error::show_path(p)
    }
}
