//! The link lifecycle and portal commands on PostgreSQL (src/store/postgres/commands/link.rs,
//! portal.rs, idempotency.rs): the same command sequence on the embedded store and on
//! PostgreSQL answers the same outputs and leaves the same records and access logs; and the
//! per-link budgets (views, passcode tries and sends, resend cooldown, grants, idempotency
//! keys) stay exact when two instances (two pools) spend them at once.

use std::fmt::Debug;

use customerlink::config::{Config, FileConfig, Overrides};
use customerlink::domain::channel_set::ChannelSet;
use customerlink::domain::delivery::{NewDelivery, SendLimits};
use customerlink::domain::link::{LinkRecord, RecipientType};
use customerlink::domain::policy::Channel;
use customerlink::domain::portal::Actor;
use customerlink::domain::resend::ResendRules;
use customerlink::domain::tenant::Tenant;
use customerlink::domain::token::SecretHash;
use customerlink::domain::{LinkUid, TenantId, TokenHash, UnixMillis, UserId};
use customerlink::store::commands::{
    ConsumeGrant, CreateLink, CreateTenant, Idempotent, IssueOtp, IssueOtpOutcome, OpenLink,
    OpenOutcome, PurgeRetired, Replayable, Resend, ResendOutcome, RevokeLink, UnlockLink,
    VerifyOtp, VerifyOutcome,
};
use customerlink::store::postgres::{PgApply, PgFetch, PgStore};
use customerlink::store::queries::{AccessLogOf, Fetch, LinkByToken, LinkOf, LinkWithDeliveries};
use customerlink::store::{
    Apply, IdempotencyKey, IdempotencyRecord, IdempotencyStamp, PurgeReport, Store,
};

use crate::support::postgres::fresh_database;

const T0: i64 = 1_800_000_000_000;
const HOUR: i64 = 3_600_000;
const TENANT: TenantId = TenantId::from_u128(0x7e);
const OTHER: TenantId = TenantId::from_u128(0x7f);
const STAFF: UserId = UserId::from_u128(0x5a);

fn at(offset_ms: i64) -> UnixMillis {
    UnixMillis::from_millis(T0 + offset_ms)
}

/// The embedded store and a PostgreSQL store, both with the two tenants.
struct Both {
    redb: Store,
    pg: PgStore,
    _dir: tempfile::TempDir,
}

impl Both {
    async fn new() -> Both {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::resolve(Overrides::default(), FileConfig::default()).unwrap();
        let redb = Store::open(&dir.path().join("t.redb"), &config.writer).unwrap();
        let (pg, _) = PgStore::connect(&fresh_database()).await.unwrap();
        let both = Both {
            redb,
            pg,
            _dir: dir,
        };
        for id in [TENANT, OTHER] {
            both.run(|| CreateTenant(tenant(id))).await;
        }
        both
    }

    /// Runs the command built by `make` on both stores; both must answer the same.
    async fn run<C>(&self, make: impl Fn() -> C) -> String
    where
        C: Apply + PgApply,
        C::Output: Debug,
    {
        let embedded = self.redb.write(make()).await.expect("redb write");
        let postgres = self.pg.write(&make()).await.expect("postgres write");
        let (embedded, postgres) = (format!("{embedded:?}"), format!("{postgres:?}"));
        assert_eq!(
            embedded, postgres,
            "redb (left) and PostgreSQL (right) differ"
        );
        postgres
    }

    /// Answers `query` from both stores; both must answer the same.
    async fn read<Q>(&self, query: Q) -> String
    where
        Q: Fetch + PgFetch + Clone,
        Q::Output: Debug,
    {
        let embedded = self.redb.fetch(query.clone()).await.expect("redb read");
        let postgres = self.pg.fetch(&query).await.expect("postgres read");
        let (embedded, postgres) = (format!("{embedded:?}"), format!("{postgres:?}"));
        assert_eq!(
            embedded, postgres,
            "redb (left) and PostgreSQL (right) differ"
        );
        postgres
    }

    /// The link, its deliveries and its access log read the same from both stores.
    async fn same_records(&self, tenant: TenantId, uid: LinkUid) {
        let of = LinkOf { tenant, uid };
        self.read(LinkWithDeliveries(of)).await;
        self.read(AccessLogOf { tenant, uid }).await;
    }
}

fn tenant(id: TenantId) -> Tenant {
    Tenant {
        tenant_id: id,
        name: format!("tenant {}", id.simple()),
        created_at: at(0),
        accent: None,
        logo: None,
    }
}

/// A link `n` of [`TENANT`] created at `created`, with `max_views` views.
fn link(n: u8, created: UnixMillis, max_views: u32, require_otp: bool) -> LinkRecord {
    LinkRecord {
        link_id: 0,
        uid: LinkUid::from_u128(0x1000 + u128::from(n)),
        tenant_id: TENANT,
        token_hash: token(n),
        resource_type: "Quote".into(),
        resource_uid: uuid::Uuid::from_u128(0x2000 + u128::from(n)),
        sensitivity_tier: if require_otp { "High" } else { "Low" }.into(),
        require_otp,
        otp_channel: require_otp.then_some(Channel::Email),
        delivery_channels: ChannelSet::default(),
        recipient_contact_id: None,
        recipient_email: Some(format!("r{n}@example.test")),
        recipient_phone: Some("+15550100".into()),
        recipient_display_name: Some(format!("Recipient {n}")),
        recipient_type: RecipientType::AdHoc,
        sms_consent_snapshot: true,
        created_by_user_id: STAFF,
        created_by_agent_id: Some(42),
        created_at: created,
        expires_at: created.plus_ms(24 * HOUR),
        max_views,
        view_count: 0,
        revoked_at: None,
        revoked_by_user_id: None,
        resent_at: Vec::new(),
        otp_digits: 6,
        otp: None,
        otp_failures: 0,
        locked_at: None,
        locale: None,
    }
}

fn token(n: u8) -> TokenHash {
    TokenHash([n; 32])
}

fn secret(n: u8) -> SecretHash {
    SecretHash([n; 32])
}

fn uid(n: u8) -> LinkUid {
    LinkUid::from_u128(0x1000 + u128::from(n))
}

fn both_channels(n: u8) -> Vec<NewDelivery> {
    vec![
        NewDelivery {
            channel: Channel::Email,
            to: format!("r{n}@example.test"),
            sealed_token: vec![n, 1],
        },
        NewDelivery {
            channel: Channel::Sms,
            to: "+15550100".into(),
            sealed_token: vec![n, 2],
        },
    ]
}

/// Three messages per tenant per hour, two per recipient.
fn limits(now: UnixMillis) -> SendLimits {
    SendLimits {
        per_recipient_per_hour: 2,
        per_tenant_per_hour: 3,
        first_retry_at: now,
    }
}

const RULES: ResendRules = ResendRules {
    cooldown_ms: 60_000,
    per_hour: 3,
};

fn create(link: LinkRecord) -> impl Fn() -> CreateLink {
    move || CreateLink {
        link: Box::new(link.clone()),
        deliveries: both_channels(link.token_hash.0[0]),
        limits: limits(link.created_at),
    }
}

fn resend(n: u8, new_token: u8, when: UnixMillis) -> impl Fn() -> Resend {
    move || Resend {
        tenant_id: TENANT,
        uid: uid(n),
        by: STAFF,
        token_hash: token(new_token),
        at: when,
        deliveries: both_channels(n),
        limits: limits(when),
        rules: RULES,
        reissue: None,
    }
}

fn revoke(tenant_id: TenantId, n: u8, when: UnixMillis) -> impl Fn() -> RevokeLink {
    move || RevokeLink {
        tenant_id,
        uid: uid(n),
        by: STAFF,
        at: when,
    }
}

fn open(token_n: u8, verified: Option<u8>, grant: u8, when: UnixMillis) -> OpenLink {
    OpenLink {
        token_hash: token(token_n),
        verified_for: verified.map(token),
        grant: secret(grant),
        at: when,
        actor: visitor(),
    }
}

fn consume(grant: u8, tenant_id: TenantId, when: UnixMillis) -> ConsumeGrant {
    ConsumeGrant {
        grant: secret(grant),
        tenant_id,
        at: when,
    }
}

fn issue(token_n: u8, code: u8, when: UnixMillis) -> IssueOtp {
    IssueOtp {
        token_hash: token(token_n),
        fresh: (secret(code), vec![code, 9]),
        at: when,
        actor: visitor(),
    }
}

fn verify(token_n: u8, code: u8, when: UnixMillis) -> VerifyOtp {
    VerifyOtp {
        token_hash: token(token_n),
        candidate: secret(code),
        at: when,
        actor: visitor(),
    }
}

fn unlock(tenant_id: TenantId, n: u8, when: UnixMillis) -> impl Fn() -> UnlockLink {
    move || UnlockLink {
        tenant_id,
        uid: uid(n),
        by: STAFF,
        at: when,
    }
}

fn visitor() -> Actor {
    Actor {
        ip: Some("192.0.2.7".into()),
        user_agent: Some("test".into()),
        user_id: None,
    }
}

fn stamp(key: &str, n: u8, when: UnixMillis) -> IdempotencyStamp {
    IdempotencyStamp {
        tenant_id: TENANT,
        key: IdempotencyKey::of(key),
        record: IdempotencyRecord {
            operation: "CustomerLinkCreateRequest".into(),
            fingerprint: [n; 32],
            link_uid: uid(n),
            sealed_token: vec![n, 3],
            delivery_errors: Vec::new(),
            created_at: when,
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_resend_revoke_answer_as_the_embedded_store() {
    let both = Both::new().await;
    let created = both.run(create(link(1, at(0), 5, false))).await;
    assert!(created.contains("link_id: 1"), "{created}");
    // the tenant's third message this hour is the last: the second link's SMS is refused
    let second = both.run(create(link(2, at(10), 5, false))).await;
    assert!(second.contains("refused: [\""), "{second}");
    let resent = both.run(resend(1, 11, at(1_000))).await;
    assert!(resent.starts_with("Resent"), "{resent}");
    let too_soon = both.run(resend(1, 12, at(2_000))).await;
    assert!(too_soon.starts_with("Refused(RateLimited"), "{too_soon}");
    // the next hour's budget: a resend after the cooldown goes out again
    let again = both.run(resend(1, 13, at(HOUR + 1_000))).await;
    assert!(again.starts_with("Resent"), "{again}");
    assert_eq!(both.read(LinkByToken(token(1))).await, "None");
    assert_eq!(both.read(LinkByToken(token(11))).await, "None");
    assert!(both.read(LinkByToken(token(13))).await.starts_with("Some"));
    let missing = || Resend {
        tenant_id: OTHER,
        ..resend(1, 14, at(2 * HOUR))()
    };
    assert_eq!(both.run(missing).await, "NotFound");
    let revoked = both.run(revoke(TENANT, 1, at(2 * HOUR))).await;
    assert!(revoked.contains("revoked_at: Some"), "{revoked}");
    assert_eq!(both.run(revoke(TENANT, 1, at(3 * HOUR))).await, revoked);
    assert_eq!(both.run(revoke(OTHER, 2, at(3 * HOUR))).await, "None");
    let dead = both.run(resend(1, 15, at(3 * HOUR))).await;
    assert!(dead.starts_with("Refused(NotActive(Revoked"), "{dead}");
    for n in [1, 2] {
        both.same_records(TENANT, uid(n)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portal_commands_answer_as_the_embedded_store() {
    let both = Both::new().await;
    both.run(create(link(1, at(0), 2, true))).await;
    let denied = both.run(|| open(1, None, 50, at(10))).await;
    assert!(denied.starts_with("Denied"), "{denied}");
    let queued = both.run(|| issue(1, 30, at(20))).await;
    assert!(queued.starts_with("Queued(Some"), "{queued}");
    let cooldown = both.run(|| issue(1, 31, at(30))).await;
    assert!(cooldown.starts_with("Refused"), "{cooldown}");
    let wrong = both.run(|| verify(1, 99, at(40))).await;
    assert_eq!(wrong, "NotVerified { locked: false }");
    let right = both.run(|| verify(1, 30, at(50))).await;
    assert!(right.starts_with("Verified"), "{right}");
    assert_eq!(both.run(|| verify(1, 30, at(55))).await, wrong);
    let opened = both.run(|| open(1, Some(1), 51, at(60))).await;
    assert!(opened.starts_with("Opened"), "{opened}");
    assert_eq!(both.run(|| consume(51, OTHER, at(70))).await, "None");
    let grant = both.run(|| consume(51, TENANT, at(80))).await;
    assert!(grant.starts_with("Some"), "{grant}");
    assert_eq!(both.run(|| consume(51, TENANT, at(90))).await, "None");
    both.run(|| open(1, Some(1), 52, at(100))).await;
    let exhausted = both.run(|| open(1, Some(1), 53, at(110))).await;
    assert_eq!(exhausted, "Unavailable");
    assert_eq!(both.run(|| issue(1, 32, at(120))).await, "Unavailable");
    assert_eq!(both.run(|| consume(53, TENANT, at(130))).await, "None");
    both.same_records(TENANT, uid(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_and_its_unlock_answer_as_the_embedded_store() {
    let both = Both::new().await;
    both.run(create(link(3, at(0), 100, true))).await;
    both.run(|| issue(3, 30, at(10))).await;
    for i in 1..=10 {
        let outcome = both.run(|| verify(3, 99, at(10 + i))).await;
        assert_eq!(outcome, format!("NotVerified {{ locked: {} }}", i == 10));
    }
    assert_eq!(both.run(|| verify(3, 30, at(30))).await, "Unavailable");
    assert_eq!(
        both.run(|| open(3, Some(3), 60, at(40))).await,
        "Unavailable"
    );
    assert_eq!(both.run(unlock(OTHER, 3, at(50))).await, "None");
    let unlocked = both.run(unlock(TENANT, 3, at(60))).await;
    assert!(unlocked.contains("locked_at: None"), "{unlocked}");
    assert_eq!(both.run(unlock(TENANT, 3, at(70))).await, unlocked);
    // code 30 used up its tries: a new one is issued after the cooldown
    let reissued = both.run(|| issue(3, 31, at(70_000))).await;
    assert!(reissued.starts_with("Queued(Some"), "{reissued}");
    let verified = both.run(|| verify(3, 31, at(80_000))).await;
    assert!(verified.starts_with("Verified"), "{verified}");
    both.same_records(TENANT, uid(3)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_dies_with_a_resend_or_a_revocation_on_both_stores() {
    let both = Both::new().await;
    both.run(create(link(4, at(0), 10, false))).await;
    both.run(create(link(5, at(0), 10, false))).await;
    for (n, grant) in [(4, 41), (5, 51)] {
        let opened = both.run(|| open(n, None, grant, at(10))).await;
        assert!(opened.starts_with("Opened"), "{opened}");
    }
    both.run(resend(4, 44, at(20))).await;
    both.run(revoke(TENANT, 5, at(20))).await;
    assert_eq!(both.run(|| consume(41, TENANT, at(30))).await, "None");
    assert_eq!(both.run(|| consume(51, TENANT, at(30))).await, "None");
    let after = both.run(|| open(44, None, 42, at(40))).await;
    assert!(after.starts_with("Opened"), "{after}");
    let expired = 10 * 60_000;
    assert_eq!(both.run(|| consume(42, TENANT, at(expired))).await, "None");
    both.same_records(TENANT, uid(4)).await;
    both.same_records(TENANT, uid(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotent_creates_and_resends_answer_as_the_embedded_store() {
    let both = Both::new().await;
    let first = |n: u8, when: UnixMillis| {
        move || Idempotent {
            command: create(link(n, when, 5, false))(),
            stamp: Box::new(stamp("key-1", n, when)),
        }
    };
    let fresh = both.run(first(6, at(0))).await;
    assert!(fresh.starts_with("Fresh"), "{fresh}");
    let replay = both.run(first(7, at(1_000))).await;
    assert!(replay.starts_with("Replay"), "{replay}");
    assert_eq!(both.read(LinkByToken(token(7))).await, "None");
    let resend_under = |key: &'static str, new_token: u8, when: UnixMillis| {
        move || Idempotent {
            command: resend(6, new_token, when)(),
            stamp: Box::new(stamp(key, 6, when)),
        }
    };
    let resent = both.run(resend_under("key-2", 60, at(2_000))).await;
    assert!(resent.starts_with("Fresh(Resent"), "{resent}");
    let refused = both.run(resend_under("key-3", 61, at(2_001))).await;
    assert!(refused.starts_with("Fresh(Refused"), "{refused}");
    assert!(
        both.run(resend_under("key-2", 62, at(2_002)))
            .await
            .starts_with("Replay")
    );
    // a day later the key is free again: the expired record is replaced
    let day = 24 * HOUR;
    assert!(both.run(first(8, at(day))).await.starts_with("Fresh"));
    both.same_records(TENANT, uid(6)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_answers_as_the_embedded_store_in_bounded_batches() {
    let both = Both::new().await;
    for n in 10..15 {
        both.run(create(link(n, at(0), 5, false))).await;
    }
    both.run(revoke(TENANT, 14, at(HOUR))).await;
    // links 10..=13 expire at 24 h; 14 was revoked at 1 h
    let purge = |before: i64, limit: usize| {
        move || PurgeRetired {
            retired_before: at(before),
            limit,
            now: at(before),
            attachments_idle_before: at(0),
        }
    };
    let revoked_only = both.run(purge(2 * HOUR, 10)).await;
    assert_eq!(revoked_only, format!("{:?}", report(1, false)));
    assert_eq!(both.read(LinkByToken(token(14))).await, "None");
    both.read(AccessLogOf {
        tenant: TENANT,
        uid: uid(14),
    })
    .await;
    let late = 25 * HOUR;
    assert_eq!(
        both.run(purge(late, 3)).await,
        format!("{:?}", report(3, true))
    );
    assert_eq!(
        both.run(purge(late, 3)).await,
        format!("{:?}", report(1, false))
    );
    assert_eq!(
        both.run(purge(late, 3)).await,
        format!("{:?}", report(0, false))
    );
    for n in 10..15 {
        assert_eq!(both.read(LinkByToken(token(n))).await, "None");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_forgets_old_idempotency_keys_in_bounded_batches_as_the_embedded_store() {
    let both = Both::new().await;
    for n in 0..5u8 {
        let key = format!("key-{n}");
        both.run(|| Idempotent {
            command: create(link(80 + n, at(0), 5, false))(),
            stamp: Box::new(stamp(&key, 80 + n, at(0))),
        })
        .await;
    }
    // the links live on (retired_before is before their expiry); the keys are a day old
    let purge = || PurgeRetired {
        retired_before: at(HOUR),
        limit: 3,
        now: at(24 * HOUR + 1),
        attachments_idle_before: at(0),
    };
    assert_eq!(both.run(purge).await, format!("{:?}", report(0, true)));
    assert_eq!(both.run(purge).await, format!("{:?}", report(0, false)));
    let again = both
        .run(|| Idempotent {
            command: create(link(90, at(24 * HOUR + 2), 5, false))(),
            stamp: Box::new(stamp("key-0", 90, at(24 * HOUR + 2))),
        })
        .await;
    assert!(again.starts_with("Fresh"), "{again}");
}

fn report(purged: usize, more: bool) -> PurgeReport {
    PurgeReport {
        purged,
        more,
        attachments: Vec::new(),
    }
}

/// Each outcome's variant name, for a short failure message.
fn kinds<T: Debug>(outcomes: &[T]) -> Vec<String> {
    let name = |o: &T| {
        format!("{o:?}")
            .split(['(', ' ', '{'])
            .next()
            .map(str::to_owned)
    };
    outcomes.iter().filter_map(name).collect()
}

/// Two instances on one database: two pools, as two processes would have.
async fn two_instances() -> (PgStore, PgStore) {
    let settings = fresh_database();
    let (a, _) = PgStore::connect(&settings).await.unwrap();
    let (b, _) = PgStore::connect(&settings).await.unwrap();
    for id in [TENANT, OTHER] {
        a.write(&CreateTenant(tenant(id))).await.unwrap();
    }
    (a, b)
}

/// Runs `make(i)` for i in 0..n, alternately on the two instances, all at once.
async fn at_once<C, F>(stores: &(PgStore, PgStore), n: usize, make: F) -> Vec<C::Output>
where
    C: PgApply,
    F: Fn(usize) -> C,
{
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let store = (if i % 2 == 0 { &stores.0 } else { &stores.1 }).clone();
        let command = make(i);
        tasks.spawn(async move { store.write(&command).await.expect("write") });
    }
    tasks.join_all().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_opens_from_two_instances_of_a_three_view_link_open_exactly_three() {
    let stores = two_instances().await;
    let create = create(link(20, at(0), 3, false))();
    stores.0.write(&create).await.unwrap();
    let outcomes = at_once(&stores, 20, |i| open(20, None, 100 + i as u8, at(10))).await;
    let opened = outcomes
        .iter()
        .filter(|o| matches!(o, OpenOutcome::Opened(_)))
        .count();
    assert_eq!(opened, 3, "{:?}", kinds(&outcomes));
    let unavailable = outcomes
        .iter()
        .filter(|o| matches!(o, OpenOutcome::Unavailable))
        .count();
    assert_eq!(unavailable, 17);
    let link = stores
        .1
        .fetch(&LinkByToken(token(20)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(link.view_count, 3);
    let grants = (0..20)
        .map(|i| consume(100 + i as u8, TENANT, at(20)))
        .collect::<Vec<_>>();
    let mut exchanged = 0;
    for grant in &grants {
        exchanged += usize::from(stores.0.write(grant).await.unwrap().is_some());
    }
    assert_eq!(exchanged, 3, "one grant per counted view");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_exchanged_from_two_instances_at_once_is_exchanged_once() {
    let stores = two_instances().await;
    stores
        .0
        .write(&create(link(21, at(0), 3, false))())
        .await
        .unwrap();
    let opened = stores.1.write(&open(21, None, 77, at(10))).await.unwrap();
    assert!(matches!(opened, OpenOutcome::Opened(_)));
    let outcomes = at_once(&stores, 10, |_| consume(77, TENANT, at(20))).await;
    let exchanged = outcomes.iter().filter(|o| o.is_some()).count();
    assert_eq!(exchanged, 1, "{:?}", kinds(&outcomes));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_codes_from_two_instances_spend_one_budget_and_lock_once() {
    let stores = two_instances().await;
    stores
        .0
        .write(&create(link(22, at(0), 3, true))())
        .await
        .unwrap();
    let issued = stores.1.write(&issue(22, 30, at(10))).await.unwrap();
    assert!(matches!(issued, IssueOtpOutcome::Queued(Some(_))));
    let outcomes = at_once(&stores, 20, |_| verify(22, 99, at(20))).await;
    let count = |f: fn(&VerifyOutcome) -> bool| outcomes.iter().filter(|o| f(o)).count();
    assert_eq!(
        count(|o| matches!(o, VerifyOutcome::NotVerified { .. })),
        10
    );
    assert_eq!(
        count(|o| matches!(o, VerifyOutcome::NotVerified { locked: true })),
        1
    );
    assert_eq!(count(|o| matches!(o, VerifyOutcome::Unavailable)), 10);
    let link = stores
        .0
        .fetch(&LinkByToken(token(22)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(link.otp_failures, 10);
    assert!(link.locked_at.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passcode_requests_from_two_instances_send_once_within_the_cooldown() {
    let stores = two_instances().await;
    stores
        .0
        .write(&create(link(23, at(0), 3, true))())
        .await
        .unwrap();
    let outcomes = at_once(&stores, 10, |i| issue(23, 30 + i as u8, at(10))).await;
    let queued = outcomes
        .iter()
        .filter(|o| matches!(o, IssueOtpOutcome::Queued(Some(_))))
        .count();
    assert_eq!(queued, 1, "{:?}", kinds(&outcomes));
    let refused = outcomes
        .iter()
        .filter(|o| matches!(o, IssueOtpOutcome::Refused { .. }))
        .count();
    assert_eq!(refused, 9);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resends_from_two_instances_rotate_once_and_the_old_url_dies() {
    let stores = two_instances().await;
    stores
        .0
        .write(&create(link(24, at(0), 3, false))())
        .await
        .unwrap();
    let outcomes = at_once(&stores, 6, |i| resend(24, 200 + i as u8, at(10))()).await;
    let winners: Vec<&ResendOutcome> = outcomes
        .iter()
        .filter(|o| matches!(o, ResendOutcome::Resent(_)))
        .collect();
    assert_eq!(winners.len(), 1, "{:?}", kinds(&outcomes));
    let ResendOutcome::Resent(queued) = winners[0] else {
        unreachable!()
    };
    let current = queued.link.token_hash;
    assert_eq!(stores.1.fetch(&LinkByToken(token(24))).await.unwrap(), None);
    let found = stores.1.fetch(&LinkByToken(current)).await.unwrap();
    assert_eq!(found.map(|l| l.resent_at.len()), Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_idempotency_key_from_two_instances_at_once_creates_one_link() {
    let stores = two_instances().await;
    let outcomes = at_once(&stores, 6, |i| Idempotent {
        command: create(link(30 + i as u8, at(0), 3, false))(),
        stamp: Box::new(stamp("same-key", 30 + i as u8, at(0))),
    })
    .await;
    let fresh: Vec<_> = outcomes
        .iter()
        .filter_map(|o| match o {
            Replayable::Fresh(q) => Some(q.link.uid),
            Replayable::Replay(_) => None,
        })
        .collect();
    assert_eq!(fresh.len(), 1, "{:?}", kinds(&outcomes));
    for outcome in &outcomes {
        if let Replayable::Replay(record) = outcome {
            assert_eq!(record.link_uid, fresh[0]);
        }
    }
    let mut stored = 0;
    for i in 0..6 {
        stored += usize::from(
            stores
                .0
                .fetch(&LinkByToken(token(30 + i)))
                .await
                .unwrap()
                .is_some(),
        );
    }
    assert_eq!(stored, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purges_on_two_instances_at_once_share_the_work() {
    let stores = two_instances().await;
    for n in 40..70 {
        stores
            .0
            .write(&create(link(n, at(0), 3, false))())
            .await
            .unwrap();
    }
    let late = at(25 * HOUR);
    let mut purged = 0;
    loop {
        let outcomes = at_once(&stores, 4, |_| PurgeRetired {
            retired_before: late,
            limit: 4,
            now: late,
            attachments_idle_before: at(0),
        })
        .await;
        purged += outcomes.iter().map(|r| r.purged).sum::<usize>();
        if outcomes.iter().all(|r| !r.more) {
            break;
        }
    }
    assert_eq!(purged, 30, "each link purged once");
    for n in 40..70 {
        assert_eq!(stores.1.fetch(&LinkByToken(token(n))).await.unwrap(), None);
    }
}

/// A share of attachment `attachment`: link `n` of the share family.
fn share(n: u8, created: UnixMillis, attachment: uuid::Uuid) -> LinkRecord {
    LinkRecord {
        resource_type: customerlink::domain::share::SHARED_DOCUMENT.into(),
        resource_uid: attachment,
        ..link(n, created, 5, false)
    }
}

/// Stores an empty attachment uploaded at `created` on both stores (PostgreSQL: its one
/// sealed chunk first, as an upload does).
async fn put_attachment(both: &Both, id: uuid::Uuid, created: UnixMillis) {
    use customerlink::domain::attachment::AttachmentRecord;
    use customerlink::store::commands::{PutAttachment, PutAttachmentChunk};
    let chunk = PutAttachmentChunk {
        id,
        n: 1,
        bytes: vec![0; 16],
    };
    both.pg.write(&chunk).await.expect("postgres chunk");
    let record = AttachmentRecord {
        id,
        tenant_id: TENANT,
        name: "a.pdf".into(),
        content_type: "application/pdf".into(),
        download_only: false,
        size: 0,
        sha256: [0; 32],
        created_at: created,
        released_at: None,
    };
    both.run(|| PutAttachment {
        record: Box::new(record.clone()),
        header: vec![1; 65],
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_releases_an_attachment_with_its_last_share_and_removes_it_a_window_later() {
    use customerlink::store::queries::AttachmentOf;
    let both = Both::new().await;
    let id = uuid::Uuid::from_u128(0xa77);
    put_attachment(&both, id, at(0)).await;
    both.run(create(share(20, at(0), id))).await; // expires at 24 h
    both.run(create(share(21, at(2 * HOUR), id))).await; // expires at 26 h
    let purge = |now: i64, idle_before: i64| {
        move || PurgeRetired {
            retired_before: at(now),
            limit: 10,
            now: at(now),
            attachments_idle_before: at(idle_before),
        }
    };
    let of = AttachmentOf { tenant: TENANT, id };
    // Past the window since the upload, but a share still holds it: kept, not released.
    let first = both.run(purge(25 * HOUR, 25 * HOUR)).await;
    assert!(
        first.contains("purged: 1,") && first.contains("attachments: []"),
        "{first}"
    );
    assert!(both.read(of).await.contains("released_at: None"));
    // Its last share goes: released at that moment, in the same transaction.
    let second = both.run(purge(27 * HOUR, 27 * HOUR)).await;
    assert!(
        second.contains("purged: 1,") && second.contains("attachments: []"),
        "{second}"
    );
    let released = format!("released_at: Some({:?})", at(27 * HOUR));
    assert!(both.read(of).await.contains(&released), "{released}");
    assert!(both.redb.check().unwrap().is_consistent());
    // A window after the release (the window here: 1 ms), the purge removes it.
    let third = both.run(purge(27 * HOUR + 1, 27 * HOUR + 1)).await;
    assert!(third.contains(&format!("attachments: [{id:?}]")), "{third}");
    assert_eq!(both.read(of).await, "None");
    assert!(both.redb.check().unwrap().is_consistent());
}
