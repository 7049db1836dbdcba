//! CSV responses as ServiceStack's `CsvSerializer` writes them (servicestack-wire.md §3.2;
//! `T/CsvSerializer.cs`, `T/CsvWriter.cs`): `text/csv`, a header row of member names, CRLF row
//! ends, and each field quoted only when it must be. Values that are not strings, integers or
//! booleans are written as JSV (§1.2) — that is how ServiceStack puts dates, Guids and nested
//! objects in a cell.
//!
//! Which records, and which columns, come from the response *type* ([`Shape`]), as ServiceStack
//! writes a `[DataContract]` DTO: its first list member other than `ResponseStatus`, else its
//! first DTO-typed member as one row, else itself as one row. Columns are the record type's
//! members, so an empty list still writes its header row and a member that is null in every
//! row keeps its column. A list of scalars (e.g. `DeliveryErrors`) is one header-less row, so
//! an empty one is just `\r\n`; a null list writes nothing.
//!
//! Deliberate difference: text cells that a spreadsheet would run as a formula (starting with
//! `=`, `+`, `-`, `@`, tab or CR) are prefixed with `'` (OWASP "CSV injection"), since some of
//! that text — a contact's name, a visitor's User-Agent — comes from outside. Numbers written
//! from numeric members, and text that is a plain decimal number (`-5`, `+4512345678`), stay
//! as they are: a spreadsheet reads them as numbers, never as formulas.

mod shape;

pub use shape::{Columns, Shape};

use super::casing::Casing;
use super::jsv;
use super::node::Node;

const ROW_END: &str = "\r\n";

/// Renders `node`, a response of the type `shape` was taken from, as CSV.
pub fn write(node: &Node, shape: &Shape) -> String {
    let mut out = String::new();
    match shape {
        Shape::Items(columns) => {
            if let Node::List(items) = node {
                write_records(&mut out, items, columns);
            }
        }
        Shape::ListMember(name, columns) => {
            if let Some(Node::List(items)) = member(node, name) {
                write_records(&mut out, items, columns);
            }
        }
        Shape::ObjectMember(name, columns) => {
            let record = member(node, name).unwrap_or(&Node::Null);
            write_records(&mut out, std::slice::from_ref(record), columns);
        }
        Shape::Itself(columns) => write_records(&mut out, std::slice::from_ref(node), columns),
    }
    out
}

fn member<'a>(node: &'a Node, name: &str) -> Option<&'a Node> {
    match node {
        Node::Object { members, .. } => members.iter().find(|(n, _)| *n == name).map(|(_, v)| v),
        _ => None,
    }
}

/// `CsvWriter<T>.Write`: the header (when the type has members), then one row per record; or
/// for scalars `WriteRow`: every item in one row, which is a bare row end when there are none.
fn write_records(out: &mut String, records: &[Node], columns: &Columns) {
    match columns {
        Columns::Scalars => {
            let fields: Vec<String> = records.iter().map(field).collect();
            out.push_str(&fields.join(","));
            out.push_str(ROW_END);
        }
        Columns::Named(names) => {
            if !names.is_empty() {
                out.push_str(&names.join(","));
                out.push_str(ROW_END);
            }
            for record in records {
                write_record(out, names, record);
            }
        }
    }
}

/// `Content-Disposition` for a CSV response of `operation` (`S/Formats/CsvFormat.cs`).
/// Characters that would break the quoted file name are replaced with `_`.
pub fn content_disposition(operation: &str) -> String {
    let safe: String = operation
        .chars()
        .map(|c| match c {
            '"' | '\\' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect();
    format!("attachment;filename=\"{safe}.csv\"")
}

/// One row: each of the header's members, looked up by name (an absent or null one is empty).
fn write_record(out: &mut String, names: &[String], record: &Node) {
    let members = match record {
        Node::Object { members, .. } => members.as_slice(),
        _ => &[],
    };
    for (i, name) in names.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if let Some((_, value)) = members.iter().find(|(n, _)| n == name) {
            out.push_str(&field(value));
        }
    }
    out.push_str(ROW_END);
}

/// One cell: null empty, strings as they are, `True`/`False`, integers, anything else JSV.
fn field(value: &Node) -> String {
    match value {
        Node::Null => String::new(),
        Node::Str(s) => quote(&neutralise(s)),
        Node::Bool(b) => if *b { "True" } else { "False" }.to_owned(),
        Node::Int(i) => i.to_string(),
        Node::UInt(u) => u.to_string(),
        other => quote(&jsv::write(other, Casing::Pascal)),
    }
}

/// Text a spreadsheet would evaluate gets a leading `'` so it shows as text instead.
fn neutralise(text: &str) -> std::borrow::Cow<'_, str> {
    let risky = text.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && !is_plain_number(text) {
        format!("'{text}").into()
    } else {
        text.into()
    }
}

/// An optional sign, digits, and at most one `.` between digits: read as a number, not run.
fn is_plain_number(text: &str) -> bool {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    let mut parts = digits.splitn(2, '.');
    let whole =
        |p: Option<&str>| p.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    whole(parts.next()) && parts.next().is_none_or(|p| whole(Some(p)))
}

/// `ToCsvField`: quoted, with `"` doubled, iff the text contains `"` `,` CR or LF or starts
/// like a JSV list or object (`[`, `{`).
fn quote(text: &str) -> String {
    let needs_quotes =
        text.contains(['"', ',', '\r', '\n']) || text.starts_with('[') || text.starts_with('{');
    if needs_quotes {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests;
