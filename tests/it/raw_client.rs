//! The five generated operations against httpmock: what is sent and what comes back.
