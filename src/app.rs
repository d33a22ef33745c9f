//! The root component: a tiny router on `location.pathname`. `/console` (and below) is
//! the technician console; every other path is the customer page.

use yew::prelude::*;

use crate::browser;
use crate::console::ConsolePage;
use crate::customer::CustomerPage;
use crate::i18n::LanguageProvider;

/// Which page a path shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Customer,
    Console,
}

impl Route {
    pub fn from_path(path: &str) -> Route {
        let path = path.trim_end_matches('/');
        if path == "/console" || path.starts_with("/console/") {
            Route::Console
        } else {
            Route::Customer
        }
    }
}

#[component]
pub fn App() -> Html {
    let page = match Route::from_path(&browser::pathname()) {
        Route::Customer => html! { <CustomerPage /> },
        Route::Console => html! { <ConsolePage /> },
    };
    html! { <LanguageProvider>{ page }</LanguageProvider> }
}
