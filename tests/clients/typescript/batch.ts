// ServiceStack AutoBatch with the official TypeScript client (issue 11 item 2): `sendAll` posts
// an array of request DTOs to `/api/{Op}[]` and reads the array of replies; `sendAllOneWay`
// posts to the same route. The first failure stops the batch and rejects with the failing
// index in `responseStatus.meta` (the client camel-cases error bodies, keys included).
// Needs CUSTOMERLINK_URL and CUSTOMERLINK_KEY (run.sh sets them).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JsonServiceClient } from '@servicestack/client';
import {
    CustomerLinkCreateRequest,
    CustomerLinkCreateResponse,
    CustomerLinkQueryRequest,
    CustomerLinkRequest,
    CustomerLinkResponse,
    CustomerLinkListResponse,
} from './dtos.js';
import { BASE_URL, apiClient, newEmail, newResourceUid } from './support.js';


interface Seen {
    client: JsonServiceClient;
    paths: string[];
    completed: (string | null)[];
}

function makeClient(): Seen {
    const client = apiClient();
    client.headers.set('User-Agent', 'AcmeBatcher/1.0');
    const seen: Seen = { client, paths: [], completed: [] };
    client.urlFilter = (url: string) => { seen.paths.push(url.slice(BASE_URL.length)); };
    client.responseFilter = (res: Response) => { seen.completed.push(res.headers.get('X-AutoBatch-Completed')); };
    return seen;
}

const createRequest = (resourceUid = newResourceUid()) => new CustomerLinkCreateRequest({
    ResourceType: 'Quote',
    ResourceUid: resourceUid,
    RecipientEmail: newEmail(),
});

test('sendAll answers every reply in order', async () => {
    const { client, paths, completed } = makeClient();
    const requests = [createRequest(), createRequest(), createRequest()];
    const responses: CustomerLinkCreateResponse[] = await client.sendAll(requests);

    assert.deepEqual(paths, ['/api/CustomerLinkCreateRequest[]']);
    assert.deepEqual(completed, ['3']);
    assert.deepEqual(responses.map(r => r.Link.ResourceUid), requests.map(r => r.ResourceUid));
    const ids = responses.map(r => r.Link.CustomerLinkId);
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b));

    const fetched: CustomerLinkResponse[] = await client.sendAll(
        responses.map(r => new CustomerLinkRequest({ CustomerLinkUID: r.Link.CustomerLinkUID })));
    assert.deepEqual(fetched.map(r => r.Link.CustomerLinkId), ids);

    // Member-less requests in a batch stay PascalCase for this client too.
    const lists: CustomerLinkListResponse[] = await client.sendAll([new CustomerLinkQueryRequest()]);
    assert.ok(Number.isInteger(lists[0].Total), JSON.stringify(lists));
});

test('sendAll stops at the first failure', async () => {
    const { client, completed } = makeClient();
    const bad = new CustomerLinkCreateRequest({ ResourceType: 'Quote', RecipientEmail: 'a@b.co' });
    let error: any;
    try {
        await client.sendAll([createRequest(), bad, createRequest()]);
    } catch (e) {
        error = e;
    }
    assert.ok(error?.responseStatus, `expected a rejection, got ${JSON.stringify(error)}`);
    assert.deepEqual(error.responseStatus.meta, { autoBatchIndex: '1' });
    assert.deepEqual(error.responseStatus.errors.map((e: any) => e.fieldName), ['ResourceUid']);
    assert.deepEqual(completed, ['1']);
});

test('sendAllOneWay runs every request', async () => {
    const { client, paths, completed } = makeClient();
    const uid = newResourceUid();
    await client.sendAllOneWay([createRequest(uid), createRequest(uid)]);
    assert.deepEqual(paths, ['/api/CustomerLinkCreateRequest[]']);
    assert.deepEqual(completed, ['2']);
});
