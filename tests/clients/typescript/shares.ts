// Document shares through the official TypeScript client (issue 17): an attachment uploaded
// with plain fetch, then create, list by attachment, resend, access log and revoke through the
// generated-style DTOs of dtos.ts (the platform's DocumentShare* members: no TenantId,
// non-nullable ExpiresAtUtc and counts). The client sends PascalCase to `/api/{Op}` and hands
// back the PascalCase reply as is.
//
// Needs CUSTOMERLINK_URL and CUSTOMERLINK_KEY; `tests/clients/run.sh` sets them.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JsonServiceClient } from '@servicestack/client';
import {
    DocumentShareCreateRequest,
    DocumentShareExtended,
    DocumentShareListRequest,
    DocumentShareLogRequest,
    DocumentShareLogResponse,
    DocumentShareResendRequest,
    DocumentShareResponse,
    DocumentShareRevokeRequest,
} from './dtos.js';
import { API_KEY, BASE_URL, apiClient, newEmail, rejection } from './support.js';

const HEX32 = /^[0-9a-f]{32}$/;
const HEX64 = /^[0-9a-f]{64}$/;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$/;
const HOUR_MS = 3_600_000;
// Every member DocumentShareExtended declares.
const SHARE_MEMBERS = [
    'AttachmentName', 'RecipientDisplayName', 'RecipientType', 'CreatedByName', 'Status',
    'DocumentShareId', 'DocumentShareUID', 'TokenHash', 'AttachmentId', 'SensitivityTier',
    'RequireOtp', 'OtpChannel', 'DeliveryChannels', 'RecipientContactId', 'RecipientEmail',
    'RecipientPhone', 'SmsConsentSnapshot', 'CreatedByUserId', 'CreatedByAgentId', 'CreatedAtUtc',
    'ExpiresAtUtc', 'MaxViews', 'ViewCount', 'RevokedAtUtc', 'RevokedByUserId',
];

/** A client that remembers the paths it requested. */
function probe(): { client: JsonServiceClient; paths: string[] } {
    const client = apiClient();
    const paths: string[] = [];
    client.urlFilter = (url: string) => { paths.push(url.slice(BASE_URL.length)); };
    return { client, paths };
}

/** PUTs a file as a raw body (the client has no typed upload for PUT); its AttachmentId. */
async function upload(name = 'policy.pdf', data = '%PDF-1.7 a signed policy'): Promise<string> {
    const res = await fetch(`${BASE_URL}/v1/attachment`, {
        method: 'PUT',
        body: data,
        headers: {
            Authorization: `Bearer ${API_KEY}`,
            'Content-Type': 'application/octet-stream',
            'Content-Disposition': `attachment; filename="${name}"`,
        },
    });
    const body = await res.json() as { AttachmentId: string };
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.match(body.AttachmentId, HEX32);
    return body.AttachmentId;
}

/** An ad-hoc share with a fresh address, the counts at 0 as a generated DTO sends them. */
function shareRequest(attachmentId: string, more: Partial<DocumentShareCreateRequest> = {}) {
    return new DocumentShareCreateRequest({
        AttachmentId: attachmentId, RecipientContactId: 0, RecipientEmail: newEmail(),
        IsAdhoc: true, RequireOtp: false, ExpiresInHours: 0, MaxViews: 0, ...more,
    });
}

function only(r: DocumentShareResponse): DocumentShareExtended {
    assert.equal(r.ResponseStatus, undefined);
    assert.ok(Array.isArray(r.DocumentShare), JSON.stringify(r));
    assert.equal(r.DocumentShare.length, 1, JSON.stringify(r));
    const one = r.DocumentShare[0];
    for (const key of Object.keys(one)) {
        assert.ok(SHARE_MEMBERS.includes(key), `undeclared member '${key}'`);
    }
    return one;
}

test('create a share: a list of one, with the tier for documents', async () => {
    const { client, paths } = probe();
    const attachmentId = await upload();
    const request = shareRequest(attachmentId);

    const r: DocumentShareResponse = await client.post(request);

    assert.deepEqual(paths, ['/api/DocumentShareCreateRequest']);
    const one = only(r);
    assert.ok(Number.isInteger(one.DocumentShareId) && one.DocumentShareId >= 1);
    assert.match(one.DocumentShareUID, HEX32);
    assert.match(one.TokenHash, HEX64);
    assert.equal(one.AttachmentId, attachmentId);
    assert.equal(one.AttachmentName, 'policy.pdf');
    assert.deepEqual([one.SensitivityTier, one.RequireOtp, one.OtpChannel], ['Confidential', true, 'Email']);
    assert.equal(one.RecipientEmail, request.RecipientEmail);
    assert.equal(one.RecipientContactId, undefined, 'RecipientContactId 0 names no contact');
    assert.deepEqual([one.RecipientType, one.Status], ['AdHoc', 'Active']);
    assert.equal(one.MaxViews, 20, 'MaxViews 0 takes the tier default');
    assert.equal(one.ViewCount, 0);
    assert.match(one.CreatedAtUtc, ISO_UTC);
    assert.match(one.ExpiresAtUtc, ISO_UTC);
    assert.equal(Date.parse(one.ExpiresAtUtc) - Date.parse(one.CreatedAtUtc), 72 * HOUR_MS);
    assert.ok(r.ShareUrl.startsWith(`${BASE_URL}/share/`), r.ShareUrl);
});

test('list, resend, log and revoke a share by its number', async () => {
    const { client, paths } = probe();
    const attachmentId = await upload('claim.txt', 'a claim');
    const first: DocumentShareResponse = await client.post(shareRequest(attachmentId));
    const second: DocumentShareResponse = await client.post(
        shareRequest(attachmentId, { SensitivityTier: 'Restricted', MaxViews: 2 }));
    assert.equal(only(second).SensitivityTier, 'Restricted');

    const listed: DocumentShareResponse = await client.get(
        new DocumentShareListRequest({ AttachmentId: attachmentId }));
    assert.equal(paths.at(-1), `/api/DocumentShareListRequest?AttachmentId=${attachmentId}`);
    assert.deepEqual(Object.keys(listed), ['DocumentShare'], 'no ShareUrl without a new token');
    assert.deepEqual(listed.DocumentShare, [only(second), only(first)]);

    const id = only(first).DocumentShareId;
    const resent: DocumentShareResponse = await client.post(
        new DocumentShareResendRequest({ DocumentShareId: id }));
    assert.equal(paths.at(-1), '/api/DocumentShareResendRequest');
    assert.equal(only(resent).DocumentShareId, id);
    assert.notEqual(only(resent).TokenHash, only(first).TokenHash);
    assert.notEqual(resent.ShareUrl, first.ShareUrl);

    const revoked: DocumentShareResponse = await client.post(
        new DocumentShareRevokeRequest({ DocumentShareId: id }));
    assert.equal(paths.at(-1), '/api/DocumentShareRevokeRequest');
    assert.equal(only(revoked).Status, 'Revoked');
    assert.match(only(revoked).RevokedAtUtc!, ISO_UTC);

    const log: DocumentShareLogResponse = await client.get(
        new DocumentShareLogRequest({ DocumentShareId: id }));
    assert.equal(paths.at(-1), `/api/DocumentShareLogRequest?DocumentShareId=${id}`);
    assert.deepEqual(log.AccessLog.map(row => row.EventType), ['Created', 'Resent', 'Revoked']);
    for (const row of log.AccessLog) {
        assert.equal(row.DocumentShareId, id);
        assert.ok(Number.isInteger(row.DocumentShareAccessLogId));
        assert.match(row.CreatedAtUtc, ISO_UTC);
    }

    const again = await rejection(client.post(new DocumentShareResendRequest({ DocumentShareId: id })));
    assert.equal(again.responseStatus.errorCode, 'Conflict');
});

test('a tier weaker than the policy\'s is refused on its field', async () => {
    const attachmentId = await upload();
    const e = await rejection(apiClient().post(shareRequest(attachmentId, { SensitivityTier: 'Standard' })));

    assert.deepEqual(e.responseStatus.errors.map(x => x.fieldName), ['SensitivityTier']);
});
