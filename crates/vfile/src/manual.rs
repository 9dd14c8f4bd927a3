//! `vfile`'s manual apart from its options: examples, exit status, environment, files. The
//! same text ends `--help` and fills the man page's sections (see `pullfirst::manual`).

use pullfirst::manual::{Example, Manual};

pub const MANUAL: Manual = Manual {
    notes: &[(
        "The version file",
        "KEY=VALUE lines, as sh and docker-compose --env-file read them: comments, blank lines,\n\
         order and every untouched byte are kept; a value that sh, compose v1 and compose v2\n\
         would read differently is refused. A name ending in .json holds one JSON object.\n\
         Every write is atomic and durable, and serialised with other writers by a lock.",
    )],
    examples: &[
        Example {
            about: "Set two keys in one atomic write",
            run: "vfile set versions.env app=1.4.1 worker=1.4.1",
        },
        Example {
            about: "Read one key into a shell variable (exit 1 if it is not set)",
            run: "app=$(vfile get versions.env app) && echo \"running $app\"",
        },
        Example {
            about: "The whole file as one JSON object",
            run: "vfile show versions.env",
        },
        Example {
            about: "Record the versions that were pulled, and keep a history of changes",
            run: "ipull < checked.jsonl | vfile record versions.env --history versions.log",
        },
        Example {
            about: "Record nothing unless every record is ok",
            run: "vfile record --atomic versions.env < pulled.jsonl",
        },
        Example {
            about: "Forget a key, so the next check sees an update",
            run: "vfile unset versions.env worker",
        },
    ],
    exit_status: &[
        (0, "done; every record ok"),
        (1, "a record failed upstream, or `get`: the key is not set"),
        (2, "usage: bad flags or arguments"),
        (65, "bad input: a malformed record or version file; nothing was changed"),
        (74, "an I/O error such as a full disk or a target that is not a regular file;\nnothing was changed"),
        (75, "only transient failures upstream"),
    ],
    environment: &[],
    files: &[
        ("FILE", "the version file, replaced atomically (temporary file beside it, fsync, rename)"),
        ("FILE's directory", "locked (flock) while a writer replaces FILE; no lock file is left behind"),
        ("--history LOG", "one JSON line appended per change: {\"time\",\"key\",\"from\",\"to\"}"),
    ],
};
