"""Calls the six newer Usage operations of the official Genesys Cloud Python SDK, unchanged,
against the local stand-in, to check that the SDK parses every answer.

Run by hand, not by CI (it needs PyPI and a running stand-in):

    python3 -m venv /tmp/pysdk && /tmp/pysdk/bin/pip install purecloudplatformclientv2==269.0.0
    cargo run -p usage-sdk-stand-in -- 47123 --execution-ms 1000 &
    /tmp/pysdk/bin/python tests/official-sdk/check_new_operations.py [http://127.0.0.1:47123]

It prints one line per call (method, arguments, outcome) and exits non-zero on the first
call whose outcome is not the expected one.
"""

import sys
import time

import PureCloudPlatformClientV2 as gc
from PureCloudPlatformClientV2.rest import ApiException

HOST = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:47123"
# The stand-in's demo client (usage-sdk/stand-in/src/data.rs).
CLIENT_ID = "6f1c2b1e-0000-4000-8000-00000000c1d0"
CLIENT_SECRET = "demo-client-secret"
BUILTIN_CLIENT_ID = "b1a7c0de-0000-4000-8000-0000000b1170"


def log(call, outcome):
    print(f"{call}\n    -> {outcome}", flush=True)


def check(condition, message):
    if not condition:
        print(f"FAILED: {message}", flush=True)
        sys.exit(1)


def interval(days_back_start, days_back_end):
    today = time.gmtime()
    midnight = time.mktime(time.struct_time(today[:3] + (0, 0, 0) + today[6:])) - time.timezone
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    return (time.strftime(fmt, time.gmtime(midnight - days_back_start * 86400)) + "/"
            + time.strftime(fmt, time.gmtime(midnight - days_back_end * 86400)))


def poll(fetch, label):
    """Calls fetch() until the status is terminal; returns the last response."""
    seen = []
    for _ in range(100):
        response = fetch()
        status = getattr(response, "query_status", None)
        if not seen or seen[-1] != status:
            seen.append(status)
        if status not in ("Queued", "Running"):
            log(f"{label} (polled)", f"statuses seen: {' -> '.join(map(str, seen))}")
            return response
        time.sleep(0.2)
    check(False, f"{label} never finished")


def main():
    gc.configuration.host = HOST
    api_client = gc.api_client.ApiClient().get_client_credentials_token(CLIENT_ID, CLIENT_SECRET)
    log("ApiClient().get_client_credentials_token(demo id, demo secret)",
        f"token of {len(api_client.access_token)} characters")
    usage = gc.UsageApi(api_client)
    week = interval(8, 1)

    # 1. Organization job: submit, poll, page through with `after`.
    body = gc.OrganizationPublicApiUsageQueryRequest()
    body.interval = week
    body.granularity = "Day"
    body.group_by = ["OauthClientId", "TemplateUri", "HttpMethod", "Platform"]
    body.sort_by = [gc.UsageQuerySortBy()]
    body.sort_by[0].field_name = "requestCount"
    body.sort_by[0].order = "Desc"
    submitted = usage.post_usage_aggregates_query_jobs(body)
    log(f"post_usage_aggregates_query_jobs(interval={week}, granularity=Day, groupBy=[...], "
        "sortBy=requestCount Desc)", f"id={submitted.id} results_uri={submitted.results_uri}")
    check(submitted.id and submitted.results_uri.endswith(submitted.id), "job id and resultsUri")
    org_job_id = submitted.id

    first = poll(lambda: usage.get_usage_aggregates_query_job(submitted.id, page_size=50),
                 f"get_usage_aggregates_query_job({submitted.id}, page_size=50)")
    check(first.query_status == "Succeeded", f"succeeded, got {first.query_status}")
    rows = list(first.entities)
    pages, page = 1, first
    while page.next_uri:
        after = page.next_uri.split("after=")[1]
        page = usage.get_usage_aggregates_query_job(submitted.id, page_size=50, after=after)
        rows.extend(page.entities)
        pages += 1
    log(f"get_usage_aggregates_query_job({submitted.id}, page_size=50, after=...) until no next_uri",
        f"{pages} pages, {len(rows)} rows; first row: client={rows[0].oauth_client.name!r} "
        f"date={rows[0].date!r} platform={rows[0].platform!r} method={rows[0].http_method} "
        f"template={rows[0].template_uri} requestCount={rows[0].request_count}")
    check(pages > 1, "more than one page of 50")
    counts = [r.request_count for r in rows]
    check(counts == sorted(counts, reverse=True), "sorted by requestCount, descending")
    check(any(r.oauth_client.id == BUILTIN_CLIENT_ID for r in rows), "the built-in client is there")

    # 2. Client job.
    client_body = gc.ClientPublicApiUsageQueryRequest()
    client_body.interval = week
    client_body.group_by = ["OrganizationId", "HttpMethod"]
    client_body.metrics = ["Requests", "Status429"]
    submitted = usage.post_usage_client_client_id_aggregates_query_jobs(CLIENT_ID, client_body)
    log(f"post_usage_client_client_id_aggregates_query_jobs({CLIENT_ID}, interval={week}, "
        "groupBy=[OrganizationId, HttpMethod], metrics=[Requests, Status429])",
        f"id={submitted.id} results_uri={submitted.results_uri}")
    result = poll(lambda: usage.get_usage_client_client_id_aggregates_query_job(CLIENT_ID, submitted.id),
                  f"get_usage_client_client_id_aggregates_query_job({CLIENT_ID}, {submitted.id})")
    check(result.query_status == "Succeeded", f"succeeded, got {result.query_status}")
    log(f"get_usage_client_client_id_aggregates_query_job({CLIENT_ID}, {submitted.id})",
        f"{len(result.entities)} rows: " + "; ".join(
            f"org={r.organization_id} method={r.http_method} requestCount={r.request_count} "
            f"status429={r.status429} status200={r.status200}" for r in result.entities))
    check(all(r.status200 is None and r.request_count is not None for r in result.entities),
          "only the requested metrics")

    # 3. Simple search: submit, poll, page with cursors.after.
    search = gc.ApiUsageSimpleSearch()
    search.interval = week
    search.metrics = ["Date", "ClientName", "TemplateUri", "HttpMethod", "Status200", "Status429"]
    search.http_methods = ["GET", "POST"]
    submitted = usage.post_usage_simplesearch(search)
    log(f"post_usage_simplesearch(interval={week}, metrics=[Date, ClientName, TemplateUri, "
        "HttpMethod, Status200, Status429], httpMethods=[GET, POST])",
        f"execution_id={submitted.execution_id} results_uri={submitted.results_uri}")
    first = poll(lambda: usage.get_usage_simplesearch_execution_id_results(submitted.execution_id, page_size=25),
                 f"get_usage_simplesearch_execution_id_results({submitted.execution_id}, page_size=25)")
    check(first.query_status == "Complete", f"complete, got {first.query_status}")
    rows, pages, page = list(first.results), 1, first
    while page.cursors and page.cursors.after:
        page = usage.get_usage_simplesearch_execution_id_results(
            submitted.execution_id, page_size=25, after=page.cursors.after)
        rows.extend(page.results)
        pages += 1
    log(f"get_usage_simplesearch_execution_id_results({submitted.execution_id}, page_size=25, "
        "after=cursors.after) until no cursor",
        f"{pages} pages, {len(rows)} rows; first row: date={rows[0].date!r} "
        f"client={rows[0].client_name!r} {rows[0].http_method} {rows[0].template_uri} "
        f"status200={rows[0].status200} status429={rows[0].status429}")
    check(pages > 1 and all(r.http_method in ("GET", "POST") for r in rows), "paged, filtered")

    # 4. An error: pageSize 1001.
    try:
        usage.get_usage_aggregates_query_job(org_job_id, page_size=1001)
        check(False, "pageSize 1001 must be refused")
    except ApiException as e:
        log(f"get_usage_aggregates_query_job({org_job_id}, page_size=1001)",
            f"ApiException status={e.status} body={e.body}")
        check(e.status == 400 and "invalid.query.param.value" in e.body, "400 invalid.query.param.value")

    print("OK: every call parsed", flush=True)


if __name__ == "__main__":
    main()
