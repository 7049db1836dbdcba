// Drives a running customerlink with the official ServiceStack TypeScript client
// (npm @servicestack/client, JsonServiceClient) and the generated-style DTOs of dtos.ts.
//
// Needs CUSTOMERLINK_URL (where the server listens) and CUSTOMERLINK_KEY (an API key); optional
// CUSTOMERLINK_PUBLIC_URL (the server's public URL when it differs from CUSTOMERLINK_URL).
// `tests/clients/run.sh` starts a server on a fresh data folder and sets them.
//
// JsonServiceClient 2.x sends every DTO to the predefined `/api/{RequestDtoName}` route (its
// default base path) with PascalCase members, and hands back the parsed JSON reply as is: so
// these tests see exactly the member names and JSON types the server wrote.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { JsonServiceClient } from '@servicestack/client';
import {
    ContactPutRequest,
    ContactResponse,
    CustomerLinkCreateRequest,
    CustomerLinkCreateResponse,
    CustomerLinkExtended,
    CustomerLinkListRequest,
    CustomerLinkListResponse,
    CustomerLinkQueryRequest,
    CustomerLinkRequest,
    CustomerLinkResponse,
    CustomerLinkRevokeRequest,
} from './dtos.js';
import { BASE_URL, apiClient, newEmail, newResourceUid, rejection } from './support.js';

const PUBLIC_URL = (process.env.CUSTOMERLINK_PUBLIC_URL || BASE_URL).replace(/\/+$/, '');

const HEX32 = /^[0-9a-f]{32}$/;
const HEX64 = /^[0-9a-f]{64}$/;
const ZERO_GUID = '0'.repeat(32);
// ServiceStack's JSON date: ISO 8601, seven fraction digits, UTC.
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$/;
const HOUR_MS = 3_600_000;
// Server timestamps are cut to whole milliseconds; allow for that and a little clock slack.
const SLACK_MS = 2_000;
// Every member CustomerLinkExtended declares, in the PascalCase the DTOs read.
const LINK_MEMBERS = [
    'RecipientDisplayName', 'RecipientType', 'Status', 'CustomerLinkId', 'CustomerLinkUID',
    'TokenHash', 'ResourceType', 'ResourceUid', 'SensitivityTier', 'RequireOtp', 'OtpChannel',
    'DeliveryChannels', 'RecipientContactId', 'RecipientEmail', 'RecipientPhone',
    'SmsConsentSnapshot', 'CreatedByUserId', 'CreatedByAgentId', 'CreatedAtUtc', 'ExpiresAtUtc',
    'MaxViews', 'ViewCount', 'RevokedAtUtc', 'RevokedByUserId', 'TenantId',
];

interface Probe {
    client: JsonServiceClient;
    /** Paths (after the base URL) of the requests sent, in order. */
    paths: string[];
    /** HTTP statuses of the replies received, in order. */
    statuses: number[];
}

function makeClient(withKey = true): Probe {
    const client = apiClient(withKey);
    const probe: Probe = { client, paths: [], statuses: [] };
    client.urlFilter = (url: string) => { probe.paths.push(url.slice(BASE_URL.length)); };
    client.responseFilter = (res: Response) => { probe.statuses.push(res.status); };
    return probe;
}

interface Created {
    request: CustomerLinkCreateRequest;
    response: CustomerLinkCreateResponse;
    before: number;
    after: number;
}

async function createQuoteLink(client: JsonServiceClient, resourceUid?: string): Promise<Created> {
    const request = new CustomerLinkCreateRequest({
        ResourceType: 'Quote',
        ResourceUid: resourceUid ?? newResourceUid(),
        RecipientEmail: newEmail(),
    });
    const before = Date.now();
    const response = await client.post(request);
    const after = Date.now();
    return { request, response, before, after };
}

function assertUtcBetween(value: unknown, before: number, after: number): void {
    assert.equal(typeof value, 'string');
    assert.match(value as string, ISO_UTC);
    const at = Date.parse(value as string);
    assert.ok(before - SLACK_MS <= at && at <= after + SLACK_MS, `${value} not within the request`);
}

function assertOnlyDeclaredMembers(link: object): void {
    for (const key of Object.keys(link)) {
        assert.ok(LINK_MEMBERS.includes(key), `undeclared member '${key}' in ${JSON.stringify(link)}`);
    }
}

/** Every member of a just-created ad-hoc Quote link, as the server wrote it. */
function assertFreshAdhocQuoteLink(link: CustomerLinkExtended, c: Created): void {
    assertOnlyDeclaredMembers(link);
    assert.ok(Number.isInteger(link.CustomerLinkId) && link.CustomerLinkId >= 1, `${link.CustomerLinkId}`);
    assert.match(link.CustomerLinkUID, HEX32);
    assert.match(link.TokenHash, HEX64);
    assert.equal(link.ResourceType, 'Quote');
    assert.equal(link.ResourceUid, c.request.ResourceUid);
    assert.equal(link.SensitivityTier, 'Standard');
    assert.equal(link.RequireOtp, false);
    assert.equal(link.OtpChannel, undefined);
    assert.equal(link.DeliveryChannels, ''); // neither DeliverEmail nor DeliverSms was asked for
    assert.equal(link.RecipientContactId, undefined);
    assert.equal(link.RecipientEmail, c.request.RecipientEmail);
    assert.equal(link.RecipientPhone, undefined);
    assert.equal(link.SmsConsentSnapshot, false);
    assert.match(link.CreatedByUserId, HEX32);
    assert.notEqual(link.CreatedByUserId, ZERO_GUID);
    assert.equal(link.CreatedByAgentId, undefined);
    assertUtcBetween(link.CreatedAtUtc, c.before, c.after);
    assert.equal(typeof link.ExpiresAtUtc, 'string');
    assert.match(link.ExpiresAtUtc!, ISO_UTC);
    assert.equal(Date.parse(link.ExpiresAtUtc!) - Date.parse(link.CreatedAtUtc), 168 * HOUR_MS);
    assert.equal(link.MaxViews, 50);
    assert.equal(link.ViewCount, 0);
    assert.equal(link.RevokedAtUtc, undefined);
    assert.equal(link.RevokedByUserId, undefined);
    assert.match(link.TenantId, HEX32);
    assert.notEqual(link.TenantId, ZERO_GUID);
    assert.equal(link.RecipientDisplayName, c.request.RecipientEmail);
    assert.equal(link.RecipientType, 'AdHoc');
    assert.equal(link.Status, 'Active');
}

test('create an ad-hoc link: every member of the reply', async () => {
    const { client, paths, statuses } = makeClient();
    const created = await createQuoteLink(client);
    const r = created.response;

    assert.deepEqual(paths, ['/api/CustomerLinkCreateRequest']);
    assert.deepEqual(statuses, [200]);
    assert.deepEqual(Object.keys(r).sort(), ['DeliveryErrors', 'Link', 'PortalUrl']);
    assert.equal(r.ResponseStatus, undefined);
    assertFreshAdhocQuoteLink(r.Link, created);
    assert.equal(typeof r.PortalUrl, 'string');
    assert.deepEqual(r.DeliveryErrors, []);
});

test('create: the portal URL is under the public URL', async () => {
    const { client } = makeClient();
    const { response } = await createQuoteLink(client);

    const prefix = `${PUBLIC_URL}/portal/`;
    assert.ok(response.PortalUrl.startsWith(prefix), `${response.PortalUrl} does not start with ${prefix}`);
    assert.match(response.PortalUrl.slice(prefix.length), /^[A-Za-z0-9_-]{20,}$/);
});

test('two links get distinct ids and secrets', async () => {
    const { client } = makeClient();
    const first = (await createQuoteLink(client)).response;
    const second = (await createQuoteLink(client)).response;

    assert.ok(second.Link.CustomerLinkId > first.Link.CustomerLinkId);
    assert.notEqual(second.Link.CustomerLinkUID, first.Link.CustomerLinkUID);
    assert.notEqual(second.Link.TokenHash, first.Link.TokenHash);
    assert.notEqual(second.PortalUrl, first.PortalUrl);
});

test('list by resource: its links, newest first, as created', async () => {
    const { client, paths } = makeClient();
    const resourceUid = newResourceUid();
    const older = (await createQuoteLink(client, resourceUid)).response;
    const newer = (await createQuoteLink(client, resourceUid)).response;
    await createQuoteLink(client); // another resource: must not be listed

    const r: CustomerLinkListResponse = await client.get(
        new CustomerLinkListRequest({ ResourceType: 'Quote', ResourceUid: resourceUid }));

    assert.equal(paths.at(-1), `/api/CustomerLinkListRequest?ResourceType=Quote&ResourceUid=${resourceUid}`);
    assert.deepEqual(Object.keys(r), ['Links']); // no Total: only the tenant-wide query counts
    assert.deepEqual(r.Links, [newer.Link, older.Link]);
});

test('get by uid: the link as created', async () => {
    const { client, paths } = makeClient();
    const created = await createQuoteLink(client);
    const uid = created.response.Link.CustomerLinkUID;

    const r: CustomerLinkResponse = await client.get(new CustomerLinkRequest({ CustomerLinkUID: uid }));

    assert.equal(paths.at(-1), `/api/CustomerLinkRequest?CustomerLinkUID=${uid}`);
    assert.deepEqual(Object.keys(r), ['Link', 'Deliveries']);
    assert.deepEqual(r.Deliveries, [], 'nothing was requested for delivery');
    assertFreshAdhocQuoteLink(r.Link, created);
    assert.deepEqual(r.Link, created.response.Link);
});

test('query by status pages the tenant\'s links', async () => {
    const { client, paths } = makeClient();
    const created = (await createQuoteLink(client)).response;

    const r: CustomerLinkListResponse = await client.get(
        new CustomerLinkQueryRequest({ Status: 'Active', Skip: 0, Take: 500 }));

    assert.equal(paths.at(-1), '/api/CustomerLinkQueryRequest?Status=Active&Skip=0&Take=500');
    assert.ok(Number.isInteger(r.Total) && r.Total! >= 1, `Total ${r.Total}`);
    assert.ok(r.Links.length <= r.Total!);
    assert.ok(r.Links.every(l => l.Status === 'Active'));
    const mine = r.Links.filter(l => l.CustomerLinkUID === created.Link.CustomerLinkUID);
    assert.deepEqual(mine, [created.Link]);
});

test('query without arguments', async () => {
    const { client, paths } = makeClient();
    await createQuoteLink(client);

    const r: CustomerLinkListResponse = await client.get(new CustomerLinkQueryRequest());

    assert.equal(paths.at(-1), '/api/CustomerLinkQueryRequest');
    assert.ok(Number.isInteger(r.Total) && r.Total! >= 1, `Total ${r.Total}`);
    assert.ok(r.Links.length >= 1);
    r.Links.forEach(assertOnlyDeclaredMembers);
});

test('revoke via /api/, then again via the custom route', async () => {
    const { client, paths } = makeClient();
    const created = await createQuoteLink(client);
    const uid = created.response.Link.CustomerLinkUID;

    const before = Date.now();
    const revoked: CustomerLinkResponse = await client.post(new CustomerLinkRevokeRequest({ CustomerLinkUID: uid }));
    const after = Date.now();

    assert.equal(paths.at(-1), '/api/CustomerLinkRevokeRequest');
    assert.deepEqual(Object.keys(revoked), ['Link']);
    const link = revoked.Link;
    assertOnlyDeclaredMembers(link);
    assert.equal(link.Status, 'Revoked');
    assertUtcBetween(link.RevokedAtUtc, before, after);
    assert.equal(link.RevokedByUserId, created.response.Link.CreatedByUserId); // the key's user
    // Nothing else changed.
    assert.deepEqual(link, {
        ...created.response.Link,
        Status: 'Revoked',
        RevokedAtUtc: link.RevokedAtUtc,
        RevokedByUserId: link.RevokedByUserId,
    });

    // GET sees the revocation.
    const fetched: CustomerLinkResponse = await client.get(new CustomerLinkRequest({ CustomerLinkUID: uid }));
    assert.deepEqual(fetched.Link, link);

    // Revoking again, through the custom route, is a no-op that answers with the same link.
    const again: CustomerLinkResponse = await client.postToUrl(
        `/v1/customerlink/${uid}/revoke`, new CustomerLinkRevokeRequest({ CustomerLinkUID: uid }));
    assert.equal(paths.at(-1), `/v1/customerlink/${uid}/revoke`);
    assert.deepEqual(again.Link, link);

    // The resource listing shows it revoked too.
    const listed: CustomerLinkListResponse = await client.get(new CustomerLinkListRequest({
        ResourceType: 'Quote', ResourceUid: created.request.ResourceUid }));
    assert.deepEqual(listed.Links, [link]);
});

test('create through the /json/reply/ predefined route', async () => {
    const { client, paths } = makeClient();
    client.basePath = null; // ServiceStack's older predefined routes: /json/reply/{Op}
    const created = await createQuoteLink(client);

    assert.deepEqual(paths, ['/json/reply/CustomerLinkCreateRequest']);
    assertFreshAdhocQuoteLink(created.response.Link, created);
    assert.deepEqual(created.response.DeliveryErrors, []);
});

test('a link to a contact copies its addresses and consent', async () => {
    const { client, paths } = makeClient();
    const contactId = (parseInt(randomUUID().slice(0, 8), 16) % 1_000_000) + 1;
    const put: ContactResponse = await client.put(new ContactPutRequest({
        ContactId: contactId, FirstName: 'Bo', LastName: 'Lind', EmailWork: 'bo@example.com',
        Phone: '+46701234567', SMSOptIn: true,
    }));

    assert.equal(paths.at(-1), '/api/ContactPutRequest');
    assert.equal(put.ResponseStatus, undefined);
    const c = put.Contact;
    assert.equal(c.ContactId, contactId);
    assert.match(c.ContactGUID, HEX32);
    assert.equal(c.FirstName, 'Bo');
    assert.equal(c.LastName, 'Lind');
    assert.equal(c.EmailWork, 'bo@example.com');
    assert.equal(c.Phone, '+46701234567');
    assert.equal(c.SMSOptIn, true);
    assert.equal(c.DoNotContact, false);
    assert.equal(c.Active, true); // omitted Active means active
    assert.equal(c.Deleted, false);

    const resourceUid = newResourceUid();
    const before = Date.now();
    const r: CustomerLinkCreateResponse = await client.post(new CustomerLinkCreateRequest({
        ResourceType: 'Claim', ResourceUid: resourceUid, RecipientContactId: contactId }));
    const after = Date.now();

    const link = r.Link;
    assertOnlyDeclaredMembers(link);
    assert.equal(link.RecipientType, 'Contact');
    assert.equal(link.RecipientContactId, contactId);
    assert.equal(link.RecipientEmail, 'bo@example.com');
    assert.equal(link.RecipientPhone, '+46701234567');
    assert.equal(link.RecipientDisplayName, 'Bo Lind');
    assert.equal(link.SmsConsentSnapshot, true);
    // Claim -> Restricted tier: OTP, 1 day, 3 views.
    assert.equal(link.ResourceType, 'Claim');
    assert.equal(link.ResourceUid, resourceUid);
    assert.equal(link.SensitivityTier, 'Restricted');
    assert.equal(link.RequireOtp, true);
    assert.ok(['Email', 'Sms'].includes(link.OtpChannel), `OtpChannel ${link.OtpChannel}`);
    assertUtcBetween(link.CreatedAtUtc, before, after);
    assert.equal(Date.parse(link.ExpiresAtUtc!) - Date.parse(link.CreatedAtUtc), 24 * HOUR_MS);
    assert.equal(link.MaxViews, 3);
    assert.equal(link.Status, 'Active');
    assert.deepEqual(r.DeliveryErrors, []);
});

test('a validation error names each bad field', async () => {
    const { client, statuses } = makeClient();
    const e = await rejection(client.post(new CustomerLinkCreateRequest({
        ResourceType: 'Quote', RecipientEmail: 'not-an-email' })));

    assert.deepEqual(statuses, [400]);
    // The client camelCases the ResponseStatus it read (ResponseStatus.ErrorCode -> responseStatus.errorCode).
    const status = e.responseStatus;
    assert.ok(status, `no responseStatus in ${JSON.stringify(e)}`);
    assert.equal(typeof status.errorCode, 'string');
    assert.ok(status.errorCode.length > 0);
    assert.equal(typeof status.message, 'string');
    assert.ok(status.message.length > 0);
    assert.deepEqual(status.errors.map(x => x.fieldName).sort(), ['RecipientEmail', 'ResourceUid']);
    for (const err of status.errors) {
        assert.ok(typeof err.errorCode === 'string' && err.errorCode.length > 0);
        assert.ok(typeof err.message === 'string' && err.message.length > 0);
    }
    const byField = Object.fromEntries(status.errors.map(x => [x.fieldName, x]));
    assert.equal(byField.ResourceUid.errorCode, 'NotEmpty');
    assert.equal(byField.RecipientEmail.errorCode, 'Email');
    // The top-level status repeats the first field error, as ServiceStack does.
    assert.equal(status.errorCode, status.errors[0].errorCode);
    assert.equal(status.message, status.errors[0].message);
});

test('an unknown link is 404', async () => {
    const { client, statuses } = makeClient();
    const uid = newResourceUid();
    const e = await rejection(client.get(new CustomerLinkRequest({ CustomerLinkUID: uid })));

    assert.deepEqual(statuses, [404]);
    assert.equal(e.responseStatus.errorCode, 'NotFound');
    assert.ok(e.responseStatus.message.includes(uid), e.responseStatus.message);
    assert.deepEqual(e.responseStatus.errors, []);
});

test('no API key is 401 with a readable status', async () => {
    const { client, statuses } = makeClient(false);
    const e = await rejection(client.get(new CustomerLinkRequest({ CustomerLinkUID: newResourceUid() })));

    assert.deepEqual(statuses, [401]);
    assert.ok(e.responseStatus, `no responseStatus in ${JSON.stringify(e)}`);
    assert.equal(e.responseStatus.errorCode, 'Unauthorized');
    assert.ok(e.responseStatus.message.length > 0);
});
