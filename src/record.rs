//! The session's record, downloaded by either member at any time (during the session
//! and after it): `#download-record-html` (a readable page) and `#download-record-json`
//! (for `verify-record`). The customer asks with their token (`POST /api/record`), the
//! technician with their sign-in (`GET /api/sessions/{id}/record`); the answer becomes a
//! Blob and a download. The object URL is revoked when the next one replaces it or the
//! buttons go.

use std::cell::RefCell;
use std::rc::Rc;

use connectit_protocol::api::RecordFormat;
use connectit_protocol::SessionId;
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::api;
use crate::files::save::{save, ObjectUrl};
use crate::i18n::{use_i18n, Msg};

/// Who asks for the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordSource {
    Customer { session: SessionId, token: String },
    Technician { session: SessionId },
}

impl RecordSource {
    fn session(&self) -> &SessionId {
        match self {
            RecordSource::Customer { session, .. } | RecordSource::Technician { session } => {
                session
            }
        }
    }
}

/// The name to save under when the broker suggests none.
pub fn default_name(session: &SessionId, format: RecordFormat) -> String {
    let short: String = session.0.chars().take(8).collect();
    let extension = match format {
        RecordFormat::Html => "html",
        RecordFormat::Json => "json",
    };
    format!("connectit-session-{short}.{extension}")
}

/// Where the last download is.
#[derive(Debug, Clone, PartialEq)]
enum Status {
    Idle,
    Busy,
    Done,
    Failed(String),
}

#[derive(Properties, PartialEq)]
pub struct RecordProps {
    pub source: RecordSource,
}

#[component]
pub fn RecordDownloads(props: &RecordProps) -> Html {
    let i18n = use_i18n();
    let status = use_state(|| Status::Idle);
    // The last download's URL, revoked when replaced or on unmount.
    let kept: Rc<RefCell<Option<ObjectUrl>>> = use_mut_ref(|| None);
    {
        let kept = kept.clone();
        use_effect_with((), move |_| move || drop(kept.borrow_mut().take()));
    }
    let download = |format: RecordFormat| {
        let (status, kept, source) = (status.clone(), kept.clone(), props.source.clone());
        let i18n = i18n.clone();
        Callback::from(move |_: MouseEvent| {
            status.set(Status::Busy);
            let (status, kept, source) = (status.clone(), kept.clone(), source.clone());
            let i18n = i18n.clone();
            spawn_local(async move {
                let answer = match &source {
                    RecordSource::Customer { token, .. } => {
                        api::customer_record(token, format, i18n.lang()).await
                    }
                    RecordSource::Technician { session } => {
                        api::technician_record(session, format, i18n.lang()).await
                    }
                };
                let unreachable = |_| i18n.t(Msg::Unreachable);
                let outcome = answer.map_err(|e| i18n.api_error(&e)).and_then(|download| {
                    let url = ObjectUrl::new(&download.blob).map_err(unreachable)?;
                    let name = download
                        .file_name
                        .unwrap_or_else(|| default_name(source.session(), format));
                    save(url.as_str(), &name).map_err(unreachable)?;
                    *kept.borrow_mut() = Some(url);
                    Ok(())
                });
                status.set(match outcome {
                    Ok(()) => Status::Done,
                    Err(why) => Status::Failed(why),
                });
            });
        })
    };
    let busy = *status == Status::Busy;
    html! {
        <section class="record" aria-labelledby="record-heading">
            <h2 id="record-heading">{ i18n.t(Msg::RecordHeading) }</h2>
            <p class="muted">{ i18n.t(Msg::RecordIntro) }</p>
            <div class="actions">
                <button id="download-record-html" type="button" class="secondary" disabled={busy}
                    onclick={download(RecordFormat::Html)}>{ i18n.t(Msg::RecordHtml) }</button>
                <button id="download-record-json" type="button" class="secondary" disabled={busy}
                    onclick={download(RecordFormat::Json)}>{ i18n.t(Msg::RecordJson) }</button>
            </div>
            {
                match &*status {
                    Status::Idle => html! {},
                    Status::Busy => html! { <p class="muted" role="status">{ i18n.t(Msg::RecordDownloading) }</p> },
                    Status::Done => html! { <p class="muted" role="status">{ i18n.t(Msg::RecordReady) }</p> },
                    Status::Failed(why) => html! {
                        <p id="record-error" class="field-error" role="alert">{ i18n.t(Msg::RecordFailed { why: why.clone() }) }</p>
                    },
                }
            }
        </section>
    }
}
