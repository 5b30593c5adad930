//! Drops the `name` and `producers` custom sections from every `.wasm` file in a
//! directory (Trunk's staging directory, from `TRUNK_STAGING_DIR`, or the first
//! argument). Trunk 0.21 cannot ask wasm-bindgen to drop them, and Debian's wasm-opt
//! is too old for rustc's output; the sections are a fifth of the gzipped size and
//! only name functions in stack traces (a panic's message and location stay).

use std::path::Path;

fn leb128(bytes: &[u8], mut i: usize) -> Option<(usize, usize)> {
    let (mut value, mut shift) = (0usize, 0u32);
    loop {
        let b = *bytes.get(i)?;
        i += 1;
        value |= usize::from(b & 0x7f).checked_shl(shift)?;
        shift += 7;
        if b < 0x80 {
            return Some((value, i));
        }
    }
}

/// The module without the two sections, or `None` if it is not a wasm module.
fn strip(bytes: &[u8]) -> Option<Vec<u8>> {
    if bytes.get(..4)? != b"\0asm" {
        return None;
    }
    let mut out = bytes.get(..8)?.to_vec();
    let mut i = 8;
    while i < bytes.len() {
        let start = i;
        let id = bytes[i];
        let (size, body) = leb128(bytes, i + 1)?;
        let end = body.checked_add(size)?;
        let section = bytes.get(start..end)?;
        let drop = id == 0 && {
            let (len, name_at) = leb128(bytes, body)?;
            matches!(bytes.get(name_at..name_at + len)?, b"name" | b"producers")
        };
        if !drop {
            out.extend_from_slice(section);
        }
        i = end;
    }
    Some(out)
}

fn main() -> std::process::ExitCode {
    let dir = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("TRUNK_STAGING_DIR").ok())
        .unwrap_or_else(|| "dist".into());
    let entries = match std::fs::read_dir(Path::new(&dir)) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("wasm-strip: {dir}: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("wasm") {
            continue;
        }
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        match strip(&bytes) {
            Some(out) if out.len() < bytes.len() => {
                if let Err(e) = std::fs::write(&path, &out) {
                    eprintln!("wasm-strip: {}: {e}", path.display());
                    return std::process::ExitCode::FAILURE;
                }
                println!(
                    "wasm-strip: {}: {} -> {} bytes",
                    path.display(),
                    bytes.len(),
                    out.len()
                );
            }
            Some(_) => {}
            None => eprintln!("wasm-strip: {}: not a wasm module", path.display()),
        }
    }
    std::process::ExitCode::SUCCESS
}
