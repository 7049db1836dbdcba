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
/// dictionary values omitted, names via `casing`, dictionary keys never re-cased. A null list
/// element is an empty slot (§1.6), so a list holding only a null reads back as `[]`.
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
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid JSV at offset {offset}: {message}")]
pub struct JsvError {
    pub message: String,
    pub offset: usize,
}

impl JsvError {
    fn new(message: String, offset: usize) -> Self {
        JsvError { message, offset }
    }
}

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
mod tests;
