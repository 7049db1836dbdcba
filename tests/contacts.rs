//! Contacts: create and update by id, read, page, delete; address validation; and which
//! contacts may receive a link.

use serde_json::{Value, json};

use crate::support::{TestServer, error_fields, uid};

fn is_guid_n(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        s.len() == 32
            && s.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    })
}

fn ids(list: &Value) -> Vec<i64> {
    list["Contacts"]
        .as_array()
        .expect("Contacts array")
        .iter()
        .map(|c| c["ContactId"].as_i64().expect("ContactId"))
        .collect()
}

#[test]
fn put_creates_then_updates_keeping_the_guid() {
    let s = TestServer::start();
    let created = s
        .put(
            "/v1/contact/7",
            json!({"FirstName": "Bo", "LastName": "Lind", "EmailWork": "bo@work.example", "Phone": "+1 (555) 123-4567", "SMSOptIn": true}),
        )
        .expect(200);
    let c = &created["Contact"];
    assert_eq!(c["ContactId"], 7);
    assert!(is_guid_n(&c["ContactGUID"]), "{c}");
    assert_eq!(c["FirstName"], "Bo");
    assert_eq!(c["EmailWork"], "bo@work.example");
    assert_eq!(c["Phone"], "+15551234567", "stored in E.164");
    assert_eq!(c["SMSOptIn"], true);
    assert_eq!(c["DoNotContact"], false);
    assert_eq!(c["Active"], true, "an omitted Active means active");
    assert_eq!(c["Deleted"], false);
    assert_eq!(s.get("/v1/contact/7").expect(200)["Contact"], *c);

    let updated = s
        .put(
            "/v1/contact/7",
            json!({"FirstName": "Bo", "LastName": "Berg", "EmailWork": "bo@new.example", "DoNotContact": true}),
        )
        .expect(200);
    let u = &updated["Contact"];
    assert_eq!(u["ContactGUID"], c["ContactGUID"], "the guid is kept");
    assert_eq!(u["LastName"], "Berg");
    assert_eq!(u["EmailWork"], "bo@new.example");
    assert_eq!(u["DoNotContact"], true);
    assert_eq!(s.get("/v1/contact/7").expect(200)["Contact"], *u);
    assert_eq!(
        s.get("/v1/contact").expect(200)["Total"],
        1,
        "updated, not added"
    );
}

#[test]
fn the_path_decides_which_contact_is_written() {
    let s = TestServer::start();
    let put = s
        .put(
            "/v1/contact/7",
            json!({"ContactId": 8, "Name": "Path wins"}),
        )
        .expect(200);
    assert_eq!(put["Contact"]["ContactId"], 7);
    s.get("/v1/contact/7").expect(200);
    s.get("/v1/contact/8").expect(404);
}

#[test]
fn list_pages_by_id_with_the_total() {
    let s = TestServer::start();
    for id in [30, 4, 12, 7] {
        s.put(
            &format!("/v1/contact/{id}"),
            json!({"Name": format!("C{id}")}),
        )
        .expect(200);
    }
    let all = s.get("/v1/contact").expect(200);
    assert_eq!(ids(&all), [4, 7, 12, 30]);
    assert_eq!(all["Total"], 4);
    assert_eq!(all["Contacts"][2]["Name"], "C12");
    let page = s.get("/v1/contact?Skip=1&Take=2").expect(200);
    assert_eq!(ids(&page), [7, 12]);
    assert_eq!(page["Total"], 4);
    // camelCase query names get a camelCase reply (DESIGN.md wire decisions).
    let tail = s.get("/v1/contact?skip=3&take=10").expect(200);
    assert_eq!(tail["contacts"][0]["contactId"], 30);
    assert_eq!(tail["total"], 4);
    let past = s.get("/v1/contact?Skip=10").expect(200);
    assert_eq!(ids(&past), Vec::<i64>::new());
    assert_eq!(past["Total"], 4);
    s.get("/v1/contact?Take=0").expect(400);
    s.get("/v1/contact?Take=501").expect(400);
}

#[test]
fn delete_removes_and_missing_contacts_are_404() {
    let s = TestServer::start();
    s.put("/v1/contact/3", json!({"Name": "Gone soon"}))
        .expect(200);
    s.put("/v1/contact/4", json!({"Name": "Stays"})).expect(200);
    s.delete("/v1/contact/3").expect(200);
    let body = s.get("/v1/contact/3").expect(404);
    assert_eq!(body["ResponseStatus"]["ErrorCode"], "NotFound");
    s.delete("/v1/contact/3").expect(404);
    s.delete("/v1/contact/99").expect(404);
    s.get("/v1/contact/99").expect(404);
    let list = s.get("/v1/contact").expect(200);
    assert_eq!(ids(&list), [4]);
    assert_eq!(list["Total"], 1);
}

#[test]
fn invalid_addresses_are_400_with_field_errors_and_not_stored() {
    let s = TestServer::start();
    let body = s
        .put(
            "/v1/contact/9",
            json!({"EmailWork": "nope", "EmailPersonal": "a@b", "Phone": "555-1234"}),
        )
        .expect(400);
    let mut fields = error_fields(&body);
    fields.sort();
    assert_eq!(fields, ["EmailPersonal", "EmailWork", "Phone"]);
    s.get("/v1/contact/9").expect(404);
    // A bad update leaves the stored contact as it was.
    let good = s
        .put("/v1/contact/9", json!({"EmailWork": "ok@example.com"}))
        .expect(200);
    let body = s.put("/v1/contact/9", json!({"Phone": "+12"})).expect(400);
    assert_eq!(error_fields(&body), ["Phone"]);
    assert_eq!(
        s.get("/v1/contact/9").expect(200)["Contact"],
        good["Contact"]
    );
}

#[test]
fn contact_id_must_be_a_positive_integer() {
    let s = TestServer::start();
    for id in ["0", "-1", "abc", "1.5"] {
        let path = format!("/v1/contact/{id}");
        let put = s.put(&path, json!({"Name": "X"})).expect(400);
        assert_eq!(error_fields(&put), ["ContactId"], "PUT {path}");
        let get = s.get(&path).expect(400);
        assert_eq!(error_fields(&get), ["ContactId"], "GET {path}");
        let delete = s.delete(&path).expect(400);
        assert_eq!(error_fields(&delete), ["ContactId"], "DELETE {path}");
    }
    assert_eq!(s.get("/v1/contact").expect(200)["Total"], 0);
}

#[test]
fn deleted_or_inactive_contacts_cannot_receive_links() {
    let s = TestServer::start();
    let contacts = [
        (
            1,
            json!({"Name": "Deleted", "EmailWork": "d@example.com", "Deleted": true}),
        ),
        (
            2,
            json!({"Name": "Inactive", "EmailWork": "i@example.com", "Active": false}),
        ),
        (3, json!({"Name": "Usable", "EmailWork": "u@example.com"})),
    ];
    for (id, body) in contacts {
        s.put(&format!("/v1/contact/{id}"), body).expect(200);
    }
    for id in [1, 2] {
        let body = s
            .post(
                "/v1/customerlink",
                json!({"ResourceType": "Quote", "ResourceUid": uid(1), "RecipientContactId": id}),
            )
            .expect(400);
        assert_eq!(error_fields(&body), ["RecipientContactId"], "contact {id}");
    }
    assert_eq!(s.get("/v1/customerlink").expect(200)["Total"], 0);
    let ok = s
        .post(
            "/v1/customerlink",
            json!({"ResourceType": "Quote", "ResourceUid": uid(1), "RecipientContactId": 3}),
        )
        .expect(200);
    assert_eq!(ok["Link"]["RecipientContactId"], 3);
    // Deactivating a contact later stops new links to it.
    s.put(
        "/v1/contact/3",
        json!({"Name": "Usable", "EmailWork": "u@example.com", "Active": false}),
    )
    .expect(200);
    let body = s
        .post(
            "/v1/customerlink",
            json!({"ResourceType": "Quote", "ResourceUid": uid(2), "RecipientContactId": 3}),
        )
        .expect(400);
    assert_eq!(error_fields(&body), ["RecipientContactId"]);
    assert_eq!(s.get("/v1/customerlink").expect(200)["Total"], 1);
}
