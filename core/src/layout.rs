//! Where things live in a published folder or site: file names of
//! canaries, the pointer, the policy and the incident log (docs/FORMAT.md).

/// The pointer to the newest canary, inside the canaries folder.
pub const LATEST_FILE: &str = "latest.json";

/// The number in a canary file name: `0007.json` → 7. Four digits or more,
/// so the listing sorts and nothing else in the folder is mistaken for one.
pub fn canary_number(file_name: &str) -> Option<u64> {
    let digits = file_name.strip_suffix(".json")?;
    if digits.len() < 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// `NNNN.json` (four digits or more) for canary `n`.
pub fn canary_file_name(n: u64) -> String {
    format!("{n:04}.json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canary_file_names() {
        assert_eq!(canary_number("0007.json"), Some(7));
        assert_eq!(canary_number("12345.json"), Some(12345));
        assert_eq!(canary_number("7.json"), None);
        assert_eq!(canary_number("latest.json"), None);
        assert_eq!(canary_number("0007.json.tmp"), None);
        assert_eq!(canary_file_name(7), "0007.json");
    }
}
