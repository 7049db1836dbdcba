//! Names set by staff or operators (tenant name, contact names) end up in email headers —
//! the From display name, the Subject — and in SMS text. A line break cannot be carried in a
//! header (lettre refuses to write it, and it would let a name add headers), and no other
//! control character is ever meant in a name, so names are checked where they enter.

use super::{FieldError, Rule};

/// Whether `c` may stand in a name that can reach a message header: no control characters
/// (CR, LF, NUL, TAB, DEL, C1) and no Unicode line or paragraph separators.
pub fn is_name_char(c: char) -> bool {
    !c.is_control() && !matches!(c, '\u{2028}' | '\u{2029}')
}

/// The field error for a name that holds a character [`is_name_char`] refuses, if any.
pub fn name_error(field: &'static str, value: Option<&str>) -> Option<FieldError> {
    value.filter(|v| !v.chars().all(is_name_char)).map(|_| {
        FieldError::new(field, Rule::Predicate)
            .message("'{PropertyName}' must not contain line breaks or other control characters.")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_control_characters_are_refused() {
        for bad in [
            "Acme\r\nLtd",
            "A\nB",
            "A\rB",
            "nul\0",
            "tab\t",
            "del\u{7f}",
            "x\u{2028}y",
        ] {
            assert!(name_error("Name", Some(bad)).is_some(), "{bad:?}");
        }
        for good in [
            "Acme Ltd",
            "Ågot Ødegård",
            "O'Brien & Söhne",
            "株式会社",
            "",
        ] {
            assert_eq!(name_error("Name", Some(good)), None, "{good:?}");
        }
        assert_eq!(name_error("Name", None), None);
    }
}
