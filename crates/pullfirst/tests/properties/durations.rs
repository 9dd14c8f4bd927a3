//! Durations: what `format_duration` prints, `parse_duration` reads back (to the precision
//! printed); a number of seconds or of any unit reads as that many; anything over 100 years
//! is refused with a message naming the limit, and nothing accepted overflows `now + d`.

use std::time::{Duration, Instant};

use proptest::prelude::*;
use pullfirst::units::{format_duration, parse_duration, MAX_DURATION};

use crate::config;

const UNITS: &[(&str, u64)] = &[
    ("s", 1),
    ("sec", 1),
    ("m", 60),
    ("min", 60),
    ("h", 3600),
    ("hours", 3600),
    ("d", 86_400),
    ("days", 86_400),
    ("w", 604_800),
    ("y", 31_557_600),
];

fn too_long(s: &str) -> bool {
    parse_duration(s).is_err_and(|e| e.contains("longer than 100 years"))
}

proptest! {
    #![proptest_config(config(4000))]

    /// What is printed reads back as the duration, to the precision printed: milliseconds
    /// under a second, a tenth of a second under a minute, whole seconds above.
    #[test]
    fn format_then_parse(ms in 0u64..=MAX_DURATION.as_millis() as u64) {
        let d = Duration::from_millis(ms);
        let text = format_duration(d);
        let back = parse_duration(&text).map_err(TestCaseError::fail)?;
        let error = back.abs_diff(d);
        let precision = if ms < 1000 {
            Duration::ZERO
        } else if ms < 60_000 {
            Duration::from_millis(50)
        } else {
            Duration::from_millis(999)
        };
        prop_assert!(error <= precision, "{:?} printed {:?} read {:?}", d, text, back);
    }

    /// `N` and `N<unit>` are N times the unit; at most 100 years, refused beyond.
    #[test]
    fn numbers_with_units(n in prop_oneof![0u64..200, 0u64..4_000_000_000, any::<u64>()], unit in 0..UNITS.len(), bare in any::<bool>()) {
        let (suffix, secs) = UNITS[unit];
        let text = if bare { n.to_string() } else { format!("{n}{suffix}") };
        let want = if bare { Some(n) } else { n.checked_mul(secs) };
        match want {
            Some(s) if s <= MAX_DURATION.as_secs() => {
                prop_assert_eq!(parse_duration(&text), Ok(Duration::from_secs(s)), "{}", text)
            }
            _ => prop_assert!(too_long(&text), "{}: {:?}", text, parse_duration(&text)),
        }
    }

    /// More than 100 years, however written, is refused; whatever is accepted can be added
    /// to now.
    #[test]
    fn over_100_years_is_refused(extra_ms in 1u64..=u64::MAX / 2, split in any::<bool>()) {
        let d = MAX_DURATION.saturating_add(Duration::from_millis(extra_ms));
        let text = if split {
            format!("100y {}ms", extra_ms)
        } else {
            format!("{}.{:03}", d.as_secs(), d.subsec_millis())
        };
        prop_assert!(too_long(&text), "{}: {:?}", text, parse_duration(&text));
    }

    /// Any text: refused, or a duration `now` can be moved by.
    #[test]
    fn anything_accepted_is_in_range(s in "[0-9. a-z]{0,24}") {
        if let Ok(d) = parse_duration(&s) {
            prop_assert!(d <= MAX_DURATION);
            prop_assert!(Instant::now().checked_add(d).is_some());
        }
    }
}
