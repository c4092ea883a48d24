//! Command-line definitions (clap). No I/O here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use canary::term::ColorWhen;
use canary_core::incidents::Compromise;

const AFTER_HELP: &str = "\
The quarterly ceremony:
  canary keygen --name alice            # each signer, on their own machine
  canary init --org 'Example' --domain example.org --threshold 2
  canary freshness fetch --out freshness.json   # online machine
  canary draft --freshness freshness.json --announce 'Nothing to report.'
  canary sign drafts/0001.json --key ~/.config/canary/alice.key
  canary sign drafts/0001.json --key ~/.config/canary/bob.key
  canary publish drafts/0001.json --site public/

Verification:
  canary verify                         # this project's canaries/ and keys/policy.json
  canary verify path/to/project --policy trusted-policy.json --json
  canary verify https://example.org --key SHA256:… --key SHA256:…
  canary verify --online                # also ask block explorers about the block

Incidents (signed by the next canary):
  canary incident add                   # asks for each field on a terminal
  canary incident update ID --resolved-at now --note 'Fixed.'

Unattended:
  canary check --warn-days 14           # CI: exit 20 when the next canary is due soon
  canary check https://example.org      # also: the site serves the repository's latest
  canary watch canaries.toml --jobs 16  # many sites at once, with state
  (check, watch: exit 20 due soon; watch: 21 something needs attention)

Exit codes: 0 valid, 1 failure, 2 usage, 3 bad input, 4 refused,
10 signature, 11 threshold, 12 policy, 13 history, 14 TRIPPED,
15 expired, 16 not yet valid, 17 freshness, 18 incident log, 19 rollback
(see README.md).";

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
    /// Inspect the trust policy; change it before the first canary, or
    /// rotate it (propose, sign, publish) after.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Gather a proof of freshness (news headlines, a Bitcoin block) online.
    #[command(subcommand)]
    Freshness(FreshnessCommand),
    /// Write an unsigned draft of the next canary.
    Draft(DraftArgs),
    /// Review a draft and add your signature (offline; no network).
    Sign(SignArgs),
    /// Publish a fully signed draft to canaries/ after verifying it (and the site).
    Publish(PublishArgs),
    /// Verify the latest canary and its whole history.
    Verify(VerifyArgs),
    /// For CI: verify, and warn when the next canary is due soon (exit 20).
    Check(CheckArgs),
    /// Verify many sites' canaries at once, remembering what each showed.
    Watch(WatchArgs),
    /// Keep the signed, append-only incident log (canaries/incidents.jsonl).
    #[command(subcommand)]
    Incident(IncidentCommand),
    /// Sign any file (e.g. release checksums) with SSHSIG and minisign:
    /// writes FILE.sig and FILE.minisig.
    SignFile(SignFileArgs),
    /// Print a shell completion script (e.g. `canary completions bash > /etc/bash_completion.d/canary`).
    Completions {
        /// The shell to complete for
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page canary(1) (roff), or write one page per command.
    Man {
        /// Write canary.1 and canary-COMMAND.1 for every command into DIR.
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct SignFileArgs {
    /// The file to sign (at most 1 MiB).
    pub file: PathBuf,
    /// The signing key (OpenSSH Ed25519, as `canary keygen` writes).
    #[arg(long, value_name = "PATH")]
    pub key: PathBuf,
    /// The SSHSIG namespace readers pass to `ssh-keygen -Y verify -n`
    /// (e.g. canary-release); `warrant-canary…` is reserved for canaries.
    #[arg(long, value_name = "NS")]
    pub namespace: String,
    /// The principal shown in the allowed_signers line [default: the namespace].
    #[arg(long, value_name = "NAME")]
    pub principal: Option<String>,
    #[command(flatten)]
    pub passphrase: PassphraseArgs,
    /// Replace FILE.sig and FILE.minisig if they exist.
    #[arg(long)]
    pub force: bool,
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
    /// Do not require a proof of freshness in canaries (the policy records
    /// a zero requirement) [default: 2 news feeds and a Bitcoin block].
    #[arg(long)]
    pub no_freshness_requirement: bool,
}

#[derive(Debug, Subcommand)]
pub enum FreshnessCommand {
    /// Fetch headlines and a Bitcoin block into a freshness file (run on
    /// an online machine; carry the file to the signers).
    Fetch(FreshnessFetchArgs),
}

#[derive(Debug, Args)]
pub struct FreshnessFetchArgs {
    /// Where to write the freshness file [default: freshness.json].
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Keep what came back when a source fails, is short or is frozen,
    /// recording which sources failed (otherwise nothing is written).
    #[arg(long)]
    pub allow_partial: bool,
    /// Overwrite an existing freshness file.
    #[arg(long)]
    pub force: bool,
    /// Record this fetch time instead of the clock (RFC 3339; for
    /// reproducible runs and tests).
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Show the trust policy and its hash.
    Show,
    /// Add a signer from keys/NAME.pub (or from --key, copied there).
    AddSigner {
        /// The signer's name (its public key is keys/NAME.pub)
        name: String,
        /// An OpenSSH Ed25519 public key file (e.g. made by ssh-keygen).
        #[arg(long, value_name = "PUBFILE")]
        key: Option<PathBuf>,
    },
    /// Change the number of signatures required.
    SetThreshold {
        /// Signatures required on each canary (1 to the number of signers)
        threshold: usize,
    },
    /// Propose the next policy version (after the first canary: a rotation
    /// signed under both versions), written to drafts/policy.N.json.
    Propose(ProposeArgs),
    /// Review a proposed policy version and add your signature (offline).
    #[command(name = "sign")]
    SignProposal(PolicySignArgs),
    /// Accept a proposed version signed by both versions' thresholds; it
    /// takes effect with the next canary.
    #[command(name = "publish")]
    PublishProposal {
        /// The signed proposal [default: drafts/policy.N.json for the next version].
        draft: Option<PathBuf>,
    },
    /// Change what every canary's proof of freshness must hold.
    SetFreshness {
        /// News feeds that must contribute headlines (0: none).
        #[arg(long, value_name = "N")]
        min_feeds: Option<u32>,
        /// Whether a Bitcoin block is required.
        #[arg(long, value_name = "BOOL")]
        block: Option<bool>,
        /// How long before the issue time the proof may have been gathered.
        #[arg(long, value_name = "HOURS")]
        max_age_hours: Option<u32>,
    },
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("explanation").required(true).args(["explain", "explain_file"])))]
pub struct ProposeArgs {
    /// Why the policy changes, signed with it and shown to readers.
    #[arg(long, value_name = "TEXT")]
    pub explain: Option<String>,
    /// Read the explanation from this file.
    #[arg(long, value_name = "FILE")]
    pub explain_file: Option<PathBuf>,
    /// Add a signer: NAME (key from keys/NAME.pub) or NAME=PUBFILE (copied to keys/NAME.pub); repeat for several.
    #[arg(long, value_name = "NAME[=PUBFILE]")]
    pub add_signer: Vec<String>,
    /// Remove a signer; repeat for several.
    #[arg(long, value_name = "NAME")]
    pub remove_signer: Vec<String>,
    /// Give a signer another key (an OpenSSH Ed25519 public key file).
    #[arg(long, value_name = "NAME=PUBFILE")]
    pub replace_key: Vec<String>,
    /// Signatures required on each canary.
    #[arg(long, value_name = "N")]
    pub threshold: Option<usize>,
    /// Days between canaries.
    #[arg(long, value_name = "D")]
    pub cadence_days: Option<u32>,
    /// News feeds a proof of freshness must hold headlines from.
    #[arg(long, value_name = "N")]
    pub min_feeds: Option<u32>,
    /// Whether a proof of freshness must hold a Bitcoin block.
    #[arg(long, value_name = "BOOL")]
    pub block: Option<bool>,
    /// How long before the issue time the proof may have been gathered.
    #[arg(long, value_name = "H")]
    pub max_age_hours: Option<u32>,
    /// Revoke NAME's current key as compromised from TIME (RFC 3339); NAME
    /// leaves the signers unless --replace-key NAME=… gives a new key.
    #[arg(long, value_name = "NAME=TIME")]
    pub revoke: Vec<String>,
    /// Where to write the proposal [default: drafts/policy.N.json].
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Overwrite an existing proposal (its signatures are lost).
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct PolicySignArgs {
    /// The proposal to sign (drafts/policy.N.json).
    pub draft: PathBuf,
    /// Your OpenSSH Ed25519 secret key.
    #[arg(long, value_name = "SECRET")]
    pub key: PathBuf,
    #[command(flatten)]
    pub passphrase: PassphraseArgs,
    /// Sign without asking for confirmation (for scripts).
    #[arg(long, short = 'y')]
    pub yes: bool,
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
    /// Embed this proof of freshness (from `canary freshness fetch`).
    #[arg(long, value_name = "FILE")]
    pub freshness: Option<PathBuf>,
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
    /// A project folder, a folder of canaries, or a site URL
    /// (https://example.org or its .well-known/warrant-canary.json)
    /// [default: the project].
    #[arg(value_name = "PATH|URL")]
    pub path: Option<PathBuf>,
    /// The trusted policy [default: keys/policy.json of the project]. For a
    /// URL: the site's policy must be exactly this file.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// Evaluate as of this time instead of now (RFC 3339).
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Also ask block explorers whether the recorded Bitcoin block is on the
    /// chain: --explorer URLs, else those of your own project's canary.toml
    /// (-C, never the verified folder's), else mempool.space and
    /// blockstream.info.
    #[arg(long)]
    pub online: bool,
    /// With --online: an Esplora API base URL to ask (https); repeat for several.
    #[arg(long = "explorer", value_name = "URL", requires = "online")]
    pub explorers: Vec<String>,
    #[command(flatten)]
    pub foreign: ForeignArgs,
}

/// `canary verify --foreign KIND`: a plain-text canary signed with OpenPGP
/// or signify (docs/USAGE-foreign.md).
#[derive(Debug, Args, Clone, Default)]
pub struct ForeignArgs {
    /// Verify a foreign canary: PATH|URL is its text (or give
    /// --clearsigned / --embedded), signed with OpenPGP or signify.
    #[arg(long, value_enum, value_name = "KIND")]
    pub foreign: Option<ForeignKind>,
    /// A detached signature over the text (file or URL; OpenPGP `.asc`/`.sig`
    /// or signify `.sig`); repeat for each.
    #[arg(long = "sig", value_name = "FILE|URL", requires = "foreign")]
    pub sigs: Vec<String>,
    /// OpenPGP: a clear-signed text (file or URL): the text and its signatures.
    #[arg(long, value_name = "FILE|URL", requires = "foreign")]
    pub clearsigned: Option<String>,
    /// signify: an embedded signature (file or URL): the signature, then the text.
    #[arg(long, value_name = "FILE|URL", requires = "foreign")]
    pub embedded: Option<String>,
    /// OpenPGP: a pinned signer's certificate (public key file); repeat for each.
    #[arg(long = "cert", value_name = "FILE", requires = "foreign")]
    pub certs: Vec<PathBuf>,
    /// OpenPGP: pin only the --cert whose primary fingerprint this is; repeat.
    #[arg(long = "fingerprint", value_name = "FPR", requires = "foreign")]
    pub fingerprints: Vec<String>,
    /// OpenPGP: a signer counts only if this key (e.g. the Qubes master
    /// signing key) certified its certificate; repeat for several.
    #[arg(long = "certifier", value_name = "FILE", requires = "foreign")]
    pub certifiers: Vec<PathBuf>,
    /// signify: a pinned public key file; repeat for each.
    #[arg(long = "signify-key", value_name = "FILE", requires = "foreign")]
    pub signify_keys: Vec<PathBuf>,
    /// Days a canary is valid when its text names no next date.
    #[arg(long, value_name = "DAYS", default_value_t = canary_core::foreign::DEFAULT_CADENCE_DAYS,
          value_parser = clap::value_parser!(u32).range(1..=3660), requires = "foreign")]
    pub cadence_days: u32,
    /// With --state: adopt this canary's statements as the ones later
    /// canaries are compared with (after reading what changed).
    #[arg(long, requires = "foreign")]
    pub accept_statements: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ForeignKind {
    /// OpenPGP signatures (Qubes OS, Kicksecure's .asc)
    Openpgp,
    /// OpenBSD signify (Kicksecure's .sig)
    Signify,
}

/// Trust and limits for verifying by URL (docs/USAGE-remote.md).
#[derive(Debug, Args, Clone, Default)]
pub struct RemoteArgs {
    /// URL only: trust the signer key with this fingerprint (SHA256:…, as
    /// `ssh-keygen -l` prints it); repeat for every signer. The site's
    /// policy must list exactly these keys.
    #[arg(long = "key", value_name = "FINGERPRINT")]
    pub keys: Vec<String>,
    /// With --key: the smallest threshold accepted [default: a majority of
    /// the keys]. With --foreign: the pinned keys that must have signed
    /// [default: all of them].
    #[arg(long, value_name = "N")]
    pub threshold: Option<usize>,
    /// URL only, first contact: trust the policy the site serves and pin it.
    #[arg(long)]
    pub trust_on_first_use: bool,
    /// URL only: replace this site's pinned policy with the one --key or
    /// --policy accepts (after a signer change you confirmed elsewhere).
    #[arg(long)]
    pub replace_pin: bool,
    /// URL only: the state file of pins and canaries seen
    /// [default: $XDG_DATA_HOME/canary/state.json].
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// URL only: time limit for the whole verification, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=600))]
    pub timeout: u64,
    /// URL only: fetch and verify every canary again, not only those from
    /// the state file's checkpoint on (a folder is always verified in full).
    #[arg(long)]
    pub full: bool,
}

#[derive(Debug, Subcommand)]
pub enum IncidentCommand {
    /// Record a new incident; on a terminal, asks for each missing field.
    Add(IncidentAddArgs),
    /// Append an update to an incident: new information, its resolution, corrections.
    Update(IncidentUpdateArgs),
    /// List the incidents and the status of each component.
    List(IncidentListArgs),
    /// Show one incident with its updates, as a reader sees it.
    Show(IncidentShowArgs),
}

/// The fields of an incident (times: RFC 3339, or `now`).
#[derive(Debug, Args, Default)]
pub struct IncidentFields {
    /// Short title, one line.
    #[arg(long, value_name = "TEXT")]
    pub title: Option<String>,
    /// When the incident started (RFC 3339, or `now`).
    #[arg(long, value_name = "TIME")]
    pub started_at: Option<String>,
    /// An affected component, from `components` in canary.toml; repeat for several.
    #[arg(long = "component", value_name = "NAME")]
    pub components: Vec<String>,
    /// What happened.
    #[arg(long, value_name = "TEXT")]
    pub what_happened: Option<String>,
    /// What was compromised or lost.
    #[arg(long, value_name = "WHAT", value_parser = compromise_values())]
    pub compromised: Option<Compromise>,
    /// Details of what was compromised or lost (free text).
    #[arg(long, value_name = "TEXT")]
    pub compromised_details: Option<String>,
    /// Measures taken to prevent this in the future.
    #[arg(long, value_name = "TEXT")]
    pub measures: Option<String>,
    /// When this entry is recorded [default: now].
    #[arg(long, value_name = "TIME")]
    pub recorded_at: Option<String>,
}

#[derive(Debug, Args)]
pub struct IncidentAddArgs {
    /// Incident id (a-z, 0-9, `-`) [default: start date and title, e.g. 2024-09-28-push-outage].
    #[arg(long)]
    pub id: Option<String>,
    #[command(flatten)]
    pub fields: IncidentFields,
    /// When it ended (RFC 3339, or `now`); leave out while it is on-going.
    #[arg(long, value_name = "TIME")]
    pub ended_at: Option<String>,
}

#[derive(Debug, Args)]
pub struct IncidentUpdateArgs {
    /// The incident to update.
    pub id: String,
    /// The incident is resolved: when it ended (RFC 3339, or `now`).
    #[arg(long, value_name = "TIME")]
    pub resolved_at: Option<String>,
    /// New information, in words.
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    /// Corrections: each field given replaces the incident's value.
    #[command(flatten)]
    pub fields: IncidentFields,
}

#[derive(Debug, Args)]
pub struct IncidentListArgs {
    /// Component status as of this time instead of now (RFC 3339).
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct IncidentShowArgs {
    /// The incident's id (see `canary incident list`).
    pub id: String,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// A project folder, a folder of canaries, or a site URL [default: the
    /// project]. With a URL and a project (-C DIR, or canary.toml here), the
    /// site must serve exactly the repository's latest canary.
    #[arg(value_name = "SOURCE")]
    pub source: Option<PathBuf>,
    /// Warn (exit 20) when the canary expires within this many days.
    #[arg(long, value_name = "N", default_value_t = canary_core::check::DEFAULT_WARN_DAYS,
          value_parser = clap::value_parser!(u32).range(0..=366))]
    pub warn_days: u32,
    /// The trusted policy [default: keys/policy.json of the project]. For a
    /// URL: the site's policy must be exactly this file (by default the
    /// project's, when there is a project).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// Evaluate as of this time instead of now (RFC 3339).
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Print the findings and the report as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// The list of canaries to watch (TOML: [[canary]] tables with name,
    /// url, and keys, policy or trust_on_first_use; docs/USAGE-check-watch.md).
    #[arg(value_name = "LIST")]
    pub list: PathBuf,
    /// Sites fetched and verified at the same time (each up to 8 files at
    /// once): 32 watch 1,000 sites 50 ms away in about 7 s
    /// (docs/PERFORMANCE.md).
    #[arg(long, value_name = "N", default_value_t = 32,
          value_parser = clap::value_parser!(u16).range(1..=256))]
    pub jobs: u16,
    /// Time limit for each canary's whole verification, in seconds (an
    /// entry's `timeout` overrides it).
    #[arg(long, value_name = "SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=600))]
    pub timeout: u64,
    /// Report a canary as expiring when it expires within this many days.
    #[arg(long, value_name = "N", default_value_t = canary_core::check::DEFAULT_WARN_DAYS,
          value_parser = clap::value_parser!(u32).range(0..=366))]
    pub warn_days: u32,
    /// The watch state file [default: $XDG_DATA_HOME/canary/watch-state.json].
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Evaluate as of this time instead of now (RFC 3339).
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Fetch and verify every canary of every site again, not only those
    /// from the state file's checkpoint on.
    #[arg(long)]
    pub full: bool,
    /// Print the results as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `--compromised`: the core's [`Compromise`] values, with their help (the
/// core knows nothing of clap).
fn compromise_values() -> impl clap::builder::TypedValueParser<Value = Compromise> {
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
    PossibleValuesParser::new([
        PossibleValue::new("nothing").help("Nothing was compromised or lost"),
        PossibleValue::new("data-exposed")
            .help("Data was exposed to someone who should not have it"),
        PossibleValue::new("data-lost").help("Data was lost"),
    ])
    // Only the listed values reach the map, and each parses.
    .map(|s| Compromise::parse(&s).unwrap_or(Compromise::Nothing))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_argument_of_every_command_has_help() {
        use clap::CommandFactory;
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for a in cmd.get_arguments() {
                let id = a.get_id().as_str();
                if a.get_help().is_none() && id != "help" && id != "version" {
                    missing.push(format!("{path} {id}"));
                }
            }
            for sub in cmd.get_subcommands() {
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&super::Cli::command(), "canary", &mut missing);
        assert!(missing.is_empty(), "arguments without help: {missing:?}");
    }

    /// clap's own consistency checks of the definition (flags, ids, groups).
    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
