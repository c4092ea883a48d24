//! Shared test support: a command builder for the real binary with a clean
//! environment, and a loopback HTTP server ([`http`]).

#![allow(dead_code)]

pub mod ceremony;
pub mod http;

use std::path::Path;

use assert_cmd::Command;

/// `canary` with a cleared environment (no NO_COLOR, HOME or CANARY_*
/// leaking in from the developer's shell), run in `dir`.
pub fn canary(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("canary").expect("binary built");
    cmd.env_clear()
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join(".config"))
        .env("XDG_DATA_HOME", dir.join(".local/share"))
        .env("NO_COLOR", "1")
        .current_dir(dir);
    cmd
}
