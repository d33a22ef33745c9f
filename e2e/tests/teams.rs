//! A help desk's one link, through the real broker, the real build and headless
//! Chromium: three customers join a team's queue from its link with their name and
//! problem and see their places move as two technicians of the team pick people up
//! from the queue panel; each customer is told who took them. Then handing over: a
//! colleague invited joins and chats, the session is handed to them (what the customer
//! granted stops, and the customer reads the new name), and back to the queue.

use connectit_e2e::broker::TechnicianAccount;
use connectit_e2e::browser::Browser;
use connectit_e2e::console::Console;
use connectit_e2e::customer::Customer;
use connectit_e2e::{BrokerOptions, World};
use connectit_protocol::{Author, EntryType};

#[tokio::test(flavor = "multi_thread")]
async fn customers_queue_by_the_team_link_and_two_technicians_take_them_in_turn() {
    let w = World::start(BrokerOptions::default()).await;
    let ben = TechnicianAccount {
        username: "ben".into(),
        display_name: "Ben Brown".into(),
        password: "another horse battery staple".into(),
    };
    w.broker.add_technician(&ben).await;
    let made = w
        .broker
        .admin(&["create-team", "--slug", "helpdesk", "--name", "Help desk"])
        .await;
    assert!(made.contains("/t/helpdesk"), "{made}");
    for who in [w.broker.technician().username.as_str(), "ben"] {
        w.broker
            .admin(&["add-to-team", "--slug", "helpdesk", "--username", who])
            .await;
    }
    let tess = w.signed_in_console().await;
    let (ben_browser, cust2, cust3) =
        tokio::join!(Browser::start(), Browser::start(), Browser::start());
    let ben_console = Console::new(&ben_browser, w.broker.url());
    ben_console.sign_in(&ben).await;
    assert!(
        tess.browser.is_visible("#queue").await,
        "a team member sees the queue"
    );

    // Three customers, one after the other, each with their name and problem.
    let customers = [
        (w.customer(), "Ann Archer"),
        (Customer::new(&cust2, w.broker.url()), "Bo Becker"),
        (Customer::new(&cust3, w.broker.url()), "Cy Cole"),
    ];
    for (i, (customer, name)) in customers.iter().enumerate() {
        customer
            .join_team("helpdesk", name, "My e-mail does not sync")
            .await;
        customer.accept_terms().await;
        customer.wait_waiting().await;
        customer.wait_queue_place(i as u32 + 1, i as u32 + 1).await;
    }
    customers[0].0.wait_queue_place(1, 3).await;
    let queue = tess.wait_queue_len(3).await;
    assert_eq!(
        ben_console.wait_queue_len(3).await,
        queue,
        "both see one queue"
    );
    let names = tess.browser.text("#queue").await;
    for (_, name) in &customers {
        assert!(names.contains(name), "{name} in {names:?}");
    }

    // Tess takes the first in line; the others move up, and Ben's panel follows.
    tess.pick_up_queued(&queue[0]).await;
    customers[0]
        .0
        .wait_technician(&w.broker.technician().display_name)
        .await;
    customers[1].0.wait_queue_place(1, 2).await;
    customers[2].0.wait_queue_place(2, 2).await;
    assert_eq!(ben_console.wait_queue_len(2).await, queue[1..].to_vec());

    // Tess notes the ticket and a private note: the list shows the ticket's customer,
    // and nothing of the note reaches the customer's page.
    tess.browser.type_into("#details-ticket", "INC-2041").await;
    tess.browser.click("#details-save").await;
    tess.browser.wait_visible("#details-saved").await;
    let note = "Mailbox quota full; offered an archive";
    tess.browser.type_into("#note-input", note).await;
    tess.browser.click("#note-add").await;
    tess.browser
        .wait_text_contains("#notes .note-list", note)
        .await;
    customers[0]
        .0
        .browser
        .wait_text_contains("#chat-log", "Tess Tester")
        .await;
    let page = customers[0].0.browser.text("body").await;
    assert!(
        !page.contains("quota"),
        "a private note on the customer's page: {page}"
    );

    // Ben takes the next one.
    ben_console.pick_up_queued(&queue[1]).await;
    customers[1].0.wait_technician("Ben Brown").await;
    customers[2].0.wait_queue_place(1, 1).await;
    tess.browser.click("#back-to-list").await;
    assert_eq!(tess.wait_queue_len(1).await, queue[2..].to_vec());

    // A canned reply kept for the team, then used in Ann's session.
    let reply = "Please restart Outlook, then tell me what you see.";
    tess.browser
        .type_into("#reply-title", "Restart Outlook")
        .await;
    tess.browser.type_into("#reply-text", reply).await;
    tess.browser.click("#reply-submit").await;
    tess.browser
        .wait_text_contains("#replies .reply-list", "Restart Outlook")
        .await;
    let reply_id = tess
        .browser
        .attr("#replies .reply", "data-reply-id")
        .await
        .expect("the reply's id");
    tess.browser
        .click(&format!(".session-tab[data-session-id=\"{}\"]", queue[0]))
        .await;
    tess.browser.wait_visible("#canned-reply").await;
    tess.browser.select_value("#canned-reply", &reply_id).await;
    tess.browser.click("#insert-reply").await;
    assert_eq!(tess.browser.value("#chat-input").await, reply);
    tess.browser.click("#chat-send").await;
    customers[0]
        .0
        .browser
        .wait_chat_message(connectit_protocol::Author::Technician, reply)
        .await;

    // A name that is not a name is refused on the page itself, before any request.
    let late = Browser::start().await;
    late.goto(&format!("{}/t/helpdesk", w.broker.url())).await;
    late.wait_visible("#team-form").await;
    late.type_into("#team-name", "   ").await;
    late.type_into("#team-problem", "x").await;
    assert!(!late.is_enabled("#join-queue").await);
    late.goto(&format!("{}/t/nobody", w.broker.url())).await;
    late.wait_visible("[data-error=team_not_found]").await;
    late.close().await;

    ben_browser.close().await;
    cust2.close().await;
    cust3.close().await;
    w.close().await;
}

/// A team of Tess and Ben, both signed in.
async fn team_of_two(w: &World) -> TechnicianAccount {
    let ben = TechnicianAccount {
        username: "ben".into(),
        display_name: "Ben Brown".into(),
        password: "another horse battery staple".into(),
    };
    w.broker.add_technician(&ben).await;
    w.broker
        .admin(&["create-team", "--slug", "helpdesk", "--name", "Help desk"])
        .await;
    for who in [w.broker.technician().username.as_str(), "ben"] {
        w.broker
            .admin(&["add-to-team", "--slug", "helpdesk", "--username", who])
            .await;
    }
    ben
}

#[tokio::test(flavor = "multi_thread")]
async fn a_colleague_is_invited_then_given_the_session_and_the_customer_sees_who_is_there() {
    let w = World::start(BrokerOptions::default()).await;
    let ben = team_of_two(&w).await;
    let tess = w.signed_in_console().await;
    let tess_name = w.broker.technician().display_name.clone();
    let ben_browser = Browser::start().await;
    let ben_console = Console::new(&ben_browser, w.broker.url());
    ben_console.sign_in(&ben).await;

    let customer = w.customer();
    customer
        .join_team("helpdesk", "Ann Archer", "The scanner does not scan")
        .await;
    customer.accept_terms().await;
    customer.wait_waiting().await;
    let queue = tess.wait_queue_len(1).await;
    let id = queue[0].clone();
    tess.pick_up_queued(&id).await;
    customer.wait_technician(&tess_name).await;
    let present = "#present-technicians";
    customer
        .browser
        .wait_attr(present, "data-names", &tess_name)
        .await;

    // Tess sees the screen under the customer's grant.
    let request = tess
        .request_permissions(&["view_screen"], "To see the scanner settings")
        .await;
    customer.wait_prompt_for(request).await;
    customer.grant_all().await;
    customer.wait_sharing("live").await;
    tess.wait_screen_frames(5).await;

    // Tess invites Ben; Ben joins from his list and chats; the customer sees both names.
    tess.browser.wait_visible("#hand-over-panel").await;
    tess.browser.select_value("#invite-who", "ben").await;
    tess.browser.click("#invite").await;
    tess.browser
        .wait_attr("#session-invited", "data-names", "Ben Brown")
        .await;
    ben_browser
        .wait_visible(&format!(".invitation-row[data-session-id=\"{id}\"]"))
        .await;
    ben_browser
        .click(&format!(
            ".invitation-row[data-session-id=\"{id}\"] .join-session"
        ))
        .await;
    ben_browser.wait_visible("#guest-notice").await;
    assert!(
        !ben_browser.is_visible("#hand-over-panel").await
            && !ben_browser.is_visible("#request-form").await,
        "a colleague who joined only reads and chats"
    );
    let both = format!("{tess_name}, Ben Brown");
    customer
        .browser
        .wait_attr(present, "data-names", &both)
        .await;
    tess.browser
        .wait_attr("#session-guests", "data-names", "Ben Brown")
        .await;
    ben_browser
        .type_into("#chat-input", "Ben here, I know this scanner")
        .await;
    ben_browser.click("#chat-send").await;
    let log = customer
        .browser
        .wait_chat_message(Author::Technician, "Ben here, I know this scanner")
        .await;
    assert!(log
        .iter()
        .any(|e| e.kind == Some(EntryType::TechnicianJoined)));
    customer
        .browser
        .wait_text_contains(
            "#chat-log li.entry-chat:last-child .entry-author",
            "Ben Brown",
        )
        .await;
    tess.browser
        .wait_text_contains(
            "#chat-log li.entry-chat:last-child .entry-author",
            "Ben Brown",
        )
        .await;
    // The screen still goes to Tess alone.
    tess.wait_screen_frames(5).await;

    // Tess hands the session to Ben with a note: her tab goes, the customer's share
    // stops (it was granted to Tess), and the customer reads Ben's name.
    let note = "Scanner driver 4.2 reinstalled; test a scan next";
    tess.browser.select_value("#hand-over-to", "ben").await;
    tess.browser.type_into("#hand-over-note", note).await;
    tess.browser.click("#hand-over").await;
    tess.browser.wait_visible("#no-longer-in-session").await;
    assert!(
        !tess
            .browser
            .is_visible(&format!(".session-tab[data-session-id=\"{id}\"]"))
            .await
    );
    customer.wait_technician("Ben Brown").await;
    customer
        .browser
        .wait_attr(present, "data-names", "Ben Brown")
        .await;
    customer.wait_not_sharing().await;
    let handed = customer
        .browser
        .wait_entry_kind(EntryType::HandedOver)
        .await;
    let line = handed
        .iter()
        .rev()
        .find(|e| e.kind == Some(EntryType::HandedOver))
        .and_then(|e| e.text.clone())
        .unwrap_or_default();
    assert!(
        line.contains(&tess_name) && line.contains("Ben Brown"),
        "{line}"
    );
    let page = customer.browser.text("body").await;
    assert!(
        !page.contains("reinstalled"),
        "the note reached the customer: {page}"
    );
    // Ben has it now: no longer a guest, he reads the note and may ask again.
    ben_browser.wait_hidden("#guest-notice").await;
    ben_browser.wait_visible("#hand-over-panel").await;
    ben_browser
        .wait_text_contains("#notes .note-list", note)
        .await;
    ben_browser.wait_visible("#request-form").await;

    // Back to the team's queue: the customer waits again and Tess sees them queued.
    ben_browser.select_value("#hand-over-to", "").await;
    ben_browser.click("#hand-over").await;
    ben_browser.wait_visible("#no-longer-in-session").await;
    customer.wait_waiting().await;
    tess.browser.click("#tab-list").await;
    assert_eq!(tess.wait_queue_len(1).await, vec![id.clone()]);
    tess.pick_up_queued(&id).await;
    customer.wait_technician(&tess_name).await;

    // Every move is in the customer's log, and no one was logged as dropping out.
    let kinds = customer.browser.entry_kinds().await;
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == Some(EntryType::HandedOver))
            .count(),
        2
    );
    assert!(kinds.contains(&Some(EntryType::TechnicianInvited)));
    assert_eq!(
        customer
            .browser
            .count_entry_kind(EntryType::Disconnected)
            .await,
        0,
        "{kinds:?}"
    );

    ben_browser.close().await;
    w.close().await;
}
