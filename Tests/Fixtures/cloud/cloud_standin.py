#!/usr/bin/env python3
"""Loopback stand-ins for the cloud token endpoints sealgate's credential providers call, answering in their
documented wire formats. Not the clouds: they check what a request must carry, not IAM, audiences or policies.

  POST /sts/                     AWS STS AssumeRoleWithWebIdentity (form; unsigned) -> XML Credentials
  POST /ecr/                     AWS ECR GetAuthorizationToken (x-amz-json-1.1), SigV4 (service ecr) checked
                                 with botocore against the STS keys -> authorizationData[0].authorizationToken
  GET  /computeMetadata/v1/instance/service-accounts/default/token   GCE metadata (Metadata-Flavor: Google)
  POST /google-sts/v1/token      Google STS token exchange (RFC 8693 form) -> access_token (federated)
  POST /google-iam/generateAccessToken   service account impersonation (Bearer federated) -> accessToken, expireTime
  POST /aad/TENANT/oauth2/v2.0/token     Azure AD client credentials with a federated client assertion
  POST /acr/oauth2/exchange      ACR: AAD access token -> refresh_token
  GET  /_state                   request counts per endpoint

--subject is the workload's token (IRSA / federation / AKS); --password what every registry credential maps to
(the htpasswd password of AWS, oauth2accesstoken and 00000000-0000-0000-0000-000000000000); --lifetime the
seconds every issued token lives. Prints "listening PORT" once ready.
"""
import argparse, base64, datetime, http.server, json, socketserver, sys, threading, time, urllib.parse

parser = argparse.ArgumentParser()
parser.add_argument("--subject", required=True)
parser.add_argument("--password", required=True)
parser.add_argument("--lifetime", type=float, default=3600)
parser.add_argument("--region", default="eu-west-1")
args = parser.parse_args()

AKID, SECRET, SESSION = "ASIASTANDIN", "standin-secret-key", "standin-session-token"
counts = {}
lock = threading.Lock()

def iso(seconds):
    return (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")

def check_sigv4(handler, body):
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    auth = handler.headers.get("Authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return "no SigV4 Authorization header"
    fields = dict(p.strip().split("=", 1) for p in auth[len("AWS4-HMAC-SHA256 "):].split(","))
    signed = fields.get("SignedHeaders", "").split(";")
    for required in ("host", "x-amz-date", "x-amz-target", "x-amz-security-token"):
        if required not in signed:
            return "header %s not signed" % required
    if fields.get("Credential", "").split("/")[0] != AKID:
        return "signed with another access key"
    scope = fields["Credential"].split("/", 1)[1]
    headers = {name: handler.headers[name] for name in signed if name != "host"}
    request = AWSRequest(method="POST", url="http://%s%s" % (handler.headers["Host"], handler.path), headers=headers, data=body)
    request.context["timestamp"] = handler.headers["X-Amz-Date"]
    signer = SigV4Auth(Credentials(AKID, SECRET, SESSION), "ecr", args.region)
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    if scope != "%s/%s/ecr/aws4_request" % (handler.headers["X-Amz-Date"][:8], args.region):
        return "credential scope %s" % scope
    if fields.get("Signature") != expected:
        return "signature mismatch"
    return None

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, code, body, content_type="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def count(self, name):
        with lock:
            counts[name] = counts.get(name, 0) + 1

    def do_GET(self):
        path = urllib.parse.urlparse(self.path).path
        if path == "/_state":
            with lock:
                return self.reply(200, dict(counts))
        if path == "/computeMetadata/v1/instance/service-accounts/default/token":
            if self.headers.get("Metadata-Flavor") != "Google":
                return self.reply(403, {"error": "missing Metadata-Flavor: Google"})
            self.count("metadata")
            return self.reply(200, {"access_token": args.password, "expires_in": args.lifetime, "token_type": "Bearer"})
        self.reply(404, {"error": "no such endpoint " + path})

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        path = urllib.parse.urlparse(self.path).path
        form = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode(), keep_blank_values=True).items()}
        if path == "/sts/":
            if form.get("Action") != "AssumeRoleWithWebIdentity" or form.get("Version") != "2011-06-15":
                return self.reply(400, b"<Error><Code>InvalidAction</Code></Error>", "text/xml")
            if form.get("WebIdentityToken") != args.subject or not form.get("RoleArn") or not form.get("RoleSessionName"):
                return self.reply(403, b"<Error><Code>InvalidIdentityToken</Code></Error>", "text/xml")
            self.count("sts")
            xml = ("<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleWithWebIdentityResult>"
                   "<Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey><SessionToken>%s</SessionToken>"
                   "<Expiration>%s</Expiration></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>"
                   % (AKID, SECRET, SESSION, iso(args.lifetime)))
            return self.reply(200, xml.encode(), "text/xml")
        if path == "/ecr/":
            if self.headers.get("X-Amz-Target") != "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken":
                return self.reply(400, {"__type": "UnknownOperationException"})
            problem = check_sigv4(self, body)
            if problem:
                return self.reply(403, {"__type": "InvalidSignatureException", "message": problem})
            self.count("ecr")
            token = base64.b64encode(("AWS:" + args.password).encode()).decode()
            return self.reply(200, {"authorizationData": [{"authorizationToken": token, "expiresAt": time.time() + args.lifetime,
                                                           "proxyEndpoint": "https://123456789012.dkr.ecr.%s.amazonaws.com" % args.region}]})
        if path == "/google-sts/v1/token":
            if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:token-exchange" or form.get("subject_token") != args.subject \
                    or not form.get("audience") or form.get("requested_token_type") != "urn:ietf:params:oauth:token-type:access_token":
                return self.reply(400, {"error": "invalid_grant"})
            self.count("google-sts")
            return self.reply(200, {"access_token": "federated-token", "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
                                    "token_type": "Bearer", "expires_in": args.lifetime})
        if path == "/google-iam/generateAccessToken":
            if self.headers.get("Authorization") != "Bearer federated-token":
                return self.reply(401, {"error": "unauthenticated"})
            self.count("google-iam")
            return self.reply(200, {"accessToken": args.password, "expireTime": iso(args.lifetime)})
        parts = path.strip("/").split("/")
        if len(parts) == 5 and parts[0] == "aad" and parts[2:] == ["oauth2", "v2.0", "token"]:
            if form.get("grant_type") != "client_credentials" or form.get("client_assertion") != args.subject \
                    or form.get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" or not form.get("client_id"):
                return self.reply(401, {"error": "invalid_client"})
            self.count("aad")
            return self.reply(200, {"access_token": "aad-token-" + parts[1], "expires_in": args.lifetime, "token_type": "Bearer"})
        if path == "/acr/oauth2/exchange":
            if form.get("grant_type") != "access_token" or not form.get("access_token", "").startswith("aad-token-") or not form.get("service"):
                return self.reply(401, {"errors": [{"code": "UNAUTHORIZED"}]})
            self.count("acr")
            return self.reply(200, {"refresh_token": args.password})
        self.reply(404, {"error": "no such endpoint " + path})

class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

server = Server(("127.0.0.1", 0), Handler)
print("listening %d" % server.server_address[1], flush=True)
server.serve_forever()
