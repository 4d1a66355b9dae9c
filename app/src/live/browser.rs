//! The browser side of the live connection: the WebSocket (gloo-net), its reconnection,
//! the offline and polling fallbacks, the ticking clock and timers.

use std::{
    cell::{Cell, RefCell},
    rc::Rc,
};

use futures::{
    channel::mpsc::{unbounded, UnboundedReceiver, UnboundedSender},
    future::{select, Either},
    StreamExt,
};
use gloo_net::websocket::{futures::WebSocket, Message};
use gloo_timers::future::TimeoutFuture;
use leptos::{prelude::*, task::spawn_local};
use model::ServerMessage;

use super::{message::read_message, Change, Connection, Control, Live};
use crate::api::{client::call, generation::LiveState};

/// Failed attempts before the page gives up on WebSockets and polls.
const ATTEMPTS_BEFORE_POLLING: u32 = 3;
const POLL_MS: u32 = 3_000;
/// While polling, a WebSocket is tried again every this many polls.
const POLLS_BETWEEN_TRIES: u32 = 10;
const BACKOFF_BASE_MS: f64 = 500.0;
const BACKOFF_MAX_MS: f64 = 30_000.0;

/// Something to run once, later.
type Task = Box<dyn FnOnce()>;

thread_local! {
    static TICKING: Cell<bool> = const { Cell::new(false) };
    /// What waits for the page to be hydrated; `None` once it is.
    static AFTER_HYDRATION: RefCell<Option<Vec<Task>>> = RefCell::new(Some(Vec::new()));
}

/// Runs `f` once the page is hydrated, or at once if it is.
fn after_hydration(f: impl FnOnce() + 'static) {
    let f: Task = Box::new(f);
    let now = AFTER_HYDRATION.with(|waiting| match waiting.borrow_mut().as_mut() {
        Some(waiting) => {
            waiting.push(f);
            None
        }
        None => Some(f),
    });
    if let Some(f) = now {
        f();
    }
}

/// The page is hydrated: runs what waited for it.
pub fn hydrated() {
    let waiting = AFTER_HYDRATION.with(|waiting| waiting.borrow_mut().take());
    for f in waiting.unwrap_or_default() {
        f();
    }
}

pub fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(js_sys::Date::now() as i64).unwrap_or_default()
}

pub fn utc_offset_minutes() -> i64 {
    -(js_sys::Date::new_0().get_timezone_offset() as i64)
}

/// Runs `f` after `ms` milliseconds.
pub fn later(ms: u32, f: impl FnOnce() + 'static) {
    spawn_local(async move {
        TimeoutFuture::new(ms).await;
        f();
    });
}

/// Runs `f` once the current task (and the effects it queued) is done.
pub fn defer(f: impl FnOnce() + 'static) {
    spawn_local(async move {
        TimeoutFuture::new(0).await;
        f();
    });
}

pub fn start(live: Live) {
    if live.control.with_value(Option::is_some) {
        return;
    }
    let (tx, rx) = unbounded();
    live.control.set_value(Some(tx.clone()));
    // Not before the page is interactive: the chunk would compete with the page's own.
    after_hydration(move || spawn_local(connect(live, tx, rx)));
}

/// The connection's code (the socket, its messages' decoding, the reconnection) is a
/// chunk of its own, loaded once the page is interactive: no page needs it to hydrate,
/// and the first load is smaller without it (issue 17).
#[lazy]
async fn connect(live: Live, tx: UnboundedSender<Control>, rx: UnboundedReceiver<Control>) {
    if !TICKING.with(Cell::get) {
        TICKING.with(|t| t.set(true));
        spawn_local(async move {
            loop {
                TimeoutFuture::new(1_000).await;
                live.now.set(now());
            }
        });
    }
    let online = tx.clone();
    // For the life of the tab: one page, many navigations.
    let _ = window_event_listener(leptos::ev::online, move |_| {
        let _ = online.unbounded_send(Control::Online);
    });
    let _ = window_event_listener(leptos::ev::offline, move |_| {
        let _ = tx.unbounded_send(Control::Offline);
    });
    run(live, rx).await;
}

fn is_online() -> bool {
    window().navigator().on_line()
}

fn socket_url() -> String {
    let location = window().location();
    let scheme = if location.protocol().as_deref() == Ok("https:") {
        "wss"
    } else {
        "ws"
    };
    format!("{scheme}://{}/ws", location.host().unwrap_or_default())
}

/// Waits `ms`, or until a control message comes (answered).
async fn pause(control: &mut UnboundedReceiver<Control>, ms: u32) -> Option<Control> {
    match select(Box::pin(TimeoutFuture::new(ms)), control.next()).await {
        Either::Left(_) => None,
        Either::Right((c, _)) => Some(c.unwrap_or(Control::Stop)),
    }
}

/// Exponential, capped, with jitter (so that a restarted server is not hit by every tab
/// at the same moment).
fn backoff_ms(failures: u32) -> u32 {
    let exp = BACKOFF_BASE_MS * 2f64.powi(failures.saturating_sub(1).min(16) as i32);
    let jitter = 0.5 + js_sys::Math::random() * 0.5;
    (exp.min(BACKOFF_MAX_MS) * jitter) as u32
}

/// Reads the jobs afresh and takes them in (newer events already applied win).
async fn reread(live: Live) {
    if let Ok(state) = call(LiveState {}).await {
        live.merge(state.jobs, state.images);
    }
}

async fn run(live: Live, mut control: UnboundedReceiver<Control>) {
    let mut failures: u32 = 0;
    let mut ever_opened = false;
    loop {
        if !is_online() {
            live.connection.set(Connection::Offline);
            match control.next().await {
                Some(Control::Online) => continue,
                Some(Control::Offline) => continue,
                Some(Control::Stop) | None => return,
            }
        }
        if live.connection.get_untracked() != Connection::Polling {
            live.connection.set(if ever_opened {
                Connection::Reconnecting(0)
            } else {
                Connection::Connecting
            });
        }
        let mut opened = false;
        if let Ok(ws) = WebSocket::open(&socket_url()) {
            let mut ws = Box::pin(ws);
            // Events that arrive while the state is read afresh wait for it.
            let held: Rc<RefCell<Option<Vec<ServerMessage>>>> = Rc::default();
            let refreshing = Rc::new(Cell::new(false));
            loop {
                match select(ws.next(), control.next()).await {
                    Either::Left((Some(Ok(Message::Text(text))), _)) => {
                        // The jobs' and images' decoders are the ones the pages have.
                        let Some(message) = read_message(text.as_bytes()) else {
                            continue;
                        };
                        match message {
                            ServerMessage::Hello { .. } => {
                                opened = true;
                                failures = 0;
                                live.connection.set(Connection::Live);
                                // After a gap, pages re-read what they show too.
                                resync(live, &held, ever_opened);
                                ever_opened = true;
                            }
                            ServerMessage::Resync => resync(live, &held, true),
                            other => {
                                if let Some(buffer) = held.borrow_mut().as_mut() {
                                    buffer.push(other);
                                    continue;
                                }
                                deliver(live, other, &refreshing);
                            }
                        }
                    }
                    Either::Left((Some(Ok(Message::Bytes(_))), _)) => {}
                    Either::Left((Some(Err(_)) | None, _)) => break,
                    Either::Right((Some(Control::Online), _)) => {}
                    Either::Right((Some(Control::Offline), _)) => break,
                    Either::Right((Some(Control::Stop) | None, _)) => return,
                }
            }
            // Dropping the socket closes it.
        }
        failures += 1;
        if !ever_opened && !opened && failures >= ATTEMPTS_BEFORE_POLLING {
            // WebSockets do not get through: poll, and try again now and then.
            live.connection.set(Connection::Polling);
            for _ in 0..POLLS_BETWEEN_TRIES {
                let before = live.book.get_untracked();
                reread(live).await;
                if live.book.with_untracked(|b| *b != before) {
                    live.emit(&Change::Reread);
                }
                match pause(&mut control, POLL_MS).await {
                    Some(Control::Stop) => return,
                    Some(Control::Online | Control::Offline) | None => {}
                }
            }
            continue;
        }
        let delay = if is_online() { backoff_ms(failures) } else { 0 };
        live.connection
            .set(Connection::Reconnecting(delay.div_ceil(1000)));
        match pause(&mut control, delay).await {
            Some(Control::Stop) => return,
            // Back online: try at once, without waiting out the backoff.
            Some(Control::Online) => failures = 0,
            Some(Control::Offline) | None => {}
        }
    }
}

/// Reads the state afresh, holding back the events that arrive meanwhile, then applies
/// them (those not newer than the fresh state are ignored by the book).
fn resync(live: Live, held: &Rc<RefCell<Option<Vec<ServerMessage>>>>, gap: bool) {
    if held.borrow().is_some() {
        return;
    }
    *held.borrow_mut() = Some(Vec::new());
    let held = held.clone();
    spawn_local(async move {
        reread(live).await;
        let waiting = held.borrow_mut().take().unwrap_or_default();
        let refreshing = Rc::new(Cell::new(false));
        for message in waiting {
            deliver(live, message, &refreshing);
        }
        if gap {
            live.emit(&Change::Reread);
        }
    });
}

fn deliver(live: Live, message: ServerMessage, refreshing: &Rc<Cell<bool>>) {
    match message {
        ServerMessage::Job(event) => {
            if live.apply_job(&event) && !refreshing.get() {
                // A job started elsewhere (another tab, a script): read it in full.
                refreshing.set(true);
                let refreshing = refreshing.clone();
                spawn_local(async move {
                    reread(live).await;
                    refreshing.set(false);
                });
            }
        }
        ServerMessage::Image { event, image } => live.apply_image(event, *image),
        ServerMessage::Hello { .. } | ServerMessage::Resync => {}
    }
}
