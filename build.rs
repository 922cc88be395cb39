// `sqlx::migrate!` embeds the migrations at compile time; without this a new
// migration file would not trigger a rebuild. The shipped protocol vault is
// embedded too, for `ssot init`: this lists its files for `include_str!`.
use std::path::{Path, PathBuf};

fn notes(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("the protocols folder is readable")
        .map(|e| e.expect("a readable entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            notes(&path, out);
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
}

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=protocols");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("protocols");
    let mut files = Vec::new();
    notes(&root, &mut files);
    let mut code = String::from(
        "/// The shipped protocol vault: (path inside it, text).\npub const DEFAULT_VAULT: &[(&str, &str)] = &[\n",
    );
    for file in files {
        let inside = file
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        code.push_str(&format!(
            "    ({inside:?}, include_str!({:?})),\n",
            file.display().to_string()
        ));
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("default_vault.rs");
    std::fs::write(out, code).expect("OUT_DIR is writable");
}
