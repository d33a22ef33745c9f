//! The root component: a tiny router on `location.pathname`. `/console` (and below) is
//! the technician console; every other path is the customer page. The broker serves
//! each its own build (`console.html` with the `console` feature, `index.html` with the
//! `customer` one); a build with only one page shows it on every path.

use yew::prelude::*;

#[cfg(all(feature = "customer", feature = "console"))]
use crate::browser;
#[cfg(feature = "console")]
use crate::console::ConsolePage;
#[cfg(feature = "customer")]
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

#[cfg(all(feature = "customer", feature = "console"))]
fn page() -> Html {
    match Route::from_path(&browser::pathname()) {
        Route::Customer => html! { <CustomerPage /> },
        Route::Console => html! { <ConsolePage /> },
    }
}

#[cfg(all(feature = "customer", not(feature = "console")))]
fn page() -> Html {
    html! { <CustomerPage /> }
}

#[cfg(all(feature = "console", not(feature = "customer")))]
fn page() -> Html {
    html! { <ConsolePage /> }
}

#[component]
pub fn App() -> Html {
    html! { <LanguageProvider>{ page() }</LanguageProvider> }
}
