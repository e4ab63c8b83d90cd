//! Minimal hand-written waPC guests (WebAssembly text), one behaviour per operation.
//!
//! Memory layout: constant strings from 1024, host error buffer at 16384, operation name at
//! 32768, request payload at 65536 (memory grows to fit the payload).

use std::fmt::Write as _;

/// What a waPC operation (or `wapc_init`) does.
#[derive(Debug, Clone)]
pub enum Behaviour {
    /// Reply with these bytes (`__guest_response`), return 1.
    Reply(String),
    /// Fail with this message (`__guest_error`), return 0.
    Error(String),
    /// Execute `unreachable`.
    Trap,
    /// `loop { }`.
    LoopForever,
    /// `memory.grow(1)` until it returns -1, then fail with
    /// "memory.grow failed at 0x<pages, 8 hex digits> pages".
    GrowMemoryUntilFailure,
    /// Make a host call; on success reply `reply`, on failure forward the host error as the
    /// guest error.
    HostCall {
        binding: String,
        namespace: String,
        operation: String,
        payload: String,
        reply: String,
    },
    /// Make these host calls in order; the first that fails is forwarded as the guest error;
    /// when all succeed, reply with the last call's response, verbatim.
    HostCalls(Vec<HostCall>),
    /// Send the payload received from the host to `("kubewarden","tracing","log")` verbatim,
    /// then reply `reply`.
    EchoPayloadToLog { reply: String },
    /// Nothing (only meaningful for `wapc_init`).
    Nothing,
    /// These instructions, verbatim.
    Raw(String),
}

/// One waPC host call.
#[derive(Debug, Clone)]
pub struct HostCall {
    pub binding: String,
    pub namespace: String,
    pub operation: String,
    pub payload: String,
}

impl HostCall {
    /// A `("kubewarden", "kubernetes", operation)` call.
    pub fn kubernetes(operation: &str, payload: &str) -> Self {
        HostCall {
            binding: "kubewarden".into(),
            namespace: "kubernetes".into(),
            operation: operation.into(),
            payload: payload.into(),
        }
    }
}

/// A waPC guest module.
#[derive(Debug, Clone)]
pub struct Guest {
    pub wapc_init: Behaviour,
    pub protocol_version: Behaviour,
    pub validate_settings: Behaviour,
    pub validate: Behaviour,
    /// The module's `io.kubewarden.metadata` custom section (what `kwctl annotate` writes).
    pub metadata: Option<String>,
}

impl Default for Guest {
    fn default() -> Self {
        Guest {
            wapc_init: Behaviour::Nothing,
            protocol_version: Behaviour::Reply("\"v1\"".into()),
            validate_settings: Behaviour::Reply(r#"{"valid":true}"#.into()),
            validate: Behaviour::Reply(r#"{"accepted":true}"#.into()),
            metadata: None,
        }
    }
}

impl Guest {
    /// A guest whose `validate` does `behaviour`, everything else well-behaved.
    pub fn validating(behaviour: Behaviour) -> Self {
        Guest {
            validate: behaviour,
            ..Guest::default()
        }
    }

    pub fn wasm(&self) -> Vec<u8> {
        wat::parse_str(self.wat()).expect("test guest must be valid WAT")
    }

    pub fn wat(&self) -> String {
        let mut data = Data {
            next: 1024,
            segments: String::new(),
        };
        let init = body(&mut data, &self.wapc_init, false);
        let pv = body(&mut data, &self.protocol_version, true);
        let vs = body(&mut data, &self.validate_settings, true);
        let v = body(&mut data, &self.validate, true);
        assert!(data.next < 16384, "too much constant data");
        let metadata = match &self.metadata {
            Some(json) => format!(
                "  (@custom \"io.kubewarden.metadata\" \"{}\")\n",
                escape(json)
            ),
            None => String::new(),
        };
        format!(
            r#"(module
  (import "wapc" "__guest_request" (func $guest_request (param i32 i32)))
  (import "wapc" "__guest_response" (func $guest_response (param i32 i32)))
  (import "wapc" "__guest_error" (func $guest_error (param i32 i32)))
  (import "wapc" "__host_call" (func $host_call (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wapc" "__host_error_len" (func $host_error_len (result i32)))
  (import "wapc" "__host_error" (func $host_error (param i32)))
  (import "wapc" "__host_response_len" (func $host_response_len (result i32)))
  (import "wapc" "__host_response" (func $host_response (param i32)))
  (memory (export "memory") 2)
  (global $req_len (mut i32) (i32.const 0))
{metadata}{segments}
  ;; replies with the last host response, copied after the request payload
  (func $reply_host_response
    (local $at i32) (local $len i32) (local $need i32)
    (local.set $len (call $host_response_len))
    (local.set $at (i32.add (i32.const 65536) (global.get $req_len)))
    (local.set $need (i32.shr_u
      (i32.add (i32.add (local.get $at) (local.get $len)) (i32.const 65535)) (i32.const 16)))
    (if (i32.gt_u (local.get $need) (memory.size))
      (then (drop (memory.grow (i32.sub (local.get $need) (memory.size))))))
    (call $host_response (local.get $at))
    (call $guest_response (local.get $at) (local.get $len)))
  ;; writes `v` as 8 lowercase hex digits at `dst`
  (func $hex8 (param $v i32) (param $dst i32)
    (local $i i32) (local $d i32)
    (loop $digit
      (local.set $d (i32.and
        (i32.shr_u (local.get $v) (i32.sub (i32.const 28) (i32.mul (local.get $i) (i32.const 4))))
        (i32.const 15)))
      (i32.store8 (i32.add (local.get $dst) (local.get $i))
        (i32.add (local.get $d)
          (select (i32.const 48) (i32.const 87) (i32.lt_u (local.get $d) (i32.const 10)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $digit (i32.lt_u (local.get $i) (i32.const 8)))))
  (func (export "wapc_init") {init})
  (func $protocol_version (result i32) {pv})
  (func $validate_settings (result i32) {vs})
  (func $validate (result i32) {v})
  (func (export "__guest_call") (param $op_len i32) (param $req_len i32) (result i32)
    (local $need i32)
    (global.set $req_len (local.get $req_len))
    (local.set $need (i32.shr_u (i32.add (local.get $req_len) (i32.const 131071)) (i32.const 16)))
    (if (i32.gt_u (local.get $need) (memory.size))
      (then (drop (memory.grow (i32.sub (local.get $need) (memory.size))))))
    (call $guest_request (i32.const 32768) (i32.const 65536))
    ;; dispatch on the length of the operation name: protocol_version (16),
    ;; validate_settings (17), validate (8)
    (if (i32.eq (local.get $op_len) (i32.const 16)) (then (return (call $protocol_version))))
    (if (i32.eq (local.get $op_len) (i32.const 17)) (then (return (call $validate_settings))))
    (if (i32.eq (local.get $op_len) (i32.const 8)) (then (return (call $validate))))
    unreachable)
)
"#,
            segments = data.segments
        )
    }
}

struct Data {
    next: u32,
    segments: String,
}

impl Data {
    /// Places `s` in a data segment; returns `(offset, length)`.
    fn add(&mut self, s: &str) -> (u32, u32) {
        let offset = self.next;
        let escaped = escape(s);
        writeln!(self.segments, "  (data (i32.const {offset}) \"{escaped}\")").unwrap();
        let len = s.len() as u32;
        self.next += len.div_ceil(8) * 8 + 8;
        (offset, len)
    }
}

/// `s` as the inside of a WAT string.
fn escape(s: &str) -> String {
    let mut escaped = String::new();
    for b in s.bytes() {
        match b {
            b'"' | b'\\' => write!(escaped, "\\{}", b as char).unwrap(),
            0x20..=0x7e => escaped.push(b as char),
            _ => write!(escaped, "\\{b:02x}").unwrap(),
        }
    }
    escaped
}

/// The instructions of a function body; `returns` = the function returns the waPC status.
fn body(data: &mut Data, behaviour: &Behaviour, returns: bool) -> String {
    let status = |s: u32| {
        if returns {
            format!("(i32.const {s})")
        } else {
            String::new()
        }
    };
    match behaviour {
        Behaviour::Nothing => status(1),
        Behaviour::Reply(reply) => {
            let (off, len) = data.add(reply);
            format!(
                "(call $guest_response (i32.const {off}) (i32.const {len})) {}",
                status(1)
            )
        }
        Behaviour::Error(message) => {
            let (off, len) = data.add(message);
            format!(
                "(call $guest_error (i32.const {off}) (i32.const {len})) {}",
                status(0)
            )
        }
        Behaviour::Trap => "unreachable".into(),
        Behaviour::Raw(instructions) => instructions.clone(),
        Behaviour::LoopForever => format!("(loop $forever (br $forever)) {}", status(0)),
        Behaviour::GrowMemoryUntilFailure => {
            let template = "memory.grow failed at 0x00000000 pages";
            let (off, len) = data.add(template);
            let digits = off + template.find("00000000").unwrap() as u32;
            format!(
                "(block $done (loop $grow
                   (br_if $done (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
                   (br $grow)))
                 (call $hex8 (memory.size) (i32.const {digits}))
                 (call $guest_error (i32.const {off}) (i32.const {len})) {}",
                status(0)
            )
        }
        Behaviour::HostCall {
            binding,
            namespace,
            operation,
            payload,
            reply,
        } => {
            let (bd, bd_len) = data.add(binding);
            let (ns, ns_len) = data.add(namespace);
            let (op, op_len) = data.add(operation);
            let (pl, pl_len) = data.add(payload);
            let (rp, rp_len) = data.add(reply);
            let expr = format!(
                "(if (result i32) (call $host_call (i32.const {bd}) (i32.const {bd_len})
                     (i32.const {ns}) (i32.const {ns_len}) (i32.const {op}) (i32.const {op_len})
                     (i32.const {pl}) (i32.const {pl_len}))
                   (then (call $guest_response (i32.const {rp}) (i32.const {rp_len})) (i32.const 1))
                   (else
                     (call $host_error (i32.const 16384))
                     (call $guest_error (i32.const 16384) (call $host_error_len))
                     (i32.const 0)))"
            );
            if returns {
                expr
            } else {
                format!("(drop {expr})")
            }
        }
        Behaviour::HostCalls(calls) => {
            assert!(returns, "HostCalls replies: not for wapc_init");
            let mut body = String::new();
            for call in calls {
                let (bd, bd_len) = data.add(&call.binding);
                let (ns, ns_len) = data.add(&call.namespace);
                let (op, op_len) = data.add(&call.operation);
                let (pl, pl_len) = data.add(&call.payload);
                write!(
                    body,
                    "(if (i32.eqz (call $host_call (i32.const {bd}) (i32.const {bd_len})
                         (i32.const {ns}) (i32.const {ns_len}) (i32.const {op}) (i32.const {op_len})
                         (i32.const {pl}) (i32.const {pl_len})))
                       (then
                         (call $host_error (i32.const 16384))
                         (call $guest_error (i32.const 16384) (call $host_error_len))
                         (return (i32.const 0))))\n"
                )
                .unwrap();
            }
            body.push_str("(call $reply_host_response) (i32.const 1)");
            body
        }
        Behaviour::EchoPayloadToLog { reply } => {
            let (bd, bd_len) = data.add("kubewarden");
            let (ns, ns_len) = data.add("tracing");
            let (op, op_len) = data.add("log");
            let (rp, rp_len) = data.add(reply);
            format!(
                "(drop (call $host_call (i32.const {bd}) (i32.const {bd_len})
                     (i32.const {ns}) (i32.const {ns_len}) (i32.const {op}) (i32.const {op_len})
                     (i32.const 65536) (global.get $req_len)))
                 (call $guest_response (i32.const {rp}) (i32.const {rp_len})) {}",
                status(1)
            )
        }
    }
}
