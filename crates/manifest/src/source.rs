//! The manifest text, used to turn byte spans into positions and quoted lines.

use std::ops::Range;
use std::path::Path;

use crate::error::{Error, ErrorKind, Snippet};
use crate::model::Location;

/// A byte range in the manifest text.
pub(crate) type Span = Range<usize>;

/// A manifest's path and text, for building located errors.
#[derive(Clone, Copy)]
pub(crate) struct SourceFile<'a> {
    path: &'a Path,
    text: &'a str,
}

impl<'a> SourceFile<'a> {
    pub(crate) fn new(path: &'a Path, text: &'a str) -> Self {
        Self { path, text }
    }

    pub(crate) fn text(&self) -> &'a str {
        self.text
    }

    /// The line and column of a byte offset.
    pub(crate) fn location(&self, offset: usize) -> Location {
        let offset = self.floor_char_boundary(offset);
        let line_start = self.line_start(offset);
        Location {
            line: self.text[..offset].matches('\n').count() + 1,
            column: self.text[line_start..offset].chars().count() + 1,
        }
    }

    /// An error with no position (when there is nothing to point at).
    pub(crate) fn error_unlocated(&self, kind: ErrorKind) -> Error {
        Error::new(self.path, kind)
    }

    /// An error underlining `span` (clipped to its first line).
    pub(crate) fn error(&self, span: Span, field: &str, kind: ErrorKind) -> Error {
        let start = self.floor_char_boundary(span.start);
        let line_start = self.line_start(start);
        let line_end = self.text[start..]
            .find('\n')
            .map_or(self.text.len(), |i| start + i);
        let end = self.floor_char_boundary(span.end.clamp(start, line_end));
        let snippet = Snippet {
            location: self.location(start),
            line: self.text[line_start..line_end]
                .trim_end_matches('\r')
                .to_owned(),
            width: self.text[start..end].chars().count(),
        };
        Error::new(self.path, kind).located(field, snippet)
    }

    /// An error at a [`Location`] from the model, underlining the TOML value
    /// that starts there.
    pub(crate) fn error_at_location(
        &self,
        location: Location,
        field: &str,
        kind: ErrorKind,
    ) -> Error {
        let line = self
            .text
            .split('\n')
            .nth(location.line.saturating_sub(1))
            .unwrap_or("")
            .trim_end_matches('\r');
        let column = location.column.max(1);
        let snippet = Snippet {
            location: Location {
                line: location.line,
                column,
            },
            line: line.to_owned(),
            width: value_width(line.chars().skip(column - 1)),
        };
        Error::new(self.path, kind).located(field, snippet)
    }

    fn line_start(&self, offset: usize) -> usize {
        self.text[..offset].rfind('\n').map_or(0, |i| i + 1)
    }

    fn floor_char_boundary(&self, offset: usize) -> usize {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    }
}

/// The width in characters of the TOML value at the start of `chars`: a
/// quoted string, a bracketed array or table, or a bare word. Only used when
/// all we have is a start position.
fn value_width(chars: impl Iterator<Item = char>) -> usize {
    let chars: Vec<char> = chars.collect();
    let Some(&first) = chars.first() else {
        return 1;
    };
    let end = match first {
        '"' | '\'' => closing_quote(&chars, first),
        '[' | '{' => closing_bracket(&chars),
        _ => chars
            .iter()
            .position(|c| c.is_whitespace() || ",]}=".contains(*c)),
    };
    end.unwrap_or(chars.len()).max(1)
}

/// The width up to and including the quote that closes the string at `chars[0]`.
fn closing_quote(chars: &[char], quote: char) -> Option<usize> {
    let mut escaped = false;
    for (i, &c) in chars.iter().enumerate().skip(1) {
        match c {
            '\\' if quote == '"' && !escaped => escaped = true,
            c if c == quote && !escaped => return Some(i + 1),
            _ => escaped = false,
        }
    }
    None
}

/// The width up to and including the bracket that closes `chars[0]`.
fn closing_bracket(chars: &[char]) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '[' | '{' => depth += 1,
            ']' | '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            q @ ('"' | '\'') => i += closing_quote(&chars[i..], q)? - 1,
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn width(s: &str) -> usize {
        value_width(s.chars())
    }

    #[test]
    fn locations_are_one_based_and_count_characters() {
        let file = SourceFile::new(Path::new("spin.toml"), "a = 1\nbé = \"x\"\n");
        assert_eq!(file.location(0), Location { line: 1, column: 1 });
        assert_eq!(file.location(6), Location { line: 2, column: 1 });
        // "bé = " is 6 bytes but 5 characters.
        assert_eq!(file.location(12), Location { line: 2, column: 6 });
    }

    #[test]
    fn value_width_covers_one_toml_value() {
        assert_eq!(width(r#""a\"b", "c""#), 6);
        assert_eq!(width("'x' # c"), 3);
        assert_eq!(width(r#"["a", "]"] # c"#), 10);
        assert_eq!(width("{ a = { b = 1 } }, x"), 17);
        assert_eq!(width("true, false"), 4);
        assert_eq!(width(r#""unterminated"#), 13);
        assert_eq!(width(""), 1);
    }

    #[test]
    fn errors_underline_only_the_first_line_of_a_span() {
        let text = "x = [\n  1,\n]\n";
        let file = SourceFile::new(Path::new("spin.toml"), text);
        let err = file.error(
            4..text.len(),
            "x",
            ErrorKind::DuplicateComponentId {
                id: "a".into(),
                first_line: 1,
            },
        );
        assert!(
            err.to_string().contains(" 1 | x = [\n   |     ^\n"),
            "{err}"
        );
    }
}
