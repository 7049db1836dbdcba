//! The file name an upload carries, from `Content-Disposition` (`attachment; filename="…"` on a
//! raw upload, `form-data; name="file"; filename="…"` on a multipart part), made safe to store
//! and echo: no directories, no control characters, at most 255 characters.

/// The parameters of a `Content-Disposition` value: its type and `(name, value)` pairs, names
/// lower-cased, quoted values unescaped; `filename*` (RFC 5987, UTF-8 only) decoded.
pub fn parse(value: &str) -> (String, Vec<(String, String)>) {
    let mut rest = value;
    let kind = take_token(&mut rest).to_ascii_lowercase();
    let mut params = Vec::new();
    while let Some(after) = rest.trim_start().strip_prefix(';') {
        rest = after.trim_start();
        let name = take_token(&mut rest).to_ascii_lowercase();
        let Some(after) = rest.trim_start().strip_prefix('=') else {
            continue;
        };
        rest = after.trim_start();
        let value = if let Some(q) = rest.strip_prefix('"') {
            let (v, after) = quoted(q);
            rest = after;
            v
        } else {
            take_token(&mut rest).to_owned()
        };
        let value = if name == "filename*" {
            match extended(&value) {
                Some(v) => v,
                None => continue,
            }
        } else {
            value
        };
        params.push((name, value));
    }
    (kind, params)
}

fn take_token<'a>(rest: &mut &'a str) -> &'a str {
    let s = rest.trim_start();
    let end = s.find([';', '=']).unwrap_or(s.len());
    *rest = &s[end..];
    s[..end].trim()
}

fn quoted(s: &str) -> (String, &str) {
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return (out, &s[i + 1..]),
            '\\' => {
                if let Some((_, n)) = chars.next() {
                    out.push(n);
                }
            }
            c => out.push(c),
        }
    }
    (out, "")
}

fn extended(v: &str) -> Option<String> {
    let (charset, rest) = v.split_once('\'')?;
    let (_, encoded) = rest.split_once('\'')?;
    if !charset.eq_ignore_ascii_case("utf-8") {
        return None;
    }
    percent_encoding::percent_decode_str(encoded)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

/// The file name among the parameters (`filename*` wins), made safe; `None` without one.
pub fn file_name(params: &[(String, String)]) -> Option<String> {
    let find = |n: &str| params.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    let raw = find("filename*").or_else(|| find("filename"))?;
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = base.chars().filter(|c| !c.is_control()).take(255).collect();
    let clean = clean.trim().to_owned();
    (!clean.is_empty() && clean != "." && clean != "..").then_some(clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unquoted_decoded_and_made_safe() {
        let (kind, p) = parse(r#"attachment; filename="a \"b\".pdf""#);
        assert_eq!(kind, "attachment");
        assert_eq!(file_name(&p).as_deref(), Some(r#"a "b".pdf"#));
        let (kind, p) = parse(r#"form-data; name="file"; filename="../x/report.pdf""#);
        assert_eq!(kind, "form-data");
        assert_eq!(p[0], ("name".into(), "file".into()));
        assert_eq!(file_name(&p).as_deref(), Some("report.pdf"));
        let (_, p) = parse("attachment; filename=plain.txt; filename*=UTF-8''%C3%A9t%C3%A9.txt");
        assert_eq!(file_name(&p).as_deref(), Some("été.txt"));
        let (_, p) = parse("attachment; filename=\"../\u{7}\"");
        assert_eq!(file_name(&p), None);
        assert_eq!(file_name(&parse("attachment").1), None);
    }
}
