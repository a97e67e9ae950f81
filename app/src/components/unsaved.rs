//! Asks before a form's unsaved changes are lost: the browser's own prompt
//! for a reload or a closed tab, and a confirm for links inside the app
//! (the router's navigations never unload the page).

use leptos::prelude::*;

const LEAVE: &str = "This page has changes you have not saved. Leave without saving them?";

/// While `dirty` is true, leaving the page asks first.
pub fn warn_before_leaving(dirty: RwSignal<bool>) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::{
            wasm_bindgen::{closure::Closure, JsCast},
            web_sys::{Element, MouseEvent},
        };
        let unload = window_event_listener(leptos::ev::beforeunload, move |ev| {
            if dirty.get_untracked() {
                ev.prevent_default();
            }
        });
        // Capturing, so it runs before the router takes the click.
        let on_click = Closure::<dyn FnMut(MouseEvent)>::new(move |ev: MouseEvent| {
            if !dirty.get_untracked() {
                return;
            }
            let link = ev
                .target()
                .and_then(|t| t.dyn_into::<Element>().ok())
                .and_then(|e| e.closest("a[href]").ok().flatten());
            let Some(link) = link else { return };
            if link.get_attribute("target").as_deref() == Some("_blank") {
                return;
            }
            if !window().confirm_with_message(LEAVE).unwrap_or(true) {
                ev.prevent_default();
                ev.stop_immediate_propagation();
            }
        });
        let _ = document().add_event_listener_with_callback_and_bool("click", on_click.as_ref().unchecked_ref(), true);
        let listener = StoredValue::new_local(Some(on_click));
        on_cleanup(move || {
            unload.remove();
            if let Some(Some(f)) = listener.try_update_value(Option::take) {
                let _ =
                    document().remove_event_listener_with_callback_and_bool("click", f.as_ref().unchecked_ref(), true);
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (dirty, LEAVE);
}
