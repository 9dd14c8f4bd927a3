//! Each format's body as its service accepts it, and summaries cut to fit with a note.

use super::*;

#[test]
fn each_format_sends_what_its_service_accepts() {
    let receivers = [
        (
            "slack",
            Server::start(slack),
            "/services/T0001/B0001/SeCrEtSlack",
        ),
        (
            "discord",
            Server::start(discord),
            "/api/webhooks/123/SeCrEtDiscord",
        ),
        (
            "teams",
            Server::start(teams),
            "/webhookb2/x@y/IncomingWebhook/abc/SeCrEtTeams",
        ),
        (
            "gotify",
            Server::start(gotify),
            "/message?token=SeCrEtGotify",
        ),
        ("ntfy", Server::start(ntfy), "/deploys"),
        ("json", Server::start(any_json), "/hook"),
    ];
    for (format, server, path) in &receivers {
        // ntfy is self-hosted here, so its format is named with a prefix; the others are
        // recognised by their paths.
        let url = if *format == "ntfy" {
            format!("ntfy+{}", server.url(path))
        } else {
            server.url(path)
        };
        let ran = sh("notify")
            .env("NOTIFY_URL", &url)
            .stdin(FLOW)
            .run()
            .code(75) // redis failed transiently upstream
            .stdout_is(FLOW)
            .stderr_has(&format!("sent to 127.0.0.1:{} ({format})", server.port));
        let got = server.requests();
        assert_eq!(got.len(), 1, "{format}: {}", ran.stderr);
        let req = &got[0];
        let text = match *format {
            "slack" => req.json().expect("json")["text"]
                .as_str()
                .expect("text")
                .to_string(),
            "discord" => {
                let v = req.json().expect("json");
                assert_eq!(v["allowed_mentions"]["parse"], json!([]));
                v["content"].as_str().expect("content").to_string()
            }
            "teams" => {
                let v = req.json().expect("json");
                assert_eq!(v["title"], "pullfirst: 1 updated, 1 failed");
                assert_eq!(v["themeColor"], "D70000");
                v["text"].as_str().expect("text").to_string()
            }
            "gotify" => {
                let v = req.json().expect("json");
                assert_eq!(v["title"], "pullfirst: 1 updated, 1 failed");
                assert_eq!(v["priority"], 8);
                v["message"].as_str().expect("message").to_string()
            }
            "ntfy" => {
                assert_eq!(
                    req.header("x-title"),
                    Some("pullfirst: 1 updated, 1 failed")
                );
                assert_eq!(req.header("x-tags"), Some("rotating_light"));
                req.text()
            }
            _ => {
                let v = req.json().expect("json");
                assert_eq!(v["status"], "failure");
                assert_eq!(v["records"].as_array().map(Vec::len), Some(3));
                assert_eq!(v["records"][0]["name"], "server");
                v["text"].as_str().expect("text").to_string()
            }
        };
        for want in [
            "server: v3.8.0 → v3.8.1",
            "redis: failed at ipull (transient): registry unreachable",
            "web: 2.0, up to date",
        ] {
            assert!(text.contains(want), "{format}: {text:?} lacks {want:?}");
        }
        assert!(req
            .header("user-agent")
            .is_some_and(|u| u.starts_with("pullfirst-notify/")));
    }
}

#[test]
fn long_summaries_are_cut_to_fit_with_a_note() {
    let server = Server::start(discord);
    let records: String = (0..300)
        .map(|i| format!("{{\"name\":\"component-{i}\",\"current\":\"1.0.{i}\",\"latest\":\"1.1.{i}\",\"update\":true}}\n"))
        .collect();
    sh(&format!("notify --to {}", server.url("/api/webhooks/1/t")))
        .stdin(&records)
        .run()
        .success();
    let got = server.requests();
    assert_eq!(got.len(), 1, "accepted at the first try");
    let content = got[0].json().expect("json")["content"]
        .as_str()
        .expect("content")
        .to_string();
    assert!(content.chars().count() <= 2000);
    let shown = content.lines().filter(|l| l.contains("component-")).count();
    assert!(shown > 10);
    assert!(
        content.ends_with(&format!("… and {} more components not shown", 300 - shown)),
        "{content}"
    );
}
