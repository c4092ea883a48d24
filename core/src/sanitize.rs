//! Rendering untrusted text harmlessly on a terminal.
//!
//! Statements, names and announcements come from files an attacker may
//! control. Before they reach a terminal, control characters (which could move
//! the cursor or recolour the report), bidirectional overrides (which could
//! make "has never" read backwards) and invisible characters are replaced by
//! visible `\u{…}` escapes.

/// Escapes everything that is not plainly visible; newlines become `\n`.
pub fn line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\\' => out.push('\\'),
            c if is_dangerous(c) => out.push_str(&format!("\\u{{{:04x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Like [`line`] but keeps newlines, for multi-line free text.
pub fn block(s: &str) -> String {
    s.split('\n').map(line).collect::<Vec<_>>().join("\n")
}

fn is_dangerous(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200b}'..='\u{200f}'   // zero-width space/joiners, LRM, RLM
            | '\u{202a}'..='\u{202e}' // bidi embeddings and overrides
            | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
            | '\u{2066}'..='\u{2069}' // bidi isolates
            | '\u{061c}'              // Arabic letter mark
            | '\u{feff}'              // BOM / zero-width no-break space
            | '\u{00ad}'              // soft hyphen
            | '\u{fff9}'..='\u{fffb}' // interlinear annotation
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_terminal_and_bidi_tricks() {
        assert_eq!(line("ok\x1b[31mred"), "ok\\u{001b}[31mred");
        assert_eq!(line("a\u{202e}b"), "a\\u{202e}b");
        assert_eq!(line("zero\u{200b}width"), "zero\\u{200b}width");
        assert_eq!(line("two\nlines"), "two\\nlines");
        assert_eq!(block("two\nlines\x07"), "two\nlines\\u{0007}");
        assert_eq!(line("Ünïcödé – fine"), "Ünïcödé – fine");
    }
}
