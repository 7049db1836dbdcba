//! The store's own ceiling for durable creates: the server's writer, tables and indexes
//! driven directly, with no HTTP, by `clients` tasks that each wait for their create before
//! sending the next (what the HTTP benchmark's connections do). No front end can create
//! faster than this, so it bounds the create rows of the HTTP table.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use customerlink::clock::{Clock, SystemClock};
use customerlink::config::WriterSettings;
use customerlink::domain::policy::{DEFAULT_POLICY, Policy};
use customerlink::domain::tenant::StaffCaller;
use customerlink::domain::token::{HashKeys, Secret};
use customerlink::metrics::WriterStats;
use customerlink::store::Store;
use uuid::Uuid;

/// One measurement of the writer alone.
pub struct CeilingRow {
    pub clients: usize,
    pub max_batch: usize,
    pub creates_per_sec: f64,
    /// Creates per commit, as the writer counted them.
    pub batch: f64,
    /// Mean time of one commit (apply + durable commit), in ms.
    pub commit_ms: f64,
}

/// Creates/s through the writer alone on the database in `data`, for each
/// (clients, max_batch) pair.
pub fn measure(
    data: &Path,
    settings: &WriterSettings,
    runs: &[(usize, usize)],
    duration: Duration,
) -> Result<Vec<CeilingRow>, String> {
    let db = data.join("customerlink.redb");
    let mut rows = Vec::new();
    for &(clients, max_batch) in runs {
        let settings = WriterSettings {
            max_batch,
            ..settings.clone()
        };
        let stats = Arc::new(WriterStats::default());
        let observer = Arc::clone(&stats);
        let store = Store::open_observed(&db, &settings, observer).map_err(|e| e.to_string())?;
        let (commits, commands) = (stats.commits(), stats.commands());
        let commit_time = stats.commit_seconds_sum();
        let started = Instant::now();
        let done = drive(&store, clients, duration)?;
        let elapsed = started.elapsed().as_secs_f64();
        let commits = (stats.commits() - commits).max(1) as f64;
        rows.push(CeilingRow {
            clients,
            max_batch,
            creates_per_sec: done as f64 / elapsed,
            batch: (stats.commands() - commands) as f64 / commits,
            commit_ms: (stats.commit_seconds_sum() - commit_time) * 1000.0 / commits,
        });
        store.close().map_err(|e| e.to_string())?;
    }
    Ok(rows)
}

/// `clients` tasks creating links back to back for `duration`; returns how many were made.
fn drive(store: &Store, clients: usize, duration: Duration) -> Result<u64, String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let keys = Arc::new(HashKeys::derive(&Secret::new([9; 32])));
    let policy = Arc::new(Policy::parse(DEFAULT_POLICY)?);
    let caller = Arc::new(StaffCaller {
        tenant_id: Uuid::new_v4().into(),
        user_id: Uuid::new_v4().into(),
        agent_id: None,
        roles: vec![],
        casing: None,
    });
    let made = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + duration;
    let results = runtime.block_on(async {
        let mut set = tokio::task::JoinSet::new();
        for client in 0..clients as u64 {
            let (store, keys, policy) = (store.clone(), Arc::clone(&keys), Arc::clone(&policy));
            let (caller, made) = (Arc::clone(&caller), Arc::clone(&made));
            set.spawn(async move {
                let mut i = client << 40;
                while Instant::now() < deadline {
                    let now = SystemClock.now();
                    let (op, _, _) = crate::seed::new_link(&policy, &keys, &caller, i, now)?;
                    store.write(op).await.map_err(|e| e.to_string())?;
                    made.fetch_add(1, Ordering::Relaxed);
                    i += 1;
                }
                Ok::<(), String>(())
            });
        }
        set.join_all().await
    });
    results.into_iter().collect::<Result<Vec<()>, String>>()?;
    Ok(made.load(Ordering::Relaxed))
}
