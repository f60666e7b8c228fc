//! Integration tests of usage-sdk against local servers on loopback (httpmock and the stand-in).
//! One module per area; shared fixtures live in `support`.

mod raw_client;
mod stand_in;
mod support;
