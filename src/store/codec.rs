//! Conversions between domain values and the portable column types: fixed-width
//! UTC timestamps as text (they sort correctly as text on both back ends) and
//! JSON as text.

use std::str::FromStr;

use serde::Serialize;
use serde::de::DeserializeOwned;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

use super::StoreError;

const TIMESTAMP: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

/// The current time at the precision the database keeps (microseconds), so a
/// value read back equals the value written.
pub fn now() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(t.nanosecond() / 1_000 * 1_000)
        .expect("a truncated nanosecond is in range")
}

pub(crate) fn ts(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(TIMESTAMP)
        .expect("every UTC time formats")
}

pub(crate) fn parse_ts(s: &str) -> Result<OffsetDateTime, StoreError> {
    PrimitiveDateTime::parse(s, TIMESTAMP)
        .map(PrimitiveDateTime::assume_utc)
        .map_err(|e| StoreError::Corrupt(format!("timestamp `{s}`: {e}")))
}

pub(crate) fn parse_opt_ts(s: Option<&str>) -> Result<Option<OffsetDateTime>, StoreError> {
    s.map(parse_ts).transpose()
}

pub(crate) fn to_json<T: Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).expect("domain values always serialise")
}

pub(crate) fn from_json<T: DeserializeOwned>(column: &str, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

pub(crate) fn from_opt_json<T: DeserializeOwned>(
    column: &str,
    text: Option<&str>,
) -> Result<Option<T>, StoreError> {
    text.map(|t| from_json(column, t)).transpose()
}

/// Parses an enum or id column through its `FromStr`.
pub(crate) fn parse_col<T: FromStr>(column: &str, text: &str) -> Result<T, StoreError> {
    text.parse()
        .map_err(|_| StoreError::Corrupt(format!("{column}: unexpected value `{text}`")))
}

pub(crate) fn parse_opt_col<T: FromStr>(
    column: &str,
    text: Option<&str>,
) -> Result<Option<T>, StoreError> {
    text.map(|t| parse_col(column, t)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_at_microsecond_precision() {
        let t = now();
        assert_eq!(parse_ts(&ts(t)).unwrap(), t);
    }

    #[test]
    fn timestamps_sort_as_text() {
        let a = time::macros::datetime!(2026-01-02 03:04:05.000001 UTC);
        let b = time::macros::datetime!(2026-01-02 03:04:05.1 UTC);
        let c = time::macros::datetime!(2026-11-02 00:00 UTC);
        assert!(ts(a) < ts(b) && ts(b) < ts(c));
        assert_eq!(ts(a), "2026-01-02T03:04:05.000001Z");
    }
}
