//! Generates the C header for the C ABI in `src/ffi` (into `OUT_DIR/zksession.h`).
//!
//! The committed `include/zksession.h` must equal that file; `scripts/test-c.sh` (and a
//! unit test in `src/ffi`) compare them. This script never fails the build: if cbindgen
//! cannot produce the header it prints a warning, and the freshness checks report it.

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=src/ffi");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=build.rs");
    // Under `--cfg loom` the C ABI is compiled out; there is nothing to generate.
    if env::var_os("CARGO_CFG_LOOM").is_some() {
        return;
    }
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let out = PathBuf::from(env::var("OUT_DIR").expect("set by cargo")).join("zksession.h");
    if let Err(e) = generate(&root, &out) {
        println!("cargo:warning=zksession.h not generated: {e}");
    }
}

/// The version macros, from the package version cargo passes in.
fn version_macros() -> String {
    let v = |k: &str| env::var(k).unwrap_or_else(|_| "0".into());
    format!(
        "\n#define ZKS_VERSION_MAJOR {}\n#define ZKS_VERSION_MINOR {}\n#define ZKS_VERSION_PATCH {}\n#define ZKS_VERSION_STRING \"{}\"",
        v("CARGO_PKG_VERSION_MAJOR"),
        v("CARGO_PKG_VERSION_MINOR"),
        v("CARGO_PKG_VERSION_PATCH"),
        v("CARGO_PKG_VERSION"),
    )
}

fn generate(root: &std::path::Path, out: &std::path::Path) -> Result<(), String> {
    let mut config = cbindgen::Config::from_file(root.join("cbindgen.toml"))?;
    config.after_includes = Some(version_macros());
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(root.join("src/ffi/mod.rs"))
        .generate()
        .map_err(|e| e.to_string())?;
    bindings.write_to_file(out);
    Ok(())
}
