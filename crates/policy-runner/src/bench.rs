//! Latency of one evaluation with a warm instance (kwctl run/bench) and with a fresh instance
//! per request (policy-server). Numbers only: no thresholds, no pass/fail.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::policy::{InstanceMode, Policy};
use crate::request::{AdmissionRequest, Settings};
use crate::response::AdmissionResponse;

/// How many evaluations to time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BenchOptions {
    /// Timed evaluations per mode.
    pub iterations: usize,
    /// Untimed evaluations per mode before timing.
    pub warmup: usize,
}

impl Default for BenchOptions {
    fn default() -> Self {
        BenchOptions {
            iterations: 1000,
            warmup: 100,
        }
    }
}

/// Latency distribution of one mode, in microseconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    pub iterations: usize,
    pub mean_us: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    pub min_us: f64,
    pub max_us: f64,
    pub evals_per_sec: f64,
}

impl Stats {
    /// Nearest-rank percentiles over the samples.
    pub fn from_samples(samples: &[Duration]) -> Stats {
        assert!(!samples.is_empty(), "no samples");
        let mut us: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e6).collect();
        us.sort_by(f64::total_cmp);
        let n = us.len();
        let rank = |p: f64| us[((p * n as f64).ceil() as usize).clamp(1, n) - 1];
        let mean = us.iter().sum::<f64>() / n as f64;
        Stats {
            iterations: n,
            mean_us: mean,
            p50_us: rank(0.50),
            p99_us: rank(0.99),
            min_us: us[0],
            max_us: us[n - 1],
            evals_per_sec: if mean > 0.0 {
                1e6 / mean
            } else {
                f64::INFINITY
            },
        }
    }
}

/// Results for one module.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModuleReport {
    pub module: String,
    pub size_bytes: usize,
    /// Cranelift compilation of the module.
    pub compile_ms: f64,
    /// Compile + link + first instance + `protocol_version`.
    pub load_ms: f64,
    /// The verdict of the first warm evaluation.
    pub verdict: AdmissionResponse,
    /// Whether the fresh-instance verdict was identical.
    pub verdicts_agree: bool,
    pub warm: Stats,
    pub fresh: Stats,
}

/// policy / baseline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ratios {
    pub size: f64,
    pub compile: f64,
    pub warm_mean: f64,
    pub fresh_mean: f64,
}

/// Everything `policy-runner bench` prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchReport {
    /// False when policy-runner itself was built without optimisations (debug profile): the
    /// host-side part of every number (instantiation, JSON) is then inflated.
    pub optimised_build: bool,
    pub request_bytes: usize,
    pub iterations: usize,
    pub policy: ModuleReport,
    pub baseline: Option<ModuleReport>,
    pub ratios: Option<Ratios>,
}

impl BenchReport {
    /// Builds the report, computing ratios when a baseline is given.
    pub fn new(
        request_bytes: usize,
        options: &BenchOptions,
        policy: ModuleReport,
        baseline: Option<ModuleReport>,
    ) -> Self {
        let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::NAN };
        let ratios = baseline.as_ref().map(|b| Ratios {
            size: ratio(policy.size_bytes as f64, b.size_bytes as f64),
            compile: ratio(policy.compile_ms, b.compile_ms),
            warm_mean: ratio(policy.warm.mean_us, b.warm.mean_us),
            fresh_mean: ratio(policy.fresh.mean_us, b.fresh.mean_us),
        });
        BenchReport {
            optimised_build: !cfg!(debug_assertions),
            request_bytes,
            iterations: options.iterations,
            policy,
            baseline,
            ratios,
        }
    }

    /// Human-readable rendering.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "request: {} bytes, {} timed evaluations per mode{}",
            self.request_bytes,
            self.iterations,
            if self.optimised_build {
                ""
            } else {
                " (policy-runner built WITHOUT optimisations: host-side costs are inflated)"
            }
        );
        render_module(&mut out, "policy", &self.policy);
        if let Some(b) = &self.baseline {
            render_module(&mut out, "baseline", b);
        }
        if let Some(r) = &self.ratios {
            let _ = writeln!(out, "ratios (policy / baseline):");
            let _ = writeln!(out, "  size                 {:>8.2}x", r.size);
            let _ = writeln!(out, "  compile              {:>8.2}x", r.compile);
            let _ = writeln!(out, "  warm mean            {:>8.2}x", r.warm_mean);
            let _ = writeln!(out, "  fresh-instance mean  {:>8.2}x", r.fresh_mean);
        }
        out
    }
}

fn render_module(out: &mut String, label: &str, m: &ModuleReport) {
    let _ = writeln!(out, "{label}: {}", m.module);
    let _ = writeln!(out, "  size                 {:>10} bytes", m.size_bytes);
    let _ = writeln!(out, "  compile              {:>10.1} ms", m.compile_ms);
    let verdict = if m.verdict.allowed {
        "allowed"
    } else {
        "denied"
    };
    let detail = m
        .verdict
        .status
        .as_ref()
        .map(|s| {
            format!(
                " ({}{})",
                s.code.map(|c| format!("{c}: ")).unwrap_or_default(),
                s.message.as_deref().unwrap_or("")
            )
        })
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "  verdict              {verdict}{detail}{}",
        if m.verdicts_agree {
            ""
        } else {
            "  [fresh-instance verdict DIFFERS]"
        }
    );
    for (name, s) in [("warm instance", &m.warm), ("fresh instance", &m.fresh)] {
        let _ = writeln!(
            out,
            "  {name:<20} mean {:>9.1} us  p50 {:>9.1} us  p99 {:>9.1} us  {:>10.0} evals/s",
            s.mean_us, s.p50_us, s.p99_us, s.evals_per_sec
        );
    }
}

/// Times `options.iterations` evaluations of `request` in each mode, for the
/// policy and, when given, the baseline: interleaved, one evaluation of each
/// in turn (which goes first alternates), so that both see the same machine.
///
/// Timed one module after the other, the same module's fresh-instance ratio
/// came out anywhere between 1.33× and 1.47× from run to run on a shared VM
/// (the machine drifts between the two halves of a run); interleaved, within
/// about ±0.01 (BENCHMARKS.md, "How the ratios are measured").
pub fn bench_modules(
    policy: (&mut Policy, &str),
    mut baseline: Option<(&mut Policy, &str)>,
    request: &AdmissionRequest,
    settings: &Settings,
    options: &BenchOptions,
) -> (ModuleReport, Option<ModuleReport>) {
    let (policy, policy_name) = policy;
    let iterations = options.iterations.max(1);
    let first_verdicts = |policy: &mut Policy| {
        let warm = policy.evaluate_request(request, settings, InstanceMode::Warm);
        let fresh = policy.evaluate_request(request, settings, InstanceMode::Fresh);
        (warm, fresh)
    };
    let policy_verdicts = first_verdicts(policy);
    let baseline_verdicts = baseline.as_mut().map(|(b, _)| first_verdicts(b));
    let mut time_mode = |mode: InstanceMode| {
        let mut run_policy = || {
            std::hint::black_box(policy.evaluate_request(request, settings, mode));
        };
        let mut run_baseline = baseline.as_mut().map(|(b, _)| {
            move || {
                std::hint::black_box(b.evaluate_request(request, settings, mode));
            }
        });
        interleaved(
            options.warmup,
            iterations,
            &mut run_policy,
            run_baseline.as_mut().map(|run| run as &mut dyn FnMut()),
        )
    };
    let (policy_warm, baseline_warm) = time_mode(InstanceMode::Warm);
    let (policy_fresh, baseline_fresh) = time_mode(InstanceMode::Fresh);
    let report = |module: &Policy,
                  name: &str,
                  (verdict, fresh_verdict): (AdmissionResponse, AdmissionResponse),
                  warm: &[Duration],
                  fresh: &[Duration]| {
        let info = module.info();
        ModuleReport {
            module: name.to_owned(),
            size_bytes: info.size_bytes,
            compile_ms: info.compile_time.as_secs_f64() * 1e3,
            load_ms: info.load_time.as_secs_f64() * 1e3,
            verdicts_agree: verdict == fresh_verdict,
            verdict,
            warm: Stats::from_samples(warm),
            fresh: Stats::from_samples(fresh),
        }
    };
    let policy_report = report(
        policy,
        policy_name,
        policy_verdicts,
        &policy_warm,
        &policy_fresh,
    );
    let baseline_report = baseline
        .zip(baseline_verdicts)
        .map(|((b, name), verdicts)| report(b, name, verdicts, &baseline_warm, &baseline_fresh));
    (policy_report, baseline_report)
}

/// Runs `a` and `b` in turn for `warmup + iterations` rounds, `b` first in
/// every other round, and times each run of the last `iterations` rounds.
fn interleaved(
    warmup: usize,
    iterations: usize,
    a: &mut dyn FnMut(),
    mut b: Option<&mut dyn FnMut()>,
) -> (Vec<Duration>, Vec<Duration>) {
    let (mut a_samples, mut b_samples) = (Vec::with_capacity(iterations), Vec::new());
    for round in 0..warmup + iterations {
        let timed = round >= warmup;
        let time = |run: &mut dyn FnMut(), into: &mut Vec<Duration>| {
            let start = Instant::now();
            run();
            let elapsed = start.elapsed();
            if timed {
                into.push(elapsed);
            }
        };
        match b.as_deref_mut() {
            Some(b) if round % 2 == 1 => {
                time(b, &mut b_samples);
                time(a, &mut a_samples);
            }
            Some(b) => {
                time(a, &mut a_samples);
                time(b, &mut b_samples);
            }
            None => time(a, &mut a_samples),
        }
    }
    (a_samples, b_samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_modules_run_in_turn_the_first_alternating() {
        let order = std::cell::RefCell::new(String::new());
        let (a, b) = interleaved(
            1,
            3,
            &mut || order.borrow_mut().push('a'),
            Some(&mut || order.borrow_mut().push('b')),
        );
        assert_eq!(order.into_inner(), "abbaabba");
        assert_eq!((a.len(), b.len()), (3, 3));
    }

    #[test]
    fn one_module_runs_alone() {
        let mut runs = 0;
        let (a, b) = interleaved(2, 3, &mut || runs += 1, None);
        assert_eq!(runs, 5);
        assert_eq!((a.len(), b.len()), (3, 0));
    }

    #[test]
    fn nearest_rank_percentiles() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_micros).collect();
        let s = Stats::from_samples(&samples);
        assert_eq!(s.iterations, 100);
        assert_eq!(s.p50_us, 50.0);
        assert_eq!(s.p99_us, 99.0);
        assert_eq!(s.min_us, 1.0);
        assert_eq!(s.max_us, 100.0);
        assert!((s.mean_us - 50.5).abs() < 1e-9);
        let one = Stats::from_samples(&[Duration::from_micros(7)]);
        assert_eq!((one.p50_us, one.p99_us), (7.0, 7.0));
    }
}
