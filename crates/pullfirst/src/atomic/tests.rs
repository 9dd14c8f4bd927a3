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
