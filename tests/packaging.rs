//! Issue 18, items 2 and 3: what the binary says about itself comes from its clap definitions —
//! `--version` (version, commit, storage formats), `completions <shell>` and `man` — and the
//! Debian package ships exactly that output (`deploy/deb/`), plus a config sample whose every
//! key the server accepts. The package itself is installed and removed by
//! `tests/package/run.sh`.

use std::path::Path;

use clap::CommandFactory;
use customerlink::cli::Cli;
use customerlink::store::postgres::migrate;
use customerlink::store::tables::SCHEMA_VERSION;
use customerlink::store::upgrade::oldest_readable;

use crate::support::cli;

const DEB: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/deb");

fn run_ok(args: &[&str]) -> String {
    let (code, out, err) = cli(args);
    assert_eq!(code, 0, "{args:?}: {err}");
    out
}

/// Every subcommand's name, nested ones too (`key create` gives `key` and `create`).
fn subcommand_names() -> Vec<String> {
    fn walk(cmd: &clap::Command, names: &mut Vec<String>) {
        for sub in cmd.get_subcommands() {
            names.push(sub.get_name().to_owned());
            walk(sub, names);
        }
    }
    let mut names = Vec::new();
    walk(&Cli::command(), &mut names);
    names
}

/// How a long flag appears in roff (`-` is escaped as `\-`).
fn roff_flag(long: &str) -> String {
    format!("\\-\\-{}", long.replace('-', "\\-"))
}

#[test]
fn issue_18_version_names_the_commit_and_the_storage_formats() {
    let out = run_ok(&["--version"]);
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map_or("unknown".to_owned(), |o| {
            String::from_utf8_lossy(&o.stdout).trim().to_owned()
        });
    let first = format!(
        "customerlink {} (commit {commit})",
        env!("CARGO_PKG_VERSION")
    );
    assert!(out.starts_with(&first), "{out}");
    let embedded = format!(
        "embedded store: writes format {SCHEMA_VERSION}, opens formats {} to {SCHEMA_VERSION}",
        oldest_readable()
    );
    assert!(out.contains(&embedded), "{out}");
    let pg = migrate::latest();
    let postgres = format!("PostgreSQL store: writes schema {pg}, opens schemas 0 to {pg}");
    assert!(out.contains(&postgres), "{out}");
}

#[test]
fn issue_18_completions_name_every_subcommand() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let script = run_ok(&["completions", shell]);
        for name in subcommand_names() {
            assert!(script.contains(&name), "{shell} completion lacks {name}");
        }
        assert!(script.contains("no-migrate"), "{shell}: serve's own flag");
    }
    let (code, _, err) = cli(&["completions", "tcsh"]);
    assert_eq!(code, 2, "an unknown shell is a usage error: {err}");
}

#[test]
fn issue_18_the_man_page_names_every_subcommand_and_every_flag_of_serve() {
    let page = run_ok(&["man"]);
    assert!(page.starts_with(".ie") || page.starts_with(".TH"), "roff");
    assert!(page.contains(".TH customerlink 1"), "{page}");
    let headings: Vec<&str> = page.lines().filter(|l| l.starts_with(".SH \"")).collect();
    for name in subcommand_names() {
        let word = format!(" {}", name.to_uppercase());
        assert!(
            headings.iter().any(|h| h.ends_with(&format!("{word}\""))),
            "no section for {name}: {headings:?}"
        );
    }
    let mut serve = Cli::command();
    serve.build();
    let serve = serve.find_subcommand("serve").unwrap();
    let flags: Vec<_> = serve.get_arguments().filter_map(|a| a.get_long()).collect();
    assert!(
        flags.contains(&"no-migrate") && flags.contains(&"data"),
        "{flags:?}"
    );
    for long in flags {
        assert!(page.contains(&roff_flag(long)), "the page lacks --{long}");
    }
}

#[test]
fn issue_18_the_package_ships_the_binarys_own_completions_and_man_page() {
    let shipped = [
        ("completions/customerlink.bash", vec!["completions", "bash"]),
        ("completions/_customerlink", vec!["completions", "zsh"]),
        ("completions/customerlink.fish", vec!["completions", "fish"]),
        ("customerlink.1", vec!["man"]),
    ];
    for (file, args) in shipped {
        let committed = std::fs::read_to_string(Path::new(DEB).join(file)).unwrap();
        assert!(
            committed == run_ok(&args),
            "deploy/deb/{file} is not `customerlink {}`: run `bash deploy/deb/regenerate.sh`",
            args.join(" ")
        );
    }
}

#[test]
fn issue_18_every_key_of_the_packaged_config_sample_is_accepted() {
    let sample = std::fs::read_to_string(Path::new(DEB).join("customerlink.toml")).unwrap();
    // Uncomment every `# key = value` and `# [section]` line, except the ones that name
    // something that must exist (a CA file, a database).
    let uncommented: String = sample
        .lines()
        .filter_map(|line| line.strip_prefix("# "))
        .filter(|line| {
            let key = line.split([' ', '=']).next().unwrap_or_default();
            line.starts_with('[')
                || (line.contains(" = ") && key.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        })
        .filter(|line| !line.starts_with("ca_file") && !line.starts_with("store"))
        .map(|line| format!("{line}\n"))
        .collect();
    assert!(uncommented.contains("[email]"), "{uncommented}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("customerlink.toml");
    std::fs::write(&file, &uncommented).unwrap();
    let data = dir.path().join("data");
    let (code, out, err) = cli(&[
        "check",
        "--data",
        data.to_str().unwrap(),
        "--config",
        file.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{uncommented}\n{out}{err}");
}
