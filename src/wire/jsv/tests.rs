//! Tests of the JSV reader and writer.
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
