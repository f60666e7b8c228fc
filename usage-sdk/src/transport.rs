//! The hooks the generated client calls around every request.

use progenitor_client::{ClientHooks, OperationInfo};

use crate::raw::Client;

impl ClientHooks for Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        _info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        // progenitor sends `api-version: <info.version>` on every request; Genesys does not
        // define that header and the official SDKs never send it.
        request.headers_mut().remove("api-version");
        Ok(())
    }
}
