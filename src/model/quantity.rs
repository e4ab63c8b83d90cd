//! Kubernetes resource quantities (`10Gi`, `500m`, `1.5e3`), with the results of
//! apimachinery's `resource.ParseQuantity`, `Quantity.Cmp`, `Value`,
//! `MilliValue` and `NewQuantity(n, BinarySI).String()`
//! (k8s.io/apimachinery/pkg/api/resource), because the operator's webhook
//! decides with those and the policy must reach the same verdicts.
//!
//! apimachinery keeps a parsed quantity in one of two forms, and `Value()` /
//! `MilliValue()` overflow differently in each (an `int64Amount` answers 0, an
//! `inf.Dec` answers the low 64 bits). So [`Quantity`] records which form the
//! parser chose, and carries the exact decimal value besides: comparisons are
//! exact for every input, and the int64 accessors reproduce Go's results, wrap
//! and all, without ever materialising a huge number. Hand-written (no regex,
//! no big-integer crate): the module stays small and nothing here allocates
//! more than a few bytes per input digit.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;

use crate::text::quote;

/// The grammar apimachinery states for a quantity; its first error quotes it.
pub const QUANTITY_GRAMMAR: &str = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$";

/// apimachinery's three parse errors, in its words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuantityError {
    /// `ErrFormatWrong`.
    Format,
    /// `ErrSuffix`.
    Suffix,
    /// `ErrNumeric`.
    Numeric,
}

impl fmt::Display for QuantityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QuantityError::Format => write!(
                f,
                "quantities must match the regular expression '{QUANTITY_GRAMMAR}'"
            ),
            QuantityError::Suffix => f.write_str("unable to parse quantity's suffix"),
            QuantityError::Numeric => f.write_str("unable to parse numeric part of quantity"),
        }
    }
}

/// A parsed quantity. Equality and order are by value (Go's `Equal` and
/// `Cmp`): `1.5Gi == 1536Mi`.
#[derive(Debug, Clone)]
pub struct Quantity {
    repr: Repr,
}

impl Ord for Quantity {
    /// `Quantity.Cmp`, exact for every pair (Go's own materialises numbers with
    /// billions of digits for the largest exponents; the answer is the same).
    fn cmp(&self, other: &Quantity) -> Ordering {
        self.decimal().cmp_value(&other.decimal())
    }
}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Quantity) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Quantity) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for Quantity {}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Repr {
    /// Go's `int64Amount`, `value × 10^scale`: the parser's fast path.
    Scaled { value: i64, scale: i32 },
    /// Go's `inf.Dec` from the slow path: the exact value, rounded away from
    /// zero to whole nanos (Go stores it with 9 decimal places).
    Rounded(Decimal),
    /// A binary-SI value beyond ±(2^63−1), which Go caps there (and stores with
    /// no decimal places).
    Capped { negative: bool },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    DecimalExponent,
    BinarySi,
    DecimalSi,
}

/// The pieces the scanner cuts a quantity into (Go's `parseQuantityString`).
struct Parts<'a> {
    positive: bool,
    /// Sign, integer and fraction as written (what Go hands `inf.Dec`).
    value: &'a [u8],
    /// Integer digits without leading zeros, `"0"` when there are none.
    num: &'a [u8],
    /// Fraction digits.
    denom: &'a [u8],
    suffix: &'a [u8],
}

const SUFFIX_LETTERS: &[u8] = b"eEinumkKMGTP";

fn scan(s: &[u8]) -> Result<Parts<'_>, QuantityError> {
    let end = s.len();
    let mut pos = 0;
    let mut positive = true;
    match s.first() {
        Some(b'-') => {
            positive = false;
            pos = 1;
        }
        Some(b'+') => pos = 1,
        _ => {}
    }
    while pos < end && s[pos] == b'0' {
        pos += 1;
    }
    if pos >= end {
        // Only a sign and zeros (or only a sign): zero, as Go has it.
        return Ok(Parts {
            positive,
            value: b"0",
            num: b"0",
            denom: b"",
            suffix: b"",
        });
    }
    let num_start = pos;
    while pos < end && s[pos].is_ascii_digit() {
        pos += 1;
    }
    if pos >= end {
        return Ok(Parts {
            positive,
            value: s,
            num: &s[num_start..],
            denom: b"",
            suffix: b"",
        });
    }
    let num = match &s[num_start..pos] {
        [] => &b"0"[..],
        digits => digits,
    };
    let mut denom: &[u8] = b"";
    if s[pos] == b'.' {
        pos += 1;
        let denom_start = pos;
        while pos < end && s[pos].is_ascii_digit() {
            pos += 1;
        }
        if pos >= end {
            return Ok(Parts {
                positive,
                value: s,
                num,
                denom: &s[denom_start..],
                suffix: b"",
            });
        }
        denom = &s[denom_start..pos];
    }
    let value = &s[..pos];
    let suffix_start = pos;
    while pos < end && SUFFIX_LETTERS.contains(&s[pos]) {
        pos += 1;
    }
    if pos < end && (s[pos] == b'-' || s[pos] == b'+') {
        pos += 1;
    }
    while pos < end && s[pos].is_ascii_digit() {
        pos += 1;
    }
    if pos < end {
        return Err(QuantityError::Format);
    }
    Ok(Parts {
        positive,
        value,
        num,
        denom,
        suffix: &s[suffix_start..],
    })
}

/// Base (2 or 10), exponent and format of a suffix (Go's `suffixer.interpret`).
fn interpret(suffix: &[u8]) -> Option<(u32, i32, Format)> {
    use Format::*;
    let found = match suffix {
        b"" => (10, 0, DecimalSi),
        b"n" => (10, -9, DecimalSi),
        b"u" => (10, -6, DecimalSi),
        b"m" => (10, -3, DecimalSi),
        b"k" => (10, 3, DecimalSi),
        b"M" => (10, 6, DecimalSi),
        b"G" => (10, 9, DecimalSi),
        b"T" => (10, 12, DecimalSi),
        b"P" => (10, 15, DecimalSi),
        b"E" => (10, 18, DecimalSi),
        b"Ki" => (2, 10, BinarySi),
        b"Mi" => (2, 20, BinarySi),
        b"Gi" => (2, 30, BinarySi),
        b"Ti" => (2, 40, BinarySi),
        b"Pi" => (2, 50, BinarySi),
        b"Ei" => (2, 60, BinarySi),
        [b'e' | b'E', exponent @ ..] if !exponent.is_empty() => {
            // strconv.ParseInt(…, 10, 64), then Go's int32() conversion,
            // which keeps the low 32 bits.
            let exponent: i64 = std::str::from_utf8(exponent).ok()?.parse().ok()?;
            (10, exponent as i32, DecimalExponent)
        }
        _ => return None,
    };
    Some(found)
}

/// The largest magnitude Go keeps for a binary-SI quantity.
const MAX_I64: i64 = i64::MAX;

impl Quantity {
    /// `resource.ParseQuantity`.
    pub fn parse(text: &str) -> Result<Quantity, QuantityError> {
        let s = text.as_bytes();
        if s.is_empty() {
            return Err(QuantityError::Format);
        }
        if s == b"0" {
            return Ok(Quantity::scaled(0, 0));
        }
        let parts = scan(s)?;
        let (base, exponent, format) = interpret(parts.suffix).ok_or(QuantityError::Suffix)?;

        // The fast path: at most 18 significant digits and no sub-nano digit
        // give an int64Amount. Go computes the scale in int32 and lets it wrap.
        let significant = parts.num.len() + parts.denom.len();
        let (mut scale, precision, mantissa): (i32, i64, i64) = match format {
            Format::DecimalExponent | Format::DecimalSi => (exponent, 18 - significant as i64, 1),
            Format::BinarySi if exponent >= 0 && parts.denom.is_empty() => (
                0,
                15 - parts.num.len() as i64 - i64::from(exponent) * 3 / 10 - 1,
                1i64 << exponent,
            ),
            Format::BinarySi => (0, -1, 1),
        };
        if precision >= 0 {
            scale = scale.wrapping_sub(parts.denom.len() as i32);
            if scale >= -9 {
                let shifted = parts.num.iter().chain(parts.denom);
                let mut value: i64 = 0;
                for digit in shifted {
                    // At most 18 digits: never overflows.
                    value = value * 10 + i64::from(digit - b'0');
                }
                if let Some(result) = value.checked_mul(mantissa) {
                    let result = if parts.positive { result } else { -result };
                    return Ok(Quantity::scaled(result, scale));
                }
            }
        }

        // The slow path (Go: inf.Dec): the exact value, rounded up to nanos.
        let digits: Vec<u8> = parts
            .value
            .iter()
            .filter(|b| b.is_ascii_digit())
            .map(|b| b - b'0')
            .collect();
        if digits.is_empty() {
            return Err(QuantityError::Numeric);
        }
        let fraction_len = parts.denom.len() as i32;
        let mut decimal = if base == 10 {
            // inf.Dec's scale, int32 like Go's: fraction digits minus the exponent.
            let inf_scale = fraction_len.wrapping_add(exponent.wrapping_neg());
            Decimal::new(!parts.positive, digits, -i64::from(inf_scale))
        } else {
            let mut decimal = Decimal::new(!parts.positive, digits, -i64::from(fraction_len));
            for _ in 0..exponent / 10 {
                decimal.multiply(1024);
            }
            decimal
        };
        decimal.round_away_from_zero_to_nanos();
        if format == Format::BinarySi
            && decimal
                .cmp_magnitude(&Decimal::from_i64(MAX_I64, 0))
                .is_gt()
        {
            return Ok(Quantity {
                repr: Repr::Capped {
                    negative: decimal.negative,
                },
            });
        }
        Ok(Quantity {
            repr: Repr::Rounded(decimal),
        })
    }

    fn scaled(value: i64, scale: i32) -> Quantity {
        Quantity {
            repr: Repr::Scaled { value, scale },
        }
    }

    /// The exact value.
    fn decimal(&self) -> Cow<'_, Decimal> {
        match &self.repr {
            Repr::Scaled { value, scale } => Cow::Owned(Decimal::from_i64(*value, *scale)),
            Repr::Rounded(decimal) => Cow::Borrowed(decimal),
            Repr::Capped { negative } => {
                let mut max = Decimal::from_i64(MAX_I64, 0);
                max.negative = *negative;
                Cow::Owned(max)
            }
        }
    }

    pub fn is_negative(&self) -> bool {
        self.decimal().negative
    }

    /// `Value()`: whole units, rounded up; overflows like Go's.
    pub fn value(&self) -> i64 {
        self.scaled_value(0)
    }

    /// `MilliValue()`: thousandths, rounded up; overflows like Go's.
    pub fn milli_value(&self) -> i64 {
        self.scaled_value(-3)
    }

    /// Go's `ScaledValue(target)`: the value in units of 10^target.
    fn scaled_value(&self, target: i32) -> i64 {
        match &self.repr {
            Repr::Scaled { value, scale } => {
                // int64Amount.AsScaledInt64.
                if *scale < target {
                    divide_rounding_away(*value, (target - *scale) as u32)
                } else {
                    multiply_by_power_of_ten(*value, scale.wrapping_sub(target))
                }
            }
            // scaledValue(2^63−1, scale 0, -target): exact for Value, and
            // MilliValue multiplies in int64, wrapping.
            Repr::Capped { negative } => {
                let max = if *negative { -MAX_I64 } else { MAX_I64 };
                max.wrapping_mul(10i64.pow((-target) as u32))
            }
            Repr::Rounded(decimal) => decimal.go_scaled_value(9 + target),
        }
    }
}

/// `negativeScaleInt64`: `value / 10^places`, rounded away from zero.
fn divide_rounding_away(value: i64, places: u32) -> i64 {
    let Some(divisor) = 10i64.checked_pow(places) else {
        return if value == 0 { 0 } else { value.signum() };
    };
    let quotient = value / divisor;
    if value % divisor == 0 {
        quotient
    } else {
        quotient + value.signum()
    }
}

/// `positiveScaleInt64`: `value × 10^places`, as Go's `ScaledValue` uses it.
/// Go multiplies by 10, 100, 1000, 10^6 and 10^9 in one step and keeps the
/// wrapped product on overflow, but multiplies by other powers ten at a time and
/// answers 0 on overflow; a negative count (reached through an int32 wrap)
/// multiplies by nothing.
fn multiply_by_power_of_ten(value: i64, places: i32) -> i64 {
    match places {
        i32::MIN..=0 => value,
        1 | 2 | 3 | 6 | 9 if value == i64::MIN => 0,
        1 | 2 | 3 | 6 | 9 => value.wrapping_mul(10i64.pow(places as u32)),
        _ => {
            let mut product = value;
            for _ in 0..places {
                if product == 0 {
                    break;
                }
                match product.checked_mul(10) {
                    Some(next) => product = next,
                    None => return 0,
                }
            }
            product
        }
    }
}

/// `resource.NewQuantity(value, resource.BinarySI).String()`: the largest
/// binary suffix that keeps the value whole (`8960Mi`, `150272Ki`), and
/// decimal notation between −1024 and 1024 (`512`, `1k`).
pub fn format_binary_si(value: i64) -> String {
    if value == 0 {
        return "0".to_owned();
    }
    if -1024 < value && value < 1024 {
        let (mut amount, mut exponent) = remove_factors(value, 10);
        match exponent % 3 {
            1 => {
                amount *= 10;
                exponent -= 1;
            }
            2 => {
                amount *= 100;
                exponent -= 2;
            }
            _ => {}
        }
        let suffix = if exponent == 3 { "k" } else { "" };
        return format!("{amount}{suffix}");
    }
    let (amount, exponent) = remove_factors(value, 1024);
    let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
        .get(exponent as usize)
        .copied()
        .unwrap_or("");
    format!("{amount}{suffix}")
}

/// `removeInt64Factors`: `value == amount × base^times`; `i64::MIN` unchanged,
/// as in Go, where its negation wraps.
fn remove_factors(value: i64, base: i64) -> (i64, u32) {
    let negative = value < 0;
    let mut amount = value.wrapping_abs();
    let mut times = 0;
    while amount >= base && amount % base == 0 {
        times += 1;
        amount /= base;
    }
    (
        if negative {
            amount.wrapping_neg()
        } else {
            amount
        },
        times,
    )
}

/// A quantity as written, for a message: as is when it is short plain text
/// (every valid quantity is), else quoted and cut like other user input.
pub fn shown(text: &str) -> Cow<'_, str> {
    let plain = text.len() <= crate::text::MAX_QUOTED_CHARS
        && text
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\');
    if plain {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(quote(text))
    }
}

/// An exact decimal `±digits × 10^exponent`, normalised: no leading or trailing
/// zero digit, and zero is no digits and not negative.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Decimal {
    negative: bool,
    /// Most significant first, each 0..=9.
    digits: Vec<u8>,
    exponent: i64,
}

impl Decimal {
    fn new(negative: bool, digits: Vec<u8>, exponent: i64) -> Decimal {
        let mut decimal = Decimal {
            negative,
            digits,
            exponent,
        };
        decimal.normalise();
        decimal
    }

    fn from_i64(value: i64, scale: i32) -> Decimal {
        let mut magnitude = value.unsigned_abs();
        let mut digits = Vec::with_capacity(20);
        while magnitude > 0 {
            digits.push((magnitude % 10) as u8);
            magnitude /= 10;
        }
        digits.reverse();
        Decimal::new(value < 0, digits, i64::from(scale))
    }

    fn normalise(&mut self) {
        let leading = self.digits.iter().take_while(|&&d| d == 0).count();
        self.digits.drain(..leading);
        while self.digits.last() == Some(&0) {
            self.digits.pop();
            self.exponent += 1;
        }
        if self.digits.is_empty() {
            self.negative = false;
            self.exponent = 0;
        }
    }

    fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    /// The power of ten just above the leading digit (`123e0` → 3).
    fn magnitude_order(&self) -> i64 {
        self.digits.len() as i64 + self.exponent
    }

    fn cmp_magnitude(&self, other: &Decimal) -> Ordering {
        match (self.is_zero(), other.is_zero()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            (false, false) => {}
        }
        // Normalised: a longer integer part is larger, then digit by digit,
        // and of two equal prefixes the one with more (non-zero) digits.
        self.magnitude_order()
            .cmp(&other.magnitude_order())
            .then_with(|| self.digits.cmp(&other.digits))
    }

    fn cmp_value(&self, other: &Decimal) -> Ordering {
        match (self.negative, other.negative) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => self.cmp_magnitude(other),
            (true, true) => other.cmp_magnitude(self),
        }
    }

    fn multiply(&mut self, factor: u32) {
        let mut carry: u64 = 0;
        for digit in self.digits.iter_mut().rev() {
            let product = u64::from(*digit) * u64::from(factor) + carry;
            *digit = (product % 10) as u8;
            carry = product / 10;
        }
        let mut high = Vec::new();
        while carry > 0 {
            high.push((carry % 10) as u8);
            carry /= 10;
        }
        high.reverse();
        self.digits.splice(0..0, high);
        self.normalise();
    }

    /// Go's `amount.Round(amount, 9, inf.RoundUp)` on the magnitude.
    fn round_away_from_zero_to_nanos(&mut self) {
        if self.is_zero() || self.exponent >= -9 {
            return;
        }
        let dropped = (-9 - self.exponent) as u64;
        if dropped >= self.digits.len() as u64 {
            // Everything is below a nano, and it is not zero: one nano.
            self.digits = vec![1];
        } else {
            // The dropped digits end in a non-zero one: add one at the last kept.
            self.digits.truncate(self.digits.len() - dropped as usize);
            let mut position = self.digits.len();
            loop {
                if position == 0 {
                    self.digits.insert(0, 1);
                    break;
                }
                position -= 1;
                if self.digits[position] == 9 {
                    self.digits[position] = 0;
                } else {
                    self.digits[position] += 1;
                    break;
                }
            }
        }
        self.exponent = -9;
        self.normalise();
    }

    /// The integer `digits[..len] × 10^zeros` modulo 2^64 (Go's `big.Int.Int64`
    /// keeps these bits).
    fn low_bits(digits: &[u8], zeros: i64) -> u64 {
        let mut bits: u64 = 0;
        for &digit in digits {
            bits = bits.wrapping_mul(10).wrapping_add(u64::from(digit));
        }
        // 10^64 is a multiple of 2^64.
        for _ in 0..zeros.clamp(0, 64) {
            bits = bits.wrapping_mul(10);
        }
        bits
    }

    /// Go's `scaledValue(unscaled, 9, 9 - places)` for this value stored with
    /// 9 decimal places: `unscaled = self × 10^9` divided by `10^places`,
    /// rounded "up" the way Go does it, to int64.
    fn go_scaled_value(&self, places: i32) -> i64 {
        if self.is_zero() {
            return 0;
        }
        // The unscaled integer is `digits × 10^(exponent + 9)`; rounding to nanos
        // made that exponent non-negative.
        let unscaled_zeros = self.exponent + 9;
        let max = Decimal::from_i64(MAX_I64, -9);
        let below_max = self.negative || self.cmp_magnitude(&max).is_lt();
        if below_max {
            // Go: unscaled.Int64(), then int64 `/` and `%`, plus one when the
            // remainder is not zero (towards +∞ for positive values, one past
            // truncation for negative ones).
            let bits = Decimal::low_bits(&self.digits, unscaled_zeros) as i64;
            let unscaled = if self.negative {
                bits.wrapping_neg()
            } else {
                bits
            };
            let divisor = 10i64.pow(places as u32);
            let quotient = unscaled / divisor;
            return if unscaled % divisor != 0 {
                quotient + 1
            } else {
                quotient
            };
        }
        // Go: big.Int DivMod (a positive value here), plus one on a remainder,
        // then the low 64 bits.
        let zeros = unscaled_zeros - i64::from(places);
        let bits = if zeros >= 0 {
            Decimal::low_bits(&self.digits, zeros)
        } else {
            // Normalised digits end in a non-zero one: the division leaves a
            // remainder.
            let kept = (self.digits.len() as i64 + zeros).max(0) as usize;
            Decimal::low_bits(&self.digits[..kept], 0).wrapping_add(1)
        };
        bits as i64
    }
}

#[cfg(test)]
mod tests;
