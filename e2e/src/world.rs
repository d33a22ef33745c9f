//! A whole test stage: one broker and two browsers (the technician's and the
//! customer's), started together and closed together.

use crate::broker::{Broker, BrokerOptions};
use crate::browser::{Browser, BrowserKind};
use crate::console::{Console, NewSession};
use crate::customer::Customer;

/// One broker, a technician's browser and a customer's browser.
pub struct World {
    pub broker: Broker,
    /// The technician's browser (the console).
    pub tech: Browser,
    /// The customer's browser.
    pub cust: Browser,
}

impl World {
    /// Starts the broker and both browsers (the browsers side by side).
    pub async fn start(options: BrokerOptions) -> World {
        let broker = Broker::start(options).await;
        let (tech, cust) = tokio::join!(Browser::start(), Browser::start());
        World { broker, tech, cust }
    }

    /// [`World::start`] with the technician's and the customer's browsers of the given
    /// kinds (e.g. the customer in Firefox, the console in Chromium).
    pub async fn start_with_browsers(
        options: BrokerOptions,
        tech: BrowserKind,
        cust: BrowserKind,
    ) -> World {
        let broker = Broker::start(options).await;
        let (tech, cust) = tokio::join!(Browser::start_kind(tech), Browser::start_kind(cust));
        World { broker, tech, cust }
    }

    /// The console, in the technician's browser, talking to the broker directly.
    pub fn console(&self) -> Console<'_> {
        Console::new(&self.tech, self.broker.url())
    }

    /// The customer page, in the customer's browser, served by the broker directly.
    pub fn customer(&self) -> Customer<'_> {
        Customer::new(&self.cust, self.broker.url())
    }

    /// Opens the console and signs in as the broker's technician.
    pub async fn signed_in_console(&self) -> Console<'_> {
        let console = self.console();
        console.sign_in(self.broker.technician()).await;
        console
    }

    /// The common start of the sharing tests: [`start_session`] with this world's
    /// broker and pages.
    pub async fn active_session(&self) -> (Console<'_>, Customer<'_>, NewSession) {
        let (console, customer) = (self.console(), self.customer());
        let session = start_session(&self.broker, &console, &customer).await;
        (console, customer, session)
    }

    /// Closes both browsers politely, then stops the broker.
    pub async fn close(self) {
        tokio::join!(self.tech.close(), self.cust.close());
        drop(self.broker);
    }
}

/// The technician signs in (at `console`) and creates a session, the customer joins with
/// the PIN and accepts the terms, the technician opens the session and picks up; both
/// pages show it active. For tests that hold the broker themselves (to kill or restart
/// it) or reach it through proxies.
pub async fn start_session(
    broker: &Broker,
    console: &Console<'_>,
    customer: &Customer<'_>,
) -> NewSession {
    console.sign_in(broker.technician()).await;
    let session = console.create_session().await;
    customer.join(&session.pin).await;
    customer.accept_terms().await;
    console.wait_row_phase(&session.id, "waiting").await;
    console.open_session(&session.id).await;
    console.pick_up().await;
    customer
        .wait_technician(&broker.technician().display_name)
        .await;
    session
}
