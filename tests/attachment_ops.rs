//! Attachments through the operator tools and the purge (issue 17): a backup carries the
//! sealed files of exactly the attachments of its snapshot — also while uploads and deletes
//! go on — and a restore puts them back (0600 files in a 0700 folder) so they download byte
//! for byte and `check` passes; a backup of a folder missing a file fails, naming it; the
//! purge removes an attachment no share points at once the retention window has passed.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::attachments::{download, id_of, random_bytes, upload_raw};
use crate::support::sinks::wait_until;
use crate::support::{TestServer, cli, embedded_only};

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn sealed_file(data: &Path, id: &str) -> std::path::PathBuf {
    let id = uuid::Uuid::parse_str(id).unwrap();
    data.join("attachments")
        .join(format!("{}.sealed", id.simple()))
}

/// Uploads and deletes in a loop until told to stop; answers how many rounds ran.
fn churn(s: Arc<TestServer>, going: Arc<AtomicBool>) -> std::thread::JoinHandle<u32> {
    std::thread::spawn(move || {
        let mut rounds = 0;
        while going.load(Ordering::SeqCst) {
            let (status, reply) = upload_raw(&s, &s.key, "churn.bin", &random_bytes(70_000, 9));
            assert_eq!(status, 200, "{reply}");
            let deleted = s.delete(&format!("/v1/attachment/{}", id_of(&reply)));
            assert_eq!(deleted.status, 200, "{deleted:?}");
            rounds += 1;
        }
        rounds
    })
}

#[test]
fn a_backup_taken_during_uploads_and_deletes_restores_every_attachment_byte_for_byte() {
    if embedded_only("the backup of the attachment files") {
        return;
    }
    let s = Arc::new(TestServer::start());
    let kept: Vec<(String, Vec<u8>)> = [(2_500_000, 1), (10, 2), (0, 3)]
        .into_iter()
        .map(|(len, seed)| {
            let data = random_bytes(len, seed);
            let (status, reply) = upload_raw(&s, &s.key, "kept.bin", &data);
            assert_eq!(status, 200, "{reply}");
            (id_of(&reply), data)
        })
        .collect();
    let going = Arc::new(AtomicBool::new(true));
    let churners: Vec<_> = (0..4)
        .map(|_| churn(Arc::clone(&s), Arc::clone(&going)))
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("cl.backup");
    // Several, so some snapshot holds an attachment deleted before its file is copied.
    let backups: Vec<_> = (0..8)
        .map(|_| {
            let _ = std::fs::remove_file(&file);
            cli(&["backup", path(&file), "--data", path(&s.data)])
        })
        .collect();
    going.store(false, Ordering::SeqCst);
    let rounds: u32 = churners.into_iter().map(|c| c.join().unwrap()).sum();
    for (code, _, err) in backups {
        assert_eq!(code, 0, "backup failed: {err}");
        assert!(err.contains("streamed by the server"), "{err}");
    }
    assert!(rounds > 0, "uploads and deletes went on");
    let bytes = std::fs::read(&file).unwrap();
    let plain = &kept[0].1[..4096];
    assert!(
        !bytes.windows(plain.len()).any(|w| w == plain),
        "the files travel sealed"
    );

    let restored = out.path().join("restored");
    let (code, stdout, err) = cli(&["restore", path(&file), "--data", path(&restored)]);
    assert_eq!(code, 0, "restore failed: {stdout}{err}");
    assert_eq!(mode(&restored.join("attachments")), 0o700);
    let key = s.key.clone();
    drop(s);
    for (id, _) in &kept {
        assert_eq!(mode(&sealed_file(&restored, id)), 0o600);
    }
    let (code, report, err) = cli(&["check", "--data", path(&restored)]);
    assert_eq!(code, 0, "check of the restored folder: {report}{err}");

    std::fs::write(restored.join("initial-api-key"), format!("{key}\n")).unwrap();
    let clock = Arc::new(customerlink::clock::ManualClock::new());
    let r = TestServer::start_in(&restored, clock, |_| {});
    for (id, data) in &kept {
        let (status, _, body) = download(&r, &key, id);
        assert_eq!(status, 200, "download of {id} after the restore");
        assert!(body == *data, "{id} came back with other bytes");
    }
}

#[test]
fn a_backup_of_a_folder_missing_an_attachment_file_fails_naming_it() {
    if embedded_only("the backup of the attachment files") {
        return;
    }
    let s = TestServer::start();
    let (status, reply) = upload_raw(&s, &s.key, "gone.bin", b"soon gone");
    assert_eq!(status, 200, "{reply}");
    let id = id_of(&reply);
    let (dir, _) = s.stop();
    let data = dir.as_ref().unwrap().path();
    std::fs::remove_file(sealed_file(data, &id)).unwrap();
    let out = data.join("b.backup");
    let (code, _, err) = cli(&["backup", path(&out), "--data", path(data)]);
    assert_eq!(code, 1, "{err}");
    let simple = uuid::Uuid::parse_str(&id).unwrap().simple().to_string();
    assert!(err.contains(&format!("attachment {simple}")), "{err}");
    assert!(!out.exists(), "no backup is left behind");
    assert!(!data.join("b.backup.partial").exists(), "nor a partial one");
}

#[test]
fn the_purge_removes_a_never_shared_attachment_after_the_retention_window() {
    let s = TestServer::start_with(|c| {
        c.purge.interval = Duration::from_millis(30);
        c.attachments.retention_ms = 2 * 86_400_000;
    });
    let (status, old) = upload_raw(&s, &s.key, "old.bin", b"old bytes");
    assert_eq!(status, 200, "{old}");
    s.clock.advance_hours(24);
    let (status, young) = upload_raw(&s, &s.key, "young.bin", b"young bytes");
    assert_eq!(status, 200, "{young}");
    s.clock.advance_hours(25);

    let (old, young) = (id_of(&old), id_of(&young));
    wait_until(
        || download(&s, &s.key, &old).0 == 404,
        "the purge of the attachment past its retention",
    );
    let (status, _, body) = download(&s, &s.key, &young);
    assert_eq!(status, 200, "still within its retention");
    assert_eq!(body, b"young bytes");
    if !crate::support::on_postgres() {
        assert!(!sealed_file(&s.data, &old).exists(), "its file went too");
        assert!(sealed_file(&s.data, &young).exists());
    }
    let out = s.check();
    assert!(out.contains("attachments 1"), "{out}");
}
