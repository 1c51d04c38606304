//! The part of Liquid, the language Spin's templates are written in, that
//! application templates use: `{{ name }}` substitutions followed by a chain
//! of `| filter`s, with `{{-`/`-}}` trimming. Tags (`{% if %}`, loops) are
//! rejected with a clear error instead of being copied through as text.

use std::collections::HashMap;

use heck::{ToKebabCase, ToSnakeCase, ToUpperCamelCase};

/// Why a template file could not be parsed or rendered. Positions are
/// 1-based line numbers in the file.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RenderError {
    /// `{{` without a matching `}}`.
    #[error("line {line}: `{{{{` is not closed by `}}}}`")]
    Unclosed {
        /// Line of the opening braces.
        line: usize,
    },
    /// A Liquid tag, which this renderer does not support.
    #[error(
        "line {line}: Liquid tags such as `{{% {tag} %}}` are not supported; only `{{{{ name | filter }}}}` substitutions are"
    )]
    UnsupportedTag {
        /// Line of the tag.
        line: usize,
        /// The tag's first word, e.g. `if`.
        tag: String,
    },
    /// Something between the braces that is not `name | filter …`.
    #[error("line {line}: `{{{{{expression}}}}}` is not a parameter name followed by filters")]
    BadExpression {
        /// Line of the expression.
        line: usize,
        /// The text between the braces.
        expression: String,
    },
    /// A filter this renderer does not know.
    #[error("line {line}: unknown filter `{name}`; the supported filters are {}", FILTER_NAMES.join(", "))]
    UnknownFilter {
        /// Line of the expression.
        line: usize,
        /// The filter's name.
        name: String,
    },
    /// A substitution naming a value that was not supplied.
    #[error("line {line}: unknown parameter `{name}`")]
    UnknownVariable {
        /// Line of the expression.
        line: usize,
        /// The parameter's name.
        name: String,
    },
}

/// Filters Spin's template engine adds to Liquid, plus the two Liquid case
/// filters templates commonly use.
const FILTER_NAMES: &[&str] = &[
    "kebab_case",
    "snake_case",
    "pascal_case",
    "dotted_pascal_case",
    "http_wildcard",
    "upcase",
    "downcase",
];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Filter {
    KebabCase,
    SnakeCase,
    PascalCase,
    DottedPascalCase,
    HttpWildcard,
    Upcase,
    Downcase,
}

impl Filter {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "kebab_case" => Self::KebabCase,
            "snake_case" => Self::SnakeCase,
            "pascal_case" => Self::PascalCase,
            "dotted_pascal_case" => Self::DottedPascalCase,
            "http_wildcard" => Self::HttpWildcard,
            "upcase" => Self::Upcase,
            "downcase" => Self::Downcase,
            _ => return None,
        })
    }

    fn apply(self, input: &str) -> String {
        match self {
            Self::KebabCase => input.to_kebab_case(),
            Self::SnakeCase => input.to_snake_case(),
            Self::PascalCase => input.to_upper_camel_case(),
            Self::DottedPascalCase => input
                .split('.')
                .map(|part| part.to_upper_camel_case())
                .collect::<Vec<_>>()
                .join("."),
            Self::HttpWildcard => {
                if input.ends_with("/...") {
                    input.to_owned()
                } else if input.ends_with('/') {
                    format!("{input}...")
                } else {
                    format!("{input}/...")
                }
            }
            Self::Upcase => input.to_uppercase(),
            Self::Downcase => input.to_lowercase(),
        }
    }
}

#[derive(Debug, PartialEq)]
enum Segment {
    Text(String),
    Substitution {
        line: usize,
        name: String,
        filters: Vec<Filter>,
    },
}

/// A parsed template file, ready to render with any set of values.
#[derive(Debug)]
pub struct Parsed {
    segments: Vec<Segment>,
}

impl Parsed {
    /// Parses `text`, checking every expression and filter name.
    pub fn new(text: &str) -> Result<Self, RenderError> {
        let mut segments = Vec::new();
        let mut rest = text;
        let mut consumed = 0;
        let line_at = |offset: usize| text[..offset].matches('\n').count() + 1;
        let mut trim_next_text = false;

        loop {
            let open = match (rest.find("{{"), rest.find("{%")) {
                (Some(e), Some(t)) if t < e => {
                    return Err(unsupported_tag(&rest[t..], line_at(consumed + t)));
                }
                (None, Some(t)) => return Err(unsupported_tag(&rest[t..], line_at(consumed + t))),
                (Some(e), _) => e,
                (None, None) => {
                    push_text(&mut segments, rest, trim_next_text, false);
                    break;
                }
            };
            let line = line_at(consumed + open);
            let after_open = &rest[open + 2..];
            let close = after_open
                .find("}}")
                .ok_or(RenderError::Unclosed { line })?;
            let inner = &after_open[..close];
            let trim_before = inner.starts_with('-');
            let trim_after = inner.ends_with('-') && inner.len() > 1;
            push_text(&mut segments, &rest[..open], trim_next_text, trim_before);
            segments.push(parse_expression(inner, line)?);

            trim_next_text = trim_after;
            let advance = open + 2 + close + 2;
            consumed += advance;
            rest = &rest[advance..];
        }
        Ok(Self { segments })
    }

    /// Renders the template, looking each parameter up in `values`.
    pub fn render(&self, values: &HashMap<String, String>) -> Result<String, RenderError> {
        let mut out = String::new();
        for segment in &self.segments {
            match segment {
                Segment::Text(text) => out.push_str(text),
                Segment::Substitution {
                    line,
                    name,
                    filters,
                } => {
                    let value = values
                        .get(name)
                        .ok_or_else(|| RenderError::UnknownVariable {
                            line: *line,
                            name: name.clone(),
                        })?;
                    let value = filters
                        .iter()
                        .fold(value.clone(), |value, filter| filter.apply(&value));
                    out.push_str(&value);
                }
            }
        }
        Ok(out)
    }
}

fn push_text(segments: &mut Vec<Segment>, text: &str, trim_start: bool, trim_end: bool) {
    let text = if trim_start { text.trim_start() } else { text };
    let text = if trim_end { text.trim_end() } else { text };
    if !text.is_empty() {
        segments.push(Segment::Text(text.to_owned()));
    }
}

fn unsupported_tag(from_tag: &str, line: usize) -> RenderError {
    let tag = from_tag[2..]
        .trim_start_matches('-')
        .split_whitespace()
        .next()
        .unwrap_or("")
        .trim_end_matches("%}")
        .to_owned();
    RenderError::UnsupportedTag { line, tag }
}

fn parse_expression(inner: &str, line: usize) -> Result<Segment, RenderError> {
    let trimmed = inner.trim_start_matches('-').trim_end_matches('-');
    let mut parts = trimmed.split('|').map(str::trim);
    let name = parts.next().unwrap_or("");
    let is_name = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    if !is_name(name) {
        return Err(RenderError::BadExpression {
            line,
            expression: inner.to_owned(),
        });
    }
    let filters = parts
        .map(|filter| {
            if !is_name(filter) {
                return Err(RenderError::BadExpression {
                    line,
                    expression: inner.to_owned(),
                });
            }
            Filter::parse(filter).ok_or_else(|| RenderError::UnknownFilter {
                line,
                name: filter.to_owned(),
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(Segment::Substitution {
        line,
        name: name.to_owned(),
        filters,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(text: &str, values: &[(&str, &str)]) -> Result<String, RenderError> {
        let values = values
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Parsed::new(text)?.render(&values)
    }

    #[test]
    fn substitutes_names_with_and_without_spaces() {
        let out = render(
            "name = \"{{project-name}}\"\nsrc = \"{{ output-path }}/app.wasm\"",
            &[("project-name", "hello"), ("output-path", "sub")],
        );
        assert_eq!(out.unwrap(), "name = \"hello\"\nsrc = \"sub/app.wasm\"");
    }

    #[test]
    fn applies_filters_in_order() {
        let values = [("name", "My Great_app")];
        assert_eq!(
            render("{{name | kebab_case}}", &values).unwrap(),
            "my-great-app"
        );
        assert_eq!(
            render("{{name|snake_case}}", &values).unwrap(),
            "my_great_app"
        );
        assert_eq!(
            render("{{ name | pascal_case }}", &values).unwrap(),
            "MyGreatApp"
        );
        assert_eq!(
            render("{{ name | kebab_case | upcase }}", &values).unwrap(),
            "MY-GREAT-APP"
        );
        assert_eq!(
            render(
                "{{ n | dotted_pascal_case }}",
                &[("n", "fermyon.pet-store")]
            )
            .unwrap(),
            "Fermyon.PetStore"
        );
    }

    #[test]
    fn http_wildcard_appends_the_wildcard_once() {
        for (route, expected) in [
            ("/api", "/api/..."),
            ("/api/", "/api/..."),
            ("/...", "/..."),
        ] {
            assert_eq!(
                render("{{r | http_wildcard}}", &[("r", route)]).unwrap(),
                expected
            );
        }
    }

    #[test]
    fn dash_braces_trim_surrounding_whitespace() {
        let out = render("a  \n {{- x -}} \n b", &[("x", "X")]).unwrap();
        assert_eq!(out, "aXb");
    }

    #[test]
    fn text_without_substitutions_is_unchanged() {
        let text = "print({'a': 1})\n# } {\n";
        assert_eq!(render(text, &[]).unwrap(), text);
    }

    #[test]
    fn unknown_parameter_is_an_error_naming_it() {
        let err = render("x\n{{ nope }}", &[]).unwrap_err();
        assert_eq!(
            err,
            RenderError::UnknownVariable {
                line: 2,
                name: "nope".into()
            }
        );
    }

    #[test]
    fn unknown_filter_is_an_error_listing_the_known_ones() {
        let err = Parsed::new("{{ a | shout }}").unwrap_err();
        assert!(matches!(err, RenderError::UnknownFilter { ref name, line: 1 } if name == "shout"));
        assert!(err.to_string().contains("kebab_case"));
    }

    #[test]
    fn tags_are_rejected_not_copied() {
        let err = Parsed::new("ok\n{% if x %}y{% endif %}").unwrap_err();
        assert_eq!(
            err,
            RenderError::UnsupportedTag {
                line: 2,
                tag: "if".into()
            }
        );
    }

    #[test]
    fn unclosed_and_malformed_expressions_are_errors() {
        assert_eq!(
            Parsed::new("a {{ b").unwrap_err(),
            RenderError::Unclosed { line: 1 }
        );
        assert!(matches!(
            Parsed::new("{{ a b }}").unwrap_err(),
            RenderError::BadExpression { .. }
        ));
        assert!(matches!(
            Parsed::new("{{ a | }}").unwrap_err(),
            RenderError::BadExpression { .. }
        ));
    }
}
