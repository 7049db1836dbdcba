//! Evidence across instances (issue 15 §3): rows of one link logged by two instances at once
//! (opens, landing views, denials) form one hash chain — each instance reads the chain head
//! under the link's lock — and both instances sign with the key of the shared master secret.

use std::sync::Arc;

use super::*;
use crate::support::sinks::wait_until;

fn evidence_file(s: &TestServer, link: &str, dir: &std::path::Path) -> String {
    let doc = s
        .get(&format!("/v1/customerlink/{link}/evidence"))
        .expect(200);
    let file = dir.join(format!("{}.json", s.addr.port()));
    std::fs::write(&file, doc.to_string()).unwrap();
    file.to_str().unwrap().to_owned()
}

#[test]
fn two_instances_logging_one_link_at_once_keep_one_chain_and_sign_with_one_key() {
    let site = Site::new();
    let pair = Arc::new(site.pair(|_| {}));
    let (token, link) = quote(&pair.0, 1, 6, "e@example.com");
    let p = Arc::clone(&pair);
    let replies = at_once(24, move |i| {
        let s = either(&p, i);
        if i % 4 < 2 {
            portal(s, "open", &token).send()
        } else {
            Req::new(s.addr, "GET", &format!("/portal/{token}")).send()
        }
    });
    let ok = statuses(&replies).iter().filter(|c| **c == 200).count();
    assert!(ok >= 6, "{:?}", statuses(&replies));
    for s in [&pair.0, &pair.1] {
        s.flush_landing_log();
    }
    wait_until(
        || count(&events(&pair.0, &link), "LandingViewed") > 0,
        "landing views logged",
    );
    let key = pair.0.get("/v1/evidence/key").expect(200)["PublicKey"].clone();
    assert_eq!(pair.1.get("/v1/evidence/key").expect(200)["PublicKey"], key);
    let dir = tempfile::tempdir().unwrap();
    for s in [&pair.0, &pair.1] {
        let file = evidence_file(s, &link, dir.path());
        let (code, out, err) = cli(&["evidence", "verify", &file, "--key", key.as_str().unwrap()]);
        assert_eq!(code, 0, "{out}{err}");
        let (code, out, err) = site.cli(&["evidence", "verify", &file]);
        assert_eq!(code, 0, "the shared secret's key: {out}{err}");
    }
    assert_eq!(count(&events(&pair.1, &link), "Opened"), 6);
}
