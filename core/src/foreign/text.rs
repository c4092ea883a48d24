//! What a foreign canary's text says, read from its words: the title, the
//! numbered statements, the date of issue, when the next one is due, and
//! the proof of freshness (headlines, a Bitcoin block hash or height).
//!
//! The layout is the one Qubes OS and Kicksecure share (headings
//! underlined with `---` or `===`, "Statements" numbered `1.`, bullets
//! `*`, a "Proof of freshness" section). Nothing here is believed before
//! the signatures over these exact bytes are checked; the parser never
//! fails: what it cannot find is absent.

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use serde::Serialize;

use crate::sanitize::Untrusted;
use crate::statement::Claim;
use crate::timefmt::Timestamp;

/// The placeholder a date is compared as: a new canary restates its own
/// date of issue and next window, which is no rewording.
pub const DATE_MASK: &str = "<date>";
/// The placeholder of a security-bulletin count (Qubes statement 2 counts
/// QSBs published so far, which grows by design).
pub const COUNT_MASK: &str = "<count>";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Parsed {
    /// The first line, without its decoration (`---===[ Qubes Canary 047 ]===---`).
    pub title: Option<Untrusted>,
    /// The number at the end of the title, if any (047).
    pub serial: Option<u64>,
    /// The statements as written (whitespace collapsed), in order.
    pub statements: Vec<Claim>,
    /// The date a statement gives as the date of issue (midnight UTC).
    pub issue_date: Option<Timestamp>,
    /// The first RFC 2822 date of the proof of freshness.
    pub freshness_date: Option<Timestamp>,
    /// When the next canary is due, if a statement says so in a form read here.
    pub next_due: Option<Timestamp>,
    /// That statement's words, when one speaks of the next canary.
    pub next_statement: Option<Untrusted>,
    pub freshness: Freshness,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Freshness {
    /// Each source named (`Source: …` or the `rsstail` command's URL).
    pub sources: Vec<Untrusted>,
    pub headlines: Vec<Untrusted>,
    /// A 64-hex Bitcoin block hash (with its leading zeros).
    pub block_hash: Option<String>,
    /// A Bitcoin block height (the answer to a `getblockcount`).
    pub block_height: Option<u64>,
}

/// How many bytes of text the parser reads at most (callers cap reads far
/// below this already).
const MAX_TEXT: usize = 1 << 20;

pub fn parse(bytes: &[u8]) -> Parsed {
    let bytes = &bytes[..bytes.len().min(MAX_TEXT)];
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.lines().collect();
    let mut p = Parsed {
        title: title(&lines),
        ..Parsed::default()
    };
    p.serial = p.title.as_ref().and_then(|t| {
        let last = t.raw().split_whitespace().last()?;
        (last.len() <= 9 && last.bytes().all(|b| b.is_ascii_digit()))
            .then(|| last.parse().ok())
            .flatten()
    });
    let sections = sections(&lines);
    if let Some(body) = section(&sections, "statements") {
        p.statements = statements(body);
    }
    if let Some(body) = section(&sections, "proof of freshness") {
        p.freshness = freshness(body);
        p.freshness_date = body.iter().find_map(|l| rfc2822(l));
    }
    for c in &p.statements {
        let lower = c.text.raw().to_lowercase();
        if p.issue_date.is_none()
            && (lower.contains("date of issue") || lower.contains("issue date"))
        {
            p.issue_date = dates(c.text.raw()).into_iter().next().map(midnight);
        }
        if p.next_statement.is_none() && lower.contains("next") && lower.contains("canar") {
            p.next_statement = Some(c.text.clone());
        }
    }
    let base = p.freshness_date.or(p.issue_date);
    p.next_due = p
        .next_statement
        .as_ref()
        .and_then(|s| next_due(s.raw(), base));
    p
}

fn title(lines: &[&str]) -> Option<Untrusted> {
    let first = lines.iter().find(|l| !l.trim().is_empty())?;
    let t = first.trim().trim_matches(|c: char| {
        matches!(c, '-' | '=' | '[' | ']' | '#' | '*') || c.is_whitespace()
    });
    (!t.is_empty()).then(|| Untrusted::new(t.chars().take(200).collect::<String>()))
}

fn is_rule(l: &str) -> bool {
    let t = l.trim();
    t.len() >= 3 && (t.bytes().all(|b| b == b'-') || t.bytes().all(|b| b == b'='))
}

/// (heading in lower case, body lines) for each underlined heading.
fn sections<'a>(lines: &[&'a str]) -> Vec<(String, Vec<&'a str>)> {
    let mut out: Vec<(String, Vec<&'a str>)> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if i + 1 < lines.len() && !lines[i].trim().is_empty() && is_rule(lines[i + 1]) {
            out.push((lines[i].trim().to_lowercase(), Vec::new()));
            i += 2;
            continue;
        }
        if let Some(last) = out.last_mut() {
            last.1.push(lines[i]);
        }
        i += 1;
    }
    out
}

fn section<'a, 'b>(s: &'b [(String, Vec<&'a str>)], name: &str) -> Option<&'b [&'a str]> {
    s.iter().find(|(h, _)| h == name).map(|(_, b)| b.as_slice())
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `N.` at the start of a line (the number, and the rest of the line).
fn numbered(l: &str) -> Option<(u32, &str)> {
    let t = l.trim_start();
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 3 {
        return None;
    }
    let rest = t[digits..].strip_prefix('.')?;
    if !(rest.is_empty() || rest.starts_with(char::is_whitespace)) {
        return None;
    }
    Some((t[..digits].parse().ok()?, rest))
}

fn bullet(l: &str) -> Option<&str> {
    let t = l.trim_start();
    t.strip_prefix("* ")
        .or_else(|| t.strip_prefix("- "))
        .or_else(|| t.strip_prefix("• "))
}

/// The statements: the text before the first number (`preamble`), each
/// numbered statement (`1`, `2`, …) with the paragraphs after it, and
/// each bullet under a number as its own statement (`2.1`, `2.2`, …).
fn statements(body: &[&str]) -> Vec<Claim> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut number: Option<u32> = None;
    let mut bullets = 0u32;
    let mut cur = (String::from("preamble"), String::new());
    let mut in_bullet = false;
    let flush = |cur: &mut (String, String), out: &mut Vec<(String, String)>, id: String| {
        let prev = std::mem::replace(cur, (id, String::new()));
        let text = collapse(&prev.1);
        if !text.is_empty() {
            out.push((prev.0, text));
        }
    };
    for l in body {
        if let Some((n, rest)) = numbered(l) {
            flush(&mut cur, &mut out, n.to_string());
            number = Some(n);
            bullets = 0;
            in_bullet = false;
            cur.1.push_str(rest);
            cur.1.push(' ');
        } else if let Some(rest) = bullet(l) {
            bullets += 1;
            let id = match number {
                Some(n) => format!("{n}.{bullets}"),
                None => format!("preamble.{bullets}"),
            };
            flush(&mut cur, &mut out, id);
            in_bullet = true;
            cur.1.push_str(rest);
            cur.1.push(' ');
        } else if l.trim().is_empty() && in_bullet {
            // A paragraph after a list belongs to its number again.
            in_bullet = false;
            let id = number.map_or_else(|| "preamble".to_string(), |n| format!("{n}.rest"));
            flush(&mut cur, &mut out, id);
        } else {
            cur.1.push_str(l);
            cur.1.push(' ');
        }
    }
    let id = cur.0.clone();
    flush(&mut cur, &mut out, id);
    // Ids stay unique even in odd layouts (a number repeated).
    let mut seen = std::collections::BTreeMap::<String, u32>::new();
    out.into_iter()
        .map(|(id, text)| {
            let k = seen.entry(id.clone()).or_default();
            *k += 1;
            let id = if *k == 1 { id } else { format!("{id}#{k}") };
            Claim {
                id,
                text: Untrusted::new(text),
            }
        })
        .collect()
}

fn freshness(body: &[&str]) -> Freshness {
    let mut f = Freshness::default();
    let mut after_source = false;
    let mut after_count = false;
    for l in body {
        let t = l.trim();
        if t.is_empty() {
            after_source = false;
            continue;
        }
        if let Some(s) = t.strip_prefix("Source:") {
            f.sources.push(Untrusted::new(s.trim()));
            after_source = !s.to_lowercase().contains("blockchain");
            continue;
        }
        if t.starts_with("$ rsstail") {
            if let Some(url) = t.split_whitespace().find(|w| w.contains("://")) {
                f.sources.push(Untrusted::new(url));
            }
            continue;
        }
        if t.starts_with('$') {
            after_count = t.contains("getblockcount");
            continue;
        }
        if after_count {
            after_count = false;
            if t.len() <= 9 && t.bytes().all(|b| b.is_ascii_digit()) {
                f.block_height = t.parse().ok();
                continue;
            }
        }
        if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) && t.starts_with("00000000") {
            f.block_hash.get_or_insert_with(|| t.to_ascii_lowercase());
            continue;
        }
        if let Some(h) = t.strip_prefix("Title:") {
            f.headlines.push(Untrusted::new(h.trim()));
        } else if after_source {
            f.headlines.push(Untrusted::new(t));
        }
    }
    f
}

/// A line that is an RFC 2822 date (`Wed, 03 Jun 2026 02:51:46 +0000`).
fn rfc2822(l: &str) -> Option<Timestamp> {
    let t = l.trim();
    if t.len() > 40 {
        return None;
    }
    DateTime::parse_from_rfc2822(t)
        .ok()
        .map(|d| Timestamp::from_unix(d.timestamp()))
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

fn month(w: &str) -> Option<u32> {
    let w = w.trim_end_matches([',', '.', ';', ':']).to_lowercase();
    if w.len() < 3 {
        return None;
    }
    MONTHS
        .iter()
        .position(|m| {
            *m == w || (w.len() == 3 && m.starts_with(&w)) || (w == "sept" && *m == "september")
        })
        .map(|i| i as u32 + 1)
}

fn num(w: &str, max_len: usize) -> Option<u32> {
    let w = w.trim_end_matches([',', '.', ';', ':', ')']);
    let w = w
        .strip_suffix("st")
        .or_else(|| w.strip_suffix("nd"))
        .or_else(|| w.strip_suffix("rd"))
        .or_else(|| w.strip_suffix("th"))
        .unwrap_or(w);
    (!w.is_empty() && w.len() <= max_len && w.bytes().all(|b| b.is_ascii_digit()))
        .then(|| w.parse().ok())
        .flatten()
}

fn year(w: &str) -> Option<i32> {
    let w = w.trim_end_matches([',', '.', ';', ':', ')']);
    (w.len() == 4 && w.bytes().all(|b| b.is_ascii_digit()))
        .then(|| w.parse().ok())
        .flatten()
}

/// The punctuation a token ends with (kept when the token is masked).
fn tail(w: &str) -> &str {
    let keep = w.trim_end_matches([',', '.', ';', ':', ')']);
    &w[keep.len()..]
}

/// A date found in words: (year, month, day or None), and how many
/// words it spans starting at `i`.
/// (year, month, day if given).
type Ymd = (i32, u32, Option<u32>);

fn date_at(w: &[&str], i: usize) -> Option<(Ymd, usize)> {
    let get = |k: usize| w.get(i + k).copied();
    if let Some(m) = get(0).and_then(month) {
        if let (Some(d), Some(y)) = (get(1).and_then(|x| num(x, 2)), get(2).and_then(year)) {
            return Some(((y, m, Some(d)), 3));
        }
        if let Some(y) = get(1).and_then(year) {
            return Some(((y, m, None), 2));
        }
    }
    if let (Some(d), Some(m), Some(y)) = (
        get(0).and_then(|x| num(x, 2)),
        get(1).and_then(month),
        get(2).and_then(year),
    ) {
        return Some(((y, m, Some(d)), 3));
    }
    let iso = get(0)?.trim_end_matches([',', '.', ';', ':', ')']);
    let b = iso.as_bytes();
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        let y = year(&iso[..4])?;
        let m = num(&iso[5..7], 2)?;
        let d = num(&iso[8..], 2)?;
        return Some(((y, m, Some(d)), 1));
    }
    None
}

fn valid(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

/// Every full date (year, month and day) in `s`, in order.
pub fn dates(s: &str) -> Vec<NaiveDate> {
    let w: Vec<&str> = s.split_whitespace().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < w.len() {
        match date_at(&w, i) {
            Some(((y, m, Some(d)), n)) => {
                if let Some(date) = valid(y, m, d) {
                    out.push(date);
                }
                i += n;
            }
            Some((_, n)) => i += n,
            None => i += 1,
        }
    }
    out
}

fn midnight(d: NaiveDate) -> Timestamp {
    Timestamp::from_unix(
        Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight exists"))
            .timestamp(),
    )
}

/// `text` as it is compared with an earlier canary's: whitespace
/// collapsed, each date (`June 03, 2026`, `September 2026`, `2026-06-03`)
/// replaced by [`DATE_MASK`] and a count of security bulletins by
/// [`COUNT_MASK`]. Every other word, number included, is compared as is.
pub fn masked(text: &str) -> String {
    let w: Vec<&str> = text.split_whitespace().collect();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < w.len() {
        if let Some((_, n)) = date_at(&w, i) {
            out.push(format!("{DATE_MASK}{}", tail(w[i + n - 1])));
            i += n;
            continue;
        }
        let next: Vec<String> = w[i + 1..w.len().min(i + 4)]
            .iter()
            .map(|x| x.to_lowercase())
            .collect();
        let bulletins = next.first().is_some_and(|x| x == "security")
            && next.get(1).is_some_and(|x| x.starts_with("bulletins"))
            || next.get(1).is_some_and(|x| x == "security")
                && next.get(2).is_some_and(|x| x.starts_with("bulletins"));
        if num(w[i], 6).is_some() && !w[i].contains(['s', 't', 'n', 'r']) && bulletins {
            out.push(format!("{COUNT_MASK}{}", tail(w[i])));
            i += 1;
            continue;
        }
        out.push(w[i].to_string());
        i += 1;
    }
    out.join(" ")
}

fn small_number(w: &str) -> Option<u32> {
    if let Some(n) = num(w, 3) {
        return Some(n);
    }
    let words = [
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
        "twenty",
    ];
    let w = w.to_lowercase();
    if let Some(i) = words.iter().position(|x| *x == w) {
        return Some(i as u32 + 1);
    }
    match w.as_str() {
        "twenty-one" => Some(21),
        "thirty" => Some(30),
        "thirty-one" => Some(31),
        _ => None,
    }
}

/// When the next canary is due, from words such as "in the first fourteen
/// days of September 2026" (the end of that day, here 15 September 00:00
/// UTC), "in September 2026" / "by the end of September 2026" (1 October),
/// or "within 4 weeks" (from `base`, the issue time).
pub fn next_due(s: &str, base: Option<Timestamp>) -> Option<Timestamp> {
    let w: Vec<&str> = s.split_whitespace().collect();
    let lw: Vec<String> = w.iter().map(|x| x.to_lowercase()).collect();
    for i in 0..w.len() {
        if lw[i] == "first"
            && lw.get(i + 2).is_some_and(|x| x == "days")
            && lw.get(i + 3).is_some_and(|x| x == "of")
        {
            let n = small_number(w.get(i + 1)?)?;
            let ((y, m, None), _) = date_at(&w, i + 4)? else {
                continue;
            };
            let start = valid(y, m, 1)?;
            return Some(midnight(
                start.checked_add_days(chrono::Days::new(u64::from(n)))?,
            ));
        }
    }
    for i in 0..w.len() {
        if lw[i] == "within" {
            let n = small_number(w.get(i + 1)?)?;
            let unit = lw.get(i + 2)?.trim_end_matches(['.', ',']);
            let days = match unit {
                "day" | "days" => n,
                "week" | "weeks" => n * 7,
                "month" | "months" => n * 31,
                _ => continue,
            };
            return base?.plus_days(days);
        }
    }
    for i in 0..w.len() {
        if let Some(((y, m, None), _)) = date_at(&w, i) {
            let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
            return Some(midnight(valid(ny, nm, 1)?));
        }
    }
    None
}

/// The calendar day of `t` in UTC.
pub fn day_of(t: Timestamp) -> Option<(i32, u32, u32)> {
    let d = DateTime::from_timestamp(t.unix(), 0)?;
    Some((d.year(), d.month(), d.day()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse_canonical(s).unwrap()
    }

    const QUBES: &str = "\n      ---===[ Qubes Canary 047 ]===---\n\n\nStatements\n-----------\n\n\
The Qubes security team members who have digitally signed this file [1]\nstate the following:\n\n\
1. The date of issue of this canary is June 03, 2026.\n\n\
2. There have been 114 Qubes security bulletins published so far.\n\n\
3. The Qubes Master Signing Key fingerprint is:\n\n       427F 11FD 0FAA 4B08 0123  F01C DDFA 1A3E 3687 9494\n\n\
4. No warrants have ever been served to us with regard to the Qubes OS\n   Project.\n\n\
5. We plan to publish the next of these canary statements in the first\n   fourteen days of September 2026. Special note should be taken.\n\n\n\
Special announcements\n----------------------\n\nNone.\n\n\
Proof of freshness\n-------------------\n\nWed, 03 Jun 2026 02:51:46 +0000\n\n\
Source: DER SPIEGEL - International (https://www.spiegel.de/international/index.rss)\nOne headline\nTwo headline\n\n\
Source: Blockchain.info\n00000000000000000001c7c4fb4f5b739e74f18ca4b3b6add30011982c0735d7\n\n\nFootnotes\n----------\n\n[1] x\n";

    #[test]
    fn reads_a_qubes_canary() {
        let p = parse(QUBES.as_bytes());
        assert_eq!(p.title.as_ref().unwrap().raw(), "Qubes Canary 047");
        assert_eq!(p.serial, Some(47));
        let ids: Vec<&str> = p.statements.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["preamble", "1", "2", "3", "4", "5"]);
        assert_eq!(p.issue_date, Some(ts("2026-06-03T00:00:00Z")));
        assert_eq!(p.freshness_date, Some(ts("2026-06-03T02:51:46Z")));
        assert_eq!(p.next_due, Some(ts("2026-09-15T00:00:00Z")));
        assert_eq!(p.freshness.headlines.len(), 2);
        assert_eq!(p.freshness.sources.len(), 2);
        assert_eq!(
            p.freshness.block_hash.as_deref(),
            Some("00000000000000000001c7c4fb4f5b739e74f18ca4b3b6add30011982c0735d7")
        );
        assert_eq!(
            masked(p.statements[1].text.raw()),
            "The date of issue of this canary is <date>."
        );
        assert_eq!(
            masked(p.statements[2].text.raw()),
            "There have been <count> Qubes security bulletins published so far."
        );
        // The fingerprint's digit groups are no count and no date.
        assert!(masked(p.statements[3].text.raw()).contains("0123 F01C DDFA 1A3E 3687 9494"));
    }

    #[test]
    fn reads_a_kicksecure_canary() {
        let t = "Canary for X\n----\nStatements\n-----------\n\nThe developer states:\n\n\
1. Canary issue date: see the gpg signature time.\n\n2.\n\nDefinition \"artifact\": software\n\n\
* never added any backdoor.\n* never turned over any key.\n\n\
3. We plan to publish the next canary statement within 4 weeks.\n\nThis file should be signed.\n\n\
Special announcements\n---------------------\n\nNone.\n\n\
Proof of freshness\n-------------------\n\n$ date -R -u\nFri, 17 Jul 2026 08:31:26 +0000\n\n\
$ rsstail -1 -n5 -u https://feeds.example/rss.xml\nTitle: A\nTitle: B\n\n\
$ curl --silent https://blockchain.info/q/getblockcount\n958384\n$ date -u +%s\n1784277095\n";
        let p = parse(t.as_bytes());
        let ids: Vec<&str> = p.statements.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["preamble", "1", "2", "2.1", "2.2", "3"]);
        assert_eq!(p.issue_date, None);
        assert_eq!(p.freshness_date, Some(ts("2026-07-17T08:31:26Z")));
        assert_eq!(p.next_due, Some(ts("2026-08-14T08:31:26Z")));
        assert_eq!(p.freshness.block_height, Some(958384));
        assert_eq!(p.freshness.headlines.len(), 2);
        assert_eq!(p.title.unwrap().raw(), "Canary for X");
    }

    #[test]
    fn masks_dates_but_not_other_numbers() {
        assert_eq!(
            masked("We have received 0 warrants."),
            "We have received 0 warrants."
        );
        assert_eq!(masked("As of 3 March 2026, none."), "As of <date>, none.");
        assert_eq!(masked("by 2026-03-03; ok"), "by <date>; ok");
        assert_eq!(
            next_due("next canary in September 2026.", None),
            Some(ts("2026-10-01T00:00:00Z"))
        );
        assert_eq!(
            next_due("next canary in December 2026.", None),
            Some(ts("2027-01-01T00:00:00Z"))
        );
    }

    #[test]
    fn odd_input_never_panics() {
        for t in [
            "",
            "\n\n",
            "---\n---",
            "Statements\n---\n1.",
            "Statements\n---\n* x\n\n1. é\u{202e}",
            "Proof of freshness\n---\n$ getblockcount\n99999999999999999999",
            "Statements\n---\n1. first 99 days of February 2026\n2. within 4000000000 weeks",
        ] {
            let _ = parse(t.as_bytes());
        }
        let _ = parse(&[0xff, 0xfe, b'\n', b'-', b'-', b'-']);
    }
}
