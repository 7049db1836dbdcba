// Reply casing with the official TypeScript client (issue 11 item 1), whatever its User-Agent.
//
// The client sends PascalCase members to `/api/{Op}` with no Accept header, and hands back the
// parsed JSON as is to PascalCase DTOs: member-less calls (a DTO with no member set, a string
// URL) must come back PascalCase too, and its errors (which it reads in either casing) must
// carry the ResponseStatus. Needs CUSTOMERLINK_URL and CUSTOMERLINK_KEY (run.sh sets them).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JsonServiceClient } from '@servicestack/client';
import {
    CustomerLinkCreateRequest,
    CustomerLinkCreateResponse,
    CustomerLinkListResponse,
    CustomerLinkQueryRequest,
    CustomerLinkRequest,
    CustomerLinkResponse,
} from './dtos.js';
import { apiClient, newResourceUid, rejection } from './support.js';

const AGENTS = ['AcmeIntegration/2.0', 'python-requests/2.34.2', 'node'];

function makeClient(agent: string): JsonServiceClient {
    const client = apiClient();
    client.headers.set('User-Agent', agent);
    return client;
}

for (const agent of AGENTS) {
    test(`member-less calls read PascalCase (User-Agent ${agent})`, async () => {
        const client = makeClient(agent);
        const created: CustomerLinkCreateResponse = await client.post(new CustomerLinkCreateRequest({
            ResourceType: 'Quote',
            ResourceUid: newResourceUid(),
            RecipientEmail: 'ann@example.com',
        }));
        const uid = created.Link.CustomerLinkUID;

        const all: CustomerLinkListResponse = await client.get(new CustomerLinkQueryRequest());
        assert.ok(Number.isInteger(all.Total) && all.Total! >= 1, JSON.stringify(all));
        assert.ok(all.Links.some(l => l.CustomerLinkUID === uid));

        const byUrl: CustomerLinkResponse = await client.get(`/v1/customerlink/${uid}`);
        assert.equal(byUrl.Link.CustomerLinkUID, uid);
        const byApi: CustomerLinkResponse = await client.get(`/api/CustomerLinkQueryRequest`);
        assert.ok(Array.isArray((byApi as unknown as CustomerLinkListResponse).Links));

        const one: CustomerLinkResponse = await client.get(new CustomerLinkRequest({ CustomerLinkUID: uid }));
        assert.equal(one.Link.CustomerLinkUID, uid);
    });

    test(`member-less errors carry their ResponseStatus (User-Agent ${agent})`, async () => {
        const client = makeClient(agent);
        const e = await rejection(client.post(new CustomerLinkCreateRequest()));
        assert.ok(e.responseStatus?.errorCode, JSON.stringify(e));
        const fields = e.responseStatus.errors.map(x => x.fieldName);
        assert.ok(fields.includes('ResourceUid'), JSON.stringify(fields));

        const missing = await rejection(client.get(`/api/NoSuchRequest`));
        assert.equal(missing.responseStatus.errorCode, 'NotFound');
    });
}
