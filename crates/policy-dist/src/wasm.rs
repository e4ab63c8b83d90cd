//! The little of the WebAssembly binary format `annotate` needs: list the
//! sections (`wasmparser`), drop custom sections of a given name, append one
//! (`wasm-encoder`).
//!
//! kwctl re-emits the whole module through walrus; appending a custom
//! section to the untouched bytes gives the engine the same module (custom
//! sections carry no semantics) and keeps `wasm-opt`'s output byte for byte.

use anyhow::{Result, anyhow, bail};
use wasm_encoder::{CustomSection, Section as _};
use wasmparser::{Encoding, Parser, Payload};

const MAGIC: &[u8] = b"\0asm";
const CUSTOM_SECTION_ID: u8 = 0;

/// A section of a module: id and the byte range of its payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub id: u8,
    /// Range of the whole section (id, size and payload) in the module.
    pub whole: std::ops::Range<usize>,
    /// Range of the payload.
    pub payload: std::ops::Range<usize>,
    /// The name of a custom section.
    pub custom_name: Option<String>,
    /// The data of a custom section (after its name).
    pub custom_data: std::ops::Range<usize>,
}

/// Every section of a core module, in order, as `wasmparser` reads them.
pub fn sections(module: &[u8]) -> Result<Vec<Section>> {
    if !module.starts_with(MAGIC) {
        bail!("not a WebAssembly module (missing \\0asm magic bytes)");
    }
    let mut sections = Vec::new();
    // A section's header (id, size) starts where the previous section ends.
    let mut previous_end = 0;
    for payload in Parser::new(0).parse_all(module) {
        let payload = payload.map_err(|e| anyhow!("invalid WebAssembly module: {e}"))?;
        match &payload {
            Payload::Version {
                encoding, range, ..
            } => {
                if *encoding != Encoding::Module {
                    bail!("not a WebAssembly core module version 1 (a component?)");
                }
                previous_end = range.end;
                continue;
            }
            Payload::End(_) => break,
            _ => {}
        }
        let Some((id, range)) = payload.as_section() else {
            continue; // the function bodies inside the code section
        };
        let (custom_name, custom_data) = match &payload {
            Payload::CustomSection(reader) => (
                Some(reader.name().to_owned()),
                reader.data_offset()..reader.data_offset() + reader.data().len(),
            ),
            _ => (None, 0..0),
        };
        sections.push(Section {
            id,
            whole: previous_end..range.end,
            payload: range.clone(),
            custom_name,
            custom_data,
        });
        previous_end = range.end;
    }
    Ok(sections)
}

/// Name and data of every custom section.
pub fn custom_sections(module: &[u8]) -> Result<Vec<(String, &[u8])>> {
    Ok(sections(module)?
        .into_iter()
        .filter_map(|s| s.custom_name.map(|name| (name, &module[s.custom_data])))
        .collect())
}

/// The data of the first custom section called `name` (how policy-evaluator
/// reads the metadata).
pub fn custom_section<'m>(module: &'m [u8], name: &str) -> Result<Option<&'m [u8]>> {
    Ok(custom_sections(module)?
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, data)| data))
}

/// The module with every custom section called `name` removed and one new
/// custom section `name` holding `data` appended at the end.
pub fn replace_custom_section(module: &[u8], name: &str, data: &[u8]) -> Result<Vec<u8>> {
    let sections = sections(module)?;
    u32::try_from(name.len() + data.len() + 5)
        .map_err(|_| anyhow!("custom section {name} is larger than 4 GiB"))?;
    let mut out = Vec::with_capacity(module.len() + data.len() + name.len() + 16);
    out.extend_from_slice(&module[..sections.first().map_or(module.len(), |s| s.whole.start)]);
    for section in sections {
        let replaced =
            section.id == CUSTOM_SECTION_ID && section.custom_name.as_deref() == Some(name);
        if !replaced {
            out.extend_from_slice(&module[section.whole]);
        }
    }
    CustomSection {
        name: name.into(),
        data: data.into(),
    }
    .append_to(&mut out);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(module (func))` plus a custom section "a" = "x".
    fn module() -> Vec<u8> {
        let mut m = b"\0asm\x01\0\0\0".to_vec();
        m.extend_from_slice(&[1, 4, 1, 0x60, 0, 0]); // type section: one () -> ()
        m.extend_from_slice(&[3, 2, 1, 0]); // function section
        m.extend_from_slice(&[10, 4, 1, 2, 0, 0x0b]); // code section
        m.extend_from_slice(&[0, 3, 1, b'a', b'x']); // custom "a"
        m
    }

    #[test]
    fn lists_sections_with_their_ranges() {
        let m = module();
        let found = sections(&m).unwrap();
        let ids: Vec<u8> = found.iter().map(|s| s.id).collect();
        assert_eq!(ids, [1, 3, 10, 0]);
        assert_eq!(found[0].whole, 8..14);
        assert_eq!(found[0].payload, 10..14);
        assert_eq!(found[3].whole, 24..29);
        assert_eq!(found[3].custom_name.as_deref(), Some("a"));
        assert_eq!(&m[found[3].custom_data.clone()], b"x");
    }

    #[test]
    fn appends_and_replaces_custom_sections() {
        let m = module();
        let once = replace_custom_section(&m, "io.kubewarden.metadata", b"{}").unwrap();
        assert_eq!(
            custom_section(&once, "io.kubewarden.metadata").unwrap(),
            Some(&b"{}"[..])
        );
        assert_eq!(custom_section(&once, "a").unwrap(), Some(&b"x"[..]));
        // The bytes a hand encoder would write: id 0, size, name length, name, data.
        let mut expected = m.clone();
        expected.extend_from_slice(&[0, 25, 22]);
        expected.extend_from_slice(b"io.kubewarden.metadata{}");
        assert_eq!(once, expected);
        let twice = replace_custom_section(&once, "io.kubewarden.metadata", &[7; 200]).unwrap();
        let names: Vec<_> = custom_sections(&twice)
            .unwrap()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(names, ["a", "io.kubewarden.metadata"]);
        assert_eq!(
            custom_section(&twice, "io.kubewarden.metadata").unwrap(),
            Some(&[7u8; 200][..])
        );
        // Everything but the replaced section is untouched; 223 bytes need a
        // two-byte LEB128 size.
        assert_eq!(&twice[..m.len()], &m[..]);
        assert_eq!(&twice[m.len()..m.len() + 4], &[0, 0xdf, 0x01, 22]);
    }

    #[test]
    fn rejects_what_is_not_a_core_module() {
        assert_eq!(
            sections(b"not wasm").unwrap_err().to_string(),
            "not a WebAssembly module (missing \\0asm magic bytes)"
        );
        assert_eq!(
            sections(b"\0asm\x0d\0\x01\0").unwrap_err().to_string(),
            "not a WebAssembly core module version 1 (a component?)"
        );
        let mut truncated = module();
        truncated.truncate(truncated.len() - 1);
        let err = sections(&truncated).unwrap_err().to_string();
        assert!(err.starts_with("invalid WebAssembly module: "), "{err}");
    }
}
