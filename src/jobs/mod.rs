//! jobs: background work that runs in rounds — purge of retired links, the outbox worker
//! that retries deliveries, and the landing log's batch writes. Each is a [`Job`]: one round
//! every interval until its `stop` is awaited, which lets the round in progress finish.
//! Each round runs supervised: a round that panics is logged and counted in
//! `customerlink_job_panics_total{job}`, and the job goes on with its next round, so one bad
//! record or bug cannot silently stop purges, deliveries or the access log for good.

pub mod landing_log;
pub mod outbox;
pub mod purge;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::metrics::JobPanics;

/// A running background job.
pub struct Job {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Job {
    /// Runs `round` at once and then every `period` (a late round delays the next rather than
    /// bunching up). The round gets the stop signal, to end a long round early; with
    /// `last_round_on_stop`, one more round runs when the job is stopped (to write what is
    /// still collected). `name` labels the job in logs and in `panics`, where it is listed
    /// from now on. Only the future `round` returns is supervised, so `round` itself should
    /// do no more than clone what the future needs.
    pub fn every<F, Fut>(
        name: &'static str,
        panics: Arc<JobPanics>,
        period: Duration,
        last_round_on_stop: bool,
        round: F,
    ) -> Job
    where
        F: FnMut(watch::Receiver<bool>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Self::start(name, panics, period, None, last_round_on_stop, round)
    }

    /// [`Job::every`], and also as soon as `wake` is notified (a notification during a round
    /// runs the next round right after it), so urgent work need not wait for the interval.
    pub fn every_or_when_woken<F, Fut>(
        name: &'static str,
        panics: Arc<JobPanics>,
        period: Duration,
        wake: Arc<Notify>,
        round: F,
    ) -> Job
    where
        F: FnMut(watch::Receiver<bool>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Self::start(name, panics, period, Some(wake), false, round)
    }

    fn start<F, Fut>(
        name: &'static str,
        panics: Arc<JobPanics>,
        period: Duration,
        wake: Option<Arc<Notify>>,
        last_round_on_stop: bool,
        mut round: F,
    ) -> Job
    where
        F: FnMut(watch::Receiver<bool>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        panics.register(name);
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            let mut ticks = tokio::time::interval(period);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                let woken = async {
                    match &wake {
                        Some(wake) => wake.notified().await,
                        None => std::future::pending().await,
                    }
                };
                let stopping = tokio::select! {
                    _ = stopped.changed() => true,
                    _ = ticks.tick() => false,
                    () = woken => false,
                };
                if stopping && !last_round_on_stop {
                    return;
                }
                supervised(name, &panics, round(stopped.clone())).await;
                if stopping {
                    return;
                }
            }
        });
        Job { stop, task }
    }

    /// Asks the job to stop and waits until it has.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Runs one round in its own task, so that a panic ends only that task: the panic is logged
/// (its message was already printed by the panic hook) and counted, and the caller goes on.
async fn supervised(
    name: &'static str,
    panics: &JobPanics,
    round: impl Future<Output = ()> + Send + 'static,
) {
    if let Err(e) = tokio::spawn(round).await
        && e.is_panic()
    {
        panics.panicked(name);
        tracing::error!(
            job = name,
            "a job round panicked; the next round runs as scheduled"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn a_panicking_round_is_counted_and_the_next_round_runs() {
        let panics = Arc::new(JobPanics::default());
        let rounds = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&rounds);
        let job = Job::every(
            "flaky",
            Arc::clone(&panics),
            Duration::from_millis(5),
            false,
            move |_| {
                let n = seen.fetch_add(1, Ordering::SeqCst);
                async move {
                    if n == 0 {
                        panic!("first round fails");
                    }
                }
            },
        );
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while rounds.load(Ordering::SeqCst) < 3 {
            assert!(tokio::time::Instant::now() < deadline, "the job stopped");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        job.stop().await;
        assert_eq!(panics.count("flaky"), 1);
    }
}
