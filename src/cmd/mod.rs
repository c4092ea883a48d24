//! One module per subcommand: read inputs, call the core, write outputs.
//! This is the only layer where I/O meets the verification logic.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use canary::error::{Error, Result};
use canary::store;
use canary::term::{self, paint, BAD, DIM};
use canary_core::envelope::{Envelope, STATEMENT_PAYLOAD_TYPE};
use canary_core::exit::Exit;
use canary_core::statement::Statement;
use canary_core::timefmt::Timestamp;

mod check;
mod draft;
mod freshness;
pub(crate) mod incident;
mod init;
mod keygen;
mod man;
mod policy;
mod publish;
mod sign;
mod sign_file;
mod site;
mod verify;
mod verify_foreign;
mod verify_url;
mod watch;

/// Parses the command line, runs the command, prints an error at most once,
/// and turns the outcome into the process exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                Exit::Usage.code()
            } else {
                0
            });
        }
    };
    term::set_color(cli.color);
    let outcome = match run_catching_panics(cli) {
        Ok(outcome) => outcome,
        Err(message) => {
            // A bug, never an answer about the canary: one line, exit 1.
            let mut err = anstream::stderr();
            let message = canary_core::sanitize::rendered_line(&message);
            let _ = writeln!(
                err,
                "{} internal error: {message}; nothing was verified (please report this)",
                paint(BAD, "canary: error:")
            );
            return ExitCode::from(Exit::Failure.code());
        }
    };
    match outcome {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(e) => {
            let mut err = anstream::stderr();
            // Messages can quote hostile input (serde names unknown keys
            // verbatim): escape it so the error stays one harmless line.
            let message = canary_core::sanitize::rendered_line(&e.to_string());
            let _ = writeln!(err, "{} {message}", paint(BAD, "canary: error:"));
            if let Some(hint) = e.hint() {
                let _ = writeln!(err, "{} {hint}", paint(DIM, "hint:"));
            }
            ExitCode::from(e.exit().code())
        }
    }
}

/// Runs the command; a panic (a bug in canary or in a crate it uses)
/// comes back as its message instead of Rust's multi-line report. The
/// hook only records the message: a panic that code catches and handles
/// (feed-rs on a hostile feed, see `freshness::parse_feed`) prints nothing.
fn run_catching_panics(cli: Cli) -> std::result::Result<Result<Exit>, String> {
    use std::cell::RefCell;
    thread_local! {
        static LAST: RefCell<Option<String>> = const { RefCell::new(None) };
    }
    std::panic::set_hook(Box::new(|info| {
        let message = match info.payload().downcast_ref::<&str>() {
            Some(s) => (*s).to_string(),
            None => info
                .payload()
                .downcast_ref::<String>()
                .cloned()
                .unwrap_or_else(|| "a panic".into()),
        };
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        LAST.with(|last| *last.borrow_mut() = Some(format!("{message}{at}")));
    }));
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(cli))).map_err(|_| {
        LAST.with(|last| last.borrow_mut().take())
            .unwrap_or_else(|| "a panic in another thread".into())
    })
}

fn run(cli: Cli) -> Result<Exit> {
    // One "now" for the whole run, so every check sees the same time.
    let now = Timestamp::now();
    let root = cli.project.as_path();
    match cli.command {
        Command::Keygen(a) => keygen::run(root, a),
        Command::Init(a) => init::run(root, a),
        Command::Policy(c) => policy::run(root, c),
        Command::Freshness(c) => freshness::run(root, c, now),
        Command::Draft(a) => draft::run(root, a, now),
        Command::Sign(a) => sign::run(root, a, now),
        Command::Publish(a) => publish::run(root, a, now),
        Command::Verify(a) => verify::run(root, a, now),
        Command::Check(a) => check::run(root, a, now),
        Command::Watch(a) => watch::run(a, now),
        Command::Incident(c) => incident::run(root, c, now),
        Command::Completions { shell } => {
            let mut buf = Vec::new();
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "canary", &mut buf);
            out(&String::from_utf8_lossy(&buf));
            Ok(Exit::Ok)
        }
        Command::SignFile(a) => sign_file::run(root, a),
        Command::Man { out_dir } => man::run(out_dir.as_deref()),
    }
}

/// Writes to stdout; a closed pipe (`canary verify | head`) is not an error.
pub(crate) fn out(text: &str) {
    let stdout = std::io::stdout();
    // Styled (or stripped, off a terminal) in memory and written at once:
    // one write(2) for a report, not one per styled fragment.
    let choice = anstream::AutoStream::choice(&stdout);
    let mut styled = anstream::AutoStream::new(Vec::with_capacity(text.len()), choice);
    let _ = styled.write_all(text.as_bytes());
    let mut o = stdout.lock();
    let _ = o.write_all(&styled.into_inner());
    let _ = o.flush();
}

/// Writes progress and prompts to stderr.
pub(crate) fn note(text: &str) {
    let mut e = anstream::stderr();
    let _ = e.write_all(text.as_bytes());
}

pub(crate) fn parse_time(value: Option<&str>, flag: &str, default: Timestamp) -> Result<Timestamp> {
    match value {
        None => Ok(default),
        Some(v) => Timestamp::parse_lenient(v).map_err(|e| Error::Usage(format!("{flag}: {e}"))),
    }
}

/// A draft: its envelope and the (not yet authenticated) statement in it.
pub(crate) struct Draft {
    pub envelope: Envelope,
    pub statement: Statement,
}

/// Reads a draft, checking the review copy (if any) equals the payload.
pub(crate) fn read_draft(path: &Path) -> Result<Draft> {
    let bytes = store::read_capped(path)?;
    let envelope = Envelope::parse(&bytes).map_err(|e| Error::input(path, e))?;
    if envelope.payload_type != STATEMENT_PAYLOAD_TYPE {
        return Err(Error::input(
            path,
            format!(
                "payload type is `{}`, expected `{STATEMENT_PAYLOAD_TYPE}`",
                canary_core::sanitize::line(&envelope.payload_type)
            ),
        ));
    }
    let statement = Statement::parse(&envelope.payload)
        .map_err(|e| Error::input(path, format!("payload is not a valid statement: {e}")))?;
    if let Some(review) = &envelope.review {
        let payload: serde_json::Value =
            serde_json::from_slice(&envelope.payload).map_err(|e| Error::input(path, e))?;
        if review != &payload {
            return Err(Error::input(
                path,
                "the readable `review` copy differs from the signed payload: the draft was edited by hand",
            ));
        }
    }
    Ok(Draft {
        envelope,
        statement,
    })
}

/// The published history of a project folder, or nothing if none yet.
pub(crate) fn read_history(
    dir: &Path,
) -> Result<(Vec<canary_core::verify::CanaryFile>, Option<Vec<u8>>)> {
    if !dir.exists() {
        return Ok((Vec::new(), None));
    }
    store::read_canaries(dir)
}

/// The newest published canary's statement and digest, parsed without
/// authentication: callers either verified the history first or only use it
/// for display after matching its digest.
pub(crate) fn newest_statement(
    files: &[canary_core::verify::CanaryFile],
) -> Result<Option<(Statement, canary_core::digest::Sha256Digest)>> {
    let Some(f) = files.last() else {
        return Ok(None);
    };
    let env = Envelope::parse(&f.bytes).map_err(|e| Error::input(&f.name, e))?;
    let st = Statement::parse(&env.payload).map_err(|e| Error::input(&f.name, e))?;
    Ok(Some((st, env.payload_digest())))
}
