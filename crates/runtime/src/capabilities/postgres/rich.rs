//! Encodings of the PostgreSQL types `spin:postgres@4.0.0` carries that no
//! crate maps the way the interface wants: ranges with explicit bound kinds,
//! intervals in their three parts, JSON as text bytes, and any value as its
//! raw bytes.

use bytes::{BufMut, BytesMut};
use postgres_protocol::types::{RangeBound, range_from_sql, range_to_sql};
use std::error::Error as StdError;
use tokio_postgres::types::{FromSql, IsNull, Kind, ToSql, Type, to_sql_checked};

type BoxError = Box<dyn StdError + Sync + Send>;

/// A range: each bound is absent (unbounded) or a value and whether it is
/// inclusive. An empty range reads as two absent bounds.
#[derive(Debug, Clone, PartialEq)]
pub struct Range<T> {
    pub lower: Option<(T, bool)>,
    pub upper: Option<(T, bool)>,
}

fn element(ty: &Type) -> Option<&Type> {
    match ty.kind() {
        Kind::Range(element) => Some(element),
        _ => None,
    }
}

impl<T: ToSql> ToSql for Range<T> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        let element = element(ty).ok_or_else(|| format!("{ty} is not a range type"))?;
        // postgres-protocol has its own `IsNull`, distinct from the one
        // `ToSql` returns.
        let encode =
            |value: &T, out: &mut BytesMut| -> Result<postgres_protocol::IsNull, BoxError> {
                Ok(match value.to_sql(element, out)? {
                    IsNull::Yes => postgres_protocol::IsNull::Yes,
                    IsNull::No => postgres_protocol::IsNull::No,
                })
            };
        let bound = |bound: &Option<(T, bool)>, out: &mut BytesMut| match bound {
            None => Ok(RangeBound::Unbounded),
            Some((value, true)) => Ok(RangeBound::Inclusive(encode(value, out)?)),
            Some((value, false)) => Ok(RangeBound::Exclusive(encode(value, out)?)),
        };
        range_to_sql(
            |out| bound(&self.lower, out),
            |out| bound(&self.upper, out),
            out,
        )?;
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        element(ty).is_some_and(T::accepts)
    }

    to_sql_checked!();
}

impl<'a, T: FromSql<'a>> FromSql<'a> for Range<T> {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let element = element(ty).ok_or_else(|| format!("{ty} is not a range type"))?;
        let bound = |bound: RangeBound<Option<&'a [u8]>>| -> Result<Option<(T, bool)>, BoxError> {
            Ok(match bound {
                RangeBound::Inclusive(Some(raw)) => Some((T::from_sql(element, raw)?, true)),
                RangeBound::Exclusive(Some(raw)) => Some((T::from_sql(element, raw)?, false)),
                _ => None,
            })
        };
        match range_from_sql(raw)? {
            postgres_protocol::types::Range::Empty => Ok(Range {
                lower: None,
                upper: None,
            }),
            postgres_protocol::types::Range::Nonempty(lower, upper) => Ok(Range {
                lower: bound(lower)?,
                upper: bound(upper)?,
            }),
        }
    }

    fn accepts(ty: &Type) -> bool {
        element(ty).is_some_and(T::accepts)
    }
}

/// An interval as PostgreSQL stores it: microseconds, days and months, each
/// independent (a month is not a fixed number of days).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval {
    pub micros: i64,
    pub days: i32,
    pub months: i32,
}

impl ToSql for Interval {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        out.put_i64(self.micros);
        out.put_i32(self.days);
        out.put_i32(self.months);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }

    to_sql_checked!();
}

impl<'a> FromSql<'a> for Interval {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let raw: [u8; 16] = raw.try_into().map_err(|_| "an interval is 16 bytes")?;
        let (micros, rest) = raw.split_at(8);
        let (days, months) = rest.split_at(4);
        Ok(Interval {
            micros: i64::from_be_bytes(micros.try_into()?),
            days: i32::from_be_bytes(days.try_into()?),
            months: i32::from_be_bytes(months.try_into()?),
        })
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }
}

/// JSON as its text, for `json` and `jsonb` columns (the binary `jsonb`
/// format is a version byte followed by the text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonText(pub Vec<u8>);

const JSONB_VERSION: u8 = 1;

impl ToSql for JsonText {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        if *ty == Type::JSONB {
            out.put_u8(JSONB_VERSION);
        }
        out.put_slice(&self.0);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        matches!(*ty, Type::JSON | Type::JSONB)
    }

    to_sql_checked!();
}

impl<'a> FromSql<'a> for JsonText {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let text = match (ty, raw.split_first()) {
            (&Type::JSONB, Some((&JSONB_VERSION, text))) => text,
            (&Type::JSONB, _) => return Err("unknown jsonb format version".into()),
            _ => raw,
        };
        Ok(JsonText(text.to_vec()))
    }

    fn accepts(ty: &Type) -> bool {
        matches!(*ty, Type::JSON | Type::JSONB)
    }
}

/// A value of any type, as the bytes the server sent.
pub struct RawBytes(pub Vec<u8>);

impl<'a> FromSql<'a> for RawBytes {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Ok(RawBytes(raw.to_vec()))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}
