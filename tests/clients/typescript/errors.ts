// Errors as the official ServiceStack TypeScript client (@servicestack/client JsonServiceClient)
// reads them (issue 11 items 5 and 7): FluentValidation's messages and `meta`, and ServiceStack's
// bind and 405 texts, through the client's own error object (`responseStatus`).
//
// Needs CUSTOMERLINK_URL and CUSTOMERLINK_KEY; `tests/clients/run.sh` sets them.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CustomerLinkCreateRequest, CustomerLinkQueryRequest, CustomerLinkRequest } from './dtos.js';
import { apiClient, newResourceUid, rejection } from './support.js';


test('validation errors carry FluentValidation meta and split property names', async () => {
    const e = await rejection(apiClient().post(new CustomerLinkCreateRequest({
        ResourceType: 'Quote', ResourceUid: newResourceUid(),
        RecipientEmail: 'not-an-email', MaxViews: 0 })));

    const status = e.responseStatus;
    assert.ok(status, `no responseStatus in ${JSON.stringify(e)}`);
    const byField = Object.fromEntries(status.errors.map(x => [x.fieldName, x]));
    assert.equal(byField.RecipientEmail.message, "'Recipient Email' is not a valid email address.");
    // The server writes Meta keys as FluentValidation names them (PropertyName, …); this client
    // camelCases every key of the ResponseStatus it hands back, Meta's included.
    assert.deepEqual(byField.RecipientEmail.meta,
        { propertyName: 'Recipient Email', propertyValue: 'not-an-email' });
    assert.equal(byField.MaxViews.errorCode, 'InclusiveBetween');
    assert.equal(byField.MaxViews.message, "'Max Views' must be between 1 and 50. You entered 0.");
    assert.deepEqual(byField.MaxViews.meta,
        { from: '1', to: '50', propertyName: 'Max Views', propertyValue: '0' });
});

test('a value that does not bind is named as sent', async () => {
    const e = await rejection(apiClient().get(
        new CustomerLinkQueryRequest({ Take: 'abc' as unknown as number })));

    const status = e.responseStatus;
    assert.equal(status.errorCode, 'SerializationException');
    assert.equal(status.message, "Unable to bind to request 'CustomerLinkQueryRequest'");
    assert.deepEqual(status.errors.map(x => [x.errorCode, x.fieldName, x.message]),
        [['SerializationException', 'Take', "'abc' is an Invalid value for 'Take'"]]);
});

test('a wrong verb names the method and the service', async () => {
    const e = await rejection(apiClient().put(
        new CustomerLinkRequest({ CustomerLinkUID: newResourceUid() })));

    assert.equal(e.responseStatus.errorCode, 'NotImplementedException');
    assert.equal(e.responseStatus.message,
        'Could not find method named Put(CustomerLinkRequest) or Any(CustomerLinkRequest) ' +
        'on Service CustomerLinkService');
});
