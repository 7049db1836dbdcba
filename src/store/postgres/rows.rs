//! Records as PostgreSQL rows: the column lists, the record read from a row, the parameters
//! written for a record. Every conversion that can fail (a value the schema's CHECKs should
//! have refused) is `StoreError::Corrupt`, never a panic. The link's columns are here because
//! every command family reads or writes links; each family keeps its other records' rows.

use tokio_postgres::Row;
use tokio_postgres::types::ToSql;
use uuid::Uuid;

use crate::domain::channel_set::ChannelSet;
use crate::domain::link::{LinkRecord, RecipientType};
use crate::domain::locale::Locale;
use crate::domain::otp::OtpState;
use crate::domain::policy::Channel;
use crate::domain::token::SecretHash;
use crate::domain::{ContactId, LinkUid, TenantId, TokenHash, UnixMillis, UserId};
use crate::store::StoreError;

/// The link's columns in the order [`LinkRow::params`] binds them (`$1` … `$36`).
pub const LINK_COLUMNS: &str = "uid, link_id, tenant_id, token_hash, resource_type, \
    resource_key, resource_uid, sensitivity_tier, require_otp, otp_channel, delivery_channels, \
    recipient_contact_id, recipient_email, recipient_phone, recipient_display_name, \
    recipient_type, sms_consent_snapshot, created_by_user_id, created_by_agent_id, created_at, \
    expires_at, max_views, view_count, revoked_at, revoked_by_user_id, resent_at, otp_digits, \
    otp_code_hash, otp_sealed_code, otp_issued_at, otp_expires_at, otp_tries, otp_sent_at, \
    otp_failures, locked_at, locale";

/// `$1, $2, …` for [`LINK_COLUMNS`].
pub const LINK_VALUES: &str = "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
    $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, \
    $33, $34, $35, $36";

/// `column = $n` for every column but `uid` (`$1`), for an `UPDATE … WHERE uid = $1`.
pub const LINK_ASSIGNMENTS: &str = "link_id = $2, tenant_id = $3, token_hash = $4, \
    resource_type = $5, resource_key = $6, resource_uid = $7, sensitivity_tier = $8, \
    require_otp = $9, otp_channel = $10, delivery_channels = $11, recipient_contact_id = $12, \
    recipient_email = $13, recipient_phone = $14, recipient_display_name = $15, \
    recipient_type = $16, sms_consent_snapshot = $17, created_by_user_id = $18, \
    created_by_agent_id = $19, created_at = $20, expires_at = $21, max_views = $22, \
    view_count = $23, revoked_at = $24, revoked_by_user_id = $25, resent_at = $26, \
    otp_digits = $27, otp_code_hash = $28, otp_sealed_code = $29, otp_issued_at = $30, \
    otp_expires_at = $31, otp_tries = $32, otp_sent_at = $33, otp_failures = $34, \
    locked_at = $35, locale = $36";

/// A link's column values, owned, ready to bind.
pub struct LinkRow {
    uid: Uuid,
    link_id: i64,
    tenant_id: Uuid,
    token_hash: Vec<u8>,
    resource_type: String,
    resource_key: String,
    resource_uid: Uuid,
    sensitivity_tier: String,
    require_otp: bool,
    otp_channel: Option<&'static str>,
    delivery_channels: String,
    recipient_contact_id: Option<i32>,
    recipient_email: Option<String>,
    recipient_phone: Option<String>,
    recipient_display_name: Option<String>,
    recipient_type: &'static str,
    sms_consent_snapshot: bool,
    created_by_user_id: Uuid,
    created_by_agent_id: Option<i32>,
    created_at: i64,
    expires_at: i64,
    max_views: i64,
    view_count: i64,
    revoked_at: Option<i64>,
    revoked_by_user_id: Option<Uuid>,
    resent_at: Vec<i64>,
    otp_digits: i16,
    otp: OtpColumns,
    otp_failures: i64,
    locked_at: Option<i64>,
    locale: Option<&'static str>,
}

/// The live passcode's six columns: all set, or all NULL.
#[derive(Default)]
struct OtpColumns {
    code_hash: Option<Vec<u8>>,
    sealed_code: Option<Vec<u8>>,
    issued_at: Option<i64>,
    expires_at: Option<i64>,
    tries: Option<i64>,
    sent_at: Option<Vec<i64>>,
}

impl LinkRow {
    pub fn of(link: &LinkRecord) -> LinkRow {
        LinkRow {
            uid: link.uid.as_uuid(),
            link_id: i64::try_from(link.link_id).unwrap_or(i64::MAX),
            tenant_id: link.tenant_id.as_uuid(),
            token_hash: link.token_hash.0.to_vec(),
            resource_type: link.resource_type.clone(),
            resource_key: resource_key(&link.resource_type),
            resource_uid: link.resource_uid,
            sensitivity_tier: link.sensitivity_tier.clone(),
            require_otp: link.require_otp,
            otp_channel: link.otp_channel.map(Channel::as_str),
            delivery_channels: link.delivery_channels.to_string(),
            recipient_contact_id: link.recipient_contact_id.map(i32::from),
            recipient_email: link.recipient_email.clone(),
            recipient_phone: link.recipient_phone.clone(),
            recipient_display_name: link.recipient_display_name.clone(),
            recipient_type: link.recipient_type.as_str(),
            sms_consent_snapshot: link.sms_consent_snapshot,
            created_by_user_id: link.created_by_user_id.as_uuid(),
            created_by_agent_id: link.created_by_agent_id,
            created_at: link.created_at.as_i64(),
            expires_at: link.expires_at.as_i64(),
            max_views: i64::from(link.max_views),
            view_count: i64::from(link.view_count),
            revoked_at: link.revoked_at.map(UnixMillis::as_i64),
            revoked_by_user_id: link.revoked_by_user_id.map(UserId::as_uuid),
            resent_at: millis_list(&link.resent_at),
            otp_digits: i16::from(link.otp_digits),
            otp: link.otp.as_ref().map(OtpColumns::of).unwrap_or_default(),
            otp_failures: i64::from(link.otp_failures),
            locked_at: link.locked_at.map(UnixMillis::as_i64),
            locale: link.locale.map(Locale::tag),
        }
    }

    /// The values in [`LINK_COLUMNS`] order.
    pub fn params(&self) -> [&(dyn ToSql + Sync); 36] {
        [
            &self.uid,
            &self.link_id,
            &self.tenant_id,
            &self.token_hash,
            &self.resource_type,
            &self.resource_key,
            &self.resource_uid,
            &self.sensitivity_tier,
            &self.require_otp,
            &self.otp_channel,
            &self.delivery_channels,
            &self.recipient_contact_id,
            &self.recipient_email,
            &self.recipient_phone,
            &self.recipient_display_name,
            &self.recipient_type,
            &self.sms_consent_snapshot,
            &self.created_by_user_id,
            &self.created_by_agent_id,
            &self.created_at,
            &self.expires_at,
            &self.max_views,
            &self.view_count,
            &self.revoked_at,
            &self.revoked_by_user_id,
            &self.resent_at,
            &self.otp_digits,
            &self.otp.code_hash,
            &self.otp.sealed_code,
            &self.otp.issued_at,
            &self.otp.expires_at,
            &self.otp.tries,
            &self.otp.sent_at,
            &self.otp_failures,
            &self.locked_at,
            &self.locale,
        ]
    }
}

impl OtpColumns {
    fn of(otp: &OtpState) -> OtpColumns {
        OtpColumns {
            code_hash: Some(otp.code_hash.0.to_vec()),
            sealed_code: Some(otp.sealed_code.clone()),
            issued_at: Some(otp.issued_at.as_i64()),
            expires_at: Some(otp.expires_at.as_i64()),
            tries: Some(i64::from(otp.tries)),
            sent_at: Some(millis_list(&otp.sent_at)),
        }
    }
}

/// The resource type as the resource index compares it (lower-cased by Rust, not by the
/// database's locale, exactly as the embedded store's key).
pub fn resource_key(resource_type: &str) -> String {
    resource_type.to_lowercase()
}

/// A link read from a row selected with [`LINK_COLUMNS`].
pub fn link_from_row(row: &Row) -> Result<LinkRecord, StoreError> {
    Ok(LinkRecord {
        uid: LinkUid::from(get::<Uuid>(row, "uid")?),
        link_id: unsigned(get(row, "link_id")?, "link_id")?,
        tenant_id: TenantId::from(get::<Uuid>(row, "tenant_id")?),
        token_hash: TokenHash(hash32(&get::<Vec<u8>>(row, "token_hash")?)?),
        resource_type: get(row, "resource_type")?,
        resource_uid: get(row, "resource_uid")?,
        sensitivity_tier: get(row, "sensitivity_tier")?,
        require_otp: get(row, "require_otp")?,
        otp_channel: get::<Option<String>>(row, "otp_channel")?
            .map(|c| channel(&c))
            .transpose()?,
        delivery_channels: get::<String>(row, "delivery_channels")?
            .parse::<ChannelSet>()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        recipient_contact_id: get::<Option<i32>>(row, "recipient_contact_id")?.map(ContactId::from),
        recipient_email: get(row, "recipient_email")?,
        recipient_phone: get(row, "recipient_phone")?,
        recipient_display_name: get(row, "recipient_display_name")?,
        recipient_type: recipient_type(&get::<String>(row, "recipient_type")?)?,
        sms_consent_snapshot: get(row, "sms_consent_snapshot")?,
        created_by_user_id: UserId::from(get::<Uuid>(row, "created_by_user_id")?),
        created_by_agent_id: get(row, "created_by_agent_id")?,
        created_at: millis(get(row, "created_at")?),
        expires_at: millis(get(row, "expires_at")?),
        max_views: unsigned(get(row, "max_views")?, "max_views")?,
        view_count: unsigned(get(row, "view_count")?, "view_count")?,
        revoked_at: get::<Option<i64>>(row, "revoked_at")?.map(millis),
        revoked_by_user_id: get::<Option<Uuid>>(row, "revoked_by_user_id")?.map(UserId::from),
        resent_at: millis_from_list(get(row, "resent_at")?),
        otp_digits: unsigned(i64::from(get::<i16>(row, "otp_digits")?), "otp_digits")?,
        otp: otp_from_row(row)?,
        otp_failures: unsigned(get(row, "otp_failures")?, "otp_failures")?,
        locked_at: get::<Option<i64>>(row, "locked_at")?.map(millis),
        locale: get::<Option<String>>(row, "locale")?
            .map(|t| Locale::parse(&t).ok_or_else(|| StoreError::Corrupt(format!("locale '{t}'"))))
            .transpose()?,
    })
}

fn otp_from_row(row: &Row) -> Result<Option<OtpState>, StoreError> {
    let Some(code_hash) = get::<Option<Vec<u8>>>(row, "otp_code_hash")? else {
        return Ok(None);
    };
    let missing = || StoreError::Corrupt("a passcode row with some columns unset".into());
    Ok(Some(OtpState {
        code_hash: SecretHash(hash32(&code_hash)?),
        sealed_code: get::<Option<Vec<u8>>>(row, "otp_sealed_code")?.ok_or_else(missing)?,
        issued_at: millis(get::<Option<i64>>(row, "otp_issued_at")?.ok_or_else(missing)?),
        expires_at: millis(get::<Option<i64>>(row, "otp_expires_at")?.ok_or_else(missing)?),
        tries: unsigned(
            get::<Option<i64>>(row, "otp_tries")?.ok_or_else(missing)?,
            "otp_tries",
        )?,
        sent_at: millis_from_list(
            get::<Option<Vec<i64>>>(row, "otp_sent_at")?.ok_or_else(missing)?,
        ),
    }))
}

/// A column's value, or `Corrupt` naming the column when its type does not fit.
pub fn get<'a, T: tokio_postgres::types::FromSql<'a>>(
    row: &'a Row,
    column: &str,
) -> Result<T, StoreError> {
    row.try_get(column)
        .map_err(|e| StoreError::Corrupt(format!("column {column}: {e}")))
}

/// A stored non-negative integer as the record's unsigned type.
pub fn unsigned<T: TryFrom<i64>>(value: i64, column: &str) -> Result<T, StoreError> {
    T::try_from(value)
        .map_err(|_| StoreError::Corrupt(format!("column {column}: {value} out of range")))
}

/// A 32-byte hash column.
pub fn hash32(bytes: &[u8]) -> Result<[u8; 32], StoreError> {
    <[u8; 32]>::try_from(bytes)
        .map_err(|_| StoreError::Corrupt(format!("a hash of {} bytes, not 32", bytes.len())))
}

/// An instant column.
pub fn millis(ms: i64) -> UnixMillis {
    UnixMillis::from_millis(ms)
}

/// Instants as a `bigint[]`.
pub fn millis_list(list: &[UnixMillis]) -> Vec<i64> {
    list.iter().map(|m| m.as_i64()).collect()
}

/// A `bigint[]` of instants.
pub fn millis_from_list(list: Vec<i64>) -> Vec<UnixMillis> {
    list.into_iter().map(millis).collect()
}

/// A stored channel name.
pub fn channel(text: &str) -> Result<Channel, StoreError> {
    match text {
        "Email" => Ok(Channel::Email),
        "Sms" => Ok(Channel::Sms),
        other => Err(StoreError::Corrupt(format!("unknown channel '{other}'"))),
    }
}

fn recipient_type(text: &str) -> Result<RecipientType, StoreError> {
    match text {
        "Contact" => Ok(RecipientType::Contact),
        "AdHoc" => Ok(RecipientType::AdHoc),
        other => Err(StoreError::Corrupt(format!(
            "unknown recipient type '{other}'"
        ))),
    }
}
