//! Rendering untrusted text harmlessly on a terminal.
//!
//! Statements, names and announcements come from files an attacker may
//! control. Before they reach a terminal, control characters (which could move
//! the cursor or recolour the report), bidirectional overrides (which could
//! make "has never" read backwards) and invisible characters are replaced by
//! visible `\u{…}` escapes. A backslash in the text is doubled, so an
//! escape in the output always means an escaped character, never text that
//! merely looks like one.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Text read from a file or a server that an attacker may control (a
/// statement, an organisation's name, a headline, an incident's words).
/// It reaches a terminal only escaped: `Display` writes [`line`], and
/// the raw text is had only by asking for it ([`Untrusted::raw`]) —
/// for hashing, comparing, the signed plain text, and HTML (which the
/// template engine escapes). Serialises as the plain string.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Untrusted(String);

impl Untrusted {
    pub fn new(text: impl Into<String>) -> Self {
        Untrusted(text.into())
    }

    /// The text as read, unescaped: never for a terminal.
    pub fn raw(&self) -> &str {
        &self.0
    }

    pub fn into_raw(self) -> String {
        self.0
    }

    /// Multi-line text for a terminal: [`block`] (newlines kept).
    pub fn block(&self) -> String {
        block(&self.0)
    }
}

impl fmt::Display for Untrusted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&line(&self.0))
    }
}

/// Debug shows the escaped text too (debug output reaches terminals).
impl fmt::Debug for Untrusted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Untrusted({:?})", line(&self.0))
    }
}

impl From<&str> for Untrusted {
    fn from(s: &str) -> Self {
        Untrusted(s.to_string())
    }
}

impl From<String> for Untrusted {
    fn from(s: String) -> Self {
        Untrusted(s)
    }
}

impl PartialEq<str> for Untrusted {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Untrusted {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// Escapes everything that is not plainly visible; newlines become `\n`.
pub fn line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\\' => out.push_str("\\\\"),
            c if is_dangerous(c) => out.push_str(&format!("\\u{{{:04x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// For text already rendered from escaped parts (the words of a finding or
/// an error, which escaped what they quote): escapes what would still be
/// dangerous on a terminal, newlines and tabs included, but leaves
/// backslashes alone, so nothing is escaped twice.
pub fn rendered_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
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

/// Control characters (C0, DEL, C1), bidirectional controls, and
/// characters that show nothing: the table of sharkdp/fd's `sanitize.rs`,
/// plus the Arabic letter mark and the line and paragraph separators.
pub fn is_dangerous(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{00ad}'                 // soft hyphen
            | '\u{061c}'               // Arabic letter mark
            | '\u{180e}'               // Mongolian vowel separator
            | '\u{200b}'..='\u{200f}' // zero-width space/joiners, LRM, RLM
            | '\u{2028}'..='\u{2029}' // line and paragraph separators
            | '\u{202a}'..='\u{202e}' // bidi embeddings and overrides
            | '\u{2060}'..='\u{206f}' // word joiner, invisible operators, bidi isolates, deprecated formats
            | '\u{feff}'               // BOM / zero-width no-break space
            | '\u{fff9}'..='\u{fffb}' // interlinear annotation
            | '\u{e0000}'..='\u{e007f}' // tag characters
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

    /// fd's table and the separators: each is escaped.
    #[test]
    fn escapes_every_invisible_and_format_character() {
        for c in [
            '\u{85}',
            '\u{9b}',
            '\u{180e}',
            '\u{2028}',
            '\u{2029}',
            '\u{2060}',
            '\u{2065}',
            '\u{206a}',
            '\u{206f}',
            '\u{e0001}',
            '\u{e0041}',
            '\u{e007f}',
        ] {
            let shown = line(&format!("a{c}b"));
            assert_eq!(shown, format!("a\\u{{{:04x}}}b", c as u32), "{c:?}");
        }
        // Variation selectors and private-use characters are visible text.
        assert_eq!(line("\u{2764}\u{fe0f}\u{e000}"), "\u{2764}\u{fe0f}\u{e000}");
    }

    /// Rendered words are made one harmless line without escaping their
    /// escapes again.
    #[test]
    fn rendered_text_is_not_escaped_twice() {
        let words = format!("statement: \"{}\"", line("x\u{202e}y"));
        assert_eq!(rendered_line(&words), words);
        assert_eq!(
            rendered_line("raw \u{1b}[2J\nnext"),
            "raw \\u{001b}[2J\\nnext"
        );
    }

    /// Untrusted text shows escaped by default, raw only when asked.
    #[test]
    fn untrusted_text_displays_escaped() {
        let t = Untrusted::new("No \u{202e}warrants\x1b[2J");
        assert_eq!(t.to_string(), "No \\u{202e}warrants\\u{001b}[2J");
        assert_eq!(
            format!("{t:?}"),
            "Untrusted(\"No \\\\u{202e}warrants\\\\u{001b}[2J\")"
        );
        assert_eq!(t.raw(), "No \u{202e}warrants\x1b[2J");
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            "\"No \u{202e}warrants\\u001b[2J\""
        );
        assert_eq!(Untrusted::new("a\nb").block(), "a\nb");
    }

    /// A backslash in the text cannot pass for an escape: `\u{202e}` typed
    /// as six characters and the character U+202E look different.
    #[test]
    fn escaping_is_unambiguous() {
        let typed = line("a\\u{202e}b");
        let real = line("a\u{202e}b");
        assert_eq!(typed, "a\\\\u{202e}b");
        assert_eq!(real, "a\\u{202e}b");
        assert_ne!(typed, real);
        assert_eq!(line("C:\\dir"), "C:\\\\dir");
        assert_eq!(line("a\\nb"), "a\\\\nb");
        assert_ne!(line("a\\nb"), line("a\nb"));
    }
}
