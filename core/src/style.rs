//! Styles of the text reports: ANSI codes inside the strings the core
//! renders. Whether they reach a terminal is decided at the edge (the
//! output stream strips them when colour is off or `NO_COLOR` is set).

use anstyle::{AnsiColor, Style};

pub const OK: Style = AnsiColor::Green.on_default().bold();
pub const BAD: Style = AnsiColor::Red.on_default().bold();
pub const WARN: Style = AnsiColor::Yellow.on_default().bold();
pub const DIM: Style = Style::new().dimmed();
pub const BOLD: Style = Style::new().bold();

/// Wraps `text` in `style`; anstream strips the codes when colour is off.
pub fn paint(style: Style, text: &str) -> String {
    format!("{style}{text}{style:#}")
}
