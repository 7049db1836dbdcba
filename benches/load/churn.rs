//! Whether freed pages are reused: N links (half of them created long ago and expired), the
//! purge of that half through the same batches the purge job uses, the purge of their access
//! logs once the log retention has passed (logs are kept for the retention by design, so
//! until then their pages are not free), as many links created again, the purge of
//! everything a year later and of their logs after the retention, and N links created once
//! more. The file's length and its blocks on disk after each step show whether a purge grows
//! the file and whether new links land in the pages the purged ones left.

use std::fmt::Write as _;
use std::path::Path;

use customerlink::clock::{Clock, SystemClock, UnixMillis};
use customerlink::config::Config;
use customerlink::store::commands::PurgeRetired;

const DAY_MS: i64 = 86_400_000;

/// (step, links stored, file length, bytes on disk) after each step.
pub fn measure(config: Config, dir: &Path, n: u64) -> Result<Vec<(String, u64, u64, u64)>, String> {
    let retention_ms = config.purge.retention_ms;
    let batch = config.purge.batch_size;
    let (runtime, state) = super::seed::open(config)?;
    let (mut seeded, caller) = super::seed::tenant(&state)?;
    let now = SystemClock.now();
    let long_ago = now.minus_ms(120 * DAY_MS);
    let half = n / 2;
    let mut steps = Vec::new();
    let mut note = |step: &str, links: u64| {
        steps.push((
            step.to_owned(),
            links,
            super::seed::file_size(dir),
            super::seed::disk_usage(dir),
        ));
    };
    super::seed::create(&runtime, &state, &caller, &mut seeded, 0..half, long_ago)?;
    super::seed::create(&runtime, &state, &caller, &mut seeded, half..n, now)?;
    note("created (half of them expired long ago)", n);
    let purge = |at: UnixMillis| -> Result<usize, String> {
        let mut total = 0;
        loop {
            let op = PurgeRetired {
                retired_before: at.minus_ms(retention_ms),
                limit: batch,
                now: at,
                attachments_idle_before: at.minus_ms(retention_ms),
            };
            let report = runtime
                .block_on(state.store.write(op))
                .map_err(|e| e.to_string())?;
            total += report.purged;
            if !report.more {
                return Ok(total);
            }
        }
    };
    let purged = purge(now)? as u64;
    note("the expired half purged", n - purged);
    let their_logs_gone = now.plus_ms(retention_ms + DAY_MS);
    let purged_too = purge(their_logs_gone)? as u64;
    if purged_too != 0 {
        return Err(format!("{purged_too} unexpired links purged with the logs"));
    }
    note(
        "their access logs dropped after the log retention",
        n - purged,
    );
    super::seed::create(
        &runtime,
        &state,
        &caller,
        &mut seeded,
        n..n + purged,
        their_logs_gone,
    )?;
    note("as many created again", n);
    let a_year_later = now.plus_ms(400 * DAY_MS);
    let purged_all = purge(a_year_later)? as u64;
    note("everything purged, a year later", n - purged_all);
    let logs_gone = a_year_later.plus_ms(retention_ms + DAY_MS);
    purge(logs_gone)?;
    note(
        "their access logs dropped after the log retention",
        n - purged_all,
    );
    super::seed::create(
        &runtime,
        &state,
        &caller,
        &mut seeded,
        2 * n..3 * n,
        logs_gone,
    )?;
    note("N created again", n - purged_all + n);
    let state = std::sync::Arc::into_inner(state).ok_or("state still shared")?;
    state.close();
    Ok(steps)
}

/// The steps as a Markdown table.
pub fn table(report: &mut String, n: u64, steps: &[(String, u64, u64, u64)]) {
    let _ = writeln!(
        report,
        "\nPurge and reuse at N = {n} (purge batches as the purge job runs them):\n\n\
         | step | links stored | file length MiB | on disk MiB |\n|---|---:|---:|---:|"
    );
    for (step, links, len, disk) in steps {
        let _ = writeln!(
            report,
            "| {step} | {links} | {:.1} | {:.1} |",
            *len as f64 / 1048576.0,
            *disk as f64 / 1048576.0
        );
    }
}
