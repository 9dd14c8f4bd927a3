//! `--title` and `--text` templates: literal text with `{name}`-style placeholders.
//!
//! Deliberately tiny: `{key}` is replaced, `{{` and `}}` stand for braces, and an unknown
//! placeholder is a usage error found before anything is read or sent, not a silent blank in
//! a message somebody reads at 3 a.m.

/// A parsed template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template(Vec<Part>);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Text(String),
    Field(String),
}

impl Template {
    /// Parse `s`, allowing only the placeholders in `known`.
    pub fn parse(s: &str, known: &[&str]) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut chars = s.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    text.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    text.push('}');
                }
                '{' => {
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some(c) => name.push(c),
                            None => return Err(format!("unclosed {{ in template {s:?}")),
                        }
                    }
                    if !known.contains(&name.as_str()) {
                        return Err(format!(
                            "unknown placeholder {{{name}}} in {s:?}; known: {}",
                            known
                                .iter()
                                .map(|k| format!("{{{k}}}"))
                                .collect::<Vec<_>>()
                                .join(" ")
                        ));
                    }
                    if !text.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut text)));
                    }
                    parts.push(Part::Field(name));
                }
                '}' => {
                    return Err(format!(
                        "lone }} in template {s:?} (write }}}} for a brace)"
                    ))
                }
                c => text.push(c),
            }
        }
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        Ok(Template(parts))
    }

    /// Whether the template shows the placeholder `field`.
    pub fn uses(&self, field: &str) -> bool {
        self.0
            .iter()
            .any(|p| matches!(p, Part::Field(f) if f == field))
    }

    /// Fill in the placeholders.
    pub fn render(&self, value: impl Fn(&str) -> String) -> String {
        let mut out = String::new();
        for part in &self.0 {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Field(f) => out.push_str(&value(f)),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_braces_and_errors() {
        let t = Template::parse("{name} {{x}} → {latest}", &["name", "latest"]).expect("valid");
        assert_eq!(t.render(|k| k.to_uppercase()), "NAME {x} → LATEST");
        assert!(Template::parse("{nope}", &["name"]).is_err());
        assert!(Template::parse("{name", &["name"]).is_err());
        assert!(Template::parse("a } b", &["name"]).is_err());
    }

    /// Literal text after the last placeholder, or with none at all, is kept.
    #[test]
    fn trailing_and_plain_text_is_kept() {
        let t = Template::parse("{name} updated", &["name"]).expect("valid");
        assert_eq!(t.render(|_| "redis".into()), "redis updated");
        let t = Template::parse("no placeholder }}", &["name"]).expect("valid");
        assert_eq!(t.render(|_| unreachable!()), "no placeholder }");
        let t = Template::parse("{a}{b}", &["a", "b"]).expect("valid");
        assert_eq!(t.render(|k| format!("<{k}>")), "<a><b>");
        assert_eq!(
            Template::parse("", &[])
                .expect("valid")
                .render(|_| "x".into()),
            ""
        );
        let e = Template::parse("{nope}", &["name", "latest"]).expect_err("unknown");
        assert!(
            e.contains("unknown placeholder {nope}") && e.contains("{name} {latest}"),
            "{e}"
        );
        assert!(Template::parse("{name", &["name"])
            .expect_err("")
            .contains("unclosed {"));
        assert!(Template::parse("a } b", &[])
            .expect_err("")
            .contains("lone }"));
    }
}
