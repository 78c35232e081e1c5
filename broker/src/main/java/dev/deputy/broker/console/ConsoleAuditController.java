package dev.deputy.broker.console;

import dev.deputy.broker.admin.AuditVerification;
import dev.deputy.broker.admin.ConsoleGate;
import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.audit.AuditEntryView;
import dev.deputy.broker.audit.AuditFeed;
import dev.deputy.broker.audit.AuditQuery;
import dev.deputy.broker.audit.AuditStore;
import dev.deputy.broker.audit.DelegationTrail;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpMethod;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.micronaut.security.annotation.Secured;
import io.micronaut.security.authentication.Authentication;
import io.micronaut.security.rules.SecurityRule;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The console's audit pages: search ({@code GET /console/t/<tenant>/audit}, newest first, keyset pages), an entry
 * ({@code …/audit/<seq>}), the delegation chain behind it ({@code …/audit/<seq>/chain}), the live stream
 * ({@code …/audit/live}: a static script follows the admin API's SSE stream with the session cookie), and verifying
 * the chain ({@code …/audit/verify}, a form post). Every request is decided by the admin API's own authorization for
 * the route that reads the same thing ({@link ConsoleGate}): {@code GET /admin/t/<tenant>/audit/entries}, {@code …/stream},
 * {@code …/verify}. Auditors, tenant admins and super admins read; an agent owner is refused, as by the API.
 */
@Controller("/console/t/{tenant}/audit")
@Secured(SecurityRule.IS_ANONYMOUS)
@ExecuteOn(TaskExecutors.BLOCKING)
class ConsoleAuditController {
    static final int PAGE_SIZE = 50;
    private static final Pattern SEQ = Pattern.compile("[0-9]{1,18}");
    private static final Pattern DURATION = Pattern.compile("^(\\d{1,9})([smhd])$");
    private static final com.fasterxml.jackson.databind.ObjectWriter PRETTY =
            new com.fasterxml.jackson.databind.ObjectMapper().writerWithDefaultPrettyPrinter();
    private static final List<String> OUTCOMES = List.of("success", "failure", "allow", "deny", "info");
    private static final List<String> FILTERS = List.of("user", "agent", "client", "resource", "correlation_id",
            "request_id", "type", "outcome", "since", "until");

    /** A refusal's way back: the console home (an admin refused the audit pages may read other tenants). */
    private static final ConsoleTenantPages.Back BACK = ConsoleTenantPages.Back.to("/console", "Back to the console");

    private final ConsoleTenantPages pages;
    private final AuditStore audit;
    private final AuditFeed feed;
    private final AuditVerification verification;

    ConsoleAuditController(ConsoleTenantPages pages, AuditStore audit, AuditFeed feed, AuditVerification verification) {
        this.pages = pages;
        this.audit = audit;
        this.feed = feed;
        this.verification = verification;
    }

    /** The search form's values as given (trimmed; null when empty), in the order of {@link #FILTERS}. */
    private static Map<String, String> filters(HttpRequest<?> request) {
        Map<String, String> f = new LinkedHashMap<>();
        for (String k : FILTERS) {
            f.put(k, trim(request.getParameters().get(k)));
        }
        return f;
    }

    @Get(produces = MediaType.TEXT_HTML)
    HttpResponse<?> search(@PathVariable String tenant, HttpRequest<?> request, @Nullable Authentication auth,
                           @Nullable @QueryValue String before, @Nullable @QueryValue String after) {
        String api = ConsoleGate.apiPath(tenant, "audit", "entries");
        ConsoleTenantPages.Visit v = pages.open(request, auth, tenant, HttpMethod.GET, api, null, BACK);
        if (v.stopped()) {
            return v.stop();
        }
        Map<String, String> f = filters(request);
        Map<String, Object> model = pages.model(v, base(tenant));
        model.put("f", f);
        model.put("outcomes", OUTCOMES);
        List<String> problems = new ArrayList<>();
        Long since = time(f.get("since"), "since", problems);
        Long until = time(f.get("until"), "until", problems);
        Long beforeSeq = seq(before, "before", problems);
        Long afterSeq = seq(after, "after", problems);
        if (f.get("outcome") != null && !OUTCOMES.contains(f.get("outcome"))) {
            problems.add("outcome: one of " + String.join(", ", OUTCOMES));
        }
        if (!problems.isEmpty()) {
            // the page's own error: nothing searched, the refusal audited as the API's 400 would be
            pages.invalid(request, HttpMethod.GET, api, String.join("; ", problems));
            model.put("problems", problems);
            model.put("entries", List.of());
            return pages.render(request, v, 400, "console/audit", model);
        }
        List<String> types = f.get("type") == null ? List.of() : Arrays.stream(f.get("type").split(","))
                .map(String::strip).filter(s -> !s.isEmpty()).toList();
        AuditQuery q = new AuditQuery(tenant, since, until, f.get("user"), f.get("agent"), f.get("client"),
                f.get("resource"), types, f.get("outcome"), f.get("correlation_id"), f.get("request_id"),
                afterSeq == null ? 0 : afterSeq, PAGE_SIZE + 1);
        List<AuditEntry> found;
        boolean more;
        boolean top;
        if (afterSeq != null && beforeSeq == null) {
            // "newer": the page just above the cursor, read in chain order and shown newest first
            List<AuditEntry> up = audit.query(q);
            found = new ArrayList<>(up.subList(0, Math.min(PAGE_SIZE, up.size())));
            Collections.reverse(found);
            top = up.size() <= PAGE_SIZE; // nothing newer than this page (yet)
            more = true; // the cursor's own entry is older
        } else {
            List<AuditEntry> down = audit.queryNewestFirst(q, beforeSeq == null ? Long.MAX_VALUE : beforeSeq);
            more = down.size() > PAGE_SIZE; // entries older than this page
            found = down.subList(0, Math.min(PAGE_SIZE, down.size()));
            top = beforeSeq == null;
        }
        List<Map<String, Object>> rows = new ArrayList<>();
        for (AuditEntry e : found) {
            rows.add(row(tenant, e));
        }
        model.put("entries", rows);
        String query = query(f);
        String base = base(tenant);
        model.put("older", more && !found.isEmpty() ? base + "?" + query + "before=" + found.get(found.size() - 1).seq() : null);
        model.put("newer", !top && !found.isEmpty() ? base + "?" + query + "after=" + found.get(0).seq() : null);
        model.put("newest", !top ? base + (query.isEmpty() ? "" : "?" + query.substring(0, query.length() - 1)) : null);
        model.put("filtered", f.values().stream().anyMatch(x -> x != null));
        model.put("exports", exports(tenant, f, q));
        return pages.render(request, v, 200, "console/audit", model);
    }

    @Get(uri = "/live", produces = MediaType.TEXT_HTML)
    HttpResponse<?> live(@PathVariable String tenant, HttpRequest<?> request, @Nullable Authentication auth) {
        String api = ConsoleGate.apiPath(tenant, "audit", "stream");
        ConsoleTenantPages.Visit v = pages.open(request, auth, tenant, HttpMethod.GET, api, null, BACK);
        if (v.stopped()) {
            return v.stop();
        }
        Map<String, Object> model = pages.model(v, base(tenant));
        long head = feed.head(tenant);
        // from the head as the page was rendered: nothing sealed between this page and the stream's start is missed
        model.put("stream", api + "?after=" + head);
        model.put("headText", "#" + head);
        model.put("entryBase", base(tenant) + "/");
        return pages.render(request, v, 200, "console/audit-live", model);
    }

    @Get(uri = "/verify", produces = MediaType.TEXT_HTML)
    HttpResponse<?> verifyForm(@PathVariable String tenant, HttpRequest<?> request, @Nullable Authentication auth) {
        return verifyPage(tenant, request, auth, null, false);
    }

    @Post(uri = "/verify", consumes = MediaType.APPLICATION_FORM_URLENCODED, produces = MediaType.TEXT_HTML)
    HttpResponse<?> verify(@PathVariable String tenant, HttpRequest<?> request, @Nullable Authentication auth,
                           @Nullable @Body Map<String, String> form) {
        return verifyPage(tenant, request, auth, form == null ? Map.of() : form, true);
    }

    private HttpResponse<?> verifyPage(String tenant, HttpRequest<?> request, @Nullable Authentication auth,
                                       @Nullable Map<String, String> form, boolean run) {
        String api = ConsoleGate.apiPath(tenant, "audit", "verify");
        ConsoleTenantPages.Visit v = run
                ? pages.open(request, auth, tenant, BACK, p -> pages.gate().checkReadForm(p, request, api, form.get("_csrf")))
                : pages.open(request, auth, tenant, HttpMethod.GET, api, null, BACK);
        if (v.stopped()) {
            return v.stop();
        }
        Map<String, Object> model = pages.model(v, base(tenant));
        if (run) {
            List<String> problems = new ArrayList<>();
            Long from = seq(trim(form.get("from")), "from", problems);
            Long to = seq(trim(form.get("to")), "to", problems);
            model.put("from", trim(form.get("from")));
            model.put("to", trim(form.get("to")));
            if (!problems.isEmpty()) {
                pages.invalid(request, HttpMethod.POST, api, String.join("; ", problems));
                model.put("problems", problems);
                return pages.render(request, v, 400, "console/audit-verify", model);
            }
            Map<String, Object> report = verification.verify(tenant, from == null ? 1 : from,
                    to == null ? Long.MAX_VALUE : to);
            model.put("report", report);
            Object bad = report.get("first_bad_seq");
            model.put("badHref", bad == null ? null : base(tenant) + "/" + bad);
        }
        return pages.render(request, v, 200, "console/audit-verify", model);
    }

    @Get(uri = "/{seq}", produces = MediaType.TEXT_HTML)
    HttpResponse<?> entry(@PathVariable String tenant, @PathVariable String seq, HttpRequest<?> request,
                          @Nullable Authentication auth) {
        return entryPage(tenant, seq, request, auth, false);
    }

    @Get(uri = "/{seq}/chain", produces = MediaType.TEXT_HTML)
    HttpResponse<?> chain(@PathVariable String tenant, @PathVariable String seq, HttpRequest<?> request,
                          @Nullable Authentication auth) {
        return entryPage(tenant, seq, request, auth, true);
    }

    private HttpResponse<?> entryPage(String tenant, String seq, HttpRequest<?> request, @Nullable Authentication auth,
                                      boolean chain) {
        ConsoleTenantPages.Visit v = pages.open(request, auth, tenant, HttpMethod.GET,
                ConsoleGate.apiPath(tenant, "audit", "entries"), null, BACK);
        if (v.stopped()) {
            return v.stop();
        }
        Optional<AuditEntry> found = SEQ.matcher(seq).matches()
                ? audit.range(tenant, Long.parseLong(seq), 1).stream().filter(e -> e.seq() == Long.parseLong(seq)).findFirst()
                : Optional.empty();
        if (found.isEmpty()) {
            return pages.notFound(request, v);
        }
        AuditEntry e = found.get();
        Map<String, Object> model = pages.model(v, base(tenant));
        model.put("e", detail(tenant, e));
        if (!chain) {
            return pages.render(request, v, 200, "console/audit-entry", model);
        }
        model.put("trail", trail(tenant, DelegationTrail.of(audit, e, v.tenant().accessTokenTtl())));
        return pages.render(request, v, 200, "console/audit-chain", model);
    }

    // ------------------------------------------------------------------------------------------ view models

    private static Map<String, Object> row(String tenant, AuditEntry e) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("seq", e.seq());
        r.put("href", base(tenant) + "/" + e.seq());
        r.put("time", Instant.ofEpochMilli(e.atMs()).toString());
        r.put("type", e.type());
        r.put("outcome", e.outcome());
        r.put("subject", e.subject());
        r.put("agent", e.agentId());
        r.put("actor", e.actor());
        r.put("client", e.clientId());
        r.put("scopes", e.scopes());
        return r;
    }

    /** Every field of the entry, the details as pretty JSON, and search links for the identifiers. */
    private static Map<String, Object> detail(String tenant, AuditEntry e) {
        Map<String, Object> m = row(tenant, e);
        m.put("label", "#" + e.seq());
        m.put("subjectIss", e.subjectIss());
        m.put("resource", e.resource());
        m.put("correlation", e.correlationId());
        m.put("request", e.requestId());
        m.put("sourceIp", e.sourceIp());
        m.put("prevHash", e.prevHash());
        m.put("hash", e.hash());
        m.put("canon", e.canon());
        m.put("chain", e.actorChain());
        Object details = AuditEntryView.of(e).get("details");
        m.put("details", details == null ? null : pretty(details));
        String base = base(tenant);
        m.put("subjectSearch", e.subject() == null ? null : base + "?user=" + enc(e.subject()));
        m.put("agentSearch", e.agentId() == null ? null : base + "?agent=" + enc(e.agentId()));
        m.put("clientSearch", e.clientId() == null ? null : base + "?client=" + enc(e.clientId()));
        m.put("correlationSearch", e.correlationId() == null ? null : base + "?correlation_id=" + enc(e.correlationId()));
        m.put("requestSearch", e.requestId() == null ? null : base + "?request_id=" + enc(e.requestId()));
        m.put("typeSearch", base + "?type=" + enc(e.type()));
        List<Map<String, String>> actors = new ArrayList<>();
        for (String a : e.actorChain()) {
            actors.add(Map.of("id", a, "href", base + "?agent=" + enc(a)));
        }
        m.put("actors", actors);
        m.put("prevHref", e.seq() > 1 ? base + "/" + (e.seq() - 1) : null);
        m.put("nextHref", base + "/" + (e.seq() + 1));
        m.put("chainHref", base + "/" + e.seq() + "/chain");
        return m;
    }

    private static Map<String, Object> trail(String tenant, DelegationTrail.Trail t) {
        Map<String, Object> m = new LinkedHashMap<>();
        String base = base(tenant);
        m.put("subject", t.subject());
        m.put("subjectIss", t.subjectIss());
        m.put("subjectSearch", t.subject() == null ? null : base + "?user=" + enc(t.subject()));
        m.put("rootJti", t.rootJti());
        m.put("rootUpstream", t.rootUpstream());
        m.put("truncated", t.truncated());
        m.put("nothing", t.empty());
        List<Map<String, Object>> hops = new ArrayList<>();
        for (DelegationTrail.Hop h : t.hops()) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("seq", h.entry().seq());
            r.put("href", base + "/" + h.entry().seq());
            r.put("type", h.entry().type());
            r.put("time", Instant.ofEpochMilli(h.entry().atMs()).toString());
            r.put("actor", h.actor());
            r.put("actorSearch", h.actor() == null ? null : base + "?agent=" + enc(h.actor()));
            r.put("chain", String.join(" > ", h.chain()));
            r.put("scopes", h.scopes());
            r.put("requested", h.requested());
            r.put("rule", h.rule());
            r.put("reason", h.reason());
            r.put("client", h.entry().clientId());
            r.put("resource", h.entry().resource());
            r.put("parentSeq", h.parentSeq());
            r.put("parentHref", h.parentSeq() == null ? null : base + "/" + h.parentSeq());
            r.put("refused", h.refused());
            hops.add(r);
        }
        m.put("hops", hops);
        List<Map<String, Object>> calls = new ArrayList<>();
        for (DelegationTrail.ToolCall c : t.toolCalls()) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("seq", c.entry().seq());
            r.put("href", base + "/" + c.entry().seq());
            r.put("tool", c.tool());
            r.put("status", c.status());
            r.put("actor", c.entry().actor());
            r.put("resource", c.entry().resource());
            r.put("scopes", c.entry().scopes());
            r.put("tokenSeq", c.tokenSeq());
            r.put("tokenHref", c.tokenSeq() == null ? null : base + "/" + c.tokenSeq());
            calls.add(r);
        }
        m.put("toolCalls", calls);
        List<Map<String, Object>> decisions = new ArrayList<>();
        for (DelegationTrail.ToolDecision d : t.toolDecisions()) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("seq", d.entry().seq());
            r.put("href", base + "/" + d.entry().seq());
            r.put("tool", d.tool());
            r.put("effect", d.effect());
            r.put("rule", d.rule());
            r.put("reason", d.reason());
            r.put("actor", d.entry().actor());
            r.put("resource", d.entry().resource());
            decisions.add(r);
        }
        m.put("toolDecisions", decisions);
        List<Map<String, Object>> correlated = new ArrayList<>();
        for (AuditEntry c : t.correlated()) {
            Map<String, Object> r = row(tenant, c);
            Object d = AuditEntryView.of(c).get("details");
            r.put("rule", d instanceof Map<?, ?> dm && dm.get("rule") != null ? dm.get("rule").toString() : null);
            correlated.add(r);
        }
        m.put("correlated", correlated);
        return m;
    }

    /**
     * The export API's links for what the filters cover. The JSON-lines export (with proofs) and OCSF take a contiguous
     * seq range (a range with proofs must be whole to verify): the range the time filters cover, the whole chain
     * without them. The entries API takes every filter: the matching entries as JSON, a page of 1,000.
     */
    private Map<String, String> exports(String tenant, Map<String, String> f, AuditQuery q) {
        String api = ConsoleGate.apiPath(tenant, "audit");
        StringBuilder range = new StringBuilder();
        if (q.fromMs() != null) {
            // the first entry the search itself reads at or after "since" (a time window becomes a seq window through
            // the (tenant_id, at_ms, seq) index): O(log n), where MIN(seq) over at_ms ≥ since read every newer
            // entry's row (4.8 s for "since 29 days ago" among 1,000,000 entries, scripts/bench console)
            List<AuditEntry> first = audit.query(new AuditQuery(tenant, q.fromMs(), null, null, null, null, null, null,
                    null, null, null, 0, 1));
            if (!first.isEmpty()) {
                range.append("&from=").append(first.get(0).seq());
            }
        }
        if (q.toMs() != null) {
            List<AuditEntry> last = audit.queryNewestFirst(new AuditQuery(tenant, null, q.toMs(), null, null, null, null,
                    null, null, null, null, 0, 1), Long.MAX_VALUE);
            range.append("&to=").append(last.isEmpty() ? 0 : last.get(0).seq());
        }
        Map<String, String> out = new LinkedHashMap<>();
        out.put("jsonl", api + "/export?format=jsonl" + range);
        out.put("ocsf", api + "/export?format=ocsf" + range);
        StringBuilder entries = new StringBuilder(api + "/entries?limit=" + AuditQuery.MAX_LIMIT);
        f.forEach((k, v) -> {
            if (v != null) {
                entries.append('&').append(k).append('=').append(enc(v));
            }
        });
        out.put("entries", entries.toString());
        return out;
    }

    private static String pretty(Object details) {
        try {
            return PRETTY.writeValueAsString(details);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            return String.valueOf(details);
        }
    }

    /** The filters as a query string prefix ({@code k=v&...&}, empty without filters). */
    private static String query(Map<String, String> f) {
        StringBuilder sb = new StringBuilder();
        f.forEach((k, v) -> {
            if (v != null) {
                sb.append(k).append('=').append(enc(v)).append('&');
            }
        });
        return sb.toString();
    }

    // ------------------------------------------------------------------------------------------ input

    /** ISO-8601 instant, a date-time without zone (UTC: the form's datetime-local), or a duration ago (15m, 24h, 7d). */
    static Long time(@Nullable String s, String name, List<String> problems) {
        if (s == null) {
            return null;
        }
        Matcher m = DURATION.matcher(s);
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            Duration d = switch (m.group(2)) {
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofDays(n);
            };
            return System.currentTimeMillis() - d.toMillis();
        }
        try {
            return Instant.parse(s).toEpochMilli();
        } catch (DateTimeParseException e) {
            try {
                return LocalDateTime.parse(s).toInstant(ZoneOffset.UTC).toEpochMilli();
            } catch (DateTimeParseException e2) {
                problems.add(name + ": an ISO-8601 time (2026-12-07T10:00:00Z, or UTC without a zone) or a duration ago like 15m, 24h, 7d");
                return null;
            }
        }
    }

    private static Long seq(@Nullable String s, String name, List<String> problems) {
        if (s == null) {
            return null;
        }
        if (!SEQ.matcher(s).matches()) {
            problems.add(name + ": a sequence number");
            return null;
        }
        return Long.parseLong(s);
    }

    // ------------------------------------------------------------------------------------------ common

    static String base(String tenant) {
        return ConsoleTenantPages.base(tenant, "audit");
    }

    private static String enc(String s) {
        return ConsoleTenantPages.enc(s);
    }

    private static String trim(@Nullable String s) {
        return ConsoleTenantPages.trim(s);
    }
}
