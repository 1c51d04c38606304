//! A TOML table walked with its spans, so that every problem points at the
//! key or value that causes it: what each capability's table parser reads
//! its table with.

use std::borrow::Cow;
use std::ops::Range;
use std::path::Path;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::DirSetting;
use crate::error::{ErrorKind, RuntimeConfigError};

pub(crate) type Key<'a> = Spanned<Cow<'a, str>>;
pub(crate) type Value<'a> = Spanned<DeValue<'a>>;

/// The file being parsed, for building located errors.
pub(crate) struct File<'a> {
    pub(crate) path: &'a Path,
    pub(crate) text: &'a str,
}

impl File<'_> {
    pub(crate) fn error(&self, span: Range<usize>, kind: ErrorKind) -> RuntimeConfigError {
        RuntimeConfigError::at(self.path, self.text, span, kind)
    }

    /// `<file>:<line>` of `span`, naming where a setting came from in logs.
    pub(crate) fn origin(&self, span: &Range<usize>) -> String {
        let start = span.start.min(self.text.len());
        let line = self.text.as_bytes()[..start]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        format!("{}:{line}", self.path.display())
    }
}

/// One TOML table's entries in file order, with its name as written in a
/// header (empty for the top level) for messages.
pub(crate) struct Table<'a> {
    pub(crate) file: &'a File<'a>,
    pub(crate) name: String,
    /// Where to point when a required key is missing.
    span: Range<usize>,
    pub(crate) entries: Vec<(&'a Key<'a>, &'a Value<'a>)>,
}

impl<'a> Table<'a> {
    pub(crate) fn new(
        file: &'a File<'a>,
        name: String,
        span: Range<usize>,
        table: &'a DeTable<'a>,
    ) -> Self {
        let mut entries: Vec<_> = table.iter().collect();
        entries.sort_by_key(|(k, _)| k.span().start);
        Self {
            file,
            name,
            span,
            entries,
        }
    }

    /// Where the table is, for errors about it as a whole.
    pub(crate) fn span(&self) -> Range<usize> {
        self.span.clone()
    }

    pub(crate) fn get(&self, key: &str) -> Option<(&'a Key<'a>, &'a Value<'a>)> {
        self.entries
            .iter()
            .find(|(k, _)| k.get_ref() == key)
            .copied()
    }

    pub(crate) fn child_name(&self, key: &str) -> String {
        if self.name.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.name)
        }
    }

    pub(crate) fn unknown_key(
        &self,
        key: &Key,
        expected: &'static [&'static str],
    ) -> RuntimeConfigError {
        self.file.error(
            key.span(),
            ErrorKind::UnknownKey {
                table: self.name.clone(),
                key: key.get_ref().to_string(),
                expected,
            },
        )
    }

    pub(crate) fn check_keys(
        &self,
        allowed: &'static [&'static str],
    ) -> Result<(), RuntimeConfigError> {
        match self
            .entries
            .iter()
            .find(|(k, _)| !allowed.contains(&k.get_ref().as_ref()))
        {
            Some((key, _)) => Err(self.unknown_key(key, allowed)),
            None => Ok(()),
        }
    }

    pub(crate) fn wrong_type(
        &self,
        key: &Key,
        value: &Value,
        expected: &'static str,
    ) -> RuntimeConfigError {
        self.file.error(
            value.span(),
            ErrorKind::WrongType {
                table: self.name.clone(),
                key: key.get_ref().to_string(),
                expected,
                found: describe(value.get_ref()),
            },
        )
    }

    pub(crate) fn missing(&self, key: &'static str, example: &'static str) -> RuntimeConfigError {
        self.file.error(
            self.span.clone(),
            ErrorKind::MissingKey {
                table: self.name.clone(),
                key,
                example,
            },
        )
    }

    pub(crate) fn str(&self, key: &Key, value: &Value) -> Result<String, RuntimeConfigError> {
        value
            .get_ref()
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| self.wrong_type(key, value, "a string"))
    }

    /// The value of `key` as an array of strings, each with its span.
    pub(crate) fn strings(
        &self,
        key: &Key,
        value: &Value,
        expected: &'static str,
    ) -> Result<Vec<(String, Range<usize>)>, RuntimeConfigError> {
        let DeValue::Array(items) = value.get_ref() else {
            return Err(self.wrong_type(key, value, expected));
        };
        items
            .iter()
            .map(|item| Ok((self.str(key, item)?, item.span())))
            .collect()
    }

    pub(crate) fn string(&self, key: &str) -> Result<Option<String>, RuntimeConfigError> {
        self.get(key).map(|(k, v)| self.str(k, v)).transpose()
    }

    pub(crate) fn required_string(
        &self,
        key: &'static str,
        example: &'static str,
    ) -> Result<String, RuntimeConfigError> {
        self.string(key)?.ok_or_else(|| self.missing(key, example))
    }

    pub(crate) fn boolean(&self, key: &str) -> Result<Option<bool>, RuntimeConfigError> {
        self.get(key)
            .map(|(k, v)| {
                v.get_ref()
                    .as_bool()
                    .ok_or_else(|| self.wrong_type(k, v, "`true` or `false`"))
            })
            .transpose()
    }

    pub(crate) fn dir(&self, key: &Key, value: &Value) -> Result<DirSetting, RuntimeConfigError> {
        Ok(DirSetting::from_path(Path::new(&self.str(key, value)?)))
    }

    pub(crate) fn size(&self, key: &Key, value: &Value) -> Result<usize, RuntimeConfigError> {
        self.whole(key, value, "a number of bytes")
    }

    /// A whole number of at least zero.
    pub(crate) fn count(&self, key: &Key, value: &Value) -> Result<usize, RuntimeConfigError> {
        self.whole(key, value, "a whole number of at least 0")
    }

    fn whole(
        &self,
        key: &Key,
        value: &Value,
        expected: &'static str,
    ) -> Result<usize, RuntimeConfigError> {
        value
            .get_ref()
            .as_integer()
            .and_then(|i| u64::from_str_radix(i.as_str(), i.radix()).ok())
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| self.wrong_type(key, value, expected))
    }

    /// The value of `key` as a table.
    pub(crate) fn nested(
        &self,
        key: &'a Key<'a>,
        value: &'a Value<'a>,
        expected: &'static str,
    ) -> Result<Table<'a>, RuntimeConfigError> {
        match value.get_ref() {
            DeValue::Table(table) => Ok(Table::new(
                self.file,
                self.child_name(key.get_ref()),
                key.span(),
                table,
            )),
            _ => Err(self.wrong_type(key, value, expected)),
        }
    }

    /// The `[<key>.<label>]` tables under `key`, with their labels.
    pub(crate) fn labelled(
        &self,
        key: &'a Key<'a>,
        value: &'a Value<'a>,
    ) -> Result<Vec<(String, Table<'a>)>, RuntimeConfigError> {
        let parent = self.nested(key, value, "a table of labelled tables")?;
        parent
            .entries
            .iter()
            .map(|&(label, table)| {
                Ok((
                    label.get_ref().to_string(),
                    parent.nested(label, table, "a table")?,
                ))
            })
            .collect()
    }

    /// The `[[<key>]]` tables.
    pub(crate) fn array_of_tables(
        &self,
        key: &'a Key<'a>,
        value: &'a Value<'a>,
    ) -> Result<Vec<Table<'a>>, RuntimeConfigError> {
        const EXPECTED: &str = "an array of tables (written `[[...]]`)";
        let DeValue::Array(items) = value.get_ref() else {
            return Err(self.wrong_type(key, value, EXPECTED));
        };
        items
            .iter()
            .map(|item| match item.get_ref() {
                DeValue::Table(table) => Ok(Table::new(
                    self.file,
                    format!("[{}]", key.get_ref()),
                    item.span(),
                    table,
                )),
                _ => Err(self.wrong_type(key, item, EXPECTED)),
            })
            .collect()
    }

    /// The table's `type`, which must be present.
    pub(crate) fn kind(
        &self,
        expected: &'static [&'static str],
    ) -> Result<(String, Range<usize>), RuntimeConfigError> {
        let Some((key, value)) = self.get("type") else {
            return Err(self.missing(
                "type",
                match expected.first() {
                    Some(&"spin") => "type = \"spin\"",
                    _ => "type = \"env\"",
                },
            ));
        };
        Ok((self.str(key, value)?, value.span()))
    }

    pub(crate) fn unknown_type(
        &self,
        what: &'static str,
        found: String,
        span: Range<usize>,
        expected: &'static [&'static str],
    ) -> RuntimeConfigError {
        self.file.error(
            span,
            ErrorKind::UnknownType {
                what,
                found,
                expected,
            },
        )
    }
}

/// A TOML value's type, with its article, for messages.
fn describe(value: &DeValue) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}
