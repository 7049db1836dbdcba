//! The set of channels a link went out on (`LinkRecord::delivery_channels`). Stored and shown
//! as the same comma-separated text it always was (`Email,Sms`, `Email`, `Sms` or empty), so
//! old files read unchanged and the wire's `DeliveryChannels` is byte-identical; in code it is
//! a set, so "did it go out by SMS" is a lookup, not a substring search.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::policy::Channel;

/// Some of {Email, Sms}; written in that order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct ChannelSet {
    email: bool,
    sms: bool,
}

impl ChannelSet {
    /// The channels of `channels`, each once.
    pub fn of(channels: impl IntoIterator<Item = Channel>) -> Self {
        channels
            .into_iter()
            .fold(Self::default(), |set, c| set.with(c))
    }

    /// This set and `channel`.
    #[must_use]
    pub fn with(mut self, channel: Channel) -> Self {
        match channel {
            Channel::Email => self.email = true,
            Channel::Sms => self.sms = true,
        }
        self
    }

    pub fn contains(self, channel: Channel) -> bool {
        match channel {
            Channel::Email => self.email,
            Channel::Sms => self.sms,
        }
    }

    pub fn is_empty(self) -> bool {
        !self.email && !self.sms
    }
}

impl fmt::Display for ChannelSet {
    /// `Email,Sms`, `Email`, `Sms` or nothing.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [Channel::Email, Channel::Sms]
            .into_iter()
            .filter(|c| self.contains(*c))
            .map(Channel::as_str);
        f.write_str(&names.collect::<Vec<_>>().join(","))
    }
}

/// A stored channel list naming something other than `Email` or `Sms`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownChannel(pub String);

impl fmt::Display for UnknownChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown delivery channel '{}'", self.0)
    }
}

impl FromStr for ChannelSet {
    type Err = UnknownChannel;

    /// Reads what [`fmt::Display`] writes. Only the writer ever made this text, from
    /// [`Channel::as_str`]; any other name means the record is damaged, so it is an error
    /// (the record then reads as corrupt, as an unknown name of any other stored enum does),
    /// never a guess.
    fn from_str(text: &str) -> Result<Self, UnknownChannel> {
        text.split(',')
            .filter(|name| !name.is_empty())
            .try_fold(Self::default(), |set, name| match name {
                "Email" => Ok(set.with(Channel::Email)),
                "Sms" => Ok(set.with(Channel::Sms)),
                other => Err(UnknownChannel(other.to_owned())),
            })
    }
}

impl From<ChannelSet> for String {
    fn from(set: ChannelSet) -> String {
        set.to_string()
    }
}

impl TryFrom<String> for ChannelSet {
    type Error = UnknownChannel;

    fn try_from(text: String) -> Result<Self, UnknownChannel> {
        text.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_set_reads_back_what_it_writes() {
        for text in ["", "Email", "Sms", "Email,Sms"] {
            let set: ChannelSet = text.parse().unwrap();
            assert_eq!(set.to_string(), text);
        }
    }

    #[test]
    fn a_set_is_written_email_first_and_once() {
        let set = ChannelSet::of([Channel::Sms, Channel::Email, Channel::Sms]);
        assert_eq!(set.to_string(), "Email,Sms");
        assert!(set.contains(Channel::Sms) && !ChannelSet::default().contains(Channel::Sms));
    }

    #[test]
    fn an_unknown_name_is_an_error_not_a_guess() {
        assert_eq!(
            "Email,Fax".parse::<ChannelSet>(),
            Err(UnknownChannel("Fax".into()))
        );
        let stored = rmp_serde::to_vec_named("Pigeon").unwrap();
        assert!(rmp_serde::from_slice::<ChannelSet>(&stored).is_err());
    }

    #[test]
    fn it_is_stored_as_the_text() {
        let set = ChannelSet::of([Channel::Email, Channel::Sms]);
        let bytes = rmp_serde::to_vec_named(&set).unwrap();
        assert_eq!(bytes, rmp_serde::to_vec_named("Email,Sms").unwrap());
    }
}
