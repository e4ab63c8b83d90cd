//! The envelope arithmetic. Upstream's `resource_split_test.go` (the split
//! table, with the chart's defaults) and `TestValidateResources` plus the
//! webhook's "resource envelope validation" specs are ported as `upstream_*`
//! cases; the float and overflow expectations were computed by Go.

use rstest::rstest;

use super::*;

fn container<'a>(memory: &'a str, cpu: &'a str) -> ContainerResources<'a> {
    ContainerResources { memory, cpu }
}

fn pod<'a>(memory: &'a str, cpu: &'a str, monitoring: bool) -> PodResources<'a> {
    PodResources {
        envelope: container(memory, cpu),
        monitoring,
        ..PodResources::default()
    }
}

fn problems<'a>(pod: &PodResources<'a>) -> Vec<EnvelopeProblem<'a>> {
    envelope_problems(pod, &SidecarReservations::default()).collect()
}

fn problems_with<'a>(
    pod: &PodResources<'a>,
    reservations: SidecarReservations,
) -> Vec<EnvelopeProblem<'a>> {
    envelope_problems(pod, &reservations).collect()
}

const REQUIRED_MEMORY: EnvelopeProblem = EnvelopeProblem::EnvelopeRequired {
    dimension: Dimension::Memory,
};
const REQUIRED_CPU: EnvelopeProblem = EnvelopeProblem::EnvelopeRequired {
    dimension: Dimension::Cpu,
};

fn no_room(dimension: Dimension, envelope: &str, reserved: i64) -> EnvelopeProblem<'_> {
    EnvelopeProblem::NoRoomForPostgres {
        dimension,
        envelope,
        reserved,
    }
}

fn exceeds<'a>(
    dimension: Dimension,
    envelope: &'a str,
    database: &'a str,
    total: i64,
) -> EnvelopeProblem<'a> {
    EnvelopeProblem::ExceedsEnvelope {
        dimension,
        envelope,
        database,
        total,
    }
}

const MI: i64 = 1 << 20;
const GI: i64 = 1 << 30;

// TestComputeResourceSplit_ProductionRows and _MonitoringCarvesOTel: the
// gateway's share and what is left for PostgreSQL, as the operator prints them.
#[rstest]
#[case::upstream_m20("4Gi", false, "768Mi", "3328Mi")]
#[case::upstream_m50("32Gi", false, "6Gi", "26Gi")]
#[case::upstream_m60("64Gi", false, "12Gi", "52Gi")]
#[case::upstream_m200_capped("256Gi", false, "32Gi", "224Gi")]
#[case::upstream_monitoring_carves_otel("16Gi", true, "3Gi", "13184Mi")]
fn upstream_split_arithmetic(
    #[case] envelope: &str,
    #[case] monitoring: bool,
    #[case] gateway: &str,
    #[case] postgres: &str,
) {
    let reservations = SidecarReservations::default();
    let envelope = memory_bytes(envelope);
    let share = gateway_memory_reservation(envelope, &reservations);
    let otel = if monitoring {
        reservations.otel_memory_limit
    } else {
        0
    };
    assert_eq!(format_binary_si(share), gateway);
    assert_eq!(format_binary_si(envelope - share - otel), postgres);
}

// TestComputeResourceSplit_CPUCarvedWithMonitoring: 4 cores less the
// collector's 50m request.
#[test]
fn upstream_cpu_carved_with_monitoring() {
    let reservations = SidecarReservations::default();
    assert_eq!(cpu_millis("4") - reservations.otel_cpu_request, 3950);
}

// int64(float64(envelope) × fraction), computed by Go.
#[rstest]
#[case::four_gibi(4 * GI, 0.1875, 805306368)]
#[case::upstream_tiny_envelope(100 * MI, 0.1875, 19660800)]
#[case::truncates(GI, 0.1, 107374182)]
#[case::truncates_odd(GI - 1, 0.1875, 201326591)]
#[case::inexact_product(999999999999, 0.3, 299999999999)]
#[case::float_rounds_the_envelope(9007199254740993, 1.0, 9007199254740992)]
#[case::largest_envelope(i64::MAX, 0.99, 9131138316486227968)]
#[case::small_to_zero(7, 0.1, 0)]
#[case::negative(-GI, 0.1875, -201326592)]
#[case::fraction_zero(4 * GI, 0.0, 0)]
#[case::fraction_one(4 * GI, 1.0, 4 * GI)]
fn gateway_share_truncates_like_go(
    #[case] envelope: i64,
    #[case] fraction: f64,
    #[case] expected: i64,
) {
    let reservations = SidecarReservations {
        gateway_memory_fraction: fraction,
        gateway_memory_cap: 0,
        ..SidecarReservations::default()
    };
    assert_eq!(
        gateway_memory_reservation(envelope, &reservations),
        expected
    );
}

#[rstest]
#[case::capped(256 * GI, 32 * GI, 32 * GI)]
#[case::below_the_cap(4 * GI, 32 * GI, 768 * MI)]
#[case::no_cap(256 * GI, 0, 48 * GI)]
#[case::negative_cap_is_no_cap(256 * GI, -1, 48 * GI)]
fn gateway_share_is_capped(#[case] envelope: i64, #[case] cap: i64, #[case] expected: i64) {
    let reservations = SidecarReservations {
        gateway_memory_cap: cap,
        ..SidecarReservations::default()
    };
    assert_eq!(
        gateway_memory_reservation(envelope, &reservations),
        expected
    );
}

// TestValidateResources and the webhook's "resource envelope validation".
#[rstest]
#[case::upstream_envelope_set_valid(pod("16Gi", "", false), vec![])]
#[case::upstream_explicit_envelope(pod("8Gi", "", false), vec![])]
#[case::upstream_omitted_fully_specified_memory(
    PodResources { gateway: container("512Mi", ""), database: container("4Gi", ""), ..pod("", "", false) },
    vec![]
)]
#[case::upstream_omitted_partial_memory(
    PodResources { gateway: container("512Mi", ""), ..pod("", "", false) },
    vec![REQUIRED_MEMORY]
)]
#[case::upstream_unmanaged(pod("", "", false), vec![])]
#[case::upstream_oversubscribed_memory(
    PodResources { database: container("8Gi", ""), ..pod("4Gi", "", false) },
    vec![exceeds(Dimension::Memory, "4Gi", "8Gi", 8960 * MI)]
)]
#[case::upstream_reservations_exceed_envelope(
    pod("100Mi", "", true),
    vec![no_room(Dimension::Memory, "100Mi", 153878528)]
)]
#[case::upstream_omitted_partial_cpu(
    PodResources { database: container("", "2"), ..pod("", "", false) },
    vec![REQUIRED_CPU]
)]
#[case::upstream_omitted_fully_specified_cpu(
    PodResources { gateway: container("", "500m"), database: container("", "2"), ..pod("", "", false) },
    vec![]
)]
// Both dimensions at once: memory first.
#[case::memory_then_cpu(
    PodResources { database: container("8Gi", "2"), ..pod("4Gi", "", false) },
    vec![exceeds(Dimension::Memory, "4Gi", "8Gi", 8960 * MI), REQUIRED_CPU]
)]
// "0" is unset, like "".
#[case::zero_envelope_is_unset(
    PodResources { gateway: container("0", ""), database: container("1Gi", ""), ..pod("0", "", false) },
    vec![REQUIRED_MEMORY]
)]
// OTel counts only with monitoring.
#[case::otel_ignored_without_monitoring(
    PodResources { otel: container("1Gi", "1"), ..pod("", "", false) },
    vec![]
)]
#[case::otel_alone_needs_the_envelope(
    PodResources { otel: container("1Gi", ""), ..pod("", "", true) },
    vec![REQUIRED_MEMORY]
)]
#[case::otel_explicit_reserves(
    PodResources { otel: container("1Gi", ""), ..pod("1Gi", "", true) },
    vec![no_room(Dimension::Memory, "1Gi", GI + 192 * MI)]
)]
#[case::otel_default_cpu_request(pod("", "50m", true), vec![no_room(Dimension::Cpu, "50m", 50)])]
#[case::otel_cpu_fits(pod("", "51m", true), vec![])]
// The gateway's explicit memory replaces its share.
#[case::explicit_gateway(
    PodResources { gateway: container("3Gi", ""), database: container("1Gi", ""), ..pod("4Gi", "", false) },
    vec![]
)]
#[case::explicit_gateway_too_big(
    PodResources { gateway: container("4Gi", ""), ..pod("4Gi", "", false) },
    vec![no_room(Dimension::Memory, "4Gi", 4 * GI)]
)]
#[case::exactly_full(
    PodResources { database: container("3328Mi", ""), ..pod("4Gi", "", false) },
    vec![]
)]
#[case::one_byte_over(
    PodResources { database: container("3489660929", ""), ..pod("4Gi", "", false) },
    vec![exceeds(Dimension::Memory, "4Gi", "3489660929", 4 * GI + 1)]
)]
// Memory in millibytes rounds up to whole bytes.
#[case::milli_memory(pod("1000m", "", false), vec![])]
#[case::milli_memory_rounds_up(pod("1m", "", true), vec![no_room(Dimension::Memory, "1m", 128 * MI)])]
// An unparseable envelope is set but worth 0.
#[case::unparseable_envelope(pod("lots", "", false), vec![no_room(Dimension::Memory, "lots", 0)])]
#[case::unparseable_database(
    PodResources { database: container("x", ""), ..pod("4Gi", "", false) },
    vec![]
)]
// A negative envelope: Go's arithmetic, negative share and all.
#[case::negative_envelope(pod("-1Gi", "", false), vec![no_room(Dimension::Memory, "-1Gi", -192 * MI)])]
// Go's int64 sums wrap: an absurd gateway makes the reservation negative.
#[case::sum_wraps_like_go(
    PodResources { gateway: container("9Ei", ""), ..pod("1Gi", "", true) },
    vec![]
)]
// Cpu with no gatewayCpuLimit: the gateway reserves nothing.
#[case::cpu_envelope_alone(pod("", "1", false), vec![])]
#[case::cpu_database_over(
    PodResources { database: container("", "1500m"), ..pod("", "1", false) },
    vec![exceeds(Dimension::Cpu, "1", "1500m", 1500)]
)]
fn envelope_problems_like_upstream(
    #[case] pod: PodResources<'static>,
    #[case] expected: Vec<EnvelopeProblem<'static>>,
) {
    assert_eq!(problems(&pod), expected);
}

#[rstest]
#[case::gateway_cpu_limit_reserves(
    SidecarReservations { gateway_cpu_limit: 2000, ..SidecarReservations::default() },
    pod("", "2", false),
    vec![no_room(Dimension::Cpu, "2", 2000)]
)]
#[case::explicit_gateway_cpu_wins(
    SidecarReservations { gateway_cpu_limit: 2000, ..SidecarReservations::default() },
    PodResources { gateway: container("", "500m"), ..pod("", "2", false) },
    vec![]
)]
#[case::fraction_one_takes_everything(
    SidecarReservations { gateway_memory_fraction: 1.0, gateway_memory_cap: 0, ..SidecarReservations::default() },
    pod("4Gi", "", false),
    vec![no_room(Dimension::Memory, "4Gi", 4 * GI)]
)]
#[case::fraction_zero_reserves_nothing(
    SidecarReservations { gateway_memory_fraction: 0.0, ..SidecarReservations::default() },
    PodResources { database: container("4Gi", ""), ..pod("4Gi", "", false) },
    vec![]
)]
#[case::cap_zero_is_no_cap(
    SidecarReservations { gateway_memory_cap: 0, ..SidecarReservations::default() },
    PodResources { database: container("210Gi", ""), ..pod("256Gi", "", false) },
    vec![exceeds(Dimension::Memory, "256Gi", "210Gi", 258 * GI)]
)]
#[case::capped_share_leaves_room(
    SidecarReservations::default(),
    PodResources { database: container("224Gi", ""), ..pod("256Gi", "", false) },
    vec![]
)]
#[case::otel_limit_setting(
    SidecarReservations { otel_memory_limit: 0, ..SidecarReservations::default() },
    pod("100Mi", "", true),
    vec![]
)]
fn settings_change_the_reservations(
    #[case] reservations: SidecarReservations,
    #[case] pod: PodResources<'static>,
    #[case] expected: Vec<EnvelopeProblem<'static>>,
) {
    assert_eq!(problems_with(&pod, reservations), expected);
}

#[rstest]
#[case::bytes(Dimension::Memory, 8960 * MI, "8960Mi")]
#[case::kibibytes(Dimension::Memory, 153878528, "150272Ki")]
#[case::small_bytes(Dimension::Memory, 100, "100")]
#[case::millicores(Dimension::Cpu, 2500, "2500m")]
#[case::no_millicores(Dimension::Cpu, 0, "0m")]
fn amounts_print_like_upstream(
    #[case] dimension: Dimension,
    #[case] amount: i64,
    #[case] expected: &str,
) {
    assert_eq!(dimension.format_amount(amount), expected);
}

#[rstest]
#[case::unset("", 0, 0)]
#[case::zero("0", 0, 0)]
#[case::invalid("abc", 0, 0)]
#[case::gibi("1Gi", GI, GI * 1000)]
#[case::cores("2", 2, 2000)]
#[case::millicores("500m", 1, 500)]
#[case::decimal_kilo("1k", 1000, 1_000_000)]
fn amounts_of_quantities(#[case] text: &str, #[case] bytes: i64, #[case] millis: i64) {
    assert_eq!((memory_bytes(text), cpu_millis(text)), (bytes, millis));
}
