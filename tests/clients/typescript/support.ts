// What every TypeScript client suite needs: where the server is, its key, a configured
// official client, fresh resource ids and the error a failed call rejects with. One place,
// so a suite file holds only its own tests. Needs CUSTOMERLINK_URL and CUSTOMERLINK_KEY
// (tests/clients/run.sh sets them).

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { JsonServiceClient } from '@servicestack/client';

function env(name: string): string {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is not set (tests/clients/run.sh sets it)`);
    return value;
}

export const BASE_URL = env('CUSTOMERLINK_URL').replace(/\/+$/, '');
export const API_KEY = env('CUSTOMERLINK_KEY');

/** A client of the server, with the API key as Bearer token unless `withKey` is false. */
export function apiClient(withKey = true): JsonServiceClient {
    const client = new JsonServiceClient(BASE_URL);
    if (withKey) client.bearerToken = API_KEY;
    return client;
}

/** A new N-form Guid for a resource no other test uses. */
export const newResourceUid = () => randomUUID().replaceAll('-', '');

/** A recipient address no other test uses. */
export const newEmail = () => `ann.${randomUUID().slice(0, 8)}@example.com`;

/** A field error as the client hands it back (it camel-cases the keys). */
export interface FieldError {
    errorCode: string;
    fieldName: string;
    message: string;
    meta?: Record<string, string>;
}

/** What the client rejects with when the server answers with an error status. */
export interface ClientError {
    responseStatus: { errorCode: string; message: string; errors: FieldError[] };
}

/** Awaits a call that must fail; returns what it rejected with. */
export async function rejection(promise: Promise<unknown>): Promise<ClientError> {
    try {
        await promise;
    } catch (e) {
        return e as ClientError;
    }
    assert.fail('the request succeeded but an error was expected');
}
