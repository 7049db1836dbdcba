//! Builds a data folder with N links quickly: straight through the library (the same writer
//! and indexes the server uses), thousands of creates per commit. Keeps samples of what the
//! load generator needs: link uids, resource ids, raw portal tokens.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use customerlink::app::AppState;
use customerlink::clock::{Clock, SystemClock, UnixMillis};
use customerlink::config::Config;
use customerlink::domain::link::{ContactLookup, CreateLink, plan_link};
use customerlink::domain::policy::Policy;
use customerlink::domain::tenant::StaffCaller;
use customerlink::domain::token::{HashKeys, LinkToken};
use customerlink::ops::admin::{self, KeySpec};
use customerlink::store::SendLimits;
use customerlink::store::commands::CreateLink as Create;
use uuid::Uuid;

/// Links per resource: list-by-resource returns this many.
pub const LINKS_PER_RESOURCE: u64 = 4;
/// How many links of each kind the generator keeps to draw requests from.
const SAMPLE: usize = 50_000;

/// What the load generator draws from.
pub struct Seeded {
    pub api_key: String,
    pub link_uids: Vec<Uuid>,
    /// (resource type, resource uid) of links that exist.
    pub resources: Vec<(String, Uuid)>,
    /// Raw tokens of Standard-tier (no passcode) links, for the portal.
    pub tokens: Vec<String>,
}

/// Creates a tenant, a key and `n` Quote links (Standard tier), `LINKS_PER_RESOURCE` per
/// resource, then closes the database cleanly.
pub fn build(config: Config, n: u64) -> Result<Seeded, String> {
    let (runtime, state) = open(config)?;
    let (mut seeded, caller) = tenant(&state)?;
    create(
        &runtime,
        &state,
        &caller,
        &mut seeded,
        0..n,
        SystemClock.now(),
    )?;
    let state = Arc::into_inner(state).ok_or("state still shared")?;
    state.close();
    Ok(seeded)
}

/// The library's state on `config`'s folder, tuned for bulk writes, and a runtime to drive it.
pub fn open(config: Config) -> Result<(tokio::runtime::Runtime, Arc<AppState>), String> {
    let mut config = config;
    config.writer.max_batch = 8192;
    config.writer.queue_capacity = 16_384;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let state = Arc::new(AppState::open(config, Arc::new(SystemClock)).map_err(|e| e.to_string())?);
    Ok((runtime, state))
}

/// A tenant with an administrator key, and the caller that creates its links.
pub fn tenant(state: &AppState) -> Result<(Seeded, StaffCaller), String> {
    let now = SystemClock.now();
    let tenant = admin::create_tenant(&state.store, "Bench", now).map_err(|e| e.to_string())?;
    let user = Uuid::new_v4();
    let spec = KeySpec {
        tenant_id: tenant,
        user_id: user.into(),
        agent_id: None,
        name: Some("bench".into()),
        roles: vec!["Administrator".into()],
        casing: None,
    };
    let key = admin::create_key(&state.store, &state.keys, spec, now).map_err(|e| e.to_string())?;
    let caller = StaffCaller {
        tenant_id: tenant,
        user_id: user.into(),
        agent_id: None,
        roles: vec![],
        casing: None,
    };
    let seeded = Seeded {
        api_key: key.expose().clone(),
        link_uids: Vec::new(),
        resources: Vec::new(),
        tokens: Vec::new(),
    };
    Ok((seeded, caller))
}

/// Creates links number `range` as made at `now`, thousands per commit.
pub fn create(
    runtime: &tokio::runtime::Runtime,
    state: &Arc<AppState>,
    caller: &StaffCaller,
    seeded: &mut Seeded,
    range: std::ops::Range<u64>,
    now: UnixMillis,
) -> Result<(), String> {
    let started = Instant::now();
    let chunk = 8192;
    let (mut made, n) = (range.start, range.end);
    while made < n {
        let count = chunk.min(n - made);
        let batch = (made..made + count)
            .map(|i| new_link(&state.policy, &state.keys, caller, i, now))
            .collect::<Result<Vec<_>, String>>()?;
        let writes = runtime.block_on(async {
            let mut set = tokio::task::JoinSet::new();
            for (op, uid, token) in batch {
                let state = Arc::clone(state);
                set.spawn(async move { state.store.write(op).await.map(|_| (uid, token)) });
            }
            set.join_all().await
        });
        for (i, written) in writes.into_iter().enumerate() {
            let (uid, token) = written.map_err(|e| e.to_string())?;
            let index = made + i as u64;
            keep(seeded, index, uid, token);
        }
        made += count;
        if made.is_multiple_of(chunk * 16) {
            eprintln!(
                "  seeded {made}/{n} links ({:.0}/s)",
                made as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    Ok(())
}

/// Keeps an evenly spread sample, so requests touch the whole key space.
fn keep(seeded: &mut Seeded, index: u64, uid: Uuid, token: String) {
    if seeded.link_uids.len() < SAMPLE || index.is_multiple_of(7) {
        if seeded.link_uids.len() >= SAMPLE {
            let slot = (index as usize / 7) % SAMPLE;
            seeded.link_uids[slot] = uid;
            seeded.tokens[slot] = token;
        } else {
            seeded.link_uids.push(uid);
            seeded.tokens.push(token);
        }
    }
    if index.is_multiple_of(LINKS_PER_RESOURCE) && seeded.resources.len() < SAMPLE {
        seeded.resources.push(("Quote".into(), resource_uid(index)));
    }
}

/// Spread over the key space, as real (random) Guids are.
fn resource_uid(index: u64) -> Uuid {
    Uuid::from_u128(crate::scattered(index / LINKS_PER_RESOURCE))
}

/// The create command for link number `i` (a Quote, no delivery): (command, uid, token).
pub fn new_link(
    policy: &Policy,
    keys: &HashKeys,
    caller: &StaffCaller,
    i: u64,
    now: UnixMillis,
) -> Result<(Create, Uuid, String), String> {
    let token = LinkToken::generate().map_err(|e| e.to_string())?;
    let req = CreateLink {
        resource_type: Some("Quote".into()),
        resource_uid: Some(resource_uid(i)),
        recipient_email: Some(format!("r{i}@example.com")),
        ..CreateLink::default()
    };
    // As the server makes them: time-ordered.
    let uid = Uuid::now_v7();
    let planned = plan_link(
        &req,
        ContactLookup::NotRequested,
        policy,
        caller,
        now,
        uid.into(),
        keys.token(customerlink::domain::share::Family::CustomerLink, &token),
    )
    .map_err(|e| format!("{e:?}"))?;
    let op = Create {
        link: Box::new(planned.record),
        deliveries: Vec::new(),
        limits: SendLimits {
            per_recipient_per_hour: 10,
            per_tenant_per_hour: 1000,
            first_retry_at: now,
        },
    };
    Ok((op, uid, token.encode()))
}

/// Size of the database file, for the report.
pub fn file_size(data: &Path) -> u64 {
    std::fs::metadata(data.join("customerlink.redb"))
        .map(|m| m.len())
        .unwrap_or(0)
}

/// Bytes the database file occupies on disk: redb grows its file by doubling (`set_len`, so
/// the tail is a hole until pages there are written), so this, not the length, is what the
/// data costs.
pub fn disk_usage(data: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(data.join("customerlink.redb"))
        .map(|m| m.blocks() * 512)
        .unwrap_or(0)
}
