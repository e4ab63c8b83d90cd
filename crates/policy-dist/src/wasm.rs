//! The little of the WebAssembly binary format `annotate` needs: walk the
//! sections, drop custom sections of a given name, append one.
//!
//! kwctl re-emits the whole module through walrus; appending a custom
//! section to the untouched bytes gives the engine the same module (custom
//! sections carry no semantics) and keeps `wasm-opt`'s output byte for byte.

use anyhow::{Result, bail};

const MAGIC: [u8; 4] = *b"\0asm";
const VERSION_1: [u8; 4] = [1, 0, 0, 0];
const CUSTOM_SECTION_ID: u8 = 0;

/// A section of a module: id and the byte range of its payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub id: u8,
    /// Range of the whole section (id, size and payload) in the module.
    pub whole: std::ops::Range<usize>,
    /// Range of the payload.
    pub payload: std::ops::Range<usize>,
}

/// Every section of a core module, in order. Checks the header and that the
/// sizes add up, nothing else.
pub fn sections(module: &[u8]) -> Result<Vec<Section>> {
    if module.len() < 8 || module[..4] != MAGIC {
        bail!("not a WebAssembly module (missing \\0asm magic bytes)");
    }
    if module[4..8] != VERSION_1 {
        bail!("not a WebAssembly core module version 1 (a component?)");
    }
    let mut sections = Vec::new();
    let mut pos = 8;
    while pos < module.len() {
        let start = pos;
        let id = module[pos];
        pos += 1;
        let (size, read) = read_u32_leb128(&module[pos..])?;
        pos += read;
        let end = pos
            .checked_add(size as usize)
            .filter(|end| *end <= module.len());
        let Some(end) = end else {
            bail!("section {id} at offset {start} runs past the end of the module");
        };
        sections.push(Section {
            id,
            whole: start..end,
            payload: pos..end,
        });
        pos = end;
    }
    Ok(sections)
}

/// Name and data of every custom section.
pub fn custom_sections(module: &[u8]) -> Result<Vec<(String, &[u8])>> {
    let mut out = Vec::new();
    for section in sections(module)? {
        if section.id != CUSTOM_SECTION_ID {
            continue;
        }
        let payload = &module[section.payload.clone()];
        let (len, read) = read_u32_leb128(payload)?;
        let name_end = read + len as usize;
        if name_end > payload.len() {
            bail!("custom section name runs past its section");
        }
        let name = std::str::from_utf8(&payload[read..name_end])
            .map_err(|_| anyhow::anyhow!("custom section name is not UTF-8"))?;
        out.push((name.to_owned(), &payload[name_end..]));
    }
    Ok(out)
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
    let mut out = Vec::with_capacity(module.len() + data.len() + name.len() + 16);
    out.extend_from_slice(&module[..8.min(module.len())]);
    for section in sections(module)? {
        let keep = section.id != CUSTOM_SECTION_ID || {
            let payload = &module[section.payload.clone()];
            let (len, read) = read_u32_leb128(payload)?;
            payload.get(read..read + len as usize) != Some(name.as_bytes())
        };
        if keep {
            out.extend_from_slice(&module[section.whole]);
        }
    }
    let mut payload = Vec::with_capacity(name.len() + data.len() + 5);
    write_u32_leb128(&mut payload, u32::try_from(name.len())?);
    payload.extend_from_slice(name.as_bytes());
    payload.extend_from_slice(data);
    out.push(CUSTOM_SECTION_ID);
    write_u32_leb128(&mut out, u32::try_from(payload.len())?);
    out.extend_from_slice(&payload);
    Ok(out)
}

fn read_u32_leb128(bytes: &[u8]) -> Result<(u32, usize)> {
    let mut value: u64 = 0;
    for (i, byte) in bytes.iter().take(5).enumerate() {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return u32::try_from(value)
                .map(|v| (v, i + 1))
                .map_err(|_| anyhow::anyhow!("LEB128 value does not fit in 32 bits"));
        }
    }
    bail!("truncated or over-long LEB128 value")
}

fn write_u32_leb128(out: &mut Vec<u8>, mut value: u32) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
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
    fn leb128_round_trips() {
        for v in [0, 1, 127, 128, 300, 16_384, u32::MAX] {
            let mut buf = Vec::new();
            write_u32_leb128(&mut buf, v);
            assert_eq!(read_u32_leb128(&buf).unwrap(), (v, buf.len()));
        }
        assert!(read_u32_leb128(&[0x80, 0x80]).is_err());
        assert!(read_u32_leb128(&[0xff, 0xff, 0xff, 0xff, 0x7f]).is_err());
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
        // Everything but the replaced section is untouched.
        assert_eq!(&twice[..m.len()], &m[..]);
    }

    #[test]
    fn rejects_what_is_not_a_core_module() {
        assert!(sections(b"not wasm").is_err());
        assert!(sections(b"\0asm\x0d\0\x01\0").is_err());
        let mut truncated = module();
        truncated.truncate(truncated.len() - 1);
        assert!(sections(&truncated).is_err());
    }
}
