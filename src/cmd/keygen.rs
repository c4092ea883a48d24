//! `canary keygen`: an Ed25519 key pair in OpenSSH formats.

use std::path::{Path, PathBuf};

use crate::cli::KeygenArgs;
use canary::error::{show_path, Error, Result};
use canary::project::{Project, CONFIG_FILE};
use canary::{store, term};
use canary_core::exit::Exit;
use canary_core::keys::SecretKey;
use canary_core::policy;

pub fn run(root: &Path, a: KeygenArgs) -> Result<Exit> {
    policy::check_name(&a.name).map_err(Error::usage)?;
    let keys_dir = if root.join(CONFIG_FILE).exists() {
        Project::load(root)?.keys_dir()
    } else {
        root.join("keys")
    };
    let pub_path = keys_dir.join(format!("{}.pub", a.name));
    let secret_path = match a.secret {
        Some(p) => p,
        None => default_secret_path(&a.name)?,
    };
    for (p, hint) in [
        (&pub_path, "choose another --name"),
        (&secret_path, "choose another --secret path (or --name)"),
    ] {
        if p.exists() {
            return Err(Error::refused_with_hint(
                format!(
                    "{}: already exists; keygen never overwrites a key",
                    show_path(p)
                ),
                hint,
            ));
        }
    }
    let passphrase = if a.no_passphrase {
        None
    } else {
        Some(term::passphrase(
            a.passphrase.passphrase_file.as_deref(),
            true,
            &format!("the new key `{}`", a.name),
        )?)
    };

    let key = SecretKey::generate();
    let secret = key
        .to_openssh(&a.name, passphrase.as_ref().map(|p| p.as_bytes()))
        .map_err(|e| Error::write(&secret_path, e))?;
    let public = key.public();
    // keys/NAME.pub goes into the project folder (or the one about to be
    // made), which `init` and `policy add-signer` read and write; the lock
    // is taken only now, so a refusal above leaves nothing behind. (Both
    // files are created, never replaced, whoever else writes.)
    store::ensure_dir(root)?;
    let _lock = canary::lock::project(root, "keygen")?;
    store::write_secret_new(&secret_path, secret.as_bytes())?;
    store::ensure_dir(&keys_dir)?;
    if let Err(e) = store::write_new_atomic(
        &pub_path,
        format!("{}\n", public.to_openssh(&a.name)).as_bytes(),
    ) {
        // Keep the pair together: no orphaned secret key.
        let _ = std::fs::remove_file(&secret_path);
        return Err(e);
    }
    super::out(&format!(
        "Created signing key `{}`\n  public key   {}\n  secret key   {}{}\n  fingerprint  {}\n",
        a.name,
        show_path(&pub_path),
        show_path(&secret_path),
        if passphrase.is_some() {
            " (encrypted, mode 0600)"
        } else {
            " (UNENCRYPTED, mode 0600)"
        },
        public.fingerprint()
    ));
    Ok(Exit::Ok)
}

/// `<config dir>/canary/NAME.key`: outside the repository by default, so a
/// secret key is never committed by accident.
fn default_secret_path(name: &str) -> Result<PathBuf> {
    let base = dirs::config_dir().ok_or_else(|| {
        Error::Usage("no configuration directory is known for this user; pass --secret PATH".into())
    })?;
    Ok(base.join("canary").join(format!("{name}.key")))
}
