//! Errors reported to the user: one line naming the file and the problem,
//! optionally followed by a hint.

use std::path::Path;

use canary_core::exit::Exit;
use canary_core::verify::{Class, VerifyError};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An input file is missing, unreadable, malformed or too large.
    #[error("{path}: {problem}")]
    Input { path: String, problem: String },
    /// A file could not be written. Before a publish commits, nothing was
    /// changed; after, the publish journal lets the next `canary publish`
    /// finish it (docs/FORMAT.md, "Publishing and interruptions").
    #[error("{path}: {problem}")]
    Write { path: String, problem: String },
    /// The operation was refused for a reason the user can fix.
    #[error("{message}")]
    Refused {
        message: String,
        hint: Option<String>,
    },
    /// A verification inside another command (publish, draft) failed.
    #[error("{message}")]
    Verification { class: Class, message: String },
    /// Bad usage not caught by the argument parser.
    #[error("{0}")]
    Usage(String),
    /// A network request failed or was refused (the message names the URL).
    #[error("{0}")]
    Fetch(#[from] crate::fetch::FetchError),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<VerifyError> for Error {
    /// A malformed canary names its own file; an empty history has no file
    /// to name, so callers handle [`VerifyError::Empty`] themselves.
    fn from(e: VerifyError) -> Self {
        match e {
            VerifyError::Malformed { name, source } => Error::Input {
                path: name,
                problem: source.to_string(),
            },
            other => Error::Input {
                path: String::new(),
                problem: other.to_string(),
            },
        }
    }
}

impl From<canary_core::address::UrlError> for Error {
    fn from(e: canary_core::address::UrlError) -> Self {
        Error::Fetch(e.into())
    }
}

impl Error {
    pub fn input(path: impl AsRef<Path>, problem: impl std::fmt::Display) -> Self {
        Error::Input {
            path: show_path(path.as_ref()),
            problem: problem.to_string(),
        }
    }

    pub fn write(path: impl AsRef<Path>, problem: impl std::fmt::Display) -> Self {
        Error::Write {
            path: show_path(path.as_ref()),
            problem: problem.to_string(),
        }
    }

    /// [`Error::Usage`] from a typed error of the core, in its words.
    pub fn usage(problem: impl std::fmt::Display) -> Self {
        Error::Usage(problem.to_string())
    }

    pub fn refused(message: impl Into<String>) -> Self {
        Error::Refused {
            message: message.into(),
            hint: None,
        }
    }

    pub fn refused_with_hint(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Error::Refused {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    pub fn exit(&self) -> Exit {
        match self {
            Error::Input { .. } => Exit::Input,
            Error::Write { .. } => Exit::Failure,
            Error::Refused { .. } => Exit::Refused,
            Error::Verification { class, .. } => (*class).into(),
            Error::Usage(_) => Exit::Usage,
            Error::Fetch(e) => {
                use crate::fetch::FetchError as F;
                match e {
                    F::Url(_) => Exit::Usage,
                    // Like a local file over the size cap.
                    F::TooLarge { .. } => Exit::Input,
                    _ => Exit::Failure,
                }
            }
        }
    }

    pub fn hint(&self) -> Option<&str> {
        match self {
            Error::Refused { hint, .. } => hint.as_deref(),
            _ => None,
        }
    }
}

/// Paths in messages are shown as given, with hostile characters escaped.
pub fn show_path(p: &Path) -> String {
    let s = p.to_string_lossy();
    canary_core::sanitize::line(s.strip_prefix("./").unwrap_or(&s))
}
