//! Durations (`500ms`, `30s`, `5m`, `1h30m`) and sizes (`512M`, `2G`) as users write them.
//!
//! Durations are parsed by `humantime`; a bare number is seconds, as for `sleep` and
//! `timeout`. None is longer than [`MAX_DURATION`], 100 years: more is surely a slip, and an
//! instant computed from it (`now + timeout`) would overflow the clock, so it is refused
//! where it is parsed, as a usage error naming the limit, and every duration a command holds
//! can be added to `now`. Sizes are parsed by `parse-size` with binary multiples, as `docker` and `df -h`
//! mean them: `512M` is 512 MiB. Both are usable directly as clap value parsers.

use std::time::Duration;

/// The longest duration any command takes: 100 years (of 365.25 days, as `100y` reads).
pub const MAX_DURATION: Duration = Duration::from_secs(100 * 31_557_600);

/// Parse a duration: `500ms`, `30s`, `5m`, `1h30m`, or a bare number of seconds; at most
/// [`MAX_DURATION`].
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let too_long = || format!("invalid duration {s:?}: longer than 100 years, the most allowed");
    let d = if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let secs = s
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| format!("invalid duration {s:?}"))?;
        if secs > MAX_DURATION.as_secs_f64() {
            return Err(too_long());
        }
        Duration::try_from_secs_f64(secs).map_err(|_| format!("invalid duration {s:?}"))?
    } else {
        humantime::parse_duration(s).map_err(|e| match e {
            humantime::DurationError::NumberOverflow => too_long(),
            e => format!("invalid duration {s:?} ({e}); use e.g. 500ms, 30s, 5m, 1h30m"),
        })?
    };
    if d > MAX_DURATION {
        return Err(too_long());
    }
    Ok(d)
}

/// Parse a size in bytes: `512M`, `2G`, `1.5GiB`, `4096` (binary multiples).
pub fn parse_size(s: &str) -> Result<u64, String> {
    parse_size::Config::new()
        .with_binary()
        .parse_size(s.trim())
        .map_err(|e| format!("invalid size {s:?} ({e}); use e.g. 512M, 2G"))
}

/// A duration for people: `850ms`, `2.1s`, `3m20s`.
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.1}s", d.as_secs_f64())
    } else {
        humantime::format_duration(Duration::from_secs(d.as_secs())).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("0.25"), Ok(Duration::from_millis(250)));
        for bad in ["", "abc", "5x", "-1s", "1..2"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn durations_stop_at_100_years() {
        assert_eq!(parse_duration("100y"), Ok(MAX_DURATION));
        assert_eq!(parse_duration("3155760000"), Ok(MAX_DURATION));
        for long in [
            "101y",
            "100y 1s",
            "3155760000.5",
            "500000000000y",
            "18446744073709551615s",
            "18446744073709551616s",
            "18446744073709551615",
            "99999999999999999999999999999999999999",
        ] {
            let e = parse_duration(long).expect_err(long);
            assert!(e.contains("longer than 100 years"), "{long}: {e}");
        }
        // Whatever is accepted can be added to now.
        assert!(std::time::Instant::now()
            .checked_add(MAX_DURATION)
            .is_some());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("2G"), Ok(2 << 30));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("lots").is_err());
    }

    #[test]
    fn formatting() {
        assert_eq!(format_duration(Duration::from_millis(850)), "850ms");
        assert_eq!(format_duration(Duration::from_millis(2100)), "2.1s");
        assert_eq!(format_duration(Duration::from_secs(200)), "3m 20s");
        // The edges: under a second in ms, under a minute in tenths of seconds.
        assert_eq!(format_duration(Duration::from_millis(999)), "999ms");
        assert_eq!(format_duration(Duration::from_millis(1000)), "1.0s");
        assert_eq!(format_duration(Duration::from_millis(59_940)), "59.9s");
        assert_eq!(format_duration(Duration::from_millis(60_000)), "1m");
    }
}
