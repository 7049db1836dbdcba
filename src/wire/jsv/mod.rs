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

/// Whitespace that can be layout (see [`parse`]).
fn is_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// The writer quotes every string holding CR or LF, so an unquoted line break is always layout.
fn is_line_break(c: char) -> bool {
    matches!(c, '\r' | '\n')
}

/// Drops the edge blanks of an unquoted scalar that are layout: all of them when the item
/// starts on its own line, otherwise only a leading or trailing run holding a line break.
fn strip_layout(raw: &str, own_line: bool) -> &str {
    if own_line {
        return raw.trim_matches(is_ws);
    }
    let lead_len = raw.len() - raw.trim_start_matches(is_ws).len();
    let body_end = raw.trim_end_matches(is_ws).len();
    let is_layout = |run: Option<&str>| run.is_some_and(|r| r.contains(is_line_break));
    let from = if is_layout(raw.get(..lead_len)) {
        lead_len
    } else {
        0
    };
    let to = if is_layout(raw.get(body_end..)) {
        body_end
    } else {
        raw.len()
    };
    raw.get(from..to.max(from)).unwrap_or_default()
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

/// Quotes iff ServiceStack's `EncodeJsv` would: empty, or holding one of the 9 escape chars.
/// Edge blanks are written as they are (`Bo `), and [`parse`] keeps them.
fn write_str(out: &mut String, s: &str) {
    let quote = s.is_empty() || s.contains(ESCAPE_CHARS);
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
/// `Value::Object` (keys trimmed, as ServiceStack trims member names), lists `Value::Array`,
/// every scalar `Value::String`, an empty token (`Name:` before `,`/`}`) `Value::Null`.
///
/// Whitespace is read so that both real clients and the metadata pages' pretty-printed samples
/// work (servicestack-wire.md §1.3; `T/JsvFormatter.cs`):
/// - ServiceStack's writer never puts whitespace between tokens and never quotes edge blanks
///   (`{FirstName:Bo ,LastName: Li}`); it quotes every string holding CR or LF. So an item
///   that follows `{`, `[` or `,` on the same line is read exactly as ServiceStack reads it:
///   the value runs from right after `:` (or the separator) to the next `,`/`}`/`]`, blanks
///   kept. `{Name: Bob}` on one line is `" Bob"`, as in ServiceStack — a real client writes
///   exactly that for `" Bob"`, and the real client wins.
/// - The pretty printer puts every member and list item on its own line, a space after each
///   member's `:` and a line break before a nested `{`/`[` and before each closing bracket.
///   So an item that starts on its own line (a line break before its name) is laid out: the
///   blanks around its unquoted value are layout. Quote a value to keep its edge blanks there.
/// - Any unquoted whitespace run holding a line break is layout wherever it is, and blanks
///   before a value starting with `{`, `[` or `"` are layout (the writer would have quoted a
///   string starting that way).
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
    let first = r.value(Ctx::Top, false)?;
    r.skip_ws();
    if r.at_end() {
        return Ok(first);
    }
    let mut items = vec![first];
    while r.eat(b',') {
        items.push(r.value(Ctx::Top, false)?);
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

    /// Skips whitespace; true when a line break was among it.
    fn skip_ws(&mut self) -> bool {
        let mut line_break = false;
        while let Some(b) = self.peek().filter(|b| is_ws(char::from(*b))) {
            line_break |= is_line_break(char::from(b));
            self.pos += 1;
        }
        line_break
    }

    /// Whether the whitespace from here on holds a line break (nothing is consumed).
    fn line_break_ahead(&self) -> bool {
        self.text
            .get(self.pos..)
            .unwrap_or_default()
            .chars()
            .take_while(|c| is_ws(*c))
            .any(is_line_break)
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

    /// The value starting exactly here (after `:`, `[` or `,`); `own_line` when its item
    /// starts on a line of its own (see [`parse`]).
    fn value(&mut self, ctx: Ctx, own_line: bool) -> Result<Value, JsvError> {
        let start = self.pos;
        self.skip_ws();
        match self.peek() {
            Some(b'{') => self.object(),
            Some(b'[') => self.list(),
            Some(b'"') => self.quoted().map(Value::String),
            _ => {
                self.pos = start;
                let raw = strip_layout(self.scan(|b| ctx.ends_raw(b)), own_line);
                Ok(if raw.is_empty() {
                    Value::Null
                } else {
                    Value::String(raw.to_owned())
                })
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
            let own_line = self.skip_ws();
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
            members.insert(key, self.value(Ctx::Object, own_line)?);
            if self.separator(b'}', open, "object")? {
                return Ok(Value::Object(members));
            }
        }
    }

    /// `[]`, or `[` and whitespace holding a line break before `]`, is empty; `[ ]` holds
    /// one `" "` (that is how the writer writes it).
    fn list(&mut self) -> Result<Value, JsvError> {
        let open = self.enter()?;
        let mut items = Vec::new();
        let start = self.pos;
        let line_break = self.skip_ws();
        if self.peek() == Some(b']') && (line_break || self.pos == start) {
            self.pos += 1;
            self.depth -= 1;
            return Ok(Value::Array(items));
        }
        self.pos = start;
        loop {
            let own_line = self.line_break_ahead();
            items.push(self.value(Ctx::List, own_line)?);
            if self.separator(b']', open, "list")? {
                return Ok(Value::Array(items));
            }
        }
    }
}

#[cfg(test)]
mod tests;
