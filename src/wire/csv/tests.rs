//! Tests of the CSV writer and of [`Shape::of`]. Expected bytes follow `T/CsvWriter.cs`:
//! header row of member names, `\r\n` row ends, `ToCsvField` quoting, `True`/`False`.
#![allow(non_snake_case)]

use schemars::JsonSchema;
use serde::Serialize;
use uuid::Uuid;

use super::*;
use crate::wire::types::{Guid, UtcDateTime};

fn obj(type_name: &'static str, members: Vec<(&'static str, Node)>) -> Node {
    Node::Object { type_name, members }
}

fn s(text: &str) -> Node {
    Node::Str(text.to_owned())
}

fn named(names: &[&str]) -> Columns {
    Columns::Named(names.iter().map(|n| (*n).to_owned()).collect())
}

const LINK_COLUMNS: [&str; 7] = [
    "Status",
    "CustomerLinkId",
    "CustomerLinkUID",
    "RequireOtp",
    "CreatedAtUtc",
    "RevokedAtUtc",
    "Note",
];

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

fn list_response(links: Vec<Node>) -> Node {
    obj(
        "CustomerLinkListResponse",
        vec![
            ("ResponseStatus", Node::Null),
            ("Links", Node::List(links)),
            ("Total", Node::UInt(2)),
        ],
    )
}

fn links_shape() -> Shape {
    Shape::ListMember("Links".into(), named(&LINK_COLUMNS))
}

#[test]
fn writes_a_list_response_with_header_quoting_and_crlf() {
    let response = list_response(vec![
        link(1, "Active", s("say \"hi\", then\nleave")),
        link(2, "Revoked", s("[not a list")),
    ]);
    assert_eq!(
        write(&response, &links_shape()),
        "Status,CustomerLinkId,CustomerLinkUID,RequireOtp,CreatedAtUtc,RevokedAtUtc,Note\r\n\
         Active,1,000000000000000000000000000000ab,True,2024-03-05T14:30:00Z,,\"say \"\"hi\"\", then\nleave\"\r\n\
         Revoked,2,000000000000000000000000000000ab,False,2024-03-05T14:30:00Z,,\"[not a list\"\r\n"
    );
}

/// `CsvWriter<T>.Write` writes the header before looking at the records.
#[test]
fn an_empty_list_writes_the_header_row_and_a_null_list_nothing() {
    assert_eq!(
        write(&list_response(vec![]), &links_shape()),
        "Status,CustomerLinkId,CustomerLinkUID,RequireOtp,CreatedAtUtc,RevokedAtUtc,Note\r\n"
    );
    let null_list = obj(
        "CustomerLinkResponse",
        vec![
            ("Link", link(1, "Active", Node::Null)),
            ("Deliveries", Node::Null),
        ],
    );
    let shape = Shape::ListMember("Deliveries".into(), named(&["DeliveryId"]));
    assert_eq!(write(&null_list, &shape), "");
}

/// Columns come from the type: a member null (or absent) in the first record keeps its column.
#[test]
fn columns_come_from_the_type_not_the_first_record() {
    let sparse = obj("CustomerLinkExtended", vec![("Status", s("Active"))]);
    let full = link(2, "Revoked", s("n"));
    assert_eq!(
        write(&list_response(vec![sparse, full]), &links_shape()),
        "Status,CustomerLinkId,CustomerLinkUID,RequireOtp,CreatedAtUtc,RevokedAtUtc,Note\r\n\
         Active,,,,,,\r\n\
         Revoked,2,000000000000000000000000000000ab,False,2024-03-05T14:30:00Z,,n\r\n"
    );
}

/// `CsvWriter<string>` writes a `List<string>` as one header-less row (`WriteRow`), so an
/// empty one is a bare row end.
#[test]
fn a_scalar_list_is_one_row_and_an_empty_one_a_bare_row_end() {
    let response = |errors: Vec<Node>| {
        obj(
            "CustomerLinkCreateResponse",
            vec![
                ("ResponseStatus", Node::Null),
                ("Link", link(1, "Active", Node::Null)),
                ("PortalUrl", s("https://x/p/t")),
                ("DeliveryErrors", Node::List(errors)),
            ],
        )
    };
    let shape = Shape::ListMember("DeliveryErrors".into(), Columns::Scalars);
    assert_eq!(
        write(&response(vec![s("sms: no phone"), s("a,b")]), &shape),
        "sms: no phone,\"a,b\"\r\n"
    );
    assert_eq!(write(&response(vec![]), &shape), "\r\n");
}

#[test]
fn a_single_record_or_the_dto_itself_is_one_row() {
    let response = obj(
        "ContactResponse",
        vec![
            ("ResponseStatus", Node::Null),
            ("Contact", link(7, "Active", Node::Null)),
        ],
    );
    let shape = Shape::ObjectMember("Contact".into(), named(&LINK_COLUMNS));
    assert_eq!(
        write(&response, &shape),
        "Status,CustomerLinkId,CustomerLinkUID,RequireOtp,CreatedAtUtc,RevokedAtUtc,Note\r\n\
         Active,7,000000000000000000000000000000ab,False,2024-03-05T14:30:00Z,,\r\n"
    );
    let bare = obj("EmptyResponse", vec![("ResponseStatus", Node::Null)]);
    let itself = Shape::Itself(named(&["ResponseStatus"]));
    assert_eq!(write(&bare, &itself), "ResponseStatus\r\n\r\n");
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
    let shape = Shape::Items(named(&["Tags", "Meta", "Home", "Ratio"]));
    assert_eq!(
        write(&Node::List(vec![nested]), &shape),
        "Tags,Meta,Home,Ratio\r\n\"[a,\"\"b,c\"\"]\",\"{k:v}\",\"{City:X}\",0.5\r\n"
    );
}

#[test]
fn formula_text_is_neutralised_but_numbers_are_not() {
    let cells = [
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
    ];
    let names: Vec<&str> = cells.iter().map(|(n, _)| *n).collect();
    let row = obj("Row", cells.to_vec());
    let body = write(&Node::List(vec![row]), &Shape::Items(named(&names)));
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

// Types shaped like the service's DTOs, for `Shape::of`.

#[derive(Serialize, JsonSchema)]
struct Status {
    ErrorCode: String,
}

#[derive(Serialize, JsonSchema)]
struct Rec {
    /// A documented member, to show doc comments do not hide a type.
    Id: u64,
    Uid: Guid,
    When: UtcDateTime,
    Gone: Option<UtcDateTime>,
    Name: Option<String>,
}

#[derive(Serialize, JsonSchema)]
struct Delivery {
    DeliveryId: u64,
    LastError: Option<String>,
}

#[derive(Serialize, JsonSchema)]
struct ListResp {
    ResponseStatus: Option<Status>,
    Links: Vec<Rec>,
    Total: Option<u64>,
}

#[derive(Serialize, JsonSchema)]
struct CreateResp {
    ResponseStatus: Option<Status>,
    Link: Rec,
    PortalUrl: String,
    DeliveryErrors: Vec<String>,
}

#[derive(Serialize, JsonSchema)]
struct OneResp {
    ResponseStatus: Option<Status>,
    /// The record.
    Link: Rec,
    Deliveries: Option<Vec<Delivery>>,
}

#[derive(Serialize, JsonSchema)]
struct ContactResp {
    ResponseStatus: Option<Status>,
    Contact: Option<Rec>,
}

#[derive(Serialize, JsonSchema)]
struct Scalars {
    ResponseStatus: Option<Status>,
    Valid: bool,
    Name: String,
}

/// `GetWriteFn`: `ResponseStatus`, strings and value types are passed over; a list member
/// wins over an earlier DTO member; with neither, the DTO itself (all members) is the row.
#[test]
fn the_shape_follows_the_type() {
    let rec = named(&["Id", "Uid", "When", "Gone", "Name"]);
    assert_eq!(
        Shape::of::<ListResp>(),
        Shape::ListMember("Links".into(), rec.clone())
    );
    assert_eq!(
        Shape::of::<CreateResp>(),
        Shape::ListMember("DeliveryErrors".into(), Columns::Scalars)
    );
    assert_eq!(
        Shape::of::<OneResp>(),
        Shape::ListMember("Deliveries".into(), named(&["DeliveryId", "LastError"]))
    );
    assert_eq!(
        Shape::of::<ContactResp>(),
        Shape::ObjectMember("Contact".into(), rec.clone())
    );
    assert_eq!(
        Shape::of::<Scalars>(),
        Shape::Itself(named(&["ResponseStatus", "Valid", "Name"]))
    );
    assert_eq!(Shape::of::<Vec<Rec>>(), Shape::Items(rec));
}
