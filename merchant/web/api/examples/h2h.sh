#!/usr/bin/env bash
# The H2H API from a shell: curl sends, openssl signs. Set BASE_URL (the shop), KEY_ID and
# SECRET (your key), and SKU (a package code from the price list); then run it.
set -euo pipefail
: "${BASE_URL:?}" "${KEY_ID:?}" "${SECRET:?}" "${SKU:?}"
REF_ID="${REF_ID:-INV-$(date +%s)}"

# api METHOD PATH [BODY]: one signed request.
api() {
  local method=$1 path=$2 body=${3:-} stamp nonce body_hash signature
  stamp=$(date +%s)
  nonce=$(openssl rand -hex 12)
  body_hash=$(printf '%s' "$body" | openssl dgst -sha256 -hex | sed 's/^.* //')
  signature=$(printf '%s\n%s\n%s\n%s\n%s' "$method" "$path" "$stamp" "$nonce" "$body_hash" \
    | openssl dgst -sha256 -hmac "$SECRET" -hex | sed 's/^.* //')
  local args=(-sS -X "$method" "$BASE_URL$path" -H "X-Key-Id: $KEY_ID"
              -H "X-Timestamp: $stamp" -H "X-Nonce: $nonce" -H "X-Signature: $signature")
  if [ -n "$body" ]; then args+=(-H "Content-Type: application/json" --data "$body"); fi
  curl "${args[@]}"
  echo
}

api GET /api/v1/profile
api GET "/api/v1/products?code=$SKU"
api POST /api/v1/orders \
  '{"ref_id":"'"$REF_ID"'","sku":"'"$SKU"'","account":{"user_id":"12345678","zone_id":"1234"}}'
sleep 2
api GET "/api/v1/orders/$REF_ID"
