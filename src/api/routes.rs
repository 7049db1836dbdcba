//! The route table: every operation, its verbs, its custom route, its request DTO name and its
//! handler. The router, the predefined `/api/{Operation}` routes, dispatch, the metrics label
//! and `/openapi.json` all read this one table, so they cannot drift apart.

use std::sync::OnceLock;

use schemars::{JsonSchema, Schema, SchemaGenerator};

use super::dto::*;
use super::handler::{Handler, portal, staff};
use super::portal::api as portal_api;
use super::{
    attachment, contact, customerlink, documentshare, evidence, revoke_many, share, webhook,
};
use crate::domain::share::Family;
use crate::domain::tenant::Role;
use crate::wire::Format;

mod shapes;

/// Every operation the service offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    CreateLink,
    ListResourceLinks,
    QueryLinks,
    GetLink,
    RevokeLink,
    ResendLink,
    UnlockLink,
    LinkLog,
    IntrospectGrant,
    PortalLanding,
    PortalOtp,
    PortalVerify,
    PortalOpen,
    PortalReissue,
    ShareLanding,
    ShareOtp,
    ShareVerify,
    ShareDownload,
    ShareReissue,
    PutContact,
    GetContact,
    DeleteContact,
    ListContacts,
    PutAttachment,
    GetAttachment,
    DeleteAttachment,
    RevokeLinks,
    CreateShare,
    ListShares,
    ResendShare,
    RevokeShare,
    ShareLog,
    LinkEvidence,
    EvidenceKey,
    PutWebhook,
    ListWebhooks,
    DeleteWebhook,
}

impl Op {
    /// Recipient-side operations: no API key; the token in the path is the credential.
    pub fn is_public(self) -> bool {
        self.needs().is_none()
    }

    /// The role an API key must have to call this operation; `None` for the public ones. The
    /// row's handler declares it (a staff handler cannot be written without a role) and
    /// authentication checks it in one place ([`super::auth::authenticate`]).
    pub fn needs(self) -> Option<Role> {
        ROUTES
            .iter()
            .find(|r| r.op == self)
            .and_then(|r| r.handler.needs())
    }

    /// Whose tokens the operation takes: a share's recipient steps look tokens up as shares.
    pub fn family(self) -> Family {
        match self {
            Op::ShareLanding
            | Op::ShareOtp
            | Op::ShareVerify
            | Op::ShareDownload
            | Op::ShareReissue => Family::DocumentShare,
            _ => Family::CustomerLink,
        }
    }

    /// The policy this operation carries however it is reached (custom route in any spelling,
    /// `/api/{Op}`, `/{fmt}/reply/{Op}`).
    pub fn surface(self) -> Surface {
        if self.is_public() {
            Surface::Portal
        } else {
            Surface::Staff
        }
    }
}

/// Which edge policy applies to a request, decided from the operation it reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// The staff API (API key; no portal limit or portal headers).
    Staff,
    /// The recipient portal: the per-address request limit and the portal's security headers.
    Portal,
}

/// One custom route.
#[derive(Debug)]
pub struct Route {
    pub verbs: &'static [&'static str],
    /// Literal segments and `{Member}` variables, e.g. `/v1/customerlink/{CustomerLinkUID}`.
    pub path: &'static str,
    pub op: Op,
    /// The request DTO name, as used by `/api/{Operation}`.
    pub request: &'static str,
    /// The response DTO name: the type ServiceStack makes error bodies of
    /// (`DtoUtils.CreateErrorResponse`), so an XML client reads them as the operation's reply.
    pub response: &'static str,
    /// JSON Schemas of the request and response DTOs (for `/openapi.json`).
    pub schemas: SchemaPair,
    /// What runs the operation.
    pub handler: Handler,
}

/// Builds the (request, response) schemas of an operation in a shared generator.
pub type SchemaPair = fn(&mut SchemaGenerator) -> (Schema, Schema);

fn pair<Req: JsonSchema, Resp: JsonSchema>(generator: &mut SchemaGenerator) -> (Schema, Schema) {
    (
        generator.subschema_for::<Req>(),
        generator.subschema_for::<Resp>(),
    )
}

/// Literal routes come before variable ones with the same shape so they win.
pub const ROUTES: &[Route] = &[
    Route {
        verbs: &["POST"],
        path: "/v1/customerlink",
        op: Op::CreateLink,
        request: "CustomerLinkCreateRequest",
        response: "CustomerLinkCreateResponse",
        schemas: pair::<CustomerLinkCreateRequest, CustomerLinkCreateResponse>,
        handler: staff!(once Role::Staff => customerlink::create),
    },
    Route {
        verbs: &["GET"],
        path: "/v1/customerlink",
        op: Op::QueryLinks,
        request: "CustomerLinkQueryRequest",
        response: "CustomerLinkListResponse",
        schemas: pair::<CustomerLinkQueryRequest, CustomerLinkListResponse>,
        handler: staff!(Role::Staff => customerlink::query),
    },
    Route {
        verbs: &["POST"],
        path: "/v1/customerlink/grant/introspect",
        op: Op::IntrospectGrant,
        request: "GrantIntrospectRequest",
        response: "GrantIntrospectResponse",
        schemas: pair::<GrantIntrospectRequest, GrantIntrospectResponse>,
        handler: staff!(Role::ResourceServer => customerlink::introspect),
    },
    Route {
        verbs: &["POST"],
        path: "/v1/customerlink/revoke",
        op: Op::RevokeLinks,
        request: "CustomerLinkBulkRevokeRequest",
        response: "CustomerLinkBulkRevokeResponse",
        schemas: pair::<CustomerLinkBulkRevokeRequest, CustomerLinkBulkRevokeResponse>,
        handler: staff!(Role::Staff => revoke_many::revoke_many),
    },
    Route {
        verbs: &["GET"],
        path: "/v1/customerlink/resource/{ResourceType}/{ResourceUid}",
        op: Op::ListResourceLinks,
        request: "CustomerLinkListRequest",
        response: "CustomerLinkListResponse",
        schemas: pair::<CustomerLinkListRequest, CustomerLinkListResponse>,
        handler: staff!(Role::Staff => customerlink::list_for_resource),
    },
    Route {
        verbs: &["GET"],
        path: "/v1/customerlink/{CustomerLinkUID}",
        op: Op::GetLink,
        request: "CustomerLinkRequest",
        response: "CustomerLinkResponse",
        schemas: pair::<CustomerLinkRequest, CustomerLinkResponse>,
        handler: staff!(Role::Staff => customerlink::get),
    },
    Route {
        verbs: &["DELETE"],
        path: "/v1/customerlink/{CustomerLinkUID}",
        op: Op::RevokeLink,
        request: "CustomerLinkRevokeRequest",
        response: "CustomerLinkResponse",
        schemas: pair::<CustomerLinkRevokeRequest, CustomerLinkResponse>,
        handler: staff!(Role::Staff => customerlink::revoke),
    },
    Route {
        verbs: &["POST"],
        path: "/v1/customerlink/{CustomerLinkUID}/revoke",
        op: Op::RevokeLink,
        request: "CustomerLinkRevokeRequest",
        response: "CustomerLinkResponse",
        schemas: pair::<CustomerLinkRevokeRequest, CustomerLinkResponse>,
        handler: staff!(Role::Staff => customerlink::revoke),
    },
    Route {
        verbs: &["POST"],
        path: "/v1/customerlink/{CustomerLinkUID}/resend",
        op: Op::ResendLink,
        request: "CustomerLinkResendRequest",
        response: "CustomerLinkCreateResponse",
        schemas: pair::<CustomerLinkResendRequest, CustomerLinkCreateResponse>,
        handler: staff!(once Role::Staff => customerlink::resend),
    },
    Route {
        verbs: &["POST"],
        path: "/v1/customerlink/{CustomerLinkUID}/unlock",
        op: Op::UnlockLink,
        request: "CustomerLinkUnlockRequest",
        response: "CustomerLinkResponse",
        schemas: pair::<CustomerLinkUidRequest, CustomerLinkResponse>,
        handler: staff!(Role::Staff => customerlink::unlock),
    },
    Route {
        verbs: &["GET"],
        path: "/v1/customerlink/{CustomerLinkUID}/log",
        op: Op::LinkLog,
        request: "CustomerLinkLogRequest",
        response: "CustomerLinkLogResponse",
        schemas: pair::<CustomerLinkUidRequest, CustomerLinkLogResponse>,
        handler: staff!(Role::Staff => customerlink::access_log),
    },
    Route {
        verbs: &["GET"],
        path: "/v1/customerlink/{CustomerLinkUID}/evidence",
        op: Op::LinkEvidence,
        request: "CustomerLinkEvidenceRequest",
        response: "CustomerLinkEvidenceResponse",
        schemas: pair::<CustomerLinkUidRequest, CustomerLinkEvidenceResponse>,
        handler: staff!(Role::Staff => evidence::evidence),
    },
    Route {
        verbs: &["GET"],
        path: "/v1/evidence/key",
        op: Op::EvidenceKey,
        request: "EvidenceKeyRequest",
        response: "EvidenceKeyResponse",
        schemas: pair::<EvidenceKeyRequest, EvidenceKeyResponse>,
        handler: staff!(Role::Staff => evidence::public_key),
    },
    Route {
        verbs: &["GET"],
        path: "/portal/{Token}",
        op: Op::PortalLanding,
        request: "PortalLandingRequest",
        response: "PortalLandingResponse",
        schemas: pair::<PortalTokenRequest, PortalLandingResponse>,
        handler: portal!(portal_api::landing),
    },
    Route {
        verbs: &["POST"],
        path: "/portal/{Token}/otp",
        op: Op::PortalOtp,
        request: "PortalOtpRequest",
        response: "PortalLandingResponse",
        schemas: pair::<PortalTokenRequest, PortalLandingResponse>,
        handler: portal!(portal_api::request_code),
    },
    Route {
        verbs: &["POST"],
        path: "/portal/{Token}/verify",
        op: Op::PortalVerify,
        request: "PortalVerifyRequest",
        response: "PortalVerifyResponse",
        schemas: pair::<PortalVerifyRequest, PortalVerifyResponse>,
        handler: portal!(portal_api::verify),
    },
    Route {
        verbs: &["POST"],
        path: "/portal/{Token}/open",
        op: Op::PortalOpen,
        request: "PortalOpenRequest",
        response: "PortalOpenResponse",
        schemas: pair::<PortalTokenRequest, PortalOpenResponse>,
        handler: portal!(portal_api::open),
    },
    Route {
        verbs: &["POST"],
        path: "/portal/{Token}/reissue",
        op: Op::PortalReissue,
        request: "PortalReissueRequest",
        response: "PortalLandingResponse",
        schemas: pair::<PortalTokenRequest, PortalLandingResponse>,
        handler: portal!(portal_api::reissue),
    },
    Route {
        verbs: &["GET"],
        path: "/share/download",
        op: Op::ShareDownload,
        request: "ShareDownloadRequest",
        response: "ShareLandingResponse",
        schemas: pair::<PortalTokenRequest, ShareLandingResponse>,
        handler: portal!(share::not_streamed),
    },
    Route {
        verbs: &["GET"],
        path: "/share/{Token}",
        op: Op::ShareLanding,
        request: "ShareLandingRequest",
        response: "ShareLandingResponse",
        schemas: pair::<PortalTokenRequest, ShareLandingResponse>,
        handler: portal!(share::landing_api),
    },
    Route {
        verbs: &["POST"],
        path: "/share/{Token}/otp",
        op: Op::ShareOtp,
        request: "ShareOtpRequest",
        response: "ShareLandingResponse",
        schemas: pair::<PortalTokenRequest, ShareLandingResponse>,
        handler: portal!(share::request_code),
    },
    Route {
        verbs: &["POST"],
        path: "/share/{Token}/verify",
        op: Op::ShareVerify,
        request: "ShareVerifyRequest",
        response: "ShareVerifyResponse",
        schemas: pair::<PortalVerifyRequest, ShareVerifyResponse>,
        handler: portal!(share::verify),
    },
    Route {
        verbs: &["POST"],
        path: "/share/{Token}/reissue",
        op: Op::ShareReissue,
        request: "ShareReissueRequest",
        response: "PortalLandingResponse",
        schemas: pair::<PortalTokenRequest, PortalLandingResponse>,
        handler: portal!(portal_api::reissue),
    },
    Route {
        verbs: &["GET"],
        path: "/share/{Token}/download",
        op: Op::ShareDownload,
        request: "ShareDownloadRequest",
        response: "ShareLandingResponse",
        schemas: pair::<PortalTokenRequest, ShareLandingResponse>,
        handler: portal!(share::not_streamed),
    },
    Route {
        verbs: &["GET"],
        path: "/v1/contact",
        op: Op::ListContacts,
        request: "ContactListRequest",
        response: "ContactListResponse",
        schemas: pair::<ContactListRequest, ContactListResponse>,
        handler: staff!(Role::Staff => contact::list),
    },
    Route {
        verbs: &["PUT"],
        path: "/v1/contact/{ContactId}",
        op: Op::PutContact,
        request: "ContactPutRequest",
        response: "ContactResponse",
        schemas: pair::<Contact, ContactResponse>,
        handler: staff!(Role::Staff => contact::put),
    },
    Route {
        verbs: &["GET"],
        path: "/v1/contact/{ContactId}",
        op: Op::GetContact,
        request: "ContactRequest",
        response: "ContactResponse",
        schemas: pair::<ContactRequest, ContactResponse>,
        handler: staff!(Role::Staff => contact::get),
    },
    Route {
        verbs: &["DELETE"],
        path: "/v1/contact/{ContactId}",
        op: Op::DeleteContact,
        request: "ContactDeleteRequest",
        response: "EmptyResponse",
        schemas: pair::<ContactRequest, EmptyResponse>,
        handler: staff!(Role::Staff => contact::delete),
    },
    Route {
        verbs: &["PUT"],
        path: "/v1/webhook/{Name}",
        op: Op::PutWebhook,
        request: "WebhookPutRequest",
        response: "WebhookResponse",
        schemas: pair::<WebhookPutRequest, WebhookResponse>,
        handler: staff!(Role::Staff => webhook::put),
    },
    Route {
        verbs: &["GET"],
        path: "/v1/webhook",
        op: Op::ListWebhooks,
        request: "WebhookListRequest",
        response: "WebhookListResponse",
        schemas: pair::<WebhookListRequest, WebhookListResponse>,
        handler: staff!(Role::Staff => webhook::list),
    },
    Route {
        verbs: &["DELETE"],
        path: "/v1/webhook/{Name}",
        op: Op::DeleteWebhook,
        request: "WebhookRequest",
        response: "EmptyResponse",
        schemas: pair::<WebhookRequest, EmptyResponse>,
        handler: staff!(Role::Staff => webhook::delete),
    },
    Route {
        verbs: &["PUT"],
        path: "/v1/attachment",
        op: Op::PutAttachment,
        request: "AttachmentUploadRequest",
        response: "AttachmentResponse",
        schemas: pair::<AttachmentUploadRequest, AttachmentResponse>,
        handler: staff!(Role::Staff => attachment::not_batched),
    },
    Route {
        verbs: &["GET"],
        path: "/v1/attachment/{AttachmentId}",
        op: Op::GetAttachment,
        request: "AttachmentDownloadRequest",
        response: "AttachmentResponse",
        schemas: pair::<AttachmentRequest, AttachmentResponse>,
        handler: staff!(Role::Staff => attachment::not_batched),
    },
    Route {
        verbs: &["DELETE"],
        path: "/v1/attachment/{AttachmentId}",
        op: Op::DeleteAttachment,
        request: "AttachmentRequest",
        response: "AttachmentResponse",
        schemas: pair::<AttachmentRequest, AttachmentResponse>,
        handler: staff!(Role::Staff => attachment::delete),
    },
    Route {
        verbs: &["POST"],
        path: "/v1/documentshare",
        op: Op::CreateShare,
        request: "DocumentShareCreateRequest",
        response: "DocumentShareResponse",
        schemas: pair::<DocumentShareCreateRequest, DocumentShareResponse>,
        handler: staff!(Role::Staff => documentshare::create),
    },
    Route {
        verbs: &["GET"],
        path: "/v1/documentshare/attachment/{AttachmentId}",
        op: Op::ListShares,
        request: "DocumentShareListRequest",
        response: "DocumentShareResponse",
        schemas: pair::<DocumentShareListRequest, DocumentShareResponse>,
        handler: staff!(Role::Staff => documentshare::list),
    },
    Route {
        verbs: &["POST"],
        path: "/v1/documentshare/{DocumentShareId}/resend",
        op: Op::ResendShare,
        request: "DocumentShareResendRequest",
        response: "DocumentShareResponse",
        schemas: pair::<DocumentShareIdRequest, DocumentShareResponse>,
        handler: staff!(Role::Staff => documentshare::resend),
    },
    Route {
        verbs: &["GET"],
        path: "/v1/documentshare/{DocumentShareId}/log",
        op: Op::ShareLog,
        request: "DocumentShareLogRequest",
        response: "DocumentShareLogResponse",
        schemas: pair::<DocumentShareIdRequest, DocumentShareLogResponse>,
        handler: staff!(Role::Staff => documentshare::access_log),
    },
    Route {
        verbs: &["POST"],
        path: "/v1/documentshare/{DocumentShareId}/revoke",
        op: Op::RevokeShare,
        request: "DocumentShareRevokeRequest",
        response: "DocumentShareResponse",
        schemas: pair::<DocumentShareIdRequest, DocumentShareResponse>,
        handler: staff!(Role::Staff => documentshare::revoke),
    },
    Route {
        verbs: &["DELETE"],
        path: "/v1/documentshare/{DocumentShareId}",
        op: Op::RevokeShare,
        request: "DocumentShareRevokeRequest",
        response: "DocumentShareResponse",
        schemas: pair::<DocumentShareIdRequest, DocumentShareResponse>,
        handler: staff!(Role::Staff => documentshare::revoke),
    },
];

/// The type an error body of the operation named `request` has: the operation's response DTO,
/// or `ErrorResponse` when the request reached no operation (servicestack-wire.md §4.1).
pub fn error_root(request: &str) -> &'static str {
    ROUTES
        .iter()
        .find(|r| r.request == request)
        .map_or("ErrorResponse", |r| r.response)
}

/// The service class that would implement the operation named `request`, as ServiceStack names
/// it in a 405 (`… on Service CustomerLinkService`): one service per operation family.
pub fn service_of(request: &str) -> &'static str {
    let op = ROUTES.iter().find(|r| r.request == request).map(|r| r.op);
    match op {
        Some(Op::PutContact | Op::GetContact | Op::DeleteContact | Op::ListContacts) => {
            "ContactService"
        }
        Some(
            Op::PortalLanding
            | Op::PortalOtp
            | Op::PortalVerify
            | Op::PortalOpen
            | Op::PortalReissue,
        ) => "PortalService",
        Some(
            Op::CreateShare | Op::ListShares | Op::ResendShare | Op::RevokeShare | Op::ShareLog,
        ) => "DocumentShareService",
        Some(Op::PutAttachment | Op::GetAttachment | Op::DeleteAttachment) => "AttachmentService",
        Some(
            Op::ShareLanding
            | Op::ShareOtp
            | Op::ShareVerify
            | Op::ShareDownload
            | Op::ShareReissue,
        ) => "ShareService",
        _ => "CustomerLinkService",
    }
}

/// Why no operation was found.
#[derive(Debug, PartialEq, Eq)]
pub enum Miss {
    NotFound,
    /// The path exists but not with this verb; names the request DTO of the path.
    WrongVerb(&'static str),
}

/// A matched operation and its path variables (percent-decoded).
#[derive(Debug, Clone)]
pub struct Matched {
    pub route: &'static Route,
    pub vars: Vec<(String, String)>,
    /// For predefined routes (`/api/{Op}`, `/{fmt}/reply/{Op}`): the route's own format, which
    /// decides the body format and (unless `?format=`, a suffix or JSONP say otherwise) the reply.
    pub predefined: Option<Format>,
    /// `{Op}[]` on a predefined route: a ServiceStack AutoBatch of requests for this operation.
    pub batch: bool,
}

/// A predefined route, split: `/api/{Op}` or `/{fmt}/reply|oneway/{Op}`, maybe batched.
struct Predefined<'a> {
    format: Format,
    /// The request DTO name, without the batch suffix.
    name: &'a str,
    batch: bool,
    /// `/api/{Op}` (ServiceStack's endpoint routing) rather than `/{fmt}/reply/{Op}`.
    api: bool,
}

/// Up to eight non-empty path segments (`//a/b/` is `a`, `b`); `None` when there are more.
fn split(path: &str) -> Option<([&str; shapes::MAX_SEGMENTS], usize)> {
    let mut segments: [&str; shapes::MAX_SEGMENTS] = [""; shapes::MAX_SEGMENTS];
    let mut count = 0;
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        *segments.get_mut(count)? = segment;
        count += 1;
    }
    Some((segments, count))
}

/// The operation a path reaches with any verb: what [`find`] resolves the path to, so the
/// policy of a request is the policy of the operation it can reach. Every verb of one path
/// shape belongs to one surface, so a wrong verb still gets its path's policy.
pub fn op_at(path: &str) -> Option<Op> {
    lookup("GET", path).at.map(|r| r.op)
}

/// Member names of a request DTO (by name, as in the route table), as its JSON Schema lists
/// them: the names serde binds. Built once from the same schemas `/openapi.json` shows.
pub fn request_members(request: &str) -> &'static [String] {
    static MEMBERS: OnceLock<Vec<Vec<String>>> = OnceLock::new();
    let all = MEMBERS.get_or_init(|| ROUTES.iter().map(|r| members_of(r.schemas)).collect());
    ROUTES
        .iter()
        .position(|r| r.request.eq_ignore_ascii_case(request))
        .and_then(|i| all.get(i))
        .map_or(&[], Vec::as_slice)
}

/// The property names of the request schema of a pair, following its `$ref`.
fn members_of(schemas: SchemaPair) -> Vec<String> {
    let mut generator = SchemaGenerator::default();
    let (request, _) = schemas(&mut generator);
    let target = request
        .get("$ref")
        .and_then(|r| r.as_str())
        .and_then(|r| r.rsplit('/').next())
        .and_then(|name| generator.definitions().get(name))
        .or_else(|| Some(request.as_value()));
    target
        .and_then(|t| t.get("properties"))
        .and_then(|p| p.as_object())
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

/// Finds the operation for a verb and path (path literals compare case-insensitively).
pub fn find(verb: &str, path: &str) -> Result<Matched, Miss> {
    lookup(verb, path).found
}

/// How a path names its operation: ServiceStack's predefined routes decide formats and
/// casing their own way (servicestack-wire.md §3.3), so negotiation needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteForm {
    /// A custom route of the table (`/v1/customerlink/{CustomerLinkUID}`, …), or no route.
    Custom,
    /// `/api/{Op}`: JSON, camelCase unless asked otherwise, `Accept` may decide.
    Api,
    /// `/{fmt}/reply/{Op}` or `/{fmt}/oneway/{Op}`: the route's format wins over `Accept`.
    Reply,
}

/// One lookup of a verb and path: what [`find`] finds, the route the path reaches with any
/// verb ([`op_at`]) and how the path names it, from the same pass over the table.
#[derive(Debug)]
pub struct Lookup {
    pub found: Result<Matched, Miss>,
    pub at: Option<&'static Route>,
    pub form: RouteForm,
}

/// See [`Lookup`].
pub fn lookup(verb: &str, path: &str) -> Lookup {
    let Some((segments, count)) = split(path) else {
        return Lookup {
            found: Err(Miss::NotFound),
            at: None,
            form: RouteForm::Custom,
        };
    };
    let segments = &segments[..count];
    if let Some(p) = predefined(segments) {
        let at = ROUTES
            .iter()
            .find(|r| r.request.eq_ignore_ascii_case(p.name));
        let form = if p.api {
            RouteForm::Api
        } else {
            RouteForm::Reply
        };
        return Lookup {
            found: find_by_name(verb, &p),
            at,
            form,
        };
    }
    let mut at = None;
    let mut wrong_verb = None;
    for shape in shapes::of_length(count)
        .iter()
        .filter(|s| s.matches(segments))
    {
        let route = shape.route;
        at.get_or_insert(route);
        let Some(vars) = shape.bind(segments) else {
            continue;
        };
        if route.verbs.iter().any(|v| v.eq_ignore_ascii_case(verb)) {
            let found = Ok(Matched {
                route,
                vars,
                predefined: None,
                batch: false,
            });
            return Lookup {
                found,
                at,
                form: RouteForm::Custom,
            };
        }
        wrong_verb.get_or_insert(route.request);
    }
    let found = Err(wrong_verb.map_or(Miss::NotFound, Miss::WrongVerb));
    Lookup {
        found,
        at,
        form: RouteForm::Custom,
    }
}

/// `/api/{Op}` (JSON) and `/{fmt}/reply/{Op}`, `/{fmt}/oneway/{Op}` (servicestack-wire.md §3.3);
/// `{Op}[]` (or `{Op}%5B%5D`, as some clients escape it) is a batch of `{Op}` requests.
fn predefined<'a>(segments: &[&'a str]) -> Option<Predefined<'a>> {
    let (format, name, api) = match segments {
        [api, name] if api.eq_ignore_ascii_case("api") => (Format::Json, *name, true),
        [fmt, kind, name]
            if kind.eq_ignore_ascii_case("reply") || kind.eq_ignore_ascii_case("oneway") =>
        {
            (Format::from_name(fmt)?, *name, false)
        }
        _ => return None,
    };
    let unbatched = ["[]", "%5B%5D"].iter().find_map(|suffix| {
        let cut = name.len().checked_sub(suffix.len())?;
        let tail = name.get(cut..)?;
        tail.eq_ignore_ascii_case(suffix)
            .then(|| name.get(..cut))
            .flatten()
    });
    Some(Predefined {
        format,
        name: unbatched.unwrap_or(name),
        batch: unbatched.is_some(),
        api,
    })
}

/// An operation by request DTO name: any of the operation's verbs, or POST (ServiceStack's
/// default for predefined routes).
fn find_by_name(verb: &str, p: &Predefined<'_>) -> Result<Matched, Miss> {
    let mut candidates = ROUTES
        .iter()
        .filter(|r| r.request.eq_ignore_ascii_case(p.name))
        .peekable();
    let first = *candidates.peek().ok_or(Miss::NotFound)?;
    let route = candidates
        .find(|r| r.verbs.iter().any(|v| v.eq_ignore_ascii_case(verb)))
        .or_else(|| verb.eq_ignore_ascii_case("POST").then_some(first))
        .ok_or(Miss::WrongVerb(first.request))?;
    Ok(Matched {
        route,
        vars: Vec::new(),
        predefined: Some(p.format),
        batch: p.batch,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_routes_win_and_variables_are_decoded() {
        let m = find("GET", "/v1/customerlink/resource/Quote%20X/0123").unwrap();
        assert_eq!(m.route.op, Op::ListResourceLinks);
        assert_eq!(m.vars[0], ("ResourceType".into(), "Quote X".into()));
        assert_eq!(
            find("GET", "/V1/CustomerLink/abc").unwrap().route.op,
            Op::GetLink
        );
        assert_eq!(
            find("DELETE", "/v1/customerlink/abc").unwrap().route.op,
            Op::RevokeLink
        );
    }

    #[test]
    fn every_route_names_its_response_dto_and_one_per_request_name() {
        let mut generator = SchemaGenerator::default();
        for route in ROUTES {
            let (_, response) = (route.schemas)(&mut generator);
            let reference = response
                .get("$ref")
                .and_then(|r| r.as_str())
                .unwrap_or_default();
            assert!(
                reference.ends_with(&format!("/{}", route.response)),
                "{reference}"
            );
            assert_eq!(error_root(route.request), route.response);
        }
        assert_eq!(error_root("ErrorResponse"), "ErrorResponse");
        assert_eq!(service_of("ContactRequest"), "ContactService");
        assert_eq!(service_of("CustomerLinkRequest"), "CustomerLinkService");
        assert_eq!(
            service_of("DocumentShareLogRequest"),
            "DocumentShareService"
        );
    }

    #[test]
    fn misses() {
        assert_eq!(find("GET", "/nope").unwrap_err(), Miss::NotFound);
        assert_eq!(
            find("PATCH", "/v1/customerlink/abc").unwrap_err(),
            Miss::WrongVerb("CustomerLinkRequest")
        );
    }

    #[test]
    fn every_spelling_of_a_portal_operation_has_the_portal_surface() {
        for path in [
            "/portal/t",
            "/PORTAL/t/otp",
            "//portal//t/verify/",
            "/share/t",
            "/Share/t/otp",
            "/share/t/verify",
            "/share/t/download",
            "/share/download",
            "/api/ShareVerifyRequest",
            "/json/reply/ShareDownloadRequest",
            "/Portal/t/open",
            "/api/portalverifyrequest",
            "/json/reply/PortalLandingRequest",
            "/xml/oneway/PortalOpenRequest",
        ] {
            assert_eq!(
                op_at(path).map(Op::surface),
                Some(Surface::Portal),
                "{path}"
            );
        }
        assert_eq!(
            op_at("/v1/customerlink/x").map(Op::surface),
            Some(Surface::Staff)
        );
        assert_eq!(op_at("/portal"), None);
        assert_eq!(op_at("/share"), None);
        assert_eq!(Op::ShareDownload.family(), Family::DocumentShare);
        assert_eq!(Op::PortalOpen.family(), Family::CustomerLink);
    }

    #[test]
    fn every_row_of_an_operation_declares_the_same_role() {
        for route in ROUTES {
            assert_eq!(route.handler.needs(), route.op.needs(), "{}", route.path);
        }
        assert_eq!(Op::IntrospectGrant.needs(), Some(Role::ResourceServer));
        assert_eq!(Op::PortalOpen.needs(), None);
        assert_eq!(Op::DeleteContact.needs(), Some(Role::Staff));
    }

    #[test]
    fn one_lookup_finds_the_operation_and_the_path_s_surface() {
        let l = lookup("PATCH", "/Portal/t/verify");
        assert_eq!(
            (l.found.unwrap_err(), l.at.map(|r| r.op)),
            (
                Miss::WrongVerb("PortalVerifyRequest"),
                Some(Op::PortalVerify)
            )
        );
        let l = lookup("GET", "/api/PortalOpenRequest");
        assert_eq!(
            (l.found.unwrap_err(), l.at.map(|r| r.op)),
            (Miss::WrongVerb("PortalOpenRequest"), Some(Op::PortalOpen))
        );
        let l = lookup("DELETE", "/v1/contact/c1");
        assert_eq!(
            (l.found.unwrap().route.op, l.at.map(|r| r.op)),
            (Op::DeleteContact, Some(Op::PutContact))
        );
        assert!(lookup("GET", "/a/b/c/d/e/f/g/h/i").at.is_none());
    }

    #[test]
    fn predefined_api_route_by_name() {
        assert_eq!(
            find("POST", "/api/customerlinkcreaterequest")
                .unwrap()
                .route
                .op,
            Op::CreateLink
        );
        assert_eq!(
            find("GET", "/api/CustomerLinkRequest").unwrap().route.op,
            Op::GetLink
        );
        assert_eq!(find("GET", "/api/Nope").unwrap_err(), Miss::NotFound);
        let m = find("POST", "/jsv/reply/CustomerLinkCreateRequest").unwrap();
        assert_eq!(
            (m.route.op, m.predefined),
            (Op::CreateLink, Some(Format::Jsv))
        );
        let m = find("GET", "/jsonl/oneway/customerlinkqueryrequest").unwrap();
        assert_eq!(
            (m.route.op, m.predefined),
            (Op::QueryLinks, Some(Format::Jsonl))
        );
        assert_eq!(
            find("GET", "/pdf/reply/CustomerLinkRequest").unwrap_err(),
            Miss::NotFound
        );
    }

    #[test]
    fn batched_predefined_routes() {
        for path in [
            "/api/CustomerLinkRevokeRequest[]",
            "/json/reply/customerlinkrevokerequest%5b%5d",
            "/jsv/oneway/CustomerLinkRevokeRequest%5B%5D",
        ] {
            let m = find("POST", path).unwrap();
            assert_eq!((m.route.op, m.batch), (Op::RevokeLink, true), "{path}");
        }
        assert!(
            !find("POST", "/api/CustomerLinkRevokeRequest")
                .unwrap()
                .batch
        );
        assert_eq!(
            find("POST", "/v1/customerlink[]").unwrap_err(),
            Miss::NotFound
        );
        assert_eq!(op_at("/api/PortalVerifyRequest[]"), Some(Op::PortalVerify));
        assert_eq!(lookup("POST", "/api/x[]").form, RouteForm::Api);
        assert_eq!(lookup("POST", "/json/reply/x").form, RouteForm::Reply);
    }

    #[test]
    fn request_members_come_from_the_schemas() {
        let members = request_members("CustomerLinkQueryRequest");
        assert!(members.iter().any(|m| m == "Take"), "{members:?}");
        assert!(
            request_members("customerlinkcreaterequest")
                .iter()
                .any(|m| m == "ResourceUid")
        );
        assert!(request_members("Nope").is_empty());
    }
}
