//! In-process behaviour of the library against hand-written guests.

use std::time::{Duration, Instant};

use policy_runner::{
    AdmissionRequest, AdmissionResponse, InstanceMode, Policy, RunnerError, RunnerOptions,
    SettingsOutcome, TIMEOUT_MESSAGE, host_callback, validate_payload,
};
use serde_json::{Value, json};

use crate::guest::{Behaviour, Guest};
use crate::{bare_request, load, review_request, test_options};

const BOTH: [InstanceMode; 2] = [InstanceMode::Warm, InstanceMode::Fresh];

fn evaluate(policy: &mut Policy, mode: InstanceMode) -> AdmissionResponse {
    policy
        .evaluate_with_mode(&bare_request(), &Value::Null, mode)
        .expect("valid input")
}

fn line(policy: &mut Policy, mode: InstanceMode) -> String {
    evaluate(policy, mode).to_json_line()
}

fn reply_guest(reply: &str) -> Guest {
    Guest::validating(Behaviour::Reply(reply.into()))
}

// ---------------------------------------------------------------- output format

#[test]
fn accept_prints_kwctl_line_with_nulls() {
    let mut policy = load(&Guest::default());
    for mode in BOTH {
        assert_eq!(
            line(&mut policy, mode),
            r#"{"uid":"abc-123","allowed":true,"auditAnnotations":null,"warnings":null}"#
        );
    }
}

#[test]
fn reject_with_message_code_warnings_and_annotations_keeps_key_order() {
    let mut policy = load(&reply_guest(
        r#"{"warnings":["w1","w2"],"code":403,"message":"nope","accepted":false,"audit_annotations":{"b":"2","a":"1"},"unknown_key":true}"#,
    ));
    for mode in BOTH {
        assert_eq!(
            line(&mut policy, mode),
            r#"{"uid":"abc-123","allowed":false,"status":{"message":"nope","code":403},"auditAnnotations":{"a":"1","b":"2"},"warnings":["w1","w2"]}"#
        );
    }
}

#[test]
fn status_carries_only_the_keys_that_are_set() {
    let mut policy = load(&reply_guest(
        r#"{"accepted":false,"message":"no code here"}"#,
    ));
    assert_eq!(
        line(&mut policy, InstanceMode::Warm),
        r#"{"uid":"abc-123","allowed":false,"status":{"message":"no code here"},"auditAnnotations":null,"warnings":null}"#
    );
    let mut policy = load(&reply_guest(
        r#"{"accepted":false,"code":418,"message":null}"#,
    ));
    assert_eq!(
        line(&mut policy, InstanceMode::Warm),
        r#"{"uid":"abc-123","allowed":false,"status":{"code":418},"auditAnnotations":null,"warnings":null}"#
    );
    let mut policy = load(&reply_guest(
        r#"{"accepted":true,"warnings":["checked 1.4.2"]}"#,
    ));
    assert_eq!(
        line(&mut policy, InstanceMode::Warm),
        r#"{"uid":"abc-123","allowed":true,"auditAnnotations":null,"warnings":["checked 1.4.2"]}"#
    );
}

#[test]
fn human_output_lists_verdict_code_message_and_warnings() {
    let mut policy = load(&reply_guest(
        r#"{"accepted":false,"message":"nope","code":403,"warnings":["w1","w2"]}"#,
    ));
    assert_eq!(
        evaluate(&mut policy, InstanceMode::Warm).to_human(),
        "DENIED (code 403)\n  uid:      abc-123\n  message:  nope\n  warning:  w1\n  warning:  w2\n"
    );
    let mut policy = load(&Guest::default());
    assert_eq!(
        evaluate(&mut policy, InstanceMode::Warm).to_human(),
        "ALLOWED\n  uid:      abc-123\n"
    );
}

// ---------------------------------------------------------------- request normalisation

const NORMALISED_PAYLOAD: &str = concat!(
    r#"{"request":{"uid":"abc-123","#,
    r#""kind":{"group":"documentdb.io","version":"v1","kind":"DocumentDB"},"#,
    r#""resource":{"group":"documentdb.io","version":"v1","resource":"documentdbs"},"#,
    r#""requestKind":{"group":"documentdb.io","version":"v1","kind":"DocumentDB"},"#,
    r#""name":"db","namespace":"default","operation":"CREATE","#,
    r#""userInfo":{"groups":["system:authenticated"],"username":"alice"},"#,
    r#""object":{"apiVersion":"documentdb.io/v1","kind":"DocumentDB","metadata":{"name":"db"},"spec":{"image":"ghcr.io/x/documentdb:1.4.2"}},"#,
    r#""dryRun":false},"#,
    r#""settings":{"maxSkew":1}}"#
);

#[test]
fn validate_receives_the_normalised_request_for_bare_and_review_input() {
    let guest = Guest::validating(Behaviour::EchoPayloadToLog {
        reply: r#"{"accepted":true}"#.into(),
    });
    let mut policy = load(&guest);
    let settings = json!({"maxSkew": 1});
    for input in [bare_request(), review_request()] {
        for mode in BOTH {
            let resp = policy.evaluate_with_mode(&input, &settings, mode).unwrap();
            assert!(resp.allowed);
            let logs = policy.take_logs();
            assert_eq!(logs.len(), 1);
            assert_eq!(logs[0].raw, NORMALISED_PAYLOAD);
        }
    }
    // The same bytes, without a guest.
    let request = AdmissionRequest::from_input(&review_request()).unwrap();
    let settings = settings.as_object().unwrap().clone();
    assert_eq!(
        String::from_utf8(validate_payload(&request, &settings)).unwrap(),
        NORMALISED_PAYLOAD
    );
}

#[test]
fn validate_settings_receives_the_settings_object() {
    let guest = Guest {
        validate_settings: Behaviour::EchoPayloadToLog {
            reply: r#"{"valid":true}"#.into(),
        },
        ..Guest::default()
    };
    let mut policy = load(&guest);
    for (settings, sent) in [
        (Value::Null, "{}"),
        (json!({}), "{}"),
        (json!({"b": [1, 2], "a": "x"}), r#"{"a":"x","b":[1,2]}"#),
    ] {
        let outcome = policy.validate_settings(&settings).unwrap();
        assert_eq!(
            outcome,
            SettingsOutcome {
                valid: true,
                message: None
            }
        );
        assert_eq!(policy.take_logs()[0].raw, sent);
    }
    let err = policy.validate_settings(&json!([1, 2])).unwrap_err();
    assert_eq!(
        err,
        RunnerError::Settings("settings must be an object, found an array".into())
    );
}

#[test]
fn mandatory_request_fields_are_enforced() {
    for field in ["uid", "kind", "resource", "operation", "userInfo"] {
        let mut request = bare_request();
        request.as_object_mut().unwrap().remove(field);
        let err = AdmissionRequest::from_input(&request).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "cannot build AdmissionRequest object from given input: missing field `{field}`"
            )
        );
        let mut review = review_request();
        review["request"].as_object_mut().unwrap().remove(field);
        assert!(AdmissionRequest::from_input(&review).is_err(), "{field}");
    }
    let err = AdmissionRequest::from_input(&json!({"kind": "AdmissionReview"})).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot build AdmissionRequest object from given input: AdmissionReview has no `request`"
    );
    let err = AdmissionRequest::from_input(&json!("just a string")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot build AdmissionRequest object from given input: expected a JSON object, found a string"
    );
    let mut bad = bare_request();
    bad["operation"] = json!(42);
    assert!(AdmissionRequest::from_input(&bad).is_err());
}

// ---------------------------------------------------------------- guest failures

#[test]
fn guest_error_is_a_500_internal_server_error() {
    let mut policy = load(&Guest::validating(Behaviour::Error("boom".into())));
    for mode in BOTH {
        assert_eq!(
            line(&mut policy, mode),
            r#"{"uid":"abc-123","allowed":false,"status":{"message":"internal server error: Guest call failure: boom","code":500},"auditAnnotations":null,"warnings":null}"#
        );
    }
}

#[test]
fn trap_in_validate_is_a_500_and_the_runner_keeps_working() {
    let mut policy = load(&Guest::validating(Behaviour::Trap));
    for mode in [InstanceMode::Warm, InstanceMode::Fresh, InstanceMode::Warm] {
        let resp = evaluate(&mut policy, mode);
        assert!(!resp.allowed);
        let status = resp.status.unwrap();
        assert_eq!(status.code, Some(500));
        let message = status.message.unwrap();
        // wasmtime-provider stringifies the trap, so (as with kwctl) the message is
        // wasmtime's backtrace, which names the trapping function.
        assert!(
            message.starts_with(
                "internal server error: Guest call failure: error while executing at wasm backtrace:\n"
            ) && message.contains("<unknown>!validate"),
            "{message}"
        );
    }
    // The instance is still usable for other operations after a trap.
    assert!(policy.validate_settings(&Value::Null).unwrap().valid);
}

#[test]
fn reply_that_is_not_a_validation_response_is_a_500() {
    for (reply, error) in [
        ("this is not json", "expected ident at line 1 column 2"),
        (
            r#"{"allowed":true}"#,
            "missing field `accepted` at line 1 column 16",
        ),
        (
            r#"{"accepted":"yes"}"#,
            "invalid type: string \"yes\", expected a boolean at line 1 column 17",
        ),
        ("", "EOF while parsing a value at line 1 column 0"),
    ] {
        let mut policy = load(&reply_guest(reply));
        for mode in BOTH {
            let resp = evaluate(&mut policy, mode);
            assert_eq!(
                resp,
                AdmissionResponse::reject(
                    "abc-123",
                    &format!(
                        "internal server error: cannot deserialize policy validation response: {error}"
                    ),
                    500
                ),
                "reply {reply:?}"
            );
        }
    }
}

#[test]
fn infinite_loop_in_validate_is_interrupted_by_the_deadline() {
    let mut policy = Policy::load(
        Guest::validating(Behaviour::LoopForever).wasm(),
        &RunnerOptions {
            execution_timeout: Some(Duration::from_millis(200)),
            ..test_options()
        },
    )
    .unwrap();
    for mode in [InstanceMode::Warm, InstanceMode::Warm, InstanceMode::Fresh] {
        let started = Instant::now();
        let resp = evaluate(&mut policy, mode);
        let elapsed = started.elapsed();
        assert_eq!(
            resp.to_json_line(),
            format!(
                r#"{{"uid":"abc-123","allowed":false,"status":{{"message":"{TIMEOUT_MESSAGE}","code":500}},"auditAnnotations":null,"warnings":null}}"#
            )
        );
        assert!(elapsed >= Duration::from_millis(200), "{elapsed:?}");
        assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    }
    // After the interrupt the warm instance is rebuilt and answers again.
    assert!(policy.validate_settings(&Value::Null).unwrap().valid);
}

#[test]
fn infinite_loop_in_wapc_init_fails_loading_in_bounded_time() {
    let guest = Guest {
        wapc_init: Behaviour::LoopForever,
        ..Guest::default()
    };
    let started = Instant::now();
    let err = Policy::load(guest.wasm(), &test_options()).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(
        err.to_string(),
        "cannot instantiate policy module: module initialisation exceeded the allowed execution \
         time (Initialization failed: Initialization failed: wapc_init init interrupted, \
         execution deadline exceeded)"
    );
}

#[test]
fn infinite_loop_in_validate_settings_makes_settings_invalid() {
    let guest = Guest {
        validate_settings: Behaviour::LoopForever,
        ..Guest::default()
    };
    let mut policy = load(&guest);
    let outcome = policy.validate_settings(&Value::Null).unwrap();
    assert_eq!(
        outcome,
        SettingsOutcome {
            valid: false,
            message: Some(
                "Error invoking settings validation callback: GuestCallFailure(\"guest code \
                 interrupted, execution deadline exceeded\")"
                    .into()
            ),
        }
    );
}

#[test]
fn memory_growth_is_capped() {
    for (mib, pages) in [(16u64, "00000100"), (64, "00000400")] {
        let mut policy = Policy::load(
            Guest::validating(Behaviour::GrowMemoryUntilFailure).wasm(),
            &RunnerOptions {
                max_memory_bytes: Some(mib << 20),
                ..test_options()
            },
        )
        .unwrap();
        for mode in BOTH {
            assert_eq!(
                evaluate(&mut policy, mode),
                AdmissionResponse::reject_internal_server_error(
                    "abc-123",
                    &format!("Guest call failure: memory.grow failed at 0x{pages} pages")
                )
            );
        }
    }
}

#[test]
fn default_memory_cap_is_one_gib() {
    let mut policy = load(&Guest::validating(Behaviour::GrowMemoryUntilFailure));
    assert_eq!(
        evaluate(&mut policy, InstanceMode::Fresh),
        AdmissionResponse::reject_internal_server_error(
            "abc-123",
            "Guest call failure: memory.grow failed at 0x00004000 pages"
        )
    );
}

#[test]
fn bogus_guest_pointers_are_a_500_not_a_crash() {
    // wasmtime-provider slices guest memory without bounds checks and panics on a bogus
    // pointer; the runner contains the panic.
    let guest = Guest::validating(Behaviour::Raw(
        "(call $guest_response (i32.const -16) (i32.const 100)) (i32.const 1)".into(),
    ));
    let mut policy = load(&guest);
    for mode in BOTH {
        let resp = evaluate(&mut policy, mode);
        let status = resp.status.unwrap();
        assert_eq!(status.code, Some(500));
        let message = status.message.unwrap();
        assert!(
            message
                .starts_with("internal server error: the host panicked while serving the guest: "),
            "{message}"
        );
    }
    assert!(policy.validate_settings(&Value::Null).unwrap().valid);
}

// ---------------------------------------------------------------- host calls

fn host_call_guest(binding: &str, namespace: &str, operation: &str) -> Guest {
    Guest::validating(Behaviour::HostCall {
        binding: binding.into(),
        namespace: namespace.into(),
        operation: operation.into(),
        payload: r#"{"level":"info","message":"hello","column":5}"#.into(),
        reply: r#"{"accepted":true,"message":"host call succeeded"}"#.into(),
    })
}

#[test]
fn host_capabilities_are_denied_with_the_engines_messages() {
    for (binding, ns, op, expected) in [
        (
            "kubewarden",
            "net",
            "v1/dns_lookup_host",
            "Policy has not been granted access to the 'net/v1/dns_lookup_host' host capability. The violation has been reported.",
        ),
        // Kubernetes reads: tests/policy_runner/context_aware.rs.
        (
            "kubewarden",
            "oci",
            "v1/manifest_digest",
            "Policy has not been granted access to the 'oci/v1/manifest_digest' host capability. The violation has been reported.",
        ),
        ("kubewarden", "tracing", "flush", "unknown operation: flush"),
        ("kubewarden", "bogus", "op", "unknown namespace: bogus"),
        ("evil", "tracing", "log", "unknown binding: evil"),
    ] {
        let mut policy = load(&host_call_guest(binding, ns, op));
        for mode in BOTH {
            assert_eq!(
                evaluate(&mut policy, mode),
                AdmissionResponse::reject_internal_server_error(
                    "abc-123",
                    &format!("Guest call failure: {expected}")
                ),
                "{binding}/{ns}/{op}"
            );
        }
        let direct = host_callback(binding, ns, op, b"{}").unwrap_err();
        assert_eq!(direct.to_string(), expected);
    }
}

#[test]
fn log_host_call_is_served_and_recorded() {
    let mut policy = load(&host_call_guest("kubewarden", "tracing", "log"));
    for mode in BOTH {
        let resp = evaluate(&mut policy, mode);
        assert!(resp.allowed);
        assert_eq!(
            resp.status.unwrap().message.as_deref(),
            Some("host call succeeded")
        );
        let logs = policy.take_logs();
        assert_eq!(logs.len(), 1);
        assert_eq!(logs[0].level.as_deref(), Some("info"));
        assert_eq!(logs[0].message.as_deref(), Some("hello"));
    }
    assert_eq!(
        host_callback("kubewarden", "tracing", "log", b"garbage").unwrap(),
        Vec::<u8>::new()
    );
}

// ---------------------------------------------------------------- instance lifetimes

#[test]
fn fresh_instances_run_wapc_init_for_every_request() {
    let guest = Guest {
        wapc_init: Behaviour::HostCall {
            binding: "kubewarden".into(),
            namespace: "tracing".into(),
            operation: "log".into(),
            payload: r#"{"level":"debug","message":"wapc_init"}"#.into(),
            reply: String::new(),
        },
        ..Guest::default()
    };
    let mut policy = load(&guest);
    assert_eq!(policy.take_logs().len(), 1, "load instantiates once");
    for _ in 0..3 {
        evaluate(&mut policy, InstanceMode::Warm);
    }
    assert_eq!(policy.take_logs().len(), 0, "the warm instance is reused");
    for _ in 0..3 {
        evaluate(&mut policy, InstanceMode::Fresh);
    }
    assert_eq!(
        policy.take_logs().len(),
        3,
        "one wapc_init per fresh evaluation"
    );
}

// ---------------------------------------------------------------- module checks

#[test]
fn protocol_version_must_be_v1() {
    for (behaviour, expected) in [
        (
            Behaviour::Reply("\"v2\"".into()),
            "Cannot compute ProtocolVersion: unsupported protocol version \"v2\" (expected \"v1\")",
        ),
        (
            Behaviour::Reply("v1".into()),
            "Cannot compute ProtocolVersion: invalid reply \"v1\": expected value at line 1 column 1",
        ),
        (
            Behaviour::Error("no protocol here".into()),
            "Cannot compute ProtocolVersion: Guest call failure: no protocol here",
        ),
    ] {
        let guest = Guest {
            protocol_version: behaviour,
            ..Guest::default()
        };
        let err = Policy::load(guest.wasm(), &test_options()).unwrap_err();
        assert_eq!(err.to_string(), expected);
    }
    let guest = Guest {
        protocol_version: Behaviour::Trap,
        ..Guest::default()
    };
    let err = Policy::load(guest.wasm(), &test_options())
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(
            "Cannot compute ProtocolVersion: Guest call failure: error while executing at wasm backtrace:\n"
        ) && err.contains("<unknown>!protocol_version"),
        "{err}"
    );
}

#[test]
fn non_wapc_modules_are_rejected() {
    let err = Policy::load(
        b"(module (func (export \"wapc_init\")))".as_slice(),
        &test_options(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid policy module: the module does not export the function `__guest_call`: not a waPC module"
    );
    let err = Policy::load(b"\0asm garbage".as_slice(), &test_options()).unwrap_err();
    assert!(matches!(err, RunnerError::Module(_)), "{err}");
    let err = Policy::load(
        std::path::Path::new("/nonexistent/policy.wasm"),
        &test_options(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot read /nonexistent/policy.wasm: No such file or directory (os error 2)"
    );
}

#[test]
fn settings_validation_outcomes_follow_the_engine() {
    for (behaviour, expected) in [
        (
            Behaviour::Reply(r#"{"valid":false,"message":"bad settings"}"#.into()),
            SettingsOutcome { valid: false, message: Some("bad settings".into()) },
        ),
        (
            Behaviour::Reply(r#"{"valid":true,"message":null}"#.into()),
            SettingsOutcome { valid: true, message: None },
        ),
        (
            Behaviour::Reply("nonsense".into()),
            SettingsOutcome {
                valid: false,
                message: Some("error: expected ident at line 1 column 2".into()),
            },
        ),
        (
            Behaviour::Error("unknown field `bogus`".into()),
            SettingsOutcome {
                valid: false,
                message: Some(
                    "Error invoking settings validation callback: GuestCallFailure(\"unknown field `bogus`\")".into(),
                ),
            },
        ),
    ] {
        let guest = Guest {
            validate_settings: behaviour,
            ..Guest::default()
        };
        assert_eq!(load(&guest).validate_settings(&json!({"bogus": 1})).unwrap(), expected);
    }
}

// ---------------------------------------------------------------- mutation

#[test]
fn mutation_is_refused_but_an_identical_object_is_no_mutation() {
    let object = bare_request()["object"].clone();
    let same = json!({"accepted": true, "mutated_object": object}).to_string();
    let mut policy = load(&reply_guest(&same));
    assert_eq!(
        line(&mut policy, InstanceMode::Warm),
        r#"{"uid":"abc-123","allowed":true,"auditAnnotations":null,"warnings":null}"#
    );

    let mut changed_object = object.clone();
    changed_object["spec"]["image"] = json!("ghcr.io/x/documentdb:9.9.9");
    let changed = json!({"accepted": true, "mutated_object": changed_object}).to_string();
    let mut policy = load(&reply_guest(&changed));
    let resp = evaluate(&mut policy, InstanceMode::Fresh);
    assert!(!resp.allowed);
    let status = resp.status.unwrap();
    assert_eq!(status.code, Some(500));
    assert!(status.message.unwrap().contains("not allowed to mutate"));

    let mut delete = bare_request();
    delete["operation"] = json!("DELETE");
    delete.as_object_mut().unwrap().remove("object");
    let resp = policy.evaluate(&delete, &Value::Null).unwrap();
    assert_eq!(
        resp,
        AdmissionResponse::reject_internal_server_error(
            "abc-123",
            "Incoming object is null, which happens only with DELETE operations, but the policy is attempting a mutation. This is not allowed"
        )
    );
}
