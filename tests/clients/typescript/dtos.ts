/* customerlink DTOs for the ServiceStack TypeScript client.

Written by hand in the shape ServiceStack's TypeScript generator (Add ServiceStack Reference,
`/types/typescript`) emits for this service: PascalCase members as declared in C#, value types
required, nullable ones optional (`?`), Guid and DateTime as string, `// @Route(...)` comments,
and request DTOs that implement `IReturn<Response>` with getTypeName(), getMethod() and
createResponse(). `CustomerLink`, `CustomerLinkExtended`, `CustomerLinkCreateResponse` and
`CustomerLinkCreateRequest` follow the service's API page (shared/seed/customerlink-create-dtos.txt)
member for member; the DocumentShare* DTOs follow the platform's members as
reference/trendsic-api.md lists them; the other operations follow src/api/dto.rs and src/api/routes.rs.
*/

export interface IReturn<T>
{
    createResponse(): T;
}

// @DataContract
export class ResponseError
{
    // @DataMember(Order=1)
    public ErrorCode: string;

    // @DataMember(Order=2)
    public FieldName: string;

    // @DataMember(Order=3)
    public Message: string;

    // @DataMember(Order=4)
    public Meta: { [index: string]: string; };

    public constructor(init?: Partial<ResponseError>) { (Object as any).assign(this, init); }
}

// @DataContract
export class ResponseStatus
{
    // @DataMember(Order=1)
    public ErrorCode: string;

    // @DataMember(Order=2)
    public Message: string;

    // @DataMember(Order=3)
    public StackTrace: string;

    // @DataMember(Order=4)
    public Errors: ResponseError[];

    // @DataMember(Order=5)
    public Meta: { [index: string]: string; };

    public constructor(init?: Partial<ResponseStatus>) { (Object as any).assign(this, init); }
}

export class CustomerLink
{
    public CustomerLinkId: number;
    public CustomerLinkUID: string;
    public TokenHash: string;
    public ResourceType: string;
    public ResourceUid: string;
    public SensitivityTier: string;
    public RequireOtp: boolean;
    public OtpChannel: string;
    public DeliveryChannels: string;
    public RecipientContactId?: number;
    public RecipientEmail: string;
    public RecipientPhone: string;
    public SmsConsentSnapshot: boolean;
    public CreatedByUserId: string;
    public CreatedByAgentId?: number;
    public CreatedAtUtc: string;
    public ExpiresAtUtc?: string;
    public MaxViews?: number;
    public ViewCount: number;
    public RevokedAtUtc?: string;
    public RevokedByUserId?: string;
    public TenantId: string;

    public constructor(init?: Partial<CustomerLink>) { (Object as any).assign(this, init); }
}

export class CustomerLinkExtended extends CustomerLink
{
    public RecipientDisplayName: string;
    public RecipientType: string;
    public Status: string;

    public constructor(init?: Partial<CustomerLinkExtended>) { super(init); (Object as any).assign(this, init); }
}

/** The recipient-relevant members of the platform's Contact DTO (all customerlink stores). */
export class Contact
{
    public ContactId: number;
    public ContactGUID: string;
    public FirstName: string;
    public LastName: string;
    public Name: string;
    public EmailWork: string;
    public EmailPersonal: string;
    public Phone: string;
    public SMSOptIn: boolean;
    public DoNotContact: boolean;
    public Active: boolean;
    public Deleted: boolean;

    public constructor(init?: Partial<Contact>) { (Object as any).assign(this, init); }
}

export class CustomerLinkCreateResponse
{
    public ResponseStatus: ResponseStatus;
    public Link: CustomerLinkExtended;
    public PortalUrl: string;
    public DeliveryErrors: string[];

    public constructor(init?: Partial<CustomerLinkCreateResponse>) { (Object as any).assign(this, init); }
}

export class CustomerLinkListResponse
{
    public ResponseStatus: ResponseStatus;
    public Links: CustomerLinkExtended[];
    public Total?: number;

    public constructor(init?: Partial<CustomerLinkListResponse>) { (Object as any).assign(this, init); }
}

export class CustomerLinkDelivery
{
    public DeliveryId: number;
    public Channel: string;
    public Status: string;
    public Attempts: number;
    public LastError?: string;
    public CreatedAtUtc: string;
    public SentAtUtc?: string;
    public NextAttemptAtUtc?: string;

    public constructor(init?: Partial<CustomerLinkDelivery>) { (Object as any).assign(this, init); }
}

export class CustomerLinkResponse
{
    public ResponseStatus: ResponseStatus;
    public Link: CustomerLinkExtended;
    public Deliveries?: CustomerLinkDelivery[];

    public constructor(init?: Partial<CustomerLinkResponse>) { (Object as any).assign(this, init); }
}

export class ContactResponse
{
    public ResponseStatus: ResponseStatus;
    public Contact: Contact;

    public constructor(init?: Partial<ContactResponse>) { (Object as any).assign(this, init); }
}

// @Route("/v1/customerlink", "POST,OPTIONS")
export class CustomerLinkCreateRequest implements IReturn<CustomerLinkCreateResponse>
{
    public ResourceType: string;
    public ResourceUid: string;
    public RecipientContactId?: number;
    public RecipientEmail: string;
    public RecipientPhone: string;
    public DeliverEmail: boolean;
    public DeliverSms: boolean;
    public ExpiresInHours?: number;
    public MaxViews?: number;

    public constructor(init?: Partial<CustomerLinkCreateRequest>) { (Object as any).assign(this, init); }
    public getTypeName() { return 'CustomerLinkCreateRequest'; }
    public getMethod() { return 'POST'; }
    public createResponse() { return new CustomerLinkCreateResponse(); }
}

// @Route("/v1/customerlink/resource/{ResourceType}/{ResourceUid}", "GET,OPTIONS")
export class CustomerLinkListRequest implements IReturn<CustomerLinkListResponse>
{
    public ResourceType: string;
    public ResourceUid: string;

    public constructor(init?: Partial<CustomerLinkListRequest>) { (Object as any).assign(this, init); }
    public getTypeName() { return 'CustomerLinkListRequest'; }
    public getMethod() { return 'GET'; }
    public createResponse() { return new CustomerLinkListResponse(); }
}

// @Route("/v1/customerlink", "GET")
export class CustomerLinkQueryRequest implements IReturn<CustomerLinkListResponse>
{
    public Status: string;
    public Skip?: number;
    public Take?: number;

    public constructor(init?: Partial<CustomerLinkQueryRequest>) { (Object as any).assign(this, init); }
    public getTypeName() { return 'CustomerLinkQueryRequest'; }
    public getMethod() { return 'GET'; }
    public createResponse() { return new CustomerLinkListResponse(); }
}

// @Route("/v1/customerlink/{CustomerLinkUID}", "GET")
export class CustomerLinkRequest implements IReturn<CustomerLinkResponse>
{
    public CustomerLinkUID: string;

    public constructor(init?: Partial<CustomerLinkRequest>) { (Object as any).assign(this, init); }
    public getTypeName() { return 'CustomerLinkRequest'; }
    public getMethod() { return 'GET'; }
    public createResponse() { return new CustomerLinkResponse(); }
}

// @Route("/v1/customerlink/{CustomerLinkUID}/revoke", "POST")
// @Route("/v1/customerlink/{CustomerLinkUID}", "DELETE")
export class CustomerLinkRevokeRequest implements IReturn<CustomerLinkResponse>
{
    public CustomerLinkUID: string;

    public constructor(init?: Partial<CustomerLinkRevokeRequest>) { (Object as any).assign(this, init); }
    public getTypeName() { return 'CustomerLinkRevokeRequest'; }
    public getMethod() { return 'POST'; }
    public createResponse() { return new CustomerLinkResponse(); }
}

// @Route("/v1/contact/{ContactId}", "PUT")
export class ContactPutRequest extends Contact implements IReturn<ContactResponse>
{

    public constructor(init?: Partial<ContactPutRequest>) { super(init); (Object as any).assign(this, init); }
    public getTypeName() { return 'ContactPutRequest'; }
    public getMethod() { return 'PUT'; }
    public createResponse() { return new ContactResponse(); }
}

// --- Document shares: the platform's DocumentShare* operations (DocumentShareRevokeRequest is
// customerlink's addition). No TenantId; ExpiresAtUtc and the request's counts are value types.

export class DocumentShare
{
    public DocumentShareId: number;
    public DocumentShareUID: string;
    public TokenHash: string;
    public AttachmentId: string;
    public SensitivityTier: string;
    public RequireOtp: boolean;
    public OtpChannel: string;
    public DeliveryChannels: string;
    public RecipientContactId?: number;
    public RecipientEmail: string;
    public RecipientPhone: string;
    public SmsConsentSnapshot: boolean;
    public CreatedByUserId: string;
    public CreatedByAgentId?: number;
    public CreatedAtUtc: string;
    public ExpiresAtUtc: string;
    public MaxViews?: number;
    public ViewCount: number;
    public RevokedAtUtc?: string;
    public RevokedByUserId?: string;

    public constructor(init?: Partial<DocumentShare>) { (Object as any).assign(this, init); }
}

export class DocumentShareExtended extends DocumentShare
{
    public AttachmentName: string;
    public RecipientDisplayName: string;
    public RecipientType: string;
    public CreatedByName: string;
    public Status: string;

    public constructor(init?: Partial<DocumentShareExtended>) { super(init); (Object as any).assign(this, init); }
}

export class DocumentShareAccessLog
{
    public DocumentShareAccessLogId: number;
    public DocumentShareId: number;
    public EventType: string;
    public Outcome: string;
    public DetailMessage: string;
    public IpAddress: string;
    public UserAgent: string;
    public ActorUserId?: string;
    public CreatedAtUtc: string;

    public constructor(init?: Partial<DocumentShareAccessLog>) { (Object as any).assign(this, init); }
}

export class DocumentShareResponse
{
    public ResponseStatus: ResponseStatus;
    public DocumentShare: DocumentShareExtended[];
    public ShareUrl: string;

    public constructor(init?: Partial<DocumentShareResponse>) { (Object as any).assign(this, init); }
}

export class DocumentShareLogResponse
{
    public ResponseStatus: ResponseStatus;
    public AccessLog: DocumentShareAccessLog[];

    public constructor(init?: Partial<DocumentShareLogResponse>) { (Object as any).assign(this, init); }
}

// @Route("/v1/documentshare", "POST,OPTIONS")
export class DocumentShareCreateRequest implements IReturn<DocumentShareResponse>
{
    public AttachmentId: string;
    public RecipientContactId: number;
    public RecipientEmail: string;
    public RecipientPhone: string;
    public IsAdhoc: boolean;
    public SensitivityTier: string;
    public RequireOtp: boolean;
    public OtpChannel: string;
    public DeliveryChannels: string;
    public ExpiresInHours: number;
    public MaxViews: number;

    public constructor(init?: Partial<DocumentShareCreateRequest>) { (Object as any).assign(this, init); }
    public getTypeName() { return 'DocumentShareCreateRequest'; }
    public getMethod() { return 'POST'; }
    public createResponse() { return new DocumentShareResponse(); }
}

// @Route("/v1/documentshare/attachment/{AttachmentId}", "GET,OPTIONS")
export class DocumentShareListRequest implements IReturn<DocumentShareResponse>
{
    public AttachmentId: string;

    public constructor(init?: Partial<DocumentShareListRequest>) { (Object as any).assign(this, init); }
    public getTypeName() { return 'DocumentShareListRequest'; }
    public getMethod() { return 'GET'; }
    public createResponse() { return new DocumentShareResponse(); }
}

// @Route("/v1/documentshare/{DocumentShareId}/resend", "POST,OPTIONS")
export class DocumentShareResendRequest implements IReturn<DocumentShareResponse>
{
    public DocumentShareId: number;

    public constructor(init?: Partial<DocumentShareResendRequest>) { (Object as any).assign(this, init); }
    public getTypeName() { return 'DocumentShareResendRequest'; }
    public getMethod() { return 'POST'; }
    public createResponse() { return new DocumentShareResponse(); }
}

// @Route("/v1/documentshare/{DocumentShareId}/log", "GET,OPTIONS")
export class DocumentShareLogRequest implements IReturn<DocumentShareLogResponse>
{
    public DocumentShareId: number;

    public constructor(init?: Partial<DocumentShareLogRequest>) { (Object as any).assign(this, init); }
    public getTypeName() { return 'DocumentShareLogRequest'; }
    public getMethod() { return 'GET'; }
    public createResponse() { return new DocumentShareLogResponse(); }
}

// @Route("/v1/documentshare/{DocumentShareId}/revoke", "POST")
// @Route("/v1/documentshare/{DocumentShareId}", "DELETE")
export class DocumentShareRevokeRequest implements IReturn<DocumentShareResponse>
{
    public DocumentShareId: number;

    public constructor(init?: Partial<DocumentShareRevokeRequest>) { (Object as any).assign(this, init); }
    public getTypeName() { return 'DocumentShareRevokeRequest'; }
    public getMethod() { return 'POST'; }
    public createResponse() { return new DocumentShareResponse(); }
}
