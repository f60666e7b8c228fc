//! Integration tests of usage-sdk against local servers on loopback (httpmock and the stand-in).
//! One module per area; shared fixtures live in `support`.

mod client;
mod clock;
mod end_to_end;
mod fuzz;
mod jobs;
mod load;
mod logs;
mod raw_client;
mod raw_session;
mod raw_tcp;
mod reliability;
mod scripted;
mod stand_in;
mod stand_in_jobs;
mod support;
mod waiting;
