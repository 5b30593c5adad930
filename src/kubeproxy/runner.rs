//! pkg/util/async's BoundedFrequencyRunner over virtual time: what kube-proxy's
//! `syncRunner` decides, without goroutines. kube-proxy (v1.31, iptables mode) builds
//! it with `minInterval` = `--iptables-min-sync-period` (1s), `maxInterval` =
//! `proxyutil.FullSyncPeriod` (1h) and 2 burst runs.
//!
//! - `Run()` (a change) runs the function at once if the token bucket (one token
//!   per `minInterval`, at most `burst`, full at start) has a token; otherwise the one
//!   timer is set to `minInterval` after the last run, or left where it is if sooner.
//!   Requests in between coalesce into that one run.
//! - After every run the timer is set to `maxInterval`: the function runs at least
//!   once an hour.
//! - `RetryAfter(d)` pulls the timer in to `now + d` if that is sooner.
//!
//! The timer is a deadline with a generation: the component schedules one wake-up
//! per generation and ignores wake-ups of older ones (a Go timer's `Reset`).

use crate::kernel::Nanos;

/// Why the runner's timer is set: this decides whether it is periodic work (which
/// does not keep `settle` from finishing) or work a change is waiting for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimerKind {
    /// `maxInterval` after the last run: the hourly sync.
    MaxInterval,
    /// A run was asked for but no token was left: at most `minInterval` away.
    Deferred,
    /// `RetryAfter(syncPeriod)` after a failed sync.
    Retry,
}

impl TimerKind {
    /// Whether the wake-up is periodic work (the hourly sync, a failing sync retried
    /// every syncPeriod as a crash loop is) rather than a change waiting to be written.
    pub fn periodic(self) -> bool {
        !matches!(self, TimerKind::Deferred)
    }
}

/// The runner's one timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timer {
    pub at: Nanos,
    pub generation: u64,
    pub kind: TimerKind,
}

/// The runner's state.
#[derive(Clone, Debug)]
pub struct BoundedFrequencyRunner {
    min_interval: Nanos,
    max_interval: Nanos,
    burst: u64,
    /// Tokens of the bucket, in nanoseconds (one token is `min_interval`).
    tokens: Nanos,
    tokens_at: Nanos,
    last_run: Option<Nanos>,
    timer: Timer,
}

impl BoundedFrequencyRunner {
    /// A runner whose `Loop` starts at `now` (its timer set to `maxInterval`).
    pub fn new(
        min_interval: Nanos,
        max_interval: Nanos,
        burst: u64,
        now: Nanos,
    ) -> BoundedFrequencyRunner {
        BoundedFrequencyRunner {
            min_interval,
            max_interval: max_interval.max(min_interval),
            burst: burst.max(1),
            tokens: min_interval.saturating_mul(burst.max(1)),
            tokens_at: now,
            last_run: None,
            timer: Timer {
                at: now.saturating_add(max_interval),
                generation: 0,
                kind: TimerKind::MaxInterval,
            },
        }
    }

    pub fn timer(&self) -> Timer {
        self.timer
    }

    /// The last run's time (`lastRun`).
    pub fn last_run(&self) -> Option<Nanos> {
        self.last_run
    }

    fn reset(&mut self, at: Nanos, kind: TimerKind) {
        self.timer = Timer {
            at,
            generation: self.timer.generation + 1,
            kind,
        };
    }

    /// The token bucket's `TryAccept` (golang.org/x/time/rate under client-go's
    /// flowcontrol): refill for the time passed, take one token if there is one.
    fn try_accept(&mut self, now: Nanos) -> bool {
        if self.min_interval == 0 {
            return true;
        }
        let cap = self.min_interval.saturating_mul(self.burst);
        let elapsed = now.saturating_sub(self.tokens_at);
        self.tokens = self.tokens.saturating_add(elapsed).min(cap);
        self.tokens_at = now;
        if self.tokens >= self.min_interval {
            self.tokens -= self.min_interval;
            true
        } else {
            false
        }
    }

    /// `tryRun`: true when the function may run now (then call [`Self::ran`] after
    /// it); otherwise the timer is moved to the next possible run. `why` is what asked.
    pub fn try_run(&mut self, now: Nanos, why: TimerKind) -> bool {
        if self.try_accept(now) {
            return true;
        }
        let elapsed = self.last_run.map_or(Nanos::MAX, |t| now.saturating_sub(t));
        let next_possible = self.min_interval.saturating_sub(elapsed);
        let remaining = self.timer.at.saturating_sub(now);
        if next_possible < remaining {
            self.reset(now + next_possible, why);
        } else {
            let kind = if why == TimerKind::Deferred {
                TimerKind::Deferred
            } else {
                self.timer.kind
            };
            self.reset(self.timer.at.max(now), kind);
        }
        false
    }

    /// After a run: `lastRun` and the timer set to `maxInterval`.
    pub fn ran(&mut self, now: Nanos) {
        self.last_run = Some(now);
        self.reset(
            now.saturating_add(self.max_interval),
            TimerKind::MaxInterval,
        );
    }

    /// `RetryAfter(interval)` and the `doRetry` that follows: the timer comes in to
    /// `now + interval` if that is sooner than where it is.
    pub fn retry_after(&mut self, now: Nanos, interval: Nanos) {
        let at = now.saturating_add(interval);
        if at < self.timer.at {
            self.reset(at, TimerKind::Retry);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Nanos = 1_000_000_000;

    #[test]
    fn two_runs_burst_then_one_per_min_interval() {
        let mut r = BoundedFrequencyRunner::new(S, 3600 * S, 2, 0);
        assert!(r.try_run(0, TimerKind::Deferred));
        r.ran(0);
        assert_eq!(r.timer().at, 3600 * S);
        assert!(r.try_run(S / 10, TimerKind::Deferred));
        r.ran(S / 10);
        // The bucket is empty: the next run waits minInterval after the last one.
        assert!(!r.try_run(S / 5, TimerKind::Deferred));
        let t = r.timer();
        assert_eq!((t.at, t.kind), (S / 10 + S, TimerKind::Deferred));
        // Another request in between coalesces into the same run.
        assert!(!r.try_run(S / 2, TimerKind::Deferred));
        assert_eq!(r.timer().at, S / 10 + S);
        assert!(r.try_run(S / 10 + S, TimerKind::Deferred));
    }

    #[test]
    fn a_retry_pulls_the_hourly_timer_in() {
        let mut r = BoundedFrequencyRunner::new(S, 3600 * S, 2, 0);
        assert!(r.try_run(5 * S, TimerKind::Deferred));
        r.ran(5 * S);
        r.retry_after(5 * S, 30 * S);
        let t = r.timer();
        assert_eq!((t.at, t.kind), (35 * S, TimerKind::Retry));
        assert!(t.kind.periodic());
        // A later retry does not push it out.
        r.retry_after(10 * S, 30 * S);
        assert_eq!(r.timer().at, 35 * S);
    }
}
