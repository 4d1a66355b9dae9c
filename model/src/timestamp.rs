//! Timestamps written exactly as chrono's serde writes them (RFC 3339 in UTC with `Z`, the
//! fraction of a second in 0, 3, 6 or 9 digits, whichever is shortest without losing
//! anything), but without going through `fmt`.
//!
//! chrono hands its `Display` to the serializer (`collect_str`), and serde_json escapes
//! every piece that `Display` writes: about 2 400 instructions a timestamp. A gallery page
//! of 100 images writes 200 of them into its hydration data, where that was 6 % of the
//! server's work for the page (`scripts/bench-ssr.sh --instructions`). Written into a
//! buffer on the stack and handed over as one string, a timestamp costs a tenth of that.
//! Years outside 0000–9999 and leap seconds, which chrono writes its own way, are left to
//! chrono.
//!
//! Read by chrono's strict RFC 3339 parser (`DateTime::parse_from_rfc3339`). chrono's own
//! reader accepts more (its relaxed form goes through its general format parser, and that
//! parser brings RFC 2822's along), and all of that was in every signed-in page's code in
//! the browser (issue 17 §2). What the strict one refuses is a year outside 0000–9999,
//! which chrono writes with a sign: no timestamp of ours gets there (they are moments of
//! the app's life, the furthest an API token's expiry, ten years ahead).
//!
//! Used as `#[serde(with = "crate::timestamp")]` (and `#[serde(default, with =
//! "crate::timestamp::option")]` for an `Option`) on every timestamp of the types the
//! server answers with.

use std::fmt;

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

/// The longest timestamp written here: `2026-12-06T09:30:00.123456789Z`.
const LONGEST: usize = 30;

/// Serializes `t` as chrono does.
pub fn serialize<S: Serializer>(t: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    let mut buf = [0u8; LONGEST];
    match write(t, &mut buf).and_then(|len| std::str::from_utf8(&buf[..len]).ok()) {
        Some(text) => serializer.serialize_str(text),
        None => t.serialize(serializer),
    }
}

/// A timestamp to serialize as [`serialize`] does, where a field attribute cannot say so.
pub struct Rfc3339<'a>(pub &'a DateTime<Utc>);

impl Serialize for Rfc3339<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize(self.0, serializer)
    }
}

/// Reads a timestamp written in RFC 3339 (any offset; the value is in UTC).
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
    deserializer.deserialize_str(Rfc3339Visitor)
}

/// An optional timestamp (`None` is `null`, as chrono's). A field read with it needs
/// `#[serde(default)]` as well, so that a missing one is `None`, as without it.
pub mod option {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::{Read, Rfc3339};

    /// Serializes `t` as chrono does.
    pub fn serialize<S: Serializer>(
        t: &Option<DateTime<Utc>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        t.as_ref().map(Rfc3339).serialize(serializer)
    }

    /// Reads `null` or a timestamp in RFC 3339.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<DateTime<Utc>>, D::Error> {
        Ok(Option::<Read>::deserialize(deserializer)?.map(|Read(t)| t))
    }
}

/// A timestamp read as [`deserialize`] does, where a field attribute cannot say so.
pub struct Read(pub DateTime<Utc>);

impl<'de> Deserialize<'de> for Read {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize(deserializer).map(Read)
    }
}

struct Rfc3339Visitor;

impl de::Visitor<'_> for Rfc3339Visitor {
    type Value = DateTime<Utc>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        // chrono's words, so that an error reads as before.
        formatter.write_str("an RFC 3339 formatted date and time string")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        DateTime::parse_from_rfc3339(value)
            .map(|t| t.with_timezone(&Utc))
            .map_err(E::custom)
    }
}

/// Writes `t` into `buf` and answers its length, or `None` where chrono writes it
/// otherwise (a year outside 0–9999, a leap second).
fn write(t: &DateTime<Utc>, buf: &mut [u8; LONGEST]) -> Option<usize> {
    let year = u32::try_from(t.year()).ok().filter(|y| *y <= 9999)?;
    let nanos = t.nanosecond();
    if nanos >= 1_000_000_000 {
        return None;
    }
    digits(&mut buf[0..4], year);
    buf[4] = b'-';
    digits(&mut buf[5..7], t.month());
    buf[7] = b'-';
    digits(&mut buf[8..10], t.day());
    buf[10] = b'T';
    digits(&mut buf[11..13], t.hour());
    buf[13] = b':';
    digits(&mut buf[14..16], t.minute());
    buf[16] = b':';
    digits(&mut buf[17..19], t.second());
    let mut len = 19;
    // chrono's `SecondsFormat::AutoSi`: none, milli-, micro- or nanoseconds.
    let fraction = if nanos == 0 {
        None
    } else if nanos.is_multiple_of(1_000_000) {
        Some((nanos / 1_000_000, 3))
    } else if nanos.is_multiple_of(1_000) {
        Some((nanos / 1_000, 6))
    } else {
        Some((nanos, 9))
    };
    if let Some((value, width)) = fraction {
        buf[len] = b'.';
        digits(&mut buf[len + 1..len + 1 + width], value);
        len += 1 + width;
    }
    buf[len] = b'Z';
    Some(len + 1)
}

/// Writes `value` in decimal into all of `out`, padded with zeros on the left.
fn digits(out: &mut [u8], mut value: u32) {
    for place in out.iter_mut().rev() {
        // `value % 10` is below 10.
        *place = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone};

    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Ours {
        #[serde(with = "crate::timestamp")]
        at: DateTime<Utc>,
        #[serde(default, with = "crate::timestamp::option")]
        maybe: Option<DateTime<Utc>>,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Chronos {
        at: DateTime<Utc>,
        maybe: Option<DateTime<Utc>>,
    }

    fn same_as_chrono(at: DateTime<Utc>) {
        for maybe in [Some(at), None] {
            let ours = serde_json::to_string(&Ours { at, maybe }).unwrap();
            let chronos = serde_json::to_string(&Chronos { at, maybe }).unwrap();
            assert_eq!(ours, chronos, "{at:?}");
        }
    }

    /// Reads `text` (a JSON object) with our reader and with chrono's: the same value.
    fn reads_as_chrono(text: &str) -> Ours {
        let ours: Ours = serde_json::from_str(text).unwrap();
        let chronos: Chronos = serde_json::from_str(text).unwrap();
        assert_eq!((ours.at, ours.maybe), (chronos.at, chronos.maybe), "{text}");
        ours
    }

    #[test]
    fn reads_rfc3339_as_chrono_does() {
        let at = Utc.with_ymd_and_hms(2026, 12, 6, 7, 5, 7).unwrap();
        let half = at + chrono::Duration::milliseconds(500);
        for (text, want) in [
            (r#"{"at":"2026-12-06T07:05:07Z","maybe":null}"#, (at, None)),
            (r#"{"at":"2026-12-06T07:05:07Z"}"#, (at, None)),
            (
                r#"{"at":"2026-12-06T09:05:07.5+02:00","maybe":"2026-12-06T07:05:07.500Z"}"#,
                (half, Some(half)),
            ),
            (r#"{"at":"2026-12-06t07:05:07z"}"#, (at, None)),
            (r#"{"at":"2026-12-06 02:05:07-05:00"}"#, (at, None)),
            (r#"{"at":"2026-12-06T07:05:07.000000000Z"}"#, (at, None)),
        ] {
            let read = reads_as_chrono(text);
            assert_eq!((read.at, read.maybe), want, "{text}");
        }
    }

    #[test]
    fn refuses_what_chrono_refuses_with_its_words() {
        for text in [
            r#"{"at":""}"#,
            r#"{"at":"yesterday"}"#,
            r#"{"at":"2026-12-06"}"#,
            r#"{"at":"2026-12-06T07:05:07"}"#,
            r#"{"at":"2026-13-06T07:05:07Z"}"#,
            r#"{"at":"2026-02-30T07:05:07Z"}"#,
            r#"{"at":"2026-12-06T07:05:07+24:00"}"#,
            r#"{"at":"2026-12-06T07:05:07Z","maybe":"soon"}"#,
        ] {
            assert!(serde_json::from_str::<Ours>(text).is_err(), "{text}");
            assert!(serde_json::from_str::<Chronos>(text).is_err(), "{text}");
        }
        // Not a string at all: the same message, word for word.
        for text in [
            r#"{"at":5}"#,
            r#"{"at":null}"#,
            r#"{"at":"2026-12-06T07:05:07Z","maybe":[]}"#,
        ] {
            let ours = serde_json::from_str::<Ours>(text).unwrap_err().to_string();
            let chronos = serde_json::from_str::<Chronos>(text)
                .unwrap_err()
                .to_string();
            assert_eq!(ours, chronos, "{text}");
        }
    }

    #[test]
    fn writes_what_chrono_writes() {
        let base = Utc.with_ymd_and_hms(2026, 12, 6, 9, 5, 7).unwrap();
        // Every kind of fraction: none, milli, micro, nano, and ones with trailing zeros
        // inside their width.
        for nanos in [
            0,
            1,
            10,
            999,
            1_000,
            120_000,
            999_999,
            1_000_000,
            5_000_000,
            100_000_000,
            123_456_789,
            123_456_000,
            123_000_000,
            999_999_999,
        ] {
            same_as_chrono(base + chrono::Duration::nanoseconds(nanos));
        }
        // The edges of the years written with four digits, and the first and last moment
        // of a day, a month and a leap year.
        for (y, m, d, h, min, s) in [
            (0, 1, 1, 0, 0, 0),
            (1, 2, 3, 4, 5, 6),
            (999, 12, 31, 23, 59, 59),
            (1970, 1, 1, 0, 0, 0),
            (2024, 2, 29, 12, 30, 45),
            (9999, 12, 31, 23, 59, 59),
        ] {
            let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            same_as_chrono(date.and_hms_opt(h, min, s).unwrap().and_utc());
            same_as_chrono(date.and_hms_nano_opt(h, min, s, 7_000).unwrap().and_utc());
        }
    }

    #[test]
    fn leaves_other_years_and_leap_seconds_to_chrono() {
        for date in [
            NaiveDate::from_ymd_opt(-1, 6, 1).unwrap(),
            NaiveDate::from_ymd_opt(10_000, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(-12_345, 3, 4).unwrap(),
        ] {
            let at = date.and_hms_opt(1, 2, 3).unwrap().and_utc();
            same_as_chrono(at);
            // Written with a sign by chrono, and the one thing the strict reader refuses;
            // no timestamp of ours is that far from now (the module's comment).
            let text = serde_json::to_string(&Chronos { at, maybe: None }).unwrap();
            assert!(serde_json::from_str::<Ours>(&text).is_err(), "{text}");
        }
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .unwrap()
            .and_hms_milli_opt(23, 59, 59, 1_500)
            .unwrap()
            .and_utc();
        same_as_chrono(leap);
        let text = serde_json::to_string(&Ours {
            at: leap,
            maybe: Some(leap),
        })
        .unwrap();
        assert_eq!(reads_as_chrono(&text).maybe, Some(leap));
    }

    #[test]
    fn a_spread_of_moments_reads_back_as_written() {
        // A walk over 40 years in uneven steps (a prime number of nanoseconds each), so
        // every month, hour and digit position is reached.
        let mut at = Utc.with_ymd_and_hms(1990, 1, 1, 0, 0, 0).unwrap();
        let step = chrono::Duration::nanoseconds(7_919_000_017_389_973);
        for _ in 0..160 {
            same_as_chrono(at);
            let text = serde_json::to_string(&Ours { at, maybe: None }).unwrap();
            assert_eq!(reads_as_chrono(&text).at, at);
            at += step;
        }
    }
}
