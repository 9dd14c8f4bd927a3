//! `ipull`'s manual apart from its options: examples, exit status, environment, files. The
//! same text ends `--help` and fills the man page's sections (see `pullfirst::manual`).

use pullfirst::manual::{Example, Manual};

pub const MANUAL: Manual = Manual {
    notes: &[],
    examples: &[
        Example {
            about: "Pull two images; no container is stopped, no version file touched",
            run: "ipull \"$REGISTRY/acme/app:1.4.2\" \"$REGISTRY/acme/worker:1.4.2\"",
        },
        Example {
            about: "Do the images vcheck found exist? (resolves digests, pulls nothing)",
            run: "ipull --check < checked.jsonl",
        },
        Example {
            about: "Pull what is newer, all or nothing, and keep the records for a rollback",
            run: "vcheck --versions versions.env app=registry:$REGISTRY/acme/app | ipull --atomic > pulled.jsonl",
        },
        Example {
            about: "Records without an image get one from a template",
            run: "vcheck --current 1.4.1 app=github:acme/app | ipull --image \"app=$REGISTRY/acme/app:{latest}\"",
        },
        Example {
            about: "Every service image of a compose file, if the engine has 100 MB free",
            run: "ipull --compose docker-compose.yml --min-free 100M",
        },
        Example {
            about: "What would a compose project pull, with the next versions? (contacts nothing)",
            run: "ipull --dry-run --compose docker-compose.yml --env-file versions.env",
        },
        Example {
            about: "Point every tag back at the image it named before the pull",
            run: "ipull --restore < pulled.jsonl",
        },
        Example {
            about: "After a good update: remove what earlier runs pulled, but for the running and previous images",
            run: "ipull --prune --state ipull-state.json < pulled.jsonl",
        },
    ],
    exit_status: &[
        (0, "every record ok (pulled, or nothing to pull)"),
        (1, "a permanent failure: not found, unauthorized, no space, version label mismatch"),
        (2, "usage: bad flags or arguments"),
        (65, "bad input: a malformed record, image reference or compose project (an unset\nvariable in an image, an unknown profile, …); nothing pulled"),
        (74, "an I/O error of its own (stdout could not be written); with --atomic the pulls\nwere undone"),
        (75, "only transient failures: registry or engine unreachable, timed out"),
    ],
    environment: &[
        ("DOCKER_HOST", "the engine when no --host, --hosts or --context is given (default: the\ncurrent docker context, else unix:///var/run/docker.sock)"),
        ("DOCKER_CONTEXT", "the docker CLI context when nothing else names an engine (default: the\nconfig's currentContext)"),
        ("DOCKER_TLS_VERIFY, DOCKER_CERT_PATH", "TLS to a tcp:// engine, with ca.pem, cert.pem and key.pem\nfrom DOCKER_CERT_PATH (default ~/.docker), as the docker CLI"),
        ("IPULL_SSH_COMMAND", "run instead of `ssh` for ssh:// engines, a shell command line the\narguments are appended to (as git's GIT_SSH_COMMAND), e.g. `ssh -F ./ssh_config`"),
        ("DOCKER_CONFIG", "the directory of config.json with registry credentials (default ~/.docker)"),
        ("any variable", "with --compose, ${VAR} in the compose files is read from the environment,\nthen from --env-file or the project's .env"),
        ("COMPOSE_PROFILES", "with --compose and no --profile, the profiles to enable (comma-separated)"),
        ("COMPOSE_PROJECT_NAME", "with --compose, ${COMPOSE_PROJECT_NAME} (default: name:, else the directory)"),
        ("COMPOSE_DISABLE_ENV_FILE", "with --compose, true: read no .env"),
        ("COMPOSE_FILE, COMPOSE_PATH_SEPARATOR", "with --compose DIR, the compose files (as docker compose\nrun in DIR reads them, also from DIR's .env); separator `:` unless set"),
    ],
    files: &[
        ("$DOCKER_CONFIG/config.json", "registry credentials, handed to the engine for the pull"),
        ("$DOCKER_CONFIG/contexts/meta/*/meta.json", "the docker CLI's contexts, for --context and the current context"),
        ("--state FILE", "the images each run pulled, per engine and repository: what --prune may\nremove (replaced atomically)"),
    ],
};
