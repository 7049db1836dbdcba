//! The PostgreSQL store answers every query, and the tenant, key and contact commands, as the
//! embedded store does: the same scenario runs on a redb `Store` and a `PgStore`, and the
//! answers are compared. Links, deliveries, access-log rows and idempotency records are made
//! by the embedded writer (its CreateLink, RevokeLink, LogEvent, Idempotent) and copied row
//! for row into PostgreSQL, so the reads are compared on identical data; the five commands
//! run on both stores. Then two instances (two pools) race on the same contact and key.

use std::fmt::Debug;

use customerlink::domain::channel_set::ChannelSet;
use customerlink::domain::contact::Contact;
use customerlink::domain::delivery::{DeliveryRecord, NewDelivery, SendLimits};
use customerlink::domain::link::{LinkRecord, LinkStatus, RecipientType};
use customerlink::domain::policy::Channel;
use customerlink::domain::portal::{AccessEvent, AccessLogEntry, Actor, Outcome};
use customerlink::domain::tenant::{ApiKeyRecord, CasingPin, Tenant};
use customerlink::domain::token::SecretHash;
use customerlink::domain::{ContactId, LinkUid, TenantId, TokenHash, UnixMillis, UserId};
use customerlink::store::commands::{
    CreateApiKey, CreateLink, CreateTenant, DeleteContact, Idempotent, LogEvent, PutContact,
    Replayable, RevokeApiKey, RevokeLink,
};
use customerlink::store::postgres::rows::{LINK_COLUMNS, LINK_VALUES, LinkRow};
use customerlink::store::postgres::{PgApply, PgFetch, PgStore};
use customerlink::store::queries::{
    AccessLogOf, ApiKeyByHash, ApiKeysOf, ContactOf, ContactsOf, Fetch, IdempotencyOf, LandingOf,
    LinkByToken, LinkOf, LinkWithContact, LinkWithDeliveries, LinkWithTenantName, LinksByResource,
    LinksByTenant, TenantCount, TenantOf,
};
use customerlink::store::{
    Apply, IdempotencyKey, IdempotencyRecord, IdempotencyStamp, LinkPage, Store,
};
use uuid::Uuid;

use crate::support::open_embedded_store as open_store;
use crate::support::postgres::fresh_database;

fn ms(n: i64) -> UnixMillis {
    UnixMillis::from_millis(n)
}

const NOW: i64 = 1_000_000;
const T1: TenantId = TenantId::from_u128(0x71);
const T2: TenantId = TenantId::from_u128(0x72);

/// The embedded store in a temporary folder and a PostgreSQL store on a fresh database.
struct Pair {
    redb: Store,
    pg: PgStore,
    _dir: tempfile::TempDir,
}

impl Pair {
    async fn new() -> Pair {
        let dir = tempfile::tempdir().unwrap();
        let redb = open_store(dir.path());
        let (pg, _) = PgStore::connect(&fresh_database()).await.unwrap();
        Pair {
            redb,
            pg,
            _dir: dir,
        }
    }

    /// Runs the command `make` builds on both stores; answers both outputs.
    async fn both<C: Apply + PgApply>(&self, make: impl Fn() -> C) -> (C::Output, C::Output) {
        let on_redb = self.redb.write(make()).await.unwrap();
        let on_pg = self.pg.write(&make()).await.unwrap();
        (on_redb, on_pg)
    }

    /// Asks both stores and asserts the answers are equal; answers PostgreSQL's.
    async fn same<Q>(&self, query: Q) -> Q::Output
    where
        Q: Fetch + PgFetch + Clone + Debug,
        Q::Output: PartialEq + Debug,
    {
        let on_redb = self.redb.fetch(query.clone()).await.unwrap();
        let on_pg = self.pg.fetch(&query).await.unwrap();
        assert_eq!(on_pg, on_redb, "{query:?}");
        on_pg
    }

    /// A link page from both stores, compared.
    async fn same_page(&self, query: LinksByTenant) -> LinkPage {
        let on_redb = self.redb.fetch(query).await.unwrap();
        let on_pg = self.pg.fetch(&query).await.unwrap();
        assert_eq!(on_pg.total, on_redb.total, "{query:?}");
        assert_eq!(on_pg.links, on_redb.links, "{query:?}");
        on_pg
    }

    /// Copies what the embedded store holds of `uid` (link, deliveries, log) into PostgreSQL.
    async fn mirror(&self, tenant: TenantId, uid: LinkUid) {
        let (link, deliveries) = self
            .redb
            .fetch(LinkWithDeliveries(LinkOf { tenant, uid }))
            .await
            .unwrap()
            .unwrap();
        let log = self.redb.fetch(AccessLogOf { tenant, uid }).await.unwrap();
        let client = self.pg.client().await.unwrap();
        let row = LinkRow::of(&link);
        client
            .execute(
                &format!("INSERT INTO links ({LINK_COLUMNS}) VALUES ({LINK_VALUES})"),
                &row.params(),
            )
            .await
            .unwrap();
        for d in &deliveries {
            insert_delivery(&client, d).await;
        }
        for e in &log {
            insert_log_entry(&client, e).await;
        }
    }
}

async fn insert_delivery(client: &tokio_postgres::Client, d: &DeliveryRecord) {
    client
        .execute(
            "INSERT INTO outbox (delivery_id, link_uid, tenant_id, channel, recipient, \
               sealed_token, status, attempts, next_attempt_at, last_error, created_at, sent_at, \
               kind, unfinished_leases) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            &[
                &i64::try_from(d.delivery_id).unwrap(),
                &d.link_uid.as_uuid(),
                &d.tenant_id.as_uuid(),
                &d.channel.as_str(),
                &d.to,
                &d.sealed_token,
                &d.status.as_str(),
                &i64::from(d.attempts),
                &d.next_attempt_at.as_i64(),
                &d.last_error,
                &d.created_at.as_i64(),
                &d.sent_at.map(UnixMillis::as_i64),
                &d.kind.as_str(),
                &i64::from(d.unfinished_leases),
            ],
        )
        .await
        .unwrap();
}

async fn insert_log_entry(client: &tokio_postgres::Client, e: &AccessLogEntry) {
    let noise_key = e.last_at.map(|_| {
        format!(
            "{}|{}|{:?}",
            e.event.as_str(),
            e.outcome.as_str(),
            e.actor.ip
        )
    });
    client
        .execute(
            "INSERT INTO access_log (link_uid, id, link_id, tenant_id, event, outcome, detail, \
               actor_ip, actor_user_agent, actor_user_id, at, count, last_at, noise_key, hash, \
               prev_hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
            &[
                &e.link_uid.as_uuid(),
                &i64::try_from(e.id).unwrap(),
                &i64::try_from(e.link_id).unwrap(),
                &e.tenant_id.as_uuid(),
                &e.event.as_str(),
                &e.outcome.as_str(),
                &e.detail,
                &e.actor.ip,
                &e.actor.user_agent,
                &e.actor.user_id.map(UserId::as_uuid),
                &e.at.as_i64(),
                &i64::try_from(e.count).unwrap(),
                &e.last_at.map(UnixMillis::as_i64),
                &noise_key,
                &e.chain.map(|c| c.hash.to_vec()),
                &e.chain.map(|c| c.prev_hash.to_vec()),
            ],
        )
        .await
        .unwrap();
}

fn tenant(id: TenantId, name: &str) -> CreateTenant {
    CreateTenant(Tenant {
        tenant_id: id,
        name: name.into(),
        created_at: ms(10),
        accent: None,
        logo: None,
    })
}

fn contact(tenant: TenantId, id: i32, name: &str) -> Contact {
    Contact {
        tenant_id: tenant,
        contact_id: ContactId::from(id),
        contact_guid: Uuid::nil(),
        first_name: Some("Ada".into()),
        last_name: None,
        name: Some(name.into()),
        email_work: Some(format!("{name}@example.test")),
        email_personal: None,
        phone: Some("+15550100".into()),
        sms_opt_in: true,
        do_not_contact: false,
        active: true,
        deleted: false,
        updated_at: ms(20),
    }
}

fn key(tenant: TenantId, n: u8, created_at: i64) -> CreateApiKey {
    CreateApiKey {
        hash: SecretHash([n; 32]),
        record: ApiKeyRecord {
            key_id: Uuid::from_u128(u128::from(n)),
            tenant_id: tenant,
            user_id: UserId::from_u128(0x55),
            agent_id: (n.is_multiple_of(2)).then_some(i32::from(n)),
            name: Some(format!("key {n}")),
            roles: if n.is_multiple_of(2) {
                vec![]
            } else {
                vec!["ResourceServer".into(), "Staff".into()]
            },
            created_at: ms(created_at),
            revoked_at: None,
            casing: [None, Some(CasingPin::Camel), Some(CasingPin::Pascal)][usize::from(n % 3)],
        },
    }
}

/// A link of `tenant` numbered `n`, active at [`NOW`] unless `shape` changes it.
fn link(
    tenant: TenantId,
    n: u8,
    resource_type: &str,
    shape: impl FnOnce(&mut LinkRecord),
) -> LinkRecord {
    let mut link = LinkRecord {
        link_id: 0,
        uid: LinkUid::from_u128(0x1000 + u128::from(n)),
        tenant_id: tenant,
        token_hash: TokenHash([n; 32]),
        resource_type: resource_type.into(),
        resource_uid: Uuid::from_u128(0xAA),
        sensitivity_tier: "Standard".into(),
        require_otp: false,
        otp_channel: None,
        delivery_channels: ChannelSet::default(),
        recipient_contact_id: None,
        recipient_email: Some("ada@example.test".into()),
        recipient_phone: None,
        recipient_display_name: Some("Ada".into()),
        recipient_type: RecipientType::AdHoc,
        sms_consent_snapshot: false,
        created_by_user_id: UserId::from_u128(0x55),
        created_by_agent_id: Some(7),
        created_at: ms(NOW - 100),
        expires_at: ms(NOW + 100_000),
        max_views: 3,
        view_count: 0,
        revoked_at: None,
        revoked_by_user_id: None,
        resent_at: vec![],
        otp_digits: 0,
        otp: None,
        otp_failures: 0,
        locked_at: None,
        locale: None,
    };
    shape(&mut link);
    link
}

/// A change to [`link`]'s record.
type Shape = Box<dyn FnOnce(&mut LinkRecord)>;

fn limits() -> SendLimits {
    SendLimits {
        per_recipient_per_hour: 100,
        per_tenant_per_hour: 1_000,
        first_retry_at: ms(NOW + 60_000),
    }
}

fn create(link: LinkRecord, deliveries: Vec<NewDelivery>) -> CreateLink {
    CreateLink {
        link: Box::new(link),
        deliveries,
        limits: limits(),
    }
}

fn email(to: &str) -> NewDelivery {
    NewDelivery {
        channel: Channel::Email,
        to: to.into(),
        sealed_token: vec![9, 8, 7],
    }
}

/// Creates `link` on the embedded store and copies it to PostgreSQL; answers its uid.
async fn made(pair: &Pair, link: LinkRecord, deliveries: Vec<NewDelivery>) -> LinkUid {
    let (tenant, uid) = (link.tenant_id, link.uid);
    pair.redb.write(create(link, deliveries)).await.unwrap();
    pair.mirror(tenant, uid).await;
    uid
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_and_api_keys_read_as_the_embedded_store_reads_them() {
    let pair = Pair::new().await;
    assert_eq!(pair.same(TenantCount).await, 0);
    assert_eq!(pair.same(TenantOf(T1)).await, None);
    pair.both(|| tenant(T1, "Acme")).await;
    pair.both(|| tenant(T2, "Other")).await;
    // Creating again replaces the record, as the embedded insert does.
    pair.both(|| tenant(T2, "Other, renamed")).await;
    assert_eq!(pair.same(TenantCount).await, 2);
    let t2 = pair.same(TenantOf(T2)).await.unwrap();
    assert_eq!(t2.name, "Other, renamed");

    // Keys in created order, ties by hash; another tenant's are not listed.
    for (n, at) in [(5, 300), (3, 100), (4, 300), (1, 200)] {
        pair.both(|| key(T1, n, at)).await;
    }
    pair.both(|| key(T2, 9, 50)).await;
    let keys = pair.same(ApiKeysOf(T1)).await;
    let ids: Vec<u128> = keys.iter().map(|k| k.key_id.as_u128()).collect();
    assert_eq!(ids, [3, 1, 4, 5]);
    assert_eq!(pair.same(ApiKeysOf(T2)).await.len(), 1);
    assert_eq!(
        pair.same(ApiKeyByHash(SecretHash([5; 32]))).await,
        Some(key(T1, 5, 300).record)
    );
    assert_eq!(pair.same(ApiKeyByHash(SecretHash([6; 32]))).await, None);

    // Revoked once: a second revocation keeps the first time; an unknown id is `false`.
    let revoke = |n: u128, at: i64| {
        move || RevokeApiKey {
            key_id: Uuid::from_u128(n),
            at: ms(at),
        }
    };
    assert_eq!(pair.both(revoke(5, 400)).await, (true, true));
    assert_eq!(pair.both(revoke(5, 500)).await, (true, true));
    assert_eq!(pair.both(revoke(77, 500)).await, (false, false));
    let revoked = pair.same(ApiKeyByHash(SecretHash([5; 32]))).await.unwrap();
    assert_eq!(revoked.revoked_at, Some(ms(400)));
    pair.same(ApiKeysOf(T1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contacts_are_put_paged_and_deleted_as_in_the_embedded_store() {
    let pair = Pair::new().await;
    pair.both(|| tenant(T1, "Acme")).await;
    pair.both(|| tenant(T2, "Other")).await;
    let fixed_guid = Uuid::from_u128(0xC0);
    for id in [30, 10, 20, 40, 50] {
        let (r, p) = pair
            .both(|| {
                let mut c = contact(T1, id, "first");
                if id == 20 {
                    c.contact_guid = fixed_guid;
                }
                PutContact(Box::new(c))
            })
            .await;
        assert!(r.created && p.created);
        if id == 20 {
            assert_eq!(p.contact.contact_guid, fixed_guid);
        }
        assert!(!p.contact.contact_guid.is_nil());
        // Each store minted its own guid for a nil one: the PostgreSQL contact is what it
        // answered; make the embedded one the same so the reads can be compared.
        if id != 20 {
            pair.redb
                .write(PutContact(p.contact.clone()))
                .await
                .unwrap();
        }
    }
    pair.both(|| PutContact(Box::new(contact(T2, 10, "theirs"))))
        .await;
    let pg_guid = pair
        .pg
        .fetch(&ContactOf {
            tenant: T2,
            id: ContactId::from(10),
        })
        .await
        .unwrap()
        .unwrap()
        .contact_guid;
    let mut same = contact(T2, 10, "theirs");
    same.contact_guid = pg_guid;
    pair.redb.write(PutContact(Box::new(same))).await.unwrap();

    // Replacing keeps the guid when the new record has none, and says it was not created.
    let before = pair
        .same(ContactOf {
            tenant: T1,
            id: ContactId::from(30),
        })
        .await
        .unwrap();
    let (r, p) = pair
        .both(|| PutContact(Box::new(contact(T1, 30, "second"))))
        .await;
    assert!(!r.created && !p.created);
    assert_eq!(p.contact.contact_guid, before.contact_guid);
    assert_eq!(r.contact, p.contact);
    let after = pair
        .same(ContactOf {
            tenant: T1,
            id: ContactId::from(30),
        })
        .await
        .unwrap();
    assert_eq!(after.name.as_deref(), Some("second"));

    // Pages by id, with the tenant's total, also past the end.
    for (skip, take) in [(0, 2), (1, 3), (4, 10), (5, 1), (9, 9), (0, 0)] {
        pair.same(ContactsOf {
            tenant: T1,
            skip,
            take,
        })
        .await;
    }
    let (page, total) = pair
        .same(ContactsOf {
            tenant: T1,
            skip: 1,
            take: 2,
        })
        .await;
    assert_eq!(total, 5);
    let ids: Vec<i32> = page.iter().map(|c| i32::from(c.contact_id)).collect();
    assert_eq!(ids, [20, 30]);
    assert_eq!(
        pair.same(ContactsOf {
            tenant: T2,
            skip: 0,
            take: 9
        })
        .await
        .1,
        1
    );

    let delete = |id: i32| {
        move || DeleteContact {
            tenant_id: T1,
            contact_id: ContactId::from(id),
        }
    };
    assert_eq!(pair.both(delete(20)).await, (true, true));
    assert_eq!(pair.both(delete(20)).await, (false, false));
    assert_eq!(
        pair.same(ContactOf {
            tenant: T1,
            id: ContactId::from(20)
        })
        .await,
        None
    );
    assert_eq!(
        pair.same(ContactsOf {
            tenant: T1,
            skip: 0,
            take: 9
        })
        .await
        .1,
        4
    );
    // Another tenant's contact of the same id is untouched.
    assert!(
        pair.same(ContactOf {
            tenant: T2,
            id: ContactId::from(10)
        })
        .await
        .is_some()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_their_deliveries_contacts_names_and_logs_read_the_same() {
    let pair = Pair::new().await;
    pair.both(|| tenant(T1, "Acme")).await;
    pair.both(|| tenant(T2, "Other")).await;
    let c = pair
        .both(|| PutContact(Box::new(contact(T1, 10, "ada"))))
        .await
        .1;
    pair.redb
        .write(PutContact(c.contact.clone()))
        .await
        .unwrap();

    let with_mail = made(
        &pair,
        link(T1, 1, "Quote", |l| {
            l.recipient_contact_id = Some(ContactId::from(10))
        }),
        vec![email("ada@example.test"), email("ada2@example.test")],
    )
    .await;
    let no_contact_row = made(
        &pair,
        link(T1, 2, "quote", |l| {
            l.recipient_contact_id = Some(ContactId::from(99))
        }),
        vec![],
    )
    .await;
    let theirs = made(
        &pair,
        link(T2, 3, "Quote", |_| {}),
        vec![email("x@example.test")],
    )
    .await;
    let client = pair.pg.client().await.unwrap();
    for (tenant, uid) in [
        (T1, with_mail),
        (T1, no_contact_row),
        (T2, theirs),
        (T1, theirs),
        (T2, with_mail),
        (T1, LinkUid::from_u128(0xDEAD)),
    ] {
        let of = LinkOf { tenant, uid };
        pair.same(of).await;
        pair.same(LinkWithDeliveries(of)).await;
        pair.same(LinkWithContact(of)).await;
        pair.same(LinkWithTenantName(of)).await;
        pair.same(AccessLogOf { tenant, uid }).await;
    }
    let (_, deliveries) = pair
        .same(LinkWithDeliveries(LinkOf {
            tenant: T1,
            uid: with_mail,
        }))
        .await
        .unwrap();
    assert_eq!(deliveries.len(), 2);
    assert!(deliveries[0].delivery_id < deliveries[1].delivery_id);
    let (_, found) = pair
        .same(LinkWithContact(LinkOf {
            tenant: T1,
            uid: with_mail,
        }))
        .await
        .unwrap();
    assert_eq!(found.map(|c| c.contact_guid), Some(c.contact.contact_guid));
    let (_, name) = pair
        .same(LinkWithTenantName(LinkOf {
            tenant: T1,
            uid: with_mail,
        }))
        .await
        .unwrap();
    assert_eq!(name, "Acme");
    assert_eq!(
        pair.same(LinkOf {
            tenant: T2,
            uid: with_mail
        })
        .await,
        None
    );

    for token in [[1; 32], [3; 32], [0xEE; 32]] {
        pair.same(LinkByToken(TokenHash(token))).await;
        for now in [NOW, NOW + 100_000, NOW + 200_000] {
            pair.same(LandingOf {
                token: TokenHash(token),
                now: ms(now),
            })
            .await;
        }
    }
    assert!(
        pair.same(LandingOf {
            token: TokenHash([1; 32]),
            now: ms(NOW)
        })
        .await
        .is_some()
    );
    assert!(
        pair.same(LandingOf {
            token: TokenHash([1; 32]),
            now: ms(NOW + 100_000)
        })
        .await
        .is_none()
    );

    // A log with staff rows and an aggregated noise row, oldest first; none for another tenant.
    let noise = |at: i64| LogEvent {
        token_hash: TokenHash([1; 32]),
        event: AccessEvent::OpenDenied,
        outcome: Outcome::Failure,
        detail: Some(format!("try {at}")),
        at: ms(at),
        actor: Actor {
            ip: Some("192.0.2.1".into()),
            user_agent: Some("curl".into()),
            user_id: None,
        },
    };
    pair.redb.write(noise(NOW + 5)).await.unwrap();
    pair.redb.write(noise(NOW + 9)).await.unwrap();
    pair.redb
        .write(RevokeLink {
            tenant_id: T1,
            uid: with_mail,
            by: UserId::from_u128(0x55),
            at: ms(NOW + 7),
        })
        .await
        .unwrap();
    client
        .execute("DELETE FROM links WHERE uid = $1", &[&with_mail.as_uuid()])
        .await
        .unwrap();
    client
        .execute(
            "DELETE FROM access_log WHERE link_uid = $1",
            &[&with_mail.as_uuid()],
        )
        .await
        .unwrap();
    pair.mirror(T1, with_mail).await;
    let log = pair
        .same(AccessLogOf {
            tenant: T1,
            uid: with_mail,
        })
        .await;
    let events: Vec<AccessEvent> = log.iter().map(|e| e.event).collect();
    assert_eq!(
        events,
        [
            AccessEvent::Created,
            AccessEvent::OpenDenied,
            AccessEvent::Revoked
        ]
    );
    assert_eq!(log[1].count, 2);
    assert_eq!(
        pair.same(AccessLogOf {
            tenant: T2,
            uid: with_mail
        })
        .await,
        vec![]
    );
    pair.same(LinkWithDeliveries(LinkOf {
        tenant: T1,
        uid: with_mail,
    }))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_lists_page_and_filter_by_status_as_the_embedded_store() {
    let pair = Pair::new().await;
    pair.both(|| tenant(T1, "Acme")).await;
    pair.both(|| tenant(T2, "Other")).await;
    let shapes: Vec<Shape> = vec![
        Box::new(|_| {}),
        Box::new(|l| l.expires_at = ms(NOW)),
        Box::new(|l| l.view_count = 3),
        Box::new(|l| l.locked_at = Some(ms(NOW - 1))),
        Box::new(|l| {
            l.revoked_at = Some(ms(NOW - 2));
            l.revoked_by_user_id = Some(UserId::from_u128(0x55));
            l.expires_at = ms(NOW - 5);
        }),
        Box::new(|l| {
            l.view_count = 3;
            l.expires_at = ms(NOW - 1);
        }),
        Box::new(|l| {
            l.locked_at = Some(ms(NOW - 1));
            l.view_count = 5;
        }),
        Box::new(|l| l.max_views = 0),
        Box::new(|_| {}),
        Box::new(|l| l.expires_at = ms(NOW + 1)),
    ];
    for (n, shape) in (1u8..).zip(shapes) {
        let resource = if n.is_multiple_of(2) {
            "Quote"
        } else {
            "QUOTE"
        };
        made(&pair, link(T1, n, resource, shape), vec![]).await;
    }
    made(&pair, link(T2, 50, "Quote", |_| {}), vec![]).await;
    made(&pair, link(T1, 51, "Invoice", |_| {}), vec![]).await;

    let statuses = [
        None,
        Some(LinkStatus::Active),
        Some(LinkStatus::Expired),
        Some(LinkStatus::Exhausted),
        Some(LinkStatus::Revoked),
        Some(LinkStatus::Locked),
    ];
    for status in statuses {
        for now in [NOW - 10, NOW, NOW + 1, NOW + 200_000] {
            for (skip, take) in [(0, 100), (0, 2), (2, 3), (10, 5), (100, 1), (0, 0)] {
                pair.same_page(LinksByTenant {
                    family: customerlink::domain::share::Family::CustomerLink,
                    tenant: T1,
                    status,
                    now: ms(now),
                    skip,
                    take,
                })
                .await;
            }
        }
    }
    let page = pair
        .same_page(LinksByTenant {
            family: customerlink::domain::share::Family::CustomerLink,
            tenant: T1,
            status: None,
            now: ms(NOW),
            skip: 1,
            take: 3,
        })
        .await;
    assert_eq!(page.total, 11);
    let ids: Vec<u64> = page.links.iter().map(|l| l.link_id).collect();
    assert_eq!(ids, [10, 9, 8]);
    let active = pair
        .same_page(LinksByTenant {
            family: customerlink::domain::share::Family::CustomerLink,
            tenant: T1,
            status: Some(LinkStatus::Active),
            now: ms(NOW),
            skip: 0,
            take: 100,
        })
        .await;
    assert_eq!(active.total, 4, "{:?}", active.links);
    let past_end = pair
        .same_page(LinksByTenant {
            family: customerlink::domain::share::Family::CustomerLink,
            tenant: T1,
            status: Some(LinkStatus::Locked),
            now: ms(NOW),
            skip: 5,
            take: 5,
        })
        .await;
    assert_eq!((past_end.total, past_end.links.len()), (1, 0));

    // By resource: the type compared lower-cased, newest first, only the tenant's.
    for (tenant, rt) in [
        (T1, "quote"),
        (T1, "Quote"),
        (T1, "invoice"),
        (T2, "QUOTE"),
        (T1, "x"),
    ] {
        pair.same(LinksByResource {
            tenant,
            resource_type: rt.into(),
            resource_uid: Uuid::from_u128(0xAA),
        })
        .await;
    }
    let quotes = pair
        .same(LinksByResource {
            tenant: T1,
            resource_type: "Quote".into(),
            resource_uid: Uuid::from_u128(0xAA),
        })
        .await;
    assert_eq!(quotes.len(), 10);
    assert!(quotes.windows(2).all(|w| w[0].link_id > w[1].link_id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotency_record_reads_back_while_it_is_live() {
    let pair = Pair::new().await;
    pair.both(|| tenant(T1, "Acme")).await;
    let key = IdempotencyKey::of("client-key-1");
    let record = IdempotencyRecord {
        operation: "CustomerLinkCreateRequest".into(),
        fingerprint: [4; 32],
        link_uid: LinkUid::from_u128(0x1001),
        sealed_token: vec![1, 2, 3],
        delivery_errors: vec!["Sms: no phone".into()],
        created_at: ms(NOW),
    };
    let written = pair
        .redb
        .write(Idempotent {
            command: create(link(T1, 1, "Quote", |_| {}), vec![]),
            stamp: Box::new(IdempotencyStamp {
                tenant_id: T1,
                key,
                record: record.clone(),
            }),
        })
        .await
        .unwrap();
    assert!(matches!(written, Replayable::Fresh(_)));
    let stored = pair
        .redb
        .fetch(IdempotencyOf {
            tenant: T1,
            key,
            now: ms(NOW),
        })
        .await
        .unwrap()
        .unwrap();
    let client = pair.pg.client().await.unwrap();
    client
        .execute(
            "INSERT INTO idempotency (tenant_id, key_hash, operation, fingerprint, link_uid, \
               sealed_token, delivery_errors, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &T1.as_uuid(),
                &key.0.as_slice(),
                &stored.operation,
                &stored.fingerprint.as_slice(),
                &stored.link_uid.as_uuid(),
                &stored.sealed_token,
                &stored.delivery_errors,
                &stored.created_at.as_i64(),
            ],
        )
        .await
        .unwrap();
    let day = 24 * 60 * 60 * 1000;
    for now in [NOW, NOW + day - 1, NOW + day, NOW + 2 * day] {
        pair.same(IdempotencyOf {
            tenant: T1,
            key,
            now: ms(now),
        })
        .await;
    }
    assert_eq!(
        pair.same(IdempotencyOf {
            tenant: T1,
            key,
            now: ms(NOW + 1)
        })
        .await,
        Some(stored)
    );
    assert_eq!(
        pair.same(IdempotencyOf {
            tenant: T1,
            key,
            now: ms(NOW + day)
        })
        .await,
        None
    );
    let other = IdempotencyKey::of("client-key-2");
    assert_eq!(
        pair.same(IdempotencyOf {
            tenant: T1,
            key: other,
            now: ms(NOW)
        })
        .await,
        None
    );
    assert_eq!(
        pair.same(IdempotencyOf {
            tenant: T2,
            key,
            now: ms(NOW)
        })
        .await,
        None
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_putting_one_new_contact_create_it_once_with_one_guid() {
    let settings = fresh_database();
    let (a, _) = PgStore::connect(&settings).await.unwrap();
    let (b, _) = PgStore::connect(&settings).await.unwrap();
    a.write(&tenant(T1, "Acme")).await.unwrap();
    for round in 0..5 {
        let id = 100 + round;
        let tasks: Vec<_> = (0..8u8)
            .map(|i| {
                let store = if i.is_multiple_of(2) {
                    a.clone()
                } else {
                    b.clone()
                };
                tokio::spawn(async move {
                    store
                        .write(&PutContact(Box::new(contact(T1, id, &format!("n{i}")))))
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut written = Vec::new();
        for t in tasks {
            written.push(t.await.unwrap());
        }
        assert_eq!(
            written.iter().filter(|w| w.created).count(),
            1,
            "round {round}"
        );
        let stored = a
            .fetch(&ContactOf {
                tenant: T1,
                id: ContactId::from(id),
            })
            .await
            .unwrap()
            .unwrap();
        for w in &written {
            assert_eq!(w.contact.contact_guid, stored.contact_guid, "round {round}");
        }
    }
    // Racing revocations: every one finds the key, and exactly one time is kept.
    a.write(&key(T1, 1, 100)).await.unwrap();
    let tasks: Vec<_> = (0..8i64)
        .map(|i| {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move {
                store
                    .write(&RevokeApiKey {
                        key_id: Uuid::from_u128(1),
                        at: ms(1_000 + i),
                    })
                    .await
                    .unwrap()
            })
        })
        .collect();
    for t in tasks {
        assert!(t.await.unwrap());
    }
    let revoked = b
        .fetch(&ApiKeyByHash(SecretHash([1; 32])))
        .await
        .unwrap()
        .unwrap();
    assert!(
        revoked
            .revoked_at
            .is_some_and(|t| (1_000..1_008).contains(&t.as_i64()))
    );
}
