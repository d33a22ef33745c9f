//! E-mail to customers over SMTP (lettre): STARTTLS or implicit TLS through rustls, the
//! public roots and `outbound_ca_file`, the account from the configuration; plain SMTP
//! only to a relay on loopback. The message is plain text from the organisation's own
//! address, worded by the shared catalogs.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{Config, SmtpSecurity};

/// How long one message may take, connection and handshake included.
const SEND_TIMEOUT: Duration = Duration::from_secs(20);

/// The configured SMTP server.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

/// Why a message was not sent.
#[derive(Debug)]
pub enum MailError {
    /// Not an e-mail address.
    BadAddress,
    /// The server refused it, or could not be reached: said in the security log.
    Failed(String),
}

impl Mailer {
    /// The server the configuration names, if any.
    pub fn from_config(config: &Config) -> Result<Option<Mailer>, String> {
        if config.smtp_host.is_empty() {
            return Ok(None);
        }
        let from: Mailbox = config
            .smtp_from
            .parse()
            .map_err(|e| format!("smtp_from: {e}"))?;
        let host = config.smtp_host.clone();
        let parameters = || -> Result<TlsParameters, String> {
            let mut builder = TlsParameters::builder(host.clone());
            if !config.outbound_ca_file.is_empty() {
                let certs =
                    crate::tls::read_certificates(std::path::Path::new(&config.outbound_ca_file))?;
                for cert in certs {
                    let cert = Certificate::from_der(cert.to_vec())
                        .map_err(|e| format!("outbound_ca_file: {e}"))?;
                    builder = builder.add_root_certificate(cert);
                }
            }
            builder.build_rustls().map_err(|e| format!("SMTP TLS: {e}"))
        };
        let tls = match config.smtp_security {
            SmtpSecurity::Starttls => Tls::Required(parameters()?),
            SmtpSecurity::Tls => Tls::Wrapper(parameters()?),
            SmtpSecurity::None => Tls::None,
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(config.smtp_port)
            .tls(tls)
            .timeout(Some(SEND_TIMEOUT));
        if !config.smtp_username.is_empty() {
            builder = builder.credentials(Credentials::new(
                config.smtp_username.clone(),
                config.smtp_password.clone(),
            ));
        }
        Ok(Some(Mailer {
            transport: builder.build(),
            from,
        }))
    }

    /// Sends one plain-text message to `to`.
    pub async fn send(&self, to: &str, subject: &str, body: &str) -> Result<(), MailError> {
        let to: Mailbox = to.trim().parse().map_err(|_| MailError::BadAddress)?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_owned())
            .map_err(|e| MailError::Failed(e.to_string()))?;
        let sent = tokio::time::timeout(SEND_TIMEOUT, self.transport.send(message)).await;
        match sent {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(MailError::Failed(e.to_string())),
            Err(_) => Err(MailError::Failed("no answer in time".into())),
        }
    }
}
