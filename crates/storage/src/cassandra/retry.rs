//! The driver's default retry policy, plus one case: a node that restarted after a crash can
//! answer for a moment that the keyspace or a table "does not exist", until it has pulled the
//! schema from its peers. Idempotent statements then go to the next node instead of failing.

use scylla::errors::{DbError, RequestAttemptError};
use scylla::policies::retry::{
    DefaultRetryPolicy, RequestInfo, RetryDecision, RetryPolicy, RetrySession,
};

/// Retries on the next node when a node has not caught up with the schema yet.
#[derive(Debug, Default)]
pub(super) struct SchemaLagRetryPolicy;

impl RetryPolicy for SchemaLagRetryPolicy {
    fn new_session(&self) -> Box<dyn RetrySession> {
        Box::new(SchemaLagRetrySession {
            default: DefaultRetryPolicy::new().new_session(),
            schema_retries: 0,
        })
    }
}

/// Other nodes to try before giving up on a schema lag.
const MAX_SCHEMA_RETRIES: u32 = 2;

struct SchemaLagRetrySession {
    default: Box<dyn RetrySession>,
    schema_retries: u32,
}

fn is_schema_lag(error: &RequestAttemptError) -> bool {
    let RequestAttemptError::DbError(DbError::Invalid, message) = error else {
        return false;
    };
    // Cassandra 5 says "Keyspace 'k' doesn't exist"; earlier releases "does not exist".
    message.contains("does not exist")
        || message.contains("doesn't exist")
        || message.contains("unconfigured table")
}

impl RetrySession for SchemaLagRetrySession {
    fn decide_should_retry(&mut self, request: RequestInfo<'_>) -> RetryDecision {
        if request.is_idempotent
            && self.schema_retries < MAX_SCHEMA_RETRIES
            && is_schema_lag(request.error)
        {
            self.schema_retries += 1;
            return RetryDecision::RetryNextTarget(None);
        }
        self.default.decide_should_retry(request)
    }

    fn reset(&mut self) {
        self.default.reset();
        self.schema_retries = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid(message: &str) -> RequestAttemptError {
        RequestAttemptError::DbError(DbError::Invalid, message.to_owned())
    }

    #[test]
    fn a_missing_keyspace_or_table_is_schema_lag_in_every_wording() {
        assert!(is_schema_lag(&invalid("Keyspace 'esmond' doesn't exist")));
        assert!(is_schema_lag(&invalid("Keyspace esmond does not exist")));
        assert!(is_schema_lag(&invalid("unconfigured table points")));
        assert!(!is_schema_lag(&invalid("Invalid STRING constant for ts")));
        let syntax = RequestAttemptError::DbError(DbError::SyntaxError, "doesn't exist".to_owned());
        assert!(!is_schema_lag(&syntax));
    }
}
