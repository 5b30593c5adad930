//! Resource quantities: `k8s.io/apimachinery/pkg/api/resource.Quantity`.
//!
//! A [`Quantity`] is an exact fixed-point number with a [`Format`] that decides how it is
//! printed. Parsing, printing, rounding and the integer accessors follow upstream v1.31
//! bit for bit, including its quirks:
//!
//! * values are rounded *up* (away from zero) to nano precision when parsed;
//! * `BinarySI` values larger than `i64::MAX` saturate to `i64::MAX` (`9Ei`), decimal ones
//!   do not (`12E` is exactly 12e18);
//! * a parsed string that is already canonical is remembered and printed back verbatim
//!   (upstream's cached `s`), so `"+1k"` or `"1E3"` print as written;
//! * like upstream, two internal representations exist: a fast `i64 × 10^scale` one and an
//!   arbitrary-precision decimal. They differ in observable ways only where upstream's do
//!   (overflowing [`Quantity::value`], negative fractional values on the decimal path).
//!
//! Printing past the largest suffixes follows the upstream fix that falls back to exponent
//! notation: `5000E` prints as `5e21` (v1.31 printed `5`), and a `BinarySI` value of 2^70
//! prints as its decimal integer.
//!
//! Known differences from upstream, all outside realistic values:
//!
//! * JSON numbers reach serde as `f64`/integers, not as text: `1e3` deserialises as `1k`
//!   (upstream keeps `1e3`), and JSON string escapes are decoded (upstream parses the raw
//!   bytes between the quotes).
//! * Adding amounts whose scales differ by more than 20,000 decimal places keeps the operand
//!   with the larger magnitude instead of building the exact 20,000-digit sum; widening a
//!   decimal's scale that far (when parsing or in [`Quantity::round_up`]) keeps its old
//!   representation (same value).
//! * `y` is never modified by `q.add(&y)` (upstream converts `y`'s shared state to its
//!   decimal form as a side effect), and comparing amounts whose int32 scales wrap around
//!   gives the exact answer where upstream divides by zero.
//! * `int64(math.Pow10(n))` for n > 18, reachable only when [`Quantity::scaled_value`]
//!   overflows on the decimal path, is taken as amd64 computes it (`i64::MIN`).
//!
//! ```
//! use kubeglass::api::quantity::{Format, Quantity};
//!
//! let cpu: Quantity = "100m".parse().unwrap();
//! assert_eq!(cpu.milli_value(), 100);
//! assert_eq!(cpu.format(), Format::DecimalSI);
//!
//! let mem = Quantity::parse("1.5Gi").unwrap();
//! assert_eq!(mem.to_string(), "1536Mi");
//! assert_eq!(mem.value(), 1_610_612_736);
//!
//! assert_eq!(Quantity::parse("1.1.M").unwrap_err().to_string(),
//!            "quantities must match the regular expression \
//!             '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
//! ```

mod bigint;

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;
use std::sync::Arc;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use bigint::BigUint;

/// The largest power of ten that [`Quantity`] arithmetic will materialise when two decimal
/// amounts with very different scales meet (upstream has no limit and would allocate
/// gigabytes for e.g. `1e2000000000 + 1`). Past it, see the notes on [`Quantity::add`].
const MAX_POW10_SHIFT: u64 = 20_000;

/// `Nano` in upstream: the finest scale a parsed quantity keeps.
const NANO: i32 = -9;

/// How a [`Quantity`] is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    /// `12e6`
    DecimalExponent,
    /// `12Mi` (12 × 2^20)
    BinarySI,
    /// `12M` (12 × 10^6)
    DecimalSI,
}

impl Format {
    /// The upstream spelling: `"DecimalExponent"`, `"BinarySI"` or `"DecimalSI"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::DecimalExponent => "DecimalExponent",
            Format::BinarySI => "BinarySI",
            Format::DecimalSI => "DecimalSI",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "DecimalExponent" => Ok(Format::DecimalExponent),
            "BinarySI" => Ok(Format::BinarySI),
            "DecimalSI" => Ok(Format::DecimalSI),
            _ => Err(format!("unknown quantity format {s:?}")),
        }
    }
}

impl Serialize for Format {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Format {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(de::Error::custom)
    }
}

/// Why a string is not a quantity. `Display` gives upstream's error text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum QuantityError {
    /// `ErrFormatWrong`
    FormatWrong,
    /// `ErrNumeric`
    Numeric,
    /// `ErrSuffix`
    Suffix,
}

impl fmt::Display for QuantityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            QuantityError::FormatWrong => {
                "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
            }
            QuantityError::Numeric => "unable to parse numeric part of quantity",
            QuantityError::Suffix => "unable to parse quantity's suffix",
        })
    }
}

impl std::error::Error for QuantityError {}

/// The pieces upstream's `parseQuantityString` scanner splits a quantity into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuantityParts<'a> {
    /// False when the string starts with `-`.
    pub positive: bool,
    /// The numeric part including its sign, as written (e.g. `"-1.025"`).
    pub value: &'a str,
    /// The integer digits without leading zeros (`"0"` if there are none).
    pub num: &'a str,
    /// The fractional digits.
    pub denom: &'a str,
    /// Everything after the number (e.g. `"Ki"`, `"E-3"`).
    pub suffix: &'a str,
}

/// Upstream's fast scanner: splits `s` into sign, number and suffix without interpreting the
/// suffix. Only fails (with [`QuantityError::FormatWrong`]) when the suffix is followed by
/// something that is not a signed integer.
pub fn parse_quantity_string(s: &str) -> Result<QuantityParts<'_>, QuantityError> {
    let b = s.as_bytes();
    let end = b.len();
    let mut positive = true;
    let mut pos = 0;
    if let Some(&c) = b.first() {
        if c == b'-' {
            positive = false;
            pos = 1;
        } else if c == b'+' {
            pos = 1;
        }
    }
    // Leading zeros.
    while pos < end && b[pos] == b'0' {
        pos += 1;
    }
    if pos >= end {
        return Ok(QuantityParts {
            positive,
            value: "0",
            num: "0",
            denom: "",
            suffix: "",
        });
    }
    // Integer digits.
    let num_start = pos;
    while pos < end && b[pos].is_ascii_digit() {
        pos += 1;
    }
    let mut num = &s[num_start..pos];
    if pos >= end {
        return Ok(QuantityParts {
            positive,
            value: s,
            num,
            denom: "",
            suffix: "",
        });
    }
    if num.is_empty() {
        num = "0";
    }
    // Fractional digits.
    let mut denom = "";
    if b[pos] == b'.' {
        pos += 1;
        let denom_start = pos;
        while pos < end && b[pos].is_ascii_digit() {
            pos += 1;
        }
        denom = &s[denom_start..pos];
        if pos >= end {
            return Ok(QuantityParts {
                positive,
                value: s,
                num,
                denom,
                suffix: "",
            });
        }
    }
    let value = &s[..pos];
    // Suffix letters, then an optional signed exponent.
    let suffix_start = pos;
    while pos < end && b"eEinumkKMGTP".contains(&b[pos]) {
        pos += 1;
    }
    if pos < end && (b[pos] == b'-' || b[pos] == b'+') {
        pos += 1;
    }
    while pos < end && b[pos].is_ascii_digit() {
        pos += 1;
    }
    if pos < end {
        return Err(QuantityError::FormatWrong);
    }
    Ok(QuantityParts {
        positive,
        value,
        num,
        denom,
        suffix: &s[suffix_start..],
    })
}

/// Upstream's suffixer: (base, exponent, format) of a suffix.
fn interpret_suffix(suffix: &str) -> Option<(u32, i32, Format)> {
    let r = match suffix {
        "" => (10, 0, Format::DecimalSI),
        "n" => (10, -9, Format::DecimalSI),
        "u" => (10, -6, Format::DecimalSI),
        "m" => (10, -3, Format::DecimalSI),
        "k" => (10, 3, Format::DecimalSI),
        "M" => (10, 6, Format::DecimalSI),
        "G" => (10, 9, Format::DecimalSI),
        "T" => (10, 12, Format::DecimalSI),
        "P" => (10, 15, Format::DecimalSI),
        "E" => (10, 18, Format::DecimalSI),
        "Ki" => (2, 10, Format::BinarySI),
        "Mi" => (2, 20, Format::BinarySI),
        "Gi" => (2, 30, Format::BinarySI),
        "Ti" => (2, 40, Format::BinarySI),
        "Pi" => (2, 50, Format::BinarySI),
        "Ei" => (2, 60, Format::BinarySI),
        _ => {
            let rest = suffix.strip_prefix(['e', 'E'])?;
            if rest.is_empty() {
                return None;
            }
            // strconv.ParseInt(rest, 10, 64), then int32() truncation as upstream does.
            let parsed: i64 = rest.parse().ok()?;
            (10, parsed as i32, Format::DecimalExponent)
        }
    };
    Some(r)
}

fn decimal_si_suffix(exponent: i32) -> Option<&'static str> {
    Some(match exponent {
        -9 => "n",
        -6 => "u",
        -3 => "m",
        0 => "",
        3 => "k",
        6 => "M",
        9 => "G",
        12 => "T",
        15 => "P",
        18 => "E",
        _ => return None,
    })
}

fn binary_si_suffix(exponent1024: u32) -> Option<&'static str> {
    Some(match exponent1024 {
        0 => "",
        1 => "Ki",
        2 => "Mi",
        3 => "Gi",
        4 => "Ti",
        5 => "Pi",
        6 => "Ei",
        _ => return None,
    })
}

fn exponent_suffix(exponent: i32) -> String {
    if exponent == 0 {
        String::new()
    } else {
        format!("e{exponent}")
    }
}

// ---------------------------------------------------------------------------------------
// int64 helpers (upstream math.go semantics)
// ---------------------------------------------------------------------------------------

/// `positiveScaleInt64`: base × 10^scale, or (0, false) on overflow. A negative scale
/// (only reachable through int32 wrap-around, as upstream) leaves base unchanged.
fn positive_scale_i64(base: i64, scale: i32) -> (i64, bool) {
    if scale <= 0 || base == 0 {
        return (base, true);
    }
    let mut value = base;
    for _ in 0..scale {
        match value.checked_mul(10) {
            Some(v) => value = v,
            None => return (0, false),
        }
    }
    (value, true)
}

/// `negativeScaleInt64`: base / 10^scale rounded away from zero, and whether it was exact.
fn negative_scale_i64(base: i64, scale: i32) -> (i64, bool) {
    if scale <= 0 {
        return (base, true);
    }
    let mut value = base;
    let mut fraction = false;
    for _ in 0..scale {
        if !fraction && value % 10 != 0 {
            fraction = true;
        }
        value /= 10;
        if value == 0 {
            if fraction {
                return (if base > 0 { 1 } else { -1 }, false);
            }
            return (0, true);
        }
    }
    if fraction {
        if base > 0 {
            value += 1;
        } else {
            value -= 1;
        }
    }
    (value, !fraction)
}

/// `removeInt64Factors` including its behaviour for `i64::MIN` (left untouched).
fn remove_i64_factors(value: i64, base: i64) -> (i64, i32) {
    let negative = value < 0;
    let mut result = if negative {
        value.wrapping_neg()
    } else {
        value
    };
    let mut times = 0i32;
    while result >= base && result % base == 0 {
        times += 1;
        result /= base;
    }
    if negative {
        result = result.wrapping_neg();
    }
    (result, times)
}

/// `int64(math.Pow10(n))` for n >= 0 as compiled for amd64: exact up to 10^18, and the
/// "integer indefinite" value `i64::MIN` beyond.
fn go_pow10_i64(n: i64) -> i64 {
    if (0..=18).contains(&n) {
        10i64.pow(n as u32)
    } else {
        i64::MIN
    }
}

/// Go's `math.Pow10`.
fn go_pow10_f64(n: i64) -> f64 {
    const TAB: [f64; 32] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22, 1e23, 1e24, 1e25, 1e26, 1e27, 1e28, 1e29, 1e30, 1e31,
    ];
    const POS32: [f64; 10] = [
        1e0, 1e32, 1e64, 1e96, 1e128, 1e160, 1e192, 1e224, 1e256, 1e288,
    ];
    const NEG32: [f64; 11] = [
        1e-0, 1e-32, 1e-64, 1e-96, 1e-128, 1e-160, 1e-192, 1e-224, 1e-256, 1e-288, 1e-320,
    ];
    if (0..=308).contains(&n) {
        return POS32[(n / 32) as usize] * TAB[(n % 32) as usize];
    }
    if (-323..=0).contains(&n) {
        let m = -n;
        return NEG32[(m / 32) as usize] / TAB[(m % 32) as usize];
    }
    if n > 0 {
        f64::INFINITY
    } else {
        0.0
    }
}

// ---------------------------------------------------------------------------------------
// The arbitrary-precision decimal (upstream's inf.Dec): ±mag × 10^(−scale)
// ---------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct Dec {
    neg: bool,
    mag: BigUint,
    scale: i32,
}

impl Dec {
    fn new(neg: bool, mag: BigUint, scale: i32) -> Dec {
        let neg = neg && !mag.is_zero();
        Dec { neg, mag, scale }
    }

    fn from_i64(value: i64, scale: i32) -> Dec {
        // int64Amount.AsDec: unscaled = value, inf scale = -scale (int32 negation).
        Dec::new(
            value < 0,
            BigUint::from_u64(value.unsigned_abs()),
            scale.wrapping_neg(),
        )
    }

    /// `inf.Dec.SetString`: `[+-]?digits[.digits]` with at least one digit.
    fn set_string(s: &str) -> Option<Dec> {
        let (neg, rest) = match s.as_bytes().first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        let (int, frac) = match rest.find('.') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, ""),
        };
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        if !int.bytes().all(|c| c.is_ascii_digit()) || !frac.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let mut digits = Vec::with_capacity(int.len() + frac.len());
        digits.extend_from_slice(int.as_bytes());
        digits.extend_from_slice(frac.as_bytes());
        let scale = i32::try_from(frac.len()).ok()?;
        Some(Dec::new(neg, BigUint::from_ascii_digits(&digits), scale))
    }

    fn sign(&self) -> i32 {
        if self.mag.is_zero() {
            0
        } else if self.neg {
            -1
        } else {
            1
        }
    }

    fn negated(&self) -> Dec {
        Dec::new(!self.neg, self.mag.clone(), self.scale)
    }

    /// Compares magnitudes exactly without materialising huge powers of ten.
    fn cmp_abs(&self, other: &Dec) -> Ordering {
        match (self.mag.is_zero(), other.mag.is_zero()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            _ => {}
        }
        let da = self.mag.decimal_digits() as i64;
        let db = other.mag.decimal_digits() as i64;
        let oa = da - self.scale as i64;
        let ob = db - other.scale as i64;
        if oa != ob {
            return oa.cmp(&ob);
        }
        // Same order of magnitude: the scale difference equals the digit-count difference.
        let d = self.scale as i64 - other.scale as i64;
        match d.cmp(&0) {
            Ordering::Equal => self.mag.cmp(&other.mag),
            Ordering::Greater => {
                let mut b = other.mag.clone();
                b.mul_pow10(d as u64);
                self.mag.cmp(&b)
            }
            Ordering::Less => {
                let mut a = self.mag.clone();
                a.mul_pow10((-d) as u64);
                a.cmp(&other.mag)
            }
        }
    }

    fn cmp_value(&self, other: &Dec) -> Ordering {
        let (sa, sb) = (self.sign(), other.sign());
        if sa != sb {
            return sa.cmp(&sb);
        }
        match sa {
            0 => Ordering::Equal,
            1 => self.cmp_abs(other),
            _ => other.cmp_abs(self),
        }
    }

    /// `inf.Dec.Round(x, s, inf.RoundUp)`: rounds away from zero to `s` decimal places and
    /// says whether that was exact. The new scale is `s`, except that an exact widening past
    /// [`MAX_POW10_SHIFT`] digits keeps the old representation (same value).
    fn round_up(&self, s: i32) -> (Dec, bool) {
        let shift = s.wrapping_sub(self.scale);
        match shift.cmp(&0) {
            Ordering::Equal => (self.clone(), true),
            Ordering::Greater => {
                if self.mag.is_zero() {
                    return (Dec::new(false, BigUint::zero(), s), true);
                }
                if shift as u64 > MAX_POW10_SHIFT {
                    return (self.clone(), true);
                }
                let mut mag = self.mag.clone();
                mag.mul_pow10(shift as u64);
                (Dec::new(self.neg, mag, s), true)
            }
            Ordering::Less => {
                let k = -(shift as i64);
                let (mut q, rem) = self.mag.div_pow10(k as u64);
                if rem {
                    q = q.add(&BigUint::from_u64(1));
                }
                (Dec::new(self.neg, q, s), !rem)
            }
        }
    }

    /// `inf.Dec.Add`: the result has the larger of the two scales.
    fn add(&self, other: &Dec) -> Dec {
        let scale = self.scale.max(other.scale);
        let (a, b) = (self.upscaled(scale), other.upscaled(scale));
        let (a, b) = match (a, b) {
            (Some(a), Some(b)) => (a, b),
            // The exact sum would need more than MAX_POW10_SHIFT extra digits: keep the
            // operand with the larger magnitude (see Quantity::add).
            _ => {
                return if self.cmp_abs(other) == Ordering::Less {
                    other.clone()
                } else {
                    self.clone()
                };
            }
        };
        if a.neg == b.neg {
            return Dec::new(a.neg, a.mag.add(&b.mag), scale);
        }
        match a.mag.cmp(&b.mag) {
            Ordering::Equal => Dec::new(false, BigUint::zero(), scale),
            Ordering::Greater => Dec::new(a.neg, a.mag.sub(&b.mag), scale),
            Ordering::Less => Dec::new(b.neg, b.mag.sub(&a.mag), scale),
        }
    }

    fn upscaled(&self, scale: i32) -> Option<Dec> {
        let shift = (scale as i64 - self.scale as i64) as u64;
        if shift == 0 || self.mag.is_zero() {
            return Some(Dec::new(self.neg, self.mag.clone(), scale));
        }
        if shift > MAX_POW10_SHIFT {
            return None;
        }
        let mut mag = self.mag.clone();
        mag.mul_pow10(shift);
        Some(Dec::new(self.neg, mag, scale))
    }

    /// `big.Int.Int64()` of the unscaled value: its low 64 bits, sign applied.
    fn unscaled_i64(&self) -> i64 {
        let v = self.mag.low_u64() as i64;
        if self.neg {
            v.wrapping_neg()
        } else {
            v
        }
    }

    /// `scaledValue(unscaled, scale, newScale)` from upstream's scale_int.go.
    fn scaled_value(&self, new_scale: i64) -> i64 {
        let dif = self.scale as i64 - new_scale;
        let u = self.unscaled_i64();
        if dif == 0 {
            return u;
        }
        if dif < 0 {
            return u.wrapping_mul(go_pow10_i64(-dif));
        }
        let below_max = self.neg || self.mag.to_u64().is_some_and(|m| m < i64::MAX as u64);
        if below_max && dif < 19 {
            // Truncating division, then +1 when inexact (also for negative values).
            let divide = 10i64.pow(dif as u32);
            let result = u.wrapping_div(divide);
            let m = u.wrapping_rem(divide);
            return if m != 0 {
                result.wrapping_add(1)
            } else {
                result
            };
        }
        // big.Int DivMod (Euclidean), +1 when the remainder is non-zero: a ceiling.
        let (low, rem) = match self.mag.to_u128() {
            // Allocation-free for magnitudes below 2^128 (all parsed int64-sized values).
            Some(m) => match 10u128.checked_pow(dif as u32).filter(|_| dif <= 38) {
                Some(d) => ((m / d) as u64 as i64, m % d != 0),
                None => (0, m != 0),
            },
            None => {
                let (q, rem) = self.mag.div_pow10(dif as u64);
                (q.low_u64() as i64, rem)
            }
        };
        if self.neg {
            low.wrapping_neg()
        } else if rem {
            low.wrapping_add(1)
        } else {
            low
        }
    }

    /// `infDecAmount.AsCanonicalBytes`: the signed mantissa without trailing zeros (as
    /// digits) and a base-10 exponent that is a multiple of three.
    fn canonical10(&self) -> (String, i32) {
        let mut m = self.mag.clone();
        let times = m.strip_pow10();
        let mut exponent = self.scale.wrapping_neg().wrapping_add(times as i32);
        while exponent % 3 != 0 {
            m.mul_add_small(10, 0);
            exponent = exponent.wrapping_sub(1);
        }
        let digits = m.to_decimal_string();
        if self.neg {
            (format!("-{digits}"), exponent)
        } else {
            (digits, exponent)
        }
    }

    /// The value ±m × 10^e with m free of factors of ten.
    fn normalized(&self) -> (bool, BigUint, i64) {
        let mut m = self.mag.clone();
        let times = m.strip_pow10();
        (self.neg, m, times as i64 - self.scale as i64)
    }

    /// `AsCanonicalBase1024Bytes` of an integral value: the mantissa and the number of 1024
    /// factors removed. `None` means "at least seven factors" (past `Ei`), which is decided
    /// without materialising huge numbers.
    fn canonical1024(&self) -> Option<(String, u32)> {
        let (neg, mut m, e) = self.normalized();
        if m.is_zero() {
            return Some(("0".to_string(), 0));
        }
        if !(0..70).contains(&e) {
            return None;
        }
        m.mul_pow10(e as u64);
        let times = m.trailing_zero_bits() / 10;
        m.shr(times * 10);
        let digits = m.to_decimal_string();
        let s = if neg { format!("-{digits}") } else { digits };
        Some((s, times as u32))
    }

    fn approximate_f64(&self) -> f64 {
        let base = self.mag.to_f64();
        let base = if self.neg { -base } else { base };
        let exponent = self.scale.wrapping_neg() as i64;
        if exponent == 0 {
            return base;
        }
        base * go_pow10_f64(exponent)
    }
}

// ---------------------------------------------------------------------------------------
// Amount: upstream's quantityState (int64Amount or inf.Dec)
// ---------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Amount {
    /// value × 10^scale
    Int {
        value: i64,
        scale: i32,
    },
    Dec(Dec),
}

impl Amount {
    fn to_dec(&self) -> Dec {
        match self {
            Amount::Int { value, scale } => Dec::from_i64(*value, *scale),
            Amount::Dec(d) => d.clone(),
        }
    }

    fn sign(&self) -> i32 {
        match self {
            Amount::Int { value, .. } => value.signum() as i32,
            Amount::Dec(d) => d.sign(),
        }
    }

    fn cmp(&self, other: &Amount) -> Ordering {
        if let (
            Amount::Int {
                value: a,
                scale: sa,
            },
            Amount::Int {
                value: b,
                scale: sb,
            },
        ) = (self, other)
        {
            if sa == sb {
                return a.cmp(b);
            }
            let diff = *sa as i64 - *sb as i64;
            if diff.abs() <= 18 {
                let (a, b) = (*a as i128, *b as i128);
                return if diff > 0 {
                    (a * 10i128.pow(diff as u32)).cmp(&b)
                } else {
                    a.cmp(&(b * 10i128.pow((-diff) as u32)))
                };
            }
            let (x, y) = (self.sign(), other.sign());
            if x != y || x == 0 {
                return x.cmp(&y);
            }
        }
        self.to_dec().cmp_value(&other.to_dec())
    }

    /// `AsScale`: rounds up to a minimum scale; true when no precision was lost.
    fn as_scale(&self, scale: i32) -> (Amount, bool) {
        match self {
            Amount::Int { value, scale: s } => {
                if *s >= scale {
                    return (self.clone(), true);
                }
                let (v, exact) = negative_scale_i64(*value, scale.wrapping_sub(*s));
                (Amount::Int { value: v, scale }, exact)
            }
            Amount::Dec(d) => {
                let (r, exact) = d.round_up(scale.wrapping_neg());
                (Amount::Dec(r), exact)
            }
        }
    }

    fn canonical10(&self) -> (String, i32) {
        match self {
            Amount::Int { value, scale } => {
                let (mut amount, times) = remove_i64_factors(*value, 10);
                let mut exponent = scale.wrapping_add(times);
                match exponent % 3 {
                    1 | -2 => match amount.checked_mul(10) {
                        Some(v) => {
                            amount = v;
                            exponent = exponent.wrapping_sub(1);
                        }
                        None => return self.to_dec().canonical10(),
                    },
                    2 | -1 => match amount.checked_mul(100) {
                        Some(v) => {
                            amount = v;
                            exponent = exponent.wrapping_sub(2);
                        }
                        None => return self.to_dec().canonical10(),
                    },
                    _ => {}
                }
                (amount.to_string(), exponent)
            }
            Amount::Dec(d) => d.canonical10(),
        }
    }

    /// Base-1024 canonical form of an amount already rounded to scale 0 (see
    /// [`Dec::canonical1024`] for `None`).
    fn canonical1024(&self) -> Option<(String, u32)> {
        match self {
            Amount::Int { value, scale } => match positive_scale_i64(*value, *scale) {
                (v, true) => {
                    let (amount, times) = remove_i64_factors(v, 1024);
                    Some((amount.to_string(), times as u32))
                }
                (_, false) => self.to_dec().canonical1024(),
            },
            Amount::Dec(d) => d.canonical1024(),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Quantity
// ---------------------------------------------------------------------------------------

/// An exact fixed-point quantity, as `resource.Quantity`. See the [module docs](self).
#[derive(Clone)]
pub struct Quantity {
    amount: Amount,
    format: Format,
    /// Upstream's `s`: the parsed string when it was already canonical.
    cached: Option<Arc<str>>,
}

impl Quantity {
    /// Zero, `DecimalSI`.
    pub fn zero() -> Quantity {
        Quantity::from_value(0, Format::DecimalSI)
    }

    /// `resource.NewQuantity(value, format)`.
    pub fn from_value(value: i64, format: Format) -> Quantity {
        Quantity {
            amount: Amount::Int { value, scale: 0 },
            format,
            cached: None,
        }
    }

    /// `resource.NewMilliQuantity(value, format)`: value / 1000.
    pub fn from_milli(value: i64, format: Format) -> Quantity {
        Quantity {
            amount: Amount::Int { value, scale: -3 },
            format,
            cached: None,
        }
    }

    /// `resource.NewScaledQuantity(value, scale)`: value × 10^scale, `DecimalSI`.
    pub fn from_scaled(value: i64, scale: i32) -> Quantity {
        Quantity {
            amount: Amount::Int { value, scale },
            format: Format::DecimalSI,
            cached: None,
        }
    }

    /// `resource.NewDecimalQuantity`: an exact decimal written `[+-]digits[.digits]`, with no
    /// rounding and no saturation (unlike [`Quantity::parse`]).
    pub fn from_decimal_str(value: &str, format: Format) -> Result<Quantity, QuantityError> {
        let d = Dec::set_string(value).ok_or(QuantityError::Numeric)?;
        Ok(Quantity {
            amount: Amount::Dec(d),
            format,
            cached: None,
        })
    }

    /// `resource.ParseQuantity`.
    pub fn parse(s: &str) -> Result<Quantity, QuantityError> {
        if s.is_empty() {
            return Err(QuantityError::FormatWrong);
        }
        if s == "0" {
            return Ok(Quantity {
                amount: Amount::Int { value: 0, scale: 0 },
                format: Format::DecimalSI,
                cached: Some(Arc::from("0")),
            });
        }
        let parts = parse_quantity_string(s)?;
        let (base, exponent, mut format) =
            interpret_suffix(parts.suffix).ok_or(QuantityError::Suffix)?;

        // The int64 fast path.
        let mut scale: i32 = 0;
        let mut mantissa: i64 = 1;
        let precision: i64 = match format {
            Format::DecimalExponent | Format::DecimalSI => {
                scale = exponent;
                18 - (parts.num.len() as i64 + parts.denom.len() as i64)
            }
            Format::BinarySI => {
                if exponent >= 0 && parts.denom.is_empty() {
                    mantissa = 1i64 << exponent;
                    15 - parts.num.len() as i64 - (exponent as i64 * 3 / 10) - 1
                } else {
                    -1
                }
            }
        };
        if precision >= 0 {
            scale = scale.wrapping_sub(parts.denom.len() as i32);
            if scale >= NANO {
                let mut shifted = String::with_capacity(parts.num.len() + parts.denom.len());
                shifted.push_str(parts.num);
                shifted.push_str(parts.denom);
                let value: i64 = shifted.parse().map_err(|_| QuantityError::Numeric)?;
                if let Some(mut result) = value.checked_mul(mantissa) {
                    if !parts.positive {
                        result = -result;
                    }
                    let canonical = match format {
                        Format::BinarySI => exponent % 10 == 0 && value & 0x07 != 0,
                        _ => {
                            scale % 3 == 0 && !shifted.ends_with("000") && !shifted.starts_with('0')
                        }
                    };
                    return Ok(Quantity {
                        amount: Amount::Int {
                            value: result,
                            scale,
                        },
                        format,
                        cached: canonical.then(|| Arc::from(s)),
                    });
                }
            }
        }

        // The arbitrary-precision path.
        let mut amount = Dec::set_string(parts.value).ok_or(QuantityError::Numeric)?;
        if base == 10 {
            amount.scale = amount.scale.wrapping_add(exponent.wrapping_neg());
        } else if base == 2 {
            amount.mag.shl(exponent as u32);
        }
        let negative = amount.neg;
        amount.neg = false;
        if !amount.mag.is_zero() {
            amount = amount.round_up(-NANO).0;
        }
        let max = Dec::new(false, BigUint::from_u64(i64::MAX as u64), 0);
        if format == Format::BinarySI && amount.cmp_abs(&max) == Ordering::Greater {
            amount = max;
        }
        let one = Dec::new(false, BigUint::from_u64(1), 0);
        if format == Format::BinarySI
            && !amount.mag.is_zero()
            && amount.cmp_abs(&one) == Ordering::Less
        {
            format = Format::DecimalSI;
        }
        if negative {
            amount = amount.negated();
        }
        Ok(Quantity {
            amount: Amount::Dec(amount),
            format,
            cached: None,
        })
    }

    /// The format this quantity prints in.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The string remembered from parsing, if upstream would have remembered it (the input
    /// was already in canonical form). [`Display`](fmt::Display) prints it when present.
    pub fn original_string(&self) -> Option<&str> {
        self.cached.as_deref()
    }

    /// True if the value is zero.
    pub fn is_zero(&self) -> bool {
        self.amount.sign() == 0
    }

    /// -1, 0 or 1.
    pub fn sign(&self) -> i32 {
        self.amount.sign()
    }

    /// `Value()`: the value rounded up (away from zero on the int64 path) to an integer.
    ///
    /// Like upstream, this can overflow silently: call it to check the magnitude before
    /// trusting [`Quantity::milli_value`].
    pub fn value(&self) -> i64 {
        self.scaled_value(0)
    }

    /// `MilliValue()`: ceil(q × 1000), with upstream's overflow behaviour.
    pub fn milli_value(&self) -> i64 {
        self.scaled_value(-3)
    }

    /// `ScaledValue(scale)`: the value in units of 10^scale, rounded up.
    ///
    /// Mirrors upstream exactly, including: an overflow on the int64 path returns 0; on the
    /// decimal path it returns the low 64 bits; and a negative non-integral value on the
    /// decimal path rounds toward +∞ plus one when fewer than 19 digits are dropped
    /// (so `-1.5Gi`-style values can read one higher than expected).
    pub fn scaled_value(&self, scale: i32) -> i64 {
        match &self.amount {
            Amount::Int { value, scale: s } => {
                if *s < scale {
                    negative_scale_i64(*value, scale.wrapping_sub(*s)).0
                } else {
                    positive_scale_i64(*value, s.wrapping_sub(scale)).0
                }
            }
            Amount::Dec(d) => d.scaled_value(scale.wrapping_neg() as i64),
        }
    }

    /// `AsInt64()`: the value as an i64 when the fast representation allows an exact
    /// conversion (the decimal representation always answers `None`, as upstream).
    pub fn as_int64(&self) -> Option<i64> {
        match &self.amount {
            Amount::Int { value, scale } => {
                if *scale == 0 {
                    Some(*value)
                } else if *scale < 0 {
                    None
                } else {
                    match positive_scale_i64(*value, *scale) {
                        (v, true) => Some(v),
                        _ => None,
                    }
                }
            }
            Amount::Dec(_) => None,
        }
    }

    /// `AsApproximateFloat64()` (v1.31): may lose precision; ±inf when out of range.
    pub fn as_approximate_f64(&self) -> f64 {
        match &self.amount {
            Amount::Int { value, scale } => {
                let base = *value as f64;
                if *scale == 0 {
                    return base;
                }
                base * go_pow10_f64(*scale as i64)
            }
            Amount::Dec(d) => d.approximate_f64(),
        }
    }

    /// `CmpInt64(y)`.
    pub fn cmp_int64(&self, y: i64) -> Ordering {
        self.amount.cmp(&Amount::Int { value: y, scale: 0 })
    }

    /// `Neg()`: negates in place.
    pub fn neg(&mut self) {
        self.cached = None;
        self.amount = match &self.amount {
            Amount::Int { value, scale } => Amount::Int {
                value: value.wrapping_neg(),
                scale: *scale,
            },
            Amount::Dec(d) => Amount::Dec(d.negated()),
        };
    }

    /// `Add(y)`: adds in place. A zero receiver takes `y`'s format.
    ///
    /// Exact, except where the two amounts' scales differ by more than 20,000 decimal places
    /// (e.g. `1e100000` + `1`): then the operand with the larger magnitude is kept as the
    /// result, instead of building a number with that many digits.
    pub fn add(&mut self, y: &Quantity) {
        self.cached = None;
        if let (
            Amount::Int {
                value: a,
                scale: sa,
            },
            Amount::Int {
                value: b,
                scale: sb,
            },
        ) = (&self.amount, &y.amount)
        {
            if *a == 0 {
                self.format = y.format;
            }
            if let Some((v, s)) = int_add(*a, *sa, *b, *sb) {
                self.amount = Amount::Int { value: v, scale: s };
                return;
            }
        } else if self.is_zero() {
            self.format = y.format;
        }
        self.amount = Amount::Dec(self.amount.to_dec().add(&y.amount.to_dec()));
    }

    /// `Sub(y)`: subtracts in place. A zero receiver takes `y`'s format. Same limits as
    /// [`Quantity::add`]; like upstream, subtracting an int64 amount of `i64::MIN` adds it.
    pub fn sub(&mut self, y: &Quantity) {
        self.cached = None;
        if self.is_zero() {
            self.format = y.format;
        }
        if let (
            Amount::Int {
                value: a,
                scale: sa,
            },
            Amount::Int {
                value: b,
                scale: sb,
            },
        ) = (&self.amount, &y.amount)
        {
            if let Some((v, s)) = int_add(*a, *sa, b.wrapping_neg(), *sb) {
                self.amount = Amount::Int { value: v, scale: s };
                return;
            }
        }
        self.amount = Amount::Dec(self.amount.to_dec().add(&y.amount.to_dec().negated()));
    }

    /// `Mul(y)`: multiplies in place; false if the result is inexact in upstream's sense
    /// (the decimal's unscaled value no longer fits an int64).
    pub fn mul(&mut self, y: i64) -> bool {
        self.cached = None;
        if let Amount::Int { value, scale } = self.amount {
            if let Some(a) = int_mul(value, scale, y) {
                self.amount = a;
                return true;
            }
        }
        let mut d = self.amount.to_dec();
        d.mag.mul_u64(y.unsigned_abs());
        let d = Dec::new(d.neg != (y < 0), d.mag, d.scale);
        let fits = if d.neg {
            d.mag <= BigUint::from_u64(1u64 << 63)
        } else {
            d.mag <= BigUint::from_u64(i64::MAX as u64)
        };
        self.amount = Amount::Dec(d);
        fits
    }

    /// `RoundUp(scale)`: rounds away from zero to a multiple of 10^scale in place; true if no
    /// precision was lost.
    pub fn round_up(&mut self, scale: i32) -> bool {
        match &self.amount {
            Amount::Dec(d) => {
                self.cached = None;
                let (r, exact) = d.round_up(scale.wrapping_neg());
                self.amount = Amount::Dec(r);
                exact
            }
            Amount::Int { scale: s, .. } => {
                if *s >= scale {
                    return true;
                }
                self.cached = None;
                let (a, exact) = self.amount.as_scale(scale);
                self.amount = a;
                exact
            }
        }
    }

    /// `String()` ignoring any remembered original string: upstream's `CanonicalizeBytes`.
    pub fn canonical_string(&self) -> String {
        if self.is_zero() {
            return "0".to_string();
        }
        let mut format = self.format;
        let mut rounded = None;
        if format == Format::BinarySI {
            if self.cmp_int64(-1024) == Ordering::Greater && self.cmp_int64(1024) == Ordering::Less
            {
                format = Format::DecimalSI;
            } else {
                let (r, exact) = self.amount.as_scale(0);
                if exact {
                    rounded = Some(r);
                } else {
                    format = Format::DecimalSI;
                }
            }
        }
        if let Some(r) = rounded {
            if let Some((number, exp1024)) = r.canonical1024() {
                if let Some(suffix) = binary_si_suffix(exp1024) {
                    return number + suffix;
                }
            }
            // Past Ei: the exact base-10 form in exponent notation.
            let (number, exponent) = self.amount.canonical10();
            return number + &exponent_suffix(exponent);
        }
        let (number, exponent) = self.amount.canonical10();
        match format {
            Format::DecimalSI => match decimal_si_suffix(exponent) {
                Some(suffix) => number + suffix,
                None => number + &exponent_suffix(exponent),
            },
            _ => number + &exponent_suffix(exponent),
        }
    }

    /// The value as (negative, mantissa without factors of ten, exponent).
    fn normalized(&self) -> (bool, BigUint, i64) {
        match &self.amount {
            Amount::Int { value, scale } => {
                let mut m = value.unsigned_abs();
                let mut e = *scale as i64;
                if m == 0 {
                    return (false, BigUint::zero(), 0);
                }
                while m % 10 == 0 {
                    m /= 10;
                    e += 1;
                }
                (*value < 0, BigUint::from_u64(m), e)
            }
            Amount::Dec(d) => {
                if d.mag.is_zero() {
                    return (false, BigUint::zero(), 0);
                }
                d.normalized()
            }
        }
    }
}

/// `int64Amount.Add` (with `int64Add` overflow checks): None when upstream falls back to
/// the decimal representation.
fn int_add(a: i64, sa: i32, b: i64, sb: i32) -> Option<(i64, i32)> {
    if b == 0 {
        return Some((a, sa));
    }
    if a == 0 {
        return Some((b, sb));
    }
    match sa.cmp(&sb) {
        Ordering::Equal => a.checked_add(b).map(|v| (v, sa)),
        Ordering::Greater => {
            let (c, ok) = positive_scale_i64(a, sa.wrapping_sub(sb));
            if !ok {
                return None;
            }
            c.checked_add(b).map(|v| (v, sb))
        }
        Ordering::Less => {
            let (c, ok) = positive_scale_i64(b, sb.wrapping_sub(sa));
            if !ok {
                return None;
            }
            a.checked_add(c).map(|v| (v, sa))
        }
    }
}

/// `int64Amount.Mul`.
fn int_mul(value: i64, scale: i32, b: i64) -> Option<Amount> {
    if value == 0 {
        return Some(Amount::Int { value, scale });
    }
    if b == 0 {
        return Some(Amount::Int { value: 0, scale: 0 });
    }
    let c = value.checked_mul(b)?;
    if scale > 0 {
        if !positive_scale_i64(c, scale).1 {
            return None;
        }
    } else if scale < 0 && !negative_scale_i64(c, scale.wrapping_neg()).1 {
        return None;
    }
    Some(Amount::Int { value: c, scale })
}

impl Default for Quantity {
    fn default() -> Self {
        Quantity::zero()
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.cached {
            Some(s) => f.write_str(s),
            None => f.write_str(&self.canonical_string()),
        }
    }
}

impl fmt::Debug for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Quantity({:?}, {})", self.to_string(), self.format)
    }
}

impl FromStr for Quantity {
    type Err = QuantityError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Quantity::parse(s)
    }
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Quantity {}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Ordered by value (upstream `Cmp`); the format does not take part.
impl Ord for Quantity {
    fn cmp(&self, other: &Self) -> Ordering {
        self.amount.cmp(&other.amount)
    }
}

/// Consistent with `Eq`: equal values hash alike whatever their representation or format.
impl Hash for Quantity {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.normalized().hash(state);
    }
}

impl std::ops::Neg for Quantity {
    type Output = Quantity;
    fn neg(mut self) -> Quantity {
        Quantity::neg(&mut self);
        self
    }
}

impl std::ops::AddAssign<&Quantity> for Quantity {
    fn add_assign(&mut self, rhs: &Quantity) {
        Quantity::add(self, rhs);
    }
}

impl std::ops::SubAssign<&Quantity> for Quantity {
    fn sub_assign(&mut self, rhs: &Quantity) {
        Quantity::sub(self, rhs);
    }
}

impl std::ops::Add<&Quantity> for &Quantity {
    type Output = Quantity;
    fn add(self, rhs: &Quantity) -> Quantity {
        let mut q = self.clone();
        Quantity::add(&mut q, rhs);
        q
    }
}

impl std::ops::Sub<&Quantity> for &Quantity {
    type Output = Quantity;
    fn sub(self, rhs: &Quantity) -> Quantity {
        let mut q = self.clone();
        Quantity::sub(&mut q, rhs);
        q
    }
}

/// Serialises as the string [`Display`](fmt::Display) gives (upstream `MarshalJSON`).
impl Serialize for Quantity {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

/// Deserialises from a string (surrounding whitespace trimmed, as upstream) or from a
/// number, like upstream's `UnmarshalJSON`. Integers are exact. A float arrives here as an
/// `f64` (serde does not keep the JSON text) and is read from its shortest decimal form, so
/// `1.5` gives `1500m` as upstream, but `1e3` gives `1k` where upstream keeps the exponent
/// form (`1e3`). `null` gives zero.
impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Quantity;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a quantity string or number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Quantity, E> {
                Quantity::parse(v.trim()).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Quantity, E> {
                Quantity::parse(&v.to_string()).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Quantity, E> {
                Quantity::parse(&v.to_string()).map_err(E::custom)
            }
            fn visit_i128<E: de::Error>(self, v: i128) -> Result<Quantity, E> {
                Quantity::parse(&v.to_string()).map_err(E::custom)
            }
            fn visit_u128<E: de::Error>(self, v: u128) -> Result<Quantity, E> {
                Quantity::parse(&v.to_string()).map_err(E::custom)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Quantity, E> {
                if !v.is_finite() {
                    return Err(E::custom(QuantityError::Numeric));
                }
                Quantity::parse(&format!("{v}")).map_err(E::custom)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Quantity, E> {
                Ok(Quantity::zero())
            }
            fn visit_none<E: de::Error>(self) -> Result<Quantity, E> {
                Ok(Quantity::zero())
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn q(s: &str) -> Quantity {
        Quantity::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn canonical_strings() {
        for (input, want) in [
            ("1.5", "1500m"),
            ("1.5Gi", "1536Mi"),
            ("1024Mi", "1Gi"),
            ("1000", "1k"),
            ("0.1m", "100u"),
            ("1E3", "1E3"),
            ("+1k", "+1k"),
            ("1000E", "1e21"),
            ("-1000E", "-1e21"),
            ("100000000000000000000000000000000000000000000", "100e42"),
            ("1e-3", "1e-3"),
            ("2000Ki", "2000Ki"),
            ("9Ei", "9223372036854775807"),
            ("-9Ei", "-9223372036854775807"),
            ("0.5Ki", "512"),
            ("-", "0"),
            ("Ki", "0"),
        ] {
            assert_eq!(q(input).to_string(), want, "{input}");
        }
    }

    #[test]
    fn constructed_strings() {
        assert_eq!(
            Quantity::from_milli(1500, Format::DecimalSI).to_string(),
            "1500m"
        );
        assert_eq!(
            Quantity::from_value(2000, Format::BinarySI).to_string(),
            "2000"
        );
        assert_eq!(
            Quantity::from_value(2048, Format::BinarySI).to_string(),
            "2Ki"
        );
        assert_eq!(
            Quantity::from_value(i64::MIN, Format::BinarySI).to_string(),
            "-9223372036854775808"
        );
        assert_eq!(Quantity::from_scaled(1, -12).to_string(), "1e-12");
        assert_eq!(Quantity::from_scaled(1, -10).to_string(), "100e-12");
        let two70 = Quantity::from_decimal_str("1180591620717411303424", Format::BinarySI).unwrap();
        assert_eq!(two70.to_string(), "1180591620717411303424");
        let mut ei = q("1Ei");
        assert!(!ei.mul(1024), "2^70 × 10^9 no longer fits an int64");
        assert_eq!(ei.to_string(), "1180591620717411303424");
        let big = Quantity::from_decimal_str("1e0", Format::BinarySI);
        assert!(big.is_err());
        let mut ten70 = Quantity::from_scaled(1, 70);
        ten70 = Quantity {
            format: Format::BinarySI,
            ..ten70
        };
        assert_eq!(ten70.to_string(), "10e69");
    }

    #[test]
    fn values() {
        assert_eq!(q("100m").milli_value(), 100);
        assert_eq!(q("100m").value(), 1);
        assert_eq!(q("-100m").value(), -1);
        assert_eq!(q("1.5Gi").value(), 1_610_612_736);
        assert_eq!(q("0.5Ki").milli_value(), 512_000);
        assert_eq!(q("1n").value(), 1);
        assert_eq!(q("12E").value(), 0, "int64 overflow reads 0");
        assert_eq!(q("9Ei").value(), i64::MAX);
        // the decimal path's negative rounding quirk: -1.5 reads 0, not -2
        let neg = Quantity::from_decimal_str("-1.5", Format::DecimalSI).unwrap();
        assert_eq!(neg.value(), 0);
        assert_eq!(q("-1.5").value(), -2);
        // Overflowing decimal amounts read as their low 64 bits, as upstream's big.Int.Int64().
        let big = q("123456789012345678901234567890");
        assert_eq!(big.value(), -4362896299872285998);
        assert_eq!(big.milli_value(), 8982045596877734992);
        // (negative ones take the int64 fast path on the wrapped low bits, as upstream does)
        assert_eq!(q("-123456789012345678901234567890").value(), 6134004773);
        let huge = q("123456789012345678901234567890123456789012345678901234567890");
        assert_eq!(huge.value(), huge.clone().value());
        assert_eq!(q("1.5").as_int64(), None);
        assert_eq!(q("15k").as_int64(), Some(15000));
        assert_eq!(q("1.5").as_approximate_f64(), 1.5);
        assert_eq!(q("1.5Gi").as_approximate_f64(), 1_610_612_736.0);
    }

    #[test]
    fn arithmetic_and_order() {
        let mut a = q("100m");
        a.add(&q("1"));
        assert_eq!(a.to_string(), "1100m");
        a.sub(&q("2"));
        assert_eq!(a.to_string(), "-900m");
        let mut z = Quantity::zero();
        z.add(&q("1Gi"));
        assert_eq!(z.format(), Format::BinarySI);
        assert!(q("1Gi") > q("1G"));
        assert_eq!(q("1000m"), q("1"));
        assert_eq!(q("1e3"), q("1k"));
        let mut big = q("1e100000");
        big.add(&q("1"));
        assert_eq!(big, q("1e100000"));
        let mut huge = q("123456789012345678901234567890");
        huge.add(&q("1"));
        assert_eq!(huge.to_string(), "123456789012345678901234567891");
        let mut m = q("500m");
        assert!(!m.mul(3) || m.to_string() == "1500m");
        assert_eq!(m.to_string(), "1500m");
        use std::collections::hash_map::DefaultHasher;
        let h = |x: &Quantity| {
            let mut s = DefaultHasher::new();
            x.hash(&mut s);
            s.finish()
        };
        assert_eq!(h(&q("1000m")), h(&q("1")));
        assert_eq!(h(&q("1.5Gi")), h(&q("1536Mi")));
    }

    #[test]
    fn serde_round_trip() {
        let x: Quantity = serde_json::from_str("\" 100m \"").unwrap();
        assert_eq!(x.to_string(), "100m");
        let x: Quantity = serde_json::from_str("2").unwrap();
        assert_eq!(x.to_string(), "2");
        let x: Quantity = serde_json::from_str("1.5").unwrap();
        assert_eq!(x.to_string(), "1500m");
        assert_eq!(serde_json::to_string(&q("1.5Gi")).unwrap(), "\"1536Mi\"");
        assert!(serde_json::from_str::<Quantity>("\"1.1.M\"").is_err());
    }

    #[test]
    fn never_panics_on_odd_input() {
        for s in [
            "e",
            "E-",
            "1e",
            "1e+",
            "1e-2147483648",
            "1.5e-2147483648",
            "1e4294967296",
            "1e9223372036854775807",
            "1e99999999999999999999",
            "-.",
            ".",
            "+",
            "--1",
            "1..",
            "٣",
            "1Ki€",
            "1e2147483647",
            "0.000000000000000000000000000001e-2147483647",
            "99999999999999999999e2147483647",
        ] {
            if let Ok(x) = Quantity::parse(s) {
                let _ = x.to_string();
                let _ = x.value();
                let _ = x.milli_value();
                let _ = x.as_approximate_f64();
                let mut y = x.clone();
                y.add(&q("1"));
                y.sub(&x);
                let _ = y.to_string();
                let _ = x.cmp(&q("1"));
            }
        }
    }
}
