//! Layer 8, the browser (feature `web`): the page's Yew UI on the main thread and
//! the web worker that runs the simulation. They speak only [`crate::protocol`];
//! the worker's logic is [`crate::host::Session`], which has no web dependency.
//!
//! - `worker`: the gloo-worker that hosts the session, in slices, with a panic hook.
//! - `link`: the page's end: spawn, restart on a panic, the inputs log in storage.
//! - `state`: the page's `Reducible` state; `context`: what components reach.
//! - `app`, `components/*`, `views`: the UI; `i18n`: every string it shows.

pub mod app;
pub mod codec;
pub mod components;
pub mod context;
pub mod format;
pub mod i18n;
pub mod link;
pub mod state;
pub mod storage;
pub mod views;
pub mod worker;

/// The page's main: spawn the worker first, then render once the browser has had
/// a turn to start the worker's thread (the first render keeps the main thread
/// busy, and the worker loads meanwhile).
pub fn start_app() {
    console_error_panic_hook::set_once();
    let link = link::Link::detached();
    link.start();
    gloo::timers::callback::Timeout::new(0, move || render(link)).forget();
}

fn render(link: link::Link) {
    let props = app::AppProps { link };
    let root = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("app"));
    match root {
        Some(root) => {
            root.set_text_content(None);
            yew::Renderer::<app::App>::with_root_and_props(root, props).render();
        }
        None => {
            yew::Renderer::<app::App>::with_props(props).render();
        }
    }
}

/// The worker's main.
pub fn start_worker() {
    worker::register();
}
