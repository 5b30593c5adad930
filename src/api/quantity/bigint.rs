//! A small arbitrary-precision unsigned integer, just big enough for
//! [`super::Quantity`]: decimal parsing and printing, shifts, multiplication
//! by small factors, division by powers of ten, comparison, addition and
//! subtraction. Limbs are `u32`, least significant first, with no trailing
//! zero limbs (so zero is the empty vector).

use std::cmp::Ordering;

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct BigUint {
    limbs: Vec<u32>,
}

const BILLION: u32 = 1_000_000_000;

impl BigUint {
    pub(crate) fn zero() -> Self {
        BigUint { limbs: Vec::new() }
    }

    pub(crate) fn from_u64(v: u64) -> Self {
        let mut b = BigUint {
            limbs: vec![v as u32, (v >> 32) as u32],
        };
        b.normalize();
        b
    }

    /// Parses a string of ASCII digits (the caller checks that they are
    /// digits). Leading zeros are allowed; the empty string is zero.
    pub(crate) fn from_ascii_digits(digits: &[u8]) -> Self {
        let mut b = BigUint::zero();
        let mut i = 0;
        // Consume nine digits at a time.
        let head = digits.len() % 9;
        if head > 0 {
            b.mul_add_small(1, chunk_value(&digits[..head]));
            i = head;
        }
        while i < digits.len() {
            b.mul_add_small(BILLION, chunk_value(&digits[i..i + 9]));
            i += 9;
        }
        b
    }

    fn normalize(&mut self) {
        while let Some(&0) = self.limbs.last() {
            self.limbs.pop();
        }
    }

    pub(crate) fn is_zero(&self) -> bool {
        self.limbs.is_empty()
    }

    pub(crate) fn bits(&self) -> u64 {
        match self.limbs.last() {
            None => 0,
            Some(&top) => (self.limbs.len() as u64 - 1) * 32 + (32 - top.leading_zeros() as u64),
        }
    }

    pub(crate) fn to_u64(&self) -> Option<u64> {
        if self.limbs.len() > 2 {
            return None;
        }
        Some(self.low_u64())
    }

    pub(crate) fn to_u128(&self) -> Option<u128> {
        if self.limbs.len() > 4 {
            return None;
        }
        let mut v: u128 = 0;
        for (i, &l) in self.limbs.iter().enumerate() {
            v |= (l as u128) << (32 * i);
        }
        Some(v)
    }

    /// The low 64 bits (the value modulo 2^64).
    pub(crate) fn low_u64(&self) -> u64 {
        let lo = self.limbs.first().copied().unwrap_or(0) as u64;
        let hi = self.limbs.get(1).copied().unwrap_or(0) as u64;
        lo | (hi << 32)
    }

    /// self = self * m + a
    pub(crate) fn mul_add_small(&mut self, m: u32, a: u32) {
        let mut carry = a as u64;
        for limb in self.limbs.iter_mut() {
            let v = (*limb as u64) * (m as u64) + carry;
            *limb = v as u32;
            carry = v >> 32;
        }
        if carry > 0 {
            self.limbs.push(carry as u32);
        }
        self.normalize();
    }

    pub(crate) fn mul_u64(&mut self, m: u64) {
        let lo = m as u32;
        let hi = (m >> 32) as u32;
        if hi == 0 {
            self.mul_add_small(lo, 0);
            return;
        }
        let mut high = self.clone();
        high.mul_add_small(hi, 0);
        high.shl(32);
        self.mul_add_small(lo, 0);
        *self = self.add(&high);
    }

    /// Divides in place by `d` (non-zero) and returns the remainder.
    pub(crate) fn divmod_small(&mut self, d: u32) -> u32 {
        let mut rem: u64 = 0;
        for limb in self.limbs.iter_mut().rev() {
            let cur = (rem << 32) | (*limb as u64);
            *limb = (cur / d as u64) as u32;
            rem = cur % d as u64;
        }
        self.normalize();
        rem as u32
    }

    /// Multiplies by 10^k.
    pub(crate) fn mul_pow10(&mut self, k: u64) {
        if self.is_zero() {
            return;
        }
        let mut k = k;
        while k >= 9 {
            self.mul_add_small(BILLION, 0);
            k -= 9;
        }
        if k > 0 {
            self.mul_add_small(10u32.pow(k as u32), 0);
        }
    }

    /// Truncating division by 10^k; also says whether the remainder is non-zero.
    pub(crate) fn div_pow10(&self, k: u64) -> (BigUint, bool) {
        if self.is_zero() {
            return (BigUint::zero(), false);
        }
        // 10^k > self when k is at least the number of decimal digits.
        if k >= self.decimal_digits() {
            return (BigUint::zero(), true);
        }
        let mut q = self.clone();
        let mut rem = false;
        let mut k = k;
        while k >= 9 {
            rem |= q.divmod_small(BILLION) != 0;
            k -= 9;
        }
        if k > 0 {
            rem |= q.divmod_small(10u32.pow(k as u32)) != 0;
        }
        (q, rem)
    }

    /// The remainder of a division by `d` (non-zero), leaving `self` untouched.
    fn rem_small(&self, d: u32) -> u32 {
        let mut rem: u64 = 0;
        for &limb in self.limbs.iter().rev() {
            rem = ((rem << 32) | limb as u64) % d as u64;
        }
        rem as u32
    }

    /// Removes all factors of ten and returns how many were removed.
    pub(crate) fn strip_pow10(&mut self) -> u64 {
        if self.is_zero() {
            return 0;
        }
        let mut count = 0u64;
        while self.rem_small(BILLION) == 0 {
            self.divmod_small(BILLION);
            count += 9;
        }
        while self.rem_small(10) == 0 {
            self.divmod_small(10);
            count += 1;
        }
        count
    }

    pub(crate) fn trailing_zero_bits(&self) -> u64 {
        let mut n = 0u64;
        for &l in &self.limbs {
            if l == 0 {
                n += 32;
            } else {
                return n + l.trailing_zeros() as u64;
            }
        }
        n
    }

    /// Shifts right by `bits` (a truncating division by 2^bits).
    pub(crate) fn shr(&mut self, bits: u64) {
        let limbs = (bits / 32) as usize;
        let rest = (bits % 32) as u32;
        if limbs >= self.limbs.len() {
            self.limbs.clear();
            return;
        }
        self.limbs.drain(..limbs);
        if rest > 0 {
            let n = self.limbs.len();
            for i in 0..n {
                let hi = if i + 1 < n { self.limbs[i + 1] } else { 0 };
                self.limbs[i] = (self.limbs[i] >> rest) | (hi << (32 - rest));
            }
        }
        self.normalize();
    }

    /// Shifts left by `bits` (a multiplication by 2^bits).
    pub(crate) fn shl(&mut self, bits: u32) {
        if self.is_zero() {
            return;
        }
        let limbs = (bits / 32) as usize;
        let rest = bits % 32;
        if rest > 0 {
            let mut carry = 0u32;
            for limb in self.limbs.iter_mut() {
                let v = *limb;
                *limb = (v << rest) | carry;
                carry = v >> (32 - rest);
            }
            if carry > 0 {
                self.limbs.push(carry);
            }
        }
        if limbs > 0 {
            let mut v = vec![0u32; limbs];
            v.extend_from_slice(&self.limbs);
            self.limbs = v;
        }
    }

    pub(crate) fn add(&self, other: &BigUint) -> BigUint {
        let (long, short) = if self.limbs.len() >= other.limbs.len() {
            (self, other)
        } else {
            (other, self)
        };
        let mut out = Vec::with_capacity(long.limbs.len() + 1);
        let mut carry = 0u64;
        for i in 0..long.limbs.len() {
            let v = long.limbs[i] as u64 + short.limbs.get(i).copied().unwrap_or(0) as u64 + carry;
            out.push(v as u32);
            carry = v >> 32;
        }
        if carry > 0 {
            out.push(carry as u32);
        }
        let mut b = BigUint { limbs: out };
        b.normalize();
        b
    }

    /// self - other; the caller guarantees self >= other.
    pub(crate) fn sub(&self, other: &BigUint) -> BigUint {
        let mut out = Vec::with_capacity(self.limbs.len());
        let mut borrow = 0i64;
        for i in 0..self.limbs.len() {
            let mut v =
                self.limbs[i] as i64 - other.limbs.get(i).copied().unwrap_or(0) as i64 - borrow;
            if v < 0 {
                v += 1 << 32;
                borrow = 1;
            } else {
                borrow = 0;
            }
            out.push(v as u32);
        }
        let mut b = BigUint { limbs: out };
        b.normalize();
        b
    }

    pub(crate) fn decimal_digits(&self) -> u64 {
        if self.is_zero() {
            return 1;
        }
        self.to_decimal_string().len() as u64
    }

    pub(crate) fn to_decimal_string(&self) -> String {
        if self.is_zero() {
            return "0".to_string();
        }
        if let Some(v) = self.to_u64() {
            return v.to_string();
        }
        let mut chunks = Vec::new();
        let mut t = self.clone();
        while !t.is_zero() {
            chunks.push(t.divmod_small(BILLION));
        }
        let mut s = String::with_capacity(chunks.len() * 9);
        let mut iter = chunks.iter().rev();
        if let Some(first) = iter.next() {
            s.push_str(&first.to_string());
        }
        for c in iter {
            s.push_str(&format!("{c:09}"));
        }
        s
    }

    /// The value rounded to the nearest f64 (ties to even), +inf if too large.
    pub(crate) fn to_f64(&self) -> f64 {
        let bits = self.bits();
        if bits <= 64 {
            return self.low_u64() as f64;
        }
        let shift = bits - 64;
        let sticky = self.trailing_zero_bits() < shift;
        let mut top = self.clone();
        top.shr(shift);
        let mut t = top.low_u64();
        if sticky {
            t |= 1;
        }
        let base = t as f64;
        if shift > 1023 {
            return f64::INFINITY;
        }
        base * f64::from_bits((1023 + shift) << 52)
    }
}

fn chunk_value(digits: &[u8]) -> u32 {
    digits.iter().fold(0u32, |acc, &d| {
        acc * 10 + (d.wrapping_sub(b'0') as u32 % 10)
    })
}

impl Ord for BigUint {
    fn cmp(&self, other: &Self) -> Ordering {
        self.limbs
            .len()
            .cmp(&other.limbs.len())
            .then_with(|| self.limbs.iter().rev().cmp(other.limbs.iter().rev()))
    }
}

impl PartialOrd for BigUint {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::BigUint;

    #[test]
    fn round_trips_decimal_strings() {
        for s in [
            "0",
            "1",
            "4294967296",
            "18446744073709551616",
            "123456789012345678901234567890",
            "1000000000000000000000000000000000000",
        ] {
            let b = BigUint::from_ascii_digits(s.as_bytes());
            assert_eq!(b.to_decimal_string(), s);
        }
        assert_eq!(
            BigUint::from_ascii_digits(b"000123").to_decimal_string(),
            "123"
        );
    }

    #[test]
    fn pow10_and_shifts() {
        let mut b = BigUint::from_u64(7);
        b.mul_pow10(30);
        assert_eq!(b.to_decimal_string(), format!("7{}", "0".repeat(30)));
        let (q, rem) = b.div_pow10(29);
        assert_eq!(q.to_decimal_string(), "70");
        assert!(!rem);
        let (q, rem) = b.div_pow10(31);
        assert_eq!(q.to_decimal_string(), "0");
        assert!(rem);
        let mut s = b.clone();
        assert_eq!(s.strip_pow10(), 30);
        assert_eq!(s.to_decimal_string(), "7");
        let mut one = BigUint::from_u64(1);
        one.shl(70);
        assert_eq!(one.to_decimal_string(), "1180591620717411303424");
        assert_eq!(one.trailing_zero_bits(), 70);
        one.shr(69);
        assert_eq!(one.to_u64(), Some(2));
        let mut a = BigUint::from_u64(u64::MAX);
        a.mul_u64(u64::MAX);
        assert_eq!(
            a.to_decimal_string(),
            (u64::MAX as u128 * u64::MAX as u128).to_string()
        );
        let c = a.add(&BigUint::from_u64(1));
        assert_eq!(c.sub(&BigUint::from_u64(1)), a);
        let mut p = BigUint::from_u64(1);
        p.shl(100);
        assert_eq!(p.to_f64(), 2f64.powi(100));
    }
}
