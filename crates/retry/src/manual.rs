//! `retry`'s manual apart from its options: examples, exit status, environment, files. The
//! same text ends `--help` and fills the man page's sections (see `pullfirst::manual`).

use pullfirst::manual::{Example, Manual};

pub const MANUAL: Manual = Manual {
    notes: &[(
        "Inside a pipeline",
        "stdin is read once (up to --max-input) and replayed to every attempt; only the final\n\
         attempt's stdout is written, so a retried step never duplicates records downstream.",
    )],
    examples: &[
        Example {
            about: "Three attempts in all, waiting 1 s, then about 2 s",
            run: "retry -n 3 --delay 1s -- vcheck --versions versions.env app=github:acme/app",
        },
        Example {
            about: "Retry only what may succeed later (exit 75, a timed-out attempt)",
            run: "retry -n 3 --on transient -- ipull --atomic < checked.jsonl > pulled.jsonl",
        },
        Example {
            about: "Bound each attempt, and all of them together",
            run: "retry --timeout 10m --deadline 30m -- ipull --check < checked.jsonl",
        },
        Example {
            about: "A command per record, its fields in FLOW_* variables; a failure fails the record",
            run: "retry --each --all -- sh -c 'echo \"build $FLOW_NAME $FLOW_LATEST\" >&2' < pulled.jsonl",
        },
    ],
    exit_status: &[
        (0, "the last attempt succeeded (--each: every record ok)"),
        (1, "--each: a record failed for good"),
        (2, "usage: bad flags or arguments"),
        (65, "stdin over --max-input, or --each: a malformed record"),
        (75, "--each: only transient failures"),
        (124, "the last attempt ran past --timeout, or the --deadline came"),
        (126, "the command cannot be run (not executable)"),
        (127, "the command was not found"),
        (128, "+N: the last attempt was killed by signal N, or retry got signal N while waiting\nbetween attempts (INT 130, TERM 143, HUP 129); an attempt killed by SIGPIPE\nbecause the reader of retry's stdout went away counts as success (0)"),
    ],
    environment: &[
        ("FLOW_NAME, FLOW_CURRENT, FLOW_LATEST, FLOW_IMAGE, FLOW_IMAGES", "set for COMMAND with --each: the record's fields"),
    ],
    files: &[],
};
