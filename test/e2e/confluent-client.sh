#!/usr/bin/env bash
# A Confluent REST Proxy v2 client in the shape of Confluent's quickstart: curl
# only, the documented media types, bodies and request order, nothing that is
# specific to kafka-gateway. For each embedded format (binary, json, avro):
# produce, create a consumer instance with that format, subscribe, read the
# records with the matching Accept type, commit the offsets, delete the instance.
#
# Usage: confluent-client.sh [BASE_URL] [BINARY_TOPIC] [JSON_TOPIC] [AVRO_TOPIC]
#   defaults: http://localhost:8082 (Confluent's port) binarytest jsontest avrotest
#
# Output, one line per request, for a caller to check:
#   HTTP <status> <METHOD> <path>
#   BODY <response body>
# and, for every read of records, RECORDS <format> <the JSON array read>.
set -euo pipefail

BASE_URL=${1:-http://localhost:8082}
BINARY_TOPIC=${2:-binarytest}
JSON_TOPIC=${3:-jsontest}
AVRO_TOPIC=${4:-avrotest}

V2=application/vnd.kafka.v2+json
INSTANCE=my_consumer_instance

LAST_BODY=''

# call METHOD PATH [curl options…]: one request, its status and body printed.
call() {
  local method=$1 path=$2
  shift 2
  local out status
  out=$(curl --silent --show-error -X "$method" "$@" --write-out '\n%{http_code}' "${BASE_URL}${path}")
  status=${out##*$'\n'}
  LAST_BODY=${out%$'\n'*}
  echo "HTTP ${status} ${method} ${path}"
  echo "BODY ${LAST_BODY//$'\n'/ }"
}

# consume FORMAT TOPIC: the consumer side of the quickstart for one format.
consume() {
  local format=$1 topic=$2
  local group="${topic}_consumer"
  local instance_path="/consumers/${group}/instances/${INSTANCE}"

  call POST "/consumers/${group}" -H "Content-Type: ${V2}" \
    --data "{\"name\": \"${INSTANCE}\", \"format\": \"${format}\", \"auto.offset.reset\": \"earliest\"}"
  call POST "${instance_path}/subscription" -H "Content-Type: ${V2}" \
    --data "{\"topics\":[\"${topic}\"]}"

  # The first reads of a new consumer may come back empty while it joins: read again, as the docs say.
  local attempt
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    call GET "${instance_path}/records" -H "Accept: application/vnd.kafka.${format}.v2+json"
    echo "RECORDS ${format} ${LAST_BODY//$'\n'/ }"
    if [[ $LAST_BODY != '[]' ]]; then break; fi
  done

  # No body: commit every record this instance was given.
  call POST "${instance_path}/offsets" -H "Content-Type: ${V2}"
  call DELETE "${instance_path}" -H "Content-Type: ${V2}"
}

# Binary: keys and values are base64 ("key-1" / "first record", "key-2" / "second record").
call POST "/topics/${BINARY_TOPIC}" -H "Content-Type: application/vnd.kafka.binary.v2+json" \
  -H "Accept: ${V2}" \
  --data '{"records":[{"key":"a2V5LTE=","value":"Zmlyc3QgcmVjb3Jk"},{"key":"a2V5LTI=","value":"c2Vjb25kIHJlY29yZA=="}]}'
consume binary "$BINARY_TOPIC"

# JSON: values are any JSON document.
call POST "/topics/${JSON_TOPIC}" -H "Content-Type: application/vnd.kafka.json.v2+json" \
  -H "Accept: ${V2}" \
  --data '{"records":[{"value":{"city":"Lisbon","visits":3}},{"value":["a",1,null]}]}'
consume json "$JSON_TOPIC"

# Avro: the value schema travels with the records as a string and is registered with the registry.
call POST "/topics/${AVRO_TOPIC}" -H "Content-Type: application/vnd.kafka.avro.v2+json" \
  -H "Accept: ${V2}" \
  --data '{"value_schema": "{\"type\": \"record\", \"name\": \"Visit\", \"fields\": [{\"name\": \"city\", \"type\": \"string\"}, {\"name\": \"visits\", \"type\": \"int\"}]}", "records": [{"value": {"city": "Porto", "visits": 2}}, {"value": {"city": "Faro", "visits": 7}}]}'
consume avro "$AVRO_TOPIC"
