//! Spin's per-instance settings (`--max-instance-reuse-count`,
//! `--max-instance-concurrent-reuse-count`, `--idle-instance-timeout`,
//! `--request-timeout`): one value, or a range `low..high` (`high` excluded,
//! as in Spin) from which each new instance draws its own. With a range, the
//! instances of a component started together under a burst do not all
//! retire together (and start again together) when they reach their count.
//! The Redis trigger, whose every message has an instance of its own, draws
//! its message timeout per message.

use std::time::Duration;

/// One value for every instance, or a range each new instance draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PerInstance<T> {
    /// The same for every instance.
    Value(T),
    /// Drawn uniformly for each new instance from `low..high` (`high`
    /// excluded); `low < high`.
    Between(T, T),
}

impl<T: Copy + PartialOrd> PerInstance<T> {
    /// The range `low..high`, or `None` when it holds nothing (`high` is
    /// not above `low`).
    pub fn between(low: T, high: T) -> Option<Self> {
        (low < high).then_some(Self::Between(low, high))
    }
}

impl PerInstance<u32> {
    /// This instance's value.
    pub fn draw(&self) -> u32 {
        match *self {
            Self::Value(value) => value,
            Self::Between(low, high) if low < high => fastrand::u32(low..high),
            Self::Between(low, _) => low,
        }
    }

    /// The largest value an instance may draw.
    pub fn most(&self) -> u32 {
        match *self {
            Self::Value(value) => value,
            Self::Between(low, high) => high.saturating_sub(1).max(low),
        }
    }
}

impl PerInstance<Duration> {
    /// This instance's value.
    pub fn draw(&self) -> Duration {
        match *self {
            Self::Value(value) => value,
            Self::Between(low, high) if low < high => low + (high - low).mul_f64(fastrand::f64()),
            Self::Between(low, _) => low,
        }
    }

    /// The shortest value an instance may draw.
    pub fn least(&self) -> Duration {
        match *self {
            Self::Value(value) | Self::Between(value, _) => value,
        }
    }

    /// The longest value an instance may draw (just under HIGH).
    pub fn most(&self) -> Duration {
        match *self {
            Self::Value(value) => value,
            Self::Between(low, high) => high.saturating_sub(Duration::from_nanos(1)).max(low),
        }
    }
}

impl<T> From<T> for PerInstance<T> {
    fn from(value: T) -> Self {
        Self::Value(value)
    }
}

impl<T: std::fmt::Debug> std::fmt::Display for PerInstance<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Value(value) => write!(f, "{value:?}"),
            Self::Between(low, high) => write!(f, "{low:?}..{high:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_stay_in_the_range_and_cover_it() {
        let counts = PerInstance::between(2u32, 5).unwrap();
        let drawn: std::collections::BTreeSet<u32> = (0..1000).map(|_| counts.draw()).collect();
        assert_eq!(drawn.into_iter().collect::<Vec<_>>(), [2, 3, 4]);
        assert_eq!(counts.most(), 4);
        assert_eq!(PerInstance::Value(7u32).draw(), 7);
        assert_eq!(PerInstance::Value(7u32).most(), 7);

        let (low, high) = (Duration::from_millis(100), Duration::from_millis(300));
        let times = PerInstance::between(low, high).unwrap();
        for _ in 0..1000 {
            let drawn = times.draw();
            assert!(low <= drawn && drawn < high, "{drawn:?}");
        }
        assert_eq!(times.least(), low);
        assert_eq!(times.most(), high - Duration::from_nanos(1));
        // An empty range is no range.
        assert_eq!(PerInstance::between(5u32, 5), None);
        assert_eq!(PerInstance::between(high, low), None);
    }
}
