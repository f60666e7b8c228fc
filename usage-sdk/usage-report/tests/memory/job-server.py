# A loopback aggregates job of PAGES pages of 1000 rows, for measuring usage-report's memory
# (not part of the tests; the figures in src/plan.rs come from it):
#   python3 usage-sdk/usage-report/tests/memory/job-server.py 18767 250 &
#   GENESYSCLOUD_API_REGION=http://127.0.0.1:18767 GENESYSCLOUD_ACCESS_TOKEN=t \
#     /usr/bin/time -f '%M KB' target/release/usage-report --resume j-1 --format table > /dev/null
import http.server, json, sys, urllib.parse
PAGES = int(sys.argv[2])
rows = [{"date": "2026-11-%02d" % (1 + i % 28), "oauthClient": {"id": "c-%d" % (i % 50), "name": "Client %d" % (i % 50)},
         "templateUri": "/api/v2/things/%d" % (i % 300), "httpMethod": "GET", "platform": "PureCloud",
         "requestCount": 100 + i, "status200": 90 + i, "status429": i % 7} for i in range(1000)]
body_rows = json.dumps(rows)
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_GET(self):
        q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        n = int(q.get("after", ["0"])[0])
        nxt = ',"nextUri":"/api/v2/usage/aggregates/query/jobs/j-1?pageSize=1000&after=%d"' % (n + 1) if n + 1 < PAGES else ""
        b = ('{"queryStatus":"Succeeded","entities":%s%s}' % (body_rows, nxt)).encode()
        self.send_response(200); self.send_header("content-type", "application/json"); self.send_header("content-length", str(len(b))); self.end_headers(); self.wfile.write(b)
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
