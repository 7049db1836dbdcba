#!/usr/bin/env bash
# curl with JSV bodies, as the seed page shows them: the sample verbatim (all placeholders, so
# refused field by field in JSV), then filled in and pretty-printed, then compact as a JSV
# client writes it — both accepted. Needs CUSTOMERLINK_URL and CUSTOMERLINK_KEY (run.sh
# exports them).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
sample="$here/../fixtures/seed-create-request.jsv"
fail() { echo "curl_jsv: $*" >&2; exit 1; }
post() {
    curl -sS -o /tmp/curl_jsv.body -w '%{http_code} %{content_type}' -X POST "$CUSTOMERLINK_URL/v1/customerlink" \
        -H "Authorization: Bearer $CUSTOMERLINK_KEY" -H 'Accept: text/jsv' -H 'Content-Type: text/jsv' \
        --data-binary @-
}
got="$(post < "$sample")"
[[ "$got" == "400 application/jsv" ]] || fail "verbatim sample: $got $(cat /tmp/curl_jsv.body)"
for field in ResourceUid RecipientEmail ExpiresInHours MaxViews; do
    grep -q "FieldName:$field" /tmp/curl_jsv.body || fail "verbatim sample: no error for $field: $(cat /tmp/curl_jsv.body)"
done
filled="$(sed -e 's/ResourceType: String/ResourceType: Quote/' \
    -e 's/ResourceUid: 00000000000000000000000000000000/ResourceUid: 0f1e2d3c4b5a69788796a5b4c3d2e1f0/' \
    -e 's/RecipientEmail: String/RecipientEmail: ann@example.com/' \
    -e 's/RecipientPhone: String/RecipientPhone: +15551234567/' \
    -e 's/ExpiresInHours: 0/ExpiresInHours: 24/' -e 's/MaxViews: 0/MaxViews: 3/' "$sample")"
got="$(printf '%s' "$filled" | post)"
[[ "$got" == "200 application/jsv" ]] || fail "pretty sample: $got $(cat /tmp/curl_jsv.body)"
grep -q 'RecipientEmail:ann@example.com' /tmp/curl_jsv.body || fail "pretty sample: $(cat /tmp/curl_jsv.body)"
# Compact as ServiceStack's writer (and so JsvServiceClient) writes it: no blank after ':'.
# On one line a blank after ':' belongs to the value, as in ServiceStack.
got="$(printf '%s' "$filled" | tr -d '\n' | sed -e 's/: /:/g' | post)"
[[ "$got" == "200 application/jsv" ]] || fail "compact sample: $got $(cat /tmp/curl_jsv.body)"
grep -q 'MaxViews:3' /tmp/curl_jsv.body || fail "compact sample: $(cat /tmp/curl_jsv.body)"
echo "curl_jsv: verbatim, pretty and compact JSV samples behave"
