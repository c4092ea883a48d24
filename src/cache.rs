//! The response cache beside a state file (docs/FORMAT.md, "The response
//! cache"): `STATE.cache/`, one file per site, read before a run to ask
//! conditionally and written after a run that passed every check. A file
//! that cannot be read back exactly is not used (the run fetches without
//! conditions); the cache is bounded ([`Limits::max_cache_bytes`]), the
//! files least recently written going first.

use std::fs;
use std::path::{Path, PathBuf};

use canary_core::digest::Sha256Digest;
use canary_core::limits::Limits;
use canary_core::remote::cache::SiteCache;

use crate::error::{Error, Result};
use crate::store;

/// The cache folder of the state file `state`: its name + `.cache`.
pub fn dir_for(state: &Path) -> PathBuf {
    let mut name = state
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "state".into());
    name.push(".cache");
    state.with_file_name(name)
}

/// The file of `site` (its key) in `dir`: the SHA-256 of the key, so any
/// URL makes a plain file name.
pub fn file_for(dir: &Path, site: &str) -> PathBuf {
    dir.join(format!("{}.bin", Sha256Digest::of(site.as_bytes())))
}

/// The largest cache file read: what one run can fetch, and its header.
const MAX_FILE: u64 = Limits::DEFAULT.max_run_bytes() + Limits::DEFAULT.max_file_bytes;

/// The site's cached responses, if its file reads back exactly; anything
/// else (none, unreadable, too large, damaged, another site's) is none.
pub fn load(dir: &Path, site: &str) -> Option<SiteCache> {
    let path = file_for(dir, site);
    let bytes = store::read_capped_to(&path, MAX_FILE).ok()?;
    SiteCache::parse(&bytes, site).ok()
}

/// Writes `cache` for its site, unless it is `before` (the file read at
/// the start of the run) unchanged. Atomic but not synced: a file cut short
/// by a crash reads as damaged and is not used.
pub fn save(dir: &Path, cache: &SiteCache, before: Option<&SiteCache>) -> Result<()> {
    if before == Some(cache) {
        return Ok(());
    }
    store::ensure_dir(dir)?;
    let bytes = cache.to_bytes();
    if bytes.len() as u64 > MAX_FILE {
        return Ok(());
    }
    store::write_atomic_unsynced(&file_for(dir, &cache.site), &bytes)
}

/// Removes the cache files written least recently until all of them
/// together are within `max` bytes.
pub fn evict(dir: &Path, max: u64) -> Result<()> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::write(dir, store::io_problem(&e))),
    };
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let ours = name
            .to_str()
            .and_then(|n| n.strip_suffix(".bin"))
            .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()));
        let Ok(meta) = entry.metadata() else { continue };
        if ours && meta.is_file() {
            let written = meta.modified().unwrap_or(std::time::UNIX_EPOCH);
            files.push((written, meta.len(), entry.path()));
        }
    }
    let mut total: u64 = files.iter().map(|f| f.1).sum();
    files.sort();
    for (_, len, path) in files {
        if total <= max {
            break;
        }
        match fs::remove_file(&path) {
            Ok(()) => total -= len,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => total -= len,
            Err(e) => return Err(Error::write(&path, store::io_problem(&e))),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Past the bound, the files written least recently go first; other
    /// files in the folder are never touched.
    #[test]
    fn eviction_keeps_the_newest_within_the_bound() {
        let dir = tempfile::tempdir().unwrap();
        let names: Vec<PathBuf> = ["a", "b", "c"]
            .iter()
            .map(|s| file_for(dir.path(), s))
            .collect();
        let t0 = std::time::SystemTime::now() - std::time::Duration::from_secs(100);
        for (i, p) in names.iter().enumerate() {
            fs::write(p, vec![0u8; 100]).unwrap();
            let f = fs::File::options().write(true).open(p).unwrap();
            f.set_modified(t0 + std::time::Duration::from_secs(i as u64 * 10))
                .unwrap();
        }
        let other = dir.path().join("notes.txt");
        fs::write(&other, vec![0u8; 1000]).unwrap();
        evict(dir.path(), 300).unwrap();
        assert!(names.iter().all(|p| p.exists()));
        evict(dir.path(), 250).unwrap();
        assert!(!names[0].exists() && names[1].exists() && names[2].exists());
        evict(dir.path(), 0).unwrap();
        assert!(names.iter().all(|p| !p.exists()));
        assert!(other.exists());
        evict(&dir.path().join("absent"), 0).unwrap();
    }

    #[test]
    fn the_cache_folder_is_named_after_the_state_file() {
        assert_eq!(
            dir_for(Path::new("/d/state.json")),
            Path::new("/d/state.json.cache")
        );
        let c = SiteCache {
            site: "https://example.org/".into(),
            entries: Vec::new(),
        };
        let dir = tempfile::tempdir().unwrap();
        save(dir.path(), &c, None).unwrap();
        assert_eq!(load(dir.path(), &c.site), Some(c.clone()));
        assert_eq!(load(dir.path(), "https://other.example/"), None);
    }
}
