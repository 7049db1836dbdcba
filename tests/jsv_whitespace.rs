//! JSV request bodies keep what real clients write (issue 11 item 4): ServiceStack's writer
//! never quotes edge blanks, so `JsvServiceClient` sends `FirstName:Bo ` and ServiceStack keeps
//! the space; the metadata pages' pretty-printed samples (servicestack-wire.md §1.3,
//! `T/JsvFormatter.cs`) still bind as meant.

use crate::support::{Resp, TestServer, filled_seed_jsv};

fn send_jsv(s: &TestServer, method: &str, path: &str, body: &str) -> Resp {
    s.req(method, path)
        .header("Content-Type", "application/jsv")
        .header("Accept", "application/jsv")
        .raw_body(body.as_bytes().to_vec())
        .send()
}

/// Exactly what ServiceStack's JSV writer makes of a `Contact` whose names have edge blanks:
/// compact, unquoted (`EncodeJsv` quotes only `"` `:` `,` `{` `}` `[` `]` CR LF and "").
#[test]
fn edge_blanks_from_a_jsv_client_are_kept_and_written_back_unquoted() {
    let s = TestServer::start();
    let body =
        "{ContactId:7,FirstName:Bo ,LastName: Lind,Name:  Bo Lind  ,EmailWork:bo@work.example}";
    let r = send_jsv(&s, "PUT", "/v1/contact/7", body);
    assert_eq!(r.status, 200, "{r:#?}");
    assert!(
        r.body
            .contains(",FirstName:Bo ,LastName: Lind,Name:  Bo Lind  ,EmailWork:bo@work.example,"),
        "the reply writes the blanks back as ServiceStack would: {}",
        r.body
    );
    let stored = s.get("/v1/contact/7").expect(200);
    assert_eq!(stored["Contact"]["FirstName"], "Bo ");
    assert_eq!(stored["Contact"]["LastName"], " Lind");
    assert_eq!(stored["Contact"]["Name"], "  Bo Lind  ");
}

/// On one line, `Name: Bob` is what the writer writes for `" Bob"`, and ServiceStack's reader
/// keeps the blank: the real client wins over a hand-written guess.
#[test]
fn a_blank_after_the_colon_on_one_line_is_part_of_the_value() {
    let s = TestServer::start();
    let r = send_jsv(
        &s,
        "PUT",
        "/v1/contact/8",
        "{FirstName: Bob,LastName:Berg ,EmailWork:b@b.example}",
    );
    assert_eq!(r.status, 200, "{r:#?}");
    let stored = s.get("/v1/contact/8").expect(200);
    assert_eq!(stored["Contact"]["FirstName"], " Bob");
    assert_eq!(stored["Contact"]["LastName"], "Berg ");
}

/// The seed sample filled in, laid out exactly as `JsvFormatter` lays it out (tab indentation,
/// `Environment.NewLine` of either platform, a space after each `:`), and as the seed page
/// shows it (no indentation): every member binds, with no stray blanks.
#[test]
fn pretty_printed_samples_bind_without_their_layout() {
    let s = TestServer::start();
    let filled = filled_seed_jsv(5);
    let indented: String = filled
        .lines()
        .map(|l| {
            if l.starts_with(['{', '}']) {
                l.to_owned()
            } else {
                format!("\t{l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    for body in [
        filled.clone(),
        indented.clone(),
        indented.replace('\n', "\r\n"),
    ] {
        let r = send_jsv(&s, "POST", "/v1/customerlink", &body);
        assert_eq!(r.status, 200, "{body:?}: {r:#?}");
        assert!(
            r.body.contains(
                "ResourceType:Quote,ResourceUid:00000000000000000000000000000005,SensitivityTier:"
            ) && r
                .body
                .contains("RecipientEmail:ann@example.com,RecipientPhone:+15551234567,")
                && r.body.contains(",MaxViews:3,"),
            "{body:?}: {}",
            r.body
        );
    }
}
