package dev.deputy.broker.admin;

import dev.deputy.broker.admin.signin.ConsoleSettings;
import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditLog;
import dev.deputy.broker.audit.AuditStore;
import dev.deputy.broker.audit.RequestMeta;
import dev.deputy.broker.storage.Database;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.CookieManager;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static dev.deputy.broker.admin.ConsoleAuditFixture.AGENT_A;
import static dev.deputy.broker.admin.ConsoleAuditFixture.AGENT_B;
import static dev.deputy.broker.admin.ConsoleAuditFixture.AGENT_C;
import static dev.deputy.broker.admin.ConsoleAuditFixture.AGENT_D;
import static dev.deputy.broker.admin.ConsoleAuditFixture.RULE;
import static dev.deputy.broker.admin.ConsoleAuditFixture.enc;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The console's audit pages over HTTP, signed in through a real OpenID provider on loopback (mock-oauth2-server):
 * search filters and newest-first keyset pages (no gap, no duplicate while entries arrive), the entry, the delegation
 * chain of a three-hop exchange made through the token endpoint, the live stream with the session cookie, verify
 * (a CSRF-protected form; a tampered row is named) and export — per role (auditor reads, tenant admin of another
 * tenant and agent owner refused with the audit entry). Embedded default and MariaDB + Redis (subclasses).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class ConsoleAuditPagesContract {
    static final Pattern ROW = Pattern.compile("<tr data-seq=\"(\\d+)\"");
    static final String JONATHAN = "jonathan.christopher.williams";
    static final String ZOE = "Zoë Ångström";

    MockOAuth2Server idp;
    ManageBroker broker;
    ConsoleAuditFixture fx;

    abstract boolean mariadbAndRedis();

    @BeforeAll
    void start() {
        idp = new MockOAuth2Server();
        idp.start();
        Path root = ManageBroker.newRoot();
        ConsoleAuditFixture.writeConfig(root);
        for (String t : List.of("payments-eu", "ledger-eu", "tamper-lab")) {
            ManageBroker.write(root.resolve("config/tenants/" + t + "/tenant.yml"), "display_name: " + t + "\n");
        }
        Map<String, String> env = new HashMap<>();
        env.put("DEPUTY_CONSOLE_ISSUER", idp.issuerUrl("corp-admins").toString());
        env.put("DEPUTY_CONSOLE_CLIENT_ID", ConsoleAdminContract.CLIENT_ID);
        env.put("DEPUTY_CONSOLE_CLIENT_SECRET", "console-s3cret");
        env.put("DEPUTY_CONSOLE_ROLE_MAP", "Deputy Admins=super_admin; acme-ops=tenant_admin:acme;"
                + " Sicherheit & Prüfung=auditor:*; engineers=agent_owner");
        broker = ManageBroker.start(root, mariadbAndRedis(), ConsoleSettings.properties(env::get));
        fx = ConsoleAuditFixture.agents(broker);
    }

    @AfterAll
    void stop() {
        if (broker != null) {
            broker.close();
        }
        if (idp != null) {
            idp.shutdown();
        }
    }

    // ------------------------------------------------------------------------------------------ search

    @Test
    void filtersNarrowAndKeysetPagesHaveNoGapOrDuplicateWhileEntriesArrive() {
        String t = "ledger-eu";
        List<Long> jonathan = new ArrayList<>();
        for (int i = 0; i < 130; i++) {
            AuditEntry e = append(t, i % 2 == 0 ? "token.issued" : "token.exchanged", JONATHAN,
                    i % 3 == 0 ? AGENT_A : AGENT_B, i % 5 == 0 ? "frontend.dashboard.production" : "mcp.client", "corr-" + i);
            jonathan.add(e.seq());
            if (i % 10 == 0) {
                append(t, "login.succeeded", ZOE, null, null, "corr-z" + i);
            }
        }
        Browser b = new Browser();
        b.signIn("sécurité.auditor", List.of("Sicherheit & Prüfung"));
        String search = broker.url() + "/console/t/" + t + "/audit";

        // newest first, 50 a page, the older pages reached by the cursor; entries arriving meanwhile change nothing
        List<Long> seen = new ArrayList<>();
        String next = search + "?user=" + enc(JONATHAN);
        List<Long> arrived = new ArrayList<>();
        int pages = 0;
        while (next != null) {
            HttpResponse<String> page = b.get(next);
            assertEquals(200, page.statusCode(), page.body());
            seen.addAll(seqs(page.body()));
            arrived.add(append(t, "token.issued", JONATHAN, AGENT_A, "mcp.client", "corr-late-" + pages).seq());
            next = link(page.body(), "older");
            pages++;
        }
        assertEquals(3, pages);
        List<Long> expected = new ArrayList<>(jonathan);
        java.util.Collections.reverse(expected);
        assertEquals(expected, seen, "every entry of the user once, newest first, across the pages");

        // back up with "newer": the late entries are there now, still without a gap or a duplicate
        HttpResponse<String> last = b.get(search + "?user=" + enc(JONATHAN) + "&before=" + jonathan.get(10));
        List<Long> up = new ArrayList<>(seqs(last.body()));
        String newer = link(last.body(), "newer");
        while (newer != null) {
            HttpResponse<String> page = b.get(newer);
            List<Long> s = seqs(page.body());
            up.addAll(0, s);
            newer = link(page.body(), "newer");
        }
        List<Long> all = new ArrayList<>(jonathan);
        all.addAll(arrived);
        java.util.Collections.sort(all);
        java.util.Collections.reverse(all);
        assertEquals(all, up, "newer pages up to the head: every entry once");

        // each filter narrows, in SQL (unicode subject, agent in the actor chain, client, type exact and prefix, ...)
        assertEquals(13, seqs(b.get(search + "?user=" + enc(ZOE)).body()).size());
        assertEquals(44 + 3, count(b, search + "?user=" + enc(JONATHAN) + "&agent=" + enc(AGENT_A)));
        assertEquals(26, count(b, search + "?agent=" + enc(AGENT_C)), "an agent anywhere in the actor chain");
        assertEquals(26, count(b, search + "?client=frontend.dashboard.production"));
        assertEquals(13, count(b, search + "?type=login.succeeded"));
        assertEquals(130 + 3, count(b, search + "?type=token."));
        assertEquals(65, count(b, search + "?type=token.exchanged"));
        assertEquals(1, count(b, search + "?correlation_id=corr-7"));
        assertEquals(0, count(b, search + "?outcome=failure"));
        assertEquals(0, count(b, search + "?since=" + enc("2999-01-01T00:00:00Z")));
        assertEquals(0, count(b, search + "?until=" + enc("2001-01-01T00:00")));
        assertEquals(13, count(b, search + "?user=" + enc(ZOE) + "&since=24h"));
        AuditEntry one = broker.lastAudit(t, "login.succeeded", null);
        List<Long> byRequest = seqs(b.get(search + "?request_id=" + enc(one.requestId())).body());
        assertEquals(List.of(one.seq()), byRequest);

        // bad input: the page's own 400, audited, nothing searched
        int before = broker.audit(t).size();
        HttpResponse<String> bad = b.get(search + "?since=yesterday-ish&before=x");
        assertEquals(400, bad.statusCode(), bad.body());
        assertTrue(bad.body().contains("id=\"problems\""), bad.body());
        assertEquals(0, seqs(bad.body()).size());
        List<AuditEntry> after = broker.audit(t).subList(before, broker.audit(t).size());
        assertEquals(1, after.stream().filter(e -> e.type().equals("admin.request.rejected")).count());
        assertEquals("/admin/t/" + t + "/audit/entries", ConsoleAuditFixture.details(after.get(after.size() - 1)).get("path"));
    }

    /** Every page of a search (following "older"), the row count. */
    int count(Browser b, String url) {
        int n = 0;
        String next = url;
        while (next != null) {
            HttpResponse<String> page = b.get(next);
            assertEquals(200, page.statusCode(), page.body());
            n += seqs(page.body()).size();
            next = link(page.body(), "older");
        }
        return n;
    }

    // ------------------------------------------------------------------------------------------ entry and chain

    @Test
    void aThreeHopExchangeShowsEveryActorWithItsScopesAndRule() {
        String corr = "corr-" + UUID.randomUUID();
        AuditEntry c = fx.threeHops(ZOE, corr);
        Browser b = new Browser();
        b.signIn("sécurité.auditor", List.of("Sicherheit & Prüfung"));
        String base = broker.url() + "/console/t/acme/audit/";

        HttpResponse<String> chain = b.get(base + c.seq() + "/chain");
        assertEquals(200, chain.statusCode(), chain.body());
        List<Map<String, String>> hops = hops(chain.body());
        assertEquals(List.of(AGENT_A, AGENT_B, AGENT_C), hops.stream().map(h -> h.get("actor")).toList(), chain.body());
        assertEquals(List.of("files:list files:read files:write", "files:list files:read", "files:read"),
                hops.stream().map(h -> h.get("scopes")).toList());
        assertTrue(hops.stream().allMatch(h -> RULE.equals(h.get("rule"))), hops.toString());
        assertTrue(chain.body().contains("data-tool=\"transfer_funds\""), "the tool call with C's token");
        assertTrue(chain.body().contains("Zoë Ångström"), "the user, unchanged");
        assertTrue(chain.body().contains("id=\"chain-root\""), "the user's own token was minted outside the trail");
        assertTrue(chain.body().contains("id=\"correlated\""), "the correlation's entries");

        // from the first hop the later hops are found forwards, from the tool call backwards
        AuditEntry a = fx.lastOf("token.exchanged", AGENT_A, ZOE);
        assertEquals(List.of(AGENT_A, AGENT_B, AGENT_C), hops(b.get(base + a.seq() + "/chain").body()).stream()
                .map(h -> h.get("actor")).toList());
        AuditEntry call = fx.lastOf("tool.call", AGENT_C, ZOE);
        assertEquals(List.of(AGENT_A, AGENT_B, AGENT_C), hops(b.get(base + call.seq() + "/chain").body()).stream()
                .map(h -> h.get("actor")).toList());

        // a fourth hop is refused by max_chain_depth: the refused hop ends the chain with its rule
        String cToken = fx.exchanged(AGENT_C, fx.exchanged(AGENT_B, fx.exchanged(AGENT_A, fx.userToken(JONATHAN),
                null, null), null, null), null, null);
        assertEquals(400, fx.exchange(AGENT_D, cToken, null, null).statusCode());
        AuditEntry refused = fx.lastOf("policy.decision", AGENT_D, JONATHAN);
        List<Map<String, String>> withRefusal = hops(b.get(base + refused.seq() + "/chain").body());
        assertEquals(List.of(AGENT_A, AGENT_B, AGENT_C, AGENT_D), withRefusal.stream().map(h -> h.get("actor")).toList());
        assertEquals("max-chain-depth", withRefusal.get(3).get("rule"));

        // the entry: every field, hashes, and the identifiers as search links
        HttpResponse<String> entry = b.get(base + c.seq());
        assertEquals(200, entry.statusCode(), entry.body());
        String html = entry.body();
        assertTrue(html.contains(c.hash()) && html.contains(c.prevHash()), "hash and prev hash");
        assertTrue(html.contains("?request_id=" + enc(c.requestId())), html);
        assertTrue(html.contains("?correlation_id=" + enc(corr)), html);
        assertTrue(html.contains("?user=" + enc(ZOE)), html);
        assertTrue(html.contains("?agent=" + enc(AGENT_B)), "each actor of the chain links to the search");
        assertTrue(html.contains("&quot;rule&quot; : &quot;" + RULE + "&quot;") || html.contains(RULE), "the details");
        assertTrue(html.contains("/audit/" + c.seq() + "/chain"), "the chain view");
        assertEquals(404, b.get(base + "99999999").statusCode());
        assertEquals(404, b.get(base + "not-a-seq").statusCode());
        // the correlation search finds the three exchanges and the tool call
        assertEquals(4, seqs(b.get(broker.url() + "/console/t/acme/audit?correlation_id=" + enc(corr)).body()).size());
    }

    // ------------------------------------------------------------------------------------------ access

    @Test
    void auditorsReadWithoutChangingButtonsOthersAreRefusedAndAudited() {
        Browser auditor = new Browser();
        assertEquals(303, auditor.get(broker.url() + "/console/t/acme/audit").statusCode(), "not signed in: to the sign-in");
        auditor.signIn("sécurité.auditor", List.of("Sicherheit & Prüfung"));
        AuditEntry any = broker.audit("acme").get(0);
        String base = broker.url() + "/console/t/acme/audit";
        for (String page : List.of("", "/live", "/verify", "/" + any.seq(), "/" + any.seq() + "/chain")) {
            HttpResponse<String> r = auditor.get(base + page);
            assertEquals(200, r.statusCode(), page + " " + r.body());
            assertTrue(r.body().contains("id=\"read-only\""), page);
            assertTrue(r.headers().firstValue("Content-Security-Policy").orElse("").contains("script-src 'self'"));
            long posts = Pattern.compile("method=\"post\"").matcher(r.body()).results().count();
            assertEquals(page.equals("/verify") ? 1 : 0, posts, "only the read-only verify form posts: " + page);
        }
        assertEquals(404, auditor.get(broker.url() + "/console/t/nowhere/audit").statusCode());
        // the agent page links its entries to the search
        String agentPage = auditor.get(broker.url() + "/console/t/acme/agents/" + AGENT_A).body();
        assertTrue(agentPage.contains("href=\"/console/t/acme/audit?agent=" + AGENT_A + "\""), agentPage);

        Browser ops = new Browser();
        ops.signIn("zoë-ops", List.of("acme-ops"));
        assertEquals(200, ops.get(base).statusCode());
        int before = broker.audit("payments-eu").size();
        HttpResponse<String> other = ops.get(broker.url() + "/console/t/payments-eu/audit");
        assertEquals(403, other.statusCode(), other.body());
        assertTrue(other.body().contains("id=\"refused\""), other.body());
        List<AuditEntry> rejected = broker.audit("payments-eu").subList(before, broker.audit("payments-eu").size())
                .stream().filter(e -> e.type().equals("admin.request.rejected")).toList();
        assertEquals(1, rejected.size(), "one audit entry");
        assertEquals("/admin/t/payments-eu/audit/entries", ConsoleAuditFixture.details(rejected.get(0)).get("path"));
        assertEquals(403, ops.get(broker.url() + "/console/t/payments-eu/audit/live").statusCode());
        assertEquals(403, ops.get(broker.url() + "/console/t/payments-eu/audit/1").statusCode());

        // an agent owner is refused, as by the API's audit routes (AdminAccess): pages and the stream
        Browser owner = new Browser();
        owner.signIn("00u-zoe", List.of("engineers"));
        assertEquals(403, owner.get(base).statusCode());
        assertEquals(403, owner.get(base + "/live").statusCode());
        assertEquals(403, owner.get(broker.url() + "/admin/t/acme/audit/stream").statusCode());
    }

    // ------------------------------------------------------------------------------------------ live stream

    @Test
    void theLiveStreamFollowsNewEntriesWithTheSessionCookie() throws Exception {
        Browser b = new Browser();
        b.signIn("sécurité.auditor", List.of("Sicherheit & Prüfung"));
        HttpResponse<String> page = b.get(broker.url() + "/console/t/acme/audit/live");
        assertEquals(200, page.statusCode(), page.body());
        assertTrue(page.body().contains("<ul id=\"live-entries\""), page.body());
        assertTrue(page.body().contains("src=\"/assets/console-audit.js\""));
        Matcher m = Pattern.compile("data-stream=\"([^\"]+)\"").matcher(page.body());
        assertTrue(m.find(), page.body());
        String stream = m.group(1).replace("&amp;", "&");
        assertTrue(stream.startsWith("/admin/t/acme/audit/stream?after="), stream);
        // the stream starts after the head the page was rendered at: an entry sealed before it connects is not missed
        CompletableFuture<HttpResponse<InputStream>> pending = b.http.sendAsync(b.req(broker.url() + stream)
                .header("Accept", "text/event-stream").GET().build(), HttpResponse.BodyHandlers.ofInputStream());
        HttpResponse<String> token = fx.clientCredentials(AGENT_A);
        assertEquals(200, token.statusCode(), () -> token.body() + " " + fx.refusal());
        HttpResponse<InputStream> sse = pending.get(30, TimeUnit.SECONDS);
        assertEquals(200, sse.statusCode());
        try (InputStream in = sse.body()) {
            String data = CompletableFuture.supplyAsync(() -> firstAudit(in, AGENT_A)).get(30, TimeUnit.SECONDS);
            Map<String, Object> entry = ManageBroker.json(data);
            assertEquals("token.issued", entry.get("type"));
            assertEquals(AGENT_A, entry.get("agent_id"));
        }
        HttpResponse<String> js = b.get(broker.url() + "/assets/console-audit.js");
        assertEquals(200, js.statusCode());
        assertTrue(js.body().contains("audit-entry") && js.body().contains("data-subject"));
    }

    /** The data of the first {@code audit} event about {@code agent} on the stream (events end at a blank line). */
    static String firstAudit(InputStream in, String agent) {
        try {
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            String event = null;
            StringBuilder data = new StringBuilder();
            String line;
            while ((line = r.readLine()) != null) {
                if (line.isEmpty()) {
                    if ("audit".equals(event) && data.toString().contains("\"agent_id\":\"" + agent + "\"")) {
                        return data.toString();
                    }
                    event = null;
                    data.setLength(0);
                } else if (line.startsWith("event:")) {
                    event = line.substring(6).strip();
                } else if (line.startsWith("data:")) {
                    data.append(line.substring(5).strip());
                }
            }
            throw new AssertionError("the stream ended");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ------------------------------------------------------------------------------------------ verify and export

    @Test
    void verifyIsACsrfProtectedReadAndNamesATamperedRow() {
        String t = "tamper-lab";
        List<AuditEntry> made = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            made.add(append(t, "token.issued", JONATHAN, AGENT_A, "mcp.client", "corr-t" + i));
        }
        Browser b = new Browser();
        b.signIn("sécurité.auditor", List.of("Sicherheit & Prüfung"));
        String verify = broker.url() + "/console/t/" + t + "/audit/verify";
        HttpResponse<String> form = b.get(verify);
        assertEquals(200, form.statusCode());
        String csrf = csrf(form.body());

        int before = broker.audit(t).size();
        HttpResponse<String> forged = b.postForm(verify, Map.of("from", "1"));
        assertEquals(403, forged.statusCode(), forged.body());
        List<AuditEntry> refused = broker.audit(t).subList(before, broker.audit(t).size());
        assertEquals(1, refused.stream().filter(e -> e.type().equals("admin.request.rejected")).count());
        assertEquals("POST", ConsoleAuditFixture.details(refused.get(refused.size() - 1)).get("method"));

        HttpResponse<String> ok = b.postForm(verify, Map.of("_csrf", csrf));
        assertEquals(200, ok.statusCode(), ok.body());
        assertTrue(ok.body().contains("data-ok=\"true\""), ok.body());
        Matcher checked = Pattern.compile("id=\"checked\">(\\d+)<").matcher(ok.body());
        assertTrue(checked.find());
        assertTrue(Long.parseLong(checked.group(1)) >= 12, ok.body());
        assertEquals(400, b.postForm(verify, Map.of("_csrf", csrf, "from", "abc")).statusCode());

        // a row edited in the database: the page names it
        AuditEntry victim = made.get(5);
        broker.bean(AuditStore.class).settle();
        int changed = broker.bean(Database.class).dsl().update(dev.deputy.broker.storage.jooq.Tables.AUDIT_LOG)
                .set(dev.deputy.broker.storage.jooq.Tables.AUDIT_LOG.SUBJECT, "mallory")
                .where(dev.deputy.broker.storage.jooq.Tables.AUDIT_LOG.TENANT_ID.eq(t)
                        .and(dev.deputy.broker.storage.jooq.Tables.AUDIT_LOG.SEQ.eq(victim.seq()))).execute();
        assertEquals(1, changed);
        HttpResponse<String> broken = b.postForm(verify, Map.of("_csrf", csrf));
        assertEquals(200, broken.statusCode(), broken.body());
        assertTrue(broken.body().contains("data-ok=\"false\""), broken.body());
        assertTrue(broken.body().contains("href=\"/console/t/" + t + "/audit/" + victim.seq() + "\""), broken.body());
    }

    @Test
    void exportLinksDownloadInEachFormatWithTheSessionCookie() {
        Browser b = new Browser();
        b.signIn("sécurité.auditor", List.of("Sicherheit & Prüfung"));
        HttpResponse<String> page = b.get(broker.url() + "/console/t/acme/audit?type=" + enc("agent.") + "&since=24h");
        assertEquals(200, page.statusCode(), page.body());
        Map<String, String> links = new LinkedHashMap<>();
        Matcher m = Pattern.compile("href=\"(/admin/t/acme/audit/[^\"]+)\"").matcher(page.body());
        while (m.find()) {
            String href = m.group(1).replace("&amp;", "&");
            links.put(href.contains("format=jsonl") ? "jsonl" : href.contains("format=ocsf") ? "ocsf" : "entries", href);
        }
        assertEquals(3, links.size(), page.body());
        HttpResponse<String> jsonl = b.get(broker.url() + links.get("jsonl"));
        assertEquals(200, jsonl.statusCode(), jsonl.body());
        assertTrue(jsonl.headers().firstValue("Content-Disposition").orElse("").contains("attachment"));
        assertTrue(jsonl.body().lines().count() >= 5, jsonl.body());
        HttpResponse<String> ocsf = b.get(broker.url() + links.get("ocsf"));
        assertEquals(200, ocsf.statusCode(), ocsf.body());
        assertTrue(ocsf.body().contains("\"class_uid\""), ocsf.body());
        HttpResponse<String> entries = b.get(broker.url() + links.get("entries"));
        assertEquals(200, entries.statusCode(), entries.body());
        List<?> found = (List<?>) ManageBroker.json(entries.body()).get("entries");
        assertEquals(5, found.size(), "the five agents created through the API (type agent.created)");
        assertTrue(found.stream().allMatch(e -> ((Map<?, ?>) e).get("type").toString().startsWith("agent.")));
    }

    // ------------------------------------------------------------------------------------------ helpers

    AuditEntry append(String tenant, String type, String subject, String agent, String client, String corr) {
        AuditEvent.Builder e = AuditEvent.of(tenant, type, AuditEvent.Outcome.SUCCESS)
                .subject(subject, "https://login.corp.example/")
                .client(client)
                .request(new RequestMeta(corr, UUID.randomUUID().toString(), "10.1.2.3"));
        if (agent != null) {
            e.agent(agent).actors("frontend.dashboard.production".equals(client) ? List.of(agent, AGENT_C) : List.of(agent))
                    .scopes("files:read").resource(ConsoleAuditFixture.RESOURCE).detail("jti", UUID.randomUUID().toString());
        }
        return broker.bean(AuditLog.class).append(e.build());
    }

    static List<Long> seqs(String html) {
        List<Long> out = new ArrayList<>();
        Matcher m = ROW.matcher(html);
        while (m.find()) {
            out.add(Long.parseLong(m.group(1)));
        }
        return out;
    }

    String link(String html, String id) {
        Matcher m = Pattern.compile("<a href=\"([^\"]+)\"[^>]*id=\"" + id + "\"").matcher(html);
        return m.find() ? broker.url() + m.group(1).replace("&amp;", "&") : null;
    }

    static List<Map<String, String>> hops(String html) {
        List<Map<String, String>> out = new ArrayList<>();
        Matcher m = Pattern.compile("<li class=\"hop[^\"]*\" data-seq=\"(\\d+)\" data-actor=\"([^\"]*)\"(?: data-scopes=\"([^\"]*)\")?(?: data-rule=\"([^\"]*)\")?")
                .matcher(html);
        while (m.find()) {
            Map<String, String> h = new HashMap<>();
            h.put("seq", m.group(1));
            h.put("actor", m.group(2));
            h.put("scopes", m.group(3));
            h.put("rule", m.group(4));
            out.add(h);
        }
        return out;
    }

    static String csrf(String html) {
        Matcher m = Pattern.compile("name=\"_csrf\" value=\"([^\"]+)\"").matcher(html);
        assertTrue(m.find(), html);
        return m.group(1);
    }

    /** A browser: a cookie jar, redirects followed by hand. */
    final class Browser {
        final HttpClient http = HttpClient.newBuilder().cookieHandler(new CookieManager())
                .followRedirects(HttpClient.Redirect.NEVER).connectTimeout(Duration.ofSeconds(5)).build();

        HttpRequest.Builder req(String uri) {
            return HttpRequest.newBuilder(URI.create(uri)).timeout(Duration.ofSeconds(60));
        }

        HttpResponse<String> get(String uri) {
            return send(req(uri).GET());
        }

        HttpResponse<String> postForm(String uri, Map<String, String> form) {
            String body = form.entrySet().stream().map(e -> enc(e.getKey()) + "=" + enc(e.getValue()))
                    .collect(Collectors.joining("&"));
            return send(req(uri).header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString(body)));
        }

        HttpResponse<String> send(HttpRequest.Builder r) {
            return ConsoleFixture.exchange(http, r.build());
        }

        /** Signs in at the console through the IdP (an ID token for {@code sub} in these groups). */
        void signIn(String sub, List<String> groups) {
            Map<String, Object> claims = new HashMap<>();
            claims.put("groups", groups);
            claims.put("amr", List.of("pwd"));
            claims.put("auth_time", System.currentTimeMillis() / 1000);
            claims.put("email", sub.equals("00u-zoe") ? "zoë.müller@corp.example" : sub + "@corp.example");
            claims.put("email_verified", true);
            idp.enqueueCallback(new ConsoleFixture.IdTokenClaims(sub, claims));
            HttpResponse<String> r = get(broker.url() + "/console");
            for (int i = 0; i < 10 && r.statusCode() / 100 == 3; i++) {
                r = get(r.uri().resolve(r.headers().firstValue("Location").orElseThrow()).toString());
            }
            assertEquals(200, r.statusCode(), r.body());
            assertNotNull(r.body());
            assertFalse(r.uri().toString().contains("signed-out"), r.uri().toString());
        }
    }
}
