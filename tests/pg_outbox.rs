//! The outbox and the access log on PostgreSQL (store::postgres::{outbox, access_log} and the
//! commands LeaseDue, RecordAttempt, LogEvent, LogLandings, LogDenials): the same scenario run
//! on the embedded store and on a fresh PostgreSQL database answers the same, and leaves the
//! same deliveries and access logs; with two instances (two pools) at once, every due
//! delivery is leased exactly once, an expired lease is taken again, the send limits and the
//! noise rows count exactly.

use std::collections::BTreeSet;

use customerlink::config::{Config, FileConfig, Overrides};
use customerlink::domain::delivery::{DeliveryKind, DeliveryRecord, DeliveryStatus, NewDelivery};
use customerlink::domain::link::{
    ContactLookup, CreateLink as NewLinkRequest, LinkRecord, plan_link,
};
use customerlink::domain::policy::{Channel, DEFAULT_POLICY, Policy};
use customerlink::domain::portal::{
    AccessEvent, AccessLogEntry, Actor, LandingView, NOISE_ROWS_PER_LINK, Outcome, RepeatedDenial,
    Repeats,
};
use customerlink::domain::tenant::StaffCaller;
use customerlink::domain::{LinkUid, TenantId, TokenHash, UnixMillis, UserId};
use customerlink::store::Store;
use customerlink::store::commands::{
    AttemptOutcome, CreateLink, LeaseDue, LogDenials, LogEvent, LogLandings, RecordAttempt,
    RetryPolicy, SendLimits,
};
use customerlink::store::postgres::records::{
    ACCESS_LOG_COLUMNS, DELIVERY_COLUMNS, access_log_from_row, delivery_from_row,
};
use customerlink::store::postgres::rows::{LINK_ASSIGNMENTS, LINK_COLUMNS, LINK_VALUES, LinkRow};
use customerlink::store::postgres::{PgStore, access_log, outbox};
use customerlink::store::queries::{AccessLogOf, LinkOf, LinkWithDeliveries};
use uuid::Uuid;

use crate::support::postgres::fresh_database;

const TENANT: TenantId = TenantId::from_u128(0x7e);
const USER: UserId = UserId::from_u128(0x5e);
const T0: i64 = 1_800_000_000_000;

fn at(ms: i64) -> UnixMillis {
    UnixMillis::from_millis(T0 + ms)
}

const RETRY: RetryPolicy = RetryPolicy {
    max_attempts: 3,
    initial_ms: 1_000,
    max_ms: 60_000,
};

/// The embedded store in a temporary folder and a PostgreSQL store on a fresh database.
struct Both {
    redb: Store,
    pg: PgStore,
    _dir: tempfile::TempDir,
}

async fn both() -> Both {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = Config::resolve(Overrides::default(), FileConfig::default()).expect("config");
    let redb = Store::open(&dir.path().join("t.redb"), &config.writer).expect("redb opens");
    let (pg, _) = PgStore::connect(&fresh_database()).await.expect("pg");
    Both {
        redb,
        pg,
        _dir: dir,
    }
}

/// An active Quote link `n` for `A@b.co`, created at `created`.
fn link(n: u8, created: UnixMillis) -> LinkRecord {
    let req = NewLinkRequest {
        resource_type: Some("Quote".into()),
        resource_uid: Some(Uuid::from_u128(5)),
        recipient_email: Some("A@b.co".into()),
        ..NewLinkRequest::default()
    };
    let caller = StaffCaller {
        tenant_id: TENANT,
        user_id: USER,
        agent_id: None,
        roles: vec![],
        casing: None,
    };
    let policy = Policy::parse(DEFAULT_POLICY).expect("policy");
    let uid = LinkUid::from_u128(u128::from(n));
    let planned = plan_link(
        &req,
        ContactLookup::NotRequested,
        &policy,
        &caller,
        created,
        uid,
        TokenHash([n; 32]),
    );
    planned.expect("a valid link").record
}

fn email(to: &str) -> NewDelivery {
    NewDelivery {
        channel: Channel::Email,
        to: to.into(),
        sealed_token: vec![1, 2, 3],
    }
}

fn sms(to: &str) -> NewDelivery {
    NewDelivery {
        channel: Channel::Sms,
        to: to.into(),
        sealed_token: vec![4, 5, 6],
    }
}

/// What the embedded store's CreateLink does, on PostgreSQL: the link row (with the next
/// link id), its deliveries within the limits, its channels, the `Created` log row.
async fn pg_create(
    pg: &PgStore,
    mut link: LinkRecord,
    deliveries: &[NewDelivery],
    limits: SendLimits,
) -> (LinkRecord, Vec<DeliveryRecord>, Vec<String>) {
    let mut client = pg.client().await.expect("client");
    let txn = client.transaction().await.expect("txn");
    txn.execute(
        "INSERT INTO tenants (tenant_id, name, created_at) VALUES ($1, 't', 0) \
         ON CONFLICT DO NOTHING",
        &[&link.tenant_id.as_uuid()],
    )
    .await
    .expect("tenant");
    let id: i64 = txn
        .query_one("SELECT nextval('link_ids')", &[])
        .await
        .expect("id")
        .get(0);
    link.link_id = u64::try_from(id).expect("positive");
    let insert = format!("INSERT INTO links ({LINK_COLUMNS}) VALUES ({LINK_VALUES})");
    txn.execute(&insert, &LinkRow::of(&link).params())
        .await
        .expect("link row");
    let (queued, refused) =
        outbox::queue_deliveries(&txn, &link, deliveries, &limits, link.created_at)
            .await
            .expect("queued");
    link.sent_over(&queued);
    let update = format!("UPDATE links SET {LINK_ASSIGNMENTS} WHERE uid = $1");
    txn.execute(&update, &LinkRow::of(&link).params())
        .await
        .expect("link channels");
    let (by, created) = (link.created_by_user_id, link.created_at);
    access_log::log_staff(&txn, &link, AccessEvent::Created, None, by, created)
        .await
        .expect("log");
    txn.commit().await.expect("commit");
    (link, queued, refused)
}

async fn redb_create(
    redb: &Store,
    link: LinkRecord,
    deliveries: &[NewDelivery],
    limits: SendLimits,
) -> (LinkRecord, Vec<DeliveryRecord>, Vec<String>) {
    let done = redb
        .write(CreateLink {
            link: Box::new(link),
            deliveries: deliveries.to_vec(),
            limits,
        })
        .await
        .expect("created");
    (*done.link, done.queued, done.refused)
}

async fn pg_deliveries(pg: &PgStore, uid: LinkUid) -> Vec<DeliveryRecord> {
    let client = pg.client().await.expect("client");
    let sql =
        format!("SELECT {DELIVERY_COLUMNS} FROM outbox WHERE link_uid = $1 ORDER BY delivery_id");
    let rows = client.query(&sql, &[&uid.as_uuid()]).await.expect("rows");
    rows.iter()
        .map(|r| delivery_from_row(r).expect("delivery"))
        .collect()
}

async fn redb_deliveries(redb: &Store, uid: LinkUid) -> Vec<DeliveryRecord> {
    let found = redb
        .fetch(LinkWithDeliveries(LinkOf {
            tenant: TENANT,
            uid,
        }))
        .await
        .expect("read");
    found.map(|(_, d)| d).unwrap_or_default()
}

async fn pg_log(pg: &PgStore, uid: LinkUid) -> Vec<AccessLogEntry> {
    let client = pg.client().await.expect("client");
    let sql =
        format!("SELECT {ACCESS_LOG_COLUMNS} FROM access_log WHERE link_uid = $1 ORDER BY id");
    let rows = client.query(&sql, &[&uid.as_uuid()]).await.expect("rows");
    rows.iter()
        .map(|r| access_log_from_row(r).expect("entry"))
        .collect()
}

async fn redb_log(redb: &Store, uid: LinkUid) -> Vec<AccessLogEntry> {
    redb.fetch(AccessLogOf {
        tenant: TENANT,
        uid,
    })
    .await
    .expect("read")
}

/// Leases on both stores and checks they hand out the same.
async fn lease_both(b: &Both, now: i64, until: i64, limit: usize) -> Vec<DeliveryRecord> {
    let cmd = || LeaseDue {
        now: at(now),
        lease_until: at(until),
        limit,
    };
    let from_redb = b.redb.write(cmd()).await.expect("redb lease");
    let from_pg = b.pg.write(&cmd()).await.expect("pg lease");
    assert_eq!(from_pg, from_redb, "LeaseDue at {now}");
    from_pg
}

async fn attempt_both(b: &Both, id: u64, when: i64, outcome: AttemptOutcome) {
    let cmd = || RecordAttempt {
        webhook_max_failures: 10,
        delivery_id: id,
        at: at(when),
        outcome: outcome.clone(),
        retry: RETRY,
    };
    let from_redb = b.redb.write(cmd()).await.expect("redb attempt");
    let from_pg = b.pg.write(&cmd()).await.expect("pg attempt");
    assert_eq!(from_pg, from_redb, "RecordAttempt {id} at {when}");
}

async fn assert_same_records(b: &Both, uids: &[LinkUid]) {
    for &uid in uids {
        let (pg, redb) = (
            pg_deliveries(&b.pg, uid).await,
            redb_deliveries(&b.redb, uid).await,
        );
        assert_eq!(pg, redb, "deliveries of {uid}");
        let (pg, redb) = (pg_log(&b.pg, uid).await, redb_log(&b.redb, uid).await);
        assert_eq!(pg, redb, "access log of {uid}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_lease_and_attempts_match_the_embedded_store() {
    let b = both().await;
    let limits = SendLimits {
        per_recipient_per_hour: 2,
        per_tenant_per_hour: 4,
        first_retry_at: at(60_000),
    };
    // the recipient's limit counts the address case-insensitively; the tenant's every send
    let first = [
        email("A@b.co"),
        email("a@B.CO"),
        email("a@b.co"),
        sms("+15550100"),
        sms("+15550101"),
    ];
    let (l1, l2) = (link(1, at(0)), link(2, at(10)));
    let on_pg = pg_create(&b.pg, l1.clone(), &first, limits).await;
    let on_redb = redb_create(&b.redb, l1, &first, limits).await;
    assert_eq!(on_pg, on_redb);
    assert_eq!(on_pg.1.len(), 4, "{:?}", on_pg.2);
    assert_eq!(on_pg.2.len(), 1);
    let second = [email("x@y.co")];
    let on_pg = pg_create(&b.pg, l2.clone(), &second, limits).await;
    let on_redb = redb_create(&b.redb, l2, &second, limits).await;
    assert_eq!(on_pg, on_redb);
    assert!(on_pg.1.is_empty(), "the tenant's limit is reached");

    // nothing is due before the first retry time; then in due order, `limit` at a time
    assert!(lease_both(&b, 59_999, 90_000, 10).await.is_empty());
    let leased = lease_both(&b, 60_000, 90_000, 3).await;
    assert_eq!(leased.len(), 3);
    assert!(leased.iter().all(|d| d.next_attempt_at == at(90_000)));
    let rest = lease_both(&b, 60_000, 90_000, 10).await;
    assert_eq!(rest.len(), 1);
    assert!(
        lease_both(&b, 89_999, 120_000, 10).await.is_empty(),
        "leased"
    );

    let ids: Vec<u64> = leased.iter().chain(&rest).map(|d| d.delivery_id).collect();
    attempt_both(&b, ids[0], 61_000, AttemptOutcome::Sent).await;
    let failed = |permanent| AttemptOutcome::Failed {
        permanent,
        error: "relay said no".into(),
    };
    attempt_both(&b, ids[1], 61_000, failed(false)).await;
    attempt_both(&b, ids[2], 61_000, failed(true)).await;
    // a second outcome for a delivery no longer queued changes nothing; an unknown id is None
    attempt_both(&b, ids[0], 62_000, failed(false)).await;
    attempt_both(&b, 999, 62_000, AttemptOutcome::Sent).await;

    // the retried one is due again after its backoff; it fails for good on the last attempt
    assert!(lease_both(&b, 61_999, 200_000, 10).await.is_empty());
    let again = lease_both(&b, 62_000, 200_000, 10).await;
    assert_eq!(
        again.iter().map(|d| d.delivery_id).collect::<Vec<_>>(),
        [ids[1]]
    );
    attempt_both(&b, ids[1], 63_000, failed(false)).await;
    let again = lease_both(&b, 65_000, 200_000, 10).await;
    attempt_both(&b, again[0].delivery_id, 65_000, failed(false)).await;

    // the one never recorded: its lease expires, it is taken again, and given up after
    // MAX_UNFINISHED_LEASES leases without an outcome
    let mut now = 90_000;
    loop {
        let got = lease_both(&b, now, now + 1_000, 10).await;
        if got.is_empty() {
            break;
        }
        now += 1_000;
    }
    let records = pg_deliveries(&b.pg, LinkUid::from_u128(1)).await;
    let statuses: Vec<DeliveryStatus> = records.iter().map(|d| d.status).collect();
    assert_eq!(
        statuses,
        [
            DeliveryStatus::Sent,
            DeliveryStatus::Failed,
            DeliveryStatus::Failed,
            DeliveryStatus::Failed
        ]
    );
    assert_same_records(&b, &[LinkUid::from_u128(1), LinkUid::from_u128(2)]).await;
    let log = pg_log(&b.pg, LinkUid::from_u128(1)).await;
    let events: Vec<AccessEvent> = log.iter().map(|e| e.event).collect();
    assert_eq!(events[0], AccessEvent::Created);
    assert!(events.contains(&AccessEvent::Delivered));
    assert!(events.contains(&AccessEvent::DeliveryFailed));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn noise_rows_aggregate_and_evict_like_the_embedded_store() {
    let b = both().await;
    let limits = SendLimits {
        per_recipient_per_hour: 10,
        per_tenant_per_hour: 10,
        first_retry_at: at(0),
    };
    let l = link(3, at(0));
    let uid = l.uid;
    pg_create(&b.pg, l.clone(), &[], limits).await;
    redb_create(&b.redb, l, &[], limits).await;
    let from = |ip: String, ua: &str| Actor {
        ip: Some(ip),
        user_agent: Some(ua.into()),
        user_id: None,
    };
    let event = |ip: String, n: i64, event: AccessEvent, outcome: Outcome| LogEvent {
        token_hash: TokenHash([3; 32]),
        event,
        outcome,
        detail: Some(format!("n{n}")),
        at: at(100 + n),
        actor: from(ip, &format!("ua{n}")),
    };
    for n in 0..i64::try_from(NOISE_ROWS_PER_LINK).unwrap_or(0) + 40 {
        let ip = format!("10.0.{}.{}", n / 256, n % 256);
        let cmds = [
            event(ip, n, AccessEvent::OpenDenied, Outcome::Failure),
            event(
                "10.0.0.0".into(),
                n,
                AccessEvent::OpenDenied,
                Outcome::Failure,
            ),
        ];
        for cmd in cmds {
            b.pg.write(&cmd).await.expect("pg log");
            b.redb.write(cmd).await.expect("redb log");
        }
        if n % 50 == 0 {
            // lifecycle rows are never aggregated nor evicted; a token of no link logs nothing
            let cmds = [
                event("10.1.1.1".into(), n, AccessEvent::Opened, Outcome::Success),
                LogEvent {
                    token_hash: TokenHash([99; 32]),
                    ..event(
                        "10.1.1.1".into(),
                        n,
                        AccessEvent::OtpFailed,
                        Outcome::Failure,
                    )
                },
            ];
            for cmd in cmds {
                b.pg.write(&cmd).await.expect("pg log");
                b.redb.write(cmd).await.expect("redb log");
            }
        }
    }
    // batched denials and landings: an older repeat widens the row without taking its detail
    let denials = || {
        LogDenials(vec![
            RepeatedDenial {
                token_hash: TokenHash([3; 32]),
                detail: "Revoked".into(),
                actor: from("10.0.0.0".into(), "late"),
                repeats: Repeats {
                    first: at(5),
                    last: at(50),
                    count: 7,
                },
            },
            RepeatedDenial {
                token_hash: TokenHash([3; 32]),
                detail: "Expired".into(),
                actor: from("192.0.2.9".into(), "new"),
                repeats: Repeats {
                    first: at(10_000),
                    last: at(10_500),
                    count: 3,
                },
            },
            RepeatedDenial {
                token_hash: TokenHash([98; 32]),
                detail: "Expired".into(),
                actor: Actor::default(),
                repeats: Repeats::once(at(1)),
            },
        ])
    };
    b.pg.write(&denials()).await.expect("pg denials");
    b.redb.write(denials()).await.expect("redb denials");
    let landings = || {
        LogLandings(vec![
            LandingView {
                link_uid: uid,
                at: at(20_000),
                actor: from("192.0.2.9".into(), "v1"),
            },
            LandingView {
                link_uid: LinkUid::from_u128(77),
                at: at(20_000),
                actor: Actor::default(),
            },
            LandingView {
                link_uid: uid,
                at: at(20_001),
                actor: from("192.0.2.9".into(), "v2"),
            },
        ])
    };
    b.pg.write(&landings()).await.expect("pg landings");
    b.redb.write(landings()).await.expect("redb landings");

    assert_same_records(&b, &[uid]).await;
    let log = pg_log(&b.pg, uid).await;
    let noise = log.iter().filter(|e| e.event.is_noise()).count();
    assert_eq!(noise, NOISE_ROWS_PER_LINK);
    let kept = log
        .iter()
        .find(|e| e.actor.ip.as_deref() == Some("10.0.0.0"))
        .expect("the address seen all along stays");
    // every iteration's second denial, the first one's own (n = 0), the batch's 7
    assert_eq!(kept.count, (NOISE_ROWS_PER_LINK + 40) as u64 + 1 + 7);
    assert_eq!(kept.at, at(5));
    assert!(
        !log.iter()
            .any(|e| e.actor.ip.as_deref() == Some("10.0.0.1")),
        "the least recently seen went"
    );
    let landing = log
        .iter()
        .find(|e| e.event == AccessEvent::LandingViewed)
        .expect("landing row");
    assert_eq!(
        (landing.count, landing.actor.user_agent.as_deref()),
        (2, Some("v2"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passcodes_supersede_delete_and_counter_cleanup_on_postgres() {
    let (pg, _) = PgStore::connect(&fresh_database()).await.expect("pg");
    let limits = SendLimits {
        per_recipient_per_hour: 10,
        per_tenant_per_hour: 10,
        first_retry_at: at(1_000),
    };
    let (l, queued, _) = pg_create(&pg, link(4, at(0)), &[email("a@b.co")], limits).await;
    assert_eq!(queued.len(), 1);
    let mut client = pg.client().await.expect("client");
    let actor = Actor {
        ip: Some("192.0.2.1".into()),
        ..Actor::default()
    };
    let txn = client.transaction().await.expect("txn");
    let code = outbox::queue_passcode(&txn, &l, vec![9; 8], at(500), &actor)
        .await
        .expect("passcode")
        .expect("an address");
    assert_eq!(
        (
            code.kind,
            code.channel,
            code.to.as_str(),
            code.next_attempt_at
        ),
        (DeliveryKind::Passcode, Channel::Email, "A@b.co", at(500))
    );
    let mut no_phone = l.clone();
    no_phone.otp_channel = Some(Channel::Sms);
    let none = outbox::queue_passcode(&txn, &no_phone, vec![9; 8], at(600), &actor)
        .await
        .expect("no passcode");
    assert!(none.is_none());
    txn.commit().await.expect("commit");
    let log = pg_log(&pg, l.uid).await;
    let otp: Vec<(Outcome, Option<&str>)> = log
        .iter()
        .filter(|e| e.event == AccessEvent::OtpSent)
        .map(|e| (e.outcome, e.detail.as_deref()))
        .collect();
    assert_eq!(
        otp,
        [
            (Outcome::Info, Some("queued for Email")),
            (Outcome::Failure, Some("no Sms address for the passcode"))
        ]
    );

    // a passcode attempt logs OtpSent; a resend supersedes what is still queued
    let sent = pg
        .write(&RecordAttempt {
            webhook_max_failures: 10,
            delivery_id: code.delivery_id,
            at: at(700),
            outcome: AttemptOutcome::Sent,
            retry: RETRY,
        })
        .await
        .expect("attempt")
        .expect("known");
    assert_eq!(sent.status, DeliveryStatus::Sent);
    let txn = client.transaction().await.expect("txn");
    outbox::supersede_queued(&txn, l.uid)
        .await
        .expect("supersede");
    txn.commit().await.expect("commit");
    let statuses: Vec<DeliveryStatus> = pg_deliveries(&pg, l.uid)
        .await
        .iter()
        .map(|d| d.status)
        .collect();
    assert_eq!(statuses, [DeliveryStatus::Superseded, DeliveryStatus::Sent]);

    // counters of hours before the previous one go; purge removes deliveries, and the log
    // after its retention window
    let count_rows = "SELECT count(*) FROM send_counts";
    let n: i64 = client.query_one(count_rows, &[]).await.expect("n").get(0);
    assert_eq!(n, 2, "the tenant's and the recipient's counter");
    let txn = client.transaction().await.expect("txn");
    outbox::forget_old_send_counts(&txn, at(3_600_000))
        .await
        .expect("keep");
    txn.commit().await.expect("commit");
    let n: i64 = client.query_one(count_rows, &[]).await.expect("n").get(0);
    assert_eq!(n, 2, "the previous hour is kept");
    let txn = client.transaction().await.expect("txn");
    outbox::forget_old_send_counts(&txn, at(2 * 3_600_000 + 3_600_000))
        .await
        .expect("forget");
    outbox::delete_deliveries(&txn, l.uid)
        .await
        .expect("delete");
    access_log::tombstone_log(&txn, &l, at(10_000))
        .await
        .expect("tombstone");
    txn.commit().await.expect("commit");
    let n: i64 = client.query_one(count_rows, &[]).await.expect("n").get(0);
    assert_eq!(n, 0);
    assert!(pg_deliveries(&pg, l.uid).await.is_empty());
    let log = pg_log(&pg, l.uid).await;
    assert_eq!(log.last().map(|e| e.event), Some(AccessEvent::Purged));
    let txn = client.transaction().await.expect("txn");
    access_log::forget_old_logs(&txn, at(10_000))
        .await
        .expect("not yet");
    txn.commit().await.expect("commit");
    assert!(
        !pg_log(&pg, l.uid).await.is_empty(),
        "purged at the bound: kept"
    );
    let txn = client.transaction().await.expect("txn");
    access_log::forget_old_logs(&txn, at(10_001))
        .await
        .expect("forget");
    txn.commit().await.expect("commit");
    assert!(pg_log(&pg, l.uid).await.is_empty());
    let n: i64 = client
        .query_one("SELECT count(*) FROM log_tombstones", &[])
        .await
        .expect("n")
        .get(0);
    assert_eq!(n, 0);
}

/// Two instances on one database: two pools.
async fn two_instances() -> (PgStore, PgStore) {
    let settings = fresh_database();
    let (a, _) = PgStore::connect(&settings).await.expect("a");
    let (b, _) = PgStore::connect(&settings).await.expect("b");
    (a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_lease_every_due_delivery_exactly_once() {
    let (a, b) = two_instances().await;
    let limits = SendLimits {
        per_recipient_per_hour: 1_000,
        per_tenant_per_hour: 1_000,
        first_retry_at: at(0),
    };
    let many: Vec<NewDelivery> = (0..60).map(|n| email(&format!("r{n}@b.co"))).collect();
    let (_, queued, _) = pg_create(&a, link(5, at(0)), &many, limits).await;
    assert_eq!(queued.len(), 60);
    let mut workers = Vec::new();
    for n in 0..6 {
        let store = if n % 2 == 0 { a.clone() } else { b.clone() };
        workers.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let lease = LeaseDue {
                    now: at(1_000),
                    lease_until: at(61_000),
                    limit: 4,
                };
                let got = store.write(&lease).await.expect("lease");
                if got.is_empty() {
                    return mine;
                }
                mine.extend(got.iter().map(|d| d.delivery_id));
                tokio::task::yield_now().await;
            }
        }));
    }
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.expect("worker"));
    }
    let distinct: BTreeSet<u64> = all.iter().copied().collect();
    assert_eq!(all.len(), 60, "each due delivery handed out once: {all:?}");
    assert_eq!(distinct, queued.iter().map(|d| d.delivery_id).collect());
    let client = a.client().await.expect("client");
    let row = client
        .query_one(
            "SELECT count(*) FILTER (WHERE leased_until = $1 AND lease_owner IS NOT NULL), \
             count(*) FILTER (WHERE unfinished_leases = 1) FROM outbox",
            &[&at(61_000).as_i64()],
        )
        .await
        .expect("counts");
    assert_eq!((row.get::<_, i64>(0), row.get::<_, i64>(1)), (60, 60));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_lease_is_taken_again_by_the_other_instance() {
    let (a, b) = two_instances().await;
    let limits = SendLimits {
        per_recipient_per_hour: 10,
        per_tenant_per_hour: 10,
        first_retry_at: at(0),
    };
    let (_, queued, _) = pg_create(&a, link(6, at(0)), &[email("a@b.co")], limits).await;
    let lease = |now, until| LeaseDue {
        now: at(now),
        lease_until: at(until),
        limit: 10,
    };
    let first = a.write(&lease(0, 1_000)).await.expect("a leases");
    assert_eq!(first.len(), 1);
    // instance a "dies": b finds nothing while the lease lives, then takes it over
    assert!(b.write(&lease(999, 5_000)).await.expect("b").is_empty());
    let again = b.write(&lease(1_000, 5_000)).await.expect("b retakes");
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].delivery_id, queued[0].delivery_id);
    assert_eq!(again[0].unfinished_leases, 2);
    let done = b
        .write(&RecordAttempt {
            webhook_max_failures: 10,
            delivery_id: queued[0].delivery_id,
            at: at(1_500),
            outcome: AttemptOutcome::Sent,
            retry: RETRY,
        })
        .await
        .expect("attempt")
        .expect("known");
    assert_eq!(
        (done.status, done.unfinished_leases),
        (DeliveryStatus::Sent, 0)
    );
    let client = a.client().await.expect("client");
    let row = client
        .query_one(
            "SELECT leased_until IS NULL AND lease_owner IS NULL FROM outbox WHERE delivery_id = $1",
            &[&i64::try_from(queued[0].delivery_id).expect("id")],
        )
        .await
        .expect("row");
    assert!(
        row.get::<_, bool>(0),
        "recording the attempt ends the lease"
    );
    assert!(a.write(&lease(10_000, 20_000)).await.expect("a").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_count_the_send_limit_exactly() {
    let (a, b) = two_instances().await;
    let limits = SendLimits {
        per_recipient_per_hour: 5,
        per_tenant_per_hour: 100,
        first_retry_at: at(0),
    };
    let (l, _, _) = pg_create(&a, link(7, at(0)), &[], limits).await;
    let mut tasks = Vec::new();
    for n in 0..16 {
        let store = if n % 2 == 0 { a.clone() } else { b.clone() };
        let l = l.clone();
        tasks.push(tokio::spawn(async move {
            let mut client = store.client().await.expect("client");
            let txn = client.transaction().await.expect("txn");
            let (queued, _) =
                outbox::queue_deliveries(&txn, &l, &[email("Same@b.co")], &limits, at(n))
                    .await
                    .expect("queue");
            txn.commit().await.expect("commit");
            queued.len()
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.expect("task");
    }
    assert_eq!(
        total, 5,
        "exactly the recipient's limit, across both instances"
    );
    let client = a.client().await.expect("client");
    let row = client
        .query_one(
            "SELECT sent FROM send_counts WHERE address = 'same@b.co'",
            &[],
        )
        .await
        .expect("counter");
    assert_eq!(row.get::<_, i64>(0), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_keep_the_noise_cap_and_every_count() {
    let (a, b) = two_instances().await;
    let limits = SendLimits {
        per_recipient_per_hour: 10,
        per_tenant_per_hour: 10,
        first_retry_at: at(0),
    };
    let (l, _, _) = pg_create(&a, link(8, at(0)), &[], limits).await;
    let mut tasks = Vec::new();
    for n in 0..8i64 {
        let store = if n % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            for k in 0..40i64 {
                let i = n * 40 + k;
                for (ip, when) in [
                    (format!("10.2.{}.{}", i / 256, i % 256), i),
                    ("10.9.9.9".to_owned(), 1_000_000 + i),
                ] {
                    let cmd = LogEvent {
                        token_hash: TokenHash([8; 32]),
                        event: AccessEvent::OpenDenied,
                        outcome: Outcome::Failure,
                        detail: None,
                        at: at(when),
                        actor: Actor {
                            ip: Some(ip),
                            ..Actor::default()
                        },
                    };
                    store.write(&cmd).await.expect("log");
                }
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    let log = pg_log(&a, l.uid).await;
    let noise: Vec<&AccessLogEntry> = log.iter().filter(|e| e.event.is_noise()).collect();
    assert_eq!(noise.len(), NOISE_ROWS_PER_LINK);
    let shared = noise
        .iter()
        .find(|e| e.actor.ip.as_deref() == Some("10.9.9.9"))
        .expect("the address seen last stays");
    assert_eq!(shared.count, 320, "every repeat counted once");
    assert_eq!(shared.last_at, Some(at(1_000_319)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_recorded_after_the_lease_moved_on_leaves_the_new_holders_lease_alone() {
    let (a, _) = two_instances().await;
    let limits = SendLimits {
        per_recipient_per_hour: 10,
        per_tenant_per_hour: 10,
        first_retry_at: at(0),
    };
    let (_, queued, _) = pg_create(&a, link(7, at(0)), &[email("a@b.co")], limits).await;
    let id = i64::try_from(queued[0].delivery_id).expect("id");
    let leased = LeaseDue {
        now: at(0),
        lease_until: at(1_000),
        limit: 10,
    };
    assert_eq!(a.write(&leased).await.expect("lease").len(), 1);
    // Our attempt outlived the lease; another instance (another owner) leased it meanwhile.
    let client = a.client().await.expect("client");
    client
        .execute(
            "UPDATE outbox SET lease_owner = gen_random_uuid(), leased_until = $2 \
             WHERE delivery_id = $1",
            &[&id, &at(9_000).as_i64()],
        )
        .await
        .expect("another holder");
    let attempt = |outcome| RecordAttempt {
        webhook_max_failures: 10,
        delivery_id: queued[0].delivery_id,
        at: at(1_500),
        outcome,
        retry: RETRY,
    };
    let failed = AttemptOutcome::Failed {
        permanent: false,
        error: "timeout".into(),
    };
    let before = pg_deliveries(&a, link(7, at(0)).uid).await;
    let kept = a
        .write(&attempt(failed))
        .await
        .expect("attempt")
        .expect("known");
    assert_eq!(kept.status, DeliveryStatus::Queued);
    assert_eq!(
        Some(&kept),
        before.first(),
        "the failure is not ours to record"
    );
    let lease: Option<i64> = client
        .query_one(
            "SELECT leased_until FROM outbox WHERE delivery_id = $1",
            &[&id],
        )
        .await
        .expect("row")
        .get(0);
    assert_eq!(
        lease,
        Some(at(9_000).as_i64()),
        "the live holder's lease stands"
    );
    let sent = a
        .write(&attempt(AttemptOutcome::Sent))
        .await
        .expect("attempt");
    assert_eq!(
        sent.expect("known").status,
        DeliveryStatus::Sent,
        "a send is a fact"
    );
}
