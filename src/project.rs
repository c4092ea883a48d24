//! The maintainers' project folder: `canary.toml`, `keys/`, `drafts/`,
//! `canaries/`, read from disk (the format itself is `canary_core::config`).

use std::path::{Path, PathBuf};

pub use canary_core::config::*;
use canary_core::digest::Sha256Digest;
use canary_core::limits::Limits;
use canary_core::policy::TrustedPolicy;
use canary_core::rotation::{self, ChainError, ChainFile, PolicyChain};
use canary_core::verify::Class;

use crate::error::{Error, Result};
use crate::store;

/// A project folder with its configuration loaded.
#[derive(Debug, Clone)]
pub struct Project {
    pub root: PathBuf,
    pub config: Config,
}

impl Project {
    pub fn load(root: &Path) -> Result<Self> {
        let path = root.join(CONFIG_FILE);
        if !path.exists() {
            return Err(Error::refused_with_hint(
                format!("{}: no canary project here", crate::error::show_path(&path)),
                "run `canary init --org ORG --domain DOMAIN --threshold N` first, or pass -C DIR",
            ));
        }
        // Regular files only: `canary verify DIR` reads a folder's config.
        let text = String::from_utf8(store::read_regular(&path)?)
            .map_err(|_| Error::input(&path, "is not UTF-8 text"))?;
        let config = Config::parse(&text).map_err(|e| Error::input(&path, e))?;
        Ok(Project {
            root: root.to_path_buf(),
            config,
        })
    }

    /// Locks the project folder for a command that writes into it
    /// ([`crate::lock::project`]): refused at once while another holds it.
    pub fn lock(&self, command: &str) -> Result<crate::lock::Lock> {
        crate::lock::project(&self.root, command)
    }

    pub fn keys_dir(&self) -> PathBuf {
        self.root.join(&self.config.keys_dir)
    }
    pub fn canaries_dir(&self) -> PathBuf {
        self.root.join(&self.config.canaries_dir)
    }
    pub fn drafts_dir(&self) -> PathBuf {
        self.root.join(&self.config.drafts_dir)
    }
    pub fn policy_path(&self) -> PathBuf {
        self.keys_dir().join(POLICY_FILE)
    }
    /// The incident log, published beside the canaries.
    pub fn incident_log_path(&self) -> PathBuf {
        self.canaries_dir().join(canary_core::incidents::LOG_FILE)
    }

    pub fn load_policy(&self) -> Result<TrustedPolicy> {
        load_policy(&self.policy_path())
    }

    /// The chain of the policy in effect (`keys/policy.json`, the policy
    /// of the newest published canary), every version from 1.
    pub fn load_chain(&self) -> Result<PolicyChain> {
        let path = self.policy_path();
        load_chain(&path, load_policy(&path)?)
    }

    /// The chain in effect ([`Project::load_chain`]) extended by every
    /// accepted rotation no canary is signed under yet: `rotation.K.json`
    /// for K = N+1, N+2, … as long as it exists, each checked as a step of
    /// the chain. A refused file is a policy failure (exit 12) naming it.
    pub fn load_chain_with_pending(&self) -> Result<Versions> {
        let mut chain = self.load_chain()?;
        let in_effect = chain.versions.len();
        let dir = self.keys_dir();
        let max = Limits::DEFAULT.max_policy_versions;
        let mut pending_bytes = Vec::new();
        loop {
            let k = chain.newest().policy.version.saturating_add(1);
            let path = dir.join(ChainFile::Rotation(k).file_name());
            if std::fs::symlink_metadata(&path).is_err() {
                break;
            }
            let policy_error = |message: String| Error::Verification {
                class: Class::Policy,
                message: format!("{}: {message}", crate::error::show_path(&path)),
            };
            if k > max {
                return Err(policy_error(format!(
                    "policy version {k} is beyond the {max} versions canary walks"
                )));
            }
            let bytes = store::read_regular(&path)?;
            chain
                .push(&bytes)
                .map_err(|e| policy_error(e.to_string()))?;
            let env = canary_core::envelope::Envelope::parse(&bytes)
                .expect("an accepted rotation is an envelope");
            pending_bytes.push(env.payload);
        }
        Ok(Versions {
            chain,
            in_effect,
            pending_bytes,
        })
    }
}

/// The policy chain of a project with its pending versions: those accepted
/// by `canary policy publish` that no published canary is signed under yet
/// (docs/FORMAT.md, "Rotation").
#[derive(Debug, Clone)]
pub struct Versions {
    /// Every version, pending ones last.
    pub chain: PolicyChain,
    /// How many versions are in effect (`keys/policy.json` is the last of
    /// them); the rest are pending.
    pub in_effect: usize,
    /// The exact bytes of each pending version, in order.
    pending_bytes: Vec<Vec<u8>>,
}

impl Versions {
    /// The newest accepted version, pending or not: what the next canary
    /// is drafted and signed under.
    pub fn newest(&self) -> &TrustedPolicy {
        self.chain.newest()
    }

    /// The version of `keys/policy.json`.
    pub fn in_effect(&self) -> &TrustedPolicy {
        &self.chain.versions[self.in_effect - 1]
    }

    /// The chain without its pending versions.
    pub fn chain_in_effect(&self) -> PolicyChain {
        self.chain_upto(self.in_effect - 1)
    }

    /// Versions 1 to `self.chain.versions[i]`.
    pub fn chain_upto(&self, i: usize) -> PolicyChain {
        PolicyChain {
            versions: self.chain.versions[..=i].to_vec(),
            steps: self.chain.steps[..i].to_vec(),
        }
    }

    /// The pending versions, oldest first.
    pub fn pending(&self) -> &[TrustedPolicy] {
        &self.chain.versions[self.in_effect..]
    }

    /// The exact bytes of the pending version whose hash is `sha256`.
    pub fn pending_bytes(&self, sha256: Sha256Digest) -> Option<&[u8]> {
        self.pending()
            .iter()
            .zip(&self.pending_bytes)
            .find(|(v, _)| v.sha256 == sha256)
            .map(|(_, b)| b.as_slice())
    }
}

/// Every version of the policy at `path` (already read as `newest`), from
/// `policy.1.json` and `rotation.K.json` beside it (docs/FORMAT.md,
/// "Rotation"). A chain that does not hold is a policy failure (exit 12)
/// naming the file. Files of the chain must be regular files.
pub fn load_chain(path: &Path, newest: TrustedPolicy) -> Result<PolicyChain> {
    if newest.policy.version <= 1 {
        return Ok(PolicyChain::single(newest));
    }
    let dir = store::parent_dir(path);
    let bytes = store::read_regular(path)?;
    let max = Limits::DEFAULT.max_policy_versions;
    let read = |f: ChainFile| {
        let p = dir.join(f.file_name());
        if !p.exists() {
            return Ok(None);
        }
        store::read_regular(&p).map(Some)
    };
    let shown = |p: &Path| crate::error::show_path(p);
    rotation::load_chain(&newest, &bytes, max, read).map_err(|e| {
        let message = match e {
            ChainError::Read(e) => return e,
            // Names its own file, relative to the keys folder.
            ChainError::TooLong { .. } => format!("{}: {e}", shown(path)),
            other => format!("{}/{other}", shown(&dir)),
        };
        Error::Verification {
            class: Class::Policy,
            message,
        }
    })
}

pub fn load_policy(path: &Path) -> Result<TrustedPolicy> {
    let bytes = store::read_capped(path)?;
    TrustedPolicy::from_bytes(&bytes).map_err(|e| Error::input(path, e))
}

/// The policy found in a folder being verified (not one the user named,
/// which may be a pipe): a regular file, like the folder's canaries.
pub fn load_folder_policy(path: &Path) -> Result<TrustedPolicy> {
    let bytes = store::read_regular(path)?;
    TrustedPolicy::from_bytes(&bytes).map_err(|e| Error::input(path, e))
}

/// Reads every `NAME.pub` in `dir`, sorted by name.
pub fn read_public_keys(dir: &Path) -> Result<Vec<canary_core::policy::Signer>> {
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(Error::input(dir, store::io_problem(&e))),
    };
    for entry in entries {
        let entry = entry.map_err(|e| Error::input(dir, store::io_problem(&e)))?;
        let file = entry.file_name().to_string_lossy().into_owned();
        let Some(name) = file.strip_suffix(".pub") else {
            continue;
        };
        let path = dir.join(&file);
        canary_core::policy::check_name(name).map_err(|e| Error::input(&path, e))?;
        out.push(canary_core::policy::Signer {
            name: name.to_string(),
            key: read_public_key(&path)?,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Reads one `.pub` file holding a single OpenSSH Ed25519 key line.
pub fn read_public_key(path: &Path) -> Result<canary_core::keys::PublicKey> {
    let text = store::read_text(path)?;
    let mut lines = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'));
    let line = lines
        .next()
        .ok_or_else(|| Error::input(path, "no public key in file"))?;
    if lines.next().is_some() {
        return Err(Error::input(
            path,
            "more than one key line; put one key per file",
        ));
    }
    canary_core::keys::PublicKey::from_openssh(line).map_err(|e| Error::input(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use canary_core::config::{ConfigError, FreshnessConfigError};

    #[test]
    fn a_toml_syntax_error_is_one_line() {
        let e = Config::parse("[[statements\n").unwrap_err();
        assert!(
            matches!(&e, ConfigError::Toml { line: Some(1), message } if message.contains('\n')),
            "{e:?}"
        );
        let e = e.to_string();
        assert!(!e.contains('\\'), "{e}");
        assert!(
            e.starts_with("invalid TOML at line 1: invalid table header; expected"),
            "{e}"
        );
    }

    #[test]
    fn components_default_and_are_checked() {
        let c = Config::new(canary_core::statement::default_claims("E"));
        let round = Config::parse(&c.to_toml()).unwrap();
        assert_eq!(round, c);
        assert!(round.components.contains(&"App & Server".to_string()));
        // A canary.toml from before the incident log gets the defaults.
        let legacy = "[[statements]]\nid = \"a\"\ntext = \"t\"\n";
        assert_eq!(
            Config::parse(legacy).unwrap().components,
            default_components()
        );
        let bad = format!("components = [\" padded\"]\n{legacy}");
        let e = Config::parse(&bad).unwrap_err();
        assert!(e.to_string().contains("component"));
        assert!(matches!(e, ConfigError::Component(_)), "{e:?}");
    }

    #[test]
    fn default_config_round_trips_with_freshness_defaults() {
        let c = Config::new(canary_core::statement::default_claims("Example"));
        let text = c.to_toml();
        assert!(text.contains("[freshness]"), "{text}");
        assert_eq!(Config::parse(&text).unwrap(), c);
        assert_eq!(c.freshness.feeds.len(), 3);
        assert_eq!(c.freshness.explorers.len(), 2);
        let bad = text.replace("confirmations = 6", "confirmations = 2");
        let e = Config::parse(&bad).unwrap_err();
        assert!(e.to_string().contains("confirmations"));
        assert_eq!(
            e,
            ConfigError::Freshness(FreshnessConfigError::Confirmations { confirmations: 2 })
        );
        let bad = text.replace("https://mempool.space/api", "http://mempool.space/api");
        let e = Config::parse(&bad).unwrap_err();
        assert!(e.to_string().contains("https"));
        assert!(
            matches!(e, ConfigError::Freshness(FreshnessConfigError::Url(_))),
            "{e:?}"
        );
    }
}
