//! Redaction as the receiver and the operator see it: secrets from records, the environment
//! and the targets never reach a webhook or stderr; ordinary URLs, registry paths and a
//! target's format name stay readable; a huge first line does not drop the whole summary.

use super::{any_json, ntfy, slack, ALL_OK};
use crate::harness::http::Server;
use crate::harness::sh;

/// A failed record whose upstream error echoes secrets, beside the links an operator needs.
fn echoing_record(token: &str, hook_token: &str) -> String {
    let message = format!(
        "pull ghcr.io/org/app:1.2 failed: toomanyrequests, see https://www.docker.com/increase-rate-limit \
         (auth {token}; password Pa55-FromTheEnv; retried https://hooks.example/services/T1/B1/{hook_token} and \
         https://registry.example/token?access_token=QwErTy123456&scope=repository:org/app:pull)"
    );
    let record = serde_json::json!({
        "name": "app", "current": "1.1", "latest": "1.2", "update": true, "ok": false,
        "url": "https://github.com/org/app/releases/tag/v1.2",
        "error": {"step": "ipull", "kind": "transient", "message": message},
    });
    format!("{record}\n")
}

#[test]
fn secrets_in_records_are_scrubbed_before_they_are_sent() {
    let token = "ghp_EchoedT0kenValue42";
    let hook_token = "HookT0kenFromTheTarget";
    let json = Server::start(any_json);
    let chat = Server::start(slack);
    let input = echoing_record(token, hook_token);
    let ran = sh("notify")
        .env("GITHUB_TOKEN", token)
        .env("REGISTRY_PASSWORD", "Pa55-FromTheEnv")
        .env(
            "NOTIFY_URL",
            &format!(
                "{} {}",
                json.url("/hook"),
                chat.url(&format!("/services/T1/B1/{hook_token}"))
            ),
        )
        .stdin(&input)
        .run()
        .code(75)
        .stdout_is(&input);
    let sent = [json.requests()[0].text(), chat.requests()[0].text()];
    for body in &sent {
        for secret in [token, hook_token, "QwErTy123456", "Pa55-FromTheEnv"] {
            assert!(!body.contains(secret), "{secret} sent: {body}");
            assert!(!ran.stderr.contains(secret), "{secret} on stderr");
        }
        // What the operator acts on is all there.
        for kept in [
            "ghcr.io/org/app:1.2",
            "https://www.docker.com/increase-rate-limit",
            "https://hooks.example/services/***",
            "access_token=***",
            "scope=repository:org/app:pull",
        ] {
            assert!(body.contains(kept), "{kept} missing: {body}");
        }
    }
    // The records themselves (json's `records`) are scrubbed too; their links are kept.
    let v = json.requests()[0].json().expect("json");
    let message = v["records"][0]["error"]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(message.contains("auth ***;"), "{message}");
    assert_eq!(
        v["records"][0]["url"],
        "https://github.com/org/app/releases/tag/v1.2"
    );
}

#[test]
fn a_target_whose_path_is_a_word_shows_its_format() {
    let server = Server::start(ntfy);
    sh(&format!("notify -v --to ntfy+{}", server.url("/ntfy")))
        .stdin(ALL_OK)
        .run()
        .success()
        .stderr_has(&format!("sent to 127.0.0.1:{} (ntfy)", server.port));
}

#[test]
fn a_huge_first_line_is_shortened_and_the_rest_still_sent() {
    let server = Server::start(ntfy);
    let mut input = format!(
        "{{\"name\":\"big\",\"ok\":false,\"error\":{{\"step\":\"ipull\",\"kind\":\"permanent\",\"message\":\"{}\"}}}}\n",
        "e".repeat(6000)
    );
    for i in 0..20 {
        input.push_str(&format!(
            "{{\"name\":\"c{i}\",\"current\":\"1\",\"latest\":\"2\",\"update\":true,\"ok\":true}}\n"
        ));
    }
    sh(&format!("notify --to ntfy+{}", server.url("/deploys")))
        .stdin(&input)
        .run()
        .code(1);
    let body = server.requests()[0].text();
    assert!(body.len() <= 4096);
    assert!(
        body.contains("✗ big: failed at ipull (permanent): eee"),
        "{body}"
    );
    assert!(body.contains("…\n"), "the long line is cut: {body}");
    for i in 0..20 {
        assert!(body.contains(&format!("✓ c{i}: 1 → 2")), "c{i}: {body}");
    }
}
