//! The external load generator: `wrk` (C, from apt), so the generator's own CPU cost is not
//! ours and the ratios to hello-world are not decided by an in-process client. Each operation
//! is a Lua script written into the run's folder; the results are parsed from wrk's
//! `--latency` report. Absent wrk, the mode is skipped with a note.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// One wrk run, as wrk reports it.
#[derive(Debug, Clone, Copy, Default)]
pub struct WrkRun {
    pub requests_per_sec: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    /// Responses that were not 2xx/3xx, plus socket errors.
    pub errors: u64,
}

/// Whether `wrk` can be run here.
pub fn available() -> bool {
    Command::new("wrk")
        .arg("--version")
        .output()
        .is_ok_and(|o| !o.stdout.is_empty() || !o.stderr.is_empty())
}

/// Runs wrk with `script` against `addr` for `duration` at `connections` (one thread, as the
/// issue measured).
pub fn run(
    addr: SocketAddr,
    script: &Path,
    connections: usize,
    duration: Duration,
) -> Result<WrkRun, String> {
    let out = Command::new("wrk")
        .args(["-t1", "--latency", "-c"])
        .arg(connections.to_string())
        .arg("-d")
        .arg(format!("{}s", duration.as_secs().max(1)))
        .arg("-s")
        .arg(script)
        .arg(format!("http://{addr}"))
        .output()
        .map_err(|e| format!("wrk: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    parse(&text).ok_or_else(|| format!("cannot read wrk's report:\n{text}"))
}

/// Reads requests/s, the latency percentiles and the error counts from wrk's report.
fn parse(text: &str) -> Option<WrkRun> {
    let after = |prefix: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(prefix).map(str::trim))
    };
    let percentile = |p: &str| after(p).and_then(millis);
    let socket_errors: u64 = after("Socket errors:")
        .map(|rest| {
            rest.split(',')
                .filter_map(|part| part.split_whitespace().last()?.parse::<u64>().ok())
                .sum()
        })
        .unwrap_or(0);
    let non_2xx = after("Non-2xx or 3xx responses:")
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    Some(WrkRun {
        requests_per_sec: after("Requests/sec:")?.parse().ok()?,
        p50_ms: percentile("50%")?,
        p90_ms: percentile("90%")?,
        p99_ms: percentile("99%")?,
        errors: socket_errors + non_2xx,
    })
}

/// wrk's "1.23ms" / "456.00us" / "1.02s" in milliseconds.
fn millis(text: &str) -> Option<f64> {
    let text = text.split_whitespace().next()?;
    let (number, scale) = if let Some(n) = text.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000.0)
    } else {
        return None;
    };
    number.parse::<f64>().ok().map(|n| n * scale)
}

/// A script that GETs `paths` round-robin, with `key` as the bearer token when given.
pub fn get_script(
    dir: &Path,
    name: &str,
    paths: &[String],
    key: Option<&str>,
) -> Result<PathBuf, String> {
    let mut lua = String::from("local paths = {\n");
    for p in paths {
        let _ = writeln!(lua, "  {p:?},");
    }
    lua.push_str("}\nlocal i = 0\n");
    lua.push_str(&headers(key));
    lua.push_str(
        "request = function()\n  i = i + 1\n  \
         return wrk.format(\"GET\", paths[(i % #paths) + 1], hdrs)\nend\n",
    );
    write(dir, name, &lua)
}

/// A script that POSTs creates, each for a new random resource uid (so the resource index
/// takes random inserts, as real Guids give it).
pub fn create_script(dir: &Path, key: &str) -> Result<PathBuf, String> {
    let mut lua = headers(Some(key));
    lua.push_str(
        "hdrs[\"Content-Type\"] = \"application/json\"\n\
         math.randomseed(os.time())\n\
         local n = 0\n\
         request = function()\n  n = n + 1\n  \
         local uid = string.format(\"%08x%08x%08x%08x\", math.random(0, 0x7fffffff), \
         math.random(0, 0x7fffffff), math.random(0, 0x7fffffff), n)\n  \
         local body = '{\"ResourceType\":\"Invoice\",\"ResourceUid\":\"' .. uid .. \
         '\",\"RecipientEmail\":\"w' .. n .. '@example.com\"}'\n  \
         return wrk.format(\"POST\", \"/v1/customerlink\", hdrs, body)\nend\n",
    );
    write(dir, "create.lua", &lua)
}

fn headers(key: Option<&str>) -> String {
    let mut lua = String::from("hdrs = { [\"Accept\"] = \"application/json\" }\n");
    if let Some(key) = key {
        let _ = writeln!(lua, "hdrs[\"Authorization\"] = \"Bearer {key}\"");
    }
    lua
}

fn write(dir: &Path, name: &str, lua: &str) -> Result<PathBuf, String> {
    let path = dir.join(name);
    std::fs::write(&path, lua).map_err(|e| e.to_string())?;
    Ok(path)
}
