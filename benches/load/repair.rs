//! Start-up after an unclean stop, with and without redb's quick-repair. A copy of the file
//! taken while the store is open and idle is exactly what `kill -9` (or a power cut after the
//! last durable commit) leaves behind: every commit is on disk and the "needs recovery" flag
//! is set. Opening that copy runs redb's repair. Also measures what quick-repair costs: the
//! latency of single-command commits, which it makes record the allocator state (and use
//! two-phase commit).

use std::path::Path;

use std::time::{Duration, Instant};

use customerlink::clock::{Clock, SystemClock};
use customerlink::config::WriterSettings;
use customerlink::domain::policy::{DEFAULT_POLICY, Policy};
use customerlink::domain::tenant::StaffCaller;
use customerlink::domain::token::{HashKeys, Secret};
use customerlink::store::Store;
use uuid::Uuid;

/// One mode's numbers.
pub struct RepairRow {
    pub quick_repair: bool,
    pub commit_p50: Duration,
    pub commit_p99: Duration,
    pub commits_per_sec: f64,
    pub clean_open: Duration,
    pub repair_open: Duration,
}

/// Measures both modes on the database at `data/customerlink.redb` (left as it was found,
/// plus the few links the commit measurement adds).
pub fn measure(data: &Path, settings: &WriterSettings) -> Result<Vec<RepairRow>, String> {
    let db = data.join("customerlink.redb");
    let mut rows = Vec::new();
    for quick_repair in [false, true] {
        let settings = WriterSettings {
            quick_repair,
            ..settings.clone()
        };
        let started = Instant::now();
        let store = Store::open(&db, &settings).map_err(|e| e.to_string())?;
        let clean_open = started.elapsed();
        let (p50, p99, rate) = commit_latency(&store, 300)?;
        let crashed = data.join(format!("crashed-{quick_repair}.redb"));
        std::fs::copy(&db, &crashed).map_err(|e| e.to_string())?;
        store.close().map_err(|e| e.to_string())?;
        let started = Instant::now();
        let repaired = Store::open(&crashed, &settings).map_err(|e| e.to_string())?;
        let repair_open = started.elapsed();
        repaired.close().map_err(|e| e.to_string())?;
        let _ = std::fs::remove_file(&crashed);
        rows.push(RepairRow {
            quick_repair,
            commit_p50: p50,
            commit_p99: p99,
            commits_per_sec: rate,
            clean_open,
            repair_open,
        });
    }
    Ok(rows)
}

/// `n` creates, one commit each (the caller waits for each): (p50, p99, commits/s).
fn commit_latency(store: &Store, n: usize) -> Result<(Duration, Duration, f64), String> {
    let keys = HashKeys::derive(&Secret::new([7; 32]));
    let policy = Policy::parse(DEFAULT_POLICY)?;
    let caller = StaffCaller {
        tenant_id: Uuid::new_v4().into(),
        user_id: Uuid::new_v4().into(),
        agent_id: None,
        roles: vec![],
        casing: None,
    };
    let now = SystemClock.now();
    let mut times = Vec::with_capacity(n);
    let all = Instant::now();
    for i in 0..n {
        let (op, _, _) = crate::seed::new_link(&policy, &keys, &caller, i as u64, now)?;
        let started = Instant::now();
        store.write_blocking(op).map_err(|e| e.to_string())?;
        times.push(started.elapsed());
    }
    let rate = n as f64 / all.elapsed().as_secs_f64();
    times.sort();
    Ok((times[n / 2], times[n * 99 / 100], rate))
}
