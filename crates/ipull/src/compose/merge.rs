//! Merging compose YAML as compose-go does, for later `--compose` files over earlier ones and
//! for a service over the service it `extends`: mappings merge key by key, sequences are
//! appended (`profiles` too), scalars are replaced (`image`: the later one wins);
//! `command`, `entrypoint` and `healthcheck.test` are replaced whole, `depends_on` lists and
//! mappings merge by service. The tags `!reset` (drop the value) and `!override` (replace it
//! whole) are honoured.

use serde_yaml_ng::value::{Tag, TaggedValue};
use serde_yaml_ng::{Mapping, Value};

/// `over` merged onto `base`; `path` is where they sit in the file (`["services", "app"]`).
pub fn merge(base: Value, over: Value, path: &[&str]) -> Value {
    let over = match over {
        Value::Tagged(t) if is(&t.tag, "override") => return clean(t.value),
        Value::Tagged(t) if is(&t.tag, "reset") => return Value::Null,
        Value::Null => return base,
        o => o,
    };
    let special = |names: &[&str]| {
        path.len() == 3 && path[0] == "services" && names.contains(&path[2])
            || path.len() == 4 && path[0] == "services" && path[2..] == ["healthcheck", "test"]
    };
    if special(&["command", "entrypoint"]) || special(&[]) {
        return clean(over);
    }
    if special(&["depends_on"]) {
        return Value::Mapping(merge_mappings(as_mapping(base), as_mapping(over), path));
    }
    match (base, over) {
        (Value::Mapping(b), Value::Mapping(o)) => Value::Mapping(merge_mappings(b, o, path)),
        (Value::Sequence(mut b), Value::Sequence(o)) => {
            b.extend(o.into_iter().map(clean));
            Value::Sequence(b)
        }
        (_, o) => clean(o),
    }
}

/// Key by key, each merged key staying where `base` had it (the file's order, which records
/// follow) and new keys coming after.
fn merge_mappings(mut base: Mapping, over: Mapping, path: &[&str]) -> Mapping {
    for (k, v) in over {
        if matches!(&v, Value::Tagged(t) if is(&t.tag, "reset")) {
            base.shift_remove(&k);
            continue;
        }
        match base.get_mut(&k) {
            Some(slot) => {
                let key = k.as_str().unwrap_or("");
                let mut next = path.to_vec();
                next.push(key);
                *slot = merge(std::mem::take(slot), v, &next);
            }
            None => {
                base.insert(k, clean(v));
            }
        }
    }
    base
}

/// `depends_on` as a mapping: a list `[db]` is `{db: {}}`.
fn as_mapping(v: Value) -> Mapping {
    match v {
        Value::Mapping(m) => m,
        Value::Sequence(s) => s
            .into_iter()
            .map(|name| (name, Value::Mapping(Mapping::new())))
            .collect(),
        _ => Mapping::new(),
    }
}

fn is(tag: &Tag, name: &str) -> bool {
    *tag == Tag::new(name)
}

/// `v` with its `!reset` entries dropped and `!override` tags taken off.
pub fn clean(v: Value) -> Value {
    match v {
        Value::Tagged(t) => {
            let TaggedValue { tag, value } = *t;
            if is(&tag, "reset") {
                Value::Null
            } else if is(&tag, "override") {
                clean(value)
            } else {
                Value::Tagged(Box::new(TaggedValue {
                    tag,
                    value: clean(value),
                }))
            }
        }
        Value::Mapping(m) => Value::Mapping(
            m.into_iter()
                .filter(|(_, v)| !matches!(v, Value::Tagged(t) if is(&t.tag, "reset")))
                .map(|(k, v)| (k, clean(v)))
                .collect(),
        ),
        Value::Sequence(s) => Value::Sequence(s.into_iter().map(clean).collect()),
        v => v,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn y(s: &str) -> Value {
        serde_yaml_ng::from_str(s).expect("yaml")
    }

    #[test]
    fn later_wins_lists_append_tags_apply() {
        let base =
            y("services: {a: {image: x:1, profiles: [p], command: [a, b], depends_on: [db]}}");
        let over = y("services: {a: {image: x:2, profiles: [q], command: [c], depends_on: {cache: {condition: service_healthy}}}}");
        let m = merge(base, over, &[]);
        let a = &m["services"]["a"];
        assert_eq!(a["image"], y("x:2"));
        assert_eq!(a["profiles"], y("[p, q]"));
        assert_eq!(a["command"], y("[c]"));
        assert_eq!(
            a["depends_on"],
            y("{db: {}, cache: {condition: service_healthy}}")
        );
        let m = merge(
            y("{image: x:1, profiles: [p], ports: [1]}"),
            y("{profiles: !reset [], ports: !override [2], build: .}"),
            &["services", "a"],
        );
        assert_eq!(m, y("{image: x:1, ports: [2], build: .}"));
        assert_eq!(clean(y("{a: !reset x, b: !override [1]}")), y("{b: [1]}"));
    }

    /// Records follow the file's order: a merged key keeps its place, a removed one takes
    /// only itself out, new keys come last.
    #[test]
    fn keys_keep_their_order() {
        let keys = |v: &Value| -> Vec<String> {
            v.as_mapping()
                .expect("a mapping")
                .keys()
                .map(|k| k.as_str().unwrap_or_default().to_string())
                .collect()
        };
        let base = y("{a: {image: a:1}, b: {image: b:1}, c: {image: c:1}, d: {image: d:1}}");
        let m = merge(
            base.clone(),
            y("{a: {image: a:2}, e: {image: e:1}}"),
            &["services"],
        );
        assert_eq!(keys(&m), ["a", "b", "c", "d", "e"]);
        assert_eq!(m["a"]["image"], y("a:2"));
        let m = merge(base, y("{b: !reset null, c: {image: c:2}}"), &["services"]);
        assert_eq!(keys(&m), ["a", "c", "d"]);
        assert_eq!(m["c"]["image"], y("c:2"));
    }

    #[test]
    fn replaced_whole_only_where_compose_replaces() {
        let svc = &["services", "a"];
        // command, entrypoint and healthcheck.test of a service are replaced; the same keys
        // elsewhere are lists like any other, appended.
        let base = y("{command: [a], entrypoint: [a], healthcheck: {test: [a]}}");
        let over = y("{command: [b], entrypoint: [b], healthcheck: {test: [b]}}");
        assert_eq!(
            merge(base.clone(), over.clone(), svc),
            y("{command: [b], entrypoint: [b], healthcheck: {test: [b]}}")
        );
        assert_eq!(
            merge(base, over, &["x-tools", "a"]),
            y("{command: [a, b], entrypoint: [a, b], healthcheck: {test: [a, b]}}")
        );
        // depends_on merges by service, unless overridden whole.
        assert_eq!(
            merge(y("{depends_on: [db]}"), y("{depends_on: [cache]}"), svc),
            y("{depends_on: {db: {}, cache: {}}}")
        );
        assert_eq!(
            merge(
                y("{depends_on: [db]}"),
                y("{depends_on: !override [cache]}"),
                svc
            ),
            y("{depends_on: [cache]}")
        );
        // The tags apply to the value merged; other tags stay.
        assert_eq!(merge(y("x"), y("!reset y"), &[]), Value::Null);
        let deps = &["services", "a", "depends_on"];
        assert_eq!(merge(y("[db]"), y("!reset []"), deps), Value::Null);
        assert_eq!(merge(y("[x]"), y("!override [y]"), &[]), y("[y]"));
        assert_eq!(merge(y("[x]"), y("!other [y]"), &[]), y("!other [y]"));
        assert_eq!(merge(y("[x]"), Value::Null, &[]), y("[x]"));
    }
}
