//! How long to wait before the next attempt.
//!
//! The curve is `--delay` times 2^(n-1) (exponential), times n (linear) or times 1
//! (constant) before attempt n+1, capped at `--max-delay`. Jitter, on by default, picks the
//! wait uniformly in [½d, d] ("equal jitter"): a fleet of cron jobs that failed together does
//! not retry together, and the curve stays recognisable. A step that says when to come back
//! (`error.retry_after` in its records) is waited for at least that long, still capped.

use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Curve {
    Exponential,
    Linear,
    Constant,
}

#[derive(Clone, Debug)]
pub struct Backoff {
    pub curve: Curve,
    pub delay: Duration,
    pub max_delay: Duration,
    pub jitter: bool,
}

impl Backoff {
    /// The wait after failed attempt `failed` (1-based), before jitter and hints.
    pub fn base(&self, failed: u32) -> Duration {
        let factor = match self.curve {
            Curve::Exponential => 2f64.powi(failed.saturating_sub(1).min(62) as i32),
            Curve::Linear => f64::from(failed.max(1)),
            Curve::Constant => 1.0,
        };
        let secs = (self.delay.as_secs_f64() * factor).min(self.max_delay.as_secs_f64());
        Duration::try_from_secs_f64(secs).unwrap_or(self.max_delay)
    }

    /// The wait after failed attempt `failed`, with jitter and the step's own `retry_after`.
    pub fn next(
        &self,
        failed: u32,
        retry_after: Option<Duration>,
        rng: &mut fastrand::Rng,
    ) -> Duration {
        let base = self.base(failed);
        let jittered = if self.jitter {
            base.mul_f64(0.5 + 0.5 * rng.f64())
        } else {
            base
        };
        match retry_after {
            Some(hint) => jittered.max(hint.min(self.max_delay)),
            None => jittered,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backoff(curve: Curve) -> Backoff {
        Backoff {
            curve,
            delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(10),
            jitter: false,
        }
    }

    #[test]
    fn curves_and_cap() {
        let secs = |b: &Backoff| (1..=6).map(|n| b.base(n).as_secs()).collect::<Vec<_>>();
        assert_eq!(secs(&backoff(Curve::Exponential)), [1, 2, 4, 8, 10, 10]);
        assert_eq!(secs(&backoff(Curve::Linear)), [1, 2, 3, 4, 5, 6]);
        assert_eq!(secs(&backoff(Curve::Constant)), [1, 1, 1, 1, 1, 1]);
        assert_eq!(
            backoff(Curve::Exponential).base(1000),
            Duration::from_secs(10)
        );
    }

    #[test]
    fn jitter_stays_in_the_upper_half_and_hints_raise_the_wait() {
        let mut b = backoff(Curve::Constant);
        b.jitter = true;
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..1000 {
            let d = b.next(1, None, &mut rng);
            assert!(
                d >= Duration::from_millis(500) && d <= Duration::from_secs(1),
                "{d:?}"
            );
        }
        b.jitter = false;
        assert_eq!(
            b.next(1, Some(Duration::from_secs(3)), &mut rng),
            Duration::from_secs(3)
        );
        assert_eq!(
            b.next(1, Some(Duration::from_secs(99)), &mut rng),
            Duration::from_secs(10)
        );
        assert_eq!(
            b.next(1, Some(Duration::ZERO), &mut rng),
            Duration::from_secs(1)
        );
    }
}
