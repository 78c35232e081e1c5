package dev.deputy.broker.admin;

import com.nimbusds.oauth2.sdk.util.URLUtils;
import dev.deputy.broker.admin.signin.ConsoleSettings;
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
import no.nav.security.mock.oauth2.MockOAuth2Server;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.CookieManager;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
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

    MockOAuth2Server idp;
    ManageBroker broker;
    String console;

    abstract boolean mariadbAndRedis();

    @BeforeAll
    void start() {
        idp = new MockOAuth2Server();
        idp.start();
        Path root = ManageBroker.newRoot();
        ManageBroker.write(root.resolve("config/tenants/acme/tenant.yml"), "display_name: Acme\n");
        ManageBroker.write(root.resolve("config/tenants/acme/roles/ledger-reader.yml"), "scopes: [ledger.read]\n");
        ManageBroker.write(root.resolve("config/tenants/acme/roles/prod-deployer.yml"), "scopes: [deploy.write]\n");
        ManageBroker.write(root.resolve("config/tenants/acme/resources/ledger.yml"), """
                uri: https://ledger.acme.example/mcp
                name: Ledger – Zoë's books
                scopes: [ledger.read, ledger.write]
                scope_descriptions:
                  ledger.read: Read the settlement ledger
                """);
        ManageBroker.write(root.resolve("config/tenants/acme/clients/treasury.desk.yml"), """
                client_id: treasury.desk
                name: Treasury desk
                redirect_uris: ["https://treasury.acme.example/callback"]
                internal: true
                """);
        ManageBroker.write(root.resolve("config/tenants/acme/policies/delegation.yml"), POLICY);
        ManageBroker.write(root.resolve("config/tenants/payments-eu/tenant.yml"), "display_name: Payments EU\n");
        Map<String, String> env = new HashMap<>();
        env.put("DEPUTY_CONSOLE_ISSUER", idp.issuerUrl("corp-admins").toString());
        env.put("DEPUTY_CONSOLE_CLIENT_ID", ConsoleAdminContract.CLIENT_ID);
        env.put("DEPUTY_CONSOLE_CLIENT_SECRET", "console-s3cret");
        env.put("DEPUTY_CONSOLE_ROLE_MAP", "acme-ops=tenant_admin:acme; Sicherheit & Prüfung=auditor:*;"
                + " payments-ops=tenant_admin:payments-eu");
        env.put("DEPUTY_CONSOLE_STEP_UP_ACR", ConsoleAdminContract.MFA_ACR);
        env.put("DEPUTY_CONSOLE_PRIVILEGED_ROLES", "prod-deployer");
        broker = ManageBroker.start(root, mariadbAndRedis(), ConsoleSettings.properties(env::get));
        console = broker.url() + "/console/t/acme";
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

        Browser b = new Browser();
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
        Browser b = new Browser();
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
        assertEquals(201, broker.post(A + "/agents", ConsoleAdminContract.agentJson(agent, "zoë@corp.example", "ledger-reader")).statusCode());
        Browser b = new Browser();
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

        Browser b = new Browser();
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

        Browser b = new Browser();
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
        HttpResponse<String> api = broker.post(A + "/policies/dry-run", ConsoleAdminContract.json(Map.of(
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
        Browser b = new Browser();
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
        Browser b = new Browser();
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
            HttpResponse<String> r = broker.post(A + "/agents", ConsoleAdminContract.agentJson(id, "zoë@corp.example", role));
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

    /** The values of {@code attribute} on the page's rows ({@code data-client="…"}), HTML entities as written. */
    static List<String> rows(String html, String attribute) {
        List<String> out = new java.util.ArrayList<>();
        String marker = attribute + "=\"";
        for (int i = html.indexOf(marker); i >= 0; i = html.indexOf(marker, i + 1)) {
            int start = i + marker.length();
            out.add(html.substring(start, html.indexOf('"', start)).replace("&amp;", "&"));
        }
        return out;
    }

    static String suffix() {
        return UUID.randomUUID().toString().substring(0, 8);
    }

    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    /** A browser: a cookie jar, redirects followed by hand. */
    final class Browser {
        private final HttpClient http = HttpClient.newBuilder().cookieHandler(new CookieManager())
                .followRedirects(HttpClient.Redirect.NEVER).connectTimeout(Duration.ofSeconds(5)).build();

        HttpRequest.Builder req(String uri) {
            return HttpRequest.newBuilder(URI.create(uri)).timeout(Duration.ofSeconds(60));
        }

        HttpResponse<String> get(String uri) {
            return send(req(uri).GET());
        }

        HttpResponse<String> postForm(String uri, Map<String, String> form) {
            Map<String, List<String>> p = new LinkedHashMap<>();
            form.forEach((k, v) -> p.put(k, List.of(v)));
            return send(req(uri).header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString(URLUtils.serializeParameters(p))));
        }

        HttpResponse<String> send(HttpRequest.Builder r) {
            try {
                return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }

        static HttpResponse<String> raw(HttpRequest r) {
            try {
                return HttpClient.newHttpClient().send(r, HttpResponse.BodyHandlers.ofString());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }

        HttpResponse<String> follow(String uri) {
            HttpResponse<String> r = get(uri);
            for (int i = 0; i < 10 && r.statusCode() / 100 == 3; i++) {
                r = get(r.uri().resolve(r.headers().firstValue("Location").orElseThrow()).toString());
            }
            return r;
        }

        void signIn(String sub, List<String> groups) {
            enqueue(sub, groups, List.of("pwd"), null);
            HttpResponse<String> home = follow(broker.url() + "/console");
            assertEquals(200, home.statusCode(), home.body());
            assertEquals("/console", home.uri().getPath(), home.uri().toString());
        }

        /** The console's step-up with an MFA sign-in (the IdP's login form is filled in with the ID token's claims). */
        void stepUp(String sub, List<String> groups) {
            Map<String, Object> claims = enqueue(sub, groups, List.of("pwd", "otp"), ConsoleAdminContract.MFA_ACR);
            HttpResponse<String> form = follow(broker.url() + "/console/step-up");
            assertEquals(200, form.statusCode(), form.body());
            HttpResponse<String> r = postForm(form.uri().toString(), Map.of("username", sub, "claims", ConsoleAdminContract.json(claims)));
            assertEquals(302, r.statusCode(), r.body());
            HttpResponse<String> page = follow(r.uri().resolve(r.headers().firstValue("Location").orElseThrow()).toString());
            assertEquals("/console", page.uri().getPath(), page.uri().toString());
        }

        private Map<String, Object> enqueue(String sub, List<String> groups, List<String> amr, String acr) {
            Map<String, Object> claims = new HashMap<>();
            claims.put("groups", groups);
            claims.put("amr", amr);
            claims.put("auth_time", System.currentTimeMillis() / 1000);
            claims.put("email", sub + "@corp.example");
            claims.put("email_verified", true);
            if (acr != null) {
                claims.put("acr", acr);
            }
            idp.enqueueCallback(new ConsoleAdminContract.IdTokenClaims(sub, claims));
            return claims;
        }

        String csrf() {
            Object t = ManageBroker.json(get(broker.url() + "/admin/whoami").body()).get("csrf_token");
            assertNotNull(t);
            return (String) t;
        }
    }
}
