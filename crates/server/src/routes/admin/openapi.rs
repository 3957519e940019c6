//! The documented operations of the admin API, with paths relative to
//! `/admin/v1` as in [`super::router`]; `routes::openapi` nests them there.

use utoipa::OpenApi;

use super::{agents, audit, credentials, grants, inventory, kill, operators, report, resources};

#[derive(OpenApi)]
#[openapi(paths(
    operators::create,
    operators::list,
    resources::create,
    resources::list,
    agents::create,
    inventory::list,
    inventory::csv,
    report::report,
    report::access,
    credentials::create,
    credentials::list,
    credentials::retire,
    agents::show,
    agents::suspend,
    agents::resume,
    kill::kill,
    kill::restore,
    kill::kill_matching,
    audit::list,
    grants::request,
    grants::approve,
    grants::deny,
    grants::revoke,
))]
pub struct AdminApi;
