//! `get`, `set`, `unset`, `show` and `--help`: editing a version file in place, reading it, and
//! refusing what sh and compose would read differently.

use super::*;

#[test]
fn set_keeps_every_untouched_byte() {
    let d = tempdir();
    let original = "# versions of the stack\n\
                    \n\
                    server = v3.8.0   # bumped by CI\n\
                    export REDIS='7.2.3-alpine'\r\n\
                    \t# indented comment\n\
                    db=\"15.4\"\n\
                    \n\
                    tail=keep";
    write(&d.path().join("v.txt"), original);
    sh("vfile set v.txt server=v3.8.1 db=16.0 added=1")
        .dir(d.path())
        .run()
        .success()
        .stdout_is("");
    let want = "# versions of the stack\n\
                \n\
                server = v3.8.1   # bumped by CI\n\
                export REDIS='7.2.3-alpine'\r\n\
                \t# indented comment\n\
                db=\"16.0\"\n\
                \n\
                tail=keep\n\
                added=1\n";
    assert_eq!(read(&d.path().join("v.txt")), want);

    // In a file sh can source, what sh reads back is what vfile wrote.
    write(
        &d.path().join("env.sh"),
        "# sourced by install.sh\nexport REDIS='7.2'\ndb=\"15\"\n",
    );
    sh(
        "vfile set env.sh REDIS=\"7.4 beta\" db='it'\\''s \"x\"' server=v1 && . ./env.sh \
        && printf '%s|%s|%s\\n' \"$REDIS\" \"$db\" \"$server\"",
    )
    .dir(d.path())
    .run()
    .success()
    .stdout_is("7.4 beta|it's \"x\"|v1\n");

    // What sh and docker-compose's --env-file would read differently is refused on the way in,
    // and a file with something sh would run or expand is refused on the way out.
    sh("vfile set env.sh 'k=${HOME}'")
        .dir(d.path())
        .run()
        .code(65)
        .stderr_has("'$'");
    write(
        &d.path().join("run.sh"),
        "a=1
b=$(touch pwned)
",
    );
    sh("vfile show run.sh")
        .dir(d.path())
        .run()
        .code(65)
        .stderr_has("run.sh:2");
    assert!(!d.path().join("pwned").exists());
}

#[test]
fn get_show_unset_and_exit_statuses() {
    let d = tempdir();
    sh("vfile get v.txt server")
        .dir(d.path())
        .run()
        .code(1)
        .stdout_is("");
    sh("vfile show v.txt")
        .dir(d.path())
        .run()
        .success()
        .stdout_is("{}\n");
    sh("vfile unset v.txt server").dir(d.path()).run().success();
    assert!(
        !d.path().join("v.txt").exists(),
        "unset of a missing file creates nothing"
    );

    sh("vfile set v.txt server=v1 'note=two words'")
        .dir(d.path())
        .run()
        .success();
    sh("vfile get v.txt server")
        .dir(d.path())
        .run()
        .success()
        .stdout_is("v1\n");
    sh("vfile get v.txt note")
        .dir(d.path())
        .run()
        .success()
        .stdout_is("two words\n");
    sh("vfile show v.txt")
        .dir(d.path())
        .run()
        .success()
        .stdout_is("{\"server\":\"v1\",\"note\":\"two words\"}\n");
    sh("vfile get v.txt absent")
        .dir(d.path())
        .run()
        .code(1)
        .stderr_has("absent: not set");
    sh("vfile -q get v.txt absent")
        .dir(d.path())
        .run()
        .code(1)
        .stdout_is("");
    sh("vfile unset v.txt server absent")
        .dir(d.path())
        .run()
        .success();
    assert_eq!(read(&d.path().join("v.txt")), "note='two words'\n");

    // Usage errors are 2, bad keys and values 65, and nothing changes.
    sh("vfile set v.txt novalue").dir(d.path()).run().code(2);
    sh("vfile frobnicate").dir(d.path()).run().code(2);
    sh("vfile set v.txt 'bad key=1'")
        .dir(d.path())
        .run()
        .code(65)
        .stderr_has("invalid key");
    sh("vfile set v.txt \"k=$(printf 'a\\nb')\"")
        .dir(d.path())
        .run()
        .code(65)
        .stderr_has("newline");
    sh("vfile get v.txt 'bad key'")
        .dir(d.path())
        .run()
        .code(65)
        .stderr_has("invalid key");
    assert_eq!(read(&d.path().join("v.txt")), "note='two words'\n");
}

#[test]
fn json_version_files() {
    let d = tempdir();
    sh("vfile set v.json server=v1 redis=7.2 && vfile set v.json server=v2")
        .dir(d.path())
        .run()
        .success();
    assert_eq!(
        read(&d.path().join("v.json")),
        "{\n  \"server\": \"v2\",\n  \"redis\": \"7.2\"\n}\n"
    );
    sh("vfile get v.json redis")
        .dir(d.path())
        .run()
        .success()
        .stdout_is("7.2\n");
    write(&d.path().join("bad.json"), "{\"a\": ");
    sh("vfile set bad.json a=1")
        .dir(d.path())
        .run()
        .code(65)
        .stderr_has("bad.json:1");
    assert_eq!(read(&d.path().join("bad.json")), "{\"a\": ");
}

#[test]
fn a_malformed_version_file_is_refused_untouched() {
    let d = tempdir();
    write(&d.path().join("v.txt"), "a=1\nthis is no assignment\n");
    sh("vfile set v.txt a=2")
        .dir(d.path())
        .run()
        .code(65)
        .stderr_has("v.txt:2: not a key=value line");
    sh("vfile get v.txt a").dir(d.path()).run().code(65);
    // Nor does record start a history for a file it refuses.
    sh("vfile record v.txt --history h.log")
        .dir(d.path())
        .stdin("{\"name\":\"a\",\"latest\":\"2\",\"update\":true}\n")
        .run()
        .code(65)
        .stderr_has("v.txt:2");
    assert!(!d.path().join("h.log").exists(), "no history started");
    assert_eq!(
        read(&d.path().join("v.txt")),
        "a=1\nthis is no assignment\n"
    );
}

#[test]
fn help_has_examples_and_version_is_printed() {
    sh("vfile --help")
        .run()
        .success()
        .stdout_is_containing("Examples:");
    sh("vfile record --help")
        .run()
        .success()
        .stdout_is_containing("--history");
    sh("vfile --version")
        .run()
        .success()
        .stdout_is_containing("vfile ");
}

#[test]
fn set_on_a_json_file_keeps_the_numbers_it_does_not_own() {
    let d = tempdir();
    write(
        &d.path().join("v.json"),
        "{\"app\": \"1.0\", \"build\": 123456789012345678901234567890, \"ratio\": 1E2, \"tiny\": 1e-400}\n",
    );
    sh("vfile set v.json app=2.0").dir(d.path()).run().success();
    assert_eq!(
        read(&d.path().join("v.json")),
        "{\n  \"app\": \"2.0\",\n  \"build\": 123456789012345678901234567890,\n  \"ratio\": 1E2,\n  \"tiny\": 1e-400\n}\n"
    );
    sh("vfile get v.json ratio")
        .dir(d.path())
        .run()
        .success()
        .stdout_is("1E2\n");
    write(
        &d.path().join("dup.json"),
        "{\"app\": \"1\", \"app\": \"2\"}\n",
    );
    sh("vfile set dup.json app=3")
        .dir(d.path())
        .run()
        .code(65)
        .stderr_has("duplicate key");
}

#[test]
fn a_line_compose_reads_otherwise_is_refused_and_not_kept() {
    let d = tempdir();
    // Compose v2 reads `1.0\t# pinned` here: every later restart would get an invalid image.
    for text in [
        "app=1.0\t# pinned\n",
        "app= # set later\n",
        "app=\"a\\tb\"\n",
    ] {
        write(&d.path().join("v.txt"), text);
        sh("vfile set v.txt app=2.0")
            .dir(d.path())
            .run()
            .code(65)
            .stderr_has("v.txt:1: ");
        sh("vfile get v.txt app").dir(d.path()).run().code(65);
        assert_eq!(read(&d.path().join("v.txt")), text);
    }
}
