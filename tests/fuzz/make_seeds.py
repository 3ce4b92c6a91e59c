#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets (tests/fuzz/seeds/<target>/) from what real parties said:
the recorded FATE-Flow conversation (tests/system/data/interop-bodies-callback.jsonl) and the committed
event log fixture (tests/fixtures/log-2026-12-02). Run from the repository root; the seeds are committed,
so a fresh clone fuzzes without this script."""
import base64, io, json, os, tarfile, zipfile, hashlib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SEEDS = os.path.join(ROOT, "tests", "fuzz", "seeds")


def put(target, data):
    folder = os.path.join(SEEDS, target)
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(folder, hashlib.sha1(data).hexdigest()[:16]), "wb") as f:
        f.write(data)


def http_request(method, target, headers, body=b""):
    lines = [f"{method} {target} HTTP/1.1", "host: 127.0.0.1:9380"]
    lines += [f"{k}: {v}" for k, v in headers.items() if k not in ("host", "content-length")]
    if body:
        lines.append(f"content-length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


conversation = [json.loads(l) for l in open(os.path.join(ROOT, "tests/system/data/interop-bodies-callback.jsonl"))]
dags = []
for call in conversation:
    body = json.dumps(call["request"]).encode()
    put("http", http_request("POST", call["path"], call["headers"], body))
    if isinstance(call["request"], dict) and "dag" in call["request"]:
        dags.append({"dag": call["request"]["dag"], "schema_version": call["request"].get("schema_version", "2.0.0")})

# What the flow client sends (shared/reference/client-api.md): queries, a submit, a multipart upload.
put("http", http_request("GET", "/v2/job/query?job_id=202611212306158222940&role=guest&party_id=9999", {}))
put("http", http_request("GET", "/v2/job/list/query?limit=10&page=2&status[]=running&status[]=failed", {}))
if dags:
    put("http", http_request("POST", "/v2/job/submit", {"content-type": "application/json"},
                             json.dumps({"dag_schema": dags[0]}).encode()))
boundary = "4f0c2b9c7e"
form = (f"--{boundary}\r\ncontent-disposition: form-data; name=\"head\"\r\n\r\ntrue\r\n"
        f"--{boundary}\r\ncontent-disposition: form-data; name=\"partitions\"\r\n\r\n4\r\n"
        f"--{boundary}\r\ncontent-disposition: form-data; name=\"meta\"\r\n\r\n{{\"delimiter\": \",\"}}\r\n"
        f"--{boundary}\r\ncontent-disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n"
        f"content-type: text/csv\r\n\r\nid,x\r\n1,0.5\r\n--{boundary}--\r\n").encode()
put("http", http_request("POST", "/v2/data/component/upload/file",
                         {"content-type": f"multipart/form-data; boundary={boundary}"}, form))
put("http", http_request("POST", "/v2/worker/metric/save/abc_0", {"content-type": "application/json"},
                         b'{"data": [{"name": "loss", "type": "loss", "groups": [], "data": [[0, 0.5]]}]}'))

for dag in dags[:4]:
    put("dag", json.dumps(dag))
    try:
        import yaml
        put("yaml", yaml.safe_dump(dag))
    except ImportError:
        pass
put("yaml", "a: 1\nb: [true, null, 0x1f, 1e3, '01']\nc: {d: ~, e: \"x\\ty\"}\n")

for party in os.listdir(os.path.join(ROOT, "tests/fixtures/log-2026-12-02")):
    seen = set()
    for line in open(os.path.join(ROOT, "tests/fixtures/log-2026-12-02", party, "events.jsonl")):
        event = json.loads(line)
        payload = base64.b64decode(event["payload"])
        kind = event["stream"].split(":")[0]
        if (kind, len(payload)) in seen:
            continue
        seen.add((kind, len(payload)))
        put("events", payload)

members = {"a_0/output_model/0/model.json": b'{"w": [1, 2]}', "a_0/output_model/0/model.meta.yaml": b"type: json\n"}
for fmt in ("tar", "tar.gz"):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz" if fmt == "tar.gz" else "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    put("archive", buffer.getvalue())
buffer = io.BytesIO()
with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
    for name, data in members.items():
        z.writestr(name, data)
put("archive", buffer.getvalue())
print("seeds:", {t: len(os.listdir(os.path.join(SEEDS, t))) for t in sorted(os.listdir(SEEDS))})
