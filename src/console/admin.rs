//! The admin page (`#admin`, for admins): every account with its role, state and
//! teams, and what an admin does to it (role, disable or enable, reset the password,
//! sign out everywhere); a new account, whose invitation link is shown once; the
//! teams with their members; and the way to the security log.

use std::future::Future;

use connectit_protocol::api::{
    Account, AccountRole, AccountUpdate, Invitation, NewAccount, NewTeam, TeamAdmin,
};
use connectit_protocol::shown_text;
use wasm_bindgen::JsCast;
use web_sys::HtmlSelectElement;
use yew::platform::spawn_local;
use yew::prelude::*;

use super::form::Field;
use crate::api::{self, ApiError};
use crate::i18n::{use_i18n, I18n, Msg};
use crate::widgets::ErrorText;

#[derive(Properties, PartialEq)]
pub struct AdminPageProps {
    pub on_back: Callback<()>,
    pub on_audit: Callback<()>,
}

fn role_attr(role: AccountRole) -> &'static str {
    match role {
        AccountRole::Technician => "technician",
        AccountRole::TeamLead => "team_lead",
        AccountRole::Admin => "admin",
    }
}

fn role_from(value: &str) -> AccountRole {
    match value {
        "admin" => AccountRole::Admin,
        "team_lead" => AccountRole::TeamLead,
        _ => AccountRole::Technician,
    }
}

fn role_name(i18n: &I18n, role: AccountRole) -> String {
    i18n.t(match role {
        AccountRole::Technician => Msg::RoleTechnician,
        AccountRole::TeamLead => Msg::RoleTeamLead,
        AccountRole::Admin => Msg::RoleAdmin,
    })
}

fn select_value(e: &Event) -> String {
    e.target()
        .and_then(|t| t.dyn_into::<HtmlSelectElement>().ok())
        .map(|s| s.value())
        .unwrap_or_default()
}

fn setter(state: &UseStateHandle<String>) -> Callback<String> {
    let state = state.clone();
    Callback::from(move |v: String| state.set(v))
}

/// What the page shows: the lists, and what the last step said.
#[derive(Clone)]
struct Page {
    problem: UseStateHandle<Option<ApiError>>,
    notice: UseStateHandle<Option<String>>,
    reload: UseStateHandle<u32>,
}

impl Page {
    /// Runs one step; the lists are read again after it, whatever it answered.
    fn run<F>(&self, step: F)
    where
        F: Future<Output = Result<Option<String>, ApiError>> + 'static,
    {
        let page = self.clone();
        page.problem.set(None);
        page.notice.set(None);
        spawn_local(async move {
            match step.await {
                Ok(notice) => page.notice.set(notice),
                Err(e) => page.problem.set(Some(e)),
            }
            page.reload.set(*page.reload + 1);
        });
    }
}

#[component]
pub fn AdminPage(props: &AdminPageProps) -> Html {
    let i18n = use_i18n();
    let accounts = use_state(|| None::<Vec<Account>>);
    let teams = use_state(Vec::<TeamAdmin>::new);
    let invitation = use_state(|| None::<Invitation>);
    let page = Page {
        problem: use_state(|| None),
        notice: use_state(|| None),
        reload: use_state(|| 0u32),
    };
    let username = use_state(String::new);
    let display_name = use_state(String::new);
    let role = use_state(|| AccountRole::Technician);
    let slug = use_state(String::new);
    let team_name = use_state(String::new);
    {
        let (accounts, teams, problem) = (accounts.clone(), teams.clone(), page.problem.clone());
        use_effect_with(*page.reload, move |_| {
            spawn_local(async move {
                match (api::accounts().await, api::admin_teams().await) {
                    (Ok(a), Ok(t)) => {
                        accounts.set(Some(a));
                        teams.set(t);
                    }
                    (Err(e), _) | (_, Err(e)) => problem.set(Some(e)),
                }
            });
        });
    }

    let rows = accounts.iter().flatten().map(|a| {
        let name = shown_text(&a.display_name).into_owned();
        let user = a.username.clone();
        let on_role = {
            let (page, user) = (page.clone(), user.clone());
            Callback::from(move |e: Event| {
                let update = AccountUpdate {
                    role: Some(role_from(&select_value(&e))),
                    ..Default::default()
                };
                let user = user.clone();
                page.run(async move { api::update_account(&user, &update).await.map(|_| None) });
            })
        };
        let toggle = {
            let (page, user, disabled) = (page.clone(), user.clone(), a.disabled);
            Callback::from(move |_: MouseEvent| {
                let update = AccountUpdate {
                    disabled: Some(!disabled),
                    ..Default::default()
                };
                let user = user.clone();
                page.run(async move { api::update_account(&user, &update).await.map(|_| None) });
            })
        };
        let reset = {
            let (page, user, invitation) = (page.clone(), user.clone(), invitation.clone());
            Callback::from(move |_: MouseEvent| {
                let (user, invitation) = (user.clone(), invitation.clone());
                page.run(async move {
                    let made = api::reset_account(&user).await?;
                    invitation.set(Some(made));
                    Ok(None)
                });
            })
        };
        let sign_out = {
            let (page, user, i18n, name) = (page.clone(), user.clone(), i18n.clone(), name.clone());
            Callback::from(move |_: MouseEvent| {
                let (user, said) = (
                    user.clone(),
                    i18n.t(Msg::SignedOutAccount { name: name.clone() }),
                );
                page.run(async move { api::sign_out_account(&user).await.map(|_| Some(said)) });
            })
        };
        let teams_of = a
            .teams
            .iter()
            .map(|t| shown_text(&t.name).into_owned())
            .collect::<Vec<_>>()
            .join(", ");
        html! {
            <tr key={a.username.clone()} class="account-row" data-username={a.username.clone()}
                data-role={role_attr(a.role)} data-disabled={a.disabled.to_string()}>
                <td><bdi>{ a.username.clone() }</bdi></td>
                <td><bdi>{ name.clone() }</bdi></td>
                <td>{ teams_of }</td>
                <td>
                    if a.disabled {
                        <span class="badge">{ i18n.t(Msg::AccountDisabled) }</span>
                    }
                    if a.invited {
                        <span class="badge">{ i18n.t(Msg::AccountInvited) }</span>
                    }
                </td>
                <td>
                    <select class="account-role" aria-label={i18n.t(Msg::RoleLabel { name: name.clone() })}
                        onchange={on_role}>
                        { for [AccountRole::Technician, AccountRole::TeamLead, AccountRole::Admin].into_iter().map(|r| html! {
                            <option value={role_attr(r)} selected={r == a.role}>{ role_name(&i18n, r) }</option>
                        }) }
                    </select>
                </td>
                <td class="account-actions">
                    if a.disabled {
                        <button type="button" class="enable-account secondary" onclick={toggle}>{ i18n.t(Msg::EnableAccount) }</button>
                    } else {
                        <button type="button" class="disable-account secondary" onclick={toggle}>{ i18n.t(Msg::DisableAccount) }</button>
                    }
                    <button type="button" class="reset-account secondary" onclick={reset}>{ i18n.t(Msg::ResetAccount) }</button>
                    <button type="button" class="sign-out-account secondary" onclick={sign_out}>{ i18n.t(Msg::SignOutAccount) }</button>
                </td>
            </tr>
        }
    });

    let create = {
        let (page, invitation) = (page.clone(), invitation.clone());
        let (username, display_name, role) = (username.clone(), display_name.clone(), role.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let request = NewAccount {
                username: username.trim().to_owned(),
                display_name: display_name.trim().to_owned(),
                role: *role,
            };
            let (invitation, username, display_name) =
                (invitation.clone(), username.clone(), display_name.clone());
            page.run(async move {
                let made = api::create_account(&request).await?;
                invitation.set(Some(made));
                username.set(String::new());
                display_name.set(String::new());
                Ok(None)
            });
        })
    };
    let on_new_role = {
        let role = role.clone();
        Callback::from(move |e: Event| role.set(role_from(&select_value(&e))))
    };
    let create_team = {
        let page = page.clone();
        let (slug, team_name) = (slug.clone(), team_name.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let request = NewTeam {
                slug: slug.trim().to_owned(),
                name: team_name.trim().to_owned(),
            };
            let (slug, team_name) = (slug.clone(), team_name.clone());
            page.run(async move {
                api::create_team(&request).await?;
                slug.set(String::new());
                team_name.set(String::new());
                Ok(None)
            });
        })
    };
    let everyone: Vec<Account> = accounts.iter().flatten().cloned().collect();
    let team_rows = teams.iter().map(|t| {
        let team_label = shown_text(&t.team.name).into_owned();
        let members = t.members.iter().map(|m| {
            let remove = {
                let (page, slug, user) = (page.clone(), t.team.slug.clone(), m.clone());
                Callback::from(move |_: MouseEvent| {
                    let (slug, user) = (slug.clone(), user.clone());
                    page.run(async move { api::set_member(&slug, &user, false).await.map(|_| None) });
                })
            };
            html! {
                <li key={m.clone()} data-username={m.clone()}>
                    <bdi>{ m.clone() }</bdi>{ " " }
                    <button type="button" class="remove-member link-button"
                        aria-label={i18n.t(Msg::RemoveMember { name: m.clone(), team: team_label.clone() })}
                        onclick={remove}>{ "×" }</button>
                </li>
            }
        });
        let candidates: Vec<&Account> = everyone
            .iter()
            .filter(|a| !t.members.contains(&a.username))
            .collect();
        // The list is drawn anew each time, and read when "Add" is pressed.
        let who = NodeRef::default();
        let add = {
            let (page, slug, who) = (page.clone(), t.team.slug.clone(), who.clone());
            Callback::from(move |_: MouseEvent| {
                let Some(user) = who.cast::<HtmlSelectElement>().map(|s| s.value()) else {
                    return;
                };
                if user.is_empty() {
                    return;
                }
                let slug = slug.clone();
                page.run(async move { api::set_member(&slug, &user, true).await.map(|_| None) });
            })
        };
        html! {
            <li key={t.team.slug.clone()} class="team-admin" data-slug={t.team.slug.clone()}>
                <h3><bdi>{ team_label.clone() }</bdi>{ " · /t/" }{ t.team.slug.clone() }</h3>
                if t.members.is_empty() {
                    <p class="hint">{ i18n.t(Msg::TeamNoMembers) }</p>
                } else {
                    <ul class="team-members">{ for members }</ul>
                }
                if !candidates.is_empty() {
                    <div class="add-member-row">
                        <select class="add-member-who" ref={who}
                            aria-label={i18n.t(Msg::AddMemberLabel { team: team_label.clone() })}>
                            { for candidates.iter().map(|a| html! {
                                <option value={a.username.clone()}>{ shown_text(&a.display_name).into_owned() }</option>
                            }) }
                        </select>
                        <button type="button" class="add-member secondary" onclick={add}>{ i18n.t(Msg::AddMember) }</button>
                    </div>
                }
            </li>
        }
    });
    let back = props.on_back.reform(|_: MouseEvent| ());
    let audit = props.on_audit.reform(|_: MouseEvent| ());
    html! {
        <section id="admin" class="card admin" aria-labelledby="admin-heading">
            <div class="card-head">
                <button id="admin-back" type="button" class="link-button" onclick={back}>{ "← " }{ i18n.t(Msg::BackToList) }</button>
                <button id="admin-audit" type="button" class="secondary" onclick={audit}>{ i18n.t(Msg::AuditOpen) }</button>
            </div>
            <h1 id="admin-heading">{ i18n.t(Msg::AdminHeading) }</h1>
            if let Some(notice) = (*page.notice).clone() {
                <p id="admin-notice" class="notice info" role="status">{ notice }</p>
            }
            <ErrorText id="admin-error" message={page.problem.as_ref().map(|e| i18n.api_error(e))} />
            if let Some(made) = (*invitation).clone() {
                <div id="invitation" class="notice info" role="status" data-username={made.account.username.clone()}>
                    <p>{ i18n.t(Msg::InvitationFor { name: shown_text(&made.account.display_name).into_owned() }) }</p>
                    <input id="invitation-link" type="text" readonly=true value={made.url.clone()}
                        aria-label={i18n.t(Msg::InvitationFor { name: made.account.username.clone() })} />
                </div>
            }
            <h2>{ i18n.t(Msg::AccountsHeading) }</h2>
            <div class="table-scroll">
                <table id="accounts">
                    <thead>
                        <tr>
                            <th scope="col">{ i18n.t(Msg::Username) }</th>
                            <th scope="col">{ i18n.t(Msg::DisplayName) }</th>
                            <th scope="col">{ i18n.t(Msg::TeamsHeading) }</th>
                            <th scope="col">{ i18n.t(Msg::AccountState) }</th>
                            <th scope="col">{ i18n.t(Msg::Role) }</th>
                            <th scope="col">{ i18n.t(Msg::AccountActions) }</th>
                        </tr>
                    </thead>
                    <tbody>{ for rows }</tbody>
                </table>
            </div>
            <form id="new-account" class="inline-form" onsubmit={create} novalidate=true>
                <h3>{ i18n.t(Msg::NewAccountHeading) }</h3>
                <Field id="new-username" label={i18n.t(Msg::Username)} value={AttrValue::from((*username).clone())}
                    autocomplete={AttrValue::from("off")} on_change={setter(&username)} />
                <Field id="new-display-name" label={i18n.t(Msg::DisplayName)}
                    value={AttrValue::from((*display_name).clone())} autocomplete={AttrValue::from("off")}
                    on_change={setter(&display_name)} />
                <label for="new-role">{ i18n.t(Msg::Role) }</label>
                <select id="new-role" onchange={on_new_role}>
                    { for [AccountRole::Technician, AccountRole::TeamLead, AccountRole::Admin].into_iter().map(|r| html! {
                        <option value={role_attr(r)} selected={r == *role}>{ role_name(&i18n, r) }</option>
                    }) }
                </select>
                <button id="create-account" type="submit" class="primary">{ i18n.t(Msg::CreateAccount) }</button>
            </form>
            <h2>{ i18n.t(Msg::TeamsHeading) }</h2>
            <ul id="admin-teams" class="team-list">{ for team_rows }</ul>
            <form id="new-team" class="inline-form" onsubmit={create_team} novalidate=true>
                <h3>{ i18n.t(Msg::NewTeamHeading) }</h3>
                <Field id="new-team-slug" label={i18n.t(Msg::TeamSlug)} value={AttrValue::from((*slug).clone())}
                    autocomplete={AttrValue::from("off")} on_change={setter(&slug)} />
                <Field id="new-team-name" label={i18n.t(Msg::TeamName)} value={AttrValue::from((*team_name).clone())}
                    autocomplete={AttrValue::from("off")} on_change={setter(&team_name)} />
                <button id="create-team" type="submit" class="primary">{ i18n.t(Msg::CreateTeam) }</button>
            </form>
            <super::integrations::Integrations accounts={accounts.as_ref().cloned().unwrap_or_default()} />
        </section>
    }
}
