//! jobs: background work that runs in rounds — purge of retired links, the outbox worker
//! that retries deliveries, and the landing log's batch writes. Each is a [`Job`]: one round
//! every interval until its `stop` is awaited, which lets the round in progress finish. The
//! interval is waited out on the injected [`Clock`] (the system's timer in production), so a
//! test's manual clock runs the rounds and no test waits on wall time.
//! Each round runs supervised: a round that panics is logged and counted in
//! `customerlink_job_panics_total{job}`, and the job goes on with its next round, so one bad
//! record or bug cannot silently stop purges, deliveries or the access log for good.

pub mod landing_log;
pub mod outbox;
pub mod purge;
pub mod reissue;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::clock::{Clock, Sleep};
use crate::metrics::JobPanics;
use crate::store::Store;

/// What every job needs — the store it writes to, the clock its rounds follow and the count
/// its panics go to — handed over instead of the whole server state. Cheap to clone.
#[derive(Clone)]
pub struct Handles {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub panics: Arc<JobPanics>,
}

/// A running background job.
pub struct Job {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Job {
    /// Runs `round` at once and then every `period` of `clock` (a late round delays the next
    /// rather than bunching up; a test's manual clock drives the rounds without wall time). The round gets the stop signal, to end a long round early; with
    /// `last_round_on_stop`, one more round runs when the job is stopped (to write what is
    /// still collected). `name` labels the job in logs and in `panics`, where it is listed
    /// from now on. Only the future `round` returns is supervised, so `round` itself should
    /// do no more than clone what the future needs.
    pub fn every<F, Fut>(
        name: &'static str,
        panics: Arc<JobPanics>,
        clock: Arc<dyn Clock>,
        period: Duration,
        last_round_on_stop: bool,
        round: F,
    ) -> Job
    where
        F: FnMut(watch::Receiver<bool>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Self::start(name, panics, clock, period, None, last_round_on_stop, round)
    }

    /// [`Job::every`], and also as soon as `wake` is notified (a notification during a round
    /// runs the next round right after it), so urgent work need not wait for the interval.
    pub fn every_or_when_woken<F, Fut>(
        name: &'static str,
        panics: Arc<JobPanics>,
        clock: Arc<dyn Clock>,
        period: Duration,
        wake: Arc<Notify>,
        round: F,
    ) -> Job
    where
        F: FnMut(watch::Receiver<bool>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Self::start(name, panics, clock, period, Some(wake), false, round)
    }

    fn start<F, Fut>(
        name: &'static str,
        panics: Arc<JobPanics>,
        clock: Arc<dyn Clock>,
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
            let mut tick = clock.sleep(Duration::ZERO);
            loop {
                let cause = next_round(&mut stopped, &mut tick, wake.as_deref()).await;
                if cause == Cause::Tick {
                    tick = clock.sleep(period);
                }
                let stopping = cause == Cause::Stop;
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

/// Why a round runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cause {
    Stop,
    Tick,
    Woken,
}

/// Waits for the stop signal, the tick (a wait on the job's clock, re-armed by the caller
/// when it fires, so a late round delays the next rather than bunching up) or a wake.
async fn next_round(
    stopped: &mut watch::Receiver<bool>,
    tick: &mut Sleep,
    wake: Option<&Notify>,
) -> Cause {
    let woken = async {
        match wake {
            Some(wake) => wake.notified().await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = stopped.changed() => Cause::Stop,
        () = tick => Cause::Tick,
        () = woken => Cause::Woken,
    }
}

/// Runs one round in its own task, so that a panic ends only that task: the panic is logged
/// (its message was already printed by the panic hook) and counted, and the caller goes on.
/// Every finished round is counted (`customerlink_job_rounds_total{job}`).
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
    panics.finished(name);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::domain::millis::ms;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Counts rounds and lets the test wait for the next one without wall-clock bounds.
    #[derive(Default)]
    struct Rounds {
        done: AtomicUsize,
        ran: Notify,
    }

    impl Rounds {
        fn counted(
            self: &Arc<Self>,
        ) -> impl FnMut(watch::Receiver<bool>) -> std::future::Ready<()> + use<> {
            let rounds = Arc::clone(self);
            move |_| {
                rounds.done.fetch_add(1, Ordering::SeqCst);
                rounds.ran.notify_one();
                std::future::ready(())
            }
        }

        async fn reach(&self, n: usize) {
            while self.done.load(Ordering::SeqCst) < n {
                self.ran.notified().await;
            }
        }
    }

    #[tokio::test]
    async fn rounds_follow_the_jobs_clock_not_wall_time() {
        let clock = Arc::new(ManualClock::at(ms(0)));
        let rounds = Arc::new(Rounds::default());
        let panics = Arc::new(JobPanics::default());
        let period = Duration::from_secs(3600);
        let job = Job::every(
            "hourly",
            panics,
            clock.clone(),
            period,
            false,
            rounds.counted(),
        );
        rounds.reach(1).await;
        clock.advance_hours(1);
        rounds.reach(2).await;
        clock.advance_hours(1);
        rounds.reach(3).await;
        job.stop().await;
        assert_eq!(
            rounds.done.load(Ordering::SeqCst),
            3,
            "no round without the clock"
        );
    }

    #[tokio::test]
    async fn a_wake_runs_a_round_and_a_stop_runs_the_last_one() {
        let clock = Arc::new(ManualClock::at(ms(0)));
        let rounds = Arc::new(Rounds::default());
        let wake = Arc::new(Notify::new());
        let panics = Arc::new(JobPanics::default());
        let period = Duration::from_secs(3600);
        let job = Job::every_or_when_woken(
            "woken",
            panics,
            clock,
            period,
            Arc::clone(&wake),
            rounds.counted(),
        );
        rounds.reach(1).await;
        wake.notify_one();
        rounds.reach(2).await;
        job.stop().await;
        assert_eq!(rounds.done.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_panicking_round_is_counted_and_the_next_round_runs() {
        let clock = Arc::new(ManualClock::at(ms(0)));
        let panics = Arc::new(JobPanics::default());
        let rounds = Arc::new(Rounds::default());
        let seen = Arc::clone(&rounds);
        let job = Job::every(
            "flaky",
            Arc::clone(&panics),
            clock.clone(),
            Duration::from_millis(5),
            true,
            move |_| {
                let seen = Arc::clone(&seen);
                async move {
                    let n = seen.done.fetch_add(1, Ordering::SeqCst);
                    seen.ran.notify_one();
                    if n == 0 {
                        panic!("first round fails");
                    }
                }
            },
        );
        rounds.reach(1).await;
        clock.advance_millis(5);
        rounds.reach(2).await;
        job.stop().await;
        assert_eq!(
            rounds.done.load(Ordering::SeqCst),
            3,
            "the last round on stop ran too"
        );
        assert_eq!(panics.count("flaky"), 1);
    }
}
