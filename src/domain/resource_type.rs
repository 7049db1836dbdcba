//! Resource types as the policy compares them. A type decides a link's tier, so text that
//! only looks like a listed type (`"Claim\u{200b}"`, full-width `"Ｃｌａｉｍ"`, `"Claım"` with a
//! dotless ı) must never slip past the policy's names into a weaker tier. Pure text rules.

use unicode_normalization::UnicodeNormalization as _;

/// Why a resource type cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unusable {
    Empty,
    /// Still holds a non-ASCII or control character after normalisation.
    NotAscii,
}

/// The form a resource type is stored and looked up in: Unicode NFKC (full-width and other
/// compatibility forms become ASCII), invisible format characters (zero-width space and
/// joiners, BOM, soft hyphen, bidi marks, variation selectors) removed, edge spaces trimmed.
/// Case is kept; comparisons ignore ASCII case. What is left must be printable ASCII:
/// NFKC does not fold look-alikes such as the dotless `ı` or Cyrillic `С`, and no fold
/// table is complete, so rather than guess, such types are refused.
pub fn clean(raw: &str) -> Result<String, Unusable> {
    // Printable ASCII is its own NFKC form and holds nothing invisible: no normaliser pass
    // (the usual case, twice per create).
    if raw.bytes().all(|b| b == b' ' || b.is_ascii_graphic()) {
        return checked(raw.trim());
    }
    checked(normalised(raw).trim())
}

/// `raw` in NFKC with its invisible characters removed.
fn normalised(raw: &str) -> String {
    raw.nfkc().filter(|c| !is_invisible(*c)).collect()
}

fn checked(text: &str) -> Result<String, Unusable> {
    if text.is_empty() {
        Err(Unusable::Empty)
    } else if !text.chars().all(|c| c == ' ' || c.is_ascii_graphic()) {
        Err(Unusable::NotAscii)
    } else {
        Ok(text.to_owned())
    }
}

/// Default-ignorable code points (Unicode's `Default_Ignorable_Code_Point`, the part that
/// can appear in text): they render as nothing.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_and_compatibility_forms_clean_to_the_plain_name() {
        for raw in [
            "Claim",
            "Claim\u{200b}",
            "\u{feff}Cl\u{200d}aim ",
            "Ｃｌａｉｍ",
            "C\u{00ad}laim",
        ] {
            assert_eq!(clean(raw).as_deref(), Ok("Claim"), "{raw:?}");
        }
        assert_eq!(clean("Two Words").as_deref(), Ok("Two Words"));
    }

    #[test]
    fn printable_ascii_cleans_as_the_normaliser_would() {
        for raw in ["Invoice", " Two  Words ", "", "   ", "a~!{}", "  x"] {
            assert_eq!(clean(raw), checked(normalised(raw).trim()), "{raw:?}");
        }
    }

    #[test]
    fn look_alikes_and_empty_types_are_refused() {
        assert_eq!(clean("Claım"), Err(Unusable::NotAscii));
        assert_eq!(clean("\u{0421}laim"), Err(Unusable::NotAscii));
        assert_eq!(clean("Cl\taim"), Err(Unusable::NotAscii));
        assert_eq!(clean("\u{200b} "), Err(Unusable::Empty));
    }
}
