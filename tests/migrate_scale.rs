//! Issue 13: `customerlink migrate` of a large store takes seconds, not minutes. A
//! measurement, so ignored by default: `cargo test --test tests -- --ignored migrate_of`
//! (N links from `CUSTOMERLINK_MIGRATE_LINKS`, default 100 000, each with a queued email
//! delivery and its `Created` log row).

use std::sync::Arc;
use std::time::Instant;

use customerlink::config::{Config, FileConfig, Overrides};
use customerlink::domain::delivery::NewDelivery;
use customerlink::domain::link::{ContactLookup, CreateLink as NewLinkRequest, plan_link};
use customerlink::domain::policy::{Channel, DEFAULT_POLICY, Policy};
use customerlink::domain::tenant::StaffCaller;
use customerlink::domain::{LinkUid, TokenHash, UnixMillis, UserId};
use customerlink::ops::admin;
use customerlink::store::commands::{CreateLink, SendLimits};
use customerlink::store::{Store, StoreError};
use uuid::Uuid;

use crate::support::cli;
use crate::support::postgres::shared;

const T0: i64 = 1_800_000_000_000;

/// Link `i` of `caller`'s tenant with one email delivery.
fn create(policy: &Policy, caller: &StaffCaller, i: u64) -> CreateLink {
    let req = NewLinkRequest {
        resource_type: Some("Quote".into()),
        resource_uid: Some(Uuid::from_u128(u128::from(i / 4) + 1)),
        recipient_email: Some(format!("r{i}@example.com")),
        ..NewLinkRequest::default()
    };
    let mut hash = [0; 32];
    hash[..8].copy_from_slice(&i.to_be_bytes());
    let uid = LinkUid::from_u128(u128::from(i) + 1);
    let now = UnixMillis::from_millis(T0);
    let planned = plan_link(
        &req,
        ContactLookup::NotRequested,
        policy,
        caller,
        now,
        uid,
        TokenHash(hash),
    );
    CreateLink {
        link: Box::new(planned.expect("a valid link").record),
        deliveries: vec![NewDelivery {
            channel: Channel::Email,
            to: format!("r{i}@example.com"),
            sealed_token: vec![7; 48],
        }],
        limits: SendLimits {
            per_recipient_per_hour: 10,
            per_tenant_per_hour: u32::MAX,
            first_retry_at: now,
        },
    }
}

/// Fills `store` with `n` links, thousands per commit.
fn fill(store: &Store, n: u64) {
    let policy = Policy::parse(DEFAULT_POLICY).expect("policy");
    let tenant = admin::create_tenant(store, "Big", UnixMillis::from_millis(T0)).expect("tenant");
    let caller = StaffCaller {
        tenant_id: tenant,
        user_id: UserId::from_u128(5),
        agent_id: None,
        roles: vec![],
        casing: None,
    };
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let store = Arc::new(store.clone());
    for start in (0..n).step_by(8192) {
        let writes: Vec<Result<_, StoreError>> = runtime.block_on(async {
            let mut set = tokio::task::JoinSet::new();
            for i in start..(start + 8192).min(n) {
                let (store, op) = (Arc::clone(&store), create(&policy, &caller, i));
                set.spawn(async move { store.write(op).await });
            }
            set.join_all().await
        });
        assert!(writes.iter().all(Result::is_ok), "seeding failed");
    }
}

#[test]
#[ignore = "a measurement (about a minute): run with --ignored"]
fn issue13_migrate_of_100k_links_takes_seconds() {
    let n: u64 = std::env::var("CUSTOMERLINK_MIGRATE_LINKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let overrides = Overrides {
        data: Some(dir.path().to_owned()),
        ..Overrides::default()
    };
    let mut config = Config::resolve(overrides, FileConfig::default()).expect("config");
    config.writer.max_batch = 8192;
    config.writer.queue_capacity = 16_384;
    std::fs::write(config.master_secret_path(), [7u8; 32]).expect("master key");
    let store = Store::open(&config.database_path(), &config.writer).expect("store");
    let seeding = Instant::now();
    fill(&store, n);
    store.close().expect("closed");
    eprintln!("seeded {n} links in {:.1?}", seeding.elapsed());

    let cluster = shared();
    let db = cluster.create_database();
    let d = dir.path().to_str().expect("utf-8");
    let started = Instant::now();
    let (code, out, err) = cli(&[
        "migrate",
        "--to",
        &cluster.url(&db),
        "--data",
        d,
        "--store",
        "redb",
    ]);
    let took = started.elapsed();
    assert_eq!(code, 0, "{out}{err}");
    eprintln!("migrated {n} links in {took:.1?}\n{out}");
    assert!(
        out.contains(&format!("links redb {n} postgres {n} ok")),
        "{out}"
    );
    assert!(took.as_secs() < 60, "{n} links took {took:?}");
}
