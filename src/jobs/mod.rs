//! jobs: background work that runs in rounds — purge of retired links, the outbox worker
//! that retries deliveries, and the landing log's batch writes. Each is a [`Job`]: one round
//! every interval until its `stop` is awaited, which lets the round in progress finish.

pub mod landing_log;
pub mod outbox;
pub mod purge;

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A running background job.
pub struct Job {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Job {
    /// Runs `round` at once and then every `period` (a late round delays the next rather than
    /// bunching up). The round gets the stop signal, to end a long round early; with
    /// `last_round_on_stop`, one more round runs when the job is stopped (to write what is
    /// still collected).
    pub fn every<F, Fut>(period: Duration, last_round_on_stop: bool, mut round: F) -> Job
    where
        F: FnMut(watch::Receiver<bool>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send,
    {
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            let mut ticks = tokio::time::interval(period);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                let stopping = tokio::select! {
                    _ = stopped.changed() => true,
                    _ = ticks.tick() => false,
                };
                if stopping && !last_round_on_stop {
                    return;
                }
                round(stopped.clone()).await;
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
