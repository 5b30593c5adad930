//! Layer 8, the browser host (feature `web`): the page and the worker.
//! Placeholder until the page lands: the app shows that the wasm core loads.

use wasm_bindgen::JsCast;

/// Starts the page.
pub fn start_app() {
    console_error_panic_hook::set_once();
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let cluster = crate::cluster::Cluster::new(crate::cluster::Settings::default());
    let text = match cluster {
        Ok(c) => format!(
            "kubeglass: a v1.31 cluster started in wasm with {} trace entries",
            c.k.trace.len()
        ),
        Err(e) => format!("kubeglass failed to start: {e}"),
    };
    if let Some(root) = doc.get_element_by_id("app") {
        root.set_text_content(Some(&text));
        if let Ok(el) = root.dyn_into::<web_sys::HtmlElement>() {
            let _ = el.set_attribute("data-ready", "true");
        }
    }
}

/// Starts the worker.
pub fn start_worker() {
    console_error_panic_hook::set_once();
}
