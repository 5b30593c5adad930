//! metav1.Time and metav1.MicroTime over the simulation's virtual clock.
//!
//! Virtual time 0 is [`EPOCH_UNIX`], 2024-08-13T00:00:00Z (the day Kubernetes v1.31
//! was released), so timestamps look like a real cluster's and stay reproducible.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Unix seconds of virtual time zero.
pub const EPOCH_UNIX: i64 = 1_723_507_200;

/// A timestamp with second precision, serialized as RFC 3339 (`2024-08-13T00:00:05Z`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(pub i64);

/// A timestamp with microsecond precision (`2024-08-13T00:00:05.000000Z`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MicroTime(pub i64);

impl Time {
    /// The wall-clock time of a virtual instant given in nanoseconds since time zero.
    pub fn from_virtual_nanos(nanos: u64) -> Time {
        Time(EPOCH_UNIX + (nanos / 1_000_000_000) as i64)
    }
    /// Seconds since virtual time zero (negative before it).
    pub fn virtual_seconds(self) -> i64 {
        self.0 - EPOCH_UNIX
    }
    pub fn to_rfc3339(self) -> String {
        let (y, mo, d, h, mi, s) = civil(self.0);
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
    }
    pub fn parse(text: &str) -> Option<Time> {
        parse_rfc3339(text).map(|(secs, _)| Time(secs))
    }
}

impl MicroTime {
    pub fn from_virtual_nanos(nanos: u64) -> MicroTime {
        MicroTime(EPOCH_UNIX * 1_000_000 + (nanos / 1000) as i64)
    }
    pub fn to_rfc3339(self) -> String {
        let secs = self.0.div_euclid(1_000_000);
        let micros = self.0.rem_euclid(1_000_000);
        let (y, mo, d, h, mi, s) = civil(secs);
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{micros:06}Z")
    }
    pub fn parse(text: &str) -> Option<MicroTime> {
        parse_rfc3339(text).map(|(secs, nanos)| MicroTime(secs * 1_000_000 + nanos / 1000))
    }
    pub fn seconds(self) -> Time {
        Time(self.0.div_euclid(1_000_000))
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

pub(crate) fn civil(unix: i64) -> (i64, i64, i64, i64, i64, i64) {
    let days = unix.div_euclid(86_400);
    let rem = unix.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d, rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Parses RFC 3339 (`2024-08-13T00:00:05Z`, fractions and offsets allowed) into unix
/// seconds and the fraction in nanoseconds.
fn parse_rfc3339(text: &str) -> Option<(i64, i64)> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !(b[10] == b'T' || b[10] == b't') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = text.get(r)?;
        if s.bytes().all(|c| c.is_ascii_digit()) {
            s.parse().ok()
        } else {
            None
        }
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let mut i = 19;
    let mut nanos = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
        let digits = &text[start..i.min(start + 9)];
        nanos = digits.parse::<i64>().ok()? * 10i64.pow(9 - digits.len() as u32);
    }
    let offset = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if i + 6 == b.len() && b[i + 3] == b':' => {
            let oh = num(i + 1..i + 3)?;
            let om = num(i + 4..i + 6)?;
            let o = oh * 3600 + om * 60;
            if *sign == b'+' {
                o
            } else {
                -o
            }
        }
        _ => return None,
    };
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s - offset;
    Some((secs, nanos))
}

impl Serialize for Time {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Time::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "parsing time \"{s}\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"{s}\" as \"2006\""
            ))
        })
    }
}

impl Serialize for MicroTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for MicroTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        MicroTime::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "parsing time \"{s}\" as \"2006-01-02T15:04:05.000000Z07:00\": cannot parse \"{s}\" as \"2006\""
            ))
        })
    }
}

/// kubectl's `duration.HumanDuration`, used for the AGE column.
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".into();
    }
    if seconds < 0 {
        return "0s".into();
    }
    if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        return if dy == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{dy}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn rfc3339_round_trips() {
        assert_eq!(Time(EPOCH_UNIX).to_rfc3339(), "2024-08-13T00:00:00Z");
        assert_eq!(Time::parse("2024-08-13T00:00:00Z"), Some(Time(EPOCH_UNIX)));
        assert_eq!(
            Time::parse("2024-08-13T02:00:00+02:00"),
            Some(Time(EPOCH_UNIX))
        );
        assert_eq!(
            Time::parse("2000-02-29T23:59:59Z").unwrap().to_rfc3339(),
            "2000-02-29T23:59:59Z"
        );
        assert_eq!(Time::parse("1970-01-01T00:00:00Z"), Some(Time(0)));
        assert_eq!(Time::parse("yesterday"), None);
        assert_eq!(Time::parse("2024-13-01T00:00:00Z"), None);
        let m = MicroTime::parse("2024-08-13T00:00:01.5Z").unwrap();
        assert_eq!(m.to_rfc3339(), "2024-08-13T00:00:01.500000Z");
    }

    #[test]
    fn human_durations_match_kubectl() {
        let cases = [
            (-5, "<invalid>"),
            (-1, "0s"),
            (0, "0s"),
            (119, "119s"),
            (120, "2m"),
            (125, "2m5s"),
            (600, "10m"),
            (179 * 60, "179m"),
            (3 * 3600, "3h"),
            (3 * 3600 + 60, "3h1m"),
            (8 * 3600, "8h"),
            (47 * 3600, "47h"),
            (48 * 3600, "2d"),
            (49 * 3600, "2d1h"),
            (8 * 86400, "8d"),
            (730 * 86400, "2y"),
            (731 * 86400, "2y1d"),
            (8 * 365 * 86400, "8y"),
        ];
        for (secs, want) in cases {
            assert_eq!(human_duration(secs), want, "{secs}s");
        }
    }
}
