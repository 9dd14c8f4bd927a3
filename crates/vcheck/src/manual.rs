//! `vcheck`'s manual apart from its options: examples, exit status, environment, files. The
//! same text ends `--help` and fills the man page's sections (see `pullfirst::manual`).

use pullfirst::manual::{Example, Manual};

pub const MANUAL: Manual = Manual {
    notes: &[(
        "Sources",
        "github:OWNER/REPO       the highest version among the releases (never a draft; a\n\
         \x20                       prerelease only with --prerelease)\n\
         github-tags:OWNER/REPO  the highest version among the repository's tags\n\
         gitlab:GROUP/PROJECT    the highest GitLab release (gitlab-tags: its tags)\n\
         gitea:OWNER/REPO        the highest Gitea or Forgejo release (gitea-tags: its tags)\n\
         registry:[HOST/]REPO    the highest version among the image's tags, and its manifest\n\
         \x20                       digest (HOST defaults to docker.io)",
    )],
    examples: &[
        Example {
            about: "Is there a newer release than the one in the version file?",
            run: "vcheck --versions versions.env app=github:acme/app",
        },
        Example {
            about: "The highest tag of an image in a registry, and its digest",
            run: "vcheck --versions versions.env app=registry:$REGISTRY/acme/app > checked.jsonl",
        },
        Example {
            about: "One component, its current version given on the command line",
            run: "vcheck --current 1.4.1 app=github:acme/app",
        },
        Example {
            about: "Only the 1.4 line, no release candidates (a value starting with - takes =)",
            run: "vcheck --current 1.4.1 --match '^1\\.4\\.' --exclude='-rc\\.[0-9]+$' app=github-tags:acme/app",
        },
        Example {
            about: "Say which image to pull for the version found",
            run: "vcheck --current 1.4.1 --image \"$REGISTRY/acme/app:{latest}\" app=github:acme/app",
        },
        Example {
            about: "Settings of one component in its record (here: only the 1.4 line)",
            run: "echo '{\"name\":\"app\",\"source\":\"github-tags:acme/app\",\"vcheck\":{\"match\":\"^1[.]4\"}}' | vcheck",
        },
        Example {
            about: "The entries of an nvchecker configuration (the others are reported as failed)",
            run: "vcheck --nvchecker nvchecker.toml",
        },
        Example {
            about: "Tokens from nvchecker's keyfile ([keys] \"github.com\" = \"…\"), for their hosts",
            run: "vcheck --keyfile keys.toml --nvchecker nvchecker.toml",
        },
        Example {
            about: "Components from records on stdin instead of arguments",
            run: "echo '{\"name\":\"app\",\"source\":\"github:acme/app\"}' | vcheck --versions versions.env",
        },
    ],
    exit_status: &[
        (0, "every check succeeded (with or without an update)"),
        (1, "a check failed for good: not found, credentials refused, no version passes the filters"),
        (2, "usage: bad flags or arguments"),
        (65, "bad input: a malformed record or setting, version file or NAME=SOURCE; nothing was checked"),
        (74, "an I/O error of its own: stdout or the cache could not be written"),
        (75, "only transient failures: network, timeout, 5xx, rate limit (see error.retry_after)"),
    ],
    environment: &[
        ("GITHUB_TOKEN, GH_TOKEN", "a GitHub token, sent only to the GitHub API (a --keyfile key for its host wins); never printed"),
        ("GITHUB_API_URL", "the GitHub API to ask (GitHub Enterprise); default https://api.github.com"),
        ("GITLAB_TOKEN, GITLAB_API_URL", "GitLab's token and API root (default https://gitlab.com/api/v4)"),
        ("GITEA_TOKEN, GITEA_API_URL", "Gitea's or Forgejo's token and API root (default https://codeberg.org/api/v1)"),
        ("DOCKER_CONFIG", "the directory of config.json with registry credentials (default ~/.docker)"),
        ("XDG_CACHE_HOME", "where the ETag cache lives (default ~/.cache)"),
        ("HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY", "proxies"),
    ],
    files: &[
        ("$XDG_CACHE_HOME/pullfirst/http/", "the ETag cache: answers kept to revalidate, so an unchanged check costs no rate limit"),
        ("$DOCKER_CONFIG/config.json", "registry credentials"),
    ],
};
