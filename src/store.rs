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

/// Reads a whole file, refusing more than `max` bytes (for the few files
/// that grow with their user's list, like `canary watch`'s).
pub fn read_capped_to(path: &Path, max: u64) -> Result<Vec<u8>> {
    let f = open_regular(path)?;
    let mut buf = Vec::new();
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

fn temp_beside(path: &Path) -> Result<tempfile::NamedTempFile> {
    let dir = parent_of(path);
    tempfile::Builder::new()
        .prefix(".canary-tmp-")
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
/// a mix, and a failure leaves the old file in place.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut tmp = temp_beside(path)?;
    fill(&mut tmp, path, bytes)?;
    tmp.persist(path)
        .map_err(|e| Error::write(path, io_problem(&e.error)))?;
    Ok(())
}

/// Creates `path` atomically, failing if it already exists.
pub fn write_new_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut tmp = temp_beside(path)?;
    fill(&mut tmp, path, bytes)?;
    tmp.persist_noclobber(path)
        .map_err(|e| Error::write(path, io_problem(&e.error)))?;
    Ok(())
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

/// Every published canary in `dir` and the bytes of `latest.json`, if any.
pub fn read_canaries(dir: &Path) -> Result<(Vec<CanaryFile>, Option<Vec<u8>>)> {
    let entries = fs::read_dir(dir).map_err(|e| Error::input(dir, io_problem(&e)))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::input(dir, io_problem(&e)))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(number) = canary_core::layout::canary_number(&name) {
            // Each file is capped; so is their number (the same bound as a
            // remote history), so a folder cannot exhaust memory either.
            if files.len() as u64 >= Limits::DEFAULT.max_history {
                return Err(Error::input(
                    dir,
                    format!(
                        "more than {} canary files; refusing to read them all",
                        Limits::DEFAULT.max_history
                    ),
                ));
            }
            let path = dir.join(&name);
            files.push(CanaryFile {
                name: crate::error::show_path(&path),
                number,
                bytes: read_regular(&path)?,
            });
        }
    }
    files.sort_by_key(|f| f.number);
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

    fn show(p: &Path) -> String {
        crate::error::show_path(p)
    }
}
