//! The pod resource envelope, as the operator's webhook checks it
//! (`cnpg.ValidateResources` with the helpers of `resource_split.go`): pure
//! arithmetic over the quantities as written, with upstream's conventions kept
//! exactly — "set" means neither `""` nor `"0"`, an unparseable quantity counts
//! as 0, and sums are int64 sums that wrap like Go's.

use crate::model::quantity::{Quantity, format_binary_si};

/// The two resources the envelope divides, in upstream's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    Memory,
    Cpu,
}

impl Dimension {
    pub const ALL: [Dimension; 2] = [Dimension::Memory, Dimension::Cpu];

    /// `memory` or `cpu`: the field name and the noun of the messages.
    pub fn name(self) -> &'static str {
        match self {
            Dimension::Memory => "memory",
            Dimension::Cpu => "cpu",
        }
    }

    /// An amount as upstream's messages print it: bytes as a binary-SI
    /// quantity (`8960Mi`), millicores as `<n>m`.
    pub fn format_amount(self, amount: i64) -> String {
        match self {
            Dimension::Memory => format_binary_si(amount),
            Dimension::Cpu => format!("{amount}m"),
        }
    }

    /// The amount of a quantity as written: bytes (`Value()`, rounded up) or
    /// millicores (`MilliValue()`); 0 when unset or unparseable.
    pub fn amount(self, text: &str) -> i64 {
        match self {
            Dimension::Memory => memory_bytes(text),
            Dimension::Cpu => cpu_millis(text),
        }
    }
}

/// Upstream's `isSet`: `""` and `"0"` both mean "not set".
pub fn is_set(text: &str) -> bool {
    !text.is_empty() && text != "0"
}

/// Upstream's `parseMemoryToBytes`.
pub fn memory_bytes(text: &str) -> i64 {
    if !is_set(text) {
        return 0;
    }
    Quantity::parse(text).map_or(0, |q| q.value())
}

/// Upstream's `cpuMilli`.
pub fn cpu_millis(text: &str) -> i64 {
    if !is_set(text) {
        return 0;
    }
    Quantity::parse(text).map_or(0, |q| q.milli_value())
}

/// One container's resources as written (`""` when the container or the
/// field is absent: upstream reads a nil container as empty strings too).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ContainerResources<'a> {
    pub memory: &'a str,
    pub cpu: &'a str,
}

impl<'a> ContainerResources<'a> {
    pub fn get(&self, dimension: Dimension) -> &'a str {
        match dimension {
            Dimension::Memory => self.memory,
            Dimension::Cpu => self.cpu,
        }
    }
}

/// What the envelope rule reads of a DocumentDB: `spec.resource.{memory,cpu}`
/// (the pod envelope), the three containers and `spec.monitoring.enabled`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PodResources<'a> {
    pub envelope: ContainerResources<'a>,
    pub gateway: ContainerResources<'a>,
    pub database: ContainerResources<'a>,
    pub otel: ContainerResources<'a>,
    pub monitoring: bool,
}

/// The operator's sidecar settings (its Helm values `sidecarResources`), in
/// the units the rule computes with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SidecarReservations {
    /// Share of the memory envelope the gateway gets when it sets none, 0..=1.
    pub gateway_memory_fraction: f64,
    /// Ceiling of that share in bytes; 0 means no ceiling.
    pub gateway_memory_cap: i64,
    /// The gateway's cpu when it sets none, millicores; 0 when unset.
    pub gateway_cpu_limit: i64,
    /// The OTel collector's memory when it sets none (its limit), bytes.
    pub otel_memory_limit: i64,
    /// The OTel collector's cpu when it sets none (its request), millicores.
    pub otel_cpu_request: i64,
}

impl Default for SidecarReservations {
    /// The chart's values: 0.1875, 32Gi, none, 128Mi, 50m.
    fn default() -> Self {
        SidecarReservations {
            gateway_memory_fraction: 0.1875,
            gateway_memory_cap: 32 << 30,
            gateway_cpu_limit: 0,
            otel_memory_limit: 128 << 20,
            otel_cpu_request: 50,
        }
    }
}

/// Upstream's `gatewayMemoryReservationBytes`:
/// `min(int64(float64(envelope) × fraction), cap)`, no cap when it is 0.
pub fn gateway_memory_reservation(envelope: i64, reservations: &SidecarReservations) -> i64 {
    let product = envelope as f64 * reservations.gateway_memory_fraction;
    // Go's int64() of a float64 truncates; Rust's `as` too, but saturates where
    // Go on amd64 answers i64::MIN (only an envelope of 2^63 bytes with a
    // fraction near 1 gets there).
    let share = if product >= 9_223_372_036_854_775_808.0 {
        i64::MIN
    } else {
        product as i64
    };
    let cap = reservations.gateway_memory_cap;
    if cap > 0 && share > cap { cap } else { share }
}

/// Why a dimension of the envelope is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvelopeProblem<'a> {
    /// No envelope, and the containers that set the dimension do not include
    /// both the gateway and the database: `field.Required(spec.resource.<dim>)`.
    EnvelopeRequired { dimension: Dimension },
    /// The gateway and OTel reservations take the whole envelope:
    /// `field.Invalid(spec.resource.<dim>, envelope)`.
    NoRoomForPostgres {
        dimension: Dimension,
        envelope: &'a str,
        reserved: i64,
    },
    /// The reservations plus the database's explicit value exceed the envelope:
    /// `field.Invalid(spec.resource.database.<dim>, database)`.
    ExceedsEnvelope {
        dimension: Dimension,
        envelope: &'a str,
        database: &'a str,
        total: i64,
    },
}

/// The envelope problems of `pod`, memory then cpu, at most one per dimension.
pub fn envelope_problems<'a>(
    pod: &PodResources<'a>,
    reservations: &SidecarReservations,
) -> impl Iterator<Item = EnvelopeProblem<'a>> {
    let pod = *pod;
    let reservations = *reservations;
    Dimension::ALL
        .into_iter()
        .filter_map(move |dimension| dimension_problem(&pod, &reservations, dimension))
}

fn dimension_problem<'a>(
    pod: &PodResources<'a>,
    reservations: &SidecarReservations,
    dimension: Dimension,
) -> Option<EnvelopeProblem<'a>> {
    let envelope_text = pod.envelope.get(dimension);
    let database_text = pod.database.get(dimension);
    let gateway_set = is_set(pod.gateway.get(dimension));
    let database_set = is_set(database_text);
    let otel_set = pod.monitoring && is_set(pod.otel.get(dimension));

    if !is_set(envelope_text) {
        let some_container = gateway_set || database_set || otel_set;
        return (some_container && !(gateway_set && database_set))
            .then_some(EnvelopeProblem::EnvelopeRequired { dimension });
    }

    let envelope = dimension.amount(envelope_text);
    let mut gateway = dimension.amount(pod.gateway.get(dimension));
    if gateway == 0 {
        gateway = match dimension {
            Dimension::Memory => gateway_memory_reservation(envelope, reservations),
            Dimension::Cpu => reservations.gateway_cpu_limit,
        };
    }
    let mut otel = 0;
    if pod.monitoring {
        otel = dimension.amount(pod.otel.get(dimension));
        if otel == 0 {
            otel = match dimension {
                Dimension::Memory => reservations.otel_memory_limit,
                Dimension::Cpu => reservations.otel_cpu_request,
            };
        }
    }

    let reserved = gateway.wrapping_add(otel);
    if reserved >= envelope {
        return Some(EnvelopeProblem::NoRoomForPostgres {
            dimension,
            envelope: envelope_text,
            reserved,
        });
    }
    if database_set {
        let total = reserved.wrapping_add(dimension.amount(database_text));
        if total > envelope {
            return Some(EnvelopeProblem::ExceedsEnvelope {
                dimension,
                envelope: envelope_text,
                database: database_text,
                total,
            });
        }
    }
    None
}

#[cfg(test)]
mod tests;
