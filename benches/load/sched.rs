//! Where a process's threads waited for a core: per thread name, the CPU time and the time
//! spent runnable but not running (`/proc/<pid>/task/<tid>/schedstat`: run ns, run-queue wait
//! ns, time slices). Under a competing CPU-bound process this says whether a slow request was
//! slow because the writer or a worker was waiting for the scheduler, not guessed from the
//! latency alone.

use std::collections::BTreeMap;

/// Cumulative scheduler counters of one thread group (threads sharing a name).
#[derive(Debug, Clone, Copy, Default)]
pub struct Sched {
    pub threads: u32,
    pub run_ns: u64,
    pub wait_ns: u64,
    pub slices: u64,
}

/// The counters of every thread of `pid`, grouped by thread name (`comm`).
pub fn snapshot(pid: u32) -> BTreeMap<String, Sched> {
    let mut out: BTreeMap<String, Sched> = BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return out;
    };
    for task in tasks.flatten() {
        let dir = task.path();
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        let stat = std::fs::read_to_string(dir.join("schedstat")).unwrap_or_default();
        let fields: Vec<u64> = stat
            .split_whitespace()
            .filter_map(|f| f.parse().ok())
            .collect();
        if let [run, wait, slices] = fields[..] {
            let entry = out.entry(comm.trim().to_owned()).or_default();
            entry.threads += 1;
            entry.run_ns += run;
            entry.wait_ns += wait;
            entry.slices += slices;
        }
    }
    out
}

/// Per group, what happened between two snapshots; groups that did not run are left out.
pub fn since(
    after: &BTreeMap<String, Sched>,
    before: &BTreeMap<String, Sched>,
) -> Vec<(String, Sched)> {
    after
        .iter()
        .filter_map(|(name, a)| {
            let b = before.get(name).copied().unwrap_or_default();
            let d = Sched {
                threads: a.threads,
                run_ns: a.run_ns.saturating_sub(b.run_ns),
                wait_ns: a.wait_ns.saturating_sub(b.wait_ns),
                slices: a.slices.saturating_sub(b.slices),
            };
            (d.slices > 0).then(|| (name.clone(), d))
        })
        .collect()
}

/// "writer: 1 thread, 812 ms CPU, 95 ms waiting (31 µs per slice)" for each group.
pub fn describe(groups: &[(String, Sched)]) -> String {
    groups
        .iter()
        .map(|(name, s)| {
            format!(
                "{name} ×{}: {:.0} ms CPU, {:.0} ms runnable but waiting ({:.0} µs per slice)",
                s.threads,
                s.run_ns as f64 / 1e6,
                s.wait_ns as f64 / 1e6,
                s.wait_ns as f64 / 1e3 / s.slices.max(1) as f64
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}
