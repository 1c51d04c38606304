//! An error message paired with what the user can do about it.
//!
//! A hint written into a message (`"...\n\nhint: ..."`) prints wherever the
//! message lands in the cause chain, often before the causes that explain
//! it. A [`Hinted`] keeps the hint apart: return one as the error, or attach
//! it as an `anyhow` context, and the CLI (`src/report.rs`) prints its hint
//! once, after the whole chain; the outermost hint in a chain wins. A crate
//! with its own error type that carries a hint implements
//! `From<&ItsError> for Hinted` and is listed in that printer.

#![deny(missing_docs)]

use std::fmt;

/// A message, and the hint that goes with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hinted {
    /// What went wrong (shown in the cause chain).
    pub message: String,
    /// What to do about it (shown once, after the chain).
    pub hint: String,
}

impl Hinted {
    /// A message with its hint.
    pub fn new(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            hint: hint.into(),
        }
    }
}

impl fmt::Display for Hinted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Hinted {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_message_is_displayed() {
        let h = Hinted::new("registry said 401", "run `spin registry login`");
        assert_eq!(h.to_string(), "registry said 401");
    }
}
