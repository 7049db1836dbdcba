//! Scalar wire types with ServiceStack's text forms: Guids written as 32 lower-case hex digits
//! and read in any .NET form (N, D, B, P); dates written ISO 8601 with 7 fraction digits and
//! `Z` and read in ISO variants, date-only and `/Date(ms)/` (servicestack-wire.md §2.2–2.4);
//! and lenient readers for numbers and booleans that arrive quoted (query strings, §2.4).

use std::fmt::Write as _;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use time::format_description::well_known::Iso8601;
use time::{Date, OffsetDateTime, PrimitiveDateTime, UtcOffset};
use uuid::Uuid;

/// A .NET Guid on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Guid(pub Uuid);

impl Guid {
    /// Parses N (32 hex), D (dashed), B ({dashed}) and P ((dashed)) forms.
    pub fn parse(text: &str) -> Option<Guid> {
        let t = text.trim();
        let inner = t
            .strip_prefix('{')
            .and_then(|s| s.strip_suffix('}'))
            .or_else(|| t.strip_prefix('(').and_then(|s| s.strip_suffix(')')))
            .unwrap_or(t);
        let valid_shape =
            inner.len() == 32 || (inner.len() == 36 && inner.as_bytes().get(8) == Some(&b'-'));
        if !valid_shape {
            return None;
        }
        Uuid::try_parse(inner).ok().map(Guid)
    }
}

impl Serialize for Guid {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut buf = [0u8; 32];
        s.serialize_newtype_struct(
            super::node::GUID_TOKEN,
            self.0.simple().encode_lower(&mut buf),
        )
    }
}

impl schemars::JsonSchema for Guid {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Guid".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "Guid: written as 32 lower-case hex digits; read in N, D, B and P forms.",
            "pattern": "^[({]?[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}[)}]?$"
        })
    }
}

impl<'de> Deserialize<'de> for Guid {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Guid::parse(&text).ok_or_else(|| de::Error::custom(format!("'{text}' is not a valid Guid")))
    }
}

/// A UTC instant on the wire, held as Unix milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct UtcDateTime(pub i64);

impl UtcDateTime {
    /// `2026-11-28T03:49:55.1230000Z`.
    pub fn to_wire(self) -> String {
        self.wire().as_str().to_owned()
    }

    /// [`UtcDateTime::to_wire`] on the stack, written digit by digit: a reply carries several
    /// dates, and `format!` into a new `String` each was a visible share of a read's time.
    pub fn wire(self) -> WireDate {
        let nanos = i128::from(self.0) * 1_000_000;
        let dt =
            OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let mut out = WireDate {
            bytes: [0; 32],
            len: 0,
        };
        let Ok(year) = u32::try_from(dt.year()) else {
            // A year before 0 (the `time` crate's range ends at ±9999: at most 29 bytes).
            let _ = write!(
                out,
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:07}Z",
                dt.year(),
                u8::from(dt.month()),
                dt.day(),
                dt.hour(),
                dt.minute(),
                dt.second(),
                dt.nanosecond() / 100
            );
            return out;
        };
        let fields: [(u32, usize, u8); 7] = [
            (year, 4, b'-'),
            (u32::from(u8::from(dt.month())), 2, b'-'),
            (u32::from(dt.day()), 2, b'T'),
            (u32::from(dt.hour()), 2, b':'),
            (u32::from(dt.minute()), 2, b':'),
            (u32::from(dt.second()), 2, b'.'),
            (dt.nanosecond() / 100, 7, b'Z'),
        ];
        for (value, width, after) in fields {
            out.push_digits(value, width);
            out.push(after);
        }
        out
    }

    /// Reads ISO 8601 (with `Z`, an offset, or none = UTC), date-only, and `/Date(ms[±hhmm])/`.
    pub fn parse(text: &str) -> Option<UtcDateTime> {
        let t = text.trim();
        if let Some(ms) = parse_wcf(t) {
            return Some(UtcDateTime(ms));
        }
        let millis = |dt: OffsetDateTime| {
            i64::try_from(dt.unix_timestamp_nanos() / 1_000_000)
                .ok()
                .map(UtcDateTime)
        };
        if let Ok(dt) = OffsetDateTime::parse(t, &Iso8601::DEFAULT) {
            return millis(dt);
        }
        if let Ok(dt) = PrimitiveDateTime::parse(t, &Iso8601::DEFAULT) {
            return millis(dt.assume_utc());
        }
        let date = Date::parse(t, &Iso8601::DEFAULT).ok()?;
        millis(date.midnight().assume_offset(UtcOffset::UTC))
    }
}

/// `/Date(1709649000000)/`, `\/Date(…)\/`, with an optional `±hhmm` that is informational
/// (the number is already UTC milliseconds).
fn parse_wcf(t: &str) -> Option<i64> {
    let t = t.replace("\\/", "/");
    let inner = t.strip_prefix("/Date(")?.strip_suffix(")/")?;
    // The sign of the number may lead; an offset sign can only follow a digit.
    let end = inner
        .char_indices()
        .skip(1)
        .find(|(_, c)| matches!(c, '+' | '-'))
        .map_or(inner.len(), |(i, _)| i);
    inner.get(..end)?.parse().ok()
}

impl Serialize for UtcDateTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_newtype_struct(super::node::DATE_TOKEN, self.wire().as_str())
    }
}

impl schemars::JsonSchema for UtcDateTime {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "DateTime".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "format": "date-time",
            "description": "UTC, written as ISO 8601 with 7 fraction digits and Z; /Date(ms)/ and date-only are read too."
        })
    }
}

impl<'de> Deserialize<'de> for UtcDateTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        UtcDateTime::parse(&text)
            .ok_or_else(|| de::Error::custom(format!("'{text}' is not a valid date")))
    }
}

/// Lenient readers for `#[serde(deserialize_with)]`: numbers and booleans may arrive as JSON
/// values or as text (query strings, path segments, quoted JSON).
pub mod lenient {
    use super::*;

    struct IntVisitor;

    impl Visitor<'_> for IntVisitor {
        type Value = Option<i64>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an integer")
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            i64::try_from(v)
                .map(Some)
                .map_err(|_| E::custom("integer out of range"))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            if v.fract() == 0.0 && v.abs() < 9.0e15 {
                #[expect(
                    clippy::cast_possible_truncation,
                    reason = "checked integral and in range"
                )]
                return Ok(Some(v as i64));
            }
            Err(E::custom(format!("'{v}' is not an integer")))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            let t = v.trim();
            if t.is_empty() {
                return Ok(None);
            }
            t.parse()
                .map(Some)
                .map_err(|_| E::custom(format!("'{v}' is not an integer")))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }

    fn int<'de, D: Deserializer<'de>, T: TryFrom<i64>>(d: D) -> Result<Option<T>, D::Error> {
        match d.deserialize_any(IntVisitor)? {
            None => Ok(None),
            Some(v) => T::try_from(v)
                .map(Some)
                .map_err(|_| de::Error::custom(format!("'{v}' is out of range"))),
        }
    }

    pub fn opt_i32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i32>, D::Error> {
        int(d)
    }

    pub fn opt_usize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
        int(d)
    }

    pub fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        int(d)
    }

    struct BoolVisitor;

    impl Visitor<'_> for BoolVisitor {
        type Value = Option<bool>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a boolean")
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            match v {
                0 => Ok(Some(false)),
                1 => Ok(Some(true)),
                _ => Err(E::custom(format!("'{v}' is not a boolean"))),
            }
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            u64::try_from(v)
                .map_err(|_| E::custom("not a boolean"))
                .and_then(|v| self.visit_u64(v))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            match v.trim().to_ascii_lowercase().as_str() {
                "" => Ok(None),
                "true" | "1" | "on" | "yes" => Ok(Some(true)),
                "false" | "0" | "off" | "no" => Ok(Some(false)),
                _ => Err(E::custom(format!("'{v}' is not a boolean"))),
            }
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }

    pub fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        d.deserialize_any(BoolVisitor)
    }
}

/// A wire date held on the stack ([`UtcDateTime::wire`]).
pub struct WireDate {
    bytes: [u8; 32],
    len: usize,
}

impl WireDate {
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(self.bytes.get(..self.len).unwrap_or_default()).unwrap_or_default()
    }

    fn push(&mut self, byte: u8) {
        if let Some(slot) = self.bytes.get_mut(self.len) {
            *slot = byte;
            self.len += 1;
        }
    }

    /// `value` in decimal, zero-padded to at least `width` digits.
    fn push_digits(&mut self, value: u32, width: usize) {
        let mut digits = [b'0'; 10];
        let mut n = value;
        let mut len = 0;
        while (n > 0 || len < width) && len < digits.len() {
            digits[len] = b'0' + (n % 10) as u8;
            n /= 10;
            len += 1;
        }
        for &d in digits[..len].iter().rev() {
            self.push(d);
        }
    }
}

impl std::fmt::Write for WireDate {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let slot = self.bytes.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        slot.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guid_forms() {
        let n = "0123456789abcdef0123456789abcdef";
        let expected = Guid::parse(n).unwrap();
        for form in [
            "01234567-89ab-cdef-0123-456789abcdef",
            "{01234567-89ab-cdef-0123-456789abcdef}",
            "(01234567-89AB-CDEF-0123-456789ABCDEF)",
        ] {
            assert_eq!(Guid::parse(form), Some(expected), "{form}");
        }
        assert_eq!(
            serde_json::to_string(&expected).unwrap(),
            format!("\"{n}\"")
        );
        assert_eq!(
            Guid::parse("urn:uuid:01234567-89ab-cdef-0123-456789abcdef"),
            None
        );
        assert_eq!(Guid::parse("xyz"), None);
    }

    #[test]
    fn dates_written_with_seven_fraction_digits() {
        assert_eq!(UtcDateTime(0).to_wire(), "1970-01-01T00:00:00.0000000Z");
        assert_eq!(
            UtcDateTime(1_709_649_000_123).to_wire(),
            "2024-03-05T14:30:00.1230000Z"
        );
        assert_eq!(
            UtcDateTime(253_402_300_799_999).to_wire(),
            "9999-12-31T23:59:59.9990000Z"
        );
        assert_eq!(
            UtcDateTime(-62_135_596_800_000).to_wire(),
            "0001-01-01T00:00:00.0000000Z"
        );
        assert_eq!(
            UtcDateTime(-62_135_596_800_001).to_wire(),
            "0000-12-31T23:59:59.9990000Z"
        );
        assert_eq!(
            UtcDateTime(-62_167_219_200_001).to_wire(),
            "-001-12-31T23:59:59.9990000Z"
        );
    }

    #[test]
    fn dates_read_in_servicestack_forms() {
        let ms = 1_709_649_000_000;
        for form in [
            "2024-03-05T14:30:00Z",
            "2024-03-05T14:30:00.0000000Z",
            "2024-03-05T14:30:00",
            "2024-03-05T15:30:00+01:00",
            "/Date(1709649000000)/",
            "\\/Date(1709649000000)\\/",
            "/Date(1709649000000+0100)/",
        ] {
            assert_eq!(UtcDateTime::parse(form), Some(UtcDateTime(ms)), "{form}");
        }
        assert_eq!(
            UtcDateTime::parse("2024-03-05"),
            Some(UtcDateTime(1_709_596_800_000))
        );
        assert_eq!(UtcDateTime::parse("yesterday"), None);
        // Found while writing the fuzz targets: these once sliced out of bounds or inside a character.
        assert_eq!(UtcDateTime::parse("/Date()/"), None);
        assert_eq!(UtcDateTime::parse("/Date(é)/"), None);
        assert_eq!(
            UtcDateTime::parse("/Date(-1000)/"),
            Some(UtcDateTime(-1000))
        );
    }
}
