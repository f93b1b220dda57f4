"""The local emulator's front door: a loopback HTTP proxy in front of moto server.

It forwards every request to moto unchanged, except:

- CloudWatch over Smithy RPC v2 CBOR (POST /service/GraniteServiceVersion20100801/operation/<Op>),
  which the AWS SDK for Rust speaks and moto 5.2 does not: decoded with botocore's own CloudWatch
  model, re-encoded as the AWS JSON 1.0 protocol that moto serves, and moto's answer encoded back
  to CBOR. Types (timestamps, doubles, lists) come from the service model, so nothing is guessed.
- Seeded answers for what moto 5.2 does not serve (or serves with a placeholder), read at request
  time from JSON files in the seed directory (--seed-dir, else $FLEETOPT_EMULATOR_SEED_DIR, else
  .emulator/seed in the repository):
    ce:GetCostForecast, ce:GetReservationPurchaseRecommendation,
    ce:GetSavingsPlansPurchaseRecommendation   ce/<Operation>.json: the whole response body;
                                               no file -> DataUnavailableException (400)
    ce:ListCostAllocationTags                  ce/ListCostAllocationTags.json: the whole
                                               response body; no file -> no tag known
    pricing:GetProducts                        pricing/products.json: list of price list items
    ec2:DescribeSpotPriceHistory               ec2/spot-price-history.json: list of prices
  A file under keys/<AccessKeyId>/ in the seed directory wins over the shared one for requests
  signed with that access key id (tests running in parallel can each use their own key).
  ce:GetCostAndUsage stays with moto: seed it with scripts/lib/seed_costs.py.
- Faults and latency on request, for the requests that match a rule (see ADMIN below).

ADMIN (loopback only; never forwarded to moto; JSON in and out):
  POST   /_fleetopt/faults   {"operation": "ce:GetCostForecast" | "ec2:*" | "*", "latencyMs": 200,
                              "throttle": 2, "serverError": 1, "reset": 1, "accessKeyId": "AKID",
                              "throttleCode": "LimitExceededException", "error": 1,
                              "errorCode": "AccessDeniedException", "errorMessage": "...",
                              "errorStatus": 400}   (or a list of those)
         sets (replaces) the rule for that operation (and access key id): the next `throttle`
         matching requests get the protocol's throttling error, then `serverError` get a 500,
         then `error` get the error errorCode (required with error) with errorMessage (default
         "injected by the emulator proxy") and HTTP status errorStatus (default 400), then
         `reset` get their connection reset without an answer; `latencyMs` delays every
         matching request until the rule is cleared. A request follows the most specific rule
         that matches it: service:Operation, then service:*, then *; with accessKeyId before
         without at each level.
         Rates instead of (or after) counts: "rates": {"throttle": 0.05, "serverError": 0.02,
         "reset": 0.01, "error": 0.01} fault that share of the matching requests at random,
         and "spikeRate": 0.05 with "spikeMs": 500 adds a latency spike to that share; "seed"
         (default 0) makes the draws repeatable. Counts go first, then the rates.
  GET    /_fleetopt/faults   rules, pending faults and counters of what was injected
  DELETE /_fleetopt/faults   clears every rule (?operation=X clears that operation's rules,
                             ?operation=X&accessKeyId=K only the one for that access key id)
  POST   /_fleetopt/generator   {"enabled": true} answers cloudwatch:GetMetricData and
                             GetMetricStatistics (over CBOR) from metrics_generator.py instead of
                             moto, for benchmarks; {"enabled": false} (or DELETE) goes back to moto
  GET    /_fleetopt/generator   whether it is on
  GET    /_fleetopt/calls    requests seen per operation since start or the last DELETE
  DELETE /_fleetopt/calls    resets those counts
  GET    /_fleetopt/         the proxy's settings (seed directory, upstream port)
Operations are named <service>:<Operation>, the service being the SigV4 credential scope's
(signing name), with CloudWatch's "monitoring" named "cloudwatch"; the operation comes from
X-Amz-Target, the CBOR path or the query Action. REST-protocol requests have no operation name
here: only "<service>:*" and "*" rules match them. Requests to moto's own /moto-api/ are
neither faulted nor counted.

Usage: emulator_proxy.py --listen PORT --upstream PORT [--seed-dir DIR]   (all on 127.0.0.1)
"""
import argparse
import base64
import fnmatch
import gzip
import hashlib
import http.client
import ipaddress
import json
import os
import random
import re
import socket
import struct
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

from botocore.parsers import JSONParser, RpcV2CBORParser
from botocore.serialize import JSONSerializer, RpcV2CBORSerializer
from botocore.session import get_session

import metrics_generator

ROOT = Path(__file__).resolve().parents[2]
CBOR_PATH = re.compile(r"^/service/(?P<service>[A-Za-z0-9]+)/operation/(?P<operation>[A-Za-z0-9]+)$")
# Smithy service ids of the CBOR services we translate, and their botocore names.
CBOR_SERVICES = {"GraniteServiceVersion20100801": "cloudwatch"}
# DynamoDB's writes: those of one item made one at a time, so that conditions hold as on DynamoDB.
DYNAMODB_ITEM_WRITES = {f"dynamodb:{op}" for op in ("PutItem", "UpdateItem", "DeleteItem")}
DYNAMODB_WRITES = DYNAMODB_ITEM_WRITES | {"dynamodb:BatchWriteItem", "dynamodb:TransactWriteItems"}
# Calls after which a table's key schema may have changed.
DYNAMODB_TABLE_CHANGES = {"dynamodb:CreateTable", "dynamodb:DeleteTable"}
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
              "proxy-authorization", "proxy-authenticate", "host", "content-length"}
CREDENTIAL = re.compile(r"Credential=(?P<key>[^/,\s]+)/\d{8}/(?P<region>[^/]+)/(?P<service>[^/,\s]+)/aws4_request")
# Signing names that differ from the name we give the service in operation names.
SERVICE_ALIASES = {"monitoring": "cloudwatch"}
# Unsigned JSON requests: the service from the X-Amz-Target prefix.
TARGET_PREFIXES = {"AWSInsightsIndexService": "ce", "AWSPriceListService": "pricing",
                   "DynamoDB_20120810": "dynamodb", "GraniteServiceVersion20100801": "cloudwatch"}
EC2_NS = "http://ec2.amazonaws.com/doc/2016-11-15/"

_models = {}
_models_lock = threading.Lock()


class ItemLocks:
    """DynamoDB evaluates a write's condition and applies it atomically; moto's threaded server
    does not (two concurrent conditional updates of one item can both pass). These locks order
    the writes of each item, as DynamoDB does, and let writes of different items run at the same
    time. A write of several items (BatchWriteItem, TransactWriteItems), or one whose item cannot
    be named, runs alone: after the writes in flight, before any other starts."""

    def __init__(self):
        self._changed = threading.Condition()
        self._writing = set()  # the items being written
        self._alone = False  # a write that runs alone is in flight
        self._queued_alone = 0  # ... or waits: new item writes wait behind it

    def item(self, key):
        return _Held(self, key)

    def alone(self):
        return _Held(self, None)

    def _acquire(self, key):
        with self._changed:
            if key is None:
                self._queued_alone += 1
                self._changed.wait_for(lambda: not self._alone and not self._writing)
                self._queued_alone -= 1
                self._alone = True
            else:
                self._changed.wait_for(
                    lambda: not self._alone and not self._queued_alone and key not in self._writing)
                self._writing.add(key)

    def _release(self, key):
        with self._changed:
            if key is None:
                self._alone = False
            else:
                self._writing.discard(key)
            self._changed.notify_all()

    def in_flight(self):
        """How many item writes hold their lock now (for the tests)."""
        with self._changed:
            return len(self._writing)


class _Held:
    def __init__(self, locks, key):
        self.locks, self.key = locks, key

    def __enter__(self):
        self.locks._acquire(self.key)  # noqa: SLF001

    def __exit__(self, *exc):
        self.locks._release(self.key)  # noqa: SLF001


def item_key(operation, body, key_schema):
    """The item a PutItem, UpdateItem or DeleteItem writes: (table, its key attributes as
    canonical JSON), or None when the request does not name one. `key_schema(table)` gives a
    table's key attribute names (PutItem carries the whole item, keys among the rest)."""
    try:
        request = json.loads(body or b"{}")
        table = request["TableName"]
        if operation == "PutItem":
            names = key_schema(table)
            if not names:
                return None
            key = {name: request["Item"][name] for name in names}
        else:
            key = request["Key"]
    except (ValueError, KeyError, TypeError):
        return None
    return table, json.dumps(key, sort_keys=True)


def model(service):
    with _models_lock:
        if service not in _models:
            _models[service] = get_session().get_service_model(service)
        return _models[service]


def request_id():
    return str(uuid.uuid4())


# --------------------------------------------------------------------------------------------
# What a request is: service, operation, protocol, access key id.


class Call:
    def __init__(self, service, operation, protocol, access_key, form=None, cbor=None,
                 content_type="", query_mode=False):
        self.service = service
        self.operation = operation
        self.protocol = protocol  # json | cbor | ec2 | query | rest
        self.access_key = access_key
        self.form = form or {}
        self.cbor = cbor  # (botocore service, operation) for the CBOR translation
        self.content_type = content_type  # a JSON request's: its errors answer in the same
        self.query_mode = query_mode  # awsQueryCompatible (x-amzn-query-mode): errors carry the query code

    @property
    def name(self):
        return f"{self.service}:{self.operation or '*'}"


def identify(method, path, headers, body):
    service, access_key = "", None
    query_mode = (headers.get("x-amzn-query-mode") or "").lower() == "true"
    found = CREDENTIAL.search(headers.get("Authorization") or "")
    if found:
        service = SERVICE_ALIASES.get(found["service"].lower(), found["service"].lower())
        access_key = found["key"]
    split = urlsplit(path)
    cbor = CBOR_PATH.match(split.path)
    if method == "POST" and cbor:
        botocore_name = CBOR_SERVICES.get(cbor["service"])
        return Call(service or botocore_name or "unknown", cbor["operation"], "cbor", access_key,
                    cbor=(botocore_name, cbor["operation"]) if botocore_name else None,
                    query_mode=query_mode)
    target = headers.get("X-Amz-Target")
    if target and "." in target:
        prefix, operation = target.rsplit(".", 1)
        return Call(service or TARGET_PREFIXES.get(prefix, "unknown"), operation, "json", access_key,
                    content_type=headers.get("Content-Type") or "", query_mode=query_mode)
    form = {}
    if split.query:
        form.update(parse_qs(split.query, keep_blank_values=True))
    content_type = (headers.get("Content-Type") or "").lower()
    if body and content_type.startswith("application/x-www-form-urlencoded"):
        try:
            form.update(parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False))
        except UnicodeDecodeError:
            pass
    action = (form.get("Action") or [""])[0]
    if action:
        if not service and (form.get("Version") or [""])[0] == "2016-11-15":
            service = "ec2"
        form = {k: v[-1] for k, v in form.items()}
        return Call(service or "unknown", action, "ec2" if service == "ec2" else "query", access_key,
                    form=form)
    return Call(service or "unknown", "", "rest", access_key)


# --------------------------------------------------------------------------------------------
# Errors in each protocol's shape: (status, headers, body).


class _StringMap:
    """The shape of an error body: a map of strings, for botocore's CBOR map serializer."""
    type_name = "map"

    class _String:
        type_name = "string"

    key = _String()
    value = _String()


def cbor_map(fields):
    out = bytearray()
    RpcV2CBORSerializer()._serialize_type_map(out, fields, _StringMap(), None)
    return bytes(out)


def error_response(call, status, code, message, sender=True):
    rid = request_id()
    fault = "Sender" if sender else "Receiver"
    if call.protocol == "ec2":
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
                f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
                f"</Error></Errors><RequestID>{rid}</RequestID></Response>")
        return status, [("Content-Type", "text/xml;charset=UTF-8")], body.encode()
    if call.protocol == "query":
        body = (f"<ErrorResponse><Error><Type>{fault}</Type><Code>{escape(code)}</Code>"
                f"<Message>{escape(message)}</Message></Error>"
                f"<RequestId>{rid}</RequestId></ErrorResponse>")
        return status, [("Content-Type", "text/xml"), ("x-amzn-RequestId", rid)], body.encode()
    query_error = [("x-amzn-query-error", f"{query_code(code)};{fault}")] if call.query_mode else []
    if call.protocol == "cbor":
        namespace = call.cbor[0] if call.cbor else call.service
        body = cbor_map({"__type": f"com.amazonaws.{namespace}#{code}", "message": message})
        return status, [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor"),
                        ("x-amzn-RequestId", rid)] + query_error, body
    content_type = "application/json"
    if call.protocol == "json":
        content_type = (call.content_type if call.content_type.startswith("application/x-amz-json")
                        else "application/x-amz-json-1.1")
    body = json.dumps({"__type": code, "message": message}).encode()
    return status, [("Content-Type", content_type), ("x-amzn-ErrorType", code),
                    ("x-amzn-RequestId", rid)] + query_error, body


def query_code(code):
    """The awsQuery code of an error, for awsQueryCompatible services (CloudWatch)."""
    return {"ThrottlingException": "Throttling"}.get(code, code)


def throttle_error(call, code=None):
    if call.protocol == "ec2":
        return error_response(call, 503, code or "RequestLimitExceeded", "Request limit exceeded.")
    if call.protocol == "query":
        return error_response(call, 400, code or "Throttling", "Rate exceeded")
    if call.protocol == "rest":
        return error_response(call, 429, code or "TooManyRequestsException", "Rate exceeded")
    return error_response(call, 400, code or "ThrottlingException", "Rate exceeded")


def server_error(call):
    code = "InternalError" if call.protocol == "ec2" else "InternalFailure"
    return error_response(call, 500, code,
                          "The request processing has failed because of an unknown error "
                          "(injected by the emulator proxy).", sender=False)


# --------------------------------------------------------------------------------------------
# Faults: rules set through the admin API, applied to matching requests.

FAULT_KINDS = ("throttle", "serverError", "error", "reset")
ERROR_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9.]{0,127}$")
OPERATION_RULE = re.compile(r"^(\*|[a-z0-9.-]+:(\*|[A-Za-z0-9]+))$")


class FaultError(ValueError):
    pass


class Faults:
    def __init__(self):
        self.lock = threading.Lock()
        self.rules = {}  # (operation, accessKeyId or None) -> rule
        self.draws = {}  # the same key -> its random.Random, for rates
        self.calls = {}

    @staticmethod
    def _normalize(operation):
        if operation == "*":
            return operation
        service, op = operation.split(":", 1)
        return f"{SERVICE_ALIASES.get(service, service)}:{op}"

    @classmethod
    def parse(cls, spec):
        """A rule from its JSON form; FaultError says what is wrong with it."""
        if not isinstance(spec, dict):
            raise FaultError("a fault rule is a JSON object")
        known = {"operation", "latencyMs", "accessKeyId", "throttleCode", "errorCode",
                 "errorMessage", "errorStatus", "rates", "spikeRate", "spikeMs", "seed",
                 *FAULT_KINDS}
        unknown = sorted(set(spec) - known)
        if unknown:
            raise FaultError(f"unknown member(s) {unknown}; known: {sorted(known)}")
        operation = spec.get("operation")
        if not isinstance(operation, str) or not OPERATION_RULE.match(operation):
            raise FaultError("operation must be '<service>:<Operation>', '<service>:*' or '*'")
        rule = {"operation": cls._normalize(operation), "accessKeyId": spec.get("accessKeyId"),
                "latencyMs": 0, "throttleCode": spec.get("throttleCode"),
                "errorCode": spec.get("errorCode"),
                "errorMessage": spec.get("errorMessage", "injected by the emulator proxy"),
                "errorStatus": spec.get("errorStatus", 400),
                "pending": {}, "injected": {kind: 0 for kind in FAULT_KINDS},
                "delayed": 0, "matched": 0}
        for key in ("accessKeyId", "throttleCode", "errorCode", "errorMessage"):
            if rule[key] is not None and (not isinstance(rule[key], str) or not rule[key]):
                raise FaultError(f"{key} must be a non-empty string")
        latency = spec.get("latencyMs", 0)
        if isinstance(latency, bool) or not isinstance(latency, (int, float)) or not 0 <= latency <= 600_000:
            raise FaultError("latencyMs must be a number of milliseconds, 0 to 600000")
        rule["latencyMs"] = latency
        for kind in FAULT_KINDS:
            count = spec.get(kind, 0)
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise FaultError(f"{kind} must be a count (a non-negative integer)")
            rule["pending"][kind] = count
        rates = spec.get("rates", {})
        if not isinstance(rates, dict) or set(rates) - set(FAULT_KINDS):
            raise FaultError(f"rates must be an object of {list(FAULT_KINDS)} to shares from 0 to 1")
        for kind, rate in rates.items():
            if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
                raise FaultError(f"rates.{kind} must be a share from 0 to 1")
        if sum(rates.values()) > 1:
            raise FaultError("the rates add up to more than 1")
        if rates.get("error") and rule["errorCode"] is None:
            raise FaultError("rates.error needs errorCode: the AWS error code to answer with")
        spike_rate, spike_ms = spec.get("spikeRate", 0), spec.get("spikeMs", 0)
        for name, v, top in (("spikeRate", spike_rate, 1), ("spikeMs", spike_ms, 600_000)):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= top:
                raise FaultError(f"{name} must be a number from 0 to {top}")
        seed = spec.get("seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise FaultError("seed must be an integer")
        rule.update({"rates": {k: float(v) for k, v in rates.items()}, "spikeRate": float(spike_rate),
                     "spikeMs": spike_ms, "seed": seed, "spiked": 0})
        if rule["errorCode"] is not None and not ERROR_CODE.match(rule["errorCode"]):
            raise FaultError("errorCode must be an AWS error code such as AccessDeniedException")
        if rule["pending"]["error"] and rule["errorCode"] is None:
            raise FaultError("error needs errorCode: the AWS error code to answer with")
        status = rule["errorStatus"]
        if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
            raise FaultError("errorStatus must be an HTTP error status, 400 to 599")
        return rule

    def set(self, specs):
        """Sets (replaces) the rules of a list of specs: all of them, or none when one is wrong."""
        rules = [self.parse(spec) for spec in specs]
        with self.lock:
            for rule in rules:
                self.rules[(rule["operation"], rule["accessKeyId"])] = rule
                self.draws[(rule["operation"], rule["accessKeyId"])] = random.Random(rule["seed"])
            return json.loads(json.dumps(rules))

    def clear(self, operation=None, access_key=None):
        """Clears every rule, an operation's rules, or the one of an operation and access key."""
        with self.lock:
            if operation is None:
                if access_key is not None:
                    raise FaultError("accessKeyId needs operation: the rule to clear")
                self.rules.clear()
            else:
                operation = self._normalize(operation) if ":" in operation else operation
                for key in [k for k in self.rules if k[0] == operation
                            and (access_key is None or k[1] == access_key)]:
                    del self.rules[key]

    def decide(self, call):
        """Counts the call; returns (latency in ms, fault kind or None, rule or None)."""
        candidates = [call.name, f"{call.service}:*", "*"] if call.operation else [f"{call.service}:*", "*"]
        with self.lock:
            self.calls[call.name] = self.calls.get(call.name, 0) + 1
            for operation in candidates:
                rule = (self.rules.get((operation, call.access_key)) if call.access_key else None) \
                    or self.rules.get((operation, None))
                if rule is None:
                    continue
                rule["matched"] += 1
                if rule["latencyMs"]:
                    rule["delayed"] += 1
                for kind in FAULT_KINDS:
                    if rule["pending"][kind] > 0:
                        rule["pending"][kind] -= 1
                        rule["injected"][kind] += 1
                        return rule["latencyMs"], kind, rule
                latency = rule["latencyMs"]
                if rule["rates"] or rule["spikeRate"]:
                    draws = self.draws[(rule["operation"], rule["accessKeyId"])]
                    if draws.random() < rule["spikeRate"]:
                        rule["spiked"] += 1
                        latency += rule["spikeMs"]
                    draw, edge = draws.random(), 0.0
                    for kind in FAULT_KINDS:
                        edge += rule["rates"].get(kind, 0.0)
                        if draw < edge:
                            rule["injected"][kind] += 1
                            return latency, kind, rule
                return latency, None, rule
        return 0, None, None

    def state(self):
        with self.lock:
            rules = json.loads(json.dumps(list(self.rules.values())))
            totals = {kind: sum(r["injected"][kind] for r in rules) for kind in FAULT_KINDS}
            totals["delayed"] = sum(r["delayed"] for r in rules)
            totals["spiked"] = sum(r["spiked"] for r in rules)
            return {"rules": rules, "injected": totals}

    def call_counts(self, reset=False):
        with self.lock:
            counts = dict(sorted(self.calls.items()))
            if reset:
                self.calls.clear()
            return counts


# --------------------------------------------------------------------------------------------
# Shape checks against botocore's models (requests here; the tests use them for seed files).


def shape_errors(value, shape, path="", strict=False, errors=None):
    """What in `value` does not fit the botocore `shape`: required members, types, enums,
    ranges. `strict` also rejects members the shape does not have."""
    errors = [] if errors is None else errors
    where = path or "request"
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            errors.append(f"Value at '{where}' failed to satisfy constraint: Member must be a structure")
            return errors
        for name in shape.required_members:
            if value.get(name) is None:
                errors.append(f"Value null at '{_join(path, name)}' failed to satisfy constraint: "
                              "Member must not be null")
        for name, member_value in value.items():
            if name not in shape.members:
                if strict:
                    errors.append(f"'{_join(path, name)}' is not a member of {shape.name}")
                continue
            if member_value is not None:
                shape_errors(member_value, shape.members[name], _join(path, name), strict, errors)
    elif kind == "list":
        if not isinstance(value, list):
            errors.append(f"Value at '{where}' failed to satisfy constraint: Member must be a list")
            return errors
        _range(len(value), shape, where, "length", errors)
        for i, item in enumerate(value):
            shape_errors(item, shape.member, f"{where}.{i + 1}", strict, errors)
    elif kind == "map":
        if not isinstance(value, dict):
            errors.append(f"Value at '{where}' failed to satisfy constraint: Member must be a map")
            return errors
        for key, item in value.items():
            shape_errors(key, shape.key, f"{where}.key", strict, errors)
            shape_errors(item, shape.value, f"{where}.{key}", strict, errors)
    elif kind == "string":
        if not isinstance(value, str):
            errors.append(f"Value at '{where}' failed to satisfy constraint: Member must be a string")
        elif shape.enum and value not in shape.enum:
            errors.append(f"Value '{value}' at '{where}' failed to satisfy constraint: Member must "
                          f"satisfy enum value set: [{', '.join(shape.enum)}]")
        else:
            _range(len(value), shape, where, "length", errors)
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append(f"Value at '{where}' failed to satisfy constraint: Member must be an integer")
        else:
            _range(value, shape, where, "value", errors)
    elif kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            errors.append(f"Value at '{where}' failed to satisfy constraint: Member must be a number")
    elif kind == "boolean":
        if not isinstance(value, bool):
            errors.append(f"Value at '{where}' failed to satisfy constraint: Member must be a boolean")
    elif kind == "timestamp":
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            errors.append(f"Value at '{where}' failed to satisfy constraint: Member must be a timestamp")
    return errors


def _join(path, name):
    name = name[:1].lower() + name[1:]
    return f"{path}.{name}" if path else name


def _range(n, shape, where, what, errors):
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and n < low:
        errors.append(f"Value at '{where}' failed to satisfy constraint: Member must have {what} "
                      f"greater than or equal to {low}")
    if high is not None and n > high:
        errors.append(f"Value at '{where}' failed to satisfy constraint: Member must have {what} "
                      f"less than or equal to {high}")


def validation_message(errors):
    shown = errors[:5]
    noun = "error" if len(errors) == 1 else "errors"
    return f"{len(errors)} validation {noun} detected: " + "; ".join(shown)


# --------------------------------------------------------------------------------------------
# Seeded operations.


class SeedError(Exception):
    pass


class Seeds:
    def __init__(self, directory):
        self.directory = Path(directory)

    def path(self, relative, access_key):
        if access_key and re.fullmatch(r"[A-Za-z0-9]+", access_key):
            own = self.directory / "keys" / access_key / relative
            if own.is_file():
                return own
        return self.directory / relative

    def load(self, relative, access_key):
        """The parsed seed file, or None when there is none."""
        path = self.path(relative, access_key)
        try:
            text = path.read_bytes()
        except FileNotFoundError:
            return None, path
        try:
            return json.loads(text), path
        except ValueError as e:
            raise SeedError(f"seed file {path} is not valid JSON: {e}") from None


def json_ok(payload):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return 200, [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-RequestId", request_id())], body


def json_request(call, body, service, operation):
    """The request's JSON parameters checked against the operation's input shape, or an error
    response."""
    try:
        params = json.loads(body or b"{}")
    except ValueError:
        return None, error_response(call, 400, "SerializationException",
                                    "The request body is not valid JSON")
    if not isinstance(params, dict):
        return None, error_response(call, 400, "SerializationException",
                                    "The request body must be a JSON object")
    errors = shape_errors(params, model(service).operation_model(operation).input_shape)
    if errors:
        return None, error_response(call, 400, "ValidationException", validation_message(errors))
    return params, None


CE_SEEDED = {
    "GetCostForecast": "Insufficient amount of historical data to generate forecast.",
    "GetReservationPurchaseRecommendation":
        "Cost Explorer has no usage data to base a reservation recommendation on.",
    "GetSavingsPlansPurchaseRecommendation":
        "Cost Explorer has no usage data to base a Savings Plans recommendation on.",
}


def ce_seeded(call, body, seeds):
    _, error = json_request(call, body, "ce", call.operation)
    if error:
        return error
    relative = f"ce/{call.operation}.json"
    seed, path = seeds.load(relative, call.access_key)
    if seed is None:
        return error_response(call, 400, "DataUnavailableException",
                              f"{CE_SEEDED[call.operation]} (emulator: no seed file {relative})")
    if not isinstance(seed, dict):
        raise SeedError(f"seed file {path} must hold a JSON object (the response body)")
    return json_ok(path.read_bytes())


def _token(offset, query):
    digest = hashlib.sha256(json.dumps(query, sort_keys=True).encode()).hexdigest()[:16]
    raw = json.dumps({"offset": offset, "query": digest}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _offset(token, query):
    """The offset a NextToken stands for, or None when it is not one of ours for this query."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        decoded = json.loads(raw)
        digest = hashlib.sha256(json.dumps(query, sort_keys=True).encode()).hexdigest()[:16]
        if decoded["query"] == digest and isinstance(decoded["offset"], int) and decoded["offset"] >= 0:
            return decoded["offset"]
    except (ValueError, KeyError, TypeError):
        pass
    return None


def _product_field(item, field):
    product = item.get("product") or {}
    attributes = {k.lower(): v for k, v in (product.get("attributes") or {}).items()}
    key = field.lower()
    if key in attributes:
        return attributes[key]
    for name, value in product.items():
        if name.lower() == key and isinstance(value, str):
            return value
    return None


def _filter_matches(item, flt):
    value = _product_field(item, flt["Field"])
    wanted = flt["Value"]
    kind = flt["Type"]
    if kind in ("TERM_MATCH", "EQUALS"):
        return value is not None and value == wanted
    if kind == "CONTAINS":
        return value is not None and wanted in value
    choices = [v.strip() for v in wanted.split(",")]
    if kind == "ANY_OF":
        return value in choices
    if kind == "NONE_OF":
        return value not in choices
    return False


def pricing_get_products(call, body, seeds):
    params, error = json_request(call, body, "pricing", "GetProducts")
    if error:
        return error
    if params.get("FormatVersion", "aws_v1") != "aws_v1":
        return error_response(call, 400, "InvalidParameterException",
                              "Input validation error: FormatVersion must be aws_v1")
    items, path = seeds.load("pricing/products.json", call.access_key)
    items = [] if items is None else items
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise SeedError(f"seed file {path} must hold a JSON list of price list items")
    filters = params.get("Filters") or []
    service_code = params["ServiceCode"]
    selected = [item for item in items
                if (item.get("serviceCode") or _product_field(item, "servicecode")) == service_code
                and all(_filter_matches(item, f) for f in filters)]
    query = {"ServiceCode": service_code, "Filters": filters}
    offset = 0
    if params.get("NextToken"):
        offset = _offset(params["NextToken"], query)
        if offset is None:
            return error_response(call, 400, "InvalidNextTokenException",
                                  "The pagination token is invalid. Try again without a pagination token.")
    size = params.get("MaxResults") or 100
    page = selected[offset:offset + size]
    answer = {"FormatVersion": "aws_v1", "PriceList": [json.dumps(item) for item in page]}
    if offset + size < len(selected):
        answer["NextToken"] = _token(offset + size, query)
    return json_ok(answer)


def parse_time(text):
    text = text.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return datetime.fromtimestamp(float(text), timezone.utc)
    value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _indexed(form, prefix):
    """Values of a query list (Prefix.1, Prefix.2, ...) in index order."""
    pattern = re.compile(rf"^{re.escape(prefix)}\.(\d+)$")
    found = sorted((int(m[1]), v) for k, v in form.items() if (m := pattern.match(k)))
    return [v for _, v in found]


SPOT_FILTERS = {"availability-zone": "availabilityZone", "instance-type": "instanceType",
                "product-description": "productDescription", "spot-price": "spotPrice",
                "timestamp": "timestamp", "availability-zone-id": "availabilityZoneId"}


def ec2_spot_price_history(call, body, seeds):
    form = call.form
    if form.get("DryRun", "").lower() == "true":
        return error_response(call, 412, "DryRunOperation",
                              "Request would have succeeded, but DryRun flag is set.")
    try:
        start = parse_time(form["StartTime"]) if form.get("StartTime") else None
        end = parse_time(form["EndTime"]) if form.get("EndTime") else None
    except ValueError as e:
        return error_response(call, 400, "InvalidParameterValue", f"Invalid time: {e}")
    if start and end and end < start:
        return error_response(call, 400, "InvalidParameterValue",
                              "The end time must be after the start time.")
    try:
        max_results = int(form.get("MaxResults") or 1000)
    except ValueError:
        return error_response(call, 400, "InvalidParameterValue", "Invalid value for MaxResults")
    if not 1 <= max_results <= 10000:
        return error_response(call, 400, "InvalidParameterValue",
                              "Value for parameter MaxResults is invalid.")
    max_results = min(max_results, 1000)
    types = set(_indexed(form, "InstanceType"))
    products = set(_indexed(form, "ProductDescription"))
    zone, zone_id = form.get("AvailabilityZone"), form.get("AvailabilityZoneId")
    filters = []
    i = 1
    while f"Filter.{i}.Name" in form:
        name = form[f"Filter.{i}.Name"]
        if name not in SPOT_FILTERS:
            return error_response(call, 400, "InvalidParameterValue",
                                  f"The filter '{name}' is invalid")
        filters.append((SPOT_FILTERS[name], _indexed(form, f"Filter.{i}.Value")))
        i += 1

    records, path = seeds.load("ec2/spot-price-history.json", call.access_key)
    records = [] if records is None else records
    if not isinstance(records, list):
        raise SeedError(f"seed file {path} must hold a JSON list of spot prices")
    chosen = []
    for r in records:
        try:
            r = dict(r, _time=parse_time(r["timestamp"]))
        except (KeyError, ValueError, TypeError, AttributeError):
            raise SeedError(f"seed file {path}: every price needs instanceType, availabilityZone, "
                            f"productDescription, spotPrice and an ISO 8601 timestamp: {r}") from None
        if types and r.get("instanceType") not in types:
            continue
        if products and r.get("productDescription") not in products:
            continue
        if zone and r.get("availabilityZone") != zone:
            continue
        if zone_id and r.get("availabilityZoneId") != zone_id:
            continue
        if not all(any(fnmatch.fnmatchcase(str(r.get(field, "")), v) for v in values)
                   for field, values in filters):
            continue
        if end and r["_time"] > end:
            continue
        chosen.append(r)
    if start:
        # The window's prices, and the price in effect at its start (the last change before it).
        window = [r for r in chosen if r["_time"] >= start]
        before = {}
        for r in chosen:
            if r["_time"] < start:
                key = (r.get("instanceType"), r.get("availabilityZone"), r.get("productDescription"))
                if key not in before or r["_time"] > before[key]["_time"]:
                    before[key] = r
        chosen = window + list(before.values())
    chosen.sort(key=lambda r: (-r["_time"].timestamp(), r.get("instanceType", ""),
                               r.get("availabilityZone", ""), r.get("productDescription", "")))

    query = {k: v for k, v in form.items() if k not in ("NextToken", "MaxResults")}
    offset = 0
    if form.get("NextToken"):
        offset = _offset(form["NextToken"], query)
        if offset is None:
            return error_response(call, 400, "InvalidNextToken",
                                  "The specified token is invalid.")
    page = chosen[offset:offset + max_results]
    items = []
    for r in page:
        zone_id_xml = (f"<availabilityZoneId>{escape(r['availabilityZoneId'])}</availabilityZoneId>"
                       if r.get("availabilityZoneId") else "")
        stamp = r["_time"].astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        items.append(
            "<item>"
            f"<instanceType>{escape(str(r.get('instanceType', '')))}</instanceType>"
            f"<productDescription>{escape(str(r.get('productDescription', '')))}</productDescription>"
            f"<spotPrice>{escape(str(r.get('spotPrice', '')))}</spotPrice>"
            f"<timestamp>{stamp}</timestamp>"
            f"<availabilityZone>{escape(str(r.get('availabilityZone', '')))}</availabilityZone>"
            f"{zone_id_xml}</item>")
    # Only while more pages follow (an empty one would loop a client that tests for presence).
    next_token = ""
    if offset + max_results < len(chosen):
        next_token = f"<nextToken>{_token(offset + max_results, query)}</nextToken>"
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<DescribeSpotPriceHistoryResponse xmlns="{EC2_NS}">'
            f"<requestId>{request_id()}</requestId>"
            f"<spotPriceHistorySet>{''.join(items)}</spotPriceHistorySet>"
            f"{next_token}"
            "</DescribeSpotPriceHistoryResponse>")
    return 200, [("Content-Type", "text/xml;charset=UTF-8")], body.encode()


def ce_list_cost_allocation_tags(call, body, seeds):
    """ce/ListCostAllocationTags.json, the whole response; without one, no tag is known."""
    _, error = json_request(call, body, "ce", call.operation)
    if error:
        return error
    seed, path = seeds.load("ce/ListCostAllocationTags.json", call.access_key)
    if seed is None:
        return json_ok(json.dumps({"CostAllocationTags": []}).encode())
    if not isinstance(seed, dict):
        raise SeedError(f"seed file {path} must hold a JSON object (the response body)")
    return json_ok(path.read_bytes())


SEEDED = {
    "ce:ListCostAllocationTags": ce_list_cost_allocation_tags,
    "ce:GetCostForecast": ce_seeded,
    "ce:GetReservationPurchaseRecommendation": ce_seeded,
    "ce:GetSavingsPlansPurchaseRecommendation": ce_seeded,
    "pricing:GetProducts": pricing_get_products,
    "ec2:DescribeSpotPriceHistory": ec2_spot_price_history,
}


# --------------------------------------------------------------------------------------------
# The HTTP server.


class ProxyServer(ThreadingHTTPServer):
    # socketserver's listen backlog is 5: with a few hundred connections opening at once (ten
    # analyzer shards, each with its writes and signatures in flight) the rest timed out
    # connecting. A thread answers each connection; the backlog only has to hold the burst.
    request_queue_size = 512
    daemon_threads = True


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # An answer's headers and body go out in two writes: with Nagle's algorithm on, the body
    # waited for the client's delayed ACK of the headers, about 40 ms on every request.
    disable_nagle_algorithm = True
    upstream_port = 0
    faults = Faults()
    seeds = Seeds(ROOT / ".emulator" / "seed")
    generator = False
    item_locks = ItemLocks()
    key_schemas = {}  # (access key, table) -> key attribute names
    key_schemas_lock = threading.Lock()

    def log_message(self, fmt, *args):  # quiet: moto logs requests already
        pass

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _upstream(self, method, path, headers, body):
        conn = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=300)
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.getheaders(), resp.read()
        finally:
            conn.close()

    def _reply(self, status, headers, body):
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _reset_connection(self):
        """Closes the socket without an answer: SO_LINGER 0 sends a TCP reset."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    def _forward(self, method):
        body = self._body()
        path = urlsplit(self.path).path
        if path == "/_fleetopt" or path.startswith("/_fleetopt/"):
            return self._admin(method, body)
        if path.startswith("/moto-api/"):  # the emulator's own controls: no faults, not counted
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            return self._reply(*self._upstream(method, self.path, headers, body))
        call = identify(method, self.path, self.headers, body)
        latency, fault, rule = self.faults.decide(call)
        if latency:
            time.sleep(latency / 1000)
        if fault == "throttle":
            return self._reply(*throttle_error(call, rule.get("throttleCode")))
        if fault == "serverError":
            return self._reply(*server_error(call))
        if fault == "error":
            return self._reply(*error_response(call, rule["errorStatus"], rule["errorCode"],
                                               rule["errorMessage"],
                                               sender=rule["errorStatus"] < 500))
        if fault == "reset":
            return self._reset_connection()
        if self.generator and call.cbor and call.cbor[1] in metrics_generator.ANSWERS:
            return self._generate(*call.cbor, body)
        handler = SEEDED.get(call.name)
        if handler is not None:
            try:
                return self._reply(*handler(call, body, self.seeds))
            except SeedError as e:
                print(f"emulator proxy: {e}", file=sys.stderr, flush=True)
                return self._reply(*error_response(call, 500, "InternalFailure", f"emulator: {e}",
                                                   sender=False))
        if call.cbor and method == "POST":
            return self._translate(*call.cbor, body)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        if call.name in DYNAMODB_WRITES:
            key = None
            if call.name in DYNAMODB_ITEM_WRITES:
                key = item_key(call.operation, body,
                               lambda table: self._key_schema(call.access_key, table, headers))
            held = self.item_locks.item(key) if key else self.item_locks.alone()
            with held:
                return self._reply(*self._upstream(method, self.path, headers, body))
        if call.name in DYNAMODB_TABLE_CHANGES:
            with self.key_schemas_lock:
                self.key_schemas.clear()
        self._reply(*self._upstream(method, self.path, headers, body))

    def _key_schema(self, access_key, table, headers):
        """A table's key attribute names, from moto's DescribeTable (asked with the caller's own
        headers, so in the caller's account; moto does not check signatures), kept until a table
        is created or deleted; None when moto cannot say."""
        with self.key_schemas_lock:
            known = self.key_schemas.get((access_key, table))
        if known is not None:
            return known
        ask = {k: v for k, v in headers.items() if k.lower() != "x-amz-target"}
        ask["X-Amz-Target"] = "DynamoDB_20120810.DescribeTable"
        status, _, answer = self._upstream("POST", "/", ask, json.dumps({"TableName": table}).encode())
        if status != 200:
            return None
        try:
            names = [k["AttributeName"] for k in json.loads(answer)["Table"]["KeySchema"]]
        except (ValueError, KeyError, TypeError):
            return None
        with self.key_schemas_lock:
            self.key_schemas[(access_key, table)] = names
        return names

    def _admin(self, method, body):
        def answer(status, payload):
            self._reply(status, [("Content-Type", "application/json")],
                        json.dumps(payload, indent=1).encode() + b"\n")

        try:
            loopback = ipaddress.ip_address(self.client_address[0]).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            return answer(403, {"error": "the admin API answers loopback clients only"})
        split = urlsplit(self.path)
        route = split.path.rstrip("/")
        query = {k: v[-1] for k, v in parse_qs(split.query).items()}
        if route == "/_fleetopt" and method == "GET":
            return answer(200, {"seedDir": str(self.seeds.directory),
                                "upstreamPort": self.upstream_port})
        if route == "/_fleetopt/faults":
            if method == "GET":
                return answer(200, self.faults.state())
            if method == "DELETE":
                try:
                    self.faults.clear(query.get("operation"), query.get("accessKeyId"))
                except FaultError as e:
                    return answer(400, {"error": str(e)})
                return answer(200, self.faults.state())
            if method == "POST":
                try:
                    specs = json.loads(body or b"null")
                except ValueError:
                    return answer(400, {"error": "the body must be JSON"})
                try:
                    rules = self.faults.set(specs if isinstance(specs, list) else [specs])
                except FaultError as e:
                    return answer(400, {"error": str(e)})
                return answer(200, {"rules": rules})
        if route == "/_fleetopt/generator":
            if method == "POST":
                try:
                    spec = json.loads(body or b"null")
                except ValueError:
                    spec = None
                if not (isinstance(spec, dict) and isinstance(spec.get("enabled"), bool)):
                    return answer(400, {"error": 'the body must be {"enabled": true} or '
                                                 '{"enabled": false}'})
                Proxy.generator = spec["enabled"]
            elif method == "DELETE":
                Proxy.generator = False
            elif method != "GET":
                return answer(405, {"error": f"{method} /_fleetopt/generator: use GET, POST or DELETE"})
            return answer(200, {"enabled": Proxy.generator})
        if route == "/_fleetopt/calls":
            if method == "GET":
                return answer(200, {"calls": self.faults.call_counts()})
            if method == "DELETE":
                return answer(200, {"calls": self.faults.call_counts(reset=True)})
        return answer(404, {"error": f"no admin route {method} {split.path}",
                            "routes": ["GET /_fleetopt/", "GET|POST|DELETE /_fleetopt/faults",
                                       "GET|DELETE /_fleetopt/calls",
                                       "GET|POST|DELETE /_fleetopt/generator"]})

    def _cbor_params(self, op, body):
        # The SDK gzips large requests (PutMetricData has the requestCompression trait).
        if self.headers.get("Content-Encoding", "").lower() == "gzip":
            body = gzip.decompress(body)
        params = {}
        if body and op.input_shape is not None:
            params = RpcV2CBORParser().parse(
                {"body": body, "headers": {}, "status_code": 200}, op.input_shape)
            params.pop("ResponseMetadata", None)
        return params

    def _generate(self, service, operation, body):
        """A CloudWatch read answered by the metrics generator, in CBOR."""
        op = model(service).operation_model(operation)
        out = bytearray()
        RpcV2CBORSerializer()._serialize_data_item(
            out, metrics_generator.ANSWERS[operation](self._cbor_params(op, body)), op.output_shape)
        self._reply(200, [("Content-Type", "application/cbor"),
                          ("smithy-protocol", "rpc-v2-cbor")], bytes(out))

    def _translate(self, service, operation, body):
        op = model(service).operation_model(operation)
        params = self._cbor_params(op, body)
        request = JSONSerializer().serialize_to_request(params, op)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in HOP_BY_HOP | {"content-type", "accept", "smithy-protocol",
                                                     "content-encoding"}}
        headers.update(request["headers"])
        status, _, answer = self._upstream("POST", "/", headers, request["body"])
        parsed = JSONParser().parse({"body": answer, "headers": {}, "status_code": status},
                                    op.output_shape)
        serializer = RpcV2CBORSerializer()
        out = bytearray()
        if status >= 300:
            error = parsed.get("Error", {})
            code = error.get("Code") or "InternalFailure"
            fields = {"__type": f"com.amazonaws.{service}#{code}",
                      "message": error.get("Message", "")}
            serializer._serialize_type_map(out, fields, _StringMap(), None)
        else:
            parsed.pop("ResponseMetadata", None)
            if op.output_shape is not None:
                serializer._serialize_data_item(out, parsed, op.output_shape)
            else:
                serializer._serialize_type_map(out, {}, _StringMap(), None)
        self._reply(status, [("Content-Type", "application/cbor"),
                             ("smithy-protocol", "rpc-v2-cbor")], bytes(out))

    def do_GET(self):
        self._forward("GET")

    def do_POST(self):
        self._forward("POST")

    def do_PUT(self):
        self._forward("PUT")

    def do_DELETE(self):
        self._forward("DELETE")

    def do_HEAD(self):
        self._forward("HEAD")

    def do_PATCH(self):
        self._forward("PATCH")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listen", type=int, required=True)
    parser.add_argument("--upstream", type=int, required=True)
    parser.add_argument("--seed-dir", default=os.environ.get("FLEETOPT_EMULATOR_SEED_DIR")
                        or str(ROOT / ".emulator" / "seed"))
    args = parser.parse_args()
    Proxy.upstream_port = args.upstream
    Proxy.seeds = Seeds(Path(args.seed_dir).resolve())
    server = ProxyServer(("127.0.0.1", args.listen), Proxy)
    print(f"proxy on 127.0.0.1:{args.listen} -> moto on 127.0.0.1:{args.upstream}; "
          f"seeds in {Proxy.seeds.directory}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
