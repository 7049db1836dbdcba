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
        // `EncodeJsv` never quotes for edge blanks.
        (" lead", " lead"),
        ("trail\t", "trail\t"),
        (" ", " "),
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
        "A": "a,b", "B": "say \"hi\"", "C": " padded ", "D": "", "E": " raw  value ", "F": "{[:]}",
    });
    assert_eq!(parse(text), Ok(expected));
}

/// What `JsvServiceClient` sends for edge blanks (issue 11 item 4): ServiceStack's writer
/// writes them unquoted and its reader keeps them, so ours does too.
#[test]
fn edge_blanks_on_one_line_are_kept() {
    let text = "{FirstName:Bo ,LastName: Li,Name:\t,Blank: ,Tags:[ a,b ,  ], Key :v}";
    let expected = json!({
        "FirstName": "Bo ", "LastName": " Li", "Name": "\t", "Blank": " ",
        "Tags": [" a", "b ", "  "], "Key": "v",
    });
    assert_eq!(parse(text), Ok(expected));
    assert_eq!(parse("{Name: Bob}"), Ok(json!({"Name": " Bob"})));
    assert_eq!(parse("{A:[ ],B:[]}"), Ok(json!({"A": [" "], "B": []})));
    assert_eq!(parse_value(" a, b "), Ok(json!([" a", " b "])));
}

/// Whitespace holding a line break is layout wherever it is: the writer quotes CR and LF.
#[test]
fn line_breaks_are_layout() {
    let text = "{A:x\n,B: \r\n y ,C:\n,D:[\n],E:[a,\n\tb\n],F: z \n}";
    let expected = json!({
        "A": "x", "B": "y ", "C": null, "D": [], "E": ["a", "b"], "F": " z",
    });
    assert_eq!(parse(text), Ok(expected));
}

#[test]
fn parse_value_reads_any_value() {
    assert_eq!(parse_value("1,2,3"), Ok(json!(["1", "2", "3"])));
    assert_eq!(
        parse_value(" a , \"b,c\" ,"),
        Ok(json!([" a ", "b,c", null]))
    );
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

/// Hand-picked strings; [`every_written_string_round_trips`] covers random ones.
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

/// `JsvFormatter.Format` (`T/JsvFormatter.cs`), the pretty printer behind the metadata pages'
/// samples and `?debug`: a line break and tabs after `{`/`[` and after an unquoted `,`, a line
/// break and tabs before `}`/`]`, one space after a member's first `:`, a line break before a
/// non-empty nested `{`/`[` value (`{}`/`[]` stay as they are). `newline` is
/// `Environment.NewLine`.
fn pretty(compact: &str, newline: &str) -> String {
    let chars: Vec<char> = compact.chars().collect();
    let tab_line = |out: &mut String, tabs: usize| {
        out.push_str(newline);
        out.extend(std::iter::repeat_n('\t', tabs));
    };
    let (mut out, mut tabs, mut first_colon, mut in_string) = (String::new(), 0usize, true, false);
    let mut i = 0;
    while i < chars.len() {
        let (c, prev, next) = (
            chars[i],
            i.checked_sub(1).map(|p| chars[p]),
            chars.get(i + 1).copied(),
        );
        if c == '{' || c == '[' {
            if prev == Some(':') {
                if matches!(next, Some('}' | ']')) {
                    out.push(c);
                    out.push(chars[i + 1]);
                    i += 2;
                    continue;
                }
                tab_line(&mut out, tabs);
            }
            out.push(c);
            tabs += 1;
            tab_line(&mut out, tabs);
            first_colon = true;
        } else if c == '}' || c == ']' {
            tabs = tabs.saturating_sub(1);
            tab_line(&mut out, tabs);
            out.push(c);
            first_colon = true;
        } else if c == '"' {
            out.push(c);
            in_string = !in_string;
        } else if c == ',' && !in_string {
            out.push(c);
            tab_line(&mut out, tabs);
            first_colon = true;
        } else {
            out.push(c);
            if c == ':' && first_colon {
                out.push(' ');
                first_colon = false;
            }
        }
        i += 1;
    }
    out
}

#[test]
fn the_pretty_printer_port_matches_the_seed_layout() {
    let compact =
        "{ResourceType:String,MaxViews:0,Meta:{String:String},Empty:[],Errors:[{Code:X}]}";
    assert_eq!(
        pretty(compact, "\n"),
        "{\n\tResourceType: String,\n\tMaxViews: 0,\n\tMeta: \n\t{\n\t\tString: String\n\t},\
         \n\tEmpty: [],\n\tErrors: \n\t[\n\t\t{\n\t\t\tCode: X\n\t\t}\n\t]\n}"
    );
}

/// The pretty form of what the writer writes reads back as the compact form does, except
/// that the edge blanks of unquoted strings are layout there (quote them to keep them).
#[test]
fn pretty_printed_replies_read_back() {
    let node = obj(vec![
        ("Name", s("Ann O'Neil")),
        ("Padded", s(" x ")),
        ("Note", s("a, b: c")),
        ("Active", Node::Bool(true)),
        ("Tags", Node::List(vec![s("a"), s("b,c"), s(" d")])),
        (
            "Home",
            obj(vec![("City", s("Springfield")), ("Zip", Node::Int(5))]),
        ),
        ("Empty", Node::List(vec![])),
        ("Last", s("end")),
    ]);
    let compact = write(&node, Casing::Pascal);
    let expected = json!({
        "Name": "Ann O'Neil", "Padded": "x", "Note": "a, b: c", "Active": "True",
        "Tags": ["a", "b,c", "d"], "Home": {"City": "Springfield", "Zip": "5"}, "Empty": [],
        "Last": "end",
    });
    for newline in ["\n", "\r\n"] {
        assert_eq!(
            parse(&pretty(&compact, newline)),
            Ok(expected.clone()),
            "{newline:?}"
        );
    }
}

/// A small xorshift generator, so the property tests need no extra crate and are repeatable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap()
    }

    /// A string drawn mostly from the characters that matter to JSV: the 9 escape chars,
    /// blanks, quotes, BOM/NBSP and a few letters.
    fn string(&mut self) -> String {
        const ALPHABET: [char; 22] = [
            '"', ':', ',', '{', '}', '[', ']', '\r', '\n', ' ', ' ', '\t', 'a', 'b', 'Z', '0',
            '\'', '=', '\u{FEFF}', '\u{A0}', 'é', '✓',
        ];
        let len = self.below(9);
        (0..len)
            .map(|_| ALPHABET[self.below(ALPHABET.len())])
            .collect()
    }
}

/// Property: every string ServiceStack's writer would write — as a member, as a list item,
/// alone or among others — reads back exactly (issue 11 item 4).
#[test]
fn every_written_string_round_trips() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..20_000 {
        let (a, b, c) = (rng.string(), rng.string(), rng.string());
        let node = obj(vec![
            ("A", s(&a)),
            ("L", Node::List(vec![s(&b), s(&c)])),
            ("N", obj(vec![("B", s(&b))])),
            ("C", s(&c)),
        ]);
        let written = write(&node, Casing::Pascal);
        let expected = json!({"A": a, "L": [b, c], "N": {"B": b}, "C": c});
        assert_eq!(parse(&written), Ok(expected), "{written:?}");
        let alone = write(&Node::List(vec![s(&a)]), Casing::Pascal);
        assert_eq!(parse_value(&alone), Ok(json!([a])), "{alone:?}");
    }
}
