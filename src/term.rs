//! Terminal edge: colour, confirmation prompts, passphrases.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

// The styles are the core's (its reports are styled text); this edge
// decides whether they reach the terminal.
pub use canary_core::style::{paint, BAD, BOLD, DIM, OK, WARN};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::store;

/// Environment variable holding a passphrase for automation.
pub const PASSPHRASE_ENV: &str = "CANARY_PASSPHRASE";

/// `--color`: `auto` colours only a terminal, and never when `NO_COLOR` is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

pub fn set_color(when: ColorWhen) {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let choice = match when {
        ColorWhen::Never => anstream::ColorChoice::Never,
        ColorWhen::Auto if no_color => anstream::ColorChoice::Never,
        ColorWhen::Auto => anstream::ColorChoice::Auto,
        ColorWhen::Always => anstream::ColorChoice::Always,
    };
    choice.write_global();
}

pub fn stdin_is_terminal() -> bool {
    std::io::stdin().is_terminal()
}

/// Asks a yes/no question on the terminal; anything but y/yes is no.
pub fn confirm(question: &str) -> Result<bool> {
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Error::input("<stdin>", e))?;
    Ok(matches!(
        line.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

/// Where a passphrase comes from: `--passphrase-file`, then
/// `CANARY_PASSPHRASE`, then a terminal prompt (twice when `confirm`).
pub fn passphrase(file: Option<&Path>, confirm: bool, what: &str) -> Result<Zeroizing<String>> {
    if let Some(path) = file {
        let bytes = Zeroizing::new(store::read_capped(path)?);
        let text =
            std::str::from_utf8(&bytes).map_err(|_| Error::input(path, "is not UTF-8 text"))?;
        // One trailing newline is what `echo pw > file` leaves; drop it.
        let text = text.strip_suffix('\n').unwrap_or(text);
        let text = text.strip_suffix('\r').unwrap_or(text);
        if text.is_empty() {
            return Err(Error::input(path, "passphrase file is empty"));
        }
        return Ok(Zeroizing::new(text.to_string()));
    }
    if let Ok(p) = std::env::var(PASSPHRASE_ENV) {
        if p.is_empty() {
            return Err(Error::Usage(format!("{PASSPHRASE_ENV} is set but empty")));
        }
        return Ok(Zeroizing::new(p));
    }
    if !stdin_is_terminal() {
        return Err(Error::refused_with_hint(
            format!("a passphrase is needed for {what}, and there is no terminal to ask on"),
            format!("pass --passphrase-file FILE or set {PASSPHRASE_ENV}"),
        ));
    }
    let first = Zeroizing::new(
        rpassword::prompt_password(format!("Passphrase for {what}: "))
            .map_err(|e| Error::input("<terminal>", e))?,
    );
    if confirm {
        if first.is_empty() {
            return Err(Error::refused_with_hint(
                "empty passphrase",
                "use --no-passphrase if you really want an unencrypted key",
            ));
        }
        let again = Zeroizing::new(
            rpassword::prompt_password("Repeat passphrase: ")
                .map_err(|e| Error::input("<terminal>", e))?,
        );
        if !bool::from(first.as_bytes().ct_eq(again.as_bytes())) {
            return Err(Error::refused("the passphrases do not match"));
        }
    }
    Ok(first)
}
