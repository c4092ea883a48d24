//! What some tests need from outside the repository: the public vectors in
//! `../shared` (beside the checkout, as CI lays it) and tools on PATH
//! (`ssh-keygen`, `minisign`). When one is missing the test says so on the
//! real stderr and is skipped, except under `CI=true`, where it fails: CI
//! installs the tools and has `../shared`, so a skip there would hide a
//! test that never ran.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::Command;

/// `found`, after failing under `CI=true` or noting the skip otherwise when
/// it is false; `what` names what is missing.
fn present(found: bool, what: &str) -> bool {
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{what} is missing under CI=true"
        );
        note(&format!("SKIPPED: {what} is missing"));
    }
    found
}

/// The folder `../shared/REL` beside the checkout, or `None` (skip).
pub fn shared_dir(rel: &str) -> Option<PathBuf> {
    let dir = super::repo_path("../shared").join(rel);
    present(dir.is_dir(), &dir.display().to_string()).then_some(dir)
}

/// Whether the tool `name` can be run (as `name arg`), or `false` (skip).
pub fn tool(name: &str, arg: &str) -> bool {
    let found = Command::new(name).arg(arg).output().is_ok();
    present(found, &format!("the tool {name}"))
}

/// Written to the real stderr, past the test harness's capture.
pub fn note(msg: &str) {
    let _ = writeln!(std::io::stderr(), "{msg}");
}
