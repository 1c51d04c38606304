//! Values of variables marked `secret = true`, kept out of everything the
//! host writes: its log lines and its error messages.
//!
//! A secret reaches host text in ways no single call site controls: an
//! `allowed_outbound_hosts` entry expanded from a secret and rejected, a
//! denied URL a guest built from one, a connection string in a driver's
//! error. So the host's log writer and the CLI's error printer pass their
//! text through [`redact`], which replaces every registered value. What a
//! guest prints itself is its own output and is left as it is.
//!
//! Values shorter than [`MIN_SECRET_LEN`] are not registered: replacing
//! every `1` or `on` in the logs would garble them and protect nothing.

use std::borrow::Cow;
use std::io::Write;
use std::sync::RwLock;

/// What a secret value is replaced with.
pub const REDACTED: &str = "<redacted>";
/// The shortest value treated as a secret.
pub const MIN_SECRET_LEN: usize = 4;

/// The registered values, longest first (so a secret that contains another
/// is replaced whole).
static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Registers secret values for redaction from now on.
pub fn register(values: impl IntoIterator<Item = String>) {
    let mut secrets = SECRETS.write().unwrap_or_else(|e| e.into_inner());
    for value in values {
        if value.len() >= MIN_SECRET_LEN && !secrets.contains(&value) {
            secrets.push(value);
        }
    }
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

/// `text` with every registered secret replaced by [`REDACTED`].
pub fn redact(text: &str) -> Cow<'_, str> {
    let secrets = SECRETS.read().unwrap_or_else(|e| e.into_inner());
    let mut text = Cow::Borrowed(text);
    for secret in secrets.iter() {
        if text.contains(secret.as_str()) {
            text = Cow::Owned(text.replace(secret.as_str(), REDACTED));
        }
    }
    text
}

/// A writer that redacts what it is given, then passes it on: the host's log
/// output goes through one of these. Each `write` is redacted whole, so it
/// should be a whole message (the tracing formatter writes one event at a
/// time).
pub struct RedactingWriter<W>(pub W);

impl<W: Write> Write for RedactingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match std::str::from_utf8(buf) {
            Ok(text) => self.0.write_all(redact(text).as_bytes())?,
            Err(_) => self.0.write_all(buf)?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_values_are_replaced_longest_first() {
        register([
            "hunter2-long".to_string(),
            "hunter2".to_string(),
            "ab".to_string(),
        ]);
        assert_eq!(
            redact("url http://u:hunter2-long@h/ and hunter2"),
            "url http://u:<redacted>@h/ and <redacted>"
        );
        // Too short to be registered.
        assert_eq!(redact("ab cd"), "ab cd");

        let mut out = Vec::new();
        RedactingWriter(&mut out)
            .write_all(b"connecting with hunter2\n")
            .unwrap();
        assert_eq!(out, b"connecting with <redacted>\n");
    }
}
