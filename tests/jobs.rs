//! Background jobs are supervised (issue 10, item 8): `/metrics` lists each job's panicked
//! rounds from the start, at 0 on a healthy server. Their rounds follow the injected clock
//! (issue 12, item 8): moving the test's manual clock runs them. (That a panicking round is counted and
//! the next round runs is proven by the unit test in `src/jobs/mod.rs`: no request can make
//! a job panic once the known triggers are fixed.)

use crate::support::{Req, TestServer};

#[test]
fn metrics_list_panics_of_every_job_at_zero() {
    let s = TestServer::start();
    let metrics = Req::new(s.addr, "GET", "/metrics").send();
    assert_eq!(metrics.status, 200);
    assert!(
        metrics
            .body
            .contains("# TYPE customerlink_job_panics_total counter\n"),
        "{}",
        metrics.body
    );
    for job in ["landing_log", "link_gauges", "outbox", "purge"] {
        let line = format!("customerlink_job_panics_total{{job=\"{job}\"}} 0\n");
        assert!(
            metrics.body.contains(&line),
            "missing {line}in {}",
            metrics.body
        );
    }
}

#[test]
fn a_jobs_rounds_follow_the_servers_clock() {
    let s = TestServer::start();
    crate::support::sinks::wait_until(|| s.job_rounds("landing_log") >= 1, "the first round");
    let first = s.job_rounds("landing_log");
    for n in 1..=3 {
        s.flush_landing_log();
        crate::support::sinks::wait_until(
            || s.job_rounds("landing_log") >= first + n,
            "a round per flush interval of the clock",
        );
    }
}
