//! CSV responses as ServiceStack's `CsvSerializer` writes them (servicestack-wire.md §3.2;
//! `T/CsvSerializer.cs`, `T/CsvWriter.cs`): `text/csv`, the body being the response DTO's
//! records, a header row of member names, CRLF row ends, and each field quoted only when it
//! must be. Values that are not strings, integers or booleans are written as JSV (§1.2) —
//! that is how ServiceStack puts dates, Guids and nested objects in a cell.
//!
//! Which records: a list DTO writes itself; a response DTO writes its first list member other
//! than `ResponseStatus`, or failing that its first object member as a single row, or failing
//! that itself as a single row (see [`Node::rows`]). A list of scalars (e.g. `DeliveryErrors`) is
//! written as ServiceStack writes a `List<string>`: one header-less row of fields. An empty list
//! writes nothing (ServiceStack would write the item type's header row, which a `Node` cannot
//! know).
//!
//! Deliberate difference: text cells that a spreadsheet would run as a formula (starting with
//! `=`, `+`, `-`, `@`, tab or CR) are prefixed with `'` (OWASP "CSV injection"), since some of
//! that text — a contact's name, a visitor's User-Agent — comes from outside. Numbers written
//! from numeric members, and text that is a plain decimal number (`-5`, `+4512345678`), stay
//! as they are: a spreadsheet reads them as numbers, never as formulas.

use super::casing::Casing;
use super::jsv;
use super::node::Node;

const ROW_END: &str = "\r\n";

/// Renders `node` as CSV.
pub fn write(node: &Node) -> String {
    let records = node.rows();
    let mut out = String::new();
    match records.iter().find(|r| !matches!(r, Node::Null)) {
        None => {}
        Some(Node::Object { members, .. }) => {
            let names: Vec<&str> = members.iter().map(|(name, _)| *name).collect();
            out.push_str(&names.join(","));
            out.push_str(ROW_END);
            for record in &records {
                write_record(&mut out, &names, record);
            }
        }
        Some(_) => {
            let fields: Vec<String> = records.iter().map(|r| field(r)).collect();
            out.push_str(&fields.join(","));
            out.push_str(ROW_END);
        }
    }
    out
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

/// One row: each of the header's members, looked up by name (an absent one is empty).
fn write_record(out: &mut String, names: &[&str], record: &Node) {
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
mod tests {
    use super::*;
    use uuid::Uuid;

    fn obj(type_name: &'static str, members: Vec<(&'static str, Node)>) -> Node {
        Node::Object { type_name, members }
    }

    fn s(text: &str) -> Node {
        Node::Str(text.to_owned())
    }

    fn link(id: i64, status: &str, note: Node) -> Node {
        obj(
            "CustomerLinkExtended",
            vec![
                ("Status", s(status)),
                ("CustomerLinkId", Node::Int(id)),
                ("CustomerLinkUID", Node::Guid(Uuid::from_u128(0xab))),
                ("RequireOtp", Node::Bool(id == 1)),
                ("CreatedAtUtc", Node::Date(1_709_649_000_000)),
                ("RevokedAtUtc", Node::Null),
                ("Note", note),
            ],
        )
    }

    #[test]
    fn writes_a_list_response_with_header_quoting_and_crlf() {
        let response = obj(
            "CustomerLinkListResponse",
            vec![
                ("ResponseStatus", Node::Null),
                (
                    "Links",
                    Node::List(vec![
                        link(1, "Active", s("say \"hi\", then\nleave")),
                        link(2, "Revoked", s("[not a list")),
                    ]),
                ),
                ("Total", Node::UInt(2)),
            ],
        );
        assert_eq!(
            write(&response),
            "Status,CustomerLinkId,CustomerLinkUID,RequireOtp,CreatedAtUtc,RevokedAtUtc,Note\r\n\
             Active,1,000000000000000000000000000000ab,True,2024-03-05T14:30:00Z,,\"say \"\"hi\"\", then\nleave\"\r\n\
             Revoked,2,000000000000000000000000000000ab,False,2024-03-05T14:30:00Z,,\"[not a list\"\r\n"
        );
    }

    #[test]
    fn writes_a_single_object_as_one_row() {
        let response = obj(
            "CustomerLinkResponse",
            vec![
                ("ResponseStatus", Node::Null),
                ("Link", link(7, "Active", Node::Null)),
            ],
        );
        let body = write(&response);
        assert!(body.starts_with("Status,CustomerLinkId,"), "{body}");
        assert!(body.ends_with("2024-03-05T14:30:00Z,,\r\n"), "{body}");
        assert_eq!(body.matches("\r\n").count(), 2);
        let bare = obj("EmptyResponse", vec![("ResponseStatus", Node::Null)]);
        assert_eq!(write(&bare), "ResponseStatus\r\n\r\n");
    }

    #[test]
    fn nested_values_are_jsv_encoded() {
        let nested = obj(
            "Row",
            vec![
                ("Tags", Node::List(vec![s("a"), s("b,c")])),
                ("Meta", Node::Map(vec![("k".into(), s("v"))])),
                (
                    "Home",
                    obj("Address", vec![("City", s("X")), ("Zip", Node::Null)]),
                ),
                ("Ratio", Node::Float(0.5)),
            ],
        );
        let body = write(&Node::List(vec![nested]));
        assert_eq!(
            body,
            "Tags,Meta,Home,Ratio\r\n\"[a,\"\"b,c\"\"]\",\"{k:v}\",\"{City:X}\",0.5\r\n"
        );
    }

    #[test]
    fn scalar_lists_are_one_row_and_empty_lists_nothing() {
        let response = obj(
            "CustomerLinkCreateResponse",
            vec![
                ("ResponseStatus", Node::Null),
                ("Link", link(1, "Active", Node::Null)),
                (
                    "DeliveryErrors",
                    Node::List(vec![s("sms: no phone"), s("a,b")]),
                ),
            ],
        );
        assert_eq!(write(&response), "sms: no phone,\"a,b\"\r\n");
        assert_eq!(write(&Node::List(vec![])), "");
    }

    #[test]
    fn formula_text_is_neutralised_but_numbers_are_not() {
        let row = obj(
            "Row",
            vec![
                ("Name", s("=HYPERLINK(\"http://x\",\"y\")")),
                ("Agent", s("@SUM(1)")),
                ("Plus", s("+cmd|' /C calc'!A0")),
                ("Tab", s("\t=1")),
                ("Cr", s("\r=1")),
                ("Minus", s("-2+3")),
                ("Neg", s("-5")),
                ("Phone", s("+4512345678")),
                ("Dec", s("-0.5")),
                ("Int", Node::Int(-5)),
                ("Plain", s("a=b")),
            ],
        );
        let body = write(&Node::List(vec![row]));
        let cells = body.split_once("\r\n").map(|(_, r)| r).unwrap_or_default();
        assert_eq!(
            cells,
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",'@SUM(1),'+cmd|' /C calc'!A0,'\t=1,\
             \"'\r=1\",'-2+3,-5,+4512345678,-0.5,-5,a=b\r\n"
        );
    }

    #[test]
    fn content_disposition_names_the_operation() {
        assert_eq!(
            content_disposition("CustomerLinkListRequest"),
            "attachment;filename=\"CustomerLinkListRequest.csv\""
        );
        assert_eq!(
            content_disposition("a\"b\r\n"),
            "attachment;filename=\"a_b__.csv\""
        );
    }
}
