//! Shared administration across instances: the first start on an empty database, a key
//! revoked through one instance, purge running on both.

use std::sync::Arc;
use std::time::Duration;

use customerlink::clock::ManualClock;
use customerlink::config::{Config, StoreLocation};
use serde_json::json;

use super::*;
use crate::support::postgres::shared;
use crate::support::sinks::wait_until;
use crate::support::{Req, TestServer, link_tenant, uid};

#[test]
fn two_instances_starting_together_on_an_empty_database_create_one_tenant_and_key() {
    let site = Arc::new(Site::new());
    let starts: Vec<_> = ["a", "b"]
        .into_iter()
        .map(|name| {
            let site = Arc::clone(&site);
            std::thread::spawn(move || site.instance(name, Arc::new(ManualClock::new()), |_| {}))
        })
        .collect();
    let servers: Vec<TestServer> = starts.into_iter().map(|t| t.join().unwrap()).collect();
    let keys: Vec<&TestServer> = servers.iter().filter(|s| !s.key.is_empty()).collect();
    assert_eq!(
        keys.len(),
        1,
        "exactly one data folder gets initial-api-key"
    );
    let written = servers
        .iter()
        .filter(|s| s.data.join("initial-api-key").exists())
        .count();
    assert_eq!(written, 1);
    let key = keys[0].key.clone();
    for s in &servers {
        let r = Req::new(s.addr, "GET", "/v1/customerlink")
            .bearer(&key)
            .send();
        assert_eq!(r.status, 200, "every instance accepts the one key: {r:?}");
    }
    let db = &site.settings.dbname;
    assert_eq!(shared().psql(db, "SELECT count(*) FROM tenants"), "1");
    assert_eq!(shared().psql(db, "SELECT count(*) FROM api_keys"), "1");
}

/// The id of the key named `name` of `tenant`, as `key list` shows it.
fn key_id(site: &Site, tenant: &str, name: &str) -> String {
    let (code, list, err) = site.cli(&["key", "list", "--tenant", tenant]);
    assert_eq!(code, 0, "{err}");
    list.lines()
        .find(|l| l.contains(&format!("\t{name}\t")))
        .and_then(|l| l.split('\t').next())
        .unwrap_or_else(|| panic!("no key {name}: {list}"))
        .to_owned()
}

#[test]
fn a_key_revoked_through_one_instance_is_refused_there_at_once_and_on_the_other_within_the_cache_time()
 {
    let site = Site::new();
    let (a, b) = site.pair(|c| {
        if let StoreLocation::Postgres(s) = &mut c.store {
            s.key_cache = Duration::from_secs(5);
        }
    });
    let tenant = link_tenant(&a.quote_link(1, "k@example.com"));
    let doomed = site.create_key(&tenant, &uid(0x5b), &["--name", "doomed"]);
    let list = |s: &TestServer| {
        Req::new(s.addr, "GET", "/v1/customerlink")
            .bearer(&doomed)
            .send()
            .status
    };
    assert_eq!(
        (list(&a), list(&b)),
        (200, 200),
        "valid, and cached on both"
    );

    let id = key_id(&site, &tenant, "doomed");
    let folder = a.data.to_str().unwrap().to_owned();
    let (code, out, err) = site.cli(&["key", "revoke", &id, "--data", &folder]);
    assert_eq!((code, out.trim()), (0, id.as_str()), "{err}");
    assert_eq!(
        list(&a),
        401,
        "refused at once by the instance that revoked it"
    );
    b.clock.advance_millis(5_001);
    assert_eq!(
        list(&b),
        401,
        "refused by the other once its cache time passed"
    );
    let ok = |s: &TestServer| s.get("/v1/customerlink").status;
    assert_eq!((ok(&a), ok(&b)), (200, 200), "other keys keep working");
}

/// `customerlink_purge_links_total` of one instance.
fn purged(s: &TestServer) -> u64 {
    let metrics = Req::new(s.addr, "GET", "/metrics").send().body;
    metrics
        .lines()
        .find_map(|l| l.strip_prefix("customerlink_purge_links_total "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn purge_on_both_instances_at_once_purges_every_retired_link_once() {
    let site = Site::new();
    let clock = Arc::new(ManualClock::new());
    let tweak = |c: &mut Config| {
        c.purge.interval = Duration::from_secs(60);
        c.purge.retention_ms = 3_600_000;
        c.purge.batch_size = 3;
    };
    let a = site.instance("a", Arc::clone(&clock), tweak);
    let mut b = site.instance("b", Arc::clone(&clock), tweak);
    b.key = a.key.clone();
    let mut retired = Vec::new();
    let mut kept = Vec::new();
    for n in 1..=20 {
        let s = if n % 2 == 0 { &a } else { &b };
        let (_, link) = quote(s, n, 5, "p@example.com");
        if n % 4 == 3 {
            kept.push(link);
        } else {
            s.post(&format!("/v1/customerlink/{link}/revoke"), json!({}))
                .expect(200);
            retired.push(link);
        }
    }
    clock.advance_hours(2);
    wait_until(
        || {
            retired
                .iter()
                .all(|l| a.get(&format!("/v1/customerlink/{l}")).status == 404)
        },
        "purge",
    );
    for s in [&a, &b] {
        s.job_round("purge", Duration::from_secs(60));
    }
    assert_eq!(
        purged(&a) + purged(&b),
        retired.len() as u64,
        "each retired link purged once (a {}, b {})",
        purged(&a),
        purged(&b)
    );
    for link in &kept {
        b.get(&format!("/v1/customerlink/{link}")).expect(200);
    }
    let scratch = site.folder("check");
    let (code, out, err) = site.cli(&["check", "--data", scratch.to_str().unwrap()]);
    assert_eq!(code, 0, "check clean: {out}{err}");
    assert!(out.contains(&format!("links {}", kept.len())), "{out}");
}
