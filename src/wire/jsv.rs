//! JSV, ServiceStack's `TypeSerializer` text format: the compact writer for `?format=jsv` /
//! `text/jsv` responses (from a [`Node`]) and a reader that turns `text/jsv` bodies and query
//! values into a `serde_json::Value` for binding. No crate speaks JSV, so both live here,
//! following servicestack-wire.md §1 (grammar §1.2, reader §1.3, dates §1.5, lists §1.6).

use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::casing::Casing;
use super::node::Node;

/// `JsWriter.EscapeChars`: a string containing any of these is written quoted.
const ESCAPE_CHARS: [char; 9] = ['"', ':', ',', '{', '}', '[', ']', '\r', '\n'];
/// Deeper bodies are refused rather than risking the stack.
const MAX_DEPTH: usize = 64;

/// Whitespace the reader ignores outside quotes (and trims from raw values).
fn is_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Writes a Node as compact JSV, as ServiceStack's writer does (§1.2): null members and null
/// dictionary values omitted, names via `casing`, dictionary keys never re-cased.
pub fn write(node: &Node, casing: Casing) -> String {
    let mut out = String::new();
    write_node(&mut out, node, casing);
    out
}

fn write_node(out: &mut String, node: &Node, casing: Casing) {
    match node {
        Node::Null => {}
        Node::Bool(b) => out.push_str(if *b { "True" } else { "False" }),
        Node::Int(i) => out.push_str(&i.to_string()),
        Node::UInt(u) => out.push_str(&u.to_string()),
        Node::Float(f) => out.push_str(&float(*f)),
        Node::Str(s) => write_str(out, s),
        Node::Date(ms) => out.push_str(&shortest_xsd(*ms)),
        Node::Guid(g) => out.push_str(&g.simple().to_string()),
        Node::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_node(out, item, casing);
            }
            out.push(']');
        }
        Node::Object { members, .. } => {
            let entries = members.iter().map(|(k, v)| (casing.apply(k), false, v));
            write_entries(out, entries, casing);
        }
        Node::Map(entries) => {
            let entries = entries.iter().map(|(k, v)| (k.as_str(), true, v));
            write_entries(out, entries, casing);
        }
    }
}

/// `{name:value,...}` skipping nulls; `quote_keys` for dictionary keys (data, not names).
fn write_entries<'a, K: AsRef<str>>(
    out: &mut String,
    entries: impl Iterator<Item = (K, bool, &'a Node)>,
    casing: Casing,
) {
    out.push('{');
    let mut first = true;
    for (key, quote_keys, value) in entries.filter(|(_, _, v)| **v != Node::Null) {
        if !first {
            out.push(',');
        }
        first = false;
        if quote_keys {
            write_str(out, key.as_ref());
        } else {
            out.push_str(key.as_ref());
        }
        out.push(':');
        write_node(out, value, casing);
    }
    out.push('}');
}

/// Quotes iff ServiceStack would (empty, or one of the 9 escape chars), and additionally when
/// the string starts or ends with whitespace: our reader trims raw values (see [`parse`]), so
/// without quotes `" x "` would come back as `"x"`. A deliberate deviation that keeps our own
/// round-trips exact; ServiceStack reads the quoted form identically.
fn write_str(out: &mut String, s: &str) {
    let quote =
        s.is_empty() || s.contains(ESCAPE_CHARS) || s.starts_with(is_ws) || s.ends_with(is_ws);
    if quote {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

/// .NET Core's `double.ToString()` (invariant): shortest round-trip digits, scientific
/// (`1E+20`, `1E-05`) when the decimal exponent is below -4 or above 14.
fn float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    match exp.parse::<i32>() {
        Ok(e) if !(-4..=14).contains(&e) => {
            let sign = if e < 0 { '-' } else { '+' };
            format!("{mantissa}E{sign}{:02}", e.unsigned_abs())
        }
        _ => f.to_string(),
    }
}

/// `ToShortestXsdDateTimeString` for a UTC instant (§1.5): `yyyy-MM-dd` at midnight,
/// `yyyy-MM-ddTHH:mm:ssZ` without a fraction, else 7 fraction digits.
fn shortest_xsd(ms: i64) -> String {
    let dt = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let date = format!(
        "{:04}-{:02}-{:02}",
        dt.year(),
        u8::from(dt.month()),
        dt.day()
    );
    let (h, m, s, nanos) = dt.to_hms_nano();
    match (h, m, s, nanos) {
        (0, 0, 0, 0) => date,
        (_, _, _, 0) => format!("{date}T{h:02}:{m:02}:{s:02}Z"),
        _ => format!("{date}T{h:02}:{m:02}:{s:02}.{:07}Z", nanos / 100),
    }
}

/// A structural error in a JSV text; `offset` is a byte offset into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsvError {
    pub message: String,
    pub offset: usize,
}

impl JsvError {
    fn new(message: String, offset: usize) -> Self {
        JsvError { message, offset }
    }
}

impl std::fmt::Display for JsvError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid JSV at offset {}: {}", self.offset, self.message)
    }
}

impl std::error::Error for JsvError {}

/// Parses a JSV request body (an object) into a `Value` for binding: objects become
/// `Value::Object` (keys trimmed), lists `Value::Array`, every scalar `Value::String`, an empty
/// token (`Name:` before `,`/`}`) `Value::Null`.
///
/// Deliberately more tolerant than ServiceStack (servicestack-wire.md §1.3, §1.7 call that
/// safe): whitespace outside quotes is insignificant everywhere, so the metadata pages'
/// pretty-printed samples parse as intended. That includes trimming *unquoted* values:
/// ServiceStack keeps the space in `{Name: Bob}` (`" Bob"`), but every pretty-printed sample
/// puts a space after `:`, and a client that means leading/trailing blanks can quote the value,
/// which is kept exactly.
pub fn parse(text: &str) -> Result<Value, JsvError> {
    let mut r = Reader::new(text);
    r.skip_ws();
    if r.peek() != Some(b'{') {
        return Err(r.error("a JSV body must be an object starting with '{'"));
    }
    let value = r.object()?;
    r.finish()?;
    Ok(value)
}

/// Parses any single JSV value (object, list or scalar) with the rules of [`parse`], for query
/// string values. A top-level list may omit its brackets (`1,2,3`, §1.6), so a top-level
/// unquoted comma always separates items; empty text is `Value::Null`.
pub fn parse_value(text: &str) -> Result<Value, JsvError> {
    let mut r = Reader::new(text);
    let first = r.value(Ctx::Top)?;
    r.skip_ws();
    if r.at_end() {
        return Ok(first);
    }
    let mut items = vec![first];
    while r.eat(b',') {
        items.push(r.value(Ctx::Top)?);
        r.skip_ws();
    }
    r.finish()?;
    Ok(Value::Array(items))
}

/// Where a value sits, which decides what ends an unquoted scalar.
#[derive(Clone, Copy)]
enum Ctx {
    Top,
    Object,
    List,
}

impl Ctx {
    fn ends_raw(self, b: u8) -> bool {
        match self {
            Ctx::Top => b == b',',
            Ctx::Object => matches!(b, b',' | b'}'),
            Ctx::List => matches!(b, b',' | b']'),
        }
    }
}

struct Reader<'a> {
    text: &'a str,
    pos: usize,
    depth: usize,
}

impl<'a> Reader<'a> {
    fn new(text: &'a str) -> Self {
        let pos = if text.starts_with('\u{FEFF}') {
            '\u{FEFF}'.len_utf8()
        } else {
            0
        };
        Reader {
            text,
            pos,
            depth: 0,
        }
    }

    fn error(&self, message: &str) -> JsvError {
        JsvError::new(message.to_owned(), self.pos)
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    /// Consumes `b` if it is next.
    fn eat(&mut self, b: u8) -> bool {
        let found = self.peek() == Some(b);
        if found {
            self.pos += 1;
        }
        found
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(|b| is_ws(char::from(b))) {
            self.pos += 1;
        }
    }

    /// Structural bytes are ASCII, so every position we slice at is a char boundary.
    fn slice(&self, start: usize, end: usize) -> &'a str {
        self.text.get(start..end).unwrap_or_default()
    }

    /// Advances to the first byte matching `stop` (or the end); returns the text passed over.
    fn scan(&mut self, stop: impl Fn(u8) -> bool) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(|b| !stop(b)) {
            self.pos += 1;
        }
        self.slice(start, self.pos)
    }

    /// Leaves only whitespace after the top-level value.
    fn finish(&mut self) -> Result<(), JsvError> {
        self.skip_ws();
        if self.at_end() {
            Ok(())
        } else {
            Err(self.error("unexpected text after the value"))
        }
    }

    fn value(&mut self, ctx: Ctx) -> Result<Value, JsvError> {
        self.skip_ws();
        match self.peek() {
            None => Ok(Value::Null),
            Some(b) if ctx.ends_raw(b) => Ok(Value::Null),
            Some(b'{') => self.object(),
            Some(b'[') => self.list(),
            Some(b'"') => self.quoted().map(Value::String),
            Some(_) => {
                let raw = self.scan(|b| ctx.ends_raw(b));
                Ok(Value::String(raw.trim_matches(is_ws).to_owned()))
            }
        }
    }

    /// `"..."` with `""` for an embedded quote; the content is kept exactly.
    fn quoted(&mut self) -> Result<String, JsvError> {
        let open = self.pos;
        self.pos += 1;
        loop {
            self.scan(|b| b == b'"');
            if self.at_end() {
                return Err(JsvError::new("unterminated quoted string".into(), open));
            }
            self.pos += 1;
            if !self.eat(b'"') {
                return Ok(self.slice(open + 1, self.pos - 1).replace("\"\"", "\""));
            }
        }
    }

    fn enter(&mut self) -> Result<usize, JsvError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error("nesting deeper than 64 levels"));
        }
        self.pos += 1;
        Ok(self.pos - 1)
    }

    /// After an item of the object or list opened at `open`: `Ok(true)` at its `close`,
    /// `Ok(false)` after a `,`.
    fn separator(&mut self, close: u8, open: usize, what: &str) -> Result<bool, JsvError> {
        self.skip_ws();
        if self.eat(close) {
            self.depth -= 1;
            Ok(true)
        } else if self.eat(b',') {
            Ok(false)
        } else if self.at_end() {
            Err(JsvError::new(format!("unterminated {what}"), open))
        } else {
            Err(self.error(&format!(
                "expected ',' or '{}' in {what}",
                char::from(close)
            )))
        }
    }

    fn object(&mut self) -> Result<Value, JsvError> {
        let open = self.enter()?;
        let mut members = Map::new();
        loop {
            self.skip_ws();
            if self.eat(b'}') {
                self.depth -= 1;
                return Ok(Value::Object(members));
            }
            let key = match self.peek() {
                Some(b'"') => self.quoted()?,
                _ => self
                    .scan(|b| matches!(b, b':' | b',' | b'}'))
                    .trim_matches(is_ws)
                    .into(),
            };
            self.skip_ws();
            if self.at_end() {
                return Err(JsvError::new("unterminated object".into(), open));
            }
            if !self.eat(b':') {
                return Err(self.error("expected ':' after a member name"));
            }
            members.insert(key, self.value(Ctx::Object)?);
            if self.separator(b'}', open, "object")? {
                return Ok(Value::Object(members));
            }
        }
    }

    fn list(&mut self) -> Result<Value, JsvError> {
        let open = self.enter()?;
        let mut items = Vec::new();
        self.skip_ws();
        if self.eat(b']') {
            self.depth -= 1;
            return Ok(Value::Array(items));
        }
        loop {
            items.push(self.value(Ctx::List)?);
            if self.separator(b']', open, "list")? {
                return Ok(Value::Array(items));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use uuid::Uuid;

    fn obj(members: Vec<(&'static str, Node)>) -> Node {
        Node::Object {
            type_name: "T",
            members,
        }
    }

    fn s(text: &str) -> Node {
        Node::Str(text.into())
    }

    #[test]
    fn writes_the_composed_example_exactly() {
        let node = obj(vec![
            ("Id", Node::Int(7)),
            ("Name", s("Ann O'Neil")),
            ("Note", s("says \"hi\", then leaves")),
            ("Active", Node::Bool(true)),
            // A .NET decimal keeps its scale; Node has no decimal, so it arrives as text.
            ("Balance", s("12.50")),
            (
                "Key",
                Node::Guid(Uuid::from_u128(0x3f25_04e0_4f89_41d3_9a0c_0305_e82c_3301)),
            ),
            ("Created", Node::Date(1_709_649_000_000)),
            ("Closed", Node::Null),
            ("Tags", Node::List(vec![s("a"), s("b,c")])),
            ("Counts", Node::Map(vec![("x".into(), Node::Int(1))])),
            (
                "Home",
                obj(vec![("Street", s("1 Main St")), ("City", s("Springfield"))]),
            ),
            ("Empty", Node::List(vec![])),
        ]);
        let expected = r#"{Id:7,Name:Ann O'Neil,Note:"says ""hi"", then leaves",Active:True,Balance:12.50,Key:3f2504e04f8941d39a0c0305e82c3301,Created:2024-03-05T14:30:00Z,Tags:[a,"b,c"],Counts:{x:1},Home:{Street:1 Main St,City:Springfield},Empty:[]}"#;
        assert_eq!(write(&node, Casing::Pascal), expected);
    }

    #[test]
    fn quoting_rules() {
        for (text, written) in [
            ("plain text", "plain text"),
            ("tab\tinside 'x' = é", "tab\tinside 'x' = é"),
            ("", r#""""#),
            ("a\"b", r#""a""b""#),
            ("a:b", r#""a:b""#),
            ("a,b", r#""a,b""#),
            ("{", r#""{""#),
            ("}", r#""}""#),
            ("[", r#""[""#),
            ("]", r#""]""#),
            ("a\rb", "\"a\rb\""),
            ("a\nb", "\"a\nb\""),
            (" lead", r#"" lead""#),
            ("trail\t", "\"trail\t\""),
        ] {
            assert_eq!(write(&s(text), Casing::Pascal), written, "{text:?}");
        }
    }

    #[test]
    fn scalars_and_dates() {
        let w = |n: Node| write(&n, Casing::Pascal);
        assert_eq!(w(Node::Bool(false)), "False");
        assert_eq!(w(Node::Int(-42)), "-42");
        assert_eq!(w(Node::UInt(u64::MAX)), "18446744073709551615");
        assert_eq!(w(Node::Float(0.1)), "0.1");
        assert_eq!(w(Node::Float(12.0)), "12");
        assert_eq!(w(Node::Float(1e20)), "1E+20");
        assert_eq!(w(Node::Float(1e-5)), "1E-05");
        assert_eq!(w(Node::Float(0.0001)), "0.0001");
        assert_eq!(
            w(Node::Guid(Uuid::nil())),
            "00000000000000000000000000000000"
        );
        assert_eq!(w(Node::Date(-62_135_596_800_000)), "0001-01-01");
        assert_eq!(w(Node::Date(1_709_596_800_000)), "2024-03-05");
        assert_eq!(w(Node::Date(1_709_649_005_000)), "2024-03-05T14:30:05Z");
        assert_eq!(
            w(Node::Date(1_709_649_005_123)),
            "2024-03-05T14:30:05.1230000Z"
        );
    }

    #[test]
    fn camel_case_nulls_and_maps() {
        let node = obj(vec![
            ("CustomerLinkUID", Node::Int(1)),
            ("Missing", Node::Null),
            ("Items", Node::List(vec![s("a"), Node::Null, s("c")])),
            (
                "Meta",
                Node::Map(vec![
                    ("KeepCase".into(), s("v")),
                    ("gone".into(), Node::Null),
                    ("a:b".into(), Node::Int(2)),
                    ("".into(), s("e")),
                ]),
            ),
        ]);
        assert_eq!(
            write(&node, Casing::Camel),
            r#"{customerLinkUID:1,items:[a,,c],meta:{KeepCase:v,"a:b":2,"":e}}"#
        );
        assert_eq!(write(&obj(vec![("A", Node::Null)]), Casing::Pascal), "{}");
    }

    #[test]
    fn reads_compact_form() {
        let text = r#"{Id:7,Name:Ann O'Neil,Note:"says ""hi"", then leaves",Tags:[a,"b,c",,],Home:{City:Springfield},Empty:[],Gone:}"#;
        let expected = json!({
            "Id": "7", "Name": "Ann O'Neil", "Note": "says \"hi\", then leaves",
            "Tags": ["a", "b,c", null, null], "Home": {"City": "Springfield"}, "Empty": [], "Gone": null,
        });
        assert_eq!(parse(text), Ok(expected));
    }

    /// Verbatim from /work/shared/seed/customerlink-create-dtos.txt (the seed stores it without
    /// indentation).
    const SEED_REQUEST: &str = "{
ResourceType: String,
ResourceUid: 00000000000000000000000000000000,
RecipientContactId: 0,
RecipientEmail: String,
RecipientPhone: String,
DeliverEmail: False,
DeliverSms: False,
ExpiresInHours: 0,
MaxViews: 0
}
";

    #[test]
    fn reads_the_seed_sample() {
        let expected = json!({
            "ResourceType": "String", "ResourceUid": "00000000000000000000000000000000",
            "RecipientContactId": "0", "RecipientEmail": "String", "RecipientPhone": "String",
            "DeliverEmail": "False", "DeliverSms": "False", "ExpiresInHours": "0", "MaxViews": "0",
        });
        assert_eq!(parse(SEED_REQUEST), Ok(expected));
    }

    #[test]
    fn reads_pretty_printed_nesting() {
        let text = "\u{FEFF} {\r\n\tStatus: \r\n\t{\r\n\t\tErrors: \r\n\t\t[\r\n\t\t\t{\r\n\t\t\t\tCode: X\r\n\t\t\t}\r\n\t\t],\r\n\t\t\"Quoted Key\" : \" kept \" ,\r\n\t\tN:\t1\r\n\t}\r\n}\r\n";
        assert_eq!(
            parse(text),
            Ok(json!({"Status": {"Errors": [{"Code": "X"}], "Quoted Key": " kept ", "N": "1"}}))
        );
    }

    #[test]
    fn quoted_strings_are_kept_exactly() {
        let text = r#"{A:"a,b",B:"say ""hi""",C:" padded ",D:"",E: raw  value ,F:"{[:]}"}"#;
        let expected = json!({
            "A": "a,b", "B": "say \"hi\"", "C": " padded ", "D": "", "E": "raw  value", "F": "{[:]}",
        });
        assert_eq!(parse(text), Ok(expected));
    }

    #[test]
    fn parse_value_reads_any_value() {
        assert_eq!(parse_value("1,2,3"), Ok(json!(["1", "2", "3"])));
        assert_eq!(parse_value(" a , \"b,c\" ,"), Ok(json!(["a", "b,c", null])));
        assert_eq!(parse_value("[1,2]"), Ok(json!(["1", "2"])));
        assert_eq!(parse_value("{A:1}"), Ok(json!({"A": "1"})));
        assert_eq!(parse_value("a}b"), Ok(json!("a}b")));
        assert_eq!(parse_value("\"x\""), Ok(json!("x")));
        assert_eq!(parse_value(""), Ok(Value::Null));
        assert!(parse_value("[1").is_err());
        assert!(parse_value("{A:1}x").is_err());
    }

    #[test]
    fn structural_errors_are_errors() {
        #[rustfmt::skip]
        let bad_inputs = [
            "", "   ", "A:1", "[1,2]", "\"x\"", " x{A:1}", "{A:\"unterminated}", "{A:1", "{A:{B:1}",
            "{A:[1,2}", "{A:1}x", "{A:1}}", "{A}", "{A:\"x\"y}", "{\"A\"", "{A:[1,2]x}",
        ];
        for bad in bad_inputs {
            let result = parse(bad);
            assert!(result.is_err(), "{bad:?} gave {result:?}");
        }
        let err = parse("{A:\"open}").err();
        assert_eq!(err.map(|e| e.offset), Some(3));
    }

    #[test]
    fn deep_nesting_is_refused() {
        let ok = format!("{}{}", "{A:".repeat(64), "}".repeat(64));
        assert!(parse(&ok).is_ok());
        let deep = format!("{}{}", "{A:".repeat(65), "}".repeat(65));
        assert!(parse(&deep).is_err());
        let very_deep = format!("{}{}", "{A:".repeat(1000), "}".repeat(1000));
        assert!(parse(&very_deep).is_err());
        assert!(parse_value(&"[".repeat(1000)).is_err());
    }

    /// Stands in for a property test (no `proptest` here). Strings with leading/trailing
    /// blanks only survive because `write` quotes them: `parse` trims raw values.
    #[test]
    fn strings_round_trip_exactly() {
        #[rustfmt::skip]
        let texts = [
            "", " ", "\t", "a", "a b", " padded ", "a,b", "say \"hi\"", "\"", "\"\"", "k:v", "{x}",
            "[1]", "}", "]", "line\nbreak", "\r\n", "null", "True", "0001-01-01", "héllo ✓",
            "\u{FEFF}bom", "\u{A0}nbsp\u{A0}", "'quoted'", "a=b&c", "  \"  ",
        ];
        for text in texts {
            let written = write(&obj(vec![("S", s(text))]), Casing::Pascal);
            assert_eq!(parse(&written), Ok(json!({ "S": text })), "{written:?}");
        }
    }
}
