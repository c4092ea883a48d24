//! The human report of a foreign canary's verification. Every word the
//! text or a certificate supplies is escaped ([`crate::sanitize`]).

use std::fmt::Write as _;

use super::{Checked, ExpiresFrom, IssuedFrom, Report};
use crate::sanitize::line;
use crate::style::{paint, BAD, BOLD, DIM, OK, WARN};
use crate::timefmt::human_duration;
use crate::verify::Class;

/// `source` names the text (its file or URL, as the user gave it).
pub fn report(r: &Report, source: &str, state: Option<&str>) -> String {
    let mut o = String::new();
    let title = r
        .canary
        .as_ref()
        .and_then(|c| c.title.as_ref())
        .map(|t| t.to_string())
        .unwrap_or_else(|| "(no title)".into());
    let _ = writeln!(
        o,
        "Foreign canary ({}): {}",
        r.kind.name(),
        paint(BOLD, &title)
    );
    let _ = writeln!(
        o,
        "{} (as of {})\n",
        crate::render::verdict_line(r.verdict, r.failure),
        r.now
    );
    let _ = writeln!(
        o,
        "  Text         {} (sha256 {})",
        line(source),
        r.text_sha256.short()
    );
    let _ = writeln!(
        o,
        "  Signatures   {} of {} required pinned key(s) signed",
        r.counted, r.threshold
    );
    for p in &r.pinned {
        let name = p.name.as_ref().map(|n| format!(" {n}")).unwrap_or_default();
        let cert = p
            .certified_by
            .as_ref()
            .map(|c| format!(" (certified by {})", line(c)))
            .unwrap_or_default();
        let _ = writeln!(o, "    pinned {}{name}{cert}", line(&p.id));
    }
    for s in &r.signatures {
        let (mark, text) = match s {
            Checked::Openpgp(c) => {
                let when = c.created.map(|t| format!(", {t}")).unwrap_or_default();
                (
                    c.verdict.counts(),
                    format!(
                        "by {} ({}{when}): {}",
                        line(&c.issuer),
                        line(&c.hash),
                        c.verdict
                    ),
                )
            }
            Checked::Signify(c) => (
                c.verdict == super::signify::Verdict::Counted,
                format!("by keynum {}: {}", line(&c.keynum), c.verdict),
            ),
        };
        let mark = if mark {
            paint(OK, "ok  ")
        } else {
            paint(WARN, "--  ")
        };
        let _ = writeln!(o, "    {mark}{text}");
    }
    let Some(c) = &r.canary else {
        let _ = writeln!(
            o,
            "\n  The text could not be authenticated; nothing it says is shown."
        );
        o.push_str(&checks(r));
        return o;
    };
    if let Some(t) = c.issued_at {
        let from = match c.issued_from {
            Some(IssuedFrom::FreshnessDate) => "the date in its proof of freshness",
            Some(IssuedFrom::Statement) => "its statement of the date of issue",
            Some(IssuedFrom::SignatureTime) => "the newest signature's time",
            None => "",
        };
        let _ = writeln!(o, "  Issued       {t} ({from})");
    }
    if let Some(e) = c.expires_at {
        let from = match c.expires_from {
            ExpiresFrom::NextStatement => "when it says the next one is due",
            ExpiresFrom::Cadence => "--cadence-days after issue: the text names no date read here",
        };
        let left = r.now.seconds_until(e);
        let when = if left > 0 {
            human_duration(left)
        } else {
            paint(BAD, &format!("expired {}", human_duration(left)))
        };
        let _ = writeln!(o, "  Expires      {e} ({when}; {from})");
    }
    if let Some(s) = &c.serial {
        let _ = writeln!(o, "  Number       {s}");
    }
    let f = &c.freshness;
    let mut fresh = vec![format!(
        "{} headline(s) from {} source(s)",
        f.headlines.len(),
        f.sources.len()
    )];
    if let Some(h) = &f.block_hash {
        fresh.push(format!("Bitcoin block {}", line(h)));
    }
    if let Some(h) = f.block_height {
        fresh.push(format!("Bitcoin block height {h}"));
    }
    let _ = writeln!(o, "  Freshness    {}", fresh.join("; "));
    if let Some(s) = state {
        let _ = writeln!(o, "  State        {}", line(s));
    }
    let _ = writeln!(o, "\n{}", paint(BOLD, "Statements"));
    for s in &c.statements {
        let _ = writeln!(
            o,
            "  {} {}",
            paint(DIM, &format!("[{}]", line(&s.id))),
            s.text
        );
    }
    o.push_str(&checks(r));
    o
}

fn checks(r: &Report) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "\n{}", paint(BOLD, "Checks"));
    for f in &r.failures {
        let tag = if f.class == Class::Tripped {
            "TRIP"
        } else {
            "FAIL"
        };
        let _ = writeln!(
            o,
            "  {} {}: {}",
            paint(BAD, tag),
            f.class.label(),
            f.problem
        );
    }
    for w in &r.warnings {
        let _ = writeln!(o, "  {} {}", paint(WARN, "warn"), w.problem);
    }
    if r.failures.is_empty() {
        let _ = writeln!(o, "  {} signatures, threshold, dates", paint(OK, "ok  "));
    }
    o
}
