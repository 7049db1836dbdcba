//! URL-encoded text: query strings and `application/x-www-form-urlencoded` bodies, decoded
//! with `+` as space (as ASP.NET Core does, servicestack-wire.md §7.1), and path segments.

/// Decodes a path segment's `%XX` escapes; `None` when the result is not UTF-8.
pub fn percent_decode(text: &str) -> Option<String> {
    percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

/// Splits `a=1&b=2` into decoded pairs (`+` is a space; invalid UTF-8 becomes U+FFFD).
pub fn pairs(text: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(text.as_bytes())
        .into_owned()
        .collect()
}

/// The value of the first pair named `name` (case-insensitive).
pub fn get<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_pairs() {
        assert_eq!(
            pairs("Status=Active&Take=5&x=%E2%9C%93+y&flag"),
            vec![
                ("Status".into(), "Active".into()),
                ("Take".into(), "5".into()),
                ("x".into(), "\u{2713} y".into()),
                ("flag".into(), String::new()),
            ]
        );
        assert_eq!(get(&pairs("a=1&TAKE=2"), "take"), Some("2"));
    }

    #[test]
    fn path_segments() {
        assert_eq!(percent_decode("a%2Fb%20c+").as_deref(), Some("a/b c+"));
        assert_eq!(percent_decode("100%").as_deref(), Some("100%"));
        assert_eq!(percent_decode("%FF"), None);
    }
}
