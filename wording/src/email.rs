//! The e-mail that brings a customer to their session: the same words whether the
//! technician copies it from the console or the broker sends it over SMTP. The link is
//! always the organisation's own address, and the text says to use no other.

use crate::{Catalog, Msg};

/// What the e-mail says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation<'a> {
    /// The technician's name as customers see it.
    pub technician: &'a str,
    pub organisation: &'a str,
    /// The session's link (`<base>/#join=…`).
    pub link: &'a str,
    pub pin: &'a str,
    /// How long the link and PIN stay valid, in minutes.
    pub minutes: u64,
    /// The organisation's address, which the customer should use and no other.
    pub base: &'a str,
    /// How else to reach support (the footer's line).
    pub contact: &'a str,
}

/// The subject line and the body, in `catalog`'s language.
pub fn compose(catalog: &Catalog, invitation: &Invitation<'_>) -> (String, String) {
    let subject = catalog.t(Msg::EmailSubject {
        organisation: invitation.organisation.to_owned(),
    });
    let body = catalog.t(Msg::EmailBody {
        name: invitation.technician.to_owned(),
        organisation: invitation.organisation.to_owned(),
        link: invitation.link.to_owned(),
        pin: invitation.pin.to_owned(),
        minutes: invitation.minutes,
        base: invitation.base.to_owned(),
        contact: invitation.contact.to_owned(),
    });
    (subject, body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn the_email_reads_in_the_chosen_language_with_every_fact() {
        let invitation = Invitation {
            technician: "Tess Tester",
            organisation: "Example University",
            link: "https://help.example.org/#join=abc",
            pin: "123456",
            minutes: 20,
            base: "https://help.example.org",
            contact: "Call +1 555 0100.",
        };
        let (subject, body) = compose(&Catalog::default(), &invitation);
        assert_eq!(
            subject,
            "Your remote support session with Example University"
        );
        for fact in [
            "Tess Tester",
            "https://help.example.org/#join=abc",
            "123456",
            "20 minutes",
            "Call +1 555 0100.",
        ] {
            assert!(body.contains(fact), "{fact} in {body}");
        }
        let (subject, body) = compose(&Catalog::for_language("fr-CA", Arc::default()), &invitation);
        assert!(subject.starts_with("Votre session"), "{subject}");
        assert!(body.contains("saisissez\u{a0}: 123456"), "{body}");
        let mut texts = crate::Texts::new();
        texts.entry("en".into()).or_default().insert(
            "email_subject".into(),
            "Help from {organisation} is ready".into(),
        );
        let (subject, _) = compose(&Catalog::new("en", Arc::new(texts)), &invitation);
        assert_eq!(
            subject, "Help from Example University is ready",
            "the organisation's own words"
        );
    }
}
