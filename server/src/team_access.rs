//! Team access: a product whose repositories all belong to one GitHub
//! organisation may grant them through a GitHub team RepoPass creates (or
//! adopts) for it. A holder is then a member of the team — one call gives
//! every repository, one call takes them away — and a repository added to
//! the product is added to the team once, reaching every holder. A holder
//! who is not in the organisation yet is invited to it by GitHub (pending
//! until they accept, within GitHub's daily limit of organisation
//! invitations). Personal repositories keep collaborator access.

use crate::{
    access::{self, Failure, Invite},
    clock,
    domain::{Action, GithubTeam, GithubUserId, GrantStatus, ProductId, PurchaseId, PurchaseStatus},
    github::teams::Membership,
    grants::{self, Grant, Update},
    prices,
    products::{self, Product},
    purchase_state::{transition, Cause, Change, Value},
    purchases::{self, Purchase},
    repositories::Included,
    AppState, Error, Result,
};

/// The link GitHub's organisation invitations lead to.
pub fn invitation_url(state: &AppState, team: &GithubTeam) -> String {
    let web = state.config.github.web_url.as_str().trim_end_matches('/');
    format!("{web}/orgs/{}/invitation", team.org)
}

/// Whether another live purchase of the account is a member of the team
/// through RepoPass (removing the membership would take what it pays for).
pub async fn held_elsewhere(
    state: &AppState,
    team: &GithubTeam,
    user: GithubUserId,
    except: PurchaseId,
) -> Result<bool> {
    Ok(other_membership(state, team, user, except).await?.is_some())
}

/// Another live purchase's grant through the team for the account: its
/// status and invitation link.
async fn other_membership(
    state: &AppState,
    team: &GithubTeam,
    user: GithubUserId,
    except: PurchaseId,
) -> Result<Option<(GrantStatus, Option<String>)>> {
    Ok(sqlx::query_as(
        "SELECT g.status, g.invitation_url FROM grants g
           JOIN purchases p ON p.id = g.purchase_id
           JOIN products pr ON pr.id = p.product_id
         WHERE pr.github_team_id = $1 AND g.github_user_id = $2 AND g.purchase_id <> $3
           AND g.status IN ($4, $5) AND p.status IN ($6, $7)
         ORDER BY g.purchase_id LIMIT 1",
    )
    .bind(team.id)
    .bind(user)
    .bind(except)
    .bind(GrantStatus::Invited)
    .bind(GrantStatus::Active)
    .bind(PurchaseStatus::Invited)
    .bind(PurchaseStatus::Active)
    .fetch_optional(state.db.pool())
    .await?)
}

/// Makes the buyer a member of the team (what `grant` is for a team
/// product): one membership for every repository still to grant, `grant`
/// being the first of them (its attempt record guards a crash between
/// GitHub's answer and ours). `ours`: a resend.
pub(crate) async fn invite(
    state: &AppState,
    p: &Purchase,
    team: &GithubTeam,
    grant: &Grant,
    ours: bool,
) -> std::result::Result<Invite, Failure> {
    if let Some(other) = shared(state, team, p).await? {
        return Ok(other);
    }
    let login = access::current_login(state, &team.org, p.github_user_id, &p.github_login).await?;
    let attempted = grant.invite_attempted_at.filter(|_| grant.invite_attempted_user == Some(p.github_user_id.get()));
    let url = invitation_url(state, team);
    match state.github.membership_of(team, &login).await? {
        Some(Membership::Active) if ours || attempted.is_some() => return Ok(Invite::AlreadyOurs),
        Some(Membership::Pending) if ours => {
            // GitHub has no "resend": the invitation is withdrawn and made again.
            state.github.remove_member(team, &login, None).await?;
        }
        Some(Membership::Pending) if attempted.is_some() => return Ok(Invite::Sent(None, url)),
        Some(Membership::Active) => return Ok(access::had_access(p, None)),
        Some(Membership::Pending) => return Ok(access::had_access(p, Some(url))),
        None => {}
    }
    grants::record_invite_attempt(&state.db, grant, p.github_user_id).await?;
    let added = state.github.add_member(team, &login).await;
    tracing::debug!(target: "repopass::grant", purchase_id = p.id.get(), ok = added.is_ok(), "GitHub team membership call made");
    Ok(match added? {
        Membership::Active => Invite::AlreadyOurs,
        Membership::Pending => Invite::Sent(None, url),
    })
}

/// Another purchase of the same account is a member through RepoPass: this
/// one shares that membership.
async fn shared(state: &AppState, team: &GithubTeam, p: &Purchase) -> Result<Option<Invite>> {
    let other = other_membership(state, team, p.github_user_id, p.id).await?;
    Ok(other.map(|(status, invitation_url)| Invite::Shared { status, invitation_url }))
}

/// The level the team gives a repository of the product: its own in the
/// product, else the one level of the product's prices. Prices of
/// different levels cannot share one team.
fn level(included: &Included, price_levels: &[String]) -> Result<String> {
    if let Some(own) = &included.permission {
        return Ok(own.clone());
    }
    match price_levels {
        [] => Err(Error::invalid(
            "team_access",
            "add a price first: the team gives each repository the level the prices sell",
        )),
        [one, rest @ ..] if rest.iter().all(|l| l == one) => Ok(one.clone()),
        _ => Err(Error::invalid(
            "team_access",
            format!(
                "the product's prices give different access levels ({}), and a team gives each repository one: \
                 give {} its own level in the product first",
                price_levels.join(", "),
                included.repository.full_name()
            ),
        )),
    }
}

async fn price_levels(state: &AppState, product: ProductId) -> Result<Vec<String>> {
    let mut levels: Vec<String> =
        prices::active_for(&state.db, product).await?.into_iter().map(|p| p.permission).collect();
    levels.sort();
    levels.dedup();
    Ok(levels)
}

/// How many customers hold access to the product now (team access is
/// chosen before the first sale, or after the last access ended).
async fn holders(state: &AppState, product: ProductId) -> Result<i64> {
    let statuses = purchases::statuses_sql(PurchaseStatus::is_granted);
    Ok(sqlx::query_scalar(&format!(
        "SELECT COUNT(*) FROM purchases WHERE product_id = $1 AND seats IS NULL AND status IN ({statuses})"
    ))
    .bind(product)
    .fetch_one(state.db.pool())
    .await?)
}

/// The organisation every repository of the product belongs to, if one does.
pub fn organisation(product: &Product) -> Option<&str> {
    let first = product.repositories.first()?;
    let org = first.repository.owner.as_str();
    product
        .repositories
        .iter()
        .all(|i| i.repository.owner_is_org && i.repository.owner.eq_ignore_ascii_case(org))
        .then_some(org)
}

/// Turns team access on: the team `repopass-{slug}` is created in the
/// organisation (or adopted when it exists) and given every repository of
/// the product at its level.
pub async fn turn_on(state: &AppState, id: ProductId) -> Result<Product> {
    let product = products::get(&state.db, id).await?;
    if let Some(team) = product.team() {
        return Err(Error::invalid(
            "team_access",
            format!("access already goes through the team {}", team.full_name()),
        ));
    }
    let Some(org) = organisation(&product) else {
        return Err(Error::invalid(
            "team_access",
            "team access needs every repository of the product in one GitHub organisation; \
             personal repositories are shared with collaborators",
        ));
    };
    let held = holders(state, id).await?;
    if held > 0 {
        return Err(Error::invalid(
            "team_access",
            format!(
                "{held} customer{} already ha{} access as collaborator{}; choose team access before the first sale",
                if held == 1 { "" } else { "s" },
                if held == 1 { "s" } else { "ve" },
                if held == 1 { "" } else { "s" },
            ),
        ));
    }
    let levels = price_levels(state, id).await?;
    let mut plan = Vec::new();
    for included in &product.repositories {
        plan.push((included, level(included, &levels)?));
    }
    let name = format!("RepoPass {}", product.slug);
    let description = format!("Customers of {} (managed by RepoPass)", product.title);
    let team = state.github.create_or_adopt_team(org, &name, &description).await?;
    for (included, level) in plan {
        let r = &included.repository;
        state.github.add_team_repository(&team, &r.owner, &r.name, &level).await?;
    }
    products::set_team(&state.db, id, Some(&team)).await?;
    tracing::info!(product_id = id.get(), team = %team.full_name(), "team access on");
    products::get(&state.db, id).await
}

/// Turns team access off (back to collaborators). The team stays on GitHub.
pub async fn turn_off(state: &AppState, id: ProductId) -> Result<Product> {
    let product = products::get(&state.db, id).await?;
    let Some(team) = product.team() else { return Ok(product) };
    let held = holders(state, id).await?;
    if held > 0 {
        return Err(Error::invalid(
            "team_access",
            format!("{held} customer(s) hold access through the team {}; it stays while they do", team.full_name()),
        ));
    }
    products::set_team(&state.db, id, None).await?;
    products::get(&state.db, id).await
}

/// A repository added to a team product: one call adds it to the team,
/// and every holder's grant of it follows their membership (nothing to
/// accept for members; pending ones get it with their invitation).
/// Returns how many holders it reached.
pub async fn repository_added(state: &AppState, product: &Product, included: &Included) -> Result<usize> {
    let Some(team) = product.team() else { return Ok(0) };
    let levels = price_levels(state, product.id).await?;
    let r = &included.repository;
    state.github.add_team_repository(&team, &r.owner, &r.name, &level(included, &levels)?).await?;
    let filter = purchases::Filter { product_id: Some(product.id), unfinished: true, ..Default::default() };
    let mut reached = 0;
    for p in purchases::all(&state.db, &filter).await? {
        if !p.status.is_granted() || p.is_company() {
            continue;
        }
        let held = grants::of_purchase(&state.db, p.id).await?;
        // The membership's state, as another repository of the product shows it.
        let Some(member) = held.iter().find(|g| g.status.gives_access()) else {
            // Not granted yet: the purchase's own grant pass gives it all.
            access::queue_grant(state, p.id).await?;
            continue;
        };
        let mut grant = grants::ensure(&state.db, &p, r.id).await?;
        if grant.status == GrantStatus::Removed {
            grants::reopen(&state.db, &grant).await?;
            grant.status = GrantStatus::Waiting;
        }
        if grant.status.gives_access() {
            continue;
        }
        let update = Update::new(&grant, member.status).set_all([
            ("github_access", Value::Text(Some(member.github_access.as_str().to_owned()))),
            ("github_invitation_id", Value::Int(member.github_invitation_id)),
            ("invitation_url", Value::Text(member.invitation_url.clone())),
            ("invited_at", Value::Int(member.invited_at)),
            ("activated_at", Value::Int(member.activated_at.map(|_| clock::now()))),
            ("removed_at", Value::Int(None)),
        ]);
        let detail = format!("{} added to the team {}", r.full_name(), team.full_name());
        let change = Change::of_grants(p.status, Action::AccessActive, vec![update]).detail(&detail).about(r.id);
        if transition(&state.db, p.id, change, &Cause::System).await? {
            reached += 1;
        }
    }
    Ok(reached)
}

/// GitHub's `membership` event: `added` (an organisation invitation
/// accepted, so every repository of the team is theirs) activates the
/// purchase's waiting grants; `removed` while paid for is drift for the
/// creator to see.
pub async fn membership_event(
    state: &AppState,
    team_id: i64,
    user: i64,
    added: bool,
    by: &str,
    cause: &Cause,
) -> Result<crate::jobs::Outcome> {
    use crate::jobs::Outcome;
    let live: Vec<Grant> = grants::of_team_and_user(&state.db, team_id, user).await?;
    if live.is_empty() {
        return Ok(Outcome::Ignored("not a holder of ours".into()));
    }
    let mut by_purchase: std::collections::BTreeMap<PurchaseId, Vec<Grant>> = Default::default();
    for g in live {
        by_purchase.entry(g.purchase_id).or_default().push(g);
    }
    let mut done = 0;
    let removed = format!("removed from the GitHub team by @{by} while the purchase is paid for");
    for (id, held) in by_purchase {
        let p = purchases::get(&state.db, id).await?;
        if !p.status.gives_access() {
            continue;
        }
        let change = if added {
            let updates: Vec<Update> = held
                .iter()
                .filter(|g| g.status == GrantStatus::Invited)
                .map(|g| {
                    Update::new(g, GrantStatus::Active)
                        .set("activated_at", Value::Int(Some(clock::now())))
                        .set("invitation_url", Value::Text(None))
                })
                .collect();
            if updates.is_empty() {
                continue;
            }
            Change::of_grants(p.status, Action::AccessActive, updates)
                .detail("invitation to the organisation accepted: a member of the team")
        } else {
            if !held.iter().any(|g| g.status.gives_access()) {
                continue;
            }
            Change::record(p.status, Action::DriftRemovedByHand).about(held[0].repository_id).detail(&removed)
        };
        if transition(&state.db, p.id, change, cause).await? {
            done += 1;
        }
    }
    Ok(if done > 0 { Outcome::Processed } else { Outcome::Ignored("nothing to change".into()) })
}
