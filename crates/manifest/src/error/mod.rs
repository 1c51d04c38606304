//! Manifest errors, rendered like compiler diagnostics.
//!
//! A manifest error is always the user's to fix, so each one carries the
//! file position, the offending line and a hint saying what to change.

mod kind;

use std::fmt;
use std::path::{Path, PathBuf};

pub use kind::ErrorKind;

use crate::model::Location;

/// A manifest that could not be read, parsed or validated.
///
/// `Display` renders the full diagnostic: message, `--> file:line:column`,
/// the source line with a caret under the offending text, and a `hint:` line.
#[derive(Debug)]
pub struct Error(Box<Inner>);

/// Boxed so that `Result<_, Error>` stays small on the success path.
#[derive(Debug)]
struct Inner {
    kind: ErrorKind,
    path: PathBuf,
    field: Option<String>,
    snippet: Option<Snippet>,
    hint: String,
}

/// The source line an error points into.
#[derive(Debug, Clone)]
pub(crate) struct Snippet {
    pub(crate) location: Location,
    pub(crate) line: String,
    pub(crate) width: usize,
}

impl Error {
    /// An error with its default hint and no position.
    pub(crate) fn new(path: &Path, kind: ErrorKind) -> Self {
        let hint = kind.default_hint();
        Self(Box::new(Inner {
            kind,
            path: path.to_owned(),
            field: None,
            snippet: None,
            hint,
        }))
    }

    /// Adds the position; an empty `field` means the error is not about one
    /// field (a TOML syntax error, say).
    pub(crate) fn located(mut self, field: &str, snippet: Snippet) -> Self {
        self.0.field = (!field.is_empty()).then(|| field.to_owned());
        self.0.snippet = Some(snippet);
        self
    }

    /// Replaces the hint (the line saying how to fix the problem).
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.0.hint = hint.into();
        self
    }

    /// What is wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.0.kind
    }

    /// The manifest file.
    pub fn path(&self) -> &Path {
        &self.0.path
    }

    /// Where in the manifest, when the error has a position.
    pub fn location(&self) -> Option<Location> {
        self.0.snippet.as_ref().map(|s| s.location)
    }

    /// The 1-based line, when the error has a position.
    pub fn line(&self) -> Option<usize> {
        self.location().map(|l| l.line)
    }

    /// The field the error is about, when it is about one.
    pub fn field(&self) -> Option<&str> {
        self.0.field.as_deref()
    }

    /// The one-line message, without position or hint.
    pub fn message(&self) -> String {
        self.0.kind.to_string()
    }

    /// How to fix the problem.
    pub fn hint(&self) -> &str {
        &self.0.hint
    }
}

impl Error {
    /// Writes the diagnostic: `error: ` and the message when `prefixed`, the
    /// position with the caret, and the `hint:` line when `with_hint`.
    fn write(&self, f: &mut fmt::Formatter<'_>, prefixed: bool, with_hint: bool) -> fmt::Result {
        let Inner {
            kind,
            path,
            snippet,
            hint,
            ..
        } = &*self.0;
        if prefixed {
            f.write_str("error: ")?;
        }
        writeln!(f, "{kind}")?;
        match snippet {
            Some(snippet) => {
                let Location { line, column } = snippet.location;
                let number = line.to_string();
                let pad = " ".repeat(number.len() + 1);
                writeln!(f, "{pad}--> {}:{line}:{column}", path.display())?;
                writeln!(f, "{pad} |")?;
                if snippet.line.is_empty() {
                    writeln!(f, " {number} |")?;
                } else {
                    writeln!(f, " {number} | {}", snippet.line)?;
                }
                // Keep tabs so the caret lines up with the quoted line.
                let indent: String = snippet
                    .line
                    .chars()
                    .take(column - 1)
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                write!(f, "{pad} | {indent}{}", "^".repeat(snippet.width.max(1)))?;
            }
            None => write!(f, "  --> {}", path.display())?,
        }
        if with_hint {
            write!(f, "\nhint: {hint}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, true, true)
    }
}

/// The CLI's form of the diagnostic: the message and position without the
/// `error: ` prefix (the CLI writes `Error: ` itself), and the hint kept
/// apart so that it prints once, after the whole cause chain.
impl From<&Error> for spin_hint::Hinted {
    fn from(error: &Error) -> Self {
        struct Body<'a>(&'a Error);
        impl fmt::Display for Body<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.write(f, false, false)
            }
        }
        spin_hint::Hinted::new(Body(error).to_string(), error.hint())
    }
}

// `Read` keeps its I/O error in the message rather than as `source()`, so
// that an error chain does not print it twice.
impl std::error::Error for Error {}
