//! Quantities against apimachinery. The rstest tables port the expectations of
//! apimachinery's `quantity_test.go` (TestQuantityParse, TestParseQuantity,
//! TestQuantityCmp, TestQuantityString, TestQuantityParseEmit) and add the
//! cases this policy's rules meet. The files in `tests/data/quantity/` hold
//! about 4,000 more expectations that apimachinery's own code computed (its
//! `pkg/api/resource` at commit eed236ce, run with Go 1.19 on apimachinery's
//! test inputs, this module's edge cases and random strings); they are data,
//! not code, and every line is checked below.

use std::cmp::Ordering;

use proptest::prelude::*;
use rstest::rstest;

use super::*;

impl Quantity {
    /// The exact value as plain decimal text (`-0.5`, `1536`).
    fn exact(&self) -> String {
        let decimal = self.decimal();
        if decimal.is_zero() {
            return "0".to_owned();
        }
        let digits: String = decimal
            .digits
            .iter()
            .map(|d| char::from(b'0' + d))
            .collect();
        let sign = if decimal.negative { "-" } else { "" };
        let exponent = decimal.exponent;
        if exponent >= 0 {
            return format!("{sign}{digits}{}", "0".repeat(exponent as usize));
        }
        let fraction_len = (-exponent) as usize;
        if fraction_len >= digits.len() {
            let zeros = "0".repeat(fraction_len - digits.len());
            format!("{sign}0.{zeros}{digits}")
        } else {
            let (int, fraction) = digits.split_at(digits.len() - fraction_len);
            format!("{sign}{int}.{fraction}")
        }
    }
}

fn parse(text: &str) -> Quantity {
    Quantity::parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

const FORMAT: &str =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
const SUFFIX: &str = "unable to parse quantity's suffix";
const NUMERIC: &str = "unable to parse numeric part of quantity";

#[test]
fn error_texts_are_apimachinerys() {
    assert_eq!(QuantityError::Format.to_string(), FORMAT);
    assert_eq!(QuantityError::Suffix.to_string(), SUFFIX);
    assert_eq!(QuantityError::Numeric.to_string(), NUMERIC);
}

// TestQuantityParse's table (exact values), then this policy's cases.
#[rstest]
#[case::zero("0", "0")]
#[case::zero_nano("0n", "0")]
#[case::zero_kibi("0Ki", "0")]
#[case::zero_tera("0T", "0")]
#[case::plain("1", "1")]
#[case::kibi("8Ki", "8192")]
#[case::mebi("7Mi", "7340032")]
#[case::gibi("6Gi", "6442450944")]
#[case::tebi("5Ti", "5497558138880")]
#[case::pebi("4Pi", "4503599627370496")]
#[case::exbi("3Ei", "3458764513820540928")]
#[case::hundred_tebi("100Ti", "109951162777600")]
#[case::nano("5n", "0.000000005")]
#[case::micro("4u", "0.000004")]
#[case::milli("3m", "0.003")]
#[case::kilo("50k", "50000")]
#[case::mega("7M", "7000000")]
#[case::giga("6G", "6000000000")]
#[case::tera("300T", "300000000000000")]
#[case::peta("2P", "2000000000000000")]
#[case::exa("1E", "1000000000000000000")]
#[case::exponent_negative("1E-3", "0.001")]
#[case::exponent("1e3", "1000")]
#[case::exponent_18("1E18", "1000000000000000000")]
#[case::fraction_kilo("100.035k", "100035")]
#[case::fraction("0.0005k", "0.5")]
#[case::trailing_zeros("0.50000", "0.5")]
#[case::fraction_exponent("0.5e-2", "0.005")]
#[case::plus_exponent("1.3E+6", "1300000")]
#[case::fraction_exa("1.01E", "1010000000000000000")]
#[case::rounds_up_nano("3.001n", "0.000000004")]
#[case::rounds_up_exponent("1.1E-9", "0.000000002")]
#[case::below_a_nano("0.0000000001", "0.000000001")]
#[case::below_a_nano_exponent("0.5e-9", "0.000000001")]
#[case::rounds_up_micro("0.00000012345", "0.000000124")]
#[case::capped_exbi("9Ei", "9223372036854775807")]
#[case::capped_kibi("9223372036854775807Ki", "9223372036854775807")]
#[case::twelve_exa("12E", "12000000000000000000")]
#[case::fraction_kibi("100.035Ki", "102435.84")]
#[case::half_mebi("0.5Mi", "524288")]
#[case::fraction_gibi("0.05Gi", "53687091.2")]
#[case::fraction_tebi("0.025Ti", "27487790694.4")]
#[case::troll_kibi("0.000000000001Ki", "0.000000002")]
#[case::troll_leading_dot(".001", "0.001")]
#[case::troll_trailing_dot("1.", "1")]
#[case::troll_dot_suffix("1.G", "1000000000")]
// TestParseQuantityString: a lone dot, signed or not, is zero.
#[case::dot(".", "0")]
#[case::signed_dot("-.", "0")]
// TestParseQuantity: around 2^63 nothing is capped but binary suffixes.
#[case::int64_max_plus_one("9223372036854775808", "9223372036854775808")]
#[case::int64_min_minus_one("-9223372036854775809.1", "-9223372036854775809.1")]
#[case::twenty_digits_exa("10.0000000000000000001E", "10000000000000000000.1")]
// The edge cases.
#[case::gibi_as_mebi("1.5Gi", "1610612736")]
#[case::half_gibi("0.5Gi", "536870912")]
#[case::plus("+1Gi", "1073741824")]
#[case::minus("-1Gi", "-1073741824")]
#[case::kibi_is_1024("1Ki", "1024")]
#[case::kilo_is_1000("1k", "1000")]
#[case::milli_bytes("128m", "0.128")]
#[case::bare_sign("+", "0")]
#[case::bare_minus("-", "0")]
#[case::exponent_wraps_at_32_bits("1e4294967297", "10")]
fn parses_to_the_exact_value(#[case] text: &str, #[case] exact: &str) {
    assert_eq!(parse(text).exact(), exact, "{text}");
}

// TestQuantityParse's invalid inputs, then this policy's cases, with the error
// apimachinery gives each.
#[rstest]
#[case::empty("", FORMAT)]
#[case::two_dots("1.1.M", FORMAT)]
#[case::inner_sign("1+1.0M", FORMAT)]
#[case::lowercase_mebi("0.1mi", SUFFIX)]
#[case::unknown_letter("0.1am", FORMAT)]
#[case::word("aoeu", FORMAT)]
#[case::bare_i(".5i", SUFFIX)]
#[case::one_i("1i", SUFFIX)]
#[case::negative_i("-3.01i", SUFFIX)]
#[case::dangling_exponent_sign("-3.01e-", SUFFIX)]
#[case::leading_space(" 1", FORMAT)]
#[case::trailing_space("1 ", FORMAT)]
// Upstream webhook tests' invalid sizes.
#[case::not_a_quantity("not-a-quantity", FORMAT)]
#[case::abc("abc", FORMAT)]
// The edge cases.
#[case::exponent_and_suffix("1E3Mi", FORMAT)]
#[case::uppercase_kibi("1KI", FORMAT)]
#[case::kilo_uppercase("1K", SUFFIX)]
#[case::lowercase_e_alone("1e", SUFFIX)]
#[case::exponent_without_digits("1e+", SUFFIX)]
#[case::double_exponent("1ee3", SUFFIX)]
#[case::exponent_out_of_int64("1e9223372036854775808", SUFFIX)]
#[case::no_digits_below_a_nano(".e-10", NUMERIC)]
#[case::sign_only_below_a_nano("-e-10", NUMERIC)]
#[case::unicode_digit("١", FORMAT)]
#[case::comma("1,5", FORMAT)]
#[case::hex("0x10", FORMAT)]
fn refuses_like_apimachinery(#[case] text: &str, #[case] error: &str) {
    assert_eq!(
        Quantity::parse(text).map(|q| q.exact()),
        Err(match error {
            FORMAT => QuantityError::Format,
            SUFFIX => QuantityError::Suffix,
            _ => QuantityError::Numeric,
        })
    );
}

// Value() and MilliValue(), rounded up; the overflowing ones answer what Go's
// int64Amount (0) and inf.Dec (the low 64 bits) answer.
#[rstest]
#[case::gibi("1Gi", 1073741824, 1073741824000)]
#[case::cpu("500m", 1, 500)]
#[case::cpu_cores("2", 2, 2000)]
#[case::fraction_up("1.5", 2, 1500)]
#[case::negative_fraction_away_from_zero("-1.5", -2, -1500)]
#[case::milli_bytes("128m", 1, 128)]
#[case::below_a_milli("0.0001m", 1, 1)]
#[case::fractional_kibi("100.035Ki", 102436, 102435840)]
#[case::exa_milli_overflows("1E", 1000000000000000000, 0)]
#[case::int64_amount_overflow("1e19", 0, 0)]
#[case::capped("9Ei", i64::MAX, -1000)]
#[case::capped_negative("-9Ei", -i64::MAX, 1000)]
#[case::one_step_multiply_wraps("-999999999999999999", -999999999999999999, -3875820019684211736)]
#[case::negative_pebi_garbage("-1Pi", -2882303760, -2882303761516)]
#[case::dec_low_bits("99999999999999999999E", -312600448599326720, 994200653735657472)]
#[case::dec_negative_rounds_towards_zero("-1.0000000000000000001", 0, -999)]
#[case::scale_wraps_in_milli("1e2147483647", 0, 1)]
#[case::fraction_scale_wraps("0.1e-2147483648", 0, 1)]
fn values_like_go(#[case] text: &str, #[case] value: i64, #[case] milli: i64) {
    let q = parse(text);
    assert_eq!((q.value(), q.milli_value()), (value, milli), "{text}");
}

// TestQuantityCmp, then the rules' cases.
#[rstest]
#[case::zeros("0", "0", Ordering::Equal)]
#[case::millis("100m", "50m", Ordering::Greater)]
#[case::millis_less("50m", "100m", Ordering::Less)]
#[case::tera_over_gibi("10000T", "100Gi", Ordering::Greater)]
#[case::same_size_two_ways("1.5Gi", "1536Mi", Ordering::Equal)]
#[case::gibi_as_mebi("10Gi", "10240Mi", Ordering::Equal)]
#[case::shrink("10Gi", "20Gi", Ordering::Less)]
#[case::kibi_over_kilo("1Ki", "1k", Ordering::Greater)]
#[case::exponent_is_kilo("1e3", "1k", Ordering::Equal)]
#[case::negative_zero("-0", "0", Ordering::Equal)]
#[case::sign("-1Gi", "1Mi", Ordering::Less)]
#[case::negatives("-2", "-1", Ordering::Less)]
#[case::capped_equals_max("9Ei", "9223372036854775807", Ordering::Equal)]
#[case::beyond_int64("99999999999999999999", "99999999999999999998", Ordering::Greater)]
#[case::rounded_to_nanos("1e-10", "1n", Ordering::Equal)]
// Go's own Cmp never returns for the next two (it builds a number with
// billions of digits); this is the mathematical answer.
#[case::huge_exponents("1e2147483647", "1e2147483646", Ordering::Greater)]
#[case::huge_against_small("1e2147483647", "9Ei", Ordering::Greater)]
#[case::fraction_exponent_wraps_to_huge("0.1e-2147483648", "9Ei", Ordering::Greater)]
fn compares_exactly(#[case] left: &str, #[case] right: &str, #[case] expected: Ordering) {
    assert_eq!(parse(left).cmp(&parse(right)), expected);
    assert_eq!(parse(right).cmp(&parse(left)), expected.reverse());
}

// TestQuantityString's and TestQuantityParseEmit's BinarySI whole numbers, and
// the amounts of upstream's resource messages.
#[rstest]
#[case::gibi(1 << 30, "1Gi")]
#[case::three_hundred_mebi(300 << 20, "300Mi")]
#[case::kibi(6 << 10, "6Ki")]
#[case::gibi_not_tebi(1001 << 30, "1001Gi")]
#[case::tebi(1 << 40, "1Ti")]
#[case::small(5, "5")]
#[case::not_a_kibi_multiple(1025, "1025")]
#[case::zero(0, "0")]
#[case::decimal_kilo_below_1024(1000, "1k")]
#[case::just_below_kibi(1023, "1023")]
#[case::negative_kibi(-2048, "-2Ki")]
#[case::gateway_of_4gi(805306368, "768Mi")]
#[case::sum_of_upstream_test(9395240960, "8960Mi")]
#[case::reservation_of_upstream_test(153878528, "150272Ki")]
#[case::int64_min(i64::MIN, "-9223372036854775808")]
#[case::int64_max(i64::MAX, "9223372036854775807")]
fn formats_bytes_like_binary_si(#[case] bytes: i64, #[case] expected: &str) {
    assert_eq!(format_binary_si(bytes), expected);
}

#[rstest]
#[case::valid("10Gi", "10Gi")]
#[case::invalid_plain("abc", "abc")]
#[case::quote_inside("a\"b", "\"a\\\"b\"")]
#[case::control("1\nGi", "\"1\\nGi\"")]
#[case::space("1 Gi", "\"1 Gi\"")]
#[case::long(&"9".repeat(65), &format!("\"{}…\"", "9".repeat(64)))]
fn shows_user_text_safely(#[case] text: &str, #[case] expected: &str) {
    assert_eq!(shown(text), expected);
}

fn data_lines(file: &'static str) -> impl Iterator<Item = Vec<&'static str>> {
    file.lines()
        .filter(|line| !line.starts_with('#'))
        .map(|line| line.split('\t').collect())
}

#[test]
fn parses_as_apimachinery_computed() {
    let mut checked = 0;
    for fields in data_lines(include_str!("../../../tests/data/quantity/parse.tsv")) {
        let input = fields[0];
        match (Quantity::parse(input), &fields[1..]) {
            (Ok(q), ["ok", value, milli, rest @ ..]) => {
                assert_eq!(q.value().to_string(), *value, "Value({input:?})");
                assert_eq!(q.milli_value().to_string(), *milli, "MilliValue({input:?})");
                if let [exact] = rest {
                    assert_eq!(q.exact(), *exact, "exact value of {input:?}");
                }
            }
            (Err(e), ["err", kind]) => {
                let expected = match *kind {
                    "format" => QuantityError::Format,
                    "suffix" => QuantityError::Suffix,
                    _ => QuantityError::Numeric,
                };
                assert_eq!(e, expected, "error of {input:?}");
            }
            (got, expected) => panic!("{input:?}: got {got:?}, Go gave {expected:?}"),
        }
        checked += 1;
    }
    assert!(checked > 2500, "{checked}");
}

#[test]
fn compares_as_apimachinery_computed() {
    let mut checked = 0;
    for fields in data_lines(include_str!("../../../tests/data/quantity/cmp.tsv")) {
        let [left, right, expected] = fields[..] else {
            panic!("{fields:?}");
        };
        let expected = match expected {
            "-1" => Ordering::Less,
            "0" => Ordering::Equal,
            _ => Ordering::Greater,
        };
        assert_eq!(
            parse(left).cmp(&parse(right)),
            expected,
            "{left} vs {right}"
        );
        checked += 1;
    }
    assert!(checked > 1500, "{checked}");
}

#[test]
fn formats_as_apimachinery_computed() {
    let mut checked = 0;
    for fields in data_lines(include_str!("../../../tests/data/quantity/binary_si.tsv")) {
        let [bytes, expected] = fields[..] else {
            panic!("{fields:?}");
        };
        assert_eq!(
            format_binary_si(bytes.parse().unwrap()),
            expected,
            "{bytes}"
        );
        checked += 1;
    }
    assert!(checked > 250, "{checked}");
}

proptest! {
    #[test]
    fn parsing_never_panics(text in ".{0,40}") {
        if let Ok(q) = Quantity::parse(&text) {
            let _ = (q.value(), q.milli_value(), q.cmp(&q));
        }
    }

    #[test]
    fn parsing_quantity_shaped_text_never_panics(text in "[+-]?[0-9.]{0,25}[eEinumkKMGTP]{0,3}[-+]?[0-9]{0,12}") {
        if let Ok(q) = Quantity::parse(&text) {
            prop_assert_eq!(q.cmp(&q), Ordering::Equal);
            let _ = (q.value(), q.milli_value());
        }
    }

    // Go's own Value() of large negative binary quantities is garbage
    // ("-1Pi" gives -2882303760), hence the two ranges.
    #[test]
    fn binary_si_text_parses_back(bytes in prop_oneof![0..(1i64 << 62), -(1i64 << 33)..0]) {
        prop_assert_eq!(parse(&format_binary_si(bytes)).value(), bytes);
    }

    #[test]
    fn comparison_agrees_with_integers(a in any::<i64>(), b in any::<i64>()) {
        prop_assert_eq!(parse(&a.to_string()).cmp(&parse(&b.to_string())), a.cmp(&b));
    }
}
