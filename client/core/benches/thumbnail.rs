//! Thumbnail speed: `vault_client::photo::thumbnail` (reading the file included) against
//! libvips' `vipsthumbnail FILE --size 720`, run as a process in the same run, on every photo in
//! `target/testdata/photos/full` (the 24 MP Sony A6000 original called out separately).
//!
//! `cargo bench -p vault-client --bench thumbnail`. Needs Debian's `libvips-tools`; exits
//! nonzero without it. Peak memory: each photo is also thumbnailed once in a child process of
//! this binary, which reports its VmHWM growth; vips' peak comes from `/usr/bin/time` if present.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use vault_client::photo::{PhotoInfo, thumbnail};

use vault_test_support::photos;

const RUNS: usize = 5;
const HEAD: u64 = 256 * 1024;

/// Everything the client does for one photo: read the head, read the info, make the thumbnail.
fn ours(path: &Path) -> usize {
    let mut head = Vec::new();
    std::fs::File::open(path)
        .expect("open photo")
        .take(HEAD)
        .read_to_end(&mut head)
        .expect("read photo");
    let info = PhotoInfo::read(path, &head);
    let t = thumbnail(path, &info)
        .expect("thumbnail")
        .expect("a photo has a thumbnail");
    t.jpeg.len()
}

fn vips(path: &Path, out: &Path) {
    let status = Command::new("vipsthumbnail")
        .arg(path)
        .args(["--size", "720", "-o"])
        .arg(out)
        .status()
        .expect("run vipsthumbnail");
    assert!(
        status.success(),
        "vipsthumbnail failed on {}",
        path.display()
    );
}

fn median(mut runs: Vec<Duration>) -> f64 {
    runs.sort();
    runs[runs.len() / 2].as_secs_f64() * 1000.0
}

fn time(mut f: impl FnMut()) -> f64 {
    f(); // warm the page cache and the code
    median(
        (0..RUNS)
            .map(|_| {
                let start = Instant::now();
                f();
                start.elapsed()
            })
            .collect(),
    )
}

/// VmHWM (peak resident set) of this process, KiB.
fn vm_hwm() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Our peak memory growth for one photo, MiB, measured in a fresh child process.
fn our_peak(path: &Path) -> Option<f64> {
    let out = Command::new(std::env::current_exe().ok()?)
        .arg("--child-peak")
        .arg(path)
        .stderr(Stdio::inherit())
        .output()
        .ok()?;
    let kib: u64 = String::from_utf8(out.stdout).ok()?.trim().parse().ok()?;
    Some(kib as f64 / 1024.0)
}

/// vipsthumbnail's peak resident set, MiB, through GNU time.
fn vips_peak(path: &Path, out: &Path) -> Option<f64> {
    let result = Command::new("/usr/bin/time")
        .args(["-f", "%M"])
        .arg("vipsthumbnail")
        .arg(path)
        .args(["--size", "720", "-o"])
        .arg(out)
        .output()
        .ok()?;
    let text = String::from_utf8(result.stderr).ok()?;
    let kib: u64 = text.lines().last()?.trim().parse().ok()?;
    Some(kib as f64 / 1024.0)
}

fn megapixels(path: &Path) -> f64 {
    let info = PhotoInfo::read(path, &std::fs::read(path).unwrap_or_default());
    f64::from(info.width.unwrap_or(0)) * f64::from(info.height.unwrap_or(0)) / 1e6
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child-peak") {
        let path = PathBuf::from(&args[i + 1]);
        let before = vm_hwm().unwrap_or(0);
        ours(&path);
        let after = vm_hwm().unwrap_or(0);
        println!("{}", after.saturating_sub(before));
        return ExitCode::SUCCESS;
    }
    if Command::new("vipsthumbnail")
        .arg("--vips-version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_err()
    {
        eprintln!(
            "vipsthumbnail not found: install Debian's libvips-tools (apt-get install libvips-tools); \
             it is the baseline of this benchmark"
        );
        return ExitCode::FAILURE;
    }
    let dir = photos().join("full");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("read photos/full")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("jpg")))
        .collect();
    files.sort();
    let tmp = std::env::temp_dir().join(format!("vault-thumbnail-bench-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("temp dir");
    let out = tmp.join("x.jpg");

    println!(
        "thumbnail {} px, median of {RUNS} runs (after one warm-up); vips run as a process (start-up included)\n",
        vault_client::photo::THUMBNAIL_SIZE
    );
    println!(
        "{:<42} {:>6} {:>9} {:>9} {:>7} {:>10} {:>10}",
        "photo", "MP", "ours ms", "vips ms", "ratio", "ours MiB", "vips MiB"
    );
    let mut rows = Vec::new();
    for path in &files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let t_ours = time(|| {
            ours(path);
        });
        let t_vips = time(|| vips(path, &out));
        let mem = |m: Option<f64>| m.map_or("-".to_owned(), |m| format!("{m:.1}"));
        let (p_ours, p_vips) = (our_peak(path), vips_peak(path, &out));
        println!(
            "{:<42} {:>6.1} {:>9.1} {:>9.1} {:>6.2}x {:>10} {:>10}",
            name,
            megapixels(path),
            t_ours,
            t_vips,
            t_ours / t_vips,
            mem(p_ours),
            mem(p_vips)
        );
        rows.push((name, t_ours, t_vips));
    }
    let _ = std::fs::remove_dir_all(&tmp);
    if rows.is_empty() {
        eprintln!("no photos in {}", dir.display());
        return ExitCode::FAILURE;
    }
    let total_ours: f64 = rows.iter().map(|r| r.1).sum();
    let total_vips: f64 = rows.iter().map(|r| r.2).sum();
    let geo = (rows.iter().map(|r| (r.1 / r.2).ln()).sum::<f64>() / rows.len() as f64).exp();
    println!(
        "\nall {} photos: ours {total_ours:.0} ms, vips {total_vips:.0} ms, total ratio {:.2}x, geometric mean ratio {geo:.2}x",
        rows.len(),
        total_ours / total_vips
    );
    if let Some(sony) = rows.iter().find(|r| r.0.contains("sony-alpha-6000")) {
        println!(
            "24 MP Sony A6000 (baseline JPEG, 6000x4000): ours {:.1} ms, vips {:.1} ms, ratio {:.2}x",
            sony.1,
            sony.2,
            sony.1 / sony.2
        );
    }
    ExitCode::SUCCESS
}
