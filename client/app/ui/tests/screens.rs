//! Every screen in each of its states (loading, failed, empty, many), rendered with no renderer
//! (VirtualDom + dioxus-ssr), and the flows that take clicks and typing, driven through the
//! runtime's event handling as a renderer would.
//!
//! The backend here is in memory: these tests are about what the screens show and do with
//! answers. The real backend, the real canister and the real window are in `vault-app`'s
//! end-to-end test.

use std::any::Any;
use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

use dioxus::prelude::*;
use std::collections::HashMap;

use dioxus_core::{AttributeValue, ElementId, Mutation};
use dioxus_html::{
    PlatformEventData, SerializedDataTransfer, SerializedDragData, SerializedFileData,
    SerializedFormData, SerializedFormObject, SerializedMouseData,
};
use futures_channel::mpsc::{UnboundedReceiver, unbounded};
use vault_ui::*;

// ---------------------------------------------------------------------------------------------
// An in-memory backend.

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    /// Answers never come.
    Loading,
    /// Every call fails.
    Failed,
    /// A new vault: nothing in it.
    Empty,
    /// Lots of everything.
    Many,
}

const FAILURE: &str = "The replica at http://127.0.0.1:4943 does not answer: is it running?";
const KEY: &str = "abandon ability able about above absent absorb abstract absurd abuse access accident account accuse achieve acid acoustic acquire across act action actor actress actual";
const PAGE: usize = 500;

struct Fake {
    mode: Mode,
    photos: usize,
    status: Status,
    /// Whether this device may pay (a browser's key reaches only its vault).
    can_pay: bool,
    calls: RefCell<Vec<String>>,
    uploads: RefCell<Vec<futures_channel::mpsc::UnboundedSender<UploadEvent>>>,
}

impl Fake {
    fn new(mode: Mode) -> Rc<Fake> {
        Rc::new(Fake {
            mode,
            photos: if mode == Mode::Many { 10_000 } else { 0 },
            status: Status::Unlocked,
            can_pay: true,
            calls: RefCell::new(Vec::new()),
            uploads: RefCell::new(Vec::new()),
        })
    }

    fn with_status(mode: Mode, status: Status) -> Rc<Fake> {
        let mut f = Rc::into_inner(Fake::new(mode)).unwrap();
        f.status = status;
        Rc::new(f)
    }

    fn answer<T: 'static>(&self, call: String, empty: T, many: impl FnOnce() -> T) -> Call<T> {
        self.calls.borrow_mut().push(call);
        match self.mode {
            Mode::Loading => Box::pin(std::future::pending()),
            Mode::Failed => Box::pin(async { Err(UiError::new(FAILURE)) }),
            Mode::Empty => Box::pin(async move { Ok(empty) }),
            Mode::Many => {
                let v = many();
                Box::pin(async move { Ok(v) })
            }
        }
    }

    fn called(&self, prefix: &str) -> Vec<String> {
        self.calls
            .borrow()
            .iter()
            .filter(|c| c.starts_with(prefix))
            .cloned()
            .collect()
    }
}

fn photo(i: usize) -> Photo {
    // One every three hours, newest first, from 1 June 2024.
    Photo {
        id: format!("{i:032x}"),
        name: format!("IMG_{i:05}.jpg"),
        mime: "image/jpeg".into(),
        size: 3_000_000,
        taken_ms: 1_717_200_000_000 - i as i64 * 3 * 3_600_000,
        width: Some(6000),
        height: Some(4000),
        has_thumbnail: i % 97 != 5,
        duration_ms: None,
        album: None,
    }
}

fn album(i: usize) -> Album {
    Album {
        id: format!("a{i:031x}"),
        name: format!("Album {i}"),
        files: i as u64 * 3,
        cover: Some(format!("{i:032x}")),
    }
}

impl Backend for Fake {
    fn status(&self) -> Call<Status> {
        let s = self.status.clone();
        self.answer("status".into(), s.clone(), || s)
    }
    fn create(&self, passphrase: String) -> Call<String> {
        self.answer(format!("create {passphrase}"), KEY.into(), || KEY.into())
    }
    fn unlock(&self, vault: Option<String>, passphrase: String) -> Call<()> {
        self.calls
            .borrow_mut()
            .push(format!("unlock {vault:?} {passphrase}"));
        if passphrase == "correct horse" {
            Box::pin(async { Ok(()) })
        } else {
            Box::pin(async {
                Err(UiError::new(
                    "wrong passphrase: try again, or recover with your recovery key",
                ))
            })
        }
    }
    fn recover(&self, vault: Option<String>, key: String, new_passphrase: String) -> Call<()> {
        self.answer(
            format!("recover {vault:?} {key} / {new_passphrase}"),
            (),
            || (),
        )
    }
    fn lock(&self) -> Call<()> {
        self.answer("lock".into(), (), || ())
    }
    fn photos(
        &self,
        album: Option<String>,
        trash: bool,
        after: Option<String>,
    ) -> Call<Page<Photo>> {
        let start: usize = after.as_deref().map_or(0, |a| a.parse().unwrap());
        let total = self.photos;
        self.answer(
            format!("photos {album:?} {trash} {start}"),
            Page {
                items: vec![],
                next: None,
            },
            move || {
                let end = (start + PAGE).min(total);
                Page {
                    items: (start..end).map(photo).collect(),
                    next: (end < total).then(|| end.to_string()),
                }
            },
        )
    }
    fn details(&self, id: String) -> Call<PhotoDetails> {
        self.answer(format!("details {id}"), PhotoDetails::default(), || {
            PhotoDetails {
                rows: vec![
                    ("Camera".into(), "SONY ILCE-6000".into()),
                    ("Location".into(), "46.5197, 6.6323".into()),
                ],
            }
        })
    }
    fn download(&self, id: String) -> Call<PathBuf> {
        self.answer(format!("download {id}"), PathBuf::new(), || {
            PathBuf::from("/home/me/Downloads/IMG_00000.jpg")
        })
    }
    fn trash(&self, ids: Vec<String>) -> Call<()> {
        self.answer(format!("trash {ids:?}"), (), || ())
    }
    fn restore(&self, ids: Vec<String>) -> Call<()> {
        self.answer(format!("restore {ids:?}"), (), || ())
    }
    fn image_url(&self, kind: ImageKind, id: &str) -> String {
        match kind {
            ImageKind::Thumbnail => format!("vault://localhost/thumb/{id}"),
            ImageKind::Original => format!("vault://localhost/original/{id}"),
            ImageKind::Video => format!("vault://localhost/media/{id}"),
        }
    }
    fn upload(&self, paths: Vec<PathBuf>, album: Option<String>) -> UnboundedReceiver<UploadEvent> {
        self.calls
            .borrow_mut()
            .push(format!("upload {paths:?} {album:?}"));
        let (tx, rx) = unbounded();
        self.uploads.borrow_mut().push(tx);
        rx
    }
    fn albums(&self) -> Call<Vec<Album>> {
        self.answer("albums".into(), vec![], || (1..=40).map(album).collect())
    }
    fn create_album(&self, name: String) -> Call<Album> {
        let a = Album {
            id: "new".into(),
            name: name.clone(),
            files: 0,
            cover: None,
        };
        self.answer(format!("create_album {name}"), a.clone(), || a)
    }
    fn add_to_album(&self, ids: Vec<String>, album: String) -> Call<()> {
        self.answer(format!("add_to_album {ids:?} {album}"), (), || ())
    }
    fn share_code(&self) -> Call<ShareCode> {
        let c = ShareCode {
            code: "vsc1-myshare-code".into(),
            fingerprint: "apple river stone cloud lamp wolf".into(),
            vault: "rrkah-fqaaa-aaaaa-aaaaq-cai".into(),
        };
        self.answer("share_code".into(), c.clone(), || c)
    }
    fn check_share_code(&self, code: String) -> Call<String> {
        self.calls.borrow_mut().push(format!("check {code}"));
        if code.starts_with("vsc1-") {
            Box::pin(async { Ok("tiger maple ocean brick fern quartz".to_string()) })
        } else {
            Box::pin(async {
                Err(UiError::new(
                    "not a share code: ask them for the code under Sharing",
                ))
            })
        }
    }
    fn share(&self, target: Target, share_code: String, expires_days: Option<u32>) -> Call<Grant> {
        let g = Grant {
            target: target.clone(),
            name: None,
            grantee: "friend".into(),
            permission: "view".into(),
            expires: None,
            expired: false,
            told: Some("They will see it under Shared with me.".into()),
        };
        self.answer(
            format!("share {target:?} {share_code} {expires_days:?}"),
            g.clone(),
            || g,
        )
    }
    fn grants(&self) -> Call<Vec<Grant>> {
        self.answer("grants".into(), vec![], || {
            (0..300)
                .map(|i| Grant {
                    target: Target::Album(album(i % 40 + 1).id),
                    name: Some(format!("Album {}", i % 40 + 1)),
                    grantee: format!("friend-{i}"),
                    permission: "view".into(),
                    expires: (i % 2 == 0).then(|| "2027-01-01".to_string()),
                    expired: i % 7 == 0,
                    told: None,
                })
                .collect()
        })
    }
    fn revoke_grant(&self, target: Target, grantee: String) -> Call<()> {
        self.answer(format!("revoke_grant {target:?} {grantee}"), (), || ())
    }
    fn create_link(&self, target: Target, request: LinkRequest) -> Call<Link> {
        let l = Link {
            id: "l1".into(),
            target: target.clone(),
            name: None,
            url: Some("http://vault.localhost:4943/s#k=secret".into()),
            expires: None,
            expired: false,
            revoked: false,
            password: request.password.is_some(),
            opened: 0,
        };
        self.answer(
            format!("create_link {target:?} {request:?}"),
            l.clone(),
            || l,
        )
    }
    fn links(&self) -> Call<Vec<Link>> {
        self.answer("links".into(), vec![], || {
            (0..120)
                .map(|i| Link {
                    id: format!("link{i}"),
                    target: Target::Photo(format!("{i:032x}")),
                    name: Some(format!("IMG_{i:05}.jpg")),
                    url: Some(format!("http://x.localhost/s#{i}")),
                    expires: Some("2027-01-01".into()),
                    expired: i % 5 == 0,
                    revoked: i % 11 == 0,
                    password: i % 2 == 0,
                    opened: i as u64,
                })
                .collect()
        })
    }
    fn revoke_link(&self, id: String) -> Call<()> {
        self.answer(format!("revoke_link {id}"), (), || ())
    }
    fn shared_with_me(&self) -> Call<SharedList> {
        self.answer("shared_with_me".into(), SharedList::default(), || {
            SharedList {
                items: (0..50)
                    .map(|i| SharedItem {
                        vault: format!("vault-{i}"),
                        target: Target::Album(format!("{i}")),
                        name: Some(format!("Holiday {i}")),
                        permission: "view".into(),
                        expires: None,
                        new_from: (i < 2).then(|| format!("friend-{i}")),
                    })
                    .collect(),
                unreadable: vec![UnreadableVault {
                    vault: "gone-vault".into(),
                    why: "the canister is out of cycles".into(),
                }],
            }
        })
    }
    fn add_shared_vault(&self, vault: String) -> Call<()> {
        self.calls
            .borrow_mut()
            .push(format!("add_shared_vault {vault}"));
        if vault == "aaaaa-aa" {
            Box::pin(async { Ok(()) })
        } else {
            Box::pin(async {
                Err(UiError::new(
                    "that vault shares nothing with you yet: ask its owner to share with your share code",
                ))
            })
        }
    }
    fn top_up(&self, amount: TopUp) -> Call<String> {
        self.answer(format!("top_up {amount:?}"), String::new(), move || {
            format!("Sent {amount:?} to your vault")
        })
    }
    fn vault_price(&self) -> Option<String> {
        Some("A vault costs 1.5 T cycles (about $2.03)".into())
    }
    fn dismiss_shared_vault(&self, vault: String) -> Call<()> {
        self.answer(format!("dismiss_shared_vault {vault}"), (), || ())
    }
    fn shared_photos(&self, vault: String, target: Target) -> Call<Vec<Photo>> {
        let v = vault.clone();
        self.answer(
            format!("shared_photos {vault} {}", target.id()),
            vec![],
            move || {
                (0..30)
                    .map(|i| Photo {
                        id: format!("{v}/{i:032x}"),
                        ..photo(i)
                    })
                    .collect()
            },
        )
    }
    fn pending_uploads(&self) -> Call<Vec<PendingUpload>> {
        let aborted = self.called("abort_upload");
        self.answer("pending_uploads".into(), vec![], move || {
            (0..3)
                .map(|i| PendingUpload {
                    id: format!("{i:032x}"),
                    who: if i == 0 {
                        "you".into()
                    } else {
                        format!("friend-{i}")
                    },
                    album: (i > 0).then(|| "Holiday".to_string()),
                    sent_chunks: i,
                    chunks: 40,
                    reserved_bytes: 40 << 20,
                    expires: "2026-12-04 10:00".into(),
                })
                .filter(|u| !aborted.contains(&format!("abort_upload {}", u.id)))
                .collect()
        })
    }
    fn abort_upload(&self, id: String) -> Call<()> {
        self.answer(format!("abort_upload {id}"), (), || ())
    }
    fn remove_device(&self, principal: String) -> Call<()> {
        self.answer(format!("remove_device {principal}"), (), || ())
    }
    fn activity(&self) -> Call<Vec<Activity>> {
        self.answer("activity".into(), vec![], || {
            (0..200)
                .map(|i| Activity {
                    time: format!("2026-12-0{} 10:00", i % 9 + 1),
                    who: "me".into(),
                    what: format!("uploaded IMG_{i:05}.jpg"),
                })
                .collect()
        })
    }
    fn settings(&self) -> Call<Settings> {
        let s = Settings {
            network: "local (the embedded replica)".into(),
            identity: "me-principal".into(),
            canister: "vault-canister-id".into(),
            app_url: "http://vault-canister-id.localhost:4943/app/".into(),
            files: self.photos as u64,
            stored_bytes: 30 << 30,
            quota_bytes: Some(100 << 30),
            cost: "$0.37 a month".into(),
            cycles: "0.900 T cycles; it burns 0.0003 T a day ($0.01 a month), about 2900 days before it freezes".into(),
            cycles_low: false,
            wallet: if self.can_pay {
                "This device holds 2.000 T cycles and 1.5 ICP".into()
            } else {
                "Top up from the desktop app: this browser's key reaches only your vault".into()
            },
            can_pay: self.can_pay,
            code: "this app's own module (ab12…)".into(),
            code_known: true,
            devices: vec![
                Device {
                    principal: "me-principal".into(),
                    about: "device, added today, this device".into(),
                    this_device: true,
                },
                Device {
                    principal: "laptop-principal".into(),
                    about: "device, added last year".into(),
                    this_device: false,
                },
            ],
        };
        self.answer(
            "settings".into(),
            Settings {
                files: 0,
                stored_bytes: 0,
                quota_bytes: None,
                ..s.clone()
            },
            || s,
        )
    }
    fn copy(&self, text: String) -> Call<()> {
        self.answer(format!("copy {text}"), (), || ())
    }
}

// ---------------------------------------------------------------------------------------------
// Rendering and events, as a renderer would drive them.

struct Ui {
    dom: VirtualDom,
    /// Every listener the renderer was told of: (event, element), oldest first.
    listeners: Vec<(String, ElementId)>,
    /// Elements by `data-testid`, newest.
    ids: HashMap<String, ElementId>,
    rt: tokio::runtime::Runtime,
}

impl Ui {
    fn new(dom: VirtualDom) -> Ui {
        dioxus_html::set_event_converter(Box::new(dioxus_html::SerializedHtmlEventConverter));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let mut ui = Ui {
            dom,
            listeners: Vec::new(),
            ids: HashMap::new(),
            rt,
        };
        let edits = ui.dom.rebuild_to_vec();
        ui.record(edits.edits);
        ui.settle();
        ui
    }

    fn unlocked(backend: Rc<Fake>, screen: Screen) -> Ui {
        Ui::new(VirtualDom::new_with_props(
            Unlocked,
            UnlockedProps {
                backend: BackendHandle(backend),
                screen,
            },
        ))
    }

    fn app(backend: Rc<Fake>) -> Ui {
        Ui::new(VirtualDom::new_with_props(
            App,
            AppProps {
                backend: BackendHandle(backend),
            },
        ))
    }

    fn record(&mut self, edits: Vec<Mutation>) {
        for edit in edits {
            match edit {
                Mutation::NewEventListener { name, id } => {
                    self.listeners.push((name.to_string(), id))
                }
                Mutation::SetAttribute {
                    name: "data-testid",
                    value: AttributeValue::Text(t),
                    id,
                    ..
                } => {
                    self.ids.insert(t, id);
                }
                _ => {}
            }
        }
    }

    /// Lets answers arrive and renders until nothing changes.
    fn settle(&mut self) {
        for _ in 0..50 {
            let dom = &mut self.dom;
            let worked = self.rt.block_on(async {
                tokio::time::timeout(Duration::from_millis(5), dom.wait_for_work())
                    .await
                    .is_ok()
            });
            let edits = self.dom.render_immediate_to_vec();
            self.record(edits.edits);
            if !worked {
                break;
            }
        }
    }

    fn html(&self) -> String {
        dioxus_ssr::render(&self.dom)
    }

    /// The newest element listening for `event` (the `nth` newest, from 0).
    fn listener(&self, event: &str, nth: usize) -> ElementId {
        self.listeners
            .iter()
            .rev()
            .filter(|(name, _)| name == event)
            .nth(nth)
            .unwrap_or_else(|| panic!("no {nth}th '{event}' listener in {:?}", self.listeners))
            .1
    }

    fn fire(&mut self, event: &str, data: Box<dyn Any>, id: ElementId) {
        let event_data: Rc<dyn Any> = Rc::new(PlatformEventData::new(data));
        self.dom
            .runtime()
            .handle_event(event, Event::new(event_data, true), id);
        self.settle();
    }

    fn id(&self, testid: &str) -> ElementId {
        *self
            .ids
            .get(testid)
            .unwrap_or_else(|| panic!("no element {testid}: {}", self.html()))
    }

    fn click_on(&mut self, testid: &str) {
        let id = self.id(testid);
        self.fire("click", Box::new(SerializedMouseData::default()), id);
    }

    fn type_in(&mut self, testid: &str, value: &str) {
        let id = self.id(testid);
        self.fire(
            "input",
            Box::new(SerializedFormData::new(value.into(), vec![])),
            id,
        );
    }

    fn choose(&mut self, testid: &str, value: &str) {
        let id = self.id(testid);
        self.fire(
            "change",
            Box::new(SerializedFormData::new(value.into(), vec![])),
            id,
        );
    }

    fn submit_form(&mut self, testid: &str) {
        let id = self.id(testid);
        self.fire(
            "submit",
            Box::new(SerializedFormData::new(String::new(), vec![])),
            id,
        );
    }

    fn click(&mut self, nth_newest: usize) {
        let id = self.listener("click", nth_newest);
        self.fire("click", Box::new(SerializedMouseData::default()), id);
    }
}

fn count(html: &str, needle: &str) -> usize {
    html.matches(needle).count()
}

// ---------------------------------------------------------------------------------------------
// Each screen, each state.

const SCREENS: [Screen; 8] = [
    Screen::Photos,
    Screen::Albums,
    Screen::Upload,
    Screen::Sharing,
    Screen::Shared,
    Screen::Activity,
    Screen::Trash,
    Screen::Settings,
];

#[test]
fn every_screen_shows_loading_while_answers_are_on_their_way() {
    for screen in SCREENS {
        if screen == Screen::Upload {
            continue; // Nothing to wait for: it only lists albums to choose from.
        }
        let ui = Ui::unlocked(Fake::new(Mode::Loading), screen.clone());
        let html = ui.html();
        assert!(
            html.contains(r#"data-testid="loading""#),
            "{screen:?}: {html}"
        );
        assert!(!html.contains(r#"data-testid="failed""#), "{screen:?}");
    }
}

#[test]
fn every_screen_says_what_failed_and_offers_to_try_again() {
    for screen in SCREENS {
        if screen == Screen::Upload {
            continue;
        }
        let fake = Fake::new(Mode::Failed);
        let mut ui = Ui::unlocked(fake.clone(), screen.clone());
        let html = ui.html();
        assert!(
            html.contains(r#"data-testid="failed""#),
            "{screen:?}: {html}"
        );
        assert!(
            html.contains("does not answer: is it running?"),
            "{screen:?}"
        );
        assert!(html.contains("Try again"), "{screen:?}");
        // "Try again" asks again.
        let before = fake.calls.borrow().len();
        ui.click(0);
        assert!(
            fake.calls.borrow().len() > before,
            "{screen:?}: try again asked nothing"
        );
    }
}

#[test]
fn empty_screens_say_what_to_do() {
    let expect = [
        (Screen::Photos, "No photos yet"),
        (Screen::Albums, "No albums yet"),
        (Screen::Upload, "Drop photos or folders here"),
        (Screen::Sharing, "Nothing is shared with anyone."),
        (Screen::Shared, "Nothing shared with you yet"),
        (Screen::Activity, "No activity yet"),
        (Screen::Trash, "The trash is empty"),
        (Screen::Settings, "(no quota)"),
    ];
    for (screen, text) in expect {
        let ui = Ui::unlocked(Fake::new(Mode::Empty), screen.clone());
        let html = ui.html();
        assert!(html.contains(text), "{screen:?}: {html}");
        assert!(
            !html.contains(r#"data-testid="loading""#),
            "{screen:?} still loading"
        );
    }
    // An empty sharing screen has nothing to share and says so.
    let html = Ui::unlocked(Fake::new(Mode::Empty), Screen::Sharing).html();
    assert!(html.contains("No links yet."));
    assert!(html.contains("Nothing to share yet"));
    assert!(
        html.contains("apple river stone cloud lamp wolf"),
        "share code words"
    );
}

#[test]
fn ten_thousand_photos_fill_in_page_by_page_and_only_what_is_on_screen_is_drawn() {
    let fake = Fake::new(Mode::Many);
    let ui = Ui::unlocked(fake.clone(), Screen::Photos);
    let html = ui.html();
    // Every page was asked for, one after another.
    assert_eq!(fake.called("photos").len(), 10_000 / PAGE);
    assert!(html.contains(r#"data-count="10000""#));
    assert!(html.contains(r#"data-complete="true""#));
    assert!(html.contains("10000 photos"));
    // The newest month and days head the grid.
    assert!(html.contains("May 2024"), "{}", &html[..2000]);
    assert!(html.contains("Friday 31 May 2024"));
    // Only the rows near the viewport are in the DOM: a few dozen thumbnails, not 10,000.
    let thumbs = count(&html, r#"class="thumb""#);
    assert!((20..200).contains(&thumbs), "{thumbs} thumbnails drawn");
    assert!(html.contains("vault://localhost/thumb/00000000000000000000000000000000"));
    assert!(!html.contains("vault://localhost/thumb/00000000000000000000000000002710"));
    // A photo without a thumbnail shows its kind.
    assert!(html.contains(">JPG<"));
}

#[test]
fn many_items_on_every_other_screen() {
    let expect = [
        (Screen::Albums, vec!["Album 40", "120 photos"]),
        (
            Screen::Sharing,
            vec![
                "friend-299",
                "opened 119×",
                "revoked",
                "expired",
                "album “Album 40”",
            ],
        ),
        (Screen::Shared, vec!["Holiday 49", "from vault vault-49"]),
        (Screen::Activity, vec!["uploaded IMG_00199.jpg"]),
        (
            Screen::Settings,
            vec!["30.0 GiB of 100.0 GiB", "$0.37 a month", "laptop", "10000"],
        ),
        (Screen::Trash, vec!["10000 photos"]),
    ];
    for (screen, texts) in expect {
        let ui = Ui::unlocked(Fake::new(Mode::Many), screen.clone());
        let html = ui.html();
        for text in texts {
            assert!(html.contains(text), "{screen:?} lacks {text:?}");
        }
    }
}

#[test]
fn the_layout_works_at_phone_width() {
    // The stylesheet puts the navigation along the bottom below 720 px and a sidebar above.
    assert!(STYLE.contains("@media (min-width: 720px)"));
    let html = Ui::unlocked(Fake::new(Mode::Many), Screen::Photos).html();
    assert!(html.contains(r#"class="nav""#));
    for (_, label, testid) in Screen::NAV {
        assert!(
            html.contains(&format!(r#"data-testid="{testid}""#)),
            "{label}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Flows.

#[test]
fn creating_a_vault_shows_the_recovery_key_once_and_asks_for_two_of_its_words() {
    let fake = Fake::with_status(Mode::Empty, Status::NoVault);
    let mut ui = Ui::app(fake.clone());
    assert!(ui.html().contains("Create your vault"));
    // What it costs, before anything is paid.
    assert!(ui.html().contains("A vault costs 1.5 T cycles"));
    ui.type_in("passphrase", "short");
    ui.type_in("passphrase-again", "short");
    ui.submit_form("create-form");
    assert!(ui.html().contains("Use at least 8 characters"));
    ui.type_in("passphrase", "a long passphrase");
    ui.type_in("passphrase-again", "a different one!");
    ui.submit_form("create-form");
    assert!(ui.html().contains("The two passphrases differ"));
    assert!(
        fake.called("create").is_empty(),
        "nothing is created on bad input"
    );
    ui.type_in("passphrase-again", "a long passphrase");
    ui.submit_form("create-form");
    assert_eq!(fake.called("create"), vec!["create a long passphrase"]);
    let html = ui.html();
    assert!(html.contains("Your recovery key"));
    assert_eq!(count(&html, "<li>"), 24, "24 words");
    assert!(html.contains("actress"));
    // "Next" waits for the box to be ticked.
    ui.click_on("key-next");
    assert!(
        ui.html().contains("Your recovery key"),
        "not ticked: no next step"
    );
    let id = ui.id("kept");
    ui.fire(
        "change",
        Box::new(SerializedFormData::new("true".into(), vec![])),
        id,
    );
    ui.click_on("key-next");
    let html = ui.html();
    assert!(html.contains("Check your recovery key"), "{html}");
    assert!(html.contains("Word 3") && html.contains("Word 23"));
    // Wrong words are refused; the key is not gone.
    ui.type_in("word-a", "wrong");
    ui.type_in("word-b", "words");
    ui.submit_form("confirm-form");
    assert!(ui.html().contains("Those words do not match"));
    ui.type_in("word-a", " Able ");
    ui.type_in("word-b", "actress");
    ui.submit_form("confirm-form");
    let html = ui.html();
    assert!(html.contains("No photos yet"), "{html}");
    assert!(!html.contains("actress"), "the key is not shown again");
}

#[test]
fn a_wrong_passphrase_is_refused_with_what_to_do_and_the_right_one_unlocks() {
    let fake = Fake::with_status(Mode::Empty, Status::Locked);
    let mut ui = Ui::app(fake.clone());
    assert!(ui.html().contains("Unlock your vault"));
    ui.submit_form("unlock-form");
    assert!(ui.html().contains("Type your passphrase."));
    ui.type_in("passphrase", "wrong one");
    ui.submit_form("unlock-form");
    let html = ui.html();
    assert!(html.contains("wrong passphrase: try again, or recover with your recovery key"));
    assert!(html.contains("Unlock your vault"));
    ui.type_in("passphrase", "correct horse");
    ui.submit_form("unlock-form");
    assert_eq!(fake.called("unlock").len(), 2);
    assert!(ui.html().contains("No photos yet"));
    // Settings → Lock: back to the unlock form.
    ui.click_on("nav-settings");
    ui.click_on("lock");
    assert_eq!(fake.called("lock").len(), 1);
    assert!(ui.html().contains("Unlock your vault"));
}

#[test]
fn recovering_needs_all_24_words_and_a_new_passphrase() {
    let fake = Fake::with_status(Mode::Empty, Status::Locked);
    let mut ui = Ui::app(fake.clone());
    ui.click_on("to-recover");
    assert!(ui.html().contains("Recover your vault"));
    ui.type_in("recovery-key", "just a few words");
    ui.type_in("passphrase", "new passphrase");
    ui.type_in("passphrase-again", "new passphrase");
    ui.submit_form("recover-form");
    assert!(ui.html().contains("A recovery key is 24 words"));
    assert!(fake.called("recover").is_empty());
    ui.type_in("recovery-key", &format!("  {}  ", KEY.replace(' ', "\n")));
    ui.submit_form("recover-form");
    assert_eq!(
        fake.called("recover"),
        vec![format!("recover None {KEY} / new passphrase")]
    );
    assert!(ui.html().contains("No photos yet"));
}

#[test]
fn a_new_device_opens_an_existing_vault_by_its_id() {
    // This device knows no vault: it offers to create one, or to open one by its id.
    let fake = Fake::with_status(Mode::Empty, Status::NoVault);
    let mut ui = Ui::app(fake.clone());
    assert!(ui.html().contains("Create your vault"));
    ui.click_on("to-unlock");
    assert!(ui.html().contains("Open your vault on this device"));
    ui.type_in("passphrase", "correct horse");
    ui.submit_form("unlock-form");
    assert!(
        ui.html().contains("Type your vault&#39;s id")
            || ui.html().contains("Type your vault's id")
    );
    assert!(
        fake.called("unlock").is_empty(),
        "nothing asked without an id"
    );
    ui.type_in("vault-id", "  aaaaa-aa  ");
    ui.submit_form("unlock-form");
    assert_eq!(
        fake.called("unlock"),
        vec![r#"unlock Some("aaaaa-aa") correct horse"#.to_string()]
    );
    assert!(ui.html().contains("No photos yet"));

    // Recovering on a new device asks for the id too.
    let fake = Fake::with_status(Mode::Empty, Status::NoVault);
    let mut ui = Ui::app(fake.clone());
    ui.click_on("to-recover");
    ui.type_in("vault-id", "aaaaa-aa");
    ui.type_in("recovery-key", KEY);
    ui.type_in("passphrase", "new passphrase");
    ui.type_in("passphrase-again", "new passphrase");
    ui.submit_form("recover-form");
    assert_eq!(
        fake.called("recover"),
        vec![format!(
            r#"recover Some("aaaaa-aa") {KEY} / new passphrase"#
        )]
    );
}

#[test]
fn an_upload_shows_each_file_and_the_total_and_what_failed_and_tries_again() {
    let fake = Fake::new(Mode::Many);
    let mut ui = Ui::unlocked(fake.clone(), Screen::Upload);
    // Into an album.
    ui.choose("upload-album", &album(2).id);
    // The file picker answers two files (a renderer puts their paths in the event).
    let file = |p: &str| SerializedFormObject {
        key: "files".into(),
        text: None,
        file: Some(SerializedFileData {
            path: PathBuf::from(p),
            ..SerializedFileData::empty()
        }),
    };
    let id = ui.id("files-input");
    ui.fire(
        "change",
        Box::new(SerializedFormData::new(
            String::new(),
            vec![file("/p/a.jpg"), file("/p/b.jpg")],
        )),
        id,
    );
    let album2 = album(2).id;
    assert_eq!(
        fake.called("upload"),
        vec![format!(
            r#"upload ["/p/a.jpg", "/p/b.jpg"] Some("{album2}")"#
        )]
    );
    let send = |ui: &mut Ui, e: UploadEvent| {
        fake.uploads
            .borrow()
            .last()
            .unwrap()
            .unbounded_send(e)
            .unwrap();
        ui.settle();
    };
    send(
        &mut ui,
        UploadEvent::Begin {
            files: vec![("/p/a.jpg".into(), 4 << 20), ("/p/b.jpg".into(), 4 << 20)],
        },
    );
    send(
        &mut ui,
        UploadEvent::Advance {
            path: "/p/a.jpg".into(),
            bytes: 2 << 20,
        },
    );
    let html = ui.html();
    assert!(
        html.contains("Uploading: 0 of 2 files, 2.0 MiB of 8.0 MiB"),
        "{html}"
    );
    assert!(html.contains("2.0 MiB of 4.0 MiB"));
    assert!(html.contains("●"), "the tab shows an upload runs");
    send(
        &mut ui,
        UploadEvent::Advance {
            path: "/p/a.jpg".into(),
            bytes: 2 << 20,
        },
    );
    send(
        &mut ui,
        UploadEvent::Done {
            path: "/p/a.jpg".into(),
            result: Ok("uploaded".into()),
        },
    );
    send(
        &mut ui,
        UploadEvent::Done {
            path: "/p/b.jpg".into(),
            result: Err("b.jpg: permission denied: check you can read it".into()),
        },
    );
    send(&mut ui, UploadEvent::Finished);
    let html = ui.html();
    assert!(html.contains("Done: 1 of 2 files"), "{html}");
    assert!(html.contains("1 failed"));
    assert!(html.contains("b.jpg: permission denied: check you can read it"));
    assert!(html.contains("1 file could not be uploaded"));
    assert!(!html.contains("●"));
    // The failed file goes again, to the same album (the backend resumes what was sent).
    ui.click_on("retry-failed");
    assert_eq!(fake.called("upload").len(), 2, "{:?}", fake.calls.borrow());
    assert_eq!(
        fake.called("upload")[1],
        format!(r#"upload ["/p/b.jpg"] Some("{album2}")"#)
    );
    send(
        &mut ui,
        UploadEvent::Begin {
            files: vec![("/p/b.jpg".into(), 4 << 20)],
        },
    );
    send(
        &mut ui,
        UploadEvent::Done {
            path: "/p/b.jpg".into(),
            result: Ok("resumed".into()),
        },
    );
    send(&mut ui, UploadEvent::Finished);
    let html = ui.html();
    assert!(
        html.contains("Done: 2 of 2 files, 8.0 MiB of 8.0 MiB"),
        "{html}"
    );
    assert!(html.contains("Uploaded (resumed)"));
}

/// The upload screen lists every upload in progress in the vault (a contributor's too), with
/// what each holds; "Abort" stops one and the list no longer has it.
#[test]
fn uploads_in_progress_are_listed_and_one_is_aborted() {
    let fake = Fake::new(Mode::Many);
    let mut ui = Ui::unlocked(fake.clone(), Screen::Upload);
    let html = ui.html();
    assert!(html.contains(r#"data-testid="pending-uploads""#), "{html}");
    assert!(html.contains("In progress in your vault"));
    assert!(html.contains("friend-2 → Holiday"), "{html}");
    assert!(html.contains("2 of 40 parts sent"));
    assert!(
        html.contains("These hold 120.0 MiB of your storage"),
        "{html}"
    );
    let friend = format!("{:032x}", 2);
    ui.click_on(&format!("abort-upload-{friend}"));
    assert_eq!(
        fake.called("abort_upload"),
        vec![format!("abort_upload {friend}")]
    );
    let html = ui.html();
    assert!(!html.contains("friend-2"), "{html}");
    assert!(html.contains("friend-1"));
    assert!(html.contains("These hold 80.0 MiB"));
    assert!(html.contains("Upload stopped: 40.0 MiB freed"), "{html}");

    // With nothing in progress, nothing is shown.
    let html = Ui::unlocked(Fake::new(Mode::Empty), Screen::Upload).html();
    assert!(!html.contains("pending-uploads"), "{html}");
}

#[test]
fn sharing_checks_the_code_shows_their_words_and_shares_for_a_time() {
    let fake = Fake::new(Mode::Many);
    let mut ui = Ui::unlocked(fake.clone(), Screen::Sharing);
    ui.type_in("share-code-input", "nonsense");
    assert!(
        ui.html()
            .contains("not a share code: ask them for the code under Sharing")
    );
    // Sharing waits for a valid code.
    ui.submit_form("share-form");
    assert!(fake.called("share ").is_empty());
    ui.type_in("share-code-input", "vsc1-friend");
    assert!(ui.html().contains("tiger maple ocean brick fern quartz"));
    ui.choose("share-target", "2");
    ui.choose("share-expiry", "7");
    ui.submit_form("share-form");
    let shares = fake.called("share ");
    assert_eq!(shares.len(), 1, "{:?}", fake.calls.borrow());
    assert_eq!(
        shares[0],
        format!(r#"share Album("{}") vsc1-friend Some(7)"#, album(3).id)
    );
    assert!(ui.html().contains("Shared album “Album 3”"));
    // Revoking a grant asks the backend.
    ui.click_on("revoke-grant");
    assert_eq!(fake.called("revoke_grant").len(), 1);
    assert!(ui.html().contains("Access taken back"));
}

#[test]
fn settings_show_where_the_vault_serves_the_app_and_copy_it() {
    let fake = Fake::new(Mode::Many);
    let mut ui = Ui::unlocked(fake.clone(), Screen::Settings);
    assert!(
        ui.html()
            .contains("http://vault-canister-id.localhost:4943/app/"),
        "{}",
        ui.html()
    );
    ui.click_on("copy-app-url");
    assert_eq!(
        fake.called("copy"),
        vec!["copy http://vault-canister-id.localhost:4943/app/"]
    );
    // Its cycles and which code runs it, each on its row.
    let html = ui.html();
    assert!(html.contains("about 2900 days before it freezes"), "{html}");
    assert!(
        html.contains("data-testid=\"code\">this app&#39;s own module"),
        "{html}"
    );
}

/// Topping up from the app: the amount chosen is sent, said, and the balance read again.
#[test]
fn settings_top_up_the_vault_with_the_amount_chosen() {
    let fake = Fake::new(Mode::Many);
    let mut ui = Ui::unlocked(fake.clone(), Screen::Settings);
    assert!(
        ui.html()
            .contains("This device holds 2.000 T cycles and 1.5 ICP")
    );
    ui.choose("top-up-amount", "5");
    ui.click_on("top-up");
    assert_eq!(fake.called("top_up"), vec!["top_up Cycles { t: 5 }"]);
    assert!(ui.html().contains("Sent Cycles { t: 5 } to your vault"));
    assert_eq!(fake.called("settings").len(), 2, "read again");

    // Or in ICP, 0.5 unless another amount is chosen.
    ui.click_on("top-up-icp");
    ui.choose("top-up-icp-amount", "200000000");
    ui.click_on("top-up-icp");
    assert_eq!(
        fake.called("top_up")[1..],
        [
            "top_up Icp { e8s: 50000000 }",
            "top_up Icp { e8s: 200000000 }"
        ]
    );
    assert!(
        ui.html()
            .contains("Sent Icp { e8s: 200000000 } to your vault")
    );
    assert_eq!(fake.called("settings").len(), 4, "read again after each");
}

/// A browser's key reaches only its vault: Settings offers no top-up there, and says how else.
#[test]
fn settings_in_a_browser_offer_no_top_up_and_say_how_else() {
    let mut fake = Rc::into_inner(Fake::new(Mode::Many)).unwrap();
    fake.can_pay = false;
    let fake = Rc::new(fake);
    let ui = Ui::unlocked(fake.clone(), Screen::Settings);
    let html = ui.html();
    assert!(html.contains("Top up from the desktop app"), "{html}");
    assert!(!html.contains("data-testid=\"top-up\""), "{html}");
    assert!(!html.contains("data-testid=\"top-up-icp\""), "{html}");
    assert!(
        html.contains("data-testid=\"cycles\""),
        "its cycles still shown"
    );
}

#[test]
fn settings_remove_another_device_after_asking() {
    let fake = Fake::new(Mode::Many);
    let mut ui = Ui::unlocked(fake.clone(), Screen::Settings);
    // Only the other device can be removed from here.
    assert_eq!(
        ui.html().matches("data-testid=\"remove-device\"").count(),
        1
    );
    ui.click_on("remove-device");
    assert!(fake.called("remove_device").is_empty(), "asked first");
    assert!(ui.html().contains("It will no longer reach your vault"));
    ui.click_on("confirm-remove-device");
    assert_eq!(
        fake.called("remove_device"),
        vec!["remove_device laptop-principal"]
    );
    assert!(ui.html().contains("Device removed"), "{}", ui.html());
}

#[test]
fn a_link_is_made_with_expiry_and_password_and_its_url_can_be_copied() {
    let fake = Fake::new(Mode::Many);
    let mut ui = Ui::unlocked(fake.clone(), Screen::Sharing);
    ui.type_in("link-password", "open sesame");
    ui.submit_form("link-form");
    let made = fake.called("create_link");
    assert_eq!(made.len(), 1);
    assert!(
        made[0].contains("expires_days: Some(30)") && made[0].contains("open sesame"),
        "{}",
        made[0]
    );
    assert!(ui.html().contains("http://vault.localhost:4943/s#k=secret"));
    ui.click_on("copy-new-link");
    assert_eq!(
        fake.called("copy"),
        vec!["copy http://vault.localhost:4943/s#k=secret"]
    );
    assert!(ui.html().contains("Copied"));
    ui.click_on("revoke-link");
    assert_eq!(fake.called("revoke_link").len(), 1);
    assert!(ui.html().contains("Link revoked: it no longer opens"));
}

#[test]
fn the_viewer_steps_shows_details_downloads_shares_and_trashes() {
    let fake = Fake::new(Mode::Many);
    let mut ui = Ui::unlocked(fake.clone(), Screen::Photos);
    // Open the newest photo: the first tile's is the oldest click listener after the navigation's.
    let first_tile = ui
        .listeners
        .iter()
        .filter(|(n, _)| n == "click")
        .nth(NAV_BUTTONS)
        .unwrap()
        .1;
    ui.fire(
        "click",
        Box::new(SerializedMouseData::default()),
        first_tile,
    );
    let html = ui.html();
    assert!(html.contains(r#"data-testid="viewer""#), "{html}");
    assert!(html.contains("IMG_00000.jpg"));
    assert!(html.contains("1 of 10000"));
    assert!(html.contains("vault://localhost/original/00000000000000000000000000000000"));
    ui.click_on("viewer-next");
    assert!(ui.html().contains("2 of 10000"));
    assert!(ui.html().contains("IMG_00001.jpg"));
    ui.click_on("viewer-prev");
    ui.click_on("viewer-next");
    ui.click_on("viewer-info");
    assert!(ui.html().contains("SONY ILCE-6000"), "details");
    ui.click_on("viewer-download");
    assert_eq!(
        fake.called("download"),
        vec![format!("download {:032x}", 1)]
    );
    assert!(
        ui.html()
            .contains("Saved to /home/me/Downloads/IMG_00000.jpg")
    );
    ui.choose("viewer-album", &album(5).id);
    assert_eq!(
        fake.called("add_to_album"),
        vec![format!(r#"add_to_album ["{:032x}"] {}"#, 1, album(5).id)]
    );
    ui.click_on("viewer-trash");
    assert_eq!(
        fake.called("trash"),
        vec![format!("trash [\"{:032x}\"]", 1)]
    );
    let html = ui.html();
    assert!(html.contains("Moved to the trash"));
    assert!(html.contains("2 of 9999"), "the next photo shows");
    // Share: the sharing screen opens with this photo chosen.
    ui.click_on("viewer-share");
    let html = ui.html();
    assert!(!html.contains(r#"data-testid="viewer""#));
    assert!(html.contains("photo “IMG_00002.jpg”"), "{html}");
}

#[test]
fn a_vault_someone_shares_from_is_added_by_its_id_and_a_wrong_one_is_refused() {
    let fake = Fake::new(Mode::Empty);
    let mut ui = Ui::unlocked(fake.clone(), Screen::Shared);
    assert!(ui.html().contains("Nothing shared with you yet"));
    ui.submit_form("add-shared-form");
    assert!(ui.html().contains("Paste the vault id"));
    assert!(fake.called("add_shared_vault").is_empty());
    ui.type_in("shared-vault-input", "bbbbb-bb");
    ui.submit_form("add-shared-form");
    assert!(ui.html().contains("shares nothing with you yet"));
    assert_eq!(fake.called("shared_with_me").len(), 1, "not listed again");
    ui.type_in("shared-vault-input", " aaaaa-aa ");
    ui.submit_form("add-shared-form");
    assert_eq!(
        fake.called("add_shared_vault"),
        vec!["add_shared_vault bbbbb-bb", "add_shared_vault aaaaa-aa"]
    );
    assert_eq!(fake.called("shared_with_me").len(), 2, "listed again");
    assert!(ui.html().contains("Added"));
}

/// The share inbox: a new share (its vault told this user's) shows as new, with who sent it,
/// and is added (followed) or dismissed; it opens only once added.
#[test]
fn a_new_share_is_added_or_dismissed_and_opens_once_added() {
    let fake = Fake::new(Mode::Many);
    let mut ui = Ui::unlocked(fake.clone(), Screen::Shared);
    let html = ui.html();
    assert_eq!(
        html.matches(r#"data-testid="new-shared""#).count(),
        2,
        "{html}"
    );
    assert!(html.contains("Told to your vault by friend-1"), "{html}");
    assert_eq!(html.matches(r#"data-testid="open-shared""#).count(), 48);
    // A vault followed that could not be read is said, with a way to stop following it; so
    // is every vault followed.
    assert!(
        html.contains("A vault you follow could not be read"),
        "{html}"
    );
    assert!(html.contains("the canister is out of cycles"), "{html}");
    assert_eq!(html.matches(r#"data-testid="unfollow-shared""#).count(), 49);
    ui.click_on("dismiss-shared");
    assert_eq!(
        fake.called("dismiss_shared_vault"),
        vec!["dismiss_shared_vault vault-1"]
    );
    assert!(ui.html().contains("It no longer shows here"));
    assert_eq!(fake.called("shared_with_me").len(), 2, "listed again");
    // Adding: the backend's refusal (this fake's vault shares nothing) is shown.
    ui.click_on("follow-shared");
    assert_eq!(
        fake.called("add_shared_vault"),
        vec!["add_shared_vault vault-1"]
    );
    assert!(ui.html().contains("shares nothing with you yet"));
}

#[test]
fn what_is_shared_with_me_opens_to_its_photos_to_look_at_and_download_only() {
    let fake = Fake::new(Mode::Many);
    let mut ui = Ui::unlocked(fake.clone(), Screen::Shared);
    // The newest "Open" is the last item's.
    ui.click_on("open-shared");
    assert_eq!(
        fake.called("shared_photos"),
        vec!["shared_photos vault-49 49"]
    );
    let html = ui.html();
    assert!(html.contains("Holiday 49"), "{html}");
    assert!(html.contains("30 photos · shared with you"), "{html}");
    // The shared vault's photos load from URLs that name it.
    assert!(html.contains("vault://localhost/thumb/vault-49/00000000000000000000000000000000"));
    ui.click_on("back-to-shared");
    assert!(ui.html().contains("from vault vault-0"));

    // Open the newest: the first tile's click listener comes after the navigation's and
    // the back button's.
    let mut ui = Ui::unlocked(
        fake.clone(),
        Screen::SharedPhotos {
            vault: "vault-7".into(),
            target: Target::Album("7".into()),
            name: "Holiday 7".into(),
        },
    );
    let first_tile = ui
        .listeners
        .iter()
        .filter(|(n, _)| n == "click")
        .nth(NAV_BUTTONS + 1)
        .unwrap()
        .1;
    ui.fire(
        "click",
        Box::new(SerializedMouseData::default()),
        first_tile,
    );
    let html = ui.html();
    assert!(html.contains("1 of 30"), "{html}");
    assert!(html.contains(r#"data-testid="viewer-download""#));
    // Someone else's photo: no trash, no album, no resharing.
    for refused in ["viewer-trash", "viewer-album", "viewer-share"] {
        assert!(
            !html.contains(&format!(r#"data-testid="{refused}""#)),
            "{refused}"
        );
    }
    ui.click_on("viewer-download");
    assert_eq!(
        fake.called("download"),
        vec![format!("download vault-7/{:032x}", 0)]
    );
}

#[test]
fn files_and_folders_dropped_on_the_window_are_uploaded() {
    let fake = Fake::new(Mode::Many);
    let mut ui = Ui::unlocked(fake.clone(), Screen::Upload);
    let id = ui.id("dropzone");
    // What a renderer puts in a drop of a folder and a file from the file manager.
    let dropped = |p: &str| SerializedFileData {
        path: PathBuf::from(p),
        ..SerializedFileData::empty()
    };
    let drag = SerializedDragData {
        mouse: Default::default(),
        data_transfer: SerializedDataTransfer {
            items: vec![],
            files: vec![
                dropped("/home/me/Pictures/2024"),
                dropped("/home/me/IMG_1.heic"),
            ],
            effect_allowed: "all".into(),
            drop_effect: "copy".into(),
        },
    };
    ui.fire("dragover", Box::new(drag.clone()), id);
    assert!(ui.html().contains("dropzone hover"));
    ui.fire("drop", Box::new(drag), id);
    assert_eq!(
        fake.called("upload"),
        vec![r#"upload ["/home/me/Pictures/2024", "/home/me/IMG_1.heic"] None"#]
    );
    assert!(!ui.html().contains("dropzone hover"));
}

/// The navigation's click listeners: a button for each screen, and a phone's More.
const NAV_BUTTONS: usize = Screen::NAV.len() + 1;

#[test]
fn a_phone_has_five_tabs_and_the_rest_under_more() {
    let fake = Fake::new(Mode::Empty);
    let mut ui = Ui::unlocked(fake, Screen::Photos);
    let html = ui.html();
    // Every screen stays in the bar (a wide window shows them all); on a phone the style sheet
    // hides those past the first four, and More opens a sheet of them.
    let secondary = html.matches("nav-item secondary").count();
    assert_eq!(secondary, Screen::NAV.len() - Screen::PHONE_TABS, "{html}");
    assert_eq!(Screen::PHONE_TABS + 1, 5, "four tabs and More");
    assert!(!html.contains("more-sheet"), "closed at first");
    ui.click_on("nav-more");
    let html = ui.html();
    assert!(html.contains("more-sheet"), "{html}");
    for (_, label, testid) in &Screen::NAV[Screen::PHONE_TABS..] {
        assert!(
            html.contains(&testid.replacen("nav-", "more-", 1)) && html.contains(label),
            "{label} is in the sheet"
        );
    }
    ui.click_on("more-settings");
    let html = ui.html();
    assert!(!html.contains("more-sheet"), "the sheet closes");
    assert!(
        html.contains("<h1>Settings</h1>") || html.contains(">Settings<"),
        "{html}"
    );
    assert!(
        html.contains("nav-item more active"),
        "More shows where Settings is"
    );
}
