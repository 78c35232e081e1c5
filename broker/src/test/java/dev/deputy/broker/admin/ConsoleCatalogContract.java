package dev.deputy.broker.admin;

import dev.deputy.broker.admin.ConsoleFixture.Browser;
import dev.deputy.broker.agent.ClientStore;
import dev.deputy.broker.agent.OAuthClient;
import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditLog;
import dev.deputy.broker.authorize.Consent;
import dev.deputy.broker.authorize.ConsentStore;
import dev.deputy.broker.federation.User;
import dev.deputy.broker.federation.UserStore;
import dev.deputy.broker.grant.refresh.RefreshTokens;
import dev.deputy.broker.registration.ClientActivityStore;
import dev.deputy.broker.registration.Registration;
import dev.deputy.broker.registration.RegistrationStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The console's clients, resources and roles, consents and delegation-policy pages over HTTP, signed in through a real
 * OpenID provider on loopback (mock-oauth2-server): what each page lists (planted data with dotted and unicode ids and
 * a CIMD URL client id), each action through its confirmation and form {@code POST} (changed, audited), consent revoke
 * ending the refresh family, the dry-run on planted exchanges, malformed policy text, and the refusals: an auditor
 * (no buttons, 403), another tenant's admin, a form without the CSRF token, a privileged change without step-up.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class ConsoleCatalogContract {
    static final String A = "/admin/t/acme";
    static final String ISS = "https://login.corp.example/oauth2/default";
    static final String LEDGER = "https://ledger.acme.example/mcp";
    static final String RECONCILER = "payments.settlement.reconciler";
    static final String MATCHER = "invoice.matcher";
    static final String CIMD = "https://apps.example.org/zoë-notes/client.json";
    static final String POLICY = """
            max_chain_depth: 3
            delegation:
              - id: reconciler-for-finance
                effect: allow
                agents: [payments.settlement.reconciler]
                users: {groups: [finance, treasury]}
                resources: ["https://ledger.acme.example/mcp"]
                scopes: ["*"]
            """;

    ConsoleFixture fx;
    ManageBroker broker;
    String console;

    abstract boolean mariadbAndRedis();

    @BeforeAll
    void start() {
        fx = ConsoleFixture.start(mariadbAndRedis(), root -> {
            ConsoleFixture.write(root, "config/tenants/acme/tenant.yml", "display_name: Acme\n");
            ConsoleFixture.write(root, "config/tenants/acme/roles/ledger-reader.yml", "scopes: [ledger.read]\n");
            ConsoleFixture.write(root, "config/tenants/acme/roles/prod-deployer.yml", "scopes: [deploy.write]\n");
            ConsoleFixture.write(root, "config/tenants/acme/resources/ledger.yml", """
                    uri: https://ledger.acme.example/mcp
                    name: Ledger – Zoë's books
                    scopes: [ledger.read, ledger.write]
                    scope_descriptions:
                      ledger.read: Read the settlement ledger
                    """);
            ConsoleFixture.write(root, "config/tenants/acme/clients/treasury.desk.yml", """
                    client_id: treasury.desk
                    name: Treasury desk
                    redirect_uris: ["https://treasury.acme.example/callback"]
                    internal: true
                    """);
            ConsoleFixture.write(root, "config/tenants/acme/policies/delegation.yml", POLICY);
            ConsoleFixture.write(root, "config/tenants/payments-eu/tenant.yml", "display_name: Payments EU\n");
        }, Map.of("DEPUTY_CONSOLE_ROLE_MAP", ConsoleFixture.ROLE_MAP + "; payments-ops=tenant_admin:payments-eu",
                "DEPUTY_CONSOLE_PRIVILEGED_ROLES", "prod-deployer"));
        broker = fx.broker;
        console = broker.url() + "/console/t/acme";
    }

    @AfterAll
    void stop() {
        if (fx != null) {
            fx.close();
        }
    }

    // ------------------------------------------------------------------------------------------ clients

    @Test
    void theClientListShowsEveryKindWithFiltersAndTheDetail() {
        String tag = suffix();
        String api = "payments.settlement.dashboard-" + tag;
        assertEquals(201, broker.post(A + "/clients", """
                {"client_id":"%s","name":"Zoë Ångström’s <b>dashboard</b>","redirect_uris":["https://dash.acme.example/cb"]}"""
                .formatted(api)).statusCode());
        String dcr = "dcr-" + tag;
        long now = System.currentTimeMillis();
        broker.bean(ClientStore.class).save(new OAuthClient("acme", dcr, "Jonathan’s CLI", List.of("http://127.0.0.1/callback"),
                false, "none", null, "dcr", now, now));
        broker.bean(RegistrationStore.class).save(new Registration("acme", dcr,
                "{\"grant_types\":[\"authorization_code\",\"refresh_token\"],\"client_name\":\"Jonathan’s CLI\"}",
                "0".repeat(64), now, null, "198.51.100.7"));
        broker.bean(ClientActivityStore.class).record("acme", CIMD, now - 60_000);
        broker.bean(ClientActivityStore.class).record("acme", api, now - 120_000);

        Browser b = fx.browser();
        assertEquals(303, b.get(console + "/clients").statusCode(), "not signed in: to the sign-in");
        b.signIn("jonathan.christopher.williams", List.of("acme-ops"));
        HttpResponse<String> list = b.get(console + "/clients");
        assertEquals(200, list.statusCode(), list.body());
        assertTrue(list.headers().firstValue("Content-Security-Policy").orElse("").contains("script-src 'self'"));
        for (String id : List.of(api, dcr, "treasury.desk", CIMD)) {
            assertTrue(list.body().contains("data-client=\"" + id + "\""), id + " listed: " + list.body());
        }
        assertTrue(list.body().contains("Zoë Ångström’s &lt;b&gt;dashboard&lt;/b&gt;"), "escaped: " + list.body());
        assertFalse(list.body().contains("<b>dashboard"));
        assertTrue(list.body().contains("aria-current=\"page\""), "the navigation marks the section");
        assertEquals(List.of(CIMD), rows(b.get(console + "/clients?kind=cimd").body(), "data-client"));
        assertEquals(List.of(dcr), rows(b.get(console + "/clients?kind=dcr&q=" + tag).body(), "data-client"));
        assertEquals(List.of("treasury.desk"), rows(b.get(console + "/clients?audience=internal&q=treasury").body(), "data-client"));
        assertEquals(List.of(api), rows(b.get(console + "/clients?q=" + enc("ÅNGSTRÖM")).body(), "data-client"));

        HttpResponse<String> cimd = b.get(console + "/clients/show?id=" + enc(CIMD));
        assertEquals(200, cimd.statusCode(), cimd.body());
        assertTrue(cimd.body().contains("Metadata document (CIMD)"), cimd.body());
        assertFalse(cimd.body().contains("id=\"actions\""), "a CIMD client has no registration to change");
        HttpResponse<String> reg = b.get(console + "/clients/show?id=" + enc(dcr));
        assertTrue(reg.body().contains("198.51.100.7") && reg.body().contains("http://127.0.0.1/callback")
                && reg.body().contains("authorization_code"), reg.body());
        assertTrue(reg.body().contains("id=\"actions\""));
        HttpResponse<String> config = b.get(console + "/clients/show?id=treasury.desk");
        assertTrue(config.body().contains("Config file"), config.body());
        assertFalse(config.body().contains("id=\"actions\""), "config clients change in their files");
        assertEquals(404, b.get(console + "/clients/show?id=no-such-client-" + tag).statusCode());

        HttpResponse<String> german = b.send(b.req(console + "/clients").header("Accept-Language", "de-DE,de;q=0.9"));
        assertTrue(german.body().contains("Clients und Registrierungen") && german.body().contains("lang=\"de"), german.body());
    }

    @Test
    void anAdminMarksAClientInternalAndDeletesADcrClientThroughTheConfirmation() {
        String tag = suffix();
        String api = "reporting.portal-" + tag;
        assertEquals(201, broker.post(A + "/clients", """
                {"client_id":"%s","redirect_uris":["https://reports.acme.example/cb"]}""".formatted(api)).statusCode());
        String dcr = "dcr.zoe-" + tag;
        long now = System.currentTimeMillis();
        broker.bean(ClientStore.class).save(new OAuthClient("acme", dcr, "Zoë’s agent", List.of("http://127.0.0.1/cb"),
                false, "none", null, "dcr", now, now));
        broker.bean(RegistrationStore.class).save(new Registration("acme", dcr, "{}", "0".repeat(64), now, null, null));
        Browser b = fx.browser();
        b.signIn("jonathan.christopher.williams", List.of("acme-ops"));

        HttpResponse<String> confirm = b.get(console + "/clients/confirm?id=" + api + "&action=internal");
        assertEquals(200, confirm.statusCode());
        assertTrue(confirm.body().contains("id=\"confirm\"") && confirm.body().contains("name=\"_csrf\""), confirm.body());

        // a cross-site form post rides on the cookie but has no token: refused, audited once, nothing changed
        int before = broker.audit("acme").size();
        HttpResponse<String> forged = b.postForm(console + "/clients/internal", Map.of("id", api));
        assertEquals(403, forged.statusCode(), forged.body());
        assertEquals(false, client(api).get("internal"));
        List<AuditEntry> rejected = since("acme", before, "admin.request.rejected");
        assertEquals(1, rejected.size());
        assertEquals(A + "/clients/" + api, ManageBroker.json(rejected.get(0).details()).get("path"));

        HttpResponse<String> done = b.postForm(console + "/clients/internal", Map.of("_csrf", b.csrf(), "id", api));
        assertEquals(303, done.statusCode(), done.body());
        assertEquals("/console/t/acme/clients/show?id=" + api, done.headers().firstValue("Location").orElseThrow());
        assertEquals(true, client(api).get("internal"));
        AuditEntry updated = broker.lastAudit("acme", "client.updated", null);
        assertEquals(api, updated.clientId());
        assertEquals("admin:jonathan.christopher.williams@corp.example", ManageBroker.json(updated.details()).get("actor"));
        assertEquals(true, ManageBroker.json(updated.details()).get("internal"));
        assertEquals(303, b.postForm(console + "/clients/external", Map.of("_csrf", b.csrf(), "id", api)).statusCode());
        assertEquals(false, client(api).get("internal"));

        assertEquals(303, b.postForm(console + "/clients/delete", Map.of("_csrf", b.csrf(), "id", dcr)).statusCode());
        assertEquals(404, broker.get(A + "/clients/" + dcr).statusCode());
        assertTrue(broker.bean(RegistrationStore.class).find("acme", dcr).isEmpty(), "the registration went with it");
        assertEquals(dcr, broker.lastAudit("acme", "client.deleted", null).clientId());

        // a config client: the service's own refusal, as a page (409), nothing changed
        HttpResponse<String> config = b.postForm(console + "/clients/external", Map.of("_csrf", b.csrf(), "id", "treasury.desk"));
        assertEquals(409, config.statusCode(), config.body());
        assertTrue(config.body().contains("config file"), config.body());
        assertEquals(true, client("treasury.desk").get("internal"));
    }

    // ------------------------------------------------------------------------------------------ resources and roles

    @Test
    void resourcesAndRolesAreListedAndEditedAndAPrivilegedRoleNeedsStepUp() {
        String tag = suffix();
        String agent = "ledger.bot-" + tag;
        assertEquals(201, broker.post(A + "/agents", ConsoleFixture.agentJson(agent, "zoë@corp.example", "ledger-reader")).statusCode());
        Browser b = fx.browser();
        b.signIn("jonathan.christopher.williams", List.of("acme-ops"));
        HttpResponse<String> page = b.get(console + "/resources");
        assertEquals(200, page.statusCode(), page.body());
        assertTrue(page.body().contains(LEDGER) && page.body().contains("Read the settlement ledger")
                && page.body().contains("Ledger – Zoë"), page.body());
        assertTrue(page.body().contains(agent), "the holders of ledger-reader: " + page.body());
        String deployer = page.body().substring(page.body().indexOf("data-role=\"prod-deployer\""));
        assertTrue(deployer.substring(0, deployer.indexOf("</tr>")).contains("privileged"), deployer);

        // a new resource from the form
        String rid = "payments.settlement-" + tag;
        HttpResponse<String> created = b.postForm(console + "/resources/resource", Map.of("_csrf", b.csrf(), "mode", "create",
                "id", rid, "uri", "https://settlement.acme.example/mcp/" + tag, "name", "Zoë’s settlement tools",
                "scopes", "settle.read, settle.write"));
        assertEquals(303, created.statusCode(), created.body());
        Map<String, Object> r = ManageBroker.json(broker.get(A + "/resources/" + rid).body());
        assertEquals(List.of("settle.read", "settle.write"), r.get("scopes"));
        assertEquals("admin:jonathan.christopher.williams@corp.example",
                ManageBroker.json(broker.lastAudit("acme", "resource.created", null).details()).get("actor"));
        // bad input: the form again with the reason, nothing changed, audited
        int before = broker.audit("acme").size();
        HttpResponse<String> bad = b.postForm(console + "/resources/resource", Map.of("_csrf", b.csrf(), "mode", "replace",
                "id", rid, "uri", "https://settlement.acme.example/mcp/" + tag, "scopes", "settle\"read"));
        assertEquals(400, bad.statusCode(), bad.body());
        assertTrue(bad.body().contains("id=\"error\"") && bad.body().contains("not a valid scope"), bad.body());
        assertEquals(List.of("settle.read", "settle.write"), ManageBroker.json(broker.get(A + "/resources/" + rid).body()).get("scopes"));
        assertEquals(1, since("acme", before, "admin.request.rejected").size());
        assertEquals(200, b.get(console + "/resources/resource/delete?id=" + rid).statusCode());
        assertEquals(303, b.postForm(console + "/resources/resource/delete", Map.of("_csrf", b.csrf(), "id", rid)).statusCode());
        assertEquals(404, broker.get(A + "/resources/" + rid).statusCode());

        // an ordinary role changes at once
        HttpResponse<String> role = b.postForm(console + "/resources/role", Map.of("_csrf", b.csrf(), "mode", "replace",
                "name", "ledger-reader", "description", "Liest das Hauptbuch – für Zoë", "scopes", "ledger.read ledger.export"));
        assertEquals(303, role.statusCode(), role.body());
        assertEquals(List.of("ledger.read", "ledger.export"), ManageBroker.json(broker.get(A + "/roles/ledger-reader").body()).get("scopes"));
        assertEquals("ledger-reader", ManageBroker.json(broker.lastAudit("acme", "role.updated", null).details()).get("role"));

        // a privileged role: the step-up page, nothing changed; after an MFA sign-in it is done
        Map<String, String> widen = Map.of("_csrf", b.csrf(), "mode", "replace", "name", "prod-deployer",
                "scopes", "deploy.write deploy.admin");
        HttpResponse<String> needsMfa = b.postForm(console + "/resources/role", widen);
        assertEquals(401, needsMfa.statusCode(), needsMfa.body());
        assertTrue(needsMfa.body().contains("href=\"/console/step-up\""), needsMfa.body());
        assertTrue(needsMfa.headers().firstValue("WWW-Authenticate").orElse("").contains("insufficient_user_authentication"));
        assertEquals(List.of("deploy.write"), ManageBroker.json(broker.get(A + "/roles/prod-deployer").body()).get("scopes"));
        // the admin API asks the same: a non-privileged automation credential may not change it either
        HttpResponse<String> cred = broker.post("/admin/credentials", "{\"client_id\":\"ci.roles-" + tag
                + "\",\"role\":\"tenant_admin\",\"tenants\":[\"acme\"],\"privileged\":false}");
        assertEquals(201, cred.statusCode(), cred.body());
        String token = token("ci.roles-" + tag, (String) ManageBroker.json(cred.body()).get("client_secret"));
        HttpResponse<String> viaApi = Browser.raw(HttpRequest.newBuilder(URI.create(broker.url() + A + "/roles/prod-deployer"))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString("{\"scopes\":[\"deploy.write\",\"deploy.admin\"]}")).build());
        assertEquals(403, viaApi.statusCode(), viaApi.body());
        b.stepUp("jonathan.christopher.williams", List.of("acme-ops"));
        HttpResponse<String> done = b.postForm(console + "/resources/role", Map.of("_csrf", b.csrf(), "mode", "replace",
                "name", "prod-deployer", "scopes", "deploy.write deploy.admin"));
        assertEquals(303, done.statusCode(), done.body());
        assertEquals(List.of("deploy.write", "deploy.admin"), ManageBroker.json(broker.get(A + "/roles/prod-deployer").body()).get("scopes"));
        assertEquals(200, broker.put(A + "/roles/prod-deployer", "{\"scopes\":[\"deploy.write\"]}").statusCode(),
                "the break-glass credential is privileged");
    }

    // ------------------------------------------------------------------------------------------ consents

    @Test
    void consentsAreListedFilteredAndRevokedAndTheRefreshFamilyDies() {
        String tag = suffix();
        String client = "ext.notes-" + tag;
        assertEquals(201, broker.post(A + "/clients", """
                {"client_id":"%s","name":"Notes","redirect_uris":["https://notes.example.org/cb"]}""".formatted(client)).statusCode());
        User zoe = user("usr_zoe" + tag, "00u-zoë-" + tag, "zoë.ångström@corp.example", "Zoë Ångström", List.of("finance"));
        User jon = user("usr_jon" + tag, "00u-jonathan-" + tag, "jonathan.christopher.williams@corp.example",
                "Jonathan Christopher Williams", List.of("treasury"));
        long now = System.currentTimeMillis();
        ConsentStore consents = broker.bean(ConsentStore.class);
        consents.save(new Consent("acme", zoe.id(), client, "ledger", List.of("ledger.read"), now - 5_000));
        consents.save(new Consent("acme", jon.id(), client, "ledger", List.of("ledger.read"), now - 4_000));
        consents.save(new Consent("acme", zoe.id(), CIMD, "ledger", List.of("ledger.read"), now - 3_000));
        String refresh = broker.bean(RefreshTokens.class).issue("acme", "fam_" + tag, client, zoe.id(), LEDGER,
                List.of("ledger.read"), null, null, null, now);
        HttpResponse<String> first = refresh(client, refresh);
        assertEquals(200, first.statusCode(), first.body());
        String rotated = (String) ManageBroker.json(first.body()).get("refresh_token");
        assertNotNull(rotated);

        Browser b = fx.browser();
        b.signIn("jonathan.christopher.williams", List.of("acme-ops"));
        HttpResponse<String> all = b.get(console + "/consents?client=" + enc(tag));
        assertEquals(200, all.statusCode(), all.body());
        assertEquals(2, rows(all.body(), "data-consent").size(), all.body());
        assertTrue(all.body().contains("Zoë Ångström") && all.body().contains("Jonathan Christopher Williams"), all.body());
        assertEquals(2, rows(b.get(console + "/consents?user=" + enc("ZOË.ÅNGSTRÖM@corp.example")).body(), "data-consent").size(),
                "by e-mail, any case: both of Zoë's, the CIMD one too");
        assertEquals(1, rows(b.get(console + "/consents?user=" + enc("00u-jonathan-" + tag)).body(), "data-consent").size(), "by sub");
        assertEquals(1, rows(b.get(console + "/consents?user=" + zoe.id() + "&client=" + enc(CIMD)).body(), "data-consent").size());

        String confirm = console + "/consents/revoke?user=" + zoe.id() + "&client=" + client + "&resource=ledger";
        assertTrue(b.get(confirm).body().contains("id=\"confirm\""));
        Map<String, String> form = new LinkedHashMap<>(Map.of("user", zoe.id(), "client", client, "resource", "ledger"));
        assertEquals(403, b.postForm(console + "/consents/revoke", form).statusCode(), "no CSRF token");
        form.put("_csrf", b.csrf());
        HttpResponse<String> needsMfa = b.postForm(console + "/consents/revoke", form);
        assertEquals(401, needsMfa.statusCode(), "revoking is privileged: " + needsMfa.body());
        assertTrue(consents.find("acme", zoe.id(), client, "ledger").isPresent(), "nothing changed");

        b.stepUp("jonathan.christopher.williams", List.of("acme-ops"));
        form.put("_csrf", b.csrf());
        int before = broker.audit("acme").size();
        HttpResponse<String> done = b.postForm(console + "/consents/revoke", form);
        assertEquals(303, done.statusCode(), done.body());
        assertTrue(consents.find("acme", zoe.id(), client, "ledger").isEmpty());
        assertTrue(consents.find("acme", jon.id(), client, "ledger").isPresent(), "only that consent");
        HttpResponse<String> after = refresh(client, rotated);
        assertEquals(400, after.statusCode(), after.body());
        assertEquals("invalid_grant", ManageBroker.json(after.body()).get("error"));
        List<AuditEntry> revoked = since("acme", before, "consent.revoked");
        assertEquals(1, revoked.size());
        assertEquals("admin:jonathan.christopher.williams@corp.example", ManageBroker.json(revoked.get(0).details()).get("actor"));
        List<AuditEntry> tokens = since("acme", before, "token.revoked");
        assertEquals(1, tokens.size());
        assertEquals("consent_revoked", ManageBroker.json(tokens.get(0).details()).get("reason"));
        // the same consent again: gone, a page saying so, not a 500
        assertEquals(404, b.postForm(console + "/consents/revoke", form).statusCode());
    }

    // ------------------------------------------------------------------------------------------ paging in SQL

    static final String EU = "payments-eu";

    @Test
    void theConsentListPagesNewestFirstWithoutGapsOrRepeatsAndFiltersAcrossPages() {
        String tag = suffix();
        String client = "ext.ledger-ansicht.zoë-" + tag;
        long now = System.currentTimeMillis();
        User zoe = euUser("usr_zp" + tag, "00u-zoë-page-" + tag, "Zoë.Page-" + tag + "@corp.example", "Zoë Ångström " + tag);
        User jon = euUser("usr_jp" + tag, "00u-jonathan-page-" + tag, "jon.page-" + tag + "@corp.example",
                "Jonathan Christopher Williams " + tag);
        ConsentStore store = broker.bean(ConsentStore.class);
        List<Consent> planted = new java.util.ArrayList<>();
        for (int i = 0; i < 130; i++) {
            // groups of three share a time: the key orders them (keyset pages must not drop or repeat a tie)
            Consent c = new Consent(EU, (i % 2 == 0 ? zoe : jon).id(), client, String.format("ledger.ü-%03d", i),
                    List.of("ledger.read"), now - 1_000_000 + (i / 3) * 1_000L);
            store.save(c);
            planted.add(c);
        }
        List<String> newestFirst = planted.stream().sorted(java.util.Comparator.comparingLong(Consent::grantedAt)
                        .thenComparing(Consent::userId).thenComparing(Consent::clientId).thenComparing(Consent::resourceId).reversed())
                .map(c -> c.userId() + " " + c.clientId() + " " + c.resourceId()).toList();

        Browser b = fx.browser();
        b.signIn("payments.operator", List.of("payments-ops"));
        String list = broker.url() + "/console/t/" + EU + "/consents";
        HttpResponse<String> p1 = b.get(list + "?client=" + enc(client));
        assertEquals(200, p1.statusCode(), p1.body());
        assertEquals(newestFirst.subList(0, 100), rows(p1.body(), "data-consent"));
        assertTrue(p1.body().contains("130 consents · page 1 of 2"), p1.body());
        assertNull(link(p1.body(), "prev"));
        HttpResponse<String> p2 = b.get(broker.url() + link(p1.body(), "next"));
        assertEquals(newestFirst.subList(100, 130), rows(p2.body(), "data-consent"));
        assertTrue(p2.body().contains("130 consents · page 2 of 2"), p2.body());
        assertNull(link(p2.body(), "next"));
        HttpResponse<String> back = b.get(broker.url() + link(p2.body(), "prev"));
        assertEquals(newestFirst.subList(0, 100), rows(back.body(), "data-consent"), "the previous page is the first again");
        assertNull(link(back.body(), "prev"));
        assertEquals(newestFirst.subList(0, 100), rows(b.get(list + "?client=" + enc(client) + "&after=not-a-cursor").body(),
                "data-consent"), "a hand-edited cursor: the first page");

        // the user filter in SQL, across the pages: a part of the name in any case, the e-mail in any case, the sub
        List<String> zoes = newestFirst.stream().filter(r -> r.startsWith(zoe.id() + " ")).toList();
        assertEquals(zoes, rows(b.get(list + "?client=" + enc(client) + "&user=" + enc("ÅNGSTRÖM " + tag)).body(), "data-consent"));
        assertEquals(zoes, rows(b.get(list + "?user=" + enc("zoë.page-" + tag + "@CORP.example")).body(), "data-consent"));
        assertEquals(65, rows(b.get(list + "?user=" + enc(jon.upstreamSub())).body(), "data-consent").size());
        assertEquals(65, rows(b.get(list + "?user=" + jon.id() + "&client=" + enc("LEDGER-ANSICHT.ZOË-" + tag)).body(),
                "data-consent").size(), "a part of the client id in any case");
        assertEquals(List.of(), rows(b.get(list + "?user=" + enc("Zoë Page") + "&client=" + enc(client)).body(), "data-consent"),
                "not a part of the name");
    }

    @Test
    void theClientListPagesInClientIdOrderAcrossRowsAndMetadataDocumentClients() {
        String tag = suffix();
        long now = System.currentTimeMillis();
        ClientStore clients = broker.bean(ClientStore.class);
        List<String> all = new java.util.ArrayList<>();
        for (int i = 0; i < 45; i++) {
            String id = String.format("kasse.zahlungen-%s.ü-%02d", tag, i);
            clients.save(new OAuthClient(EU, id, "Kasse Zoë " + i, List.of("https://kasse.example/cb"), i % 3 == 0,
                    "none", null, i % 5 == 0 ? "dcr" : "api", now, now));
            all.add(id);
        }
        // metadata-document clients: URL ids seen by a token, by a consent, by both; none has a row
        for (int i = 0; i < 15; i++) {
            String url = String.format("https://apps.example.org/%s/zoë-%02d/client.json", tag, i);
            if (i < 10) {
                broker.bean(ClientActivityStore.class).record(EU, url, now - i * 1_000L);
            }
            if (i >= 5) {
                broker.bean(ConsentStore.class).save(new Consent(EU, "usr_cimd" + tag, url, "ledger", List.of("ledger.read"), now));
            }
            all.add(url);
        }
        List<String> ordered = all.stream().sorted().toList();

        Browser b = fx.browser();
        b.signIn("payments.operator", List.of("payments-ops"));
        String list = broker.url() + "/console/t/" + EU + "/clients";
        HttpResponse<String> p1 = b.get(list + "?q=" + enc(tag));
        assertEquals(200, p1.statusCode(), p1.body());
        assertEquals(ordered.subList(0, 50), rows(p1.body(), "data-client"));
        assertTrue(p1.body().contains("60 clients"), p1.body());
        assertNull(link(p1.body(), "prev"));
        HttpResponse<String> p2 = b.get(broker.url() + link(p1.body(), "next"));
        assertEquals(ordered.subList(50, 60), rows(p2.body(), "data-client"));
        assertNull(link(p2.body(), "next"));
        assertEquals(ordered.subList(0, 50), rows(b.get(broker.url() + link(p2.body(), "prev")).body(), "data-client"));

        assertEquals(ordered.stream().filter(id -> id.startsWith("https://")).toList(),
                rows(b.get(list + "?kind=cimd&q=" + enc(tag)).body(), "data-client"));
        assertEquals(15, rows(b.get(list + "?audience=internal&q=" + enc(tag)).body(), "data-client").size());
        assertEquals(45, rows(b.get(list + "?audience=external&q=" + enc(tag)).body(), "data-client").size(),
                "30 rows and the 15 metadata-document clients");
        assertEquals(9, rows(b.get(list + "?kind=dcr&q=" + enc(tag)).body(), "data-client").size());
        assertEquals(36, rows(b.get(list + "?kind=api&q=" + enc(tag)).body(), "data-client").size());
        assertEquals(1, rows(b.get(list + "?q=" + enc("ZAHLUNGEN-" + tag + ".Ü-07")).body(), "data-client").size(),
                "a part of the id in any case");

        // one client's page: a row, and a metadata-document client known only from a consent
        assertEquals(200, b.get(list + "/show?id=" + enc(ordered.get(55))).statusCode());
        String onlyConsented = String.format("https://apps.example.org/%s/zoë-%02d/client.json", tag, 12);
        HttpResponse<String> cimd = b.get(list + "/show?id=" + enc(onlyConsented));
        assertEquals(200, cimd.statusCode(), cimd.body());
        assertTrue(cimd.body().contains("Metadata document (CIMD)"), cimd.body());
        assertEquals(404, b.get(list + "/show?id=" + enc("https://apps.example.org/" + tag + "/never-seen.json")).statusCode());
    }

    User euUser(String id, String sub, String email, String name) {
        long now = System.currentTimeMillis();
        User u = new User(EU, id, "okta", ISS, sub, email, name, List.of(), List.of(), User.Status.ACTIVE, now, now);
        assertTrue(broker.bean(UserStore.class).insert(u));
        return u;
    }

    /** The page link with {@code rel} on the page (the pager's previous / next), null when there is none. */
    static String link(String html, String rel) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("<a href=\"([^\"]*)\" rel=\"" + rel + "\"").matcher(html);
        return m.find() ? m.group(1).replace("&amp;", "&") : null;
    }

    // ------------------------------------------------------------------------------------------ delegation policy

    @Test
    void theDryRunFindsTheExchangesATightenedRuleWouldDenyAndMalformedTextShowsItsLine() throws IOException {
        String tag = suffix();
        ensureAgent(RECONCILER, "ledger-reader");
        ensureAgent(MATCHER, null);
        User zoe = user("usr_zd" + tag, "00u-zoë-dry-" + tag, "zoe.dry@corp.example", "Zoë Dry", List.of("finance"));
        User jon = user("usr_jd" + tag, "00u-jonathan-dry-" + tag, "jon.dry@corp.example", "Jonathan Dry", List.of("treasury"));
        AuditLog log = broker.bean(AuditLog.class);
        long[] zoeSeqs = new long[3];
        for (int i = 0; i < 3; i++) {
            zoeSeqs[i] = log.append(exchange(zoe, RECONCILER)).seq();
        }
        long jonSeq = log.append(exchange(jon, RECONCILER)).seq();
        long refusedSeq = log.append(AuditEvent.of("acme", "policy.decision", AuditEvent.Outcome.DENY)
                .subject(jon.upstreamSub(), ISS).actors(List.of(MATCHER)).agent(MATCHER).client(MATCHER)
                .resource(LEDGER).scopes("ledger.read").detail("rule", "default-deny")
                .detail("reason", "no rule lets agent invoice.matcher act for this user").build()).seq();

        Browser b = fx.browser();
        b.signIn("jonathan.christopher.williams", List.of("acme-ops"));
        HttpResponse<String> page = b.get(console + "/policy");
        assertEquals(200, page.statusCode(), page.body());
        assertTrue(page.body().contains("data-rule=\"reconciler-for-finance\""), page.body());
        assertTrue(page.body().contains("group:finance"), page.body());
        assertTrue(page.body().contains("id=\"dry-run\"") && page.body().contains("id=\"p-text\""), page.body());

        String tightened = POLICY.replace("groups: [finance, treasury]", "groups: [treasury]") + """
                  - id: matcher-for-treasury
                    agents: [invoice.matcher]
                    users: {groups: [treasury]}
                    resources: ["https://ledger.acme.example/mcp"]
                    scopes: [ledger.read]
                """;
        int before = broker.audit("acme").size();
        HttpResponse<String> result = b.postForm(console + "/policy", Map.of("_csrf", b.csrf(), "file", "delegation.yml",
                "text", tightened, "days", "1"));
        assertEquals(200, result.statusCode(), result.body());
        assertTrue(result.body().contains("3 past exchanges would now be denied"), result.body());
        assertTrue(result.body().contains("1 would now be allowed"), result.body());
        for (long seq : zoeSeqs) {
            assertTrue(result.body().contains("href=\"/console/t/acme/audit/" + seq + "\""), seq + ": " + result.body());
        }
        assertTrue(result.body().contains("href=\"/console/t/acme/audit/" + refusedSeq + "\""));
        assertFalse(result.body().contains("href=\"/console/t/acme/audit/" + jonSeq + "\""), "still allowed: not listed");
        assertEquals(0, since("acme", before, "admin.request.rejected").size());
        assertEquals(POLICY, Files.readString(broker.configDir().resolve("tenants/acme/policies/delegation.yml")), "a dry-run changes nothing");

        // the API's dry-run says the same
        HttpResponse<String> api = broker.post(A + "/policies/dry-run", ConsoleFixture.json(Map.of(
                "files", Map.of("delegation.yml", tightened), "since", "1d")));
        assertEquals(200, api.statusCode(), api.body());
        Map<?, ?> delegation = (Map<?, ?>) ManageBroker.json(api.body()).get("delegation");
        assertEquals(Map.of("allow -> deny", 3, "deny -> allow", 1), delegation.get("transitions"), api.body());

        // malformed: the validator's message with the file and line, a 400 page, audited, nothing run
        String malformed = POLICY + "    max_dept: 2\n";
        HttpResponse<String> bad = b.postForm(console + "/policy", Map.of("_csrf", b.csrf(), "file", "delegation.yml",
                "text", malformed, "days", "7"));
        assertEquals(400, bad.statusCode(), bad.body());
        assertTrue(bad.body().contains("id=\"errors\"") && bad.body().contains("delegation.yml:9:"), bad.body());
        assertTrue(bad.body().contains("max_dept"), bad.body());
        assertFalse(bad.body().contains("id=\"result\""));
        HttpResponse<String> yaml = b.postForm(console + "/policy", Map.of("_csrf", b.csrf(), "file", "extra.yml",
                "text", "delegation:\n  - id: [unclosed\n", "days", "7"));
        assertEquals(400, yaml.statusCode(), yaml.body());
        assertTrue(yaml.body().contains("extra.yml:"), yaml.body());
        assertEquals(400, b.postForm(console + "/policy", Map.of("_csrf", b.csrf(), "file", "../etc/passwd",
                "text", "delegation: []", "days", "7")).statusCode());
    }

    // ------------------------------------------------------------------------------------------ refusals

    @Test
    void anAuditorSeesEveryPageWithoutButtonsAndEveryChangeIsRefused() {
        String tag = suffix();
        String api = "auditor.view-" + tag;
        assertEquals(201, broker.post(A + "/clients", """
                {"client_id":"%s","redirect_uris":["https://view.acme.example/cb"]}""".formatted(api)).statusCode());
        User u = user("usr_au" + tag, "00u-au-" + tag, "au@corp.example", "Sécurité", List.of());
        broker.bean(ConsentStore.class).save(new Consent("acme", u.id(), api, "ledger", List.of("ledger.read"), System.currentTimeMillis()));
        Browser b = fx.browser();
        b.signIn("sécurité.auditor", List.of("Sicherheit & Prüfung"));
        for (String page : List.of("/clients", "/clients/show?id=" + api, "/resources", "/consents", "/policy",
                "/clients/confirm?id=" + api + "&action=delete", "/resources/role?name=ledger-reader",
                "/consents/revoke?user=" + u.id() + "&client=" + api + "&resource=ledger")) {
            HttpResponse<String> r = b.get(console + page);
            assertEquals(200, r.statusCode(), page + " " + r.body());
            assertTrue(r.body().contains("id=\"read-only\""), page);
            assertFalse(r.body().contains("id=\"actions\""), page + ": no buttons");
            assertFalse(r.body().contains("method=\"post\""), page + ": no form that changes anything");
        }
        String csrf = b.csrf();
        int before = broker.audit("acme").size();
        List<String[]> posts = List.of(new String[]{"/clients/delete", "id", api}, new String[]{"/resources/role", "name", "ledger-reader"},
                new String[]{"/resources/resource/delete", "id", "ledger"}, new String[]{"/policy", "file", "delegation.yml"});
        for (String[] p : posts) {
            HttpResponse<String> r = b.postForm(console + p[0], Map.of("_csrf", csrf, p[1], p[2], "mode", "replace",
                    "scopes", "x", "text", "delegation: []"));
            assertEquals(403, r.statusCode(), p[0] + " " + r.body());
        }
        HttpResponse<String> revoke = b.postForm(console + "/consents/revoke", Map.of("_csrf", csrf, "user", u.id(),
                "client", api, "resource", "ledger"));
        assertEquals(403, revoke.statusCode(), revoke.body());
        assertEquals(5, since("acme", before, "admin.request.rejected").size(), "each refusal audited once");
        assertEquals(200, broker.get(A + "/clients/" + api).statusCode(), "nothing changed");
        assertEquals(List.of("ledger.read", "ledger.write"), ManageBroker.json(broker.get(A + "/resources/ledger").body()).get("scopes"));
        assertTrue(broker.bean(ConsentStore.class).find("acme", u.id(), api, "ledger").isPresent());
    }

    @Test
    void anotherTenantsAdminIsRefusedOnEveryPage() {
        Browser b = fx.browser();
        b.signIn("payments.operator", List.of("payments-ops"));
        assertEquals(200, b.get(broker.url() + "/console/t/payments-eu/clients").statusCode());
        int before = broker.audit("acme").size();
        for (String page : List.of("/clients", "/resources", "/consents", "/policy")) {
            HttpResponse<String> r = b.get(console + page);
            assertEquals(403, r.statusCode(), page + " " + r.body());
            assertFalse(r.body().contains("ledger"), "nothing of acme shown");
        }
        assertEquals(403, b.postForm(console + "/clients/internal", Map.of("_csrf", b.csrf(), "id", "treasury.desk")).statusCode());
        assertEquals(5, since("acme", before, "admin.request.rejected").size());
        assertEquals(404, b.get(broker.url() + "/console/t/nowhere/consents").statusCode());
    }

    // ------------------------------------------------------------------------------------------ helpers

    AuditEvent exchange(User u, String agent) {
        return AuditEvent.of("acme", "token.exchanged", AuditEvent.Outcome.SUCCESS).subject(u.upstreamSub(), ISS)
                .actors(List.of(agent)).agent(agent).client(agent).resource(LEDGER).scopes("ledger.read")
                .detail("requested", "ledger.read").detail("rule", "reconciler-for-finance")
                .detail("reason", "allowed by rule reconciler-for-finance").build();
    }

    void ensureAgent(String id, String role) {
        if (broker.get(A + "/agents/" + id).statusCode() == 404) {
            HttpResponse<String> r = broker.post(A + "/agents", ConsoleFixture.agentJson(id, "zoë@corp.example", role));
            assertEquals(201, r.statusCode(), r.body());
        }
    }

    User user(String id, String sub, String email, String name, List<String> groups) {
        long now = System.currentTimeMillis();
        User u = new User("acme", id, "okta", ISS, sub, email, name, groups, List.of(), User.Status.ACTIVE, now, now);
        assertTrue(broker.bean(UserStore.class).insert(u));
        return u;
    }

    HttpResponse<String> refresh(String client, String token) {
        return Browser.raw(HttpRequest.newBuilder(URI.create(broker.url() + "/t/acme/token"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("grant_type=refresh_token&refresh_token=" + enc(token)
                        + "&client_id=" + enc(client))).build());
    }

    String token(String id, String secret) {
        HttpResponse<String> r = Browser.raw(HttpRequest.newBuilder(URI.create(broker.url() + "/admin/token"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials&client_id=" + enc(id)
                        + "&client_secret=" + enc(secret))).build());
        assertEquals(200, r.statusCode(), r.body());
        return (String) ManageBroker.json(r.body()).get("access_token");
    }

    Map<String, Object> client(String id) {
        HttpResponse<String> r = broker.get(A + "/clients/" + id);
        assertEquals(200, r.statusCode(), r.body());
        return ManageBroker.json(r.body());
    }

    List<AuditEntry> since(String tenant, int before, String type) {
        List<AuditEntry> all = broker.audit(tenant);
        return all.subList(before, all.size()).stream().filter(e -> e.type().equals(type)).toList();
    }

    static List<String> rows(String html, String attribute) {
        return ConsoleFixture.rows(html, attribute);
    }

    static String suffix() {
        return ConsoleFixture.suffix();
    }

    static String enc(String s) {
        return ConsoleFixture.enc(s);
    }
}
