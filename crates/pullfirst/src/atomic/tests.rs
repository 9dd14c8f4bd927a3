//! Unit tests of `atomic.rs`.

use super::*;

#[test]
fn resolve_follows_relative_and_dangling_links() {
    let dir = tempfile::tempdir().expect("tempdir");
    let real = dir.path().join("real.txt");
    std::os::unix::fs::symlink("real.txt", dir.path().join("link")).expect("symlink");
    assert_eq!(resolve(&dir.path().join("link")).expect("resolves"), real);
    let loop_path = dir.path().join("loop");
    std::os::unix::fs::symlink("loop", &loop_path).expect("symlink");
    assert!(resolve(&loop_path).is_err());
}

#[test]
fn replace_keeps_mode_and_cleans_up_dead_writers_temps() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("v.txt");
    fs::write(&path, "a=1\n").expect("write");
    fs::set_permissions(&path, Permissions::from_mode(0o640)).expect("chmod");
    let stale = dir.path().join(".v.txt.abc123.vfile-tmp");
    let other = dir.path().join(".other.txt.abc123.vfile-tmp");
    fs::write(&stale, "junk").expect("write");
    fs::write(&other, "junk").expect("write");

    let locked = LockedFile::lock(&path).expect("lock");
    locked.replace(b"a=2\n").expect("replace");
    drop(locked);

    assert_eq!(fs::read(&path).expect("read"), b"a=2\n");
    let mode = fs::metadata(&path).expect("stat").mode() & 0o7777;
    assert_eq!(mode, 0o640);
    assert!(!stale.exists());
    assert!(
        other.exists(),
        "another file's temporaries are not ours to remove"
    );
}

#[test]
fn devices_are_refused_unread_and_unreplaced() {
    for dev in ["/dev/zero", "/dev/null"] {
        let path = Path::new(dev);
        match read_optional(path) {
            Err(Error::NotRegular { kind, .. }) => assert_eq!(kind, "a character device"),
            other => panic!("{dev}: {other:?}"),
        }
        assert!(matches!(
            LockedFile::lock(path),
            Err(Error::NotRegular { .. })
        ));
    }
    assert_eq!(
        kind(Path::new("/")).expect("stat"),
        Kind::Other("a directory")
    );
    assert_eq!(
        kind(Path::new("/nonexistent/x")).expect("stat"),
        Kind::Missing
    );
}

#[test]
fn an_undoable_replacement_is_taken_back_unless_someone_wrote_since() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("v.txt");
    let names = || {
        let mut n: Vec<String> = fs::read_dir(dir.path())
            .expect("dir")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        n.sort();
        n
    };
    fs::write(&path, "a=1\n").expect("write");
    let replaced = LockedFile::lock(&path)
        .and_then(|l| l.replace_undoable(b"a=2\n"))
        .expect("replace");
    assert_eq!(fs::read(&path).expect("read"), b"a=2\n");
    assert!(replaced.undo().expect("undo"));
    assert_eq!(fs::read(&path).expect("read"), b"a=1\n");
    assert_eq!(names(), ["v.txt"]);

    // Kept when dropped; the old file beside it goes.
    let replaced = LockedFile::lock(&path)
        .and_then(|l| l.replace_undoable(b"a=3\n"))
        .expect("replace");
    drop(replaced);
    assert_eq!(fs::read(&path).expect("read"), b"a=3\n");
    assert_eq!(names(), ["v.txt"]);

    // Another writer came in between: theirs stays.
    let replaced = LockedFile::lock(&path)
        .and_then(|l| l.replace_undoable(b"a=4\n"))
        .expect("replace");
    write(&path, b"a=5\n").expect("other writer");
    assert!(!replaced.undo().expect("undo"));
    assert_eq!(fs::read(&path).expect("read"), b"a=5\n");

    // A new file is removed again; a dead writer's old file is cleaned up.
    let new = dir.path().join("n.txt");
    let replaced = LockedFile::lock(&new)
        .and_then(|l| l.replace_undoable(b"x=1\n"))
        .expect("replace");
    assert!(replaced.undo().expect("undo"));
    assert!(!new.exists());
    fs::write(dir.path().join(".v.txt.999999999.vfile-undo"), "old").expect("write");
    write(&path, b"a=6\n").expect("write");
    assert_eq!(names(), ["v.txt"]);
}

/// The bytes of a file.
fn read_to(path: &Path) -> Vec<u8> {
    fs::read(path).expect("read")
}

#[test]
fn resolve_follows_absolute_links_and_chains_and_keeps_other_paths() {
    let dir = tempfile::tempdir().expect("tempdir");
    let real = dir.path().join("real.txt");
    fs::write(&real, "a=1\n").expect("write");
    std::os::unix::fs::symlink(&real, dir.path().join("abs")).expect("symlink");
    std::os::unix::fs::symlink("abs", dir.path().join("chain")).expect("symlink");
    assert_eq!(resolve(&real).expect("a file is itself"), real);
    assert_eq!(resolve(&dir.path().join("abs")).expect("resolves"), real);
    assert_eq!(resolve(&dir.path().join("chain")).expect("resolves"), real);
    let missing = dir.path().join("new.txt");
    assert_eq!(resolve(&missing).expect("a new file is itself"), missing);
    // A path through a regular file is an error, not a file to create.
    assert!(resolve(&real.join("x")).is_err());
}

#[test]
fn a_path_through_a_regular_file_is_an_error_not_a_missing_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("v.txt");
    fs::write(&file, "a=1\n").expect("write");
    let under = file.join("x");
    assert!(matches!(kind(&under), Err(Error::Io { .. })));
    assert!(matches!(read_optional(&under), Err(Error::Io { .. })));
    assert!(matches!(LockedFile::lock(&under), Err(Error::Io { .. })));
    // Even past the checks made before the lock, the replacement stats its target first.
    let locked = LockedFile::lock_resolved(&under, under.clone()).expect("lock the file's dir");
    match locked.replace(b"a=2\n") {
        Err(Error::Io { what, .. }) => assert_eq!(what, "cannot stat"),
        other => panic!("{other:?}"),
    }
    assert_eq!(read_to(&file), b"a=1\n");
}

#[test]
fn a_fifo_is_refused_without_blocking_and_without_being_replaced() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("v.txt");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    assert_eq!(kind(&fifo).expect("stat"), Kind::Other("a FIFO"));
    // A FIFO with no writer would block an ordinary open for ever.
    let (tx, rx) = std::sync::mpsc::channel();
    let path = fifo.clone();
    std::thread::spawn(move || {
        let _ = tx.send(read_optional(&path).map_err(|e| e.to_string()));
    });
    let read = rx
        .recv_timeout(std::time::Duration::from_secs(10))
        .expect("reading a FIFO returns at once");
    let message = read.expect_err("a FIFO is refused");
    assert!(
        message.ends_with("is a FIFO, not a regular file: refusing to read or replace it"),
        "{message}"
    );
    match LockedFile::lock(&fifo) {
        Err(Error::NotRegular { kind, .. }) => assert_eq!(kind, "a FIFO"),
        Err(other) => panic!("{other:?}"),
        Ok(_) => panic!("a FIFO was locked for replacing"),
    }
    assert_eq!(kind(&fifo).expect("stat"), Kind::Other("a FIFO"));
}

#[test]
fn a_file_is_read_up_to_the_limit_and_refused_past_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("big");
    let file = File::create(&path).expect("create");
    // Sparse: no disk space is used.
    file.set_len(MAX_FILE).expect("set_len");
    let read = read_optional(&path)
        .expect("at the limit")
        .expect("present");
    assert_eq!(read.len() as u64, MAX_FILE);
    assert_eq!(MAX_FILE, 64 * 1024 * 1024);
    file.set_len(MAX_FILE + 1).expect("set_len");
    match read_optional(&path) {
        Err(e @ Error::BadFile { .. }) => {
            assert!(e.to_string().contains("larger than 64 MiB"), "{e}")
        }
        other => panic!("{:?}", other.map(|b| b.map(|b| b.len()))),
    }
}

#[test]
fn a_locked_file_reads_what_is_there() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("v.txt");
    let locked = LockedFile::lock(&path).expect("lock");
    assert_eq!(locked.read().expect("read"), None);
    drop(locked);
    fs::write(&path, "a=1\n").expect("write");
    let locked = LockedFile::lock(&path).expect("lock");
    assert_eq!(locked.read().expect("read").as_deref(), Some(&b"a=1\n"[..]));
}

#[test]
fn root_editing_another_users_file_keeps_its_owner() {
    if rustix::process::geteuid().as_raw() != 0 {
        return; // only root can give a file away
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("v.txt");
    fs::write(&path, "a=1\n").expect("write");
    std::os::unix::fs::chown(&path, Some(1), Some(1)).expect("chown");
    write(&path, b"a=2\n").expect("write");
    let m = fs::metadata(&path).expect("stat");
    assert_eq!((m.uid(), m.gid()), (1, 1));
    assert_eq!(read_to(&path), b"a=2\n");
}

#[test]
fn the_temporary_file_is_made_beside_the_target_not_in_the_working_directory() {
    // On another file system than the working directory, a temporary made anywhere else
    // could not be renamed into place.
    let shm = Path::new("/dev/shm");
    let here = fs::metadata(".").expect("stat .");
    let Ok(there) = fs::metadata(shm) else {
        return;
    };
    if there.dev() == here.dev() {
        return;
    }
    let dir = tempfile::tempdir_in(shm).expect("tempdir");
    let path = dir.path().join("v.txt");
    write(&path, b"a=1\n").expect("write");
    write(&path, b"a=2\n").expect("write again");
    assert_eq!(read_to(&path), b"a=2\n");
    assert_eq!(fs::read_dir(dir.path()).expect("dir").count(), 1);
}

#[test]
fn the_directory_of_a_file() {
    assert_eq!(dir_of(Path::new("v.txt")), Path::new("."));
    assert_eq!(dir_of(Path::new("a/v.txt")), Path::new("a"));
    assert_eq!(dir_of(Path::new("/etc/v.txt")), Path::new("/etc"));
}

#[test]
fn an_undo_kept_by_a_live_process_is_not_taken_for_a_dead_writers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("v.txt");
    // Process 1 is always running.
    let live = dir.path().join(".v.txt.1.vfile-undo");
    fs::write(&live, "old").expect("write");
    write(&path, b"a=1\n").expect("write");
    assert!(live.exists(), "a running process's old file was removed");
    assert!(alive("1") && alive(&std::process::id().to_string()));
    assert!(!alive("999999999") && !alive("x"));
}

#[test]
fn an_undo_restores_the_old_bytes_where_no_link_can_be_made() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("v.txt");
    fs::write(&path, "a=1\n").expect("write");
    // Something that is no file of ours stands where the link would go.
    let blocker = dir
        .path()
        .join(format!(".v.txt.{}.vfile-undo", std::process::id()));
    fs::create_dir(&blocker).expect("mkdir");
    let replaced = LockedFile::lock(&path)
        .and_then(|l| l.replace_undoable(b"a=2\n"))
        .expect("replace");
    assert_eq!(replaced.shown(), path);
    assert_eq!(read_to(&path), b"a=2\n");
    assert!(replaced.undo().expect("undo"));
    assert_eq!(read_to(&path), b"a=1\n");
    assert!(blocker.is_dir());
}

#[test]
fn the_group_is_kept_when_the_owner_is_the_writer() {
    if rustix::process::geteuid().as_raw() != 0 {
        return; // only root can give a file any group
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("v.txt");
    fs::write(&path, "a=1\n").expect("write");
    std::os::unix::fs::chown(&path, Some(0), Some(1)).expect("chgrp");
    fs::set_permissions(&path, Permissions::from_mode(0o640)).expect("chmod");
    write(&path, b"a=2\n").expect("write");
    let m = fs::metadata(&path).expect("stat");
    assert_eq!((m.uid(), m.gid(), m.mode() & 0o7777), (0, 1, 0o640));
}
