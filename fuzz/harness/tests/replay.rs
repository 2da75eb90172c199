//! Every seed (`fuzz/corpus/<target>/`) and every crash found and fixed
//! (`fuzz/artifacts/<target>/`) through its target, on the stable toolchain: CI runs this, so a
//! fixed crash stays fixed without nightly or cargo-fuzz.

use std::path::{Path, PathBuf};

use vault_fuzz::TARGETS;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn every_seed_and_fixed_crash_passes_its_target() {
    let mut failures = Vec::new();
    let mut counts = Vec::new();
    for (name, target) in TARGETS {
        let corpus = vault_fuzz::inputs(&fuzz_dir().join("corpus").join(name));
        assert!(!corpus.is_empty(), "target {name} has no seed corpus");
        let artifacts = vault_fuzz::inputs(&fuzz_dir().join("artifacts").join(name));
        counts.push(format!(
            "{name}: {} seeds, {} crashes",
            corpus.len(),
            artifacts.len()
        ));
        for path in corpus.iter().chain(&artifacts) {
            let data = std::fs::read(path).expect("a readable input");
            if std::panic::catch_unwind(|| target(&data)).is_err() {
                failures.push(path.display().to_string());
            }
        }
    }
    println!("{}", counts.join("\n"));
    assert!(failures.is_empty(), "inputs that fail: {failures:#?}");
}

#[test]
fn every_target_has_a_cargo_fuzz_wrapper_and_back() {
    let mut wrappers: Vec<String> =
        vault_fuzz::inputs(&fuzz_dir().join("libfuzzer").join("fuzz_targets"))
            .iter()
            .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
            .collect();
    wrappers.sort();
    let mut names: Vec<String> = TARGETS.iter().map(|(n, _)| n.to_string()).collect();
    names.sort();
    assert_eq!(wrappers, names);
    let manifest =
        std::fs::read_to_string(fuzz_dir().join("libfuzzer").join("Cargo.toml")).unwrap();
    for name in &names {
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "fuzz/libfuzzer/Cargo.toml has no [[bin]] {name}"
        );
        let wrapper = std::fs::read_to_string(
            fuzz_dir()
                .join("libfuzzer")
                .join("fuzz_targets")
                .join(format!("{name}.rs")),
        )
        .unwrap();
        assert!(
            wrapper.contains("fuzz_target!") && wrapper.contains("vault_fuzz::"),
            "fuzz_targets/{name}.rs does not wrap a harness function"
        );
    }
}
