//! Advisory locks, so that two `canary` processes never write the same
//! files at once (docs/FORMAT.md, "Project layout" and "State file").
//!
//! A lock is an exclusive [`File::try_lock`] (`flock` on Unix, `LockFileEx`
//! on Windows) on a small lock file that is never removed: removing it
//! would let a third process lock a new file of the same name while the
//! second still holds the old one. The operating system releases the lock
//! when its holder exits, however it exits, so a lock can never be stale.
//! While held, the file says who holds it (command, pid, since when), for
//! the message the next process prints; it is emptied on release.
//!
//! * [`project`]: `.canary.lock` in a project folder, taken by every
//!   command that writes into the project. It does not wait: a second
//!   command is refused at once (exit 4), naming the holder, rather than
//!   hanging behind a signer who has left a prompt open.
//! * [`state`]: `FILE.lock` beside a state file, taken only for the
//!   moment of re-reading, merging and writing it; it waits up to
//!   [`STATE_WAIT`] for another process to finish its write.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{show_path, Error, Result};
use crate::store::io_problem;

/// The lock file of a project folder.
pub const PROJECT_LOCK: &str = ".canary.lock";

/// How long a state-file update waits for another process's update.
pub const STATE_WAIT: Duration = Duration::from_secs(10);

/// How often a waiting process tries again.
const POLL: Duration = Duration::from_millis(20);

/// Most bytes of a lock file read to name its holder.
const MAX_HOLDER_BYTES: u64 = 200;

/// A held lock; released (and its file emptied) when dropped.
#[derive(Debug)]
pub struct Lock {
    file: File,
    path: PathBuf,
}

impl Lock {
    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Emptied first, so nobody reads a holder that has gone; closing
        // the file (after this) is what releases the lock.
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

/// What a lock file says about its holder, or a lock held by nobody known.
enum Attempt {
    Held(Lock),
    Busy { holder: Option<String> },
}

/// `.canary.lock` in the project folder `root`, for `command` (its name in
/// messages, e.g. `publish`). Refused at once (exit 4) when another
/// process holds it.
pub fn project(root: &Path, command: &str) -> Result<Lock> {
    let path = root.join(PROJECT_LOCK);
    match attempt(&path, command)? {
        Attempt::Held(lock) => Ok(lock),
        Attempt::Busy { holder } => Err(Error::refused_with_hint(
            format!(
                "{}: another canary command is running on this project ({}); nothing was changed",
                show_path(&path),
                describe(holder)
            ),
            "wait for it to finish, then run this again (its lock goes when that process exits)",
        )),
    }
}

/// The lock file of the state file `state`: `state` with `.lock` added
/// (`state.json.lock`).
pub fn state_lock_path(state: &Path) -> PathBuf {
    let mut name = state.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// The lock of the state file `state` ([`state_lock_path`]), for
/// `command`; waits up to [`STATE_WAIT`], then refuses (exit 4).
pub fn state(state: &Path, command: &str) -> Result<Lock> {
    state_within(state, command, STATE_WAIT)
}

fn state_within(state: &Path, command: &str, wait: Duration) -> Result<Lock> {
    let path = state_lock_path(state);
    let start = Instant::now();
    loop {
        match attempt(&path, command)? {
            Attempt::Held(lock) => return Ok(lock),
            Attempt::Busy { holder } if start.elapsed() >= wait => {
                return Err(Error::refused_with_hint(
                    format!(
                        "{}: another canary process ({}) has been updating {} for more than {} s; it was not updated",
                        show_path(&path),
                        describe(holder),
                        show_path(state),
                        wait.as_secs()
                    ),
                    "run this again when that process has finished",
                ))
            }
            Attempt::Busy { .. } => std::thread::sleep(POLL),
        }
    }
}

/// Opens (or creates) the lock file and tries once to lock it.
fn attempt(path: &Path, command: &str) -> Result<Attempt> {
    let mut file = open(path).map_err(|e| Error::write(path, io_problem(&e)))?;
    match file.try_lock() {
        Ok(()) => {
            let holder = format!(
                "canary {command}, pid {}, since {}\n",
                std::process::id(),
                canary_core::timefmt::Timestamp::now()
            );
            // Who holds it is only informative: a lock whose file cannot
            // be written is still held.
            let _ = file
                .set_len(0)
                .and_then(|_| file.write_all(holder.as_bytes()));
            Ok(Attempt::Held(Lock {
                file,
                path: path.to_path_buf(),
            }))
        }
        Err(TryLockError::WouldBlock) => Ok(Attempt::Busy {
            holder: read_holder(&mut file),
        }),
        Err(TryLockError::Error(e)) => Err(Error::write(
            path,
            format!("cannot lock: {}", io_problem(&e)),
        )),
    }
}

/// The lock file, created if need be. One made by another user (a shared
/// project folder) may not be writable here: read-only, it still locks,
/// only without saying who holds it.
fn open(path: &Path) -> std::io::Result<File> {
    let rw = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path);
    match rw {
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied && path.is_file() => {
            File::open(path)
        }
        other => other,
    }
}

/// The first line of a held lock file, escaped; None when it is empty (the
/// holder has not written it yet, or is releasing it).
fn read_holder(file: &mut File) -> Option<String> {
    let mut buf = Vec::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.take(MAX_HOLDER_BYTES).read_to_end(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf);
    let first = text.lines().next()?.trim();
    (!first.is_empty()).then(|| canary_core::sanitize::line(first))
}

fn describe(holder: Option<String>) -> String {
    holder.unwrap_or_else(|| "which one is not recorded".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_project_lock_is_refused_while_the_first_is_held() {
        let d = tempfile::tempdir().unwrap();
        let first = project(d.path(), "publish").unwrap();
        let text = std::fs::read_to_string(d.path().join(PROJECT_LOCK)).unwrap();
        let pid = std::process::id();
        assert!(
            text.starts_with(&format!("canary publish, pid {pid}, since ")),
            "{text}"
        );
        // A lock belongs to an open file, so a second open in this very
        // process is refused as another process's would be.
        let e = project(d.path(), "draft").unwrap_err();
        assert_eq!(e.exit(), canary_core::exit::Exit::Refused);
        let m = e.to_string();
        assert!(
            m.contains("another canary command is running on this project (canary publish, pid"),
            "{m}"
        );
        assert!(e.hint().unwrap().contains("wait for it to finish"));
        drop(first);
        assert_eq!(
            std::fs::read(d.path().join(PROJECT_LOCK)).unwrap(),
            b"",
            "emptied on release"
        );
        let again = project(d.path(), "draft").unwrap();
        assert_eq!(again.path(), d.path().join(PROJECT_LOCK));
    }

    #[test]
    fn a_state_lock_waits_for_the_holder_then_gives_up() {
        let d = tempfile::tempdir().unwrap();
        let s = d.path().join("state.json");
        assert_eq!(state_lock_path(&s), d.path().join("state.json.lock"));
        let held = state(&s, "watch").unwrap();
        let e = state_within(&s, "verify", Duration::from_millis(100)).unwrap_err();
        assert_eq!(e.exit(), canary_core::exit::Exit::Refused);
        assert!(e.to_string().contains("(canary watch, pid"), "{e}");
        // Released while the second one waits: it gets the lock.
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            drop(held);
        });
        let start = Instant::now();
        let lock = state_within(&s, "verify", Duration::from_secs(5)).unwrap();
        assert!(start.elapsed() >= Duration::from_millis(150));
        t.join().unwrap();
        let text = std::fs::read_to_string(lock.path()).unwrap();
        assert!(text.starts_with("canary verify, pid"), "{text}");
    }
}
