//! A tenant's branding: display name, accent colour and logo, as `customerlink tenant set`
//! accepts them. Validated here once (the pages and emails then trust them): a strict
//! `#RRGGBB` accent (it is written into CSS and an HTML style attribute), a PNG logo checked
//! by its signature and capped in size (served from our own origin, never fetched), a
//! name fit for a mail header and short enough for a page heading.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::text::is_name_char;

/// The largest logo accepted, in bytes.
pub const MAX_LOGO_BYTES: usize = 256 * 1024;
/// The longest display name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// The accent of a tenant without one (the portal's own blue).
pub const DEFAULT_ACCENT: &str = "#0b57d0";

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// A validated PNG, stored as MessagePack binary (not an array of integers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Png(Vec<u8>);

impl Png {
    /// The bytes when they are a PNG (by signature) of at most [`MAX_LOGO_BYTES`].
    pub fn parse(bytes: Vec<u8>) -> Result<Png, String> {
        if bytes.len() > MAX_LOGO_BYTES {
            return Err(format!(
                "the logo is {} bytes; at most {MAX_LOGO_BYTES} (256 KiB) are accepted",
                bytes.len()
            ));
        }
        if !bytes.starts_with(PNG_SIGNATURE) {
            return Err("the logo is not a PNG file (its signature does not match)".into());
        }
        Ok(Png(bytes))
    }

    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// A short version tag of the content (for cache-busting URLs): a logo URL with it can
    /// be cached for a long time, since new bytes get a new URL.
    pub fn version(&self) -> String {
        blake3::hash(&self.0).to_hex()[..16].to_owned()
    }
}

impl Serialize for Png {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Png {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Png, D::Error> {
        struct Bytes;
        impl<'de> serde::de::Visitor<'de> for Bytes {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("PNG bytes")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                Ok(v.to_vec())
            }
            fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
                Ok(v)
            }
        }
        d.deserialize_byte_buf(Bytes).map(Png)
    }
}

/// `#RRGGBB` (any case), returned lower-case; anything else is refused.
pub fn parse_accent(text: &str) -> Result<String, String> {
    let hex = text.strip_prefix('#').unwrap_or("");
    if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!(
            "the accent must be a colour written #RRGGBB (six hexadecimal digits), not '{}'",
            text.chars().take(20).collect::<String>()
        ));
    }
    Ok(format!("#{}", hex.to_ascii_lowercase()))
}

/// A display name: 1 to [`MAX_NAME_CHARS`] characters, no line breaks or control characters
/// (it is the sender name of the tenant's email).
pub fn check_name(name: &str) -> Result<(), String> {
    let chars = name.trim().chars().count();
    if chars == 0 || chars > MAX_NAME_CHARS {
        return Err(format!(
            "the name must have 1 to {MAX_NAME_CHARS} characters"
        ));
    }
    if !name.chars().all(is_name_char) {
        return Err(
            "the name must not contain line breaks or other control characters \
                    (it is the sender name of the tenant's email)"
                .into(),
        );
    }
    Ok(())
}

/// Black or white, whichever reads better on `accent` (a validated `#rrggbb`), so a button
/// in the tenant's colour keeps WCAG AA contrast whatever the colour.
pub fn text_on(accent: &str) -> &'static str {
    let channel = |i: usize| {
        let v = accent
            .get(i..i + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .unwrap_or(0);
        let c = f64::from(v) / 255.0;
        if c <= 0.039_28 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let luminance = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
    // Contrast with white is (1.05)/(L+0.05), with black (L+0.05)/0.05: equal at L ≈ 0.179.
    if luminance > 0.179 {
        "#000000"
    } else {
        "#ffffff"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accents_are_strict() {
        assert_eq!(parse_accent("#0B57D0").unwrap(), "#0b57d0");
        for bad in ["0b57d0", "#0b57d", "#0b57d0;", "red", "#ggg000", "#0b57d0 "] {
            assert!(parse_accent(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn logos_must_be_small_pngs() {
        let mut png = PNG_SIGNATURE.to_vec();
        png.extend([0; 16]);
        assert!(Png::parse(png.clone()).is_ok());
        assert!(
            Png::parse(b"GIF89a".to_vec())
                .unwrap_err()
                .contains("not a PNG")
        );
        png.resize(MAX_LOGO_BYTES + 1, 0);
        assert!(Png::parse(png).unwrap_err().contains("256 KiB"));
    }

    #[test]
    fn names_are_checked_and_text_contrasts() {
        assert!(check_name("Acme").is_ok());
        assert!(check_name("").is_err() && check_name(&"x".repeat(101)).is_err());
        assert!(check_name("A\nB").is_err());
        assert_eq!(text_on("#ffff00"), "#000000");
        assert_eq!(text_on("#0b57d0"), "#ffffff");
    }

    #[test]
    fn logos_encode_as_binary() {
        let png = Png::parse(PNG_SIGNATURE.to_vec()).unwrap();
        let bytes = rmp_serde::to_vec_named(&png).unwrap();
        assert_eq!(bytes.len(), 2 + PNG_SIGNATURE.len());
        assert_eq!(rmp_serde::from_slice::<Png>(&bytes).unwrap(), png);
    }
}
