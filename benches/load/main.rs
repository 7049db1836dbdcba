//! `cargo bench --bench load`: in one run, for N = 10^4 and 10^6 links, builds a data folder,
//! starts the real server and a bare hyper hello-world on loopback, drives both with the same
//! in-process load generator, and prints one Markdown report (BENCHMARKS.md is its output):
//! requests/s, p50/p99/p99.9 and the ratio to hello-world per operation, start-up time and
//! peak RSS per N, durable creates with group commit versus one commit per request, the
//! disk's fsync rate, and start-up after an unclean stop with and without quick-repair; then
//! where each N's bytes go ([`footprint`]), purge and reuse of freed pages ([`churn`]), and the
//! same server under wrk with PostgreSQL's bare inserts beside it, 60 s of sustained writes
//! and writes beside a CPU-bound process ([`external`]).
//!
//! Options (after `--`): `--sizes 10000,1000000`, `--seconds 5`, `--connections 32`,
//! `--no-repair`, `--only NAME` (profiling), `--cache-mib N` (the server's redb cache),
//! `--store postgres://…` (the scaling-out comparison instead: [`scale`]); `--footprint`
//! (bytes and purge-and-reuse only), `--wrk` (the wrk section only), `--sustained SECS`,
//! `--contention-runs N`, `--contention-seconds SECS`.
//! Adding an operation is one line in [`ops`].

mod ceiling;
mod churn;
mod client;
mod external;
mod floor;
mod footprint;
mod histogram;
mod pg_peer;
mod repair;
mod scale;
mod sched;
mod seed;
mod server;
mod wrk;

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use customerlink::config::{Config, Overrides};

use client::{MakeRequest, Outcome, request};
use seed::Seeded;
use server::{Process, WriterCounters};

struct Options {
    sizes: Vec<u64>,
    duration: Duration,
    warmup: Duration,
    connections: usize,
    repair: bool,
    /// Run only operations whose name contains this (for profiling).
    only: Option<String>,
    /// `[writer] cache_mib` for the server (default: the server's own default).
    cache_mib: Option<usize>,
    /// A PostgreSQL database the bench may empty: run the scaling-out comparison instead.
    store: Option<String>,
    /// Only seed each size and report where the file's bytes go (no servers).
    footprint: bool,
    /// Measure with wrk instead of the in-process generator ([`external`]).
    wrk: bool,
    /// Seconds of the sustained durable-write run (wrk mode).
    sustained_secs: u64,
    /// Runs of durable writes beside a CPU-bound process, and seconds each (wrk mode).
    contention_runs: u32,
    contention_secs: u64,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        sizes: vec![10_000, 1_000_000],
        duration: Duration::from_secs(5),
        warmup: Duration::from_secs(1),
        connections: 32,
        repair: true,
        only: None,
        cache_mib: None,
        store: None,
        footprint: false,
        wrk: false,
        sustained_secs: 60,
        contention_runs: 5,
        contention_secs: 20,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--sizes" => {
                o.sizes = value()?
                    .split(',')
                    .map(|s| s.parse().map_err(|_| format!("bad size {s}")))
                    .collect::<Result<_, _>>()?;
            }
            "--seconds" => {
                o.duration = Duration::from_secs(value()?.parse().map_err(|_| "bad --seconds")?)
            }
            "--connections" => o.connections = value()?.parse().map_err(|_| "bad --connections")?,
            "--no-repair" => o.repair = false,
            "--only" => o.only = Some(value()?),
            "--cache-mib" => o.cache_mib = Some(value()?.parse().map_err(|_| "bad --cache-mib")?),
            "--store" => o.store = Some(value()?),
            "--footprint" => o.footprint = true,
            "--wrk" => o.wrk = true,
            "--sustained" => o.sustained_secs = value()?.parse().map_err(|_| "bad --sustained")?,
            "--contention-runs" => {
                o.contention_runs = value()?.parse().map_err(|_| "bad --contention-runs")?
            }
            "--contention-seconds" => {
                o.contention_secs = value()?.parse().map_err(|_| "bad --contention-seconds")?
            }
            _ => {} // `cargo bench` passes `--bench`
        }
    }
    Ok(o)
}

/// One operation under load: name, expected status, how to build request `i`.
type Op = (
    &'static str,
    u16,
    fn(&Seeded, u64) -> hyper::Request<http_body_util::Full<bytes::Bytes>>,
);

/// A distinct resource uid per `i`, spread over the key space as real (random) Guids are,
/// so the resource index takes random inserts as it would in production.
fn scattered(i: u64) -> u128 {
    u128::from(i + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835)
}

fn pick<T>(items: &[T], i: u64) -> &T {
    &items[(i % items.len() as u64) as usize]
}

/// The operations, in report order. Reads first; writes consume links (revoke, open).
fn ops() -> Vec<Op> {
    vec![
        ("get by UID", 200, |s, i| {
            request(
                "GET",
                format!("/v1/customerlink/{}", pick(&s.link_uids, i).simple()),
                Some(&s.api_key),
                None,
            )
        }),
        ("list by resource", 200, |s, i| {
            let (rt, ru) = pick(&s.resources, i);
            request(
                "GET",
                format!("/v1/customerlink/resource/{rt}/{}", ru.simple()),
                Some(&s.api_key),
                None,
            )
        }),
        ("portal landing (GET)", 200, |s, i| {
            request("GET", format!("/portal/{}", pick(&s.tokens, i)), None, None)
        }),
        ("create (durable)", 200, |s, i| {
            let body = format!(
                r#"{{"ResourceType":"Invoice","ResourceUid":"{:032x}","RecipientEmail":"b{i}@example.com"}}"#,
                scattered(i)
            );
            request(
                "POST",
                "/v1/customerlink".into(),
                Some(&s.api_key),
                Some(body),
            )
        }),
        ("portal open (durable)", 200, |s, i| {
            request(
                "POST",
                format!("/portal/{}/open", pick(&s.tokens, i)),
                None,
                Some("{}".into()),
            )
        }),
        ("revoke (durable)", 200, |s, i| {
            request(
                "POST",
                format!("/v1/customerlink/{}/revoke", pick(&s.link_uids, i).simple()),
                Some(&s.api_key),
                None,
            )
        }),
    ]
}

fn main() {
    if std::env::args().any(|a| a == "--serve-hello") {
        if let Err(e) = server::serve_hello() {
            eprintln!("hello-world: {e}");
        }
        return;
    }
    match options().and_then(|o| run(&o)) {
        Ok(report) => println!("{report}"),
        Err(e) => {
            eprintln!("bench failed: {e}");
            std::process::exit(1);
        }
    }
}

/// One row of the main table.
struct Row {
    n: u64,
    op: &'static str,
    outcome: Outcome,
    /// The server's resident memory right after this operation's run.
    rss: u64,
    /// Writer commands per commit and ms per commit during the run (durable operations).
    writer: Option<(f64, f64)>,
    cpu: CpuPerRequest,
}

/// CPU time per request (µs, all threads, user + system) of the server and of the load
/// generator during one run: with both on the same two cores, what a request costs the
/// server decides its share of the machine.
#[derive(Debug, Clone, Copy, Default)]
struct CpuPerRequest {
    server: f64,
    client: f64,
}

/// Runs `drive` and measures the CPU it cost `server` and this process per request.
fn with_cpu(server: &Process, drive: impl FnOnce() -> Outcome) -> (Outcome, CpuPerRequest) {
    let (server_before, client_before) = (server.cpu_seconds(), server::own_cpu_seconds());
    let outcome = drive();
    let (server_after, client_after) = (server.cpu_seconds(), server::own_cpu_seconds());
    let sent = outcome.sent.max(1) as f64;
    let cpu = CpuPerRequest {
        server: (server_after - server_before) * 1e6 / sent,
        client: (client_after - client_before) * 1e6 / sent,
    };
    (outcome, cpu)
}

fn run(o: &Options) -> Result<String, String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let drive_with = |connections, addr, make: MakeRequest, expect| {
        runtime.block_on(client::run(
            addr,
            make,
            expect,
            connections,
            o.warmup,
            o.duration,
        ))
    };
    let drive = |addr, make: MakeRequest, expect| drive_with(o.connections, addr, make, expect);
    let mut report = String::new();
    let base = tempfile::tempdir().map_err(|e| e.to_string())?;
    machine(&mut report, base.path());
    if let Some(url) = &o.store {
        report.push_str(&scale::run(o, url, base.path(), &runtime)?);
        return Ok(report);
    }
    if o.wrk {
        report.push_str(&external::run(o, base.path())?);
        return Ok(report);
    }
    if o.footprint {
        for &n in &o.sizes {
            footprint_of(&mut report, base.path(), n, o.cache_mib)?;
        }
        return Ok(report);
    }
    let load_before = loadavg();
    let hello = Process::hello()?;
    eprintln!("hello-world …");
    let make: MakeRequest = Arc::new(|_| request("GET", "/".into(), None, None));
    let (baseline, baseline_cpu) = with_cpu(&hello, || drive(hello.addr, make, 200));
    drop(hello);
    let mut rows = Vec::new();
    let mut sizes = Vec::new();
    let mut commit_modes = Vec::new();
    let mut repair_rows = Vec::new();
    let mut footprints = String::new();
    let mut ceiling_rows = Vec::new();
    for &n in &o.sizes {
        let dir = base.path().join(format!("n{n}"));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        write_config(&dir, None, o.cache_mib)?;
        eprintln!("N = {n}: seeding …");
        let started = Instant::now();
        let seeded = Arc::new(seed::build(load_config(&dir)?, n)?);
        let seed_time = started.elapsed();
        let rows_of_file = footprint::measure(&dir.join("customerlink.redb"))?;
        footprint::table(
            &mut footprints,
            n,
            (seed::file_size(&dir), seed::disk_usage(&dir)),
            &rows_of_file,
        );
        let server = Process::customerlink(&dir)?;
        let (startup, rss_at_start) = (server.startup, server.rss());
        let wanted = |name: &str| {
            o.only
                .as_ref()
                .is_none_or(|only| name.contains(only.as_str()))
        };
        for (name, expect, build) in ops().into_iter().filter(|op| wanted(op.0)) {
            eprintln!("N = {n}: {name} …");
            let s = Arc::clone(&seeded);
            let before = WriterCounters::scrape(server.addr).unwrap_or_default();
            let (outcome, cpu) = with_cpu(&server, || {
                drive(server.addr, Arc::new(move |i| build(&s, i)), expect)
            });
            let writer = WriterCounters::scrape(server.addr).and_then(|after| after.since(&before));
            let rss = server.rss();
            let drained = server.quiesce();
            if drained > Duration::from_secs(1) {
                eprintln!("  (writes left over by {name} took {drained:?} to drain)");
            }
            rows.push(Row {
                n,
                op: name,
                outcome,
                rss,
                writer,
                cpu,
            });
        }
        let rss = server.peak_rss();
        server.stop()?;
        sizes.push((
            n,
            seed_time,
            seed::file_size(&dir),
            startup,
            (rss_at_start, rss),
        ));
        if n == o.sizes[0] && wanted("group commit") {
            commit_modes = group_commit(&dir, &seeded, o, &drive_with)?;
            eprintln!("creates through the writer alone …");
            let settings = load_config(&dir)?.writer;
            let runs = [
                (o.connections, 1024),
                (o.connections, 1),
                (o.connections * 4, 1024),
                (o.connections * 4, 1),
            ];
            ceiling_rows = ceiling::measure(&dir, &settings, &runs, o.duration)?;
        }
        if o.repair && n == *o.sizes.iter().max().unwrap_or(&n) {
            eprintln!("N = {n}: repair after an unclean stop …");
            repair_rows = repair::measure(&dir, &load_config(&dir)?.writer)?;
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    let _ = writeln!(
        report,
        "Load average before / after the run: {} / {} (other work on the machine shares its 2 cores).\n",
        load_before,
        loadavg()
    );
    table(&mut report, (&baseline, baseline_cpu), &rows);
    size_table(&mut report, &sizes);
    commit_table(&mut report, &commit_modes, fsync_rate(base.path()));
    ceiling_table(&mut report, &ceiling_rows);
    if o.only
        .as_ref()
        .is_none_or(|only| "redb alone".contains(only.as_str()))
    {
        eprintln!("redb alone …");
        floor_table(&mut report, &floor::measure(base.path(), o.duration)?);
        let revokes = floor::measure_revokes(base.path(), &o.sizes)?;
        revoke_floor_table(&mut report, &revokes);
    }
    repair_table(&mut report, &repair_rows);
    report.push_str("\n## Bytes on disk\n");
    report.push_str(&footprints);
    churn_of(&mut report, base.path(), o.sizes[0], o.cache_mib)?;
    report.push_str("\n## Measured with an external load generator\n");
    report.push_str(&external::run(o, base.path())?);
    Ok(report)
}

/// Seeds `n` links in a fresh folder and reports where the file's bytes go.
fn footprint_of(
    report: &mut String,
    base: &Path,
    n: u64,
    cache_mib: Option<usize>,
) -> Result<(), String> {
    let dir = base.join(format!("footprint{n}"));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    write_config(&dir, None, cache_mib)?;
    eprintln!("N = {n}: seeding …");
    seed::build(load_config(&dir)?, n)?;
    let file = dir.join("customerlink.redb");
    let rows = footprint::measure(&file)?;
    footprint::table(
        report,
        n,
        (seed::file_size(&dir), seed::disk_usage(&dir)),
        &rows,
    );
    let _ = std::fs::remove_dir_all(&dir);
    churn_of(report, base, n, cache_mib)
}

/// Purge-and-reuse at `n` links in a fresh folder.
fn churn_of(
    report: &mut String,
    base: &Path,
    n: u64,
    cache_mib: Option<usize>,
) -> Result<(), String> {
    let dir = base.join(format!("churn{n}"));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    write_config(&dir, None, cache_mib)?;
    eprintln!("N = {n}: purge and reuse …");
    let steps = churn::measure(load_config(&dir)?, &dir, n)?;
    churn::table(report, n, &steps);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// One row of the group-commit comparison.
struct CommitMode {
    label: String,
    connections: usize,
    outcome: Outcome,
    /// Creates per commit, as the writer counted them.
    batch: Option<f64>,
}

type Drive<'a> = dyn Fn(usize, std::net::SocketAddr, MakeRequest, u16) -> Outcome + 'a;

/// Durable creates/s with group commit and with `[writer] max_batch = 1`, at the run's
/// connection count and at four times it: a batch can hold at most as many creates as there
/// are clients waiting, so the connection count bounds what group commit can buy.
fn group_commit(
    dir: &Path,
    seeded: &Arc<Seeded>,
    o: &Options,
    drive: &Drive<'_>,
) -> Result<Vec<CommitMode>, String> {
    let create = ops()
        .into_iter()
        .find(|op| op.0.starts_with("create"))
        .ok_or("no create op")?;
    let mut out = Vec::new();
    let mut offset = 1_000_000_000;
    for clients in [o.connections, o.connections * 4] {
        for (label, max_batch) in [
            ("group commit (max_batch = 1024)", None),
            ("one commit per request (max_batch = 1)", Some(1)),
        ] {
            write_config(dir, max_batch, o.cache_mib)?;
            let server = Process::customerlink(dir)?;
            eprintln!("creates, {label}, {clients} connections …");
            let s = Arc::clone(seeded);
            let build = create.2;
            let before = WriterCounters::scrape(server.addr).unwrap_or_default();
            let outcome = drive(
                clients,
                server.addr,
                Arc::new(move |i| build(&s, i + offset)),
                200,
            );
            let batch = WriterCounters::scrape(server.addr)
                .and_then(|after| after.since(&before))
                .map(|(batch, _)| batch);
            offset += 1_000_000_000;
            out.push(CommitMode {
                label: label.to_owned(),
                connections: clients,
                outcome,
                batch,
            });
            server.stop()?;
        }
    }
    write_config(dir, None, o.cache_mib)?;
    Ok(out)
}

/// The bench's config: portal per-address limits out of the way (all load comes from one
/// address), and optionally the writer's batch limit.
fn write_config(
    dir: &Path,
    max_batch: Option<usize>,
    cache_mib: Option<usize>,
) -> Result<(), String> {
    let mut text = String::from("[portal]\nrequests_per_minute = 1000000000\n[writer]\n");
    if let Some(m) = max_batch {
        let _ = writeln!(text, "max_batch = {m}");
    }
    if let Some(m) = cache_mib {
        let _ = writeln!(text, "cache_mib = {m}");
    }
    std::fs::write(dir.join("customerlink.toml"), text).map_err(|e| e.to_string())
}

fn load_config(dir: &Path) -> Result<Config, String> {
    let overrides = Overrides {
        data: Some(dir.to_owned()),
        ..Overrides::default()
    };
    Config::load(overrides).map_err(|e| format!("{e:?}"))
}

/// write + fdatasync of one 4 KiB block in a loop for 2 s: the disk's durable-commit ceiling.
fn fsync_rate(dir: &Path) -> f64 {
    let took = fsync_probe(dir, Duration::from_secs(2));
    took.len() as f64 / took.iter().sum::<Duration>().as_secs_f64().max(1e-9)
}

/// How long each write + fdatasync of one 4 KiB block took, in a loop for `span` (empty if
/// the disk refused one): a durable write cannot answer before its fsync, so the disk's own
/// stalls are a floor under every write's tail.
fn fsync_probe(dir: &Path, span: Duration) -> Vec<Duration> {
    use std::io::{Seek, Write};
    let Ok(mut f) = std::fs::File::create(dir.join("fsync-probe")) else {
        return Vec::new();
    };
    let block = [0u8; 4096];
    let started = Instant::now();
    let mut took = Vec::new();
    while started.elapsed() < span {
        let one = Instant::now();
        let ok = f.seek(std::io::SeekFrom::Start(0)).is_ok()
            && f.write_all(&block).is_ok()
            && f.sync_data().is_ok();
        if !ok {
            return Vec::new();
        }
        took.push(one.elapsed());
    }
    let _ = std::fs::remove_file(dir.join("fsync-probe"));
    took
}

/// The disk's fsync tail over `span`, in one sentence: p50, p99, max and the stalls.
fn fsync_tail(dir: &Path, span: Duration) -> String {
    let mut took = fsync_probe(dir, span);
    if took.is_empty() {
        return "the disk refused the fsync probe".into();
    }
    took.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let at = |q: f64| ms(took[((took.len() - 1) as f64 * q) as usize]);
    let stalls = took.iter().filter(|d| ms(**d) > 20.0).count();
    format!(
        "{} fsyncs of 4 KiB in {} s: p50 {:.2} ms, p99 {:.2} ms, max {:.1} ms, {stalls} over 20 ms",
        took.len(),
        span.as_secs(),
        at(0.5),
        at(0.99),
        took.last().map_or(0.0, |d| ms(*d)),
    )
}

fn machine(out: &mut String, dir: &Path) {
    let cpu = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpu
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|m| m.trim_start_matches([' ', '\t', ':']))
        .unwrap_or("?");
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let mem = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let total = mem
        .lines()
        .next()
        .unwrap_or("")
        .trim_start_matches("MemTotal:")
        .trim();
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let _ = writeln!(
        out,
        "Machine: {model}, {cores} cores, {total} RAM, Linux {}; data on {} (tmpfs? {})\n",
        kernel.trim(),
        dir.display(),
        is_tmpfs(dir)
    );
}

fn loadavg() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn is_tmpfs(dir: &Path) -> bool {
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    let dir = dir.to_string_lossy();
    mounts
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            Some((f.nth(1)?, f.next()?))
        })
        .filter(|(mnt, _)| dir.starts_with(mnt))
        .max_by_key(|(mnt, _)| mnt.len())
        .is_some_and(|(_, fs)| fs == "tmpfs")
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

fn table(out: &mut String, (base, base_cpu): (&Outcome, CpuPerRequest), rows: &[Row]) {
    let _ = writeln!(
        out,
        "| N links | operation | requests/s | p50 ms | p99 ms | p99.9 ms | ratio to hello-world | errors | server CPU µs/req | client CPU µs/req | server RSS after | writes per commit | ms per commit |"
    );
    let _ = writeln!(
        out,
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    let _ = writeln!(
        out,
        "| – | hello-world (bare hyper) | {:.0} | {} | {} | {} | 1.00 | {} | {:.1} | {:.1} | | | |",
        base.per_sec,
        ms(base.p50),
        ms(base.p99),
        ms(base.p999),
        base.errors,
        base_cpu.server,
        base_cpu.client
    );
    for r in rows {
        let o = &r.outcome;
        let (batch, commit) = match r.writer {
            Some((b, c)) if b >= 0.05 => (format!("{b:.1}"), format!("{c:.2}")),
            _ => ("–".into(), "–".into()),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {:.0} | {} | {} | {} | {:.2} | {} | {:.1} | {:.1} | {:.0} MiB | {batch} | {commit} |",
            r.n,
            r.op,
            o.per_sec,
            ms(o.p50),
            ms(o.p99),
            ms(o.p999),
            o.per_sec / base.per_sec.max(1.0),
            o.errors,
            r.cpu.server,
            r.cpu.client,
            r.rss as f64 / 1048576.0
        );
    }
    let _ = writeln!(out);
}

type SizeRow = (u64, Duration, u64, Duration, (u64, u64));

fn size_table(out: &mut String, sizes: &[SizeRow]) {
    let _ = writeln!(
        out,
        "| N links | seeding | file size | start-up (clean stop) | server RSS after start-up | server peak RSS |"
    );
    let _ = writeln!(out, "|---:|---:|---:|---:|---:|---:|");
    for (n, seed, size, startup, (start_rss, rss)) in sizes {
        let _ = writeln!(
            out,
            "| {n} | {:.1} s | {:.0} MiB | {} ms | {:.1} MiB | {:.1} MiB |",
            seed.as_secs_f64(),
            *size as f64 / 1048576.0,
            ms(*startup),
            *start_rss as f64 / 1048576.0,
            *rss as f64 / 1048576.0
        );
    }
    let _ = writeln!(out);
}

fn commit_table(out: &mut String, modes: &[CommitMode], fsyncs: f64) {
    let _ = writeln!(
        out,
        "| durable creates | connections | creates/s | p50 ms | p99 ms | creates per commit |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
    for m in modes {
        let o = &m.outcome;
        let batch = m.batch.map_or("–".into(), |b| format!("{b:.1}"));
        let _ = writeln!(
            out,
            "| {} | {} | {:.0} | {} | {} | {batch} |",
            m.label,
            m.connections,
            o.per_sec,
            ms(o.p50),
            ms(o.p99)
        );
    }
    let _ = writeln!(out);
    for pair in modes.chunks(2) {
        if let [group, single] = pair {
            let _ = writeln!(
                out,
                "Group commit / one commit per request at {} connections: **{:.1}×**.",
                group.connections,
                group.outcome.per_sec / single.outcome.per_sec.max(1.0)
            );
        }
    }
    let _ = writeln!(
        out,
        "Disk fsync rate (4 KiB write + fdatasync, measured by this run): **{fsyncs:.0}/s**.\n"
    );
}

fn ceiling_table(out: &mut String, rows: &[ceiling::CeilingRow]) {
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "| the writer alone (no HTTP) | concurrent creates | max_batch | creates/s | creates per commit | ms per commit |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
    for r in rows {
        let _ = writeln!(
            out,
            "| durable creates | {} | {} | {:.0} | {:.1} | {:.2} |",
            r.clients, r.max_batch, r.creates_per_sec, r.batch, r.commit_ms
        );
    }
    let _ = writeln!(out);
}

fn floor_table(out: &mut String, rows: &[floor::FloorRow]) {
    let _ = writeln!(
        out,
        "| redb alone (one thread, no encoding) | creates per commit | ms per commit | CPU ms per commit | creates/s |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|");
    for r in rows {
        let indexes = if r.all_indexes {
            "every index of a create"
        } else {
            "in-order keys only (no token, no resource index)"
        };
        let _ = writeln!(
            out,
            "| {indexes} | {} | {:.2} | {:.2} | {:.0} |",
            r.batch, r.ms_per_commit, r.cpu_ms_per_commit, r.creates_per_sec
        );
    }
    let _ = writeln!(out);
}

fn revoke_floor_table(out: &mut String, rows: &[floor::RevokeFloorRow]) {
    let _ = writeln!(
        out,
        "| redb alone: revoke-shaped commits (16 per commit) | file size | ms per commit |"
    );
    let _ = writeln!(out, "|---:|---:|---:|");
    for r in rows {
        let _ = writeln!(
            out,
            "| {} links | {:.0} MiB | {:.2} |",
            r.links, r.file_mib, r.ms_per_commit
        );
    }
    let _ = writeln!(out);
}

fn repair_table(out: &mut String, rows: &[repair::RepairRow]) {
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "| quick_repair | single-command commit p50 ms | p99 ms | commits/s (one writer, sequential) | clean open | open after kill -9 |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.0} | {} ms | {} ms |",
            r.quick_repair,
            ms(r.commit_p50),
            ms(r.commit_p99),
            r.commits_per_sec,
            ms(r.clean_open),
            ms(r.repair_open)
        );
    }
    let _ = writeln!(out);
}
