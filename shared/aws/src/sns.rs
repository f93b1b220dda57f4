//! SNS notifications.

use fleetopt_ports::{Notifier, ServiceError};

use crate::error::service_error;

/// SNS's limit on a subject's length.
const MAX_SUBJECT: usize = 100;

/// Notifications through SNS.
#[derive(Debug, Clone)]
pub struct SnsNotifier {
    client: aws_sdk_sns::Client,
}

impl SnsNotifier {
    /// A notifier over this client.
    pub fn new(client: aws_sdk_sns::Client) -> Self {
        Self { client }
    }
}

/// SNS refuses subjects over 100 characters or with line breaks: shorten and flatten instead.
fn subject_line(subject: &str) -> String {
    let flat: String = subject
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    flat.chars().take(MAX_SUBJECT).collect()
}

impl Notifier for SnsNotifier {
    async fn notify(
        &self,
        topic_arn: &str,
        subject: &str,
        message: &str,
    ) -> Result<(), ServiceError> {
        self.client
            .publish()
            .topic_arn(topic_arn)
            .subject(subject_line(subject))
            .message(message)
            .send()
            .await
            .map_err(|e| service_error("sns:Publish", &e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_flattened_and_cut_to_100_characters() {
        assert_eq!(subject_line("a\nb"), "a b");
        assert_eq!(subject_line(&"x".repeat(150)).len(), 100);
    }
}
