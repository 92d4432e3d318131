#!/usr/bin/env python3
"""A loopback HTTPS stand-in for kube-apiserver: just enough of list/watch for sealgate's tests.

Speaks, for any /apis/GROUP/VERSION/PLURAL collection (cluster-wide) and core Secrets/Events:
  GET  collection                     list: {"kind": "...List", "metadata": {"resourceVersion"}, "items": [...]}
  GET  collection?watch=true&resourceVersion=RV[&allowWatchBookmarks=true][&timeoutSeconds=N]
       200, Transfer-Encoding: chunked, one JSON event per line: {"type": ADDED|MODIFIED|DELETED|BOOKMARK|ERROR, "object": ...}
       events after RV are replayed first; RV older than the compaction point -> ERROR event carrying a
       Status with code 410 (what a real apiserver does for watches); the watch ends after timeoutSeconds.
  GET  /api/v1/PLURAL (core, e.g. namespaces; the control resource name is the plural alone) list and watch as above
  GET  /api/v1/namespaces/NAME                 one Namespace put as resource "namespaces"; 404 Status when absent
  GET  /api/v1/namespaces/NS/secrets/NAME      404 Status when absent
  GET  /api/v1/namespaces/NS/PLURAL/NAME       one namespaced core object put as resource PLURAL (serviceaccounts); 404 when absent
  POST /api/v1/namespaces/NS/events            recorded, 201
Namespaced objects (core /api/v1/namespaces/NS/PLURAL[/NAME], /apis/G/V/namespaces/NS/PLURAL[/NAME]) and named
cluster-scoped ones (/apis/G/V/PLURAL/NAME), as the apiserver's REST handlers answer them:
  GET    .../PLURAL             list of that namespace only
  GET    .../PLURAL/NAME        the object; 404 NotFound Status when absent
  POST   .../PLURAL             create: 201 with resourceVersion, uid, creationTimestamp set; 409 AlreadyExists
  PUT    .../PLURAL/NAME        update: 404 when absent; 409 Conflict when the body's metadata.resourceVersion is set
                                and differs from the stored one (optimistic concurrency); no resourceVersion = unconditional
  DELETE .../PLURAL/NAME        200 Status Success; 404 when absent
  ?fieldManager=NAME on POST/PUT/DELETE is recorded with the write (GET /_control/writes lists every write).
Every API request needs "Authorization: Bearer TOKEN" with the current token, else 401 (Status JSON).

Control endpoints for the test (no token, loopback only), JSON bodies:
  POST /_control/put      {"resource": "plural.group", "object": {...}}   add or modify (ADDED/MODIFIED event)
  POST /_control/delete   {"resource": "plural.group", "name": N, "namespace"?: NS}
  POST /_control/secret   {"namespace", "name", "type"?, "data": {key: base64}}
  POST /_control/drop     abruptly close every open watch (no final chunk)
  POST /_control/expire   compact: every resourceVersion so far becomes too old (open watches get ERROR 410)
  POST /_control/garbage  send a line that is not JSON on every open watch
  POST /_control/token    {"token": T} the token accepted from now on
  POST /_control/bookmark send a BOOKMARK with the current resourceVersion on every open watch
  POST /_control/list410  {"count": N} the next N lists answer 410 Gone (expired continue/RV)
  GET  /_control/state    counters (lists, watches, open watches, unauthorized, events posted)
  GET  /_control/writes   every POST/PUT/DELETE on an object: {method, resource, namespace, name, fieldManager, code, time}
  GET  /_control/objects?resource=plural.group   the stored objects of one resource
  POST /_control/fail     {"method", "resource", "code", "count"}: the next `count` such writes answer `code`

Limits (this is not a real apiserver): namespaced collections only for the verbs above (watch is cluster-wide
only), no label/field selectors, no PATCH, no generation or status subresource, no pagination (limit/continue), no
resourceVersionMatch semantics on list (always the latest state), no admission, validation, defaulting or
CRD discovery, no HTTP/2, no table or protobuf output, no conversion between versions (the object is
stored as given), one global resourceVersion counter, bookmarks only on request (/_control/bookmark) or
every --bookmark-interval seconds. Prints "listening PORT" once ready.
"""
import argparse, http.server, json, os, socketserver, ssl, sys, threading, time, urllib.parse

parser = argparse.ArgumentParser()
parser.add_argument("--cert", required=True)
parser.add_argument("--key", required=True)
parser.add_argument("--token", required=True)
parser.add_argument("--bookmark-interval", type=float, default=0)
args = parser.parse_args()

cond = threading.Condition()
state = {
    "rv": 100, "compacted": 0, "token": args.token, "drop": 0, "garbage": 0,
    "objects": {},   # resource -> {ns/name: object}
    "log": [],       # (rv, resource, type, object)
    "secrets": {}, "events": [],
    "lists": 0, "watches": 0, "open_watches": 0, "unauthorized": 0, "list410": 0, "bookmark": 0,
    "writes": [], "faults": [],
}

def status(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}

def obj_key(obj):
    meta = obj.get("metadata", {})
    return "%s/%s" % (meta.get("namespace", ""), meta.get("name", ""))

def record(resource, kind, obj):
    # Called with cond held: bump the RV, store, log, wake watchers.
    state["rv"] += 1
    obj = json.loads(json.dumps(obj))
    obj.setdefault("metadata", {})["resourceVersion"] = str(state["rv"])
    obj["metadata"].setdefault("uid", "uid-" + obj["metadata"].get("name", "x"))
    state["log"].append((state["rv"], resource, kind, obj))
    cond.notify_all()
    return obj

def object_route(parts):
    """(resource, namespace, name) for an object or namespaced-collection path, else None."""
    if parts[:2] == ["api", "v1"] and len(parts) in (4, 5) and parts[2] == "namespaces":
        return parts[4] if len(parts) == 5 else None, parts[3], None
    if parts[:3] == ["api", "v1", "namespaces"] and len(parts) == 6:
        return parts[4], parts[3], parts[5]
    if parts[:1] == ["apis"] and len(parts) in (6, 7) and parts[3] == "namespaces":
        return "%s.%s" % (parts[5], parts[1]), parts[4], parts[6] if len(parts) == 7 else None
    if parts[:1] == ["apis"] and len(parts) == 5:
        return "%s.%s" % (parts[3], parts[1]), "", parts[4]
    return None

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(n) or b"{}")

    def authorized(self):
        with cond:
            ok = self.headers.get("Authorization") == "Bearer " + state["token"]
            if not ok:
                state["unauthorized"] += 1
        if not ok:
            self.reply(401, status(401, "Unauthorized", "Unauthorized"))
        return ok

    def do_POST(self):
        url = urllib.parse.urlparse(self.path)
        if url.path.startswith("/_control/"):
            return self.control(url.path[len("/_control/"):], self.body())
        if not self.authorized():
            return
        parts = url.path.strip("/").split("/")
        if len(parts) == 5 and parts[:3] == ["api", "v1", "namespaces"] and parts[4] == "events":
            ev = self.body()
            with cond:
                state["events"].append(ev)
            return self.reply(201, ev)
        route = object_route(parts)
        if route and route[0] and route[2] is None:
            return self.write_object("POST", route[0], route[1], None, url)
        self.reply(404, status(404, "NotFound", "no such collection " + url.path))

    def do_PUT(self):
        self.object_verb("PUT")

    def do_DELETE(self):
        self.object_verb("DELETE")

    def object_verb(self, method):
        url = urllib.parse.urlparse(self.path)
        if not self.authorized():
            return
        route = object_route(url.path.strip("/").split("/"))
        if not route or not route[0] or route[2] is None:
            return self.reply(405, status(405, "MethodNotAllowed", "%s is not supported on %s" % (method, url.path)))
        self.write_object(method, route[0], route[1], route[2], url)

    def write_object(self, method, resource, namespace, name, url):
        body = self.body() if method != "DELETE" else {}
        manager = urllib.parse.parse_qs(url.query).get("fieldManager", [""])[0]
        with cond:
            code, answer = self.apply_write(method, resource, namespace, name, body)
            meta = answer.get("metadata", {}) if isinstance(answer, dict) else {}
            state["writes"].append({"method": method, "resource": resource, "namespace": namespace,
                                    "name": name or meta.get("name", ""), "fieldManager": manager, "code": code, "time": time.time()})
        self.reply(code, answer)

    def apply_write(self, method, resource, namespace, name, body):
        # Called with cond held.
        for fault in state["faults"]:
            if fault["count"] > 0 and fault["method"] == method and fault["resource"] == resource:
                fault["count"] -= 1
                return fault["code"], status(fault["code"], "InternalError" if fault["code"] >= 500 else "Injected", "injected failure")
        objs = state["objects"].setdefault(resource, {})
        if method != "DELETE" and not isinstance(body, dict):
            return 400, status(400, "BadRequest", "the request body is not a JSON object")
        if method == "POST":
            meta = body.get("metadata") or {}
            if not meta.get("name"):
                return 422, status(422, "Invalid", "metadata.name: Required value")
            if meta.get("namespace", namespace) != namespace:
                return 400, status(400, "BadRequest", "the namespace of the provided object does not match the namespace sent on the request")
            if namespace:
                meta["namespace"] = namespace
            body["metadata"] = meta
            key = "%s/%s" % (namespace, meta["name"])
            if key in objs:
                return 409, status(409, "AlreadyExists", '%s "%s" already exists' % (resource, meta["name"]))
            meta.pop("resourceVersion", None)
            meta["creationTimestamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            stored = record(resource, "ADDED", body)
            objs[key] = stored
            return 201, stored
        key = "%s/%s" % (namespace, name)
        if key not in objs:
            return 404, status(404, "NotFound", '%s "%s" not found' % (resource, name))
        if method == "DELETE":
            record(resource, "DELETED", objs.pop(key))
            return 200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}
        meta = body.get("metadata") or {}
        if meta.get("name") != name:
            return 400, status(400, "BadRequest", "the name of the object (%s) does not match the name on the URL (%s)" % (meta.get("name"), name))
        current = objs[key]["metadata"]
        if meta.get("resourceVersion") and meta["resourceVersion"] != current["resourceVersion"]:
            return 409, status(409, "Conflict", 'Operation cannot be fulfilled on %s "%s": the object has been modified; '
                                                'please apply your changes to the latest version and try again' % (resource, name))
        if namespace:
            meta["namespace"] = namespace
        meta["uid"] = current["uid"]
        meta["creationTimestamp"] = current.get("creationTimestamp")
        body["metadata"] = meta
        stored = record(resource, "MODIFIED", body)
        objs[key] = stored
        return 200, stored

    def control(self, what, req):
        with cond:
            if what == "put":
                res, obj = req["resource"], req["object"]
                objs = state["objects"].setdefault(res, {})
                kind = "MODIFIED" if obj_key(obj) in objs else "ADDED"
                stored = record(res, kind, obj)
                objs[obj_key(obj)] = stored
                return self.reply(200, {"resourceVersion": stored["metadata"]["resourceVersion"]})
            if what == "delete":
                objs = state["objects"].setdefault(req["resource"], {})
                key = "%s/%s" % (req.get("namespace", ""), req["name"])
                if key not in objs:
                    return self.reply(404, status(404, "NotFound", key))
                stored = record(req["resource"], "DELETED", objs.pop(key))
                return self.reply(200, {"resourceVersion": stored["metadata"]["resourceVersion"]})
            if what == "secret":
                state["secrets"]["%s/%s" % (req["namespace"], req["name"])] = {
                    "apiVersion": "v1", "kind": "Secret", "type": req.get("type", "Opaque"),
                    "metadata": {"name": req["name"], "namespace": req["namespace"]}, "data": req["data"]}
            elif what == "drop":
                state["drop"] += 1
            elif what == "expire":
                state["compacted"] = state["rv"]
                state["rv"] += 1
            elif what == "garbage":
                state["garbage"] += 1
            elif what == "token":
                state["token"] = req["token"]
            elif what == "bookmark":
                state["bookmark"] += 1
            elif what == "list410":
                state["list410"] = req.get("count", 1)
            elif what == "state":
                pass
            elif what == "writes":
                return self.reply(200, {"writes": state["writes"]})
            elif what == "objects":
                return self.reply(200, {"items": list(state["objects"].get(req["resource"], {}).values())})
            elif what == "fail":
                state["faults"].append({"method": req["method"], "resource": req["resource"], "code": req["code"], "count": req.get("count", 1)})
            else:
                return self.reply(404, {"error": "unknown control " + what})
            cond.notify_all()
            return self.reply(200, {k: state[k] for k in ("rv", "lists", "watches", "open_watches", "unauthorized", "events", "compacted")})

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        if url.path in ("/_control/state", "/_control/writes"):
            return self.control(url.path[len("/_control/"):], {})
        if url.path == "/_control/objects":
            return self.control("objects", {"resource": urllib.parse.parse_qs(url.query).get("resource", [""])[0]})
        if not self.authorized():
            return
        q = urllib.parse.parse_qs(url.query)
        parts = url.path.strip("/").split("/")
        if len(parts) == 6 and parts[:3] == ["api", "v1", "namespaces"] and parts[4] == "secrets":
            with cond:
                secret = state["secrets"].get("%s/%s" % (parts[3], parts[5]))
            if secret is None:
                return self.reply(404, status(404, "NotFound", 'secrets "%s" not found' % parts[5]))
            return self.reply(200, secret)
        route = object_route(parts)
        if route and route[0] and q.get("watch") != ["true"]:
            resource, namespace, name = route
            with cond:
                objs = state["objects"].get(resource, {})
                if name is None:
                    state["lists"] += 1
                    items = [o for o in objs.values() if o.get("metadata", {}).get("namespace", "") == namespace]
                    return self.reply(200, {"kind": "List", "apiVersion": "v1", "metadata": {"resourceVersion": str(state["rv"])}, "items": items})
                obj = objs.get("%s/%s" % (namespace, name))
            if obj is None:
                return self.reply(404, status(404, "NotFound", '%s "%s" not found' % (resource, name)))
            return self.reply(200, obj)
        if len(parts) == 4 and parts[:3] == ["api", "v1", "namespaces"]:
            with cond:
                ns = state["objects"].get("namespaces", {}).get("/" + parts[3])
            if ns is None:
                return self.reply(404, status(404, "NotFound", 'namespaces "%s" not found' % parts[3]))
            return self.reply(200, ns)
        if len(parts) == 3 and parts[:2] == ["api", "v1"]:
            resource = parts[2]   # core collections (namespaces) are named by their plural alone
        elif len(parts) != 4 or parts[0] != "apis":
            return self.reply(404, status(404, "NotFound", "the server could not find the requested resource"))
        else:
            resource = "%s.%s" % (parts[3], parts[1])
        if q.get("watch") == ["true"]:
            return self.watch(resource, q)
        with cond:
            state["lists"] += 1
            if state["list410"] > 0:
                state["list410"] -= 1
                return self.reply(410, status(410, "Expired", "The provided continue parameter is too old"))
            items = list(state["objects"].get(resource, {}).values())
            rv = str(state["rv"])
        self.reply(200, {"kind": "List", "apiVersion": "v1", "metadata": {"resourceVersion": rv}, "items": items})

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def send_event(self, kind, obj):
        self.chunk(json.dumps({"type": kind, "object": obj}).encode() + b"\n")

    def watch(self, resource, q):
        try:
            since = int(q.get("resourceVersion", ["0"])[0] or 0)
        except ValueError:
            return self.reply(400, status(400, "BadRequest", "invalid resourceVersion"))
        timeout = float(q.get("timeoutSeconds", ["1800"])[0])
        bookmarks = q.get("allowWatchBookmarks") == ["true"]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        with cond:
            state["watches"] += 1
            state["open_watches"] += 1
            drop, garbage, bookmark = state["drop"], state["garbage"], state["bookmark"]
        end = time.time() + timeout
        next_bookmark = time.time() + args.bookmark_interval if args.bookmark_interval else None
        try:
            while time.time() < end:
                with cond:
                    if since < state["compacted"]:
                        pending = [("ERROR", status(410, "Expired", "too old resource version: %d (%d)" % (since, state["compacted"])))]
                        end = 0
                    else:
                        pending = [(k, o) for (rv, r, k, o) in state["log"] if r == resource and rv > since]
                        if pending:
                            since = int(pending[-1][1]["metadata"]["resourceVersion"])
                    if not pending and state["drop"] == drop and state["garbage"] == garbage and state["bookmark"] == bookmark:
                        cond.wait(0.1)
                    dropped = state["drop"] != drop
                    send_garbage = state["garbage"] != garbage
                    send_bookmark = bookmarks and (state["bookmark"] != bookmark or (next_bookmark and time.time() >= next_bookmark))
                    garbage, bookmark = state["garbage"], state["bookmark"]
                    current = state["rv"]
                if dropped:
                    self.close_connection = True
                    return
                for kind, obj in pending:
                    self.send_event(kind, obj)
                if send_garbage:
                    self.chunk(b'{"type": "ADDED", "object": {not json\n')
                if send_bookmark and since >= state["compacted"]:
                    since = max(since, current)
                    self.send_event("BOOKMARK", {"kind": "Status", "metadata": {"resourceVersion": str(since)}})
                    if next_bookmark:
                        next_bookmark = time.time() + args.bookmark_interval
            self.chunk(b"")
        except OSError:
            self.close_connection = True
        finally:
            with cond:
                state["open_watches"] -= 1

class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

def watchdog(parent):
    # Exit with the test process that started us (and after 15 minutes at most), so nothing leaks.
    deadline = time.time() + 900
    while os.getppid() == parent and time.time() < deadline:
        time.sleep(0.5)
    os._exit(0)

threading.Thread(target=watchdog, args=(os.getppid(),), daemon=True).start()
server = Server(("127.0.0.1", 0), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(args.cert, args.key)
server.socket = ctx.wrap_socket(server.socket, server_side=True)
print("listening", server.server_address[1], flush=True)
server.serve_forever()
