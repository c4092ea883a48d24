//! Command-line definitions (clap). No I/O here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::term::ColorWhen;

const AFTER_HELP: &str = "\
The quarterly ceremony:
  canary keygen --name alice            # each signer, on their own machine
  canary init --org 'Example' --domain example.org --threshold 2
  canary draft --announce 'Nothing to report.'
  canary sign drafts/0001.json --key ~/.config/canary/alice.key
  canary sign drafts/0001.json --key ~/.config/canary/bob.key
  canary publish drafts/0001.json --site public/

Verification:
  canary verify                         # this project's canaries/ and keys/policy.json
  canary verify path/to/project --policy trusted-policy.json --json

Exit codes: 0 valid, 1 failure, 2 usage, 3 bad input, 4 refused,
10 signature, 11 threshold, 12 policy, 13 history, 14 TRIPPED,
15 expired, 16 not yet valid (see README.md).";

#[derive(Debug, Parser)]
#[command(name = "canary", version, about = "Signed warrant canaries: threshold signing ceremonies and strict verification", after_help = AFTER_HELP)]
pub struct Cli {
    /// The project folder (holding canary.toml).
    #[arg(
        short = 'C',
        long = "project",
        global = true,
        default_value = ".",
        value_name = "DIR"
    )]
    pub project: PathBuf,

    /// When to use colour: auto colours a terminal unless NO_COLOR is set.
    #[arg(long, global = true, value_enum, default_value_t = ColorWhen::Auto, value_name = "WHEN")]
    pub color: ColorWhen,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create an Ed25519 signing key (OpenSSH formats).
    Keygen(KeygenArgs),
    /// Create the project: canary.toml and the trust policy keys/policy.json.
    Init(InitArgs),
    /// Inspect or change the trust policy (before the first canary).
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Write an unsigned draft of the next canary.
    Draft(DraftArgs),
    /// Review a draft and add your signature (offline; no network).
    Sign(SignArgs),
    /// Publish a fully signed draft to canaries/ after verifying it (and the site).
    Publish(PublishArgs),
    /// Verify the latest canary and its whole history.
    Verify(VerifyArgs),
}

#[derive(Debug, Args)]
pub struct PassphraseArgs {
    /// Read the passphrase from this file (first line); else CANARY_PASSPHRASE, else a prompt.
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Signer name: the public key goes to keys/NAME.pub.
    #[arg(long)]
    pub name: String,
    /// Where to write the secret key [default: <config dir>/canary/NAME.key].
    #[arg(long, value_name = "PATH")]
    pub secret: Option<PathBuf>,
    #[command(flatten)]
    pub passphrase: PassphraseArgs,
    /// Write the secret key unencrypted (not recommended).
    #[arg(long, conflicts_with = "passphrase_file")]
    pub no_passphrase: bool,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Organisation name, as it appears in every statement.
    #[arg(long)]
    pub org: String,
    /// The organisation's domain (lowercase DNS name).
    #[arg(long)]
    pub domain: String,
    /// Signatures required on each canary (1 to the number of signers).
    #[arg(long)]
    pub threshold: usize,
    /// Days between canaries; each canary expires this long after issue.
    #[arg(long, default_value_t = 90)]
    pub cadence_days: u32,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Show the trust policy and its hash.
    Show,
    /// Add a signer from keys/NAME.pub (or from --key, copied there).
    AddSigner {
        name: String,
        /// An OpenSSH Ed25519 public key file (e.g. made by ssh-keygen).
        #[arg(long, value_name = "PUBFILE")]
        key: Option<PathBuf>,
    },
    /// Change the number of signatures required.
    SetThreshold { threshold: usize },
}

#[derive(Debug, Args)]
pub struct DraftArgs {
    /// Issue time (RFC 3339, converted to UTC) [default: now].
    #[arg(long, value_name = "TIME")]
    pub issued_at: Option<String>,
    /// A special announcement (free text); repeat for several.
    #[arg(long = "announce", value_name = "TEXT")]
    pub announcements: Vec<String>,
    /// Where to write the draft [default: drafts/NNNN.json].
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Overwrite an existing draft (its signatures are lost).
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct SignArgs {
    /// The draft to sign.
    pub draft: PathBuf,
    /// Your OpenSSH Ed25519 secret key (from canary keygen or ssh-keygen).
    #[arg(long, value_name = "SECRET")]
    pub key: PathBuf,
    #[command(flatten)]
    pub passphrase: PassphraseArgs,
    /// Sign without asking for confirmation (for scripts).
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// The signed draft [default: drafts/NNNN.json for the next number].
    #[arg(conflicts_with = "rebuild")]
    pub draft: Option<PathBuf>,
    /// Also build the static site into DIR (replaced as a whole, atomically).
    #[arg(long, value_name = "DIR")]
    pub site: Option<PathBuf>,
    /// Also upload the site with HTTP PUT under URL (the pointer last).
    #[arg(long, value_name = "URL")]
    pub upload: Option<String>,
    /// Publish nothing new: rebuild the site (and upload it) from the
    /// canaries already published.
    #[arg(long)]
    pub rebuild: bool,
    /// The URL the site is served from, for absolute links in feed.xml
    /// [default: https://DOMAIN/].
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Publish a canary that removes or rewords a statement (readers will
    /// see it as TRIPPED; that may be exactly what you mean to say).
    #[arg(long)]
    pub accept_trip: bool,
    /// Evaluate as of this time instead of now (RFC 3339).
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A project folder or a folder of canaries [default: the project].
    pub path: Option<PathBuf>,
    /// The trusted policy [default: keys/policy.json of the project].
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Evaluate as of this time instead of now (RFC 3339).
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

#[cfg(test)]
mod tests {
    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
