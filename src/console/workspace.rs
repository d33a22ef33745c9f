//! The console as a workspace, in pure parts: which sessions are open as tabs and which
//! one is shown ([`Workspace`]), each view's own address (`/console/session/{id}`, so a
//! reload or a second window returns to it), and what calls for the technician's
//! attention: messages they have not seen in their sessions and customers new in their
//! teams' queues ([`Workspace::attention`]). An open tab keeps its session's socket, so
//! switching tabs disconnects nobody; closing the tab is leaving the session.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use connectit_protocol::api::SessionSummary;
use connectit_protocol::SessionId;
use yew::Reducible;

/// What the main area shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum View {
    List,
    Session(SessionId),
    /// The session was opened in another tab or window and stopped here.
    Elsewhere(SessionId),
    Audit,
    /// Accounts and teams (admins).
    Admin,
    /// One's own account.
    Account,
    /// Ended sessions and reports.
    History,
}

/// The console's address for `view`.
pub fn path_of(view: &View) -> String {
    match view {
        View::List => "/console".to_string(),
        View::Session(id) | View::Elsewhere(id) => format!("/console/session/{id}"),
        View::Audit => "/console/audit".to_string(),
        View::Admin => "/console/admin".to_string(),
        View::Account => "/console/account".to_string(),
        View::History => "/console/history".to_string(),
    }
}

/// The view a console address stands for (the list for anything else).
pub fn view_from_path(path: &str) -> View {
    let path = path.trim_end_matches('/');
    match path {
        "/console/audit" => return View::Audit,
        "/console/admin" => return View::Admin,
        "/console/account" => return View::Account,
        "/console/history" => return View::History,
        _ => {}
    }
    match path.strip_prefix("/console/session/") {
        Some(id)
            if !id.is_empty()
                && id.len() <= 64
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            View::Session(SessionId(id.to_string()))
        }
        _ => View::List,
    }
}

/// The open tabs, the view shown, and what the technician has seen.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Workspace {
    /// Open sessions, in the order they were opened.
    pub open: Vec<SessionId>,
    pub view: Option<View>,
    /// Each session's chat count when the technician last had it in front of them.
    seen: HashMap<SessionId, u64>,
    /// Queued customers the technician has had in front of them.
    seen_queue: HashSet<SessionId>,
}

impl Workspace {
    /// A workspace showing `view` (from the address the console was opened at).
    pub fn new(view: View) -> Workspace {
        let mut w = Workspace::default();
        w.show(view);
        w
    }

    /// The view shown.
    pub fn view(&self) -> View {
        self.view.clone().unwrap_or(View::List)
    }

    /// Shows `view`; a session shown gets a tab if it has none.
    pub fn show(&mut self, view: View) {
        if let View::Session(id) = &view {
            if !self.open.contains(id) {
                self.open.push(id.clone());
            }
        }
        self.view = Some(view);
    }

    /// Closes a session's tab (the technician leaves it); if it was shown, the list is.
    pub fn close(&mut self, id: &SessionId) {
        self.open.retain(|o| o != id);
        if matches!(&self.view, Some(View::Session(shown)) if shown == id) {
            self.view = Some(View::List);
        }
    }

    /// The session stopped here because it was opened elsewhere: its tab goes.
    pub fn elsewhere(&mut self, id: &SessionId) {
        self.open.retain(|o| o != id);
        self.view = Some(View::Elsewhere(id.clone()));
    }

    /// Whether `id`'s session is in front of the technician now.
    pub fn showing(&self, id: &SessionId, page_visible: bool) -> bool {
        page_visible && matches!(&self.view, Some(View::Session(shown)) if shown == id)
    }

    /// Takes note of what is in front of the technician: the shown session's messages,
    /// and, on the list, the queue. A session met for the first time counts what it
    /// has as seen (its messages are in its log, for whoever opens it).
    pub fn observe(
        &mut self,
        mine: &[SessionSummary],
        queue: &[SessionSummary],
        page_visible: bool,
    ) {
        for s in mine {
            let showing = self.showing(&s.id, page_visible);
            let seen = self.seen.entry(s.id.clone()).or_insert(s.messages);
            if showing {
                *seen = s.messages;
            }
        }
        if page_visible && self.view() == View::List {
            self.seen_queue.extend(queue.iter().map(|s| s.id.clone()));
        }
        // What is no longer listed is forgotten.
        self.seen.retain(|id, _| mine.iter().any(|s| &s.id == id));
        self.seen_queue
            .retain(|id| queue.iter().any(|s| &s.id == id));
    }

    /// Messages in `s` since the technician last had it in front of them: none while it
    /// is (so a message read as it arrives never counts, not even until the next
    /// [`Workspace::observe`]).
    pub fn unread(&self, s: &SessionSummary, page_visible: bool) -> u64 {
        if self.showing(&s.id, page_visible) {
            return 0;
        }
        self.seen
            .get(&s.id)
            .map_or(0, |seen| s.messages.saturating_sub(*seen))
    }

    /// How many things call for attention: unread messages in the technician's
    /// sessions and customers new in their teams' queues (none while the list is in
    /// front of the technician).
    pub fn attention(
        &self,
        mine: &[SessionSummary],
        queue: &[SessionSummary],
        page_visible: bool,
    ) -> u64 {
        let unread: u64 = mine.iter().map(|s| self.unread(s, page_visible)).sum();
        let list_shown = page_visible && self.view() == View::List;
        let new = queue
            .iter()
            .filter(|s| !list_shown && !self.seen_queue.contains(&s.id))
            .count() as u64;
        unread + new
    }
}

/// A change of the workspace.
#[derive(Debug, Clone, PartialEq)]
pub enum WorkspaceAction {
    Show(View),
    Close(SessionId),
    Elsewhere(SessionId),
    /// What is in front of the technician now (see [`Workspace::observe`]).
    Observe {
        mine: Rc<Vec<SessionSummary>>,
        queue: Rc<Vec<SessionSummary>>,
        page_visible: bool,
    },
}

impl Reducible for Workspace {
    type Action = WorkspaceAction;

    fn reduce(self: Rc<Self>, action: WorkspaceAction) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            WorkspaceAction::Show(view) => next.show(view),
            WorkspaceAction::Close(id) => next.close(&id),
            WorkspaceAction::Elsewhere(id) => next.elsewhere(&id),
            WorkspaceAction::Observe {
                mine,
                queue,
                page_visible,
            } => next.observe(&mine, &queue, page_visible),
        }
        if next == *self {
            self
        } else {
            Rc::new(next)
        }
    }
}

/// The window title with what calls for attention in front: `(2) …`.
pub fn titled(count: u64, title: &str) -> String {
    match count {
        0 => title.to_string(),
        n => format!("({n}) {title}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use connectit_protocol::Phase;

    fn summary(id: &str, messages: u64) -> SessionSummary {
        SessionSummary {
            id: SessionId(id.into()),
            phase: Phase::Active,
            created_at: 0,
            pin_expires_at: 0,
            last_activity: 0,
            messages,
            customer_online: true,
            check_code: None,
            candidates: 1,
            phase_since: 0,
            team: None,
            technician: None,
            details: Default::default(),
            guests: Vec::new(),
            invited: Vec::new(),
        }
    }

    fn id(s: &str) -> SessionId {
        SessionId(s.into())
    }

    #[test]
    fn every_view_has_an_address_that_leads_back_to_it() {
        for view in [
            View::List,
            View::Audit,
            View::Admin,
            View::Account,
            View::History,
            View::Session(id("0123abcd")),
        ] {
            assert_eq!(view_from_path(&path_of(&view)), view);
        }
        assert_eq!(
            view_from_path("/console/session/ab12/"),
            View::Session(id("ab12"))
        );
        assert_eq!(view_from_path("/console/session/"), View::List);
        assert_eq!(view_from_path("/console/session/a%20b"), View::List);
        assert_eq!(view_from_path("/console/whatever"), View::List);
    }

    #[test]
    fn tabs_open_on_showing_and_closing_the_shown_one_shows_the_list() {
        let mut w = Workspace::new(View::Session(id("a")));
        w.show(View::Session(id("b")));
        w.show(View::List);
        w.show(View::Session(id("a")));
        assert_eq!(w.open, [id("a"), id("b")], "switching keeps both open");
        w.close(&id("b"));
        assert_eq!(
            w.view(),
            View::Session(id("a")),
            "closing another keeps the view"
        );
        w.close(&id("a"));
        assert_eq!((w.view(), w.open.len()), (View::List, 0));
        w.show(View::Session(id("c")));
        w.elsewhere(&id("c"));
        assert_eq!((w.view(), w.open.len()), (View::Elsewhere(id("c")), 0));
    }

    #[test]
    fn attention_counts_unseen_messages_and_new_queued_customers() {
        let mut w = Workspace::new(View::Session(id("a")));
        w.show(View::Session(id("b")));
        let mine = [summary("a", 3), summary("b", 5)];
        w.observe(&mine, &[], true);
        assert_eq!(w.attention(&mine, &[], true), 0, "what was there is seen");
        // Two messages in a, which is not shown; b's new one is seen as it arrives,
        // before the workspace observes it (no unread count for a moment, no alert).
        let mine = [summary("a", 5), summary("b", 6)];
        assert_eq!(w.unread(&mine[1], true), 0);
        assert_eq!(w.attention(&mine, &[], true), 2);
        w.observe(&mine, &[], true);
        assert_eq!(w.unread(&mine[0], true), 2);
        assert_eq!(w.unread(&mine[1], true), 0);
        // The page hidden: b's next one is unread too.
        let mine = [summary("a", 5), summary("b", 7)];
        w.observe(&mine, &[], false);
        assert_eq!(w.attention(&mine, &[], false), 3);
        // A customer in the queue is new until the list is in front of the technician.
        let queue = [summary("q", 0)];
        w.observe(&mine, &queue, true);
        assert_eq!(w.attention(&mine, &queue, true), 2 + 1);
        w.show(View::List);
        assert_eq!(
            w.attention(&mine, &queue, true),
            2,
            "seen as the list shows"
        );
        assert_eq!(w.attention(&mine, &queue, false), 2 + 1, "not while hidden");
        w.observe(&mine, &queue, true);
        assert_eq!(w.attention(&mine, &queue, true), 2);
        w.show(View::Session(id("a")));
        w.observe(&mine, &queue, true);
        assert_eq!(w.attention(&mine, &queue, true), 0);
        assert_eq!(titled(2, "Console"), "(2) Console");
        assert_eq!(titled(0, "Console"), "Console");
    }
}
