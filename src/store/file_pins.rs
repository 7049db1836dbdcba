//! Keeps sealed attachment files on disk while a backup may still copy them. A backup pins
//! the folder BEFORE it opens its read snapshot; removing an attachment's file (DELETE, the
//! purge) always comes after its record's removal commits, and while any pin is held the
//! removal is deferred until the last pin is dropped. So every record a snapshot holds has
//! its file until the backup is done: if the removal came first, the record's removal
//! committed before the pin and so before the snapshot, which then does not hold it. A crash
//! while removals are deferred leaves files without records; the start-up sweep removes them.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

/// The pin count and the removals waiting for it to reach zero.
#[derive(Default)]
pub struct FilePins {
    state: Mutex<PinState>,
}

#[derive(Default)]
struct PinState {
    pins: usize,
    deferred: Vec<PathBuf>,
}

/// Held by a backup from before its snapshot until it has copied the files.
pub struct Pin {
    pins: Arc<FilePins>,
}

impl FilePins {
    fn state(&self) -> MutexGuard<'_, PinState> {
        // A poisoned lock still holds a consistent count: every update is one statement.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Pins the folder; take it before the snapshot whose files are to be copied.
    pub fn pin(self: &Arc<Self>) -> Pin {
        self.state().pins += 1;
        Pin {
            pins: Arc::clone(self),
        }
    }

    /// Removes `path` now, or when the last pin goes if one is held. A missing file is not an
    /// error; any other failure is reported (a deferred removal's failure is only logged).
    pub fn remove(&self, path: PathBuf) -> std::io::Result<()> {
        {
            let mut state = self.state();
            if state.pins > 0 {
                state.deferred.push(path);
                return Ok(());
            }
        }
        remove_file(&path)
    }
}

fn remove_file(path: &std::path::Path) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

impl Drop for Pin {
    fn drop(&mut self) {
        let due = {
            let mut state = self.pins.state();
            state.pins = state.pins.saturating_sub(1);
            if state.pins > 0 {
                return;
            }
            std::mem::take(&mut state.deferred)
        };
        for path in due {
            if let Err(e) = remove_file(&path) {
                tracing::warn!(error = %e, "a deferred attachment file could not be removed; the next start sweeps it");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_removal_waits_for_the_last_pin() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let file = dir.path().join("a.sealed");
        std::fs::write(&file, b"x").unwrap_or_else(|e| panic!("{e}"));
        let pins = Arc::new(FilePins::default());
        let (one, two) = (pins.pin(), pins.pin());
        pins.remove(file.clone()).unwrap_or_else(|e| panic!("{e}"));
        drop(one);
        assert!(file.exists(), "still pinned by the second backup");
        drop(two);
        assert!(!file.exists(), "removed with the last pin");
        pins.remove(file).unwrap_or_else(|e| panic!("{e}"));
    }
}
