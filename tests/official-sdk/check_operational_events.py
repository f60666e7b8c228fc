"""Calls the four operational events operations (`OperationalEventsApi`) of the official Genesys
Cloud Python SDK, unchanged, against the local stand-in, to check that the SDK parses every
answer and that the stand-in answers as reference section 11 says.

Run by hand, not by CI (it needs PyPI and a running stand-in); the same venv serves
check_new_operations.py beside it:

    python3 -m venv /tmp/pysdk && /tmp/pysdk/bin/pip install purecloudplatformclientv2==269.0.0
    cargo run -p usage-sdk-stand-in -- 47123 &
    /tmp/pysdk/bin/python tests/official-sdk/check_operational_events.py [http://127.0.0.1:47123]

(The official SDK's PyPI name is `purecloudplatformclientv2`, module
`PureCloudPlatformClientV2`; there is no `genesyscloud` package.)

It prints one line per call (method, arguments, outcome), then the fields of the stand-in's
answers that the SDK's models have no attribute for (dropped silently by the SDK), and exits
non-zero on the first call whose outcome is not the expected one.
"""

import datetime as dt
import json
import sys
from urllib.parse import parse_qs, urlsplit

import PureCloudPlatformClientV2 as gc
from PureCloudPlatformClientV2.rest import ApiException

HOST = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:47123"
# The stand-in's demo client (usage-sdk/stand-in/src/data.rs).
CLIENT_ID = "6f1c2b1e-0000-4000-8000-00000000c1d0"
CLIENT_SECRET = "demo-client-secret"
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"

# Raw JSON keys the SDK had no attribute for: {model name: {key, ...}}.
UNREAD = {}


def log(call, outcome):
    print(f"{call}\n    -> {outcome}", flush=True)


def check(condition, message):
    if not condition:
        print(f"FAILED: {message}", flush=True)
        sys.exit(1)


def interval(days_back_start, days_back_end):
    """Whole UTC days: from midnight `days_back_start` days ago to midnight `days_back_end` ago."""
    midnight = dt.datetime.now(dt.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    return ((midnight - dt.timedelta(days=days_back_start)).strftime(fmt) + "/"
            + (midnight - dt.timedelta(days=days_back_end)).strftime(fmt))


def note_unread(raw, model):
    """Records the keys of `raw` (the JSON) that `model` (what the SDK made of it) dropped."""
    if isinstance(raw, list) and isinstance(model, list):
        for r, m in zip(raw, model):
            note_unread(r, m)
    elif isinstance(raw, dict) and hasattr(model, "attribute_map"):
        by_json = {v: k for k, v in model.attribute_map.items()}
        for key, value in raw.items():
            if key not in by_json:
                UNREAD.setdefault(type(model).__name__, set()).add(key)
            else:
                note_unread(value, getattr(model, by_json[key]))


def last_json(api):
    return json.loads(api.api_client.last_response.data)


def error_of(e):
    """(status, code, message, contextId, ININ-Correlation-Id) of an ApiException."""
    body = json.loads(e.body)
    correlation = e.headers.get("ININ-Correlation-Id") if e.headers else None
    return e.status, body.get("code"), body.get("message"), body.get("contextId"), correlation


def expect_error(label, call, status, code):
    try:
        call()
    except ApiException as e:
        got_status, got_code, message, context_id, correlation = error_of(e)
        log(label, f"ApiException status={got_status} code={got_code} message={message!r} "
            f"contextId==ININ-Correlation-Id: {context_id == correlation}")
        check(got_status == status and got_code == code, f"{status} {code}")
        return
    check(False, f"{label} must fail with {status} {code}")


def read_all(events, body, page_size):
    """post_usage_events_query, then `after=` from each next_uri until there is none."""
    page = events.post_usage_events_query(body=body, page_size=page_size)
    note_unread(last_json(events), page)
    pages, rows, afters = [page], list(page.entities or []), []
    while page.next_uri:
        query = parse_qs(urlsplit(page.next_uri).query)
        check(query.get("pageSize") == [page_size], f"nextUri keeps pageSize: {page.next_uri}")
        after = query["after"][0]
        afters.append(after)
        page = events.post_usage_events_query(body=body, page_size=page_size, after=after)
        note_unread(last_json(events), page)
        pages.append(page)
        rows.extend(page.entities or [])
    return pages, rows, afters


def main():
    gc.configuration.host = HOST
    api_client = gc.api_client.ApiClient().get_client_credentials_token(CLIENT_ID, CLIENT_SECRET)
    log("ApiClient().get_client_credentials_token(demo id, demo secret)",
        f"token of {len(api_client.access_token)} characters")
    events = gc.OperationalEventsApi(api_client)

    # 1. Definitions: the listing, one by id, an unknown id.
    listing = events.get_usage_events_definitions()
    note_unread(last_json(events), listing)
    ids = [d.id for d in listing.entities]
    log("get_usage_events_definitions()",
        f"{len(ids)} definitions: " + "; ".join(f"{d.name!r}" for d in listing.entities))
    check(ids and all(d.id and d.name and d.description for d in listing.entities),
          "definitions with id, name, description")
    one = events.get_usage_events_definition(ids[0])
    note_unread(last_json(events), one)
    log(f"get_usage_events_definition({ids[0]})", f"name={one.name!r} description={one.description!r}")
    check(one.to_dict() == listing.entities[0].to_dict(), "the same definition as in the listing")
    expect_error(f"get_usage_events_definition({UNKNOWN_ID})",
                 lambda: events.get_usage_events_definition(UNKNOWN_ID), 404, "entity.not.found")

    # 2. The query, page by page, newest first, then the aggregates for the same interval.
    week = interval(8, 1)
    body = gc.EventQueryRequest()
    body.interval = week
    body.sort_order = "DESC"
    pages, rows, afters = read_all(events, body, "5")
    log(f"post_usage_events_query(body=EventQueryRequest(interval={week}, sort_order=DESC), "
        "page_size='5'), then after=<from next_uri> until no next_uri",
        f"{len(pages)} pages of {[len(p.entities or []) for p in pages]}, {len(rows)} events; "
        f"previous_uri on first page: {pages[0].previous_uri!r}, on last: {pages[-1].previous_uri!r}; "
        f"self_uri={pages[0].self_uri!r}; first after={afters[0] if afters else None}")
    check(len(pages) > 1, "more than one page of 5")
    check(all(len(p.entities) == 5 for p in pages[:-1]) and 1 <= len(pages[-1].entities) <= 5,
          "full pages but the last")
    check(pages[0].previous_uri is None and all(p.previous_uri for p in pages[1:]),
          "previous_uri on every page but the first")
    keys = [(e.event_definition.id, e.entity_token, e.date_created) for e in rows]
    check(len(set(keys)) == len(keys), "no event repeats")
    start, end = (dt.datetime.fromisoformat(t.replace("Z", "+00:00")) for t in week.split("/"))
    check(all(isinstance(e.date_created, dt.datetime) and e.date_created.tzinfo is not None
              for e in rows), "date_created is an aware datetime")
    check(all(start <= e.date_created < end for e in rows), "every event in the interval")
    check(all(e.event_definition is not None and e.event_definition.id in ids for e in rows),
          "event_definition.id set, and a listed definition")
    dates = [e.date_created for e in rows]
    check(dates == sorted(dates, reverse=True), "DESC: newest first")
    per_definition = {}
    for e in rows:
        per_definition[e.event_definition.id] = per_definition.get(e.event_definition.id, 0) + 1
    fields = sorted({k for e in rows for k, v in e.to_dict().items() if v is not None})
    log("  (the events as the SDK made them)",
        f"all date_created datetimes (UTC), all event_definition.id listed; fields seen: {fields}; "
        f"newest {dates[0].isoformat()}, oldest {dates[-1].isoformat()}")

    aggregates_body = gc.EventAggregatesQueryRequest()
    aggregates_body.interval = week
    counts = events.post_usage_events_aggregates_query(body=aggregates_body)
    note_unread(last_json(events), counts)
    by_id = {a.event_definition.id: a.event_count for a in counts.event_definition_aggregates}
    log(f"post_usage_events_aggregates_query(body=EventAggregatesQueryRequest(interval={week}))",
        f"interval={counts.interval!r}; counts {by_id}; sum {sum(by_id.values())}")
    check(all(isinstance(n, int) for n in by_id.values()), "event_count is an int")
    check(sum(by_id.values()) == len(rows), f"sum of counts {sum(by_id.values())} == {len(rows)} events")
    check(by_id == per_definition, "the same count per definition as the query")

    # 3. ASC reads the same events, oldest first; previous_uri (before=) leads back.
    body_asc = gc.EventQueryRequest()
    body_asc.interval = week
    body_asc.sort_order = "ASC"
    pages_asc, rows_asc, _ = read_all(events, body_asc, "50")
    check([e.entity_token for e in rows_asc] == [e.entity_token for e in reversed(rows)],
          "ASC is DESC reversed")
    before = parse_qs(urlsplit(pages_asc[-1].previous_uri).query)["before"][0]
    back = events.post_usage_events_query(body=body_asc, page_size="50", before=before)
    log(f"post_usage_events_query(body=EventQueryRequest(interval={week}, sort_order=ASC), "
        "page_size='50') through after=, then before=<from the last page's previous_uri>",
        f"{len(pages_asc)} pages, {len(rows_asc)} events, oldest first; the before= page has "
        f"{len(back.entities)} events, equal to page {len(pages_asc) - 1}: "
        f"{[e.entity_token for e in back.entities] == [e.entity_token for e in pages_asc[-2].entities]}")
    check([e.entity_token for e in back.entities] == [e.entity_token for e in pages_asc[-2].entities],
          "before= gives the page before")

    # 4. Filters: one definition, and a search term.
    busiest = max(by_id, key=by_id.get)
    only = gc.EventQueryRequest()
    only.interval = week
    only.event_definition_ids = [busiest]
    _, rows_one, _ = read_all(events, only, "200")
    log(f"post_usage_events_query(body=EventQueryRequest(interval={week}, "
        f"event_definition_ids=[{busiest}]), page_size='200')",
        f"{len(rows_one)} events, all of that definition: "
        f"{all(e.event_definition.id == busiest for e in rows_one)}")
    check(len(rows_one) == by_id[busiest] and all(e.event_definition.id == busiest for e in rows_one),
          "the definition's count, only its events")
    term = gc.EventQueryRequest()
    term.interval = week
    term.search_term = "TIMEOUTSECONDS"
    _, rows_term, _ = read_all(events, term, "200")
    log(f"post_usage_events_query(body=EventQueryRequest(interval={week}, "
        "search_term='TIMEOUTSECONDS'), page_size='200')",
        f"{len(rows_term)} events, all with timeoutSeconds in a value: "
        f"{all('timeoutSeconds' in (e.previous_value or '') for e in rows_term)}")
    check(rows_term and all("timeoutSeconds" in (e.previous_value or "") for e in rows_term),
          "case-insensitive search")

    # 5. Errors.
    expect_error(f"post_usage_events_query(body=EventQueryRequest(interval={week}), page_size='201')",
                 lambda: events.post_usage_events_query(body=body, page_size="201"),
                 400, "invalid.query.param.value")
    old = interval(2 * 365 + 7, 2 * 365)
    old_body = gc.EventQueryRequest()
    old_body.interval = old
    expect_error(f"post_usage_events_query(body=EventQueryRequest(interval={old}), page_size='5')",
                 lambda: events.post_usage_events_query(body=old_body, page_size="5"),
                 400, "usage.events.too.old")
    old_aggregates = gc.EventAggregatesQueryRequest()
    old_aggregates.interval = old
    expect_error(f"post_usage_events_aggregates_query(body=EventAggregatesQueryRequest(interval={old}))",
                 lambda: events.post_usage_events_aggregates_query(body=old_aggregates),
                 400, "usage.events.too.old")

    if UNREAD:
        print("Fields the stand-in sent that the SDK 269 models have no attribute for (dropped):",
              flush=True)
        for model, keys in sorted(UNREAD.items()):
            print(f"    {model}: {sorted(keys)}", flush=True)
    print("OK: every call parsed", flush=True)


if __name__ == "__main__":
    main()
