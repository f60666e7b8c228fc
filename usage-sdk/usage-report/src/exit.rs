//! Why the program stops early: an exit code and what to say on stderr.

use usage_sdk::Error;

/// An exit code and its message.
#[derive(Debug)]
pub struct Exit {
    pub code: u8,
    pub message: String,
}

impl Exit {
    /// Bad options or configuration.
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            code: 2,
            message: message.into(),
        }
    }

    /// The API, the query or the program failed.
    pub fn failed(message: impl Into<String>) -> Self {
        Self {
            code: 1,
            message: message.into(),
        }
    }

    /// Ctrl-C.
    pub fn interrupted(message: impl Into<String>) -> Self {
        Self {
            code: 130,
            message: message.into(),
        }
    }
}

impl From<usage_sdk::InvalidInput> for Exit {
    fn from(invalid: usage_sdk::InvalidInput) -> Self {
        Exit::usage(invalid.to_string())
    }
}

impl From<Error> for Exit {
    fn from(error: Error) -> Self {
        // The SDK's messages name the operation, HTTP status, Genesys error code and
        // correlation id; invalid input is checked before anything is sent, so it is ours.
        if matches!(error, Error::InvalidInput(_)) {
            Exit::usage(error.to_string())
        } else {
            Exit::failed(error.to_string())
        }
    }
}

/// A write to stdout: `usage-report | head` is not a failure; any other write error is.
pub fn written(result: std::io::Result<()>) -> Result<(), Exit> {
    match result {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Exit::failed(format!("cannot write the report: {e}")))
        }
        _ => Ok(()),
    }
}
