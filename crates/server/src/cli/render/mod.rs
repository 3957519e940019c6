//! Tables for each operator command's answer, one file per part of the
//! admin API. Each renderer takes the API's JSON and a writer; none talks
//! HTTP, so each is tested on a JSON sample.

pub mod agents;
pub mod audit;
pub mod grants;
pub mod report;
pub mod resources;
