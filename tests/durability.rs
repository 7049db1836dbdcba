//! Data survives restarts, and concurrent creates all land, with distinct ids, in every index.

use std::sync::Arc;

use serde_json::json;

use crate::support::{TestServer, uid};

#[test]
fn data_survives_a_restart() {
    let s = TestServer::start();
    s.put(
        "/v1/contact/3",
        json!({"Name": "Cy", "EmailWork": "cy@example.com"}),
    )
    .expect(200);
    let first = s
        .post(
            "/v1/customerlink",
            json!({"ResourceType": "Quote", "ResourceUid": uid(1), "RecipientContactId": 3}),
        )
        .expect(200);
    let second = s
        .post(
            "/v1/customerlink",
            json!({"ResourceType": "Policy", "ResourceUid": uid(2), "RecipientEmail": "d@e.co"}),
        )
        .expect(200);
    let revoked_uid = second["Link"]["CustomerLinkUID"]
        .as_str()
        .unwrap()
        .to_owned();
    let revoked = s
        .post(&format!("/v1/customerlink/{revoked_uid}/revoke"), json!({}))
        .expect(200);
    let key = s.key.clone();
    let (dir, clock) = s.stop();
    let dir = dir.unwrap();

    let s = TestServer::start_in(dir.path(), clock, |_| {});
    assert_eq!(s.key, key, "a restart does not mint a new initial key");
    let uid1 = first["Link"]["CustomerLinkUID"].as_str().unwrap();
    assert_eq!(
        s.get(&format!("/v1/customerlink/{uid1}")).expect(200)["Link"],
        first["Link"]
    );
    assert_eq!(
        s.get(&format!("/v1/customerlink/{revoked_uid}"))
            .expect(200)["Link"],
        revoked["Link"]
    );
    assert_eq!(s.get("/v1/contact/3").expect(200)["Contact"]["Name"], "Cy");
    let third = s.quote_link(1, "f@g.co");
    assert_eq!(
        third["Link"]["CustomerLinkId"], 3,
        "ids continue after a restart"
    );
    let listed = s
        .get(&format!("/v1/customerlink/resource/quote/{}", uid(1)))
        .expect(200);
    assert_eq!(listed["Links"].as_array().unwrap().len(), 2);
}

#[test]
fn concurrent_creates_get_distinct_ids_and_land_in_every_index() {
    const N: usize = 200;
    // One loopback address opens all N connections at once: lift its share for this test.
    let s = Arc::new(TestServer::start_with(|c| {
        c.http.max_connections_per_address = N
    }));
    let barrier = Arc::new(std::sync::Barrier::new(N));
    let threads: Vec<_> = (0..N)
        .map(|i| {
            let s = Arc::clone(&s);
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                let body = json!({"ResourceType": "Invoice", "ResourceUid": uid(7), "RecipientEmail": format!("r{i}@example.com")});
                s.post("/v1/customerlink", body).expect(200)["Link"]["CustomerLinkId"].as_u64().unwrap()
            })
        })
        .collect();
    let mut ids: Vec<u64> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    ids.sort_unstable();
    assert_eq!(ids, (1..=N as u64).collect::<Vec<_>>());
    assert_eq!(s.get("/v1/customerlink?Take=500").expect(200)["Total"], N);
    let by_resource = s
        .get(&format!("/v1/customerlink/resource/Invoice/{}", uid(7)))
        .expect(200);
    assert_eq!(by_resource["Links"].as_array().unwrap().len(), N);

    let s = Arc::into_inner(s).expect("all clients done");
    let out = s.check();
    assert!(out.contains(&format!("links {N} ")), "{out}");
}
