//! Virtual time: nanoseconds since the cluster started. Nothing in the core reads a
//! wall clock (which would also panic on wasm32-unknown-unknown).

/// Virtual nanoseconds since time zero.
pub type Nanos = u64;

pub const NANOS_PER_MILLI: Nanos = 1_000_000;
pub const NANOS_PER_SEC: Nanos = 1_000_000_000;

/// The simulation's clock. It moves only forward, and only when told to.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    now: Nanos,
}

impl Clock {
    pub fn now(&self) -> Nanos {
        self.now
    }

    /// Moves time forward to `to`; moving backwards is ignored.
    pub fn advance_to(&mut self, to: Nanos) {
        if to > self.now {
            self.now = to;
        }
    }
}

/// Parses a Go-style duration (`500ms`, `30s`, `5m`, `1h30m`, `1.5s`).
pub fn parse_duration(text: &str) -> Result<Nanos, String> {
    let s = text.trim();
    let err = || format!("time: invalid duration \"{text}\"");
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(err());
    }
    let mut total: u128 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("time: missing unit in duration \"{text}\""))?;
        if num_len == 0 {
            return Err(err());
        }
        let (num, tail) = rest.split_at(num_len);
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, next) = tail.split_at(unit_len);
        let scale: u128 = match unit {
            "ns" => 1,
            "us" | "µs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "" => return Err(format!("time: missing unit in duration \"{text}\"")),
            other => {
                return Err(format!(
                    "time: unknown unit \"{other}\" in duration \"{text}\""
                ))
            }
        };
        let (int_part, frac_part) = num.split_once('.').unwrap_or((num, ""));
        if frac_part.contains('.') || (int_part.is_empty() && frac_part.is_empty()) {
            return Err(err());
        }
        let int: u128 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().map_err(|_| err())?
        };
        let mut value = int.checked_mul(scale).ok_or_else(err)?;
        let mut place = scale;
        for d in frac_part.bytes() {
            place /= 10;
            value += u128::from(d - b'0') * place;
        }
        total = total.checked_add(value).ok_or_else(err)?;
        rest = next;
    }
    u64::try_from(total).map_err(|_| err())
}

/// Formats nanoseconds the way Go's time.Duration prints (`1m30s`, `500ms`, `0s`).
pub fn format_duration(n: Nanos) -> String {
    if n == 0 {
        return "0s".into();
    }
    if n < NANOS_PER_SEC {
        return if n % NANOS_PER_MILLI == 0 {
            format!("{}ms", n / NANOS_PER_MILLI)
        } else if n % 1000 == 0 {
            format!("{}µs", n / 1000)
        } else {
            format!("{n}ns")
        };
    }
    let h = n / (3600 * NANOS_PER_SEC);
    let m = (n / (60 * NANOS_PER_SEC)) % 60;
    let s = n % (60 * NANOS_PER_SEC);
    let secs = if s % NANOS_PER_SEC == 0 {
        format!("{}s", s / NANOS_PER_SEC)
    } else {
        let frac = format!("{:09}", s % NANOS_PER_SEC);
        format!("{}.{}s", s / NANOS_PER_SEC, frac.trim_end_matches('0'))
    };
    match (h, m) {
        (0, 0) => secs,
        (0, m) => format!("{m}m{secs}"),
        (h, m) => format!("{h}h{m}m{secs}"),
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn durations_parse_and_print_as_go() {
        let cases = [
            ("500ms", 500 * NANOS_PER_MILLI, "500ms"),
            ("30s", 30 * NANOS_PER_SEC, "30s"),
            ("5m", 300 * NANOS_PER_SEC, "5m0s"),
            ("1h", 3600 * NANOS_PER_SEC, "1h0m0s"),
            ("1h30m", 5400 * NANOS_PER_SEC, "1h30m0s"),
            ("1.5s", 1500 * NANOS_PER_MILLI, "1.5s"),
            ("0", 0, "0s"),
        ];
        for (text, nanos, printed) in cases {
            assert_eq!(parse_duration(text), Ok(nanos), "{text}");
            assert_eq!(format_duration(nanos), printed);
        }
        assert_eq!(
            parse_duration("5"),
            Err("time: missing unit in duration \"5\"".into())
        );
        assert_eq!(
            parse_duration("5d"),
            Err("time: unknown unit \"d\" in duration \"5d\"".into())
        );
        assert!(parse_duration("").is_err());
        assert!(parse_duration("s").is_err());
        assert!(parse_duration("99999999999999h").is_err());
    }

    #[test]
    fn clock_only_moves_forward() {
        let mut c = Clock::default();
        c.advance_to(10);
        c.advance_to(5);
        assert_eq!(c.now(), 10);
    }
}
