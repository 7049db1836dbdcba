//! Panics of background jobs, by job name: a supervised job survives a panicking round
//! (see `jobs::Job::every`), and this count is how an operator learns that one happened.
//! Every job is listed from its start with 0, so an alert can watch the series' increase.
//! Finished rounds are counted too: they show a job is alive, and a test waits on them
//! instead of on wall time.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

/// The job a count belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct Job {
    job: &'static str,
}

/// Panicked and finished rounds per job.
#[derive(Debug, Default)]
pub struct JobPanics {
    by_job: Family<Job, Counter>,
    rounds: Family<Job, Counter>,
}

impl JobPanics {
    /// Lists `job` with 0 panics (keeps its count if already listed).
    pub fn register(&self, job: &'static str) {
        drop(self.by_job.get_or_create(&Job { job }));
    }

    /// Counts one finished round of `job` (panicked or not); a job is listed from its first.
    pub fn finished(&self, job: &'static str) {
        self.rounds.get_or_create(&Job { job }).inc();
    }

    /// Counts one panicked round of `job`.
    pub fn panicked(&self, job: &'static str) {
        self.by_job.get_or_create(&Job { job }).inc();
    }

    /// The count for `job` (0 when unknown).
    pub fn count(&self, job: &'static str) -> u64 {
        self.by_job.get(&Job { job }).map_or(0, |c| c.get())
    }

    pub(super) fn register_in(&self, r: &mut Registry) {
        let help = "Background job rounds that panicked (the job went on with its next round)";
        super::add(r, "customerlink_job_panics", help, &self.by_job);
        let help = "Background job rounds finished";
        super::add(r, "customerlink_job_rounds", help, &self.rounds);
    }
}
