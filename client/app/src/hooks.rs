//! Test hooks: with `VAULT_APP_TEST_HOOKS=<file>`, the app writes what its window shows to
//! `<file>` (JSON, replaced atomically) ten times a second, read from the webview's own DOM:
//! the screen, the timeline's photo count, thumbnails drawn and decoded, where each element
//! with a `data-testid` is (so a test can click it with xdotool), what text fields hold
//! (never passwords), the notice shown, how long since launch, and when the first thumbnail
//! finished decoding (timed in the page by a `load` listener, not by the polling). Without the
//! variable nothing runs.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use dioxus::prelude::*;

use crate::backend::Desktop;

static STARTED: OnceLock<Instant> = OnceLock::new();

/// Marks the launch (called first thing in `main`).
pub fn started() {
    STARTED.get_or_init(Instant::now);
}

/// Notes when the first thumbnail has loaded (installed once, before the first probe).
const WATCH: &str = r#"
if (!window.__vaultWatch) {
  window.__vaultWatch = true;
  document.addEventListener('load', e => {
    if (window.__vaultFirstThumb == null && e.target.classList && e.target.classList.contains('thumb')) {
      window.__vaultFirstThumb = performance.now();
    }
  }, true);
}
return true;
"#;

/// What the page reports of itself.
const PROBE: &str = r#"
const thumbs = [...document.querySelectorAll('img.thumb')];
const timeline = document.querySelector('[data-testid="timeline"]');
const elements = {};
for (const e of document.querySelectorAll('[data-testid]')) {
  const r = e.getBoundingClientRect();
  const label = e.closest('label');
  const box = (r.width > 0 && r.height > 0) ? r : (label ? label.getBoundingClientRect() : r);
  if (box.width > 0 && box.height > 0 && !(e.dataset.testid in elements)) {
    elements[e.dataset.testid] = [Math.round(box.x + box.width / 2), Math.round(box.y + box.height / 2)];
  }
}
const inputs = {};
for (const e of document.querySelectorAll('input[data-testid]:not([type=password]), textarea[data-testid]')) {
  inputs[e.dataset.testid] = e.value;
}
// Tiles, by their photo's name (the first of a name).
for (const e of document.querySelectorAll('button.tile[title]')) {
  const r = e.getBoundingClientRect();
  const key = `tile:${e.title}`;
  if (r.width > 0 && r.height > 0 && !(key in elements)) {
    elements[key] = [Math.round(r.x + r.width / 2), Math.round(r.y + r.height / 2)];
  }
}
const video = document.querySelector('video[data-testid="full-video"]');
const active = document.querySelector('.nav-item.active');
const notice = document.querySelector('[data-testid="notice"] span');
return {
  screen: active ? active.textContent.trim() : null,
  photos: timeline ? Number(timeline.dataset.count) : null,
  complete: timeline ? timeline.dataset.complete === 'true' : null,
  thumbs: thumbs.length,
  thumbs_loaded: thumbs.filter(i => i.complete && i.naturalWidth > 0).length,
  elements,
  inputs,
  notice: notice ? notice.textContent : null,
  width: window.innerWidth,
  height: window.innerHeight,
  text: document.body.innerText.slice(0, 4000),
  first_thumb_ms_ago: window.__vaultFirstThumb == null ? null : performance.now() - window.__vaultFirstThumb,
  video: video ? {
    ready: video.readyState, src: video.currentSrc, duration: Number.isFinite(video.duration) ? video.duration : null,
    width: video.videoWidth, height: video.videoHeight, error: video.error ? video.error.message || String(video.error.code) : null,
  } : null,
};
"#;

/// Starts the hooks if `VAULT_APP_TEST_HOOKS` is set.
pub fn use_test_hooks(desktop: Desktop) {
    use_hook(move || {
        let Some(file) = std::env::var_os("VAULT_APP_TEST_HOOKS").map(PathBuf::from) else {
            return;
        };
        spawn(async move {
            let _ = document::eval(WATCH).await;
            let mut first_thumbs = None;
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                let Ok(mut report) = document::eval(PROBE).await else {
                    continue;
                };
                let since = STARTED.get().map_or(0, |s| s.elapsed().as_millis() as u64);
                if first_thumbs.is_none() {
                    first_thumbs = match report["first_thumb_ms_ago"].as_f64() {
                        Some(ago) => Some(since.saturating_sub(ago as u64)),
                        // Loaded before the listener was in place: no later than now.
                        None if report["thumbs_loaded"].as_u64().unwrap_or(0) > 0 => Some(since),
                        None => None,
                    };
                }
                report["ms_since_launch"] = since.into();
                report["ms_to_first_thumbnails"] = first_thumbs.into();
                report["thumbnails_served"] = desktop.thumbnails_served().into();
                let (ranges, chunks) = desktop.media_served();
                report["media_ranges"] = ranges.into();
                report["media_chunks"] = chunks.into();
                report["pid"] = std::process::id().into();
                let tmp = file.with_extension("tmp");
                if std::fs::write(&tmp, report.to_string()).is_ok() {
                    let _ = std::fs::rename(&tmp, &file);
                }
            }
        });
    });
}
