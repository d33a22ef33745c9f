//! The ticketing system's part of the admin page (`#integrations`): API tokens
//! (`#api-tokens`, issued with `#new-token`, the secret shown once in
//! `#issued-token`, revoked with `.revoke-token`) and webhooks (`#webhooks`, added with
//! `#new-webhook`, the signing secret shown once in `#webhook-secret`), each with its
//! recent deliveries (`.delivery[data-status]`).

use connectit_protocol::api::{
    Account, ApiScope, ApiToken, DeliveryStatus, NewApiToken, NewWebhook, Webhook, WebhookDelivery,
    WebhookEvent,
};
use connectit_protocol::shown_text;
use yew::platform::spawn_local;
use yew::prelude::*;

use super::form::Field;
use crate::api::{self, ApiError};
use crate::i18n::{use_i18n, I18n, Msg};
use crate::time;
use crate::widgets::ErrorText;

fn scope_words(i18n: &I18n, scope: ApiScope) -> String {
    i18n.t(match scope {
        ApiScope::SessionsCreate => Msg::ScopeSessionsCreate,
        ApiScope::SessionsRead => Msg::ScopeSessionsRead,
    })
}

fn event_words(i18n: &I18n, event: WebhookEvent) -> String {
    i18n.t(match event {
        WebhookEvent::SessionCreated => Msg::EventSessionCreated,
        WebhookEvent::SessionPickedUp => Msg::EventSessionPickedUp,
        WebhookEvent::SessionEnded => Msg::EventSessionEnded,
    })
}

fn status_attr(status: DeliveryStatus) -> &'static str {
    match status {
        DeliveryStatus::Pending => "pending",
        DeliveryStatus::Delivered => "delivered",
        DeliveryStatus::Failed => "failed",
    }
}

/// The attribute-safe name of a scope or event (`sessions-create`).
fn id_part(name: &str) -> String {
    name.replace([':', '.', '_'], "-")
}

/// A set of choices as checkboxes, `prefix-<name>` each.
fn toggle<T: Copy + PartialEq + 'static>(
    chosen: &UseStateHandle<Vec<T>>,
    item: T,
) -> Callback<Event> {
    let chosen = chosen.clone();
    Callback::from(move |_: Event| {
        let mut now = (*chosen).clone();
        if let Some(at) = now.iter().position(|c| *c == item) {
            now.remove(at);
        } else {
            now.push(item);
        }
        chosen.set(now);
    })
}

#[derive(Properties, PartialEq)]
pub struct IntegrationsProps {
    /// The accounts a token may act as.
    pub accounts: Vec<Account>,
}

#[component]
pub fn Integrations(props: &IntegrationsProps) -> Html {
    let i18n = use_i18n();
    let tokens = use_state(Vec::<ApiToken>::new);
    let hooks = use_state(Vec::<(Webhook, Vec<WebhookDelivery>)>::new);
    let reload = use_state(|| 0u32);
    let problem = use_state(|| None::<ApiError>);
    let issued = use_state(|| None::<String>);
    let secret = use_state(|| None::<String>);
    let name = use_state(String::new);
    let account = use_state(String::new);
    let scopes = use_state(Vec::<ApiScope>::new);
    let url = use_state(String::new);
    let events = use_state(|| WebhookEvent::ALL.to_vec());
    {
        let (tokens, hooks, problem) = (tokens.clone(), hooks.clone(), problem.clone());
        use_effect_with(*reload, move |_| {
            spawn_local(async move {
                let listed = async {
                    let tokens = api::admin_tokens().await?;
                    let mut with = Vec::new();
                    for hook in api::webhooks().await? {
                        let deliveries = api::webhook_deliveries(hook.id).await?;
                        with.push((hook, deliveries));
                    }
                    Ok::<_, ApiError>((tokens, with))
                };
                match listed.await {
                    Ok((t, h)) => {
                        tokens.set(t);
                        hooks.set(h);
                    }
                    Err(e) => problem.set(Some(e)),
                }
            });
        });
    }
    // Runs a step, says what failed, and reads the lists again.
    let run = {
        let (reload, problem) = (reload.clone(), problem.clone());
        move |step: std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), ApiError>>>>| {
            let (reload, problem) = (reload.clone(), problem.clone());
            problem.set(None);
            spawn_local(async move {
                if let Err(e) = step.await {
                    problem.set(Some(e));
                }
                reload.set(*reload + 1);
            });
        }
    };

    let issue = {
        let (name, account, scopes, issued, run) = (
            name.clone(),
            account.clone(),
            scopes.clone(),
            issued.clone(),
            run.clone(),
        );
        let first = props.accounts.first().map(|a| a.username.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let request = NewApiToken {
                name: name.trim().to_owned(),
                account: if account.is_empty() {
                    first.clone().unwrap_or_default()
                } else {
                    (*account).clone()
                },
                scopes: (*scopes).clone(),
            };
            let issued = issued.clone();
            run(Box::pin(async move {
                let made = api::issue_token(&request).await?;
                issued.set(Some(made.secret));
                Ok(())
            }));
        })
    };
    let add = {
        let (url, events, secret, run) = (url.clone(), events.clone(), secret.clone(), run.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let request = NewWebhook {
                url: url.trim().to_owned(),
                events: (*events).clone(),
            };
            let secret = secret.clone();
            run(Box::pin(async move {
                let made = api::add_webhook(&request).await?;
                secret.set(Some(made.secret));
                Ok(())
            }));
        })
    };

    let token_rows = tokens.iter().map(|t| {
        let id = t.id;
        let revoke = {
            let run = run.clone();
            Callback::from(move |_: MouseEvent| run(Box::pin(api::revoke_token(id))))
        };
        let scopes: Vec<String> = t.scopes.iter().map(|s| scope_words(&i18n, *s)).collect();
        html! {
            <tr class="token-row" data-id={id.to_string()} data-revoked={t.revoked.to_string()}>
                <td>{ shown_text(&t.name).into_owned() }</td>
                <td>{ t.account.clone() }</td>
                <td>{ i18n.and_list(&scopes) }</td>
                <td>{ t.last_used_at.map(time::date_time).unwrap_or_else(|| i18n.t(Msg::TokenNeverUsed)) }</td>
                <td>
                    if t.revoked {
                        { i18n.t(Msg::TokenRevoked) }
                    } else {
                        <button type="button" class="revoke-token secondary" onclick={revoke}>{ i18n.t(Msg::Revoke) }</button>
                    }
                </td>
            </tr>
        }
    });
    let hook_items = hooks.iter().filter(|(h, _)| !h.disabled).map(|(h, deliveries)| {
        let id = h.id;
        let remove = {
            let run = run.clone();
            Callback::from(move |_: MouseEvent| run(Box::pin(api::remove_webhook(id))))
        };
        let events: Vec<String> = h.events.iter().map(|e| event_words(&i18n, *e)).collect();
        html! {
            <li class="webhook" data-id={id.to_string()}>
                <p><code>{ h.url.clone() }</code>{ " · " }{ i18n.and_list(&events) }</p>
                <button type="button" class="remove-webhook secondary" onclick={remove}>{ i18n.t(Msg::RemoveWebhook) }</button>
                <h4>{ i18n.t(Msg::DeliveriesHeading) }</h4>
                if deliveries.is_empty() {
                    <p class="muted">{ i18n.t(Msg::NoDeliveries) }</p>
                } else {
                    <table class="deliveries">
                        <tbody>
                            { for deliveries.iter().map(|d| html! {
                                <tr class="delivery" data-id={d.id.to_string()} data-status={status_attr(d.status)}
                                    data-event={d.event.name()}>
                                    <td>{ time::date_time(d.created_at) }</td>
                                    <td>{ event_words(&i18n, d.event) }</td>
                                    <td>{ i18n.t(match d.status {
                                        DeliveryStatus::Pending => Msg::DeliveryPending,
                                        DeliveryStatus::Delivered => Msg::DeliveryDelivered,
                                        DeliveryStatus::Failed => Msg::DeliveryFailed,
                                    }) }</td>
                                    <td>{ i18n.t(Msg::DeliveryAttempts { count: d.attempts }) }</td>
                                    <td>{ d.last_status.map(|s| s.to_string()).unwrap_or_default() }{ " " }{ d.last_error.clone() }</td>
                                </tr>
                            }) }
                        </tbody>
                    </table>
                }
            </li>
        }
    });
    let on_account = {
        let account = account.clone();
        Callback::from(move |e: Event| {
            let select: web_sys::HtmlSelectElement = e.target_unchecked_into();
            account.set(select.value());
        })
    };
    html! {
        <section id="integrations" aria-labelledby="integrations-heading">
            <h2 id="integrations-heading">{ i18n.t(Msg::IntegrationsHeading) }</h2>
            <ErrorText id="integrations-error" message={(*problem).map(|e| i18n.api_error(&e))} />
            <h3>{ i18n.t(Msg::TokensHeading) }</h3>
            if let Some(token) = (*issued).clone() {
                <div class="notice info" role="status">
                    <p>{ i18n.t(Msg::TokenIssued) }</p>
                    <input id="issued-token" type="text" readonly=true value={token}
                        aria-label={i18n.t(Msg::TokensHeading)} />
                </div>
            }
            <div class="table-scroll">
                <table id="api-tokens">
                    <thead>
                        <tr>
                            <th scope="col">{ i18n.t(Msg::TokenName) }</th>
                            <th scope="col">{ i18n.t(Msg::TokenAccount) }</th>
                            <th scope="col">{ i18n.t(Msg::TokenScopes) }</th>
                            <th scope="col">{ i18n.t(Msg::TokenLastUsed) }</th>
                            <th scope="col">{ i18n.t(Msg::TokenActive) }</th>
                        </tr>
                    </thead>
                    <tbody>{ for token_rows }</tbody>
                </table>
            </div>
            <form id="new-token" class="inline-form" onsubmit={issue} novalidate=true>
                <Field id="new-token-name" label={i18n.t(Msg::TokenName)} value={AttrValue::from((*name).clone())}
                    autocomplete={AttrValue::from("off")}
                    on_change={Callback::from({ let s = name.clone(); move |v| s.set(v) })} />
                <label for="new-token-account">{ i18n.t(Msg::TokenAccount) }</label>
                <select id="new-token-account" onchange={on_account}>
                    { for props.accounts.iter().filter(|a| !a.disabled).map(|a| html! {
                        <option value={a.username.clone()} selected={a.username == *account}>
                            { shown_text(&a.display_name).into_owned() }{ " (" }{ a.username.clone() }{ ")" }
                        </option>
                    }) }
                </select>
                <fieldset class="choices">
                    <legend>{ i18n.t(Msg::TokenScopes) }</legend>
                    { for ApiScope::ALL.into_iter().map(|s| {
                        let id = format!("scope-{}", id_part(s.name()));
                        html! {
                            <label for={id.clone()}>
                                <input id={id} type="checkbox" checked={scopes.contains(&s)} onchange={toggle(&scopes, s)} />
                                { scope_words(&i18n, s) }
                            </label>
                        }
                    }) }
                </fieldset>
                <button id="issue-token" type="submit" class="primary">{ i18n.t(Msg::IssueToken) }</button>
            </form>
            <h3>{ i18n.t(Msg::WebhooksHeading) }</h3>
            if let Some(key) = (*secret).clone() {
                <div class="notice info" role="status">
                    <p>{ i18n.t(Msg::WebhookSecret) }</p>
                    <input id="webhook-secret" type="text" readonly=true value={key}
                        aria-label={i18n.t(Msg::WebhooksHeading)} />
                </div>
            }
            <ul id="webhooks" class="webhook-list">{ for hook_items }</ul>
            <form id="new-webhook" class="inline-form" onsubmit={add} novalidate=true>
                <Field id="new-webhook-url" label={i18n.t(Msg::WebhookUrl)} value={AttrValue::from((*url).clone())}
                    autocomplete={AttrValue::from("off")}
                    on_change={Callback::from({ let s = url.clone(); move |v| s.set(v) })} />
                <fieldset class="choices">
                    <legend>{ i18n.t(Msg::WebhookEvents) }</legend>
                    { for WebhookEvent::ALL.into_iter().map(|ev| {
                        let id = format!("event-{}", id_part(ev.name()));
                        html! {
                            <label for={id.clone()}>
                                <input id={id} type="checkbox" checked={events.contains(&ev)} onchange={toggle(&events, ev)} />
                                { event_words(&i18n, ev) }
                            </label>
                        }
                    }) }
                </fieldset>
                <button id="add-webhook" type="submit" class="primary">{ i18n.t(Msg::AddWebhook) }</button>
            </form>
        </section>
    }
}
