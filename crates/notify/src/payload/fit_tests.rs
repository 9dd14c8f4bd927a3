//! Unit tests of `payload/mod.rs`'s cutting at the edges: a summary one unit over its limit,
//! a line of exactly a fair share, a link that leaves one unit of room, and the note's count
//! when the cut lands exactly on the limit.

use super::*;

fn repeat(c: char, n: usize) -> String {
    c.to_string().repeat(n)
}

/// One character over Discord's 2,000, with a line longer than a fair share (500): that line
/// is shortened to 500 and everything else is kept; nothing is left out.
#[test]
fn one_over_the_limit_shortens_the_long_line_and_keeps_the_rest() {
    // 5 + 1 + 1,600 + 1 + 200 + 1 + 193 = 2,001.
    let lines = vec![repeat('a', 1600), repeat('b', 200), repeat('c', 193)];
    assert_eq!(
        fit(Format::Discord, "**t**", &lines, "\n"),
        format!(
            "**t**\n{}…\n{}\n{}",
            repeat('a', 499),
            repeat('b', 200),
            repeat('c', 193)
        )
    );
    // The same at the limit is sent whole.
    let lines = vec![repeat('a', 1600), repeat('b', 200), repeat('c', 192)];
    assert_eq!(
        fit(Format::Discord, "**t**", &lines, "\n"),
        format!("**t**\n{}", lines.join("\n"))
    );
}

/// A line of exactly a fair share is not shortened; one longer is, to the fair share.
#[test]
fn a_line_of_exactly_a_fair_share_is_whole() {
    let lines = vec![repeat('a', 500), repeat('b', 1600)];
    assert_eq!(
        fit(Format::Discord, "", &lines, "\n"),
        format!("{}\n{}…", repeat('a', 500), repeat('b', 499))
    );
}

/// A line and its link of exactly a fair share are whole; a link that leaves one unit for
/// the text (no room for a character and `…`) goes, and the text stays whole.
#[test]
fn a_link_is_kept_whole_or_not_at_all() {
    let base = size(Format::Discord, &Link::MarkdownNoEmbed.suffix(""));
    let url = |len: usize| format!("https://h.example/{}", repeat('n', len - 18));
    let message = |text: &str, link: String| Message {
        title: "t".into(),
        lines: vec![text.into()],
        links: vec![Some(link)],
        status: Level::Success,
        records: Vec::new(),
    };
    // Text and link, 500 together.
    let link = url(100);
    let text = repeat('x', 500 - base - 100);
    let m = message(&text, link.clone());
    assert_eq!(
        linked(Format::Discord, &m, str::to_string, Link::MarkdownNoEmbed),
        [format!("{text}{}", Link::MarkdownNoEmbed.suffix(&link))]
    );
    // One more character: the text is cut by two and ends with `…`.
    let m = message(&format!("{text}y"), link.clone());
    assert_eq!(
        linked(Format::Discord, &m, str::to_string, Link::MarkdownNoEmbed),
        [format!(
            "{}…{}",
            &text[..text.len() - 1],
            Link::MarkdownNoEmbed.suffix(&link)
        )]
    );
    // A link of 499 leaves one character: the text alone.
    let m = message("hello world", url(499 - base));
    assert_eq!(
        linked(Format::Discord, &m, str::to_string, Link::MarkdownNoEmbed),
        ["hello world"]
    );
    // A link of 497 leaves three: two characters and `…`.
    let link = url(497 - base);
    let m = message("hello world", link.clone());
    assert_eq!(
        linked(Format::Discord, &m, str::to_string, Link::MarkdownNoEmbed),
        [format!("he…{}", Link::MarkdownNoEmbed.suffix(&link))]
    );
}

/// The note's count weighs in the size: among summaries of one-character lines whose cut
/// lands exactly on the limit, the longest join that fits is kept, the note saying how many
/// lines were left out.
#[test]
fn the_note_is_counted_exactly() {
    let max = 2_000;
    for head in ["", "**t**"] {
        for width in 1..=3usize {
            for len in (max / (width + 1))..(max / (width + 1) + 120) {
                let lines: Vec<String> = (0..len).map(|_| repeat('x', width)).collect();
                let text = fit(Format::Discord, head, &lines, "\n");
                let shown = text.lines().filter(|l| *l == lines[0]).count();
                assert_eq!(text, naive(head, &lines, shown), "{head:?} {width} {len}");
                assert!(text.chars().count() <= max, "{head:?} {width} {len}");
                if shown < len {
                    let more = naive(head, &lines, shown + 1).chars().count();
                    assert!(more > max, "{head:?} {width} {len}: one more line fits");
                }
            }
        }
    }
}

fn naive(head: &str, lines: &[String], n: usize) -> String {
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
    parts.join("\n")
}
