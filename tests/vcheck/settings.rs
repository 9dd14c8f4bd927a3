//! Per-component settings in a record's `vcheck` object beside the run's flags; prefixed,
//! slash and build-metadata tags made into image tags; the release's web page; and bad
//! settings refused before anything is checked.

use crate::harness::github::{repos, FakeGitHub, Release, Repo, State};
use crate::harness::tempdir;

use super::order::real_tags;
use super::vcheck;

/// GitHub's list of a fixture's tags as releases, newest first.
fn releases(file: &str) -> Vec<Release> {
    real_tags(file)
        .iter()
        .rev()
        .map(|t| Release::new(t))
        .collect()
}

fn forge() -> FakeGitHub {
    let mut redis: Vec<String> = ["7.2.4", "7.4.1", "8.0.2", "8.2.0-rc1", "7.4.2-alpine"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    redis.reverse();
    FakeGitHub::start(State {
        repos: repos(&[
            (
                "kubernetes/ingress-nginx",
                Repo::of(releases("ingress-nginx.txt")),
            ),
            ("goauthentik/authentik", Repo::of(releases("authentik.txt"))),
            (
                "k3s-io/k3s",
                Repo::tagged(
                    &real_tags("k3s.txt")
                        .iter()
                        .rev()
                        .map(String::as_str)
                        .collect::<Vec<_>>(),
                ),
            ),
            (
                "redis/redis",
                Repo {
                    releases: vec![],
                    tags: redis,
                },
            ),
            (
                "acme/mono",
                Repo::tagged(&[
                    "cli/v2.1.0",
                    "app-v1.2.3",
                    "app-v1.10.0",
                    "cli/v2.0.0",
                    "app-v1.9.9",
                ]),
            ),
        ]),
        ..State::default()
    })
}

#[test]
fn each_record_has_its_own_settings_beside_the_run_flags() {
    let gh = forge();
    let cache = tempdir();
    let input = [
        r#"{"name":"ingress","source":"github:kubernetes/ingress-nginx","current":"v1.14.2","vcheck":{"prefix":"controller-","match":"^controller-v","image":"registry.k8s.io/ingress-nginx/controller:{latest}"}}"#,
        r#"{"name":"redis","source":"github-tags:redis/redis","current":"7.2.4","vcheck":{"match":"^7\\."}}"#,
        r#"{"name":"redis-next","source":"github-tags:redis/redis","current":"7.2.4","team":"data"}"#,
        r#"{"name":"redis-pre","source":"github-tags:redis/redis","current":"7.2.4","vcheck":{"prerelease":false}}"#,
    ]
    .join("\n");
    // --prerelease and --image are the run's defaults; records override them.
    let ran = vcheck(
        &gh,
        cache.path(),
        "--prerelease --image 'mirror.example/{name}:{latest}'",
    )
    .stdin(input)
    .run()
    .success();
    let r = ran.records();
    assert_eq!(r.len(), 4);
    assert_eq!(
        r[0]["latest"], "v1.15.1",
        "prefix stripped, highest controller"
    );
    assert_eq!(r[0]["tag"], "controller-v1.15.1");
    assert_eq!(r[0]["update"], true);
    assert_eq!(
        r[0]["image"],
        "registry.k8s.io/ingress-nginx/controller:v1.15.1"
    );
    assert_eq!(
        r[0]["url"], "https://github.com/kubernetes/ingress-nginx/releases/tag/controller-v1.15.1",
        "the release's web page"
    );
    assert_eq!(r[1]["latest"], "7.4.1", "only 7.x for this one");
    assert_eq!(
        r[1]["image"], "mirror.example/redis:7.4.1",
        "the run's --image"
    );
    assert!(r[1].get("url").is_none(), "a tag has no release page");
    assert!(
        r[1].get("tag").is_none(),
        "tag only when it differs from latest"
    );
    assert_eq!(r[2]["latest"], "8.2.0-rc1", "the run's --prerelease");
    assert_eq!(r[2]["team"], "data", "the owner's fields kept");
    assert_eq!(r[3]["latest"], "8.0.2", "the record turned prereleases off");
}

#[test]
fn prefixed_and_slash_tags_and_build_metadata() {
    let gh = forge();
    let cache = tempdir();
    let one = |args: &str| vcheck(&gh, cache.path(), args).run().success().only();

    let r = one("--prefix app- --image 'ghcr.io/acme/app:{latest}' --current v1.9.9 app=github-tags:acme/mono");
    assert_eq!(
        (&r["latest"], &r["tag"]),
        (&"v1.10.0".into(), &"app-v1.10.0".into())
    );
    assert_eq!(r["image"], "ghcr.io/acme/app:v1.10.0");
    assert_eq!(r["update"], true);
    // The current version may carry the prefix too.
    let r = one("--prefix app- --current app-v1.10.0 app=github-tags:acme/mono");
    assert_eq!(r["update"], false);
    // {tag} asks for the raw tag.
    let r = one("--prefix app- --image 'ghcr.io/acme/app:{tag}' app=github-tags:acme/mono");
    assert_eq!(r["image"], "ghcr.io/acme/app:app-v1.10.0");

    let r = one(
        "--from-pattern '^cli/(.*)$' --to-pattern '$1' --match '^cli/' cli=github-tags:acme/mono",
    );
    assert_eq!(
        (&r["latest"], &r["tag"]),
        (&"v2.1.0".into(), &"cli/v2.1.0".into())
    );

    // authentik: `version/…` fails the grammar as a tag, but not once transformed.
    let r = one("--prefix version/ --image 'ghcr.io/goauthentik/server:{latest}' --current 2026.5.3 a=github:goauthentik/authentik");
    assert_eq!(r["latest"], "2026.8.3");
    assert_eq!(r["tag"], "version/2026.8.3");
    assert_eq!(r["image"], "ghcr.io/goauthentik/server:2026.8.3");
    assert_eq!(r["update"], true);

    // k3s: +k3s2 is allowed upstream; the image tag writes it -k3s2.
    let r = one("--image 'rancher/k3s:{latest}' --current v1.29.1-k3s2 k=github-tags:k3s-io/k3s");
    assert_eq!(r["latest"], "v1.29.2-k3s1");
    assert_eq!(r["tag"], "v1.29.2+k3s1");
    assert_eq!(r["image"], "rancher/k3s:v1.29.2-k3s1");
    assert_eq!(r["update"], true);
    let r = one("--current v1.29.2-k3s1 k=github-tags:k3s-io/k3s");
    assert_eq!(r["update"], false);
}

#[test]
fn bad_settings_are_bad_input_and_nothing_is_checked() {
    let gh = forge();
    let cache = tempdir();
    let good = r#"{"name":"redis","source":"github-tags:redis/redis"}"#;
    for (bad, says) in [
        (
            r#"{"name":"ing","source":"github:kubernetes/ingress-nginx","vcheck":{"prefx":"controller-"}}"#,
            "unknown setting",
        ),
        (
            r#"{"name":"ing","source":"github:kubernetes/ingress-nginx","vcheck":{"match":"(controller"}}"#,
            "invalid regex",
        ),
        (
            r#"{"name":"ing","source":"github:kubernetes/ingress-nginx","vcheck":{"from_pattern":"^(.*)$","to_pattern":"nginx/$1"}}"#,
            "no valid image tag",
        ),
        (
            r#"{"name":"ing","source":"github:kubernetes/ingress-nginx","vcheck":{"prerelease":"yes"}}"#,
            "prerelease",
        ),
        (
            r#"{"name":"ing","source":"github:kubernetes/ingress-nginx","vcheck":"controller-"}"#,
            "object",
        ),
    ] {
        let ran = vcheck(&gh, cache.path(), "")
            .stdin(format!("{good}\n\n{bad}\n"))
            .run()
            .code(65);
        assert!(ran.stdout.is_empty(), "nothing written: {}", ran.stdout);
        assert!(ran.stderr.contains(":3:"), "the line: {}", ran.stderr);
        assert!(
            ran.stderr.contains("\"ing\""),
            "the component: {}",
            ran.stderr
        );
        assert!(ran.stderr.contains(says), "{says}: {}", ran.stderr);
    }
    let ran = vcheck(&gh, cache.path(), "")
        .stdin(format!("{good}\n{{\"name\":\"ing\",\n"))
        .run()
        .code(65);
    assert!(
        ran.stderr.contains(":2:"),
        "a malformed line: {}",
        ran.stderr
    );
    // The same settings as flags are usage errors.
    vcheck(
        &gh,
        cache.path(),
        "--from-pattern '^(.*)$' --to-pattern 'a b$1' x=github:o/x",
    )
    .run()
    .code(2);
    vcheck(&gh, cache.path(), "--from-pattern '^(.*)$' x=github:o/x")
        .run()
        .code(2);
    assert_eq!(gh.state().total, 0, "nothing was checked");
}
