""" customerlink DTOs for the ServiceStack Python client.

Written by hand in the shape ServiceStack's Python generator (Add ServiceStack Reference,
`/types/python`) emits: the default imports, `@dataclass_json(letter_case=LetterCase.CAMEL, ...)`
dataclasses with snake_case members (`CustomerLinkUID` -> `customer_link_u_i_d`), `# @Route(...)`
comments, request DTOs deriving from `IReturn[Response]` plus a verb marker (`IPost`, `IGet`,
`IPut`). `CustomerLink`, `CustomerLinkExtended`, `CustomerLinkCreateResponse` and
`CustomerLinkCreateRequest` are copied member for member from the service's API page
(shared/seed/customerlink-create-dtos.txt); the `DocumentShare*` DTOs follow the platform's
members as reference/trendsic-api.md lists them (no TenantId, non-nullable ExpiresAtUtc and
request counts, no DeliveryErrors); the other operations follow src/api/dto.rs and
src/api/routes.rs.

No `response_type()` on these request DTOs: the generator emits it only for generic or abstract
request types (`QueryDb[T]`, `CreateAuditBase[Table, TResponse]`), and servicestack 0.1.15's
`_resolve_response_type` breaks on a concrete one (`has_type_vars` reads `cls.__args__`, which a
plain class lacks: AttributeError). The client resolves the response DTO from `IReturn[...]`.
"""

import datetime
import decimal
from marshmallow.fields import *
from servicestack import *
from typing import *
from dataclasses import dataclass, field
from dataclasses_json import dataclass_json, LetterCase, Undefined, config
from enum import Enum, IntEnum


@dataclass_json(letter_case=LetterCase.CAMEL, undefined=Undefined.EXCLUDE)
@dataclass
class CustomerLink:
    customer_link_id: int = 0
    customer_link_u_i_d: Optional[str] = None
    token_hash: Optional[str] = None
    resource_type: Optional[str] = None
    resource_uid: Optional[str] = None
    sensitivity_tier: Optional[str] = None
    require_otp: bool = False
    otp_channel: Optional[str] = None
    delivery_channels: Optional[str] = None
    recipient_contact_id: Optional[int] = None
    recipient_email: Optional[str] = None
    recipient_phone: Optional[str] = None
    sms_consent_snapshot: bool = False
    created_by_user_id: Optional[str] = None
    created_by_agent_id: Optional[int] = None
    created_at_utc: datetime.datetime = datetime.datetime(1, 1, 1)
    expires_at_utc: Optional[datetime.datetime] = None
    max_views: Optional[int] = None
    view_count: int = 0
    revoked_at_utc: Optional[datetime.datetime] = None
    revoked_by_user_id: Optional[str] = None
    tenant_id: Optional[str] = None


@dataclass_json(letter_case=LetterCase.CAMEL, undefined=Undefined.EXCLUDE)
@dataclass
class CustomerLinkExtended(CustomerLink):
    recipient_display_name: Optional[str] = None
    recipient_type: Optional[str] = None
    status: Optional[str] = None


@dataclass_json(letter_case=LetterCase.CAMEL, undefined=Undefined.EXCLUDE)
@dataclass
class Contact:
    """The recipient-relevant members of the platform's `Contact` DTO (all customerlink stores)."""

    contact_id: int = 0
    contact_g_u_i_d: Optional[str] = None
    first_name: Optional[str] = None
    last_name: Optional[str] = None
    name: Optional[str] = None
    email_work: Optional[str] = None
    email_personal: Optional[str] = None
    phone: Optional[str] = None
    s_m_s_opt_in: bool = False
    do_not_contact: bool = False
    active: bool = False
    deleted: bool = False


@dataclass_json(letter_case=LetterCase.CAMEL, undefined=Undefined.EXCLUDE)
@dataclass
class CustomerLinkCreateResponse:
    response_status: Optional[ResponseStatus] = None
    link: Optional[CustomerLinkExtended] = None
    portal_url: Optional[str] = None
    delivery_errors: List[str] = field(default_factory=list)


@dataclass_json(letter_case=LetterCase.CAMEL, undefined=Undefined.EXCLUDE)
@dataclass
class CustomerLinkListResponse:
    response_status: Optional[ResponseStatus] = None
    links: List[CustomerLinkExtended] = field(default_factory=list)
    total: Optional[int] = None


@dataclass_json(letter_case=LetterCase.CAMEL, undefined=Undefined.EXCLUDE)
@dataclass
class CustomerLinkResponse:
    response_status: Optional[ResponseStatus] = None
    link: Optional[CustomerLinkExtended] = None


@dataclass_json(letter_case=LetterCase.CAMEL, undefined=Undefined.EXCLUDE)
@dataclass
class ContactResponse:
    response_status: Optional[ResponseStatus] = None
    contact: Optional[Contact] = None


# @Route("/v1/customerlink", "POST,OPTIONS")
@dataclass_json(letter_case=LetterCase.CAMEL, undefined=Undefined.EXCLUDE)
@dataclass
class CustomerLinkCreateRequest(IReturn[CustomerLinkCreateResponse], IPost):
    resource_type: Optional[str] = None
    resource_uid: Optional[str] = None
    recipient_contact_id: Optional[int] = None
    recipient_email: Optional[str] = None
    recipient_phone: Optional[str] = None
    deliver_email: bool = False
    deliver_sms: bool = False
    expires_in_hours: Optional[int] = None
    max_views: Optional[int] = None


# @Route("/v1/customerlink/resource/{ResourceType}/{ResourceUid}", "GET,OPTIONS")
@dataclass_json(letter_case=LetterCase.CAMEL, undefined=Undefined.EXCLUDE)
@dataclass
class CustomerLinkListRequest(IReturn[CustomerLinkListResponse], IGet):
    resource_type: Optional[str] = None
    resource_uid: Optional[str] = None


# @Route("/v1/customerlink", "GET")
@dataclass_json(letter_case=LetterCase.CAMEL, undefined=Undefined.EXCLUDE)
@dataclass
class CustomerLinkQueryRequest(IReturn[CustomerLinkListResponse], IGet):
    status: Optional[str] = None
    skip: Optional[int] = None
    take: Optional[int] = None


# @Route("/v1/customerlink/{CustomerLinkUID}", "GET")
@dataclass_json(letter_case=LetterCase.CAMEL, undefined=Undefined.EXCLUDE)
@dataclass
class CustomerLinkRequest(IReturn[CustomerLinkResponse], IGet):
    customer_link_u_i_d: Optional[str] = None


# @Route("/v1/customerlink/{CustomerLinkUID}/revoke", "POST")
# @Route("/v1/customerlink/{CustomerLinkUID}", "DELETE")
@dataclass_json(letter_case=LetterCase.CAMEL, undefined=Undefined.EXCLUDE)
@dataclass
class CustomerLinkRevokeRequest(IReturn[CustomerLinkResponse], IPost):
    customer_link_u_i_d: Optional[str] = None


# @Route("/v1/contact/{ContactId}", "PUT")
@dataclass_json(letter_case=LetterCase.CAMEL, undefined=Undefined.EXCLUDE)
@dataclass
class ContactPutRequest(Contact, IReturn[ContactResponse], IPut):
    pass


# --- Document shares (the platform's DocumentShare* operations; revoke is customerlink's) ---


@dataclass_json(letter_case=LetterCase.CAMEL, undefined=Undefined.EXCLUDE)
@dataclass
class DocumentShare:
    document_share_id: int = 0
    document_share_u_i_d: Optional[str] = None
    token_hash: Optional[str] = None
    attachment_id: Optional[str] = None
    sensitivity_tier: Optional[str] = None
    require_otp: bool = False
    otp_channel: Optional[str] = None
    delivery_channels: Optional[str] = None
    recipient_contact_id: Optional[int] = None
    recipient_email: Optional[str] = None
    recipient_phone: Optional[str] = None
    sms_consent_snapshot: bool = False
    created_by_user_id: Optional[str] = None
    created_by_agent_id: Optional[int] = None
    created_at_utc: datetime.datetime = datetime.datetime(1, 1, 1)
    expires_at_utc: datetime.datetime = datetime.datetime(1, 1, 1)
    max_views: Optional[int] = None
    view_count: int = 0
    revoked_at_utc: Optional[datetime.datetime] = None
    revoked_by_user_id: Optional[str] = None


@dataclass_json(letter_case=LetterCase.CAMEL, undefined=Undefined.EXCLUDE)
@dataclass
class DocumentShareExtended(DocumentShare):
    attachment_name: Optional[str] = None
    recipient_display_name: Optional[str] = None
    recipient_type: Optional[str] = None
    created_by_name: Optional[str] = None
    status: Optional[str] = None


@dataclass_json(letter_case=LetterCase.CAMEL, undefined=Undefined.EXCLUDE)
@dataclass
class DocumentShareAccessLog:
    document_share_access_log_id: int = 0
    document_share_id: int = 0
    event_type: Optional[str] = None
    outcome: Optional[str] = None
    detail_message: Optional[str] = None
    ip_address: Optional[str] = None
    user_agent: Optional[str] = None
    actor_user_id: Optional[str] = None
    created_at_utc: datetime.datetime = datetime.datetime(1, 1, 1)


@dataclass_json(letter_case=LetterCase.CAMEL, undefined=Undefined.EXCLUDE)
@dataclass
class DocumentShareResponse:
    response_status: Optional[ResponseStatus] = None
    document_share: List[DocumentShareExtended] = field(default_factory=list)
    share_url: Optional[str] = None


@dataclass_json(letter_case=LetterCase.CAMEL, undefined=Undefined.EXCLUDE)
@dataclass
class DocumentShareLogResponse:
    response_status: Optional[ResponseStatus] = None
    access_log: List[DocumentShareAccessLog] = field(default_factory=list)


# @Route("/v1/documentshare", "POST,OPTIONS")
@dataclass_json(letter_case=LetterCase.CAMEL, undefined=Undefined.EXCLUDE)
@dataclass
class DocumentShareCreateRequest(IReturn[DocumentShareResponse], IPost):
    attachment_id: Optional[str] = None
    recipient_contact_id: int = 0
    recipient_email: Optional[str] = None
    recipient_phone: Optional[str] = None
    is_adhoc: bool = False
    sensitivity_tier: Optional[str] = None
    require_otp: bool = False
    otp_channel: Optional[str] = None
    delivery_channels: Optional[str] = None
    expires_in_hours: int = 0
    max_views: int = 0


# @Route("/v1/documentshare/attachment/{AttachmentId}", "GET,OPTIONS")
@dataclass_json(letter_case=LetterCase.CAMEL, undefined=Undefined.EXCLUDE)
@dataclass
class DocumentShareListRequest(IReturn[DocumentShareResponse], IGet):
    attachment_id: Optional[str] = None


# @Route("/v1/documentshare/{DocumentShareId}/resend", "POST,OPTIONS")
@dataclass_json(letter_case=LetterCase.CAMEL, undefined=Undefined.EXCLUDE)
@dataclass
class DocumentShareResendRequest(IReturn[DocumentShareResponse], IPost):
    document_share_id: int = 0


# @Route("/v1/documentshare/{DocumentShareId}/log", "GET,OPTIONS")
@dataclass_json(letter_case=LetterCase.CAMEL, undefined=Undefined.EXCLUDE)
@dataclass
class DocumentShareLogRequest(IReturn[DocumentShareLogResponse], IGet):
    document_share_id: int = 0


# @Route("/v1/documentshare/{DocumentShareId}/revoke", "POST")
# @Route("/v1/documentshare/{DocumentShareId}", "DELETE")
@dataclass_json(letter_case=LetterCase.CAMEL, undefined=Undefined.EXCLUDE)
@dataclass
class DocumentShareRevokeRequest(IReturn[DocumentShareResponse], IPost):
    document_share_id: int = 0
