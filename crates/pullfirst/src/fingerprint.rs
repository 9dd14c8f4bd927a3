//! A stable name for what must not be stored itself (a token, a message) or needs a short,
//! fixed-length name (a cache entry). The same input gives the same name in every version of
//! pullfirst, since names are kept in files between runs.

/// FNV-1a, 64 bits: a stable name for something that must not be stored itself (a token, a
/// message), or for a cache entry. Not a cryptographic hash.
pub fn fingerprint(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_the_same() {
        assert_eq!(fingerprint(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fingerprint("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fingerprint("foobar"), 0x8594_4171_f739_67e8);
    }

    /// Cache entries and state are keyed by fingerprints: different inputs, different names.
    #[test]
    fn different_inputs_have_different_names() {
        let mut seen = std::collections::HashSet::new();
        for i in 0..20_000 {
            for s in [
                format!("{i}"),
                format!("message {i}\n"),
                format!("https://h/{i}"),
            ] {
                assert!(seen.insert(fingerprint(&s)), "{s} collides");
            }
        }
        assert_ne!(fingerprint("ab"), fingerprint("ba"));
    }
}
