//! The manifest file formats, as serde types.
//!
//! These mirror the TOML exactly (with `deny_unknown_fields`) and keep the
//! span of every value that a later check may need to point at. Checks
//! beyond the shape of the TOML happen in `crate::convert`.

pub(crate) mod common;
pub(crate) mod v1;
pub(crate) mod v2;

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

/// Describes a table type for "expected ..." messages when a field holds
/// either a string or that table.
pub(crate) trait Expecting {
    /// What the field accepts, e.g. `a route such as "/hello"`.
    const EXPECTING: &'static str;
}

/// A field that is either a string or a table, such as `source = "app.wasm"`
/// versus `source = { url = "...", digest = "..." }`. Hand-written rather
/// than `#[serde(untagged)]` so that errors inside the table keep their
/// field names and positions.
#[derive(Debug)]
pub(crate) enum StrOr<T> {
    /// The string form.
    Str(String),
    /// The table form.
    Table(Box<T>),
}

impl<'de, T: Deserialize<'de> + Expecting> Deserialize<'de> for StrOr<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StrOrVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de> + Expecting> Visitor<'de> for StrOrVisitor<T> {
            type Value = StrOr<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(T::EXPECTING)
            }

            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(StrOr::Str(s.to_owned()))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(|t| StrOr::Table(Box::new(t)))
            }
        }

        deserializer.deserialize_any(StrOrVisitor(PhantomData))
    }
}

/// A build `command`: one string, or a list run in order.
#[derive(Debug)]
pub(crate) struct Commands(pub(crate) Vec<String>);

impl<'de> Deserialize<'de> for Commands {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CommandsVisitor;

        impl<'de> Visitor<'de> for CommandsVisitor {
            type Value = Commands;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a command string or a list of command strings")
            }

            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(Commands(vec![s.to_owned()]))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                Vec::deserialize(SeqAccessDeserializer::new(seq)).map(Commands)
            }
        }

        deserializer.deserialize_any(CommandsVisitor)
    }
}
