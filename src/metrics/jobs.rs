//! Panics of background jobs, by job name: a supervised job survives a panicking round
//! (see `jobs::Job::every`), and this count is how an operator learns that one happened.
//! Every job is listed from its start with 0, so an alert can watch the series' increase.
//! Finished rounds are counted too: they show a job is alive, and a test waits on them
//! instead of on wall time.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

use super::header;

/// Panicked rounds per job.
#[derive(Debug, Default)]
pub struct JobPanics {
    by_job: Mutex<BTreeMap<&'static str, u64>>,
    rounds: Mutex<BTreeMap<&'static str, u64>>,
}

impl JobPanics {
    /// Lists `job` with 0 panics (keeps its count if already listed).
    pub fn register(&self, job: &'static str) {
        let mut map = self.by_job.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(job).or_insert(0);
    }

    /// Counts one finished round of `job` (panicked or not); a job is listed from its first.
    pub fn finished(&self, job: &'static str) {
        let mut map = self.rounds.lock().unwrap_or_else(|p| p.into_inner());
        *map.entry(job).or_insert(0) += 1;
    }

    /// Counts one panicked round of `job`.
    pub fn panicked(&self, job: &'static str) {
        let mut map = self.by_job.lock().unwrap_or_else(|p| p.into_inner());
        *map.entry(job).or_insert(0) += 1;
    }

    /// The count for `job` (0 when unknown).
    pub fn count(&self, job: &str) -> u64 {
        let map = self.by_job.lock().unwrap_or_else(|p| p.into_inner());
        map.get(job).copied().unwrap_or(0)
    }

    pub(super) fn render(&self, out: &mut String) {
        let name = "customerlink_job_panics_total";
        header(
            out,
            name,
            "counter",
            "Background job rounds that panicked (the job went on with its next round).",
        );
        let map = self.by_job.lock().unwrap_or_else(|p| p.into_inner());
        for (job, n) in map.iter() {
            let _ = writeln!(out, "{name}{{job=\"{job}\"}} {n}");
        }
        let name = "customerlink_job_rounds_total";
        header(out, name, "counter", "Background job rounds finished.");
        let map = self.rounds.lock().unwrap_or_else(|p| p.into_inner());
        for (job, n) in map.iter() {
            let _ = writeln!(out, "{name}{{job=\"{job}\"}} {n}");
        }
    }
}
