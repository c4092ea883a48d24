//! `canary sign-file`: SSHSIG and minisign signatures over any file, for
//! release checksums (`SHA256SUMS`). Readers check them with the standard
//! tools; canary texts' namespace is refused (core/src/textsig.rs).

use std::path::{Path, PathBuf};

use crate::cli::SignFileArgs;
use canary::error::{show_path, Error, Result};
use canary::project::{Project, CONFIG_FILE};
use canary::store;
use canary_core::exit::Exit;
use canary_core::keys::PublicKey;
use canary_core::textsig;

pub fn run(root: &Path, a: SignFileArgs) -> Result<Exit> {
    let bytes = store::read_capped(&a.file)?;
    let name = a
        .file
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| Error::input(&a.file, "not a file name canary can sign"))?
        .to_string();
    let sig_path = with_suffix(&a.file, ".sig");
    let minisig_path = with_suffix(&a.file, ".minisig");
    if !a.force {
        for p in [&sig_path, &minisig_path] {
            if p.exists() {
                return Err(Error::refused_with_hint(
                    format!("{}: already exists", show_path(p)),
                    "pass --force to replace it",
                ));
            }
        }
    }
    // Checked before the passphrase is asked for.
    textsig::check_sign_file(&a.namespace, &name).map_err(Error::usage)?;
    let key = super::sign::load_secret(&a.key, &a.passphrase)?;
    refuse_a_canary_key(root, &key.public())?;
    let sigs = textsig::sign_file(&key, &a.namespace, &name, &bytes).map_err(Error::usage)?;
    store::write_atomic(&sig_path, sigs.sshsig.as_bytes())?;
    store::write_atomic(&minisig_path, sigs.minisig.as_bytes())?;
    let public = key.public();
    let principal = a.principal.as_deref().unwrap_or(&a.namespace);
    super::out(&format!(
        "Signed {} ({} bytes)\n  {}  SSHSIG, namespace {}\n  {}  minisign\n\
         Check with either:\n  minisign -Vm {} -P {}\n  \
         ssh-keygen -Y verify -f allowed_signers -I {} -n {} -s {} < {}\n\
         where allowed_signers holds:\n  {} namespaces=\"{}\" {}\n",
        show_path(&a.file),
        bytes.len(),
        show_path(&sig_path),
        a.namespace,
        show_path(&minisig_path),
        show_path(&a.file),
        textsig::minisign_public_key(&public),
        principal,
        a.namespace,
        show_path(&sig_path),
        show_path(&a.file),
        principal,
        a.namespace,
        public.to_openssh("").trim_end(),
    ));
    Ok(Exit::Ok)
}

/// A canary signer's key must not sign arbitrary files: its minisign file
/// signature over a file that is some canary's text would pass plain
/// `minisign -V` (docs/SECURITY.md). Checked against the project in `-C`
/// (the current folder by default), when there is one.
fn refuse_a_canary_key(root: &Path, public: &PublicKey) -> Result<()> {
    if !root.join(CONFIG_FILE).exists() {
        return Ok(());
    }
    let chain = Project::load(root)?.load_chain()?;
    let listed = chain.versions.iter().any(|v| {
        v.policy.signers.iter().any(|s| &s.key == public)
            || v.policy.revoked.iter().any(|r| &r.key == public)
    });
    if listed {
        return Err(Error::refused_with_hint(
            format!(
                "{} is a signer key of this canary project; sign-file refuses canary keys",
                public.fingerprint()
            ),
            "use a separate key for releases (docs/RELEASING.md)",
        ));
    }
    Ok(())
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}
