//! What the binary says about itself, generated from the clap definitions in `cli` so it
//! cannot drift from the flags: the long `--version` text (with the git commit and the storage
//! formats), shell completions (`customerlink completions <shell>`) and the man page
//! (`customerlink man`). The Debian package ships the completions and the page (`deploy/deb/`;
//! a test compares them with this output).

use std::io::{self, Write};

use clap::Command;
use clap_mangen::Man;

use crate::store::postgres::migrate as pg;
use crate::store::tables::SCHEMA_VERSION;
use crate::store::upgrade;

/// The git commit of the build (`build.rs`), "unknown" outside a checkout.
pub const COMMIT: &str = env!("CUSTOMERLINK_COMMIT");

/// `--version`: the version, the commit, and per store the format it writes and those it opens
/// (older ones are migrated at start).
pub fn long_version() -> String {
    format!(
        "{} (commit {COMMIT})\n\
         embedded store: writes format {SCHEMA_VERSION}, opens formats {} to {SCHEMA_VERSION}\n\
         PostgreSQL store: writes schema {}, opens schemas 0 to {}",
        env!("CARGO_PKG_VERSION"),
        upgrade::oldest_readable(),
        pg::latest(),
        pg::latest()
    )
}

/// Writes the completion script of `shell` for `cmd` (named `customerlink`). Generated into
/// memory first: clap_complete panics when its writer fails (a closed pipe).
pub fn completions(
    shell: clap_complete::Shell,
    mut cmd: Command,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "customerlink", &mut script);
    out.write_all(&script)
}

/// Writes one man page: the program's own sections, then a section per subcommand (nested
/// ones too) with its synopsis, description and options.
pub fn man_page(cmd: Command, out: &mut dyn Write) -> io::Result<()> {
    Man::new(cmd.clone()).render(out)?;
    for sub in cmd.get_subcommands() {
        subcommand_section(sub, "customerlink", out)?;
    }
    Ok(())
}

fn subcommand_section(cmd: &Command, parent: &str, out: &mut dyn Write) -> io::Result<()> {
    let name = format!("{parent} {}", cmd.get_name());
    writeln!(out, ".SH \"{}\"", name.to_uppercase())?;
    let man = Man::new(cmd.clone().bin_name(&name));
    let mut text = Vec::new();
    man.render_synopsis_section(&mut text)?;
    man.render_description_section(&mut text)?;
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut text)?;
    }
    // Their own headings become sub-headings of this command's section.
    let text = String::from_utf8_lossy(&text).replace(".SH ", ".SS ");
    out.write_all(text.as_bytes())?;
    for sub in cmd.get_subcommands() {
        subcommand_section(sub, &name, out)?;
    }
    Ok(())
}
