//! Build script: records the git commit the binary is built from, for `customerlink --version`
//! (`CUSTOMERLINK_COMMIT`, "unknown" outside a git checkout, e.g. a source tarball). It reruns
//! when HEAD moves (a checkout, or a commit on the current branch), not on every build.

use std::path::Path;
use std::process::Command;

fn main() {
    let commit = git(&["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=CUSTOMERLINK_COMMIT={commit}");
    println!("cargo:rerun-if-changed=build.rs");
    let Some(git_dir) = git(&["rev-parse", "--git-dir"]) else {
        return;
    };
    watch(&Path::new(&git_dir).join("HEAD"));
    let common = git(&["rev-parse", "--git-common-dir"]).unwrap_or(git_dir);
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watch(&Path::new(&common).join(branch));
    }
    watch(&Path::new(&common).join("packed-refs"));
}

/// Rebuild when `path` changes; a path that does not exist would rerun on every build.
fn watch(path: &Path) {
    if path.exists() {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

/// A git command's trimmed output, or `None` without git, outside a checkout, or on failure.
fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let text = text.trim();
    (out.status.success() && !text.is_empty()).then(|| text.to_owned())
}
