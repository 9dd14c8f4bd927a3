//! Unit tests of `payload/mod.rs`: each service's body, and cutting to its limits.

use super::*;

fn message(n: usize, width: usize) -> Message {
    Message {
        title: "pullfirst: <b> & co".into(),
        lines: (0..n)
            .map(|i| format!("{i:04} {}", "x".repeat(width)))
            .collect(),
        links: Vec::new(),
        status: Level::Failure,
        records: Vec::new(),
    }
}

fn body(p: &Payload) -> Value {
    serde_json::from_slice(&p.body).expect("JSON body")
}

#[test]
fn discord_is_cut_at_2000_characters_with_a_note() {
    let p = build(Format::Discord, &message(100, 60));
    let content = body(&p)["content"].as_str().expect("content").to_string();
    assert!(content.chars().count() <= 2000);
    assert!(content.ends_with("more components not shown"), "{content}");
    let shown = content.lines().filter(|l| l.ends_with('x')).count();
    assert!(content.contains(&format!("and {} more", 100 - shown)));
    assert_eq!(body(&p)["allowed_mentions"]["parse"], json!([]));
}

#[test]
fn slack_escapes_and_short_messages_are_whole() {
    let p = build(Format::Slack, &message(2, 3));
    assert_eq!(
        body(&p)["text"],
        "*pullfirst: &lt;b&gt; &amp; co*\n0000 xxx\n0001 xxx"
    );
}

#[test]
fn ntfy_counts_bytes_and_uses_headers() {
    let p = build(Format::Ntfy, &message(200, 40));
    assert!(p.body.len() <= 4096);
    assert!(p
        .headers
        .iter()
        .any(|(k, v)| *k == "X-Title" && v == "pullfirst: <b> & co"));
}

#[test]
fn teams_payloads_stay_under_28_kb_in_bytes() {
    // Three-byte characters (the ✓ and → of every line, Cyrillic messages) and a huge
    // title: the payload, in bytes, stays within Teams' 28 KB.
    let mut m = message(3000, 20);
    for l in &mut m.lines {
        *l = format!("✓ {l} → ошибка");
    }
    m.title = "т".repeat(5000);
    let p = build(Format::Teams, &m);
    assert!(p.body.len() <= 28 * 1024, "{}", p.body.len());
    // Short lines (the separators weigh) and quotes (escaped in JSON) too.
    let mut m = message(20_000, 0);
    for l in &mut m.lines {
        *l = format!("\"{l}\"");
    }
    let p = build(Format::Teams, &m);
    assert!(p.body.len() <= 28 * 1024, "{}", p.body.len());
    let text = body(&p)["text"].as_str().expect("text").to_string();
    assert!(text.ends_with("more components not shown"));
}

#[test]
fn fit_matches_the_joined_size_exactly() {
    // The computed size is the real one: every cut is the longest that fits.
    for (n, width) in [(10, 5), (100, 60), (37, 200)] {
        let m = message(n, width);
        let text = fit(Format::Discord, "**t**", &m.lines, "\n");
        assert!(text.chars().count() <= 2000);
        let shown = text.lines().filter(|l| l.ends_with('x')).count();
        if shown < n {
            let more = fit_size_with(shown + 1, &m.lines);
            assert!(more > 2000, "{n} {width}: one more line would have fit");
        }
    }
}

fn fit_size_with(n: usize, lines: &[String]) -> usize {
    let mut parts = vec!["**t**".to_string()];
    parts.extend(lines[..n].iter().cloned());
    if n < lines.len() {
        parts.push(format!(
            "… and {} more components not shown",
            lines.len() - n
        ));
    }
    parts.join("\n").chars().count()
}

/// The join of `head`, the first `n` lines and the note, as `fit` promises it, built the
/// slow way.
fn naive(head: &str, lines: &[String], n: usize, sep: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    if !head.is_empty() {
        parts.push(head.to_string());
    }
    parts.extend(lines[..n].iter().cloned());
    if n < lines.len() {
        let left = lines.len() - n;
        let s = if left == 1 { "" } else { "s" };
        parts.push(format!("… and {left} more component{s} not shown"));
    }
    parts.join(sep)
}

/// Every cut, in every format, is the longest join that fits the limit as the service
/// counts it (bytes for ntfy with the multibyte `✓ → ✗ ·` of the default lines, JSON bytes
/// for Teams, characters for the others), down to the last unit: at the limit it is kept
/// whole, one over it loses a line.
#[test]
fn fit_keeps_the_longest_join_that_fits() {
    for (format, sep) in [
        (Format::Discord, "\n"),
        (Format::Ntfy, "\n"),
        (Format::Slack, "\n"),
        (Format::Teams, "\n\n"),
        (Format::Gotify, "\n"),
    ] {
        let max = limit(format).expect("a limit");
        for head in ["", "**t**"] {
            for width in [1usize, 7, 30, 61] {
                // Lines of one width, sized so the whole summary lands on either side of
                // the limit.
                let line = |i: usize| format!("✓ {i:03} {} → ✗ ·\"", "é".repeat(width));
                let line_size = size(format, &line(0));
                let n = max / line_size.max(1) + 2;
                let lines: Vec<String> = (0..n.min(3000)).map(line).collect();
                let text = fit(format, head, &lines, sep);
                let shown = (0..=lines.len())
                    .rev()
                    .find(|&k| size(format, &naive(head, &lines, k, sep)) <= max)
                    .expect("the head fits");
                assert_eq!(text, naive(head, &lines, shown, sep), "{format:?} {width}");
            }
            // A summary of exactly the limit is whole; one unit more and a line goes.
            for extra in [0usize, 1] {
                let fixed = size(format, head) + usize::from(!head.is_empty()) * size(format, sep);
                let first = "a".repeat(max + extra - fixed - size(format, sep) - 10);
                let lines = vec![first, "b".repeat(10)];
                let whole = naive(head, &lines, 2, sep);
                assert_eq!(size(format, &whole), max + extra, "{format:?}");
                let text = fit(format, head, &lines, sep);
                if extra == 0 {
                    assert_eq!(text, whole, "{format:?} at the limit");
                } else {
                    assert_ne!(text, whole, "{format:?} one over the limit");
                    assert!(size(format, &text) <= max, "{format:?}");
                }
            }
        }
        // A head longer than the limit is cut to it, with an ellipsis, and no shorter.
        // (Cutting takes time quadratic in the head's length: the small limits only.)
        if max > 4_096 {
            continue;
        }
        let head = "ж".repeat(max + 5);
        let text = fit(format, &head, &[], sep);
        assert!(text.ends_with('…'), "{format:?}");
        assert!(size(format, &text) <= max, "{format:?}");
        assert!(
            size(format, &text) + size(format, "ж") > max,
            "{format:?} cut too short"
        );
        assert!(head.starts_with(text.trim_end_matches('…')));
    }
    // Without a limit (json), everything is joined.
    let lines: Vec<String> = (0..5000)
        .map(|i| format!("{i} {}", "x".repeat(50)))
        .collect();
    assert_eq!(
        fit(Format::Json, "h", &lines, "\n"),
        naive("h", &lines, 5000, "\n")
    );
    // One left out is "component", not "components".
    let mut one_left_out = false;
    for k in 35..50 {
        let lines: Vec<String> = (0..k)
            .map(|i| format!("{i:02}{}", "x".repeat(46)))
            .collect();
        let text = fit(Format::Discord, "", &lines, "\n");
        if text.contains("… and 1 more") {
            one_left_out = true;
            assert!(text.ends_with("… and 1 more component not shown"), "{text}");
        }
    }
    assert!(one_left_out, "no run left exactly one out");
}

#[test]
fn ntfy_limit_is_counted_in_bytes() {
    // 1,000 lines of 4 three-byte characters: 4,000 characters, 12,000 bytes.
    let m = Message {
        title: "t".into(),
        lines: (0..1000).map(|_| "✓→✗·".to_string()).collect(),
        links: Vec::new(),
        status: crate::message::Level::Success,
        records: Vec::new(),
    };
    let p = build(Format::Ntfy, &m);
    assert!(p.body.len() <= 4096, "{}", p.body.len());
    assert!(p.body.len() > 4096 - 40, "{}", p.body.len());
    assert!(p.headers.contains(&("X-Tags", "white_check_mark".into())));
    assert!(p.headers.contains(&("X-Priority", "3".into())));
    let failed = Message {
        status: crate::message::Level::Failure,
        ..m
    };
    let p = build(Format::Ntfy, &failed);
    assert!(p.headers.contains(&("X-Tags", "rotating_light".into())));
    assert!(p.headers.contains(&("X-Priority", "4".into())));
    assert_eq!(ascii_header("é ok\n"), "? ok?");
}

#[test]
fn a_huge_first_line_is_shortened_not_the_summary_dropped() {
    let mut m = message(20, 10);
    m.lines[0] = format!("0000 {}", "y".repeat(5000));
    for format in [Format::Ntfy, Format::Discord] {
        let p = build(format, &m);
        let text = match format {
            Format::Ntfy => String::from_utf8(p.body.clone()).expect("utf-8"),
            _ => body(&p)["content"].as_str().expect("content").to_string(),
        };
        assert!(size(format, &text) <= limit(format).unwrap_or(0));
        let first = text.lines().find(|l| l.starts_with("0000")).expect("first");
        assert!(first.ends_with('…') && first.len() > 100, "{first}");
        for i in 1..20 {
            assert!(
                text.contains(&format!("{i:04} xxxxxxxxxx")),
                "{format:?} {i}"
            );
        }
    }
    // One line alone (a --message) is cut to all the room there is.
    let mut m = message(1, 0);
    m.lines[0] = "z".repeat(10_000);
    let p = build(Format::Ntfy, &m);
    assert_eq!(p.body.len(), 4096);
    assert!(String::from_utf8(p.body).expect("utf-8").ends_with("z…"));
}

#[test]
fn json_carries_everything() {
    let p = build(Format::Json, &message(500, 60));
    assert_eq!(
        body(&p)["text"].as_str().map(|t| t.lines().count()),
        Some(500)
    );
    assert_eq!(body(&p)["status"], "failure");
}

/// A title far beyond every limit is cut, not sent whole nor dropped, in one pass: the
/// formats that carry it in their text keep within their limit and end it with `…`.
#[test]
fn a_huge_title_is_cut_to_the_limit() {
    let mut m = message(3, 10);
    m.title = "é title ".repeat(20_000);
    for format in [
        Format::Slack,
        Format::Discord,
        Format::Teams,
        Format::Ntfy,
        Format::Gotify,
    ] {
        let p = build(format, &m);
        let text = match format {
            Format::Ntfy => String::from_utf8(p.body.clone()).expect("utf-8"),
            _ => {
                let v = body(&p);
                ["text", "content", "message"]
                    .iter()
                    .find_map(|k| v[*k].as_str().map(String::from))
                    .expect("a text")
            }
        };
        let max = limit(format).expect("a limit");
        assert!(size(format, &text) <= max, "{format:?}: {}", text.len());
        assert!(!text.is_empty(), "{format:?}");
    }
    let head = format!("*{}*", m.title);
    let text = fit(Format::Slack, &head, &m.lines, "\n");
    assert_eq!(text.chars().count(), 40_000);
    assert!(text.starts_with("*é title é title") && text.ends_with('…'));
    let p = build(Format::Ntfy, &m);
    let title = p
        .headers
        .iter()
        .find(|(k, _)| *k == "X-Title")
        .expect("a title");
    assert!(
        title.1.len() <= 1_024 && title.1.starts_with("? title"),
        "{}",
        title.1
    );
}

/// A long line with a link is cut before the link, never through it.
#[test]
fn a_long_line_keeps_its_link_whole() {
    let mut m = message(2, 10);
    m.lines[0] = "y".repeat(5_000);
    let url = "https://h.example/notes/(v2)";
    m.links = vec![Some(url.to_string()), None];
    let lines = linked(Format::Discord, &m, str::to_string, Link::MarkdownNoEmbed);
    assert!(
        lines[0].ends_with("… ([release notes](<https://h.example/notes/%28v2%29>))"),
        "{}",
        lines[0]
    );
    assert!(lines[0].chars().count() <= 500);
    assert_eq!(lines[1], m.lines[1]);
    let content = body(&build(Format::Discord, &m))["content"]
        .as_str()
        .expect("content")
        .to_string();
    assert!(content.contains("%28v2%29>))"), "{content}");
}

/// What is sent is scrubbed: the title, every line, every string in the records (at any
/// depth, keys and other values kept) and the links, which stay links.
#[test]
fn scrubbed_hides_secrets_everywhere_a_message_holds_text() {
    pullfirst::redact::register("ScRuB-Me-42");
    let m = Message {
        title: "pulled with ScRuB-Me-42".into(),
        lines: vec![
            "✗ a: https://h.example/x?token=abc123 refused ScRuB-Me-42".into(),
            "✓ b: fine".into(),
        ],
        links: vec![Some("https://h.example/notes?key=ScRuB-Me-42".into()), None],
        status: Level::Failure,
        records: vec![
            json!({"name": "a", "n": 3, "ok": false, "error": {"message": "ScRuB-Me-42"}, "list": ["x ScRuB-Me-42", 1, null]}),
            json!("ScRuB-Me-42"),
        ],
    };
    let s = scrubbed(&m);
    assert_eq!(
        s,
        Message {
            title: "pulled with ***".into(),
            lines: vec![
                "✗ a: https://h.example/x?token=*** refused ***".into(),
                "✓ b: fine".into(),
            ],
            links: vec![Some("https://h.example/notes?key=***".into()), None],
            status: Level::Failure,
            records: vec![
                json!({"name": "a", "n": 3, "ok": false, "error": {"message": "***"}, "list": ["x ***", 1, null]}),
                json!("***"),
            ],
        }
    );
}

/// Each service's link form, with the characters that would end it escaped.
#[test]
fn links_are_written_as_each_service_reads_them() {
    let url = "https://h.example/a(b)?x=1&y=\"2\"|3";
    for (style, want) in [
        (
            Link::Angle,
            " (<https://h.example/a(b)?x=1&amp;y=\"2\"%7C3|release notes>)",
        ),
        (
            Link::Markdown,
            " ([release notes](https://h.example/a%28b%29?x=1&y=\"2\"|3))",
        ),
        (
            Link::MarkdownNoEmbed,
            " ([release notes](<https://h.example/a%28b%29?x=1&y=\"2\"|3>))",
        ),
        (
            Link::Html,
            " (<a href=\"https://h.example/a(b)?x=1&amp;y=%222%22|3\">release notes</a>)",
        ),
        (
            Link::Plain,
            " (release notes: https://h.example/a(b)?x=1&y=\"2\"|3)",
        ),
    ] {
        assert_eq!(style.suffix(url), want);
    }
    let m = Message {
        title: "t".into(),
        lines: vec!["a".into(), "b".into(), "c".into()],
        links: vec![None, Some("https://h.example/n".into())],
        status: Level::Success,
        records: Vec::new(),
    };
    assert_eq!(first_link(&m), Some("https://h.example/n"));
    assert_eq!(
        linked(Format::Slack, &m, slack_escape, Link::Angle),
        ["a", "b (<https://h.example/n|release notes>)", "c"]
    );
}

/// Each webhook format's request in full, for a message with a link.
#[test]
fn each_webhook_format_sends_its_documented_body() {
    let notes = "https://h.example/notes";
    let m = |status| Message {
        title: "pullfirst: 1 updated".into(),
        lines: vec!["✓ a: 1 → 2".into(), "b: 3, up to date".into()],
        links: vec![Some(notes.into()), None],
        status,
        records: vec![json!({"name": "a"})],
    };
    let ok = m(Level::Success);
    let p = build(Format::Slack, &ok);
    assert_eq!(
        (p.method, p.url.as_deref(), p.content_type),
        ("POST", None, "application/json")
    );
    assert_eq!(
        body(&p),
        json!({
            "text": format!("*pullfirst: 1 updated*\n✓ a: 1 → 2 (<{notes}|release notes>)\nb: 3, up to date"),
            "attachments": [{"color": "#2EB886", "fallback": "✓ success", "text": "✓ success"}],
        })
    );
    assert_eq!(
        body(&build(Format::Discord, &ok)),
        json!({
            "content": format!("**pullfirst: 1 updated**\n✓ a: 1 → 2 ([release notes](<{notes}>))\nb: 3, up to date"),
            "embeds": [{"title": "✓ success", "color": 0x2E_B8_86}],
            "allowed_mentions": {"parse": []},
        })
    );
    assert_eq!(
        body(&build(Format::Teams, &ok)),
        json!({
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "themeColor": "2EB886",
            "summary": "pullfirst: 1 updated",
            "title": "pullfirst: 1 updated",
            "text": format!("✓ a: 1 → 2 ([release notes]({notes}))\n\nb: 3, up to date"),
        })
    );
    let p = build(Format::Ntfy, &m(Level::Info));
    assert_eq!(p.content_type, "text/plain; charset=utf-8");
    assert_eq!(
        p.headers,
        [
            ("Click", notes.to_string()),
            ("X-Title", "pullfirst: 1 updated".into()),
            ("X-Tags", "information_source".into()),
            ("X-Priority", "3".into()),
        ]
    );
    assert_eq!(
        String::from_utf8(p.body).expect("UTF-8"),
        format!("✓ a: 1 → 2 (release notes: {notes})\nb: 3, up to date")
    );
    let text = format!("✓ a: 1 → 2 (release notes: {notes})\nb: 3, up to date");
    assert_eq!(
        body(&build(Format::Gotify, &m(Level::Failure))),
        json!({
            "title": "pullfirst: 1 updated",
            "message": text,
            "priority": 8,
            "extras": {"client::notification": {"click": {"url": notes}}},
        })
    );
    let mut plain = ok.clone();
    plain.links = vec![None, None];
    assert_eq!(
        body(&build(Format::Gotify, &plain)),
        json!({"title": "pullfirst: 1 updated", "message": "✓ a: 1 → 2\nb: 3, up to date", "priority": 4})
    );
    for format in [Format::Json, Format::Telegram] {
        assert_eq!(
            body(&build(format, &ok)),
            json!({"title": "pullfirst: 1 updated", "text": text, "status": "success", "records": [{"name": "a"}]}),
            "{format:?}"
        );
    }
}
