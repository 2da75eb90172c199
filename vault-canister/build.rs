//! Prepares what the canister serves over HTTP for embedding: the link viewer (`viewer/`, at
//! `/s`) and the web app (`client/web`, at `/app/`). Each script, style sheet, icon and wasm
//! gets its content hash in its name, and the references to it are rewritten, so that browsers
//! may cache them for a year (`immutable`) while the pages themselves are revalidated on every
//! visit. A new canister version thus serves new names, never a stale script under an old one.
//!
//! The web app's wasm and its JS glue come from `scripts/build-web` (`target/web`, or
//! `VAULT_WEB_DIR`), gzipped there (`gzip -9 -n`) and served as they are with
//! `content-encoding: gzip`. `scripts/build-canister` builds them first; a canister built
//! without them (a plain `cargo build` of this crate) serves a page at `/app/` that says so.
//!
//! Output: `$OUT_DIR/assets/*` and `$OUT_DIR/assets.rs`, the tables `src/http/assets.rs`
//! includes (`VIEWER_ASSETS`, `APP_ASSETS`, `VIEWER_PAGE`, `APP_PAGE`, `APP_BUILT`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Where the viewer is served: the path of a link URL (the client's `LINK_PATH`).
const VIEWER_BASE: &str = "/s";
/// Where the web app is served (the service worker's scope is `/app/`).
const APP_BASE: &str = "/app";

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// Where a file comes from.
#[derive(Clone, Copy)]
enum Origin {
    /// A text file, whose references to earlier files are rewritten.
    Text(&'static str),
    /// A file served as it is (an image, or a file gzipped by `scripts/build-web`).
    Bytes(&'static str),
    /// A file of `scripts/build-web`'s output, gzipped there: served with `content-encoding: gzip`.
    Gzipped(&'static str),
}

/// One hashed file: where it comes from, its name as served, how the others refer to it, and
/// its content type.
struct Source {
    from: Origin,
    /// Its name before hashing (`viewer.js` → `viewer.<hash>.js`).
    name: &'static str,
    /// The exact string other files use for it (rewritten to the hashed path).
    referenced_as: &'static str,
    content_type: &'static str,
}

/// The viewer's files, in dependency order: a file's references are rewritten before its own
/// hash is taken.
const VIEWER: [Source; 4] = [
    Source {
        from: Origin::Text("origin.js"),
        name: "origin.js",
        referenced_as: "./origin.js",
        content_type: JS,
    },
    Source {
        from: Origin::Text("format.js"),
        name: "format.js",
        referenced_as: "./format.js",
        content_type: JS,
    },
    Source {
        from: Origin::Text("viewer.js"),
        name: "viewer.js",
        referenced_as: "/s/viewer.js",
        content_type: JS,
    },
    Source {
        from: Origin::Text("viewer.css"),
        name: "viewer.css",
        referenced_as: "/s/viewer.css",
        content_type: CSS,
    },
];

/// The web app's files, in dependency order. Text files are in `client/web/static` but for the
/// style sheet, which is the desktop app's own (`client/app/ui/src/style.css`).
const APP: [Source; 8] = [
    Source {
        from: Origin::Gzipped("vault-web_bg.wasm.gz"),
        name: "vault-web_bg.wasm",
        referenced_as: "./vault-web_bg.wasm",
        content_type: "application/wasm",
    },
    Source {
        from: Origin::Gzipped("vault-web.js.gz"),
        name: "vault-web.js",
        referenced_as: "./vault-web.js",
        content_type: JS,
    },
    Source {
        from: Origin::Text("kdf-worker.js"),
        name: "kdf-worker.js",
        referenced_as: "./kdf-worker.js",
        content_type: JS,
    },
    Source {
        from: Origin::Bytes("icon.svg"),
        name: "icon.svg",
        referenced_as: "/app/icon.svg",
        content_type: "image/svg+xml",
    },
    Source {
        from: Origin::Bytes("icon-192.png"),
        name: "icon-192.png",
        referenced_as: "/app/icon-192.png",
        content_type: "image/png",
    },
    Source {
        from: Origin::Bytes("icon-512.png"),
        name: "icon-512.png",
        referenced_as: "/app/icon-512.png",
        content_type: "image/png",
    },
    Source {
        from: Origin::Text("style.css"),
        name: "style.css",
        referenced_as: "/app/style.css",
        content_type: CSS,
    },
    Source {
        from: Origin::Text("boot.js"),
        name: "boot.js",
        referenced_as: "/app/boot.js",
        content_type: JS,
    },
];

/// What `/app/` says when the canister was built without the web app.
const NO_APP_PAGE: &str = "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Vault</title>\
<h1>No web app in this vault</h1><p>This vault's code was built without its web app. Open it \
from the Vault desktop app or the <code>vault</code> command line; whoever built it can include \
the web app with <code>scripts/build-canister</code>.</p></html>";

/// The generated table's entries.
struct Table {
    text: String,
    out: PathBuf,
}

impl Table {
    /// Writes `body` as `file` and adds an entry serving it at `path`.
    fn add(&mut self, path: &str, file: &str, body: &[u8], content_type: &str, entry: &str) {
        std::fs::write(self.out.join(file), body).expect("OUT_DIR is writable");
        writeln!(
            self.text,
            "    Asset {{ path: \"{path}\", content_type: \"{content_type}\", body: include_bytes!(concat!(env!(\"OUT_DIR\"), \"/assets/{file}\")), {entry} }},"
        )
        .expect("writing to a String");
    }
}

/// A reference to rewrite (`from` → `to`) and whether a file made it.
struct Rename {
    from: &'static str,
    to: String,
    found: bool,
}

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let root = manifest.join("..");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it")).join("assets");
    std::fs::create_dir_all(&out).expect("OUT_DIR is writable");

    let viewer_dir = manifest.join("viewer");
    let static_dir = root.join("client/web/static");
    let style = root.join("client/app/ui/src/style.css");
    let web_dir = std::env::var_os("VAULT_WEB_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/web"));
    println!("cargo::rerun-if-env-changed=VAULT_WEB_DIR");
    for watched in [&viewer_dir, &static_dir, &style] {
        println!("cargo::rerun-if-changed={}", watched.display());
    }
    let built = APP.iter().all(|s| match s.from {
        Origin::Gzipped(file) => web_dir.join(file).exists(),
        _ => true,
    });
    for source in &APP {
        if let Origin::Gzipped(file) = source.from {
            println!("cargo::rerun-if-changed={}", web_dir.join(file).display());
        }
    }
    if !built {
        println!(
            "cargo::warning=the web app is not built ({} has none): /app/ will say so; \
             scripts/build-canister builds it",
            web_dir.display()
        );
    }

    let mut table = Table {
        text: String::from(
            "// Generated by build.rs: the files served over HTTP, with content-hashed names.\n",
        ),
        out: out.clone(),
    };

    // The link viewer: /s (and /s/), its scripts and its style sheet, and its service worker.
    table
        .text
        .push_str("pub(crate) const VIEWER_ASSETS: &[Asset] = &[\n");
    let viewer_read = |file: &str| read(&viewer_dir, file);
    let (mut renames, _) = hashed(&mut table, VIEWER_BASE, &VIEWER, &viewer_read);
    let page = rewrite(&read_text(&viewer_dir, "index.html"), &mut renames);
    check_found(&renames, "viewer/");
    // Both service workers stream videos with the same code.
    let media_worker = read_text(&viewer_dir, "media-worker.js");
    let with_media = |worker: String, file: &str| {
        assert!(
            worker.contains("\n@MEDIA@\n"),
            "{file} lost its @MEDIA@ placeholder"
        );
        worker.replace("@MEDIA@", &media_worker)
    };
    table.add(
        "/s/sw.js",
        "viewer-sw.js",
        with_media(read_text(&viewer_dir, "sw.js"), "viewer/sw.js").as_bytes(),
        JS,
        "cache: REVALIDATE, encoding: None",
    );
    table.text.push_str("];\n");
    std::fs::write(out.join("viewer.html"), page).expect("OUT_DIR is writable");

    // The web app: /app/, its hashed files, its manifest and its service worker.
    table
        .text
        .push_str("pub(crate) const APP_ASSETS: &[Asset] = &[\n");
    let app_page = if built {
        let app_read = |file: &str| match file {
            "style.css" => std::fs::read(&style)
                .unwrap_or_else(|e| panic!("the app's style sheet {}: {e}", style.display())),
            _ if file.ends_with(".gz") => read(&web_dir, file),
            _ => read(&static_dir, file),
        };
        let (mut renames, mut paths) = hashed(&mut table, APP_BASE, &APP, &app_read);
        // The JS snippets the glue imports (`./snippets/<crate>-<hash>/…`), at the paths it
        // names: their folders are named for their crate's version, not their content, so
        // they are revalidated like the page.
        let snippets = web_dir.join("snippets");
        println!("cargo::rerun-if-changed={}", snippets.display());
        for file in files_under(&snippets) {
            let relative = file
                .strip_prefix(&web_dir)
                .expect("under the web dir")
                .to_str()
                .expect("snippet paths are UTF-8")
                .replace('\\', "/");
            let path = format!("{APP_BASE}/{relative}");
            table.add(
                &path,
                &relative.replace('/', "__"),
                &std::fs::read(&file).expect("a snippet is readable"),
                JS,
                "cache: REVALIDATE, encoding: None",
            );
            paths.push(path);
        }
        let manifest_text = rewrite(&read_text(&static_dir, "app.webmanifest"), &mut renames);
        let page = rewrite(&read_text(&static_dir, "index.html"), &mut renames);
        check_found(&renames, "client/web/static");
        table.add(
            "/app/app.webmanifest",
            "app.webmanifest",
            manifest_text.as_bytes(),
            "application/manifest+json",
            "cache: REVALIDATE, encoding: None",
        );
        // The service worker keeps the shell: the page, the manifest and the hashed files; its
        // version is theirs, so a new app is a new cache.
        let mut shell = vec!["/app/".to_string(), "/app/app.webmanifest".to_string()];
        shell.extend(paths);
        let mut version = Sha256::new();
        version.update(page.as_bytes());
        version.update(manifest_text.as_bytes());
        for path in &shell {
            version.update(path.as_bytes());
        }
        let version: String = version.finalize()[..6]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let shell_list = shell
            .iter()
            .map(|p| format!("\"{p}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let worker = read_text(&static_dir, "sw.js");
        assert!(
            worker.contains("\"@VERSION@\"") && worker.contains("[@SHELL@]"),
            "client/web/static/sw.js lost its @VERSION@ or @SHELL@ placeholder"
        );
        let worker = with_media(worker, "client/web/static/sw.js")
            .replace("@VERSION@", &version)
            .replace("@SHELL@", &shell_list);
        table.add(
            "/app/sw.js",
            "sw.js",
            worker.as_bytes(),
            JS,
            "cache: REVALIDATE, encoding: None",
        );
        page
    } else {
        NO_APP_PAGE.to_string()
    };
    table.text.push_str("];\n");
    std::fs::write(out.join("app.html"), app_page).expect("OUT_DIR is writable");
    writeln!(
        table.text,
        "pub(crate) const VIEWER_PAGE: &[u8] = include_bytes!(concat!(env!(\"OUT_DIR\"), \"/assets/viewer.html\"));\n\
         pub(crate) const APP_PAGE: &[u8] = include_bytes!(concat!(env!(\"OUT_DIR\"), \"/assets/app.html\"));\n\
         /// Whether the web app was built into this canister (else `/app/` says it was not).\n\
         #[cfg_attr(not(test), expect(dead_code, reason = \"the tests read it\"))]\n\
         pub(crate) const APP_BUILT: bool = {built};"
    )
    .expect("writing to a String");
    std::fs::write(
        out.parent().expect("a parent").join("assets.rs"),
        table.text,
    )
    .expect("OUT_DIR is writable");
}

/// Adds `sources` to the table under `base` with hashed names; returns the renames that later
/// files get, and the paths served.
fn hashed(
    table: &mut Table,
    base: &str,
    sources: &[Source],
    read: &dyn Fn(&str) -> Vec<u8>,
) -> (Vec<Rename>, Vec<String>) {
    let mut renames: Vec<Rename> = Vec::new();
    let mut paths = Vec::new();
    for source in sources {
        let (body, encoding) = match source.from {
            Origin::Text(file) => {
                let text = String::from_utf8(read(file))
                    .unwrap_or_else(|e| panic!("{file} is not UTF-8: {e}"));
                (rewrite(&text, &mut renames).into_bytes(), "None")
            }
            Origin::Bytes(file) => (read(file), "None"),
            Origin::Gzipped(file) => (read(file), "Some(\"gzip\")"),
        };
        let (stem, ext) = source
            .name
            .rsplit_once('.')
            .expect("names have an extension");
        let hash = Sha256::digest(&body);
        let short: String = hash[..6].iter().map(|b| format!("{b:02x}")).collect();
        let name = format!("{stem}.{short}.{ext}");
        let path = format!("{base}/{name}");
        table.add(
            &path,
            &name,
            &body,
            source.content_type,
            &format!("cache: IMMUTABLE, encoding: {encoding}"),
        );
        // Modules import each other relatively; pages refer to them from the root.
        let to = if source.referenced_as.starts_with("./") {
            format!("./{name}")
        } else {
            path.clone()
        };
        renames.push(Rename {
            from: source.referenced_as,
            to,
            found: false,
        });
        paths.push(path);
    }
    (renames, paths)
}

/// The files under `dir` (none when it is missing), in a stable order.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return files;
    };
    for entry in entries {
        let path = entry.expect("a readable folder").path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// Fails the build for a reference no file makes: a file the page would not load.
fn check_found(renames: &[Rename], dir: &str) {
    for rename in renames {
        assert!(
            rename.found,
            "no file of {dir} refers to `{}`: the page would not load it",
            rename.from
        );
    }
}

fn read(dir: &Path, file: &str) -> Vec<u8> {
    std::fs::read(dir.join(file))
        .unwrap_or_else(|e| panic!("{file} is missing from {}: {e}", dir.display()))
}

fn read_text(dir: &Path, file: &str) -> String {
    String::from_utf8(read(dir, file)).unwrap_or_else(|e| panic!("{file} is not UTF-8: {e}"))
}

/// `text` with every reference replaced by its hashed path, marking the references found.
fn rewrite(text: &str, renames: &mut [Rename]) -> String {
    let mut text = text.to_string();
    for rename in renames {
        rename.found |= text.contains(rename.from);
        text = text.replace(rename.from, &rename.to);
    }
    text
}
