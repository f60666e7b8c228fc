//! Tests of the xtask (run on temporary copies, never on the real tree).
