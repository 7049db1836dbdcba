//! `--wrk`: the same server measured by an external generator (wrk, one thread, keep-alive),
//! so the ratio to hello-world is not decided by our own client's CPU; then a sustained
//! durable-write run with the server's commit and request histograms; then the same writes
//! with one competing CPU-bound process, several runs, each with where the server's threads
//! waited for a core.

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::Duration;

use crate::histogram::ServerHistograms;
use crate::seed::Seeded;
use crate::server::Process;
use crate::wrk::{self, WrkRun};
use crate::{Options, sched};

/// The durable-create row: its run is also compared with PostgreSQL's, and its script drives
/// the sustained and contended runs.
const CREATE: &str = "create (durable)";

/// How many links of the sample the GET scripts cycle through.
const SCRIPT_PATHS: usize = 10_000;

/// Runs every external measurement and returns its report (or a note when wrk is absent).
pub fn run(o: &Options, base: &Path) -> Result<String, String> {
    let mut report = String::new();
    if !wrk::available() {
        report.push_str("wrk is not installed (`apt-get install wrk`): the external-generator rows are skipped.\n");
        return Ok(report);
    }
    let hello = Process::hello()?;
    let script = wrk::get_script(base, "hello.lua", &["/".to_owned()], None)?;
    eprintln!("wrk: hello-world …");
    let baseline = wrk::run(hello.addr, &script, o.connections, o.duration)?;
    let script = wrk::get_script(base, "reply.lua", &["/reply".to_owned()], None)?;
    eprintln!("wrk: hello-world with GET by uid's reply …");
    let same_reply = wrk::run(hello.addr, &script, o.connections, o.duration)?;
    drop(hello);
    let _ = writeln!(
        report,
        "\n### Measured with wrk (-t1 -c{}, {} s per row)\n\n\
         | N links | operation | requests/s | p50 ms | p90 ms | p99 ms | ratio to hello-world | errors |\n\
         |---:|---|---:|---:|---:|---:|---:|---:|",
        o.connections,
        o.duration.as_secs()
    );
    row(
        &mut report,
        None,
        "hello-world (bare hyper)",
        &baseline,
        &baseline,
    );
    row(
        &mut report,
        None,
        "hello-world answering GET by UID's reply bytes (no work)",
        &same_reply,
        &baseline,
    );
    let mut writes = String::new();
    let mut writer_costs = String::new();
    for &n in &o.sizes {
        let dir = base.join(format!("wrk{n}"));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        crate::write_config(&dir, None, o.cache_mib)?;
        eprintln!("wrk: N = {n}: seeding …");
        let seeded = Arc::new(crate::seed::build(crate::load_config(&dir)?, n)?);
        let server = Process::customerlink(&dir)?;
        let mut creates = None;
        for (name, script) in scripts(&dir, &seeded)? {
            eprintln!("wrk: N = {n}: {name} …");
            let writer_before = (name == CREATE).then(|| WriterCost::snapshot(&server));
            let run = wrk::run(server.addr, &script, o.connections, o.duration)?;
            row(&mut report, Some(n), name, &run, &baseline);
            server.quiesce();
            if let Some(before) = writer_before {
                writer_costs.push_str(&before.describe(&server, n, &run, o.duration));
                creates = Some((script, run));
            }
        }
        if let Some((create, ours)) = creates.filter(|_| n == o.sizes[0]) {
            writes = peer_row(o, &dir, &ours);
            writes.push_str(&sustained_and_contended(o, &server, &create, &dir)?);
        }
        server.stop()?;
        let _ = std::fs::remove_dir_all(&dir);
    }
    report.push_str(&writer_costs);
    report.push_str(&writes);
    Ok(report)
}

/// The writer thread's share of the create row: creates per commit, and per commit its CPU
/// time and its time runnable but waiting for a core, to compare with redb alone's CPU per
/// commit at the same batch size (the floor table).
struct WriterCost {
    commits: f64,
    writer: sched::Sched,
}

impl WriterCost {
    fn snapshot(server: &Process) -> WriterCost {
        let commits = ServerHistograms::scrape(server.addr)
            .and_then(|h| h.commit.0.last().map(|b| b.1))
            .unwrap_or(0.0);
        let writer = sched::snapshot(server.pid())
            .get(WRITER_THREAD)
            .copied()
            .unwrap_or_default();
        WriterCost { commits, writer }
    }

    fn describe(&self, server: &Process, n: u64, run: &WrkRun, secs: Duration) -> String {
        let after = WriterCost::snapshot(server);
        let commits = (after.commits - self.commits).max(1.0);
        let creates = run.requests_per_sec * secs.as_secs_f64();
        let per_commit = |ns: u64, was: u64| ns.saturating_sub(was) as f64 / 1e6 / commits;
        format!(
            "\nCreate row at N = {n}: {:.1} creates per commit; the writer thread per commit: \
             {:.2} ms CPU, {:.2} ms runnable but waiting for a core.\n",
            creates / commits,
            per_commit(after.writer.run_ns, self.writer.run_ns),
            per_commit(after.writer.wait_ns, self.writer.wait_ns),
        )
    }
}

/// The writer thread's name (`comm`), truncated by the kernel to 15 bytes.
const WRITER_THREAD: &str = "customerlink-wr";

/// The read scripts and the create script, in report order.
fn scripts(dir: &Path, s: &Seeded) -> Result<Vec<(&'static str, std::path::PathBuf)>, String> {
    let key = Some(s.api_key.as_str());
    let uids: Vec<String> = s
        .link_uids
        .iter()
        .take(SCRIPT_PATHS)
        .map(|u| format!("/v1/customerlink/{}", u.simple()))
        .collect();
    let resources: Vec<String> = s
        .resources
        .iter()
        .take(SCRIPT_PATHS)
        .map(|(rt, ru)| format!("/v1/customerlink/resource/{rt}/{}", ru.simple()))
        .collect();
    let portal: Vec<String> = s
        .tokens
        .iter()
        .take(SCRIPT_PATHS)
        .map(|t| format!("/portal/{t}"))
        .collect();
    Ok(vec![
        ("get by UID", wrk::get_script(dir, "uid.lua", &uids, key)?),
        (
            "list by resource",
            wrk::get_script(dir, "resource.lua", &resources, key)?,
        ),
        (
            "portal landing (GET)",
            wrk::get_script(dir, "portal.lua", &portal, None)?,
        ),
        (CREATE, wrk::create_script(dir, &s.api_key)?),
    ])
}

fn row(report: &mut String, n: Option<u64>, name: &str, run: &WrkRun, baseline: &WrkRun) {
    let _ = writeln!(
        report,
        "| {} | {name} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {} |",
        n.map_or("–".to_owned(), |n| n.to_string()),
        run.requests_per_sec,
        run.p50_ms,
        run.p90_ms,
        run.p99_ms,
        run.requests_per_sec / baseline.requests_per_sec.max(1.0),
        run.errors
    );
}

/// Durable creates against PostgreSQL doing the same inserts (pgbench, same connections).
fn peer_row(o: &Options, dir: &Path, ours: &WrkRun) -> String {
    eprintln!("pgbench: PostgreSQL doing a create's inserts …");
    match crate::pg_peer::creates_per_sec(dir, o.connections, o.duration) {
        Ok(pg) => format!(
            "\nDurable creates: customerlink {:.0}/s (wrk) against PostgreSQL doing the same \
             inserts {pg:.0}/s (pgbench -c{}, fsync on, same machine): {:.1} ×.\n",
            ours.requests_per_sec,
            o.connections,
            ours.requests_per_sec / pg.max(1.0)
        ),
        Err(why) => format!("\nThe PostgreSQL peer row is skipped: {why}.\n"),
    }
}

/// One durable-create run with the server's histograms and its threads' scheduler waits.
struct WriteRun {
    client: WrkRun,
    server_p50: f64,
    server_p99: f64,
    commit_p50: f64,
    commit_p99: f64,
    commit_max: f64,
    commits_stalled: f64,
    sched: String,
}

fn measure_writes(
    server: &Process,
    script: &Path,
    o: &Options,
    secs: u64,
) -> Result<WriteRun, String> {
    let before = ServerHistograms::scrape(server.addr).unwrap_or_default();
    let sched_before = sched::snapshot(server.pid());
    let client = wrk::run(
        server.addr,
        script,
        o.connections,
        Duration::from_secs(secs),
    )?;
    let after = ServerHistograms::scrape(server.addr).unwrap_or_default();
    let sched_after = sched::snapshot(server.pid());
    let (create, commit) = (
        after.create.since(&before.create),
        after.commit.since(&before.commit),
    );
    server.quiesce();
    Ok(WriteRun {
        client,
        server_p50: create.quantile_ms(0.5),
        server_p99: create.quantile_ms(0.99),
        commit_p50: commit.quantile_ms(0.5),
        commit_p99: commit.quantile_ms(0.99),
        commit_max: commit.max_bucket_ms(),
        commits_stalled: commit.over_ms(50.0),
        sched: sched::describe(&sched::since(&sched_after, &sched_before)),
    })
}

/// A 60 s (`--sustained`) run on a quiet machine, then `--contention-runs` runs beside one
/// CPU-bound process.
fn sustained_and_contended(
    o: &Options,
    server: &Process,
    script: &Path,
    dir: &Path,
) -> Result<String, String> {
    let mut out = String::new();
    eprintln!("disk: fsync tail for {} s …", FSYNC_PROBE.as_secs());
    let _ = writeln!(
        out,
        "\n### Durable creates: sustained, and beside a CPU-bound process (wrk -t1 -c{})\n\n\
         Client = wrk's latency. wrk corrects for coordinated omission (`stats_correct` in its \
         `wrk.c`): a response slower than the mean interval per connection adds a sample for \
         each interval it covered, so a few stalls weigh on its p99 as they would for clients \
         arriving at a steady rate. Server = the server's own request histogram \
         (bucket-interpolated), the requests it actually answered; commit = the writer's commit \
         histogram. The scheduler column is from `/proc/<pid>/task/*/schedstat`: CPU time and \
         time runnable but waiting for a core, per thread name.\n\n\
         The disk before these runs, the server idle: {}. A durable write cannot answer \
         before its fsync, so the disk's stalls are a floor under the writes' tail.\n\n\
         | run | creates/s | client p50 / p99 ms | client p99/p50 | server p50 / p99 ms | server p99/p50 | commit p50 / p99 / max bucket ms | commits over 50 ms | errors | threads: CPU, waiting for a core |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        o.connections,
        crate::fsync_tail(dir, FSYNC_PROBE),
    );
    eprintln!("wrk: sustained creates for {} s …", o.sustained_secs);
    let quiet = measure_writes(server, script, o, o.sustained_secs)?;
    write_row(&mut out, &format!("quiet, {} s", o.sustained_secs), &quiet);
    for i in 1..=o.contention_runs {
        eprintln!("wrk: creates beside a CPU-bound process, run {i} …");
        let hog = Hog::start()?;
        let run = measure_writes(server, script, o, o.contention_secs);
        drop(hog);
        write_row(
            &mut out,
            &format!("with a busy loop, run {i}, {} s", o.contention_secs),
            &run?,
        );
    }
    Ok(out)
}

fn write_row(out: &mut String, label: &str, r: &WriteRun) {
    let _ = writeln!(
        out,
        "| {label} | {:.0} | {:.2} / {:.2} | {:.1} | {:.2} / {:.2} | {:.1} | {:.1} / {:.1} / {:.0} | {:.0} | {} | {} |",
        r.client.requests_per_sec,
        r.client.p50_ms,
        r.client.p99_ms,
        r.client.p99_ms / r.client.p50_ms.max(1e-9),
        r.server_p50,
        r.server_p99,
        r.server_p99 / r.server_p50.max(1e-9),
        r.commit_p50,
        r.commit_p99,
        r.commit_max,
        r.commits_stalled,
        r.client.errors,
        r.sched
    );
}

/// How long the disk's fsync tail is probed before the write runs.
const FSYNC_PROBE: Duration = Duration::from_secs(10);

/// One CPU-bound process (a shell busy loop), killed on drop.
struct Hog(Child);

impl Hog {
    fn start() -> Result<Hog, String> {
        Command::new("sh")
            .args(["-c", "while :; do :; done"])
            .spawn()
            .map(Hog)
            .map_err(|e| e.to_string())
    }
}

impl Drop for Hog {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
