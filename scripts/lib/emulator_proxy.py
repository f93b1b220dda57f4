"""The local emulator's front door: a loopback HTTP proxy in front of moto server.

It forwards every request to moto unchanged, with one translation: the AWS SDK for Rust speaks
the Smithy RPC v2 CBOR protocol to CloudWatch (POST /service/GraniteServiceVersion20100801/
operation/<Operation>), which moto 5.2 does not serve. Such a request is decoded with botocore's
own CloudWatch model, re-encoded as the AWS JSON 1.0 protocol that moto does serve, and moto's
answer is encoded back to CBOR. Types (timestamps, doubles, lists) come from the service model,
so nothing is guessed.

Usage: emulator_proxy.py --listen PORT --upstream PORT   (both on 127.0.0.1)
"""
import argparse
import gzip
import http.client
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from botocore.parsers import JSONParser, RpcV2CBORParser
from botocore.serialize import JSONSerializer, RpcV2CBORSerializer
from botocore.session import get_session

CBOR_PATH = re.compile(r"^/service/(?P<service>[A-Za-z0-9]+)/operation/(?P<operation>[A-Za-z0-9]+)$")
# Smithy service ids of the CBOR services we translate, and their botocore names.
CBOR_SERVICES = {"GraniteServiceVersion20100801": "cloudwatch"}
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
              "proxy-authorization", "proxy-authenticate", "host", "content-length"}

_models = {}


def model(service):
    if service not in _models:
        _models[service] = get_session().get_service_model(service)
    return _models[service]


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    upstream_port = 0

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
        self.wfile.write(body)

    def _forward(self, method):
        body = self._body()
        match = CBOR_PATH.match(self.path.split("?")[0])
        if method == "POST" and match and match["service"] in CBOR_SERVICES:
            return self._translate(CBOR_SERVICES[match["service"]], match["operation"], body)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        self._reply(*self._upstream(method, self.path, headers, body))

    def _translate(self, service, operation, body):
        # The SDK gzips large requests (PutMetricData has the requestCompression trait).
        if self.headers.get("Content-Encoding", "").lower() == "gzip":
            body = gzip.decompress(body)
        op = model(service).operation_model(operation)
        params = {}
        if body and op.input_shape is not None:
            params = RpcV2CBORParser().parse(
                {"body": body, "headers": {}, "status_code": 200}, op.input_shape)
            params.pop("ResponseMetadata", None)
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


class _StringMap:
    """The shape of an error body: a map of strings, for botocore's CBOR map serializer."""
    type_name = "map"

    class _String:
        type_name = "string"

    key = _String()
    value = _String()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listen", type=int, required=True)
    parser.add_argument("--upstream", type=int, required=True)
    args = parser.parse_args()
    Proxy.upstream_port = args.upstream
    server = ThreadingHTTPServer(("127.0.0.1", args.listen), Proxy)
    server.daemon_threads = True
    print(f"proxy on 127.0.0.1:{args.listen} -> moto on 127.0.0.1:{args.upstream}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
