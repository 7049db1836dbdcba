//! URL-encoded text: query strings and `application/x-www-form-urlencoded` bodies, decoded
//! with `+` as space (as ASP.NET Core does, servicestack-wire.md §7.1), and path segments.

/// Decodes `%XX` escapes (and `+` as space when `plus_is_space`); `None` on invalid UTF-8.
/// A `%` not followed by two hex digits is kept literally.
pub fn percent_decode(text: &str, plus_is_space: bool) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let escaped = (b == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b, escaped) {
            (_, Some(decoded)) => {
                out.push(decoded);
                i += 3;
                continue;
            }
            (b'+', None) if plus_is_space => out.push(b' '),
            (b, None) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// Splits `a=1&b=2` into decoded pairs; pairs that do not decode to UTF-8 are dropped.
pub fn pairs(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|p| !p.is_empty())
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Some((percent_decode(k, true)?, percent_decode(v, true)?))
        })
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
            pairs("Status=Active&Take=5&x=%E2%9C%93+y&bad=%FF&flag"),
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
    fn stray_percent_signs_are_literal() {
        assert_eq!(percent_decode("100%", false).as_deref(), Some("100%"));
        assert_eq!(percent_decode("%4", false).as_deref(), Some("%4"));
        assert_eq!(percent_decode("%zz+", false).as_deref(), Some("%zz+"));
        assert_eq!(percent_decode("a%2Fb", false).as_deref(), Some("a/b"));
    }
}
