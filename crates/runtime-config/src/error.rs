//! Runtime config errors, rendered like the manifest's: the message, the
//! file position, the offending line with a caret under it, and a hint.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A runtime config file that could not be read or is not valid.
///
/// `Display` renders the whole diagnostic, ending with a `hint:` line.
#[derive(Debug)]
pub struct RuntimeConfigError(Box<Inner>);

/// Boxed so that `Result<_, RuntimeConfigError>` stays small.
#[derive(Debug)]
struct Inner {
    kind: ErrorKind,
    path: PathBuf,
    snippet: Option<Snippet>,
}

/// The source line an error points into.
#[derive(Debug)]
struct Snippet {
    line: usize,
    column: usize,
    text: String,
    width: usize,
}

/// What is wrong with a runtime config file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The file could not be read.
    #[error("cannot read the runtime config file: {error}")]
    Read {
        /// Why.
        error: std::io::Error,
    },
    /// The file is not valid TOML.
    #[error("the runtime config file is not valid TOML: {message}")]
    Syntax {
        /// The TOML parser's message.
        message: String,
    },
    /// A key this host does not know, in `table` (empty: the top level).
    #[error("unknown key `{key}`{}", in_table(table))]
    UnknownKey {
        /// The table holding it, as written in a header.
        table: String,
        /// The key.
        key: String,
        /// The keys that table may hold.
        expected: &'static [&'static str],
    },
    /// A value of the wrong TOML type.
    #[error("`{key}`{} must be {expected}, not {found}", in_table(table))]
    WrongType {
        /// The table holding it.
        table: String,
        /// The key.
        key: String,
        /// What it must be ("a string", "a table", ...).
        expected: &'static str,
        /// The TOML type it is, with its article.
        found: &'static str,
    },
    /// A required key is missing.
    #[error("`[{table}]` has no `{key}`")]
    MissingKey {
        /// The table.
        table: String,
        /// The missing key.
        key: &'static str,
        /// An example line to add.
        example: &'static str,
    },
    /// A `type` this host does not implement.
    #[error("`{found}` is not a {what} type that this host supports")]
    UnknownType {
        /// What is being configured ("key-value store", ...).
        what: &'static str,
        /// The type given.
        found: String,
        /// The types this host supports.
        expected: &'static [&'static str],
    },
    /// `[[variables_provider]]` and `[[config_provider]]` both present.
    #[error("both `variables_provider` and `config_provider` are present")]
    BothProviderLists,
    /// A `block_networks` entry that is not a network.
    #[error("`{entry}` is not a network to block")]
    InvalidBlockedNetwork {
        /// The entry as written.
        entry: String,
    },
    /// A required list with nothing in it.
    #[error("`{key}`{} is empty", in_table(table))]
    EmptyList {
        /// The table holding it.
        table: String,
        /// The key.
        key: &'static str,
        /// An example line.
        example: &'static str,
    },
    /// Two keys for one setting, the old name and the new.
    #[error("`{dropped}` and `{kept}` are both set in `[{table}]`")]
    ConflictingKeys {
        /// The table.
        table: String,
        /// The key to keep.
        kept: &'static str,
        /// The old key.
        dropped: &'static str,
    },
    /// A `[[client_tls]]` host that is not a bare host name or address.
    #[error("`{host}` is not a host for `[[client_tls]]`: {reason}")]
    InvalidTlsHost {
        /// The entry as written.
        host: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A certificate or key file that cannot be read or holds no PEM.
    #[error("cannot use `{path}` as `{key}`: {reason}")]
    CertificateFile {
        /// The key naming the file.
        key: &'static str,
        /// The file, resolved against the runtime config file's directory.
        path: String,
        /// Why.
        reason: String,
    },
    /// A client certificate without its key, or a key without its
    /// certificate.
    #[error("`{given}` is given without `{missing}`")]
    UnpairedClientCert {
        /// The key that is there.
        given: &'static str,
        /// The key that is missing.
        missing: &'static str,
    },
    /// A `[[client_tls]]` entry that turns every source of trust off.
    #[error("this `[[client_tls]]` entry trusts no certificate authority")]
    NoTrustedRoots,
    /// A Redis URL that does not parse.
    #[error("`{url}` is not a Redis URL this host can use: {reason}")]
    InvalidRedisUrl {
        /// The URL given.
        url: String,
        /// The Redis client's complaint.
        reason: String,
    },
    /// `[llm_compute] url` that is not an HTTP(S) address.
    #[error("`{url}` is not the address of a model service: {reason}")]
    InvalidLlmUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl ErrorKind {
    /// How to fix the problem.
    fn hint(&self) -> String {
        match self {
            Self::Read { .. } => {
                "check the path given to `--runtime-config-file` (or `RUNTIME_CONFIG_FILE`); it is relative to the current directory".into()
            }
            Self::Syntax { .. } => "fix the TOML syntax at the position shown".into(),
            Self::UnknownKey { expected, .. } => {
                format!("the keys allowed here are {}", list(expected))
            }
            Self::InvalidBlockedNetwork { .. } => {
                "write a CIDR block such as \"10.0.0.0/8\" or \"fd00::/8\", a single address, or \"private\" for every address that is not globally routable".into()
            }
            Self::WrongType { key, expected, .. } if *expected == "a string" => {
                format!("write it as a quoted string: `{key} = \"...\"`")
            }
            Self::WrongType { expected, .. } => format!("give it {expected}"),
            Self::MissingKey { example, .. } => format!("add `{example}` to the table"),
            Self::UnknownType { expected, .. } => {
                format!("use one of {}", list(expected))
            }
            Self::BothProviderLists => {
                "`config_provider` is the old name of `variables_provider`: rename every `[[config_provider]]` to `[[variables_provider]]`".into()
            }
            Self::ConflictingKeys { kept, dropped, .. } => format!(
                "`{dropped}` is the old name of the setting (it allowed one more): use `{kept}` only"
            ),
            Self::EmptyList { key, example, .. } => {
                format!("name at least one, as in `{example}`, or remove the table (`{key}` cannot be empty)")
            }
            Self::InvalidTlsHost { reason, .. } if reason.starts_with("wildcards") => {
                "name each host, as in `hosts = [\"api.example.com\", \"auth.example.com\"]` (as in Spin)".into()
            }
            Self::InvalidTlsHost { .. } => {
                "write the host as in the request's URL, without scheme, port or wildcard: `hosts = [\"api.example.com\"]`".into()
            }
            Self::CertificateFile { key, .. } => format!(
                "give `{key}` a PEM file ({}); a relative path is relative to the runtime config file's directory",
                if *key == "client_private_key_file" {
                    "one `-----BEGIN PRIVATE KEY-----` block: PKCS#8, PKCS#1 or SEC1"
                } else {
                    "`-----BEGIN CERTIFICATE-----` blocks"
                }
            ),
            Self::UnpairedClientCert { .. } => {
                "mutual TLS needs both: the client certificate chain (`client_cert_file`) and its private key (`client_private_key_file`)".into()
            }
            Self::NoTrustedRoots => {
                "set `ca_roots_file`, or `ca_use_platform_roots = true`, or `ca_use_webpki_roots = true`".into()
            }
            Self::InvalidRedisUrl { .. } => {
                "write it as `redis://host[:port][/db]`, with a password as `redis://:password@host`".into()
            }
            Self::InvalidLlmUrl { .. } => {
                "write it as `https://host[:port]`: requests go to `/infer` and `/embed` on it, or to `/v1/chat/completions` and `/v1/embeddings` with `api_type = \"open_ai\"`".into()
            }
        }
    }
}

fn in_table(table: &str) -> String {
    if table.is_empty() {
        String::new()
    } else {
        format!(" in `[{table}]`")
    }
}

fn list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("`{i}`")).collect();
    match quoted.split_last() {
        None => "none".into(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

impl RuntimeConfigError {
    /// An error about the whole file.
    pub(crate) fn unlocated(path: &Path, kind: ErrorKind) -> Self {
        Self(Box::new(Inner {
            kind,
            path: path.to_owned(),
            snippet: None,
        }))
    }

    /// An error underlining `span` of `text` (clipped to its first line).
    pub(crate) fn at(path: &Path, text: &str, span: Range<usize>, kind: ErrorKind) -> Self {
        let start = floor_char_boundary(text, span.start);
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let end = floor_char_boundary(text, span.end.clamp(start, line_end));
        // A password in a URL on the line is not shown (the caret keeps
        // spanning the value it underlines).
        let line = text[line_start..line_end].trim_end_matches('\r');
        let shown = spin_outbound_networking::redact_url(line);
        let shorter = line.chars().count() as isize - shown.chars().count() as isize;
        let underlined = &text[start..end];
        let width = underlined.chars().count() as isize
            - if underlined.contains('@') { shorter } else { 0 };
        let snippet = Snippet {
            line: text[..start].matches('\n').count() + 1,
            column: text[line_start..start].chars().count() + 1,
            text: shown,
            width: width.max(1) as usize,
        };
        Self(Box::new(Inner {
            kind,
            path: path.to_owned(),
            snippet: Some(snippet),
        }))
    }

    /// What is wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.0.kind
    }

    /// The runtime config file.
    pub fn path(&self) -> &Path {
        &self.0.path
    }

    /// The 1-based line the error points at, when it points at one.
    pub fn line(&self) -> Option<usize> {
        self.0.snippet.as_ref().map(|s| s.line)
    }
}

fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

impl RuntimeConfigError {
    /// Writes the message and the position with the caret, and then the
    /// `hint:` line when `with_hint`.
    fn write(&self, f: &mut fmt::Formatter<'_>, with_hint: bool) -> fmt::Result {
        let Inner {
            kind,
            path,
            snippet,
        } = &*self.0;
        writeln!(f, "{kind}")?;
        match snippet {
            Some(Snippet {
                line,
                column,
                text,
                width,
            }) => {
                let number = line.to_string();
                let pad = " ".repeat(number.len() + 1);
                writeln!(f, "{pad}--> {}:{line}:{column}", path.display())?;
                writeln!(f, "{pad} |")?;
                writeln!(f, " {number} | {text}")?;
                let indent: String = text
                    .chars()
                    .take(column - 1)
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                write!(f, "{pad} | {indent}{}", "^".repeat((*width).max(1)))?;
            }
            None => write!(f, "  --> {}", path.display())?,
        }
        if with_hint {
            write!(f, "\nhint: {}", kind.hint())?;
        }
        Ok(())
    }

    /// How to fix the problem.
    pub fn hint(&self) -> String {
        self.0.kind.hint()
    }
}

impl fmt::Display for RuntimeConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, true)
    }
}

/// The CLI's form of the diagnostic: the hint kept apart so that it prints
/// once, after the whole cause chain.
impl From<&RuntimeConfigError> for spin_hint::Hinted {
    fn from(error: &RuntimeConfigError) -> Self {
        struct Body<'a>(&'a RuntimeConfigError);
        impl fmt::Display for Body<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.write(f, false)
            }
        }
        spin_hint::Hinted::new(Body(error).to_string(), error.hint())
    }
}

impl std::error::Error for RuntimeConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_position_line_caret_and_hint() {
        let text = "state_dir = \"x\"\n[key_value_store.é]\npth = 1\n";
        let start = text.find("pth").unwrap();
        let err = RuntimeConfigError::at(
            Path::new("rc.toml"),
            text,
            start..start + 3,
            ErrorKind::UnknownKey {
                table: "key_value_store.é".into(),
                key: "pth".into(),
                expected: &["type", "path"],
            },
        );
        assert_eq!(
            err.to_string(),
            "unknown key `pth` in `[key_value_store.é]`\n  --> rc.toml:3:1\n   |\n 3 | pth = 1\n   | ^^^\nhint: the keys allowed here are `type` and `path`"
        );
        assert_eq!(err.line(), Some(3));
    }

    #[test]
    fn carets_count_characters_and_stop_at_the_line_end() {
        let text = "a = \"é\" # x\nb = [\n 1]\n";
        let err = RuntimeConfigError::at(
            Path::new("rc.toml"),
            text,
            text.find('b').unwrap()..text.len(),
            ErrorKind::BothProviderLists,
        );
        assert!(
            err.to_string().contains(" 2 | b = [\n   | ^^^^^\n"),
            "{err}"
        );
        let err = RuntimeConfigError::at(
            Path::new("rc.toml"),
            text,
            8..9,
            ErrorKind::BothProviderLists,
        );
        assert!(err.to_string().contains("rc.toml:1:8"), "{err}");
    }

    #[test]
    fn lists_read_naturally() {
        assert_eq!(list(&["a"]), "`a`");
        assert_eq!(list(&["a", "b", "c"]), "`a`, `b` and `c`");
    }
}
