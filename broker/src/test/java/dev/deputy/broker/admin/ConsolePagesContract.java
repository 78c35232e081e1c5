package dev.deputy.broker.admin;

import com.nimbusds.oauth2.sdk.util.URLUtils;
import dev.deputy.broker.admin.signin.ConsoleSettings;
import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.AgentStore;
import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditSeal;
import dev.deputy.broker.audit.AuditLog;
import dev.deputy.broker.audit.AuditStore;
import dev.deputy.broker.audit.EventTypes;
import dev.deputy.broker.oauth.TestKeys;
import dev.deputy.broker.pki.Pem;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import org.bouncycastle.asn1.x509.GeneralName;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.net.CookieManager;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.deputy.broker.admin.ConsoleAdminContract.agentJson;
import static dev.deputy.broker.admin.ConsoleAdminContract.suffix;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The console's Overview and Connectors pages and the agent page's rotate and certificate-from-CSR forms, over HTTP as
 * a browser sends them, signed in through a real OpenID provider on loopback (mock-oauth2-server): figures that match
 * planted data (agents in each status, dormant ones, token entries at known hours), connector add / test / enable /
 * disable through the admin API's own validation and audit, step-up and CSRF on every change, the auditor who sees
 * and cannot change, another tenant's admin refused, and CSR issuance (good, malformed, another identity).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class ConsolePagesContract {
    static final String A = "/admin/t/acme";
    static final String LAB = "ops-metrics";
    static final long HOUR = AuditStore.HOUR_MS;

    MockOAuth2Server idp;
    ManageBroker broker;

    abstract boolean mariadbAndRedis();

    @BeforeAll
    void start() {
        idp = new MockOAuth2Server();
        idp.start();
        Path root = ManageBroker.newRoot();
        ManageBroker.write(root.resolve("config/tenants/acme/tenant.yml"), "display_name: Acme\n");
        ManageBroker.write(root.resolve("config/tenants/acme/roles/deploy-reader.yml"), "scopes: [deploy.read]\n");
        ManageBroker.write(root.resolve("config/tenants/acme/connectors/legacy-sso.yml"), ConsoleFixture.LEGACY_SSO);
        ManageBroker.write(root.resolve("config/tenants/" + LAB + "/tenant.yml"), "display_name: Ops metrics\n");
        ManageBroker.write(root.resolve("config/tenants/payments-eu/tenant.yml"), "display_name: Payments EU\n");
        Map<String, String> env = new HashMap<>();
        env.put("DEPUTY_CONSOLE_ISSUER", idp.issuerUrl("corp-admins").toString());
        env.put("DEPUTY_CONSOLE_CLIENT_ID", ConsoleAdminContract.CLIENT_ID);
        env.put("DEPUTY_CONSOLE_CLIENT_SECRET", "console-s3cret");
        env.put("DEPUTY_CONSOLE_ROLE_MAP", "acme-ops=tenant_admin:acme," + LAB + "; Sicherheit & Prüfung=auditor:*;"
                + " payments-ops=tenant_admin:payments-eu; engineers=agent_owner");
        env.put("DEPUTY_CONSOLE_STEP_UP_ACR", ConsoleAdminContract.MFA_ACR);
        env.put("DEPUTY_CONSOLE_STEP_UP_MAX_AGE", "300");
        broker = ManageBroker.start(root, mariadbAndRedis(), ConsoleSettings.properties(env::get));
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

    // ------------------------------------------------------------------------------------------ overview

    @Test
    void theOverviewShowsPlantedAgentsTokensAuditStateAndConnectorHealth() {
        long now = System.currentTimeMillis();
        long day = 86_400_000L;
        AgentStore store = broker.bean(AgentStore.class);
        // 4 active (2 of them dormant: idle for more than the default 90 days), 2 suspended, 1 revoked
        store.saveAgent(agent("payments.settlement.reconciler", Agent.Status.ACTIVE, now - 200 * day, null));
        store.saveAgent(agent("jonathan.christopher.williams.helper", Agent.Status.ACTIVE, now - 120 * day, null));
        store.saveAgent(agent("invoice.matcher", Agent.Status.ACTIVE, now - 200 * day, now - day));
        store.saveAgent(agent("fresh.bot", Agent.Status.ACTIVE, now, null));
        store.saveAgent(agent("paused.bot-1", Agent.Status.SUSPENDED, now - 200 * day, null));
        store.saveAgent(agent("paused.bot-2", Agent.Status.SUSPENDED, now, null));
        store.saveAgent(agent("gone.bot", Agent.Status.REVOKED, now - 200 * day, null));
        // token entries at known hours: 3 issued + 2 exchanged five hours ago, 4 refused two hours ago, 1 refreshed
        // in the current hour, 7 issued 30 hours ago (outside the window); a sign-in through the connector
        long thisHour = now - Math.floorMod(now, HOUR);
        long fiveAgo = thisHour - 5 * HOUR;
        long twoAgo = thisHour - 2 * HOUR;
        List<Object[]> planted = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            planted.add(new Object[]{EventTypes.TOKEN_ISSUED, thisHour - 30 * HOUR + i});
        }
        for (int i = 0; i < 3; i++) {
            planted.add(new Object[]{EventTypes.TOKEN_ISSUED, fiveAgo + 60_000 + i});
        }
        planted.add(new Object[]{EventTypes.TOKEN_EXCHANGED, fiveAgo + 120_000});
        planted.add(new Object[]{EventTypes.TOKEN_EXCHANGED, fiveAgo + HOUR - 1});
        for (int i = 0; i < 4; i++) {
            planted.add(new Object[]{EventTypes.TOKEN_REJECTED, twoAgo + i});
        }
        planted.add(new Object[]{EventTypes.TOKEN_REFRESHED, thisHour});
        long loginAt = twoAgo + 17_000;
        planted.add(new Object[]{EventTypes.LOGIN_SUCCEEDED, loginAt, "ops-idp"});
        plant(LAB, planted);
        assertEquals(201, broker.post("/admin/t/" + LAB + "/connectors", connectorJson("ops-idp", "Ops IdP")).statusCode());
        assertEquals(201, broker.post("/admin/t/" + LAB + "/audit/checkpoints", "{}").statusCode());
        long checkpointSeq = broker.bean(AuditStore.class).latestCheckpoint(LAB).orElseThrow().seq();

        Session b = new Session();
        b.signIn("jonathan.christopher.williams", List.of("acme-ops"), false);
        HttpResponse<String> page = b.get("/console/t/" + LAB);
        assertEquals(200, page.statusCode(), page.body());
        String html = page.body();
        assertTrue(page.headers().firstValue("Content-Security-Policy").orElse("").contains("script-src 'self'"));
        assertTrue(html.contains("aria-current=\"page\">Overview</a>"), "the navigation marks the section");
        assertEquals("4", text(html, "count-active"));
        assertEquals("2", text(html, "count-suspended"));
        assertEquals("1", text(html, "count-revoked"));
        assertEquals("2", text(html, "count-dormant"));
        assertEquals(List.of("payments.settlement.reconciler", "jonathan.christopher.williams.helper"), attrs(html, "data-dormant"));

        Map<Long, long[]> series = series(html);
        assertEquals(24, series.size(), "24 hours");
        assertEquals(thisHour, series.keySet().stream().mapToLong(Long::longValue).max().orElseThrow(), "up to the current hour");
        assertEquals(List.of(5L, 0L), List.of(series.get(fiveAgo)[0], series.get(fiveAgo)[1]));
        assertEquals(List.of(0L, 4L), List.of(series.get(twoAgo)[0], series.get(twoAgo)[1]));
        assertEquals(List.of(1L, 0L), List.of(series.get(thisHour)[0], series.get(thisHour)[1]));
        assertEquals(6, series.values().stream().mapToLong(n -> n[0]).sum(), "the 7 of 30 hours ago are outside");
        assertEquals("6", text(html, "issued-total"));
        assertEquals("4", text(html, "refused-total"));

        assertTrue(text(html, "audit-checkpoint").startsWith("entry " + checkpointSeq + ","), text(html, "audit-checkpoint"));
        assertTrue(html.contains("<code>unwitnessed</code>") || html.contains("<code>same</code>")
                || html.contains("<code>extended</code>"), "the witness state");
        String row = row(html, "data-connector=\"ops-idp\"");
        assertTrue(row.contains(Instant.ofEpochMilli(loginAt).toString()), "the last sign-in from the audit trail: " + row);
        assertTrue(row.contains("not tested"), row);

        // testing the connector on its page shows up in the overview
        HttpResponse<String> tested = b.postForm("/console/t/" + LAB + "/connectors/ops-idp/test", Map.of("_csrf", b.csrf()));
        assertEquals(200, tested.statusCode(), tested.body());
        String after = row(b.get("/console/t/" + LAB).body(), "data-connector=\"ops-idp\"");
        assertTrue(after.contains(": OK"), after);
    }

    @Test
    void whoSeesTheOverview() {
        Session auditor = new Session();
        auditor.signIn("sécurité.auditor", List.of("Sicherheit & Prüfung"), false);
        HttpResponse<String> read = auditor.get("/console/t/" + LAB);
        assertEquals(200, read.statusCode(), read.body());
        assertTrue(read.body().contains("id=\"read-only\""));

        Session other = new Session();
        other.signIn("zoë.payments", List.of("payments-ops"), false);
        int before = broker.audit(LAB).size();
        assertEquals(403, other.get("/console/t/" + LAB).statusCode(), "another tenant's admin");
        List<AuditEntry> rejected = broker.audit(LAB).subList(before, broker.audit(LAB).size());
        assertEquals(1, rejected.stream().filter(e -> e.type().equals("admin.request.rejected")).count());
        assertEquals("/admin/t/" + LAB, ManageBroker.json(rejected.get(rejected.size() - 1).details()).get("path"));
        assertEquals(200, other.get("/console/t/payments-eu").statusCode());

        Session owner = new Session();
        owner.signIn("00u-zoe", List.of("engineers"), false);
        HttpResponse<String> r = owner.get("/console/t/acme");
        assertEquals(303, r.statusCode(), "an agent owner goes to their agents");
        assertEquals("/console/t/acme/agents", r.headers().firstValue("Location").orElseThrow());

        assertEquals(303, new Session().get("/console/t/" + LAB).statusCode(), "not signed in: to the sign-in");
        assertEquals(404, auditor.get("/console/t/nowhere").statusCode());
        // the console home links each tenant to its overview (and to its agents)
        String home = auditor.get("/console").body();
        assertTrue(home.contains("href=\"/console/t/" + LAB + "\""), home);
        assertTrue(home.contains("href=\"/console/t/" + LAB + "/agents\""), home);
    }

    // ------------------------------------------------------------------------------------------ connectors

    @Test
    void connectorsAreAddedTestedDisabledAndEnabledWithStepUpCsrfAndTheApisValidation() {
        String pages = "/console/t/acme/connectors";
        Session b = new Session();
        b.signIn("ops.lead", List.of("acme-ops"), false);
        HttpResponse<String> list = b.get(pages);
        assertEquals(200, list.statusCode(), list.body());
        String legacy = row(list.body(), "data-connector=\"legacy-sso\"");
        assertTrue(legacy.contains("config file") && legacy.contains("disabled") && legacy.contains("https://legacy-sso.example.com"), legacy);
        assertFalse(legacy.contains("/enable\"") || legacy.contains("/disable\""), "a config connector changes in its file");
        assertTrue(list.body().contains("id=\"add\""), "a tenant admin has the add form");

        Map<String, String> form = connectorForm("corp-idp", "Zoë Ångström’s IdP", idp.issuerUrl("upstream-corp").toString());
        // adding is privileged: without a recent MFA sign-in, the step-up page and nothing added
        HttpResponse<String> needsMfa = b.postForm(pages, with(form, "_csrf", b.csrf()));
        assertEquals(401, needsMfa.statusCode(), needsMfa.body());
        assertTrue(needsMfa.body().contains("href=\"/console/step-up\""), needsMfa.body());
        assertTrue(needsMfa.headers().firstValue("WWW-Authenticate").orElse("").contains("insufficient_user_authentication"));
        assertEquals(404, broker.get(A + "/connectors/corp-idp").statusCode());
        b.stepUp("ops.lead", List.of("acme-ops"));

        // a cross-site form: the cookie but no CSRF token
        int before = broker.audit("acme").size();
        assertEquals(403, b.postForm(pages, form).statusCode());
        assertEquals(404, broker.get(A + "/connectors/corp-idp").statusCode(), "nothing added");
        assertEquals(1, since("acme", before).stream().filter(e -> e.type().equals("admin.request.rejected")).count());

        HttpResponse<String> added = b.postForm(pages, with(form, "_csrf", b.csrf()));
        assertEquals(303, added.statusCode(), added.body());
        assertEquals(pages + "?added=corp-idp", added.headers().firstValue("Location").orElseThrow());
        Map<String, Object> api = ManageBroker.json(broker.get(A + "/connectors/corp-idp").body());
        assertEquals("Zoë Ångström’s IdP", api.get("display_name"));
        assertEquals("api", api.get("managed_by"));
        assertEquals(List.of("corp.example", "zoë-labs.example"), api.get("email_domains"));
        assertEquals(Map.of("deputy-ops", List.of("deploy-reader")), api.get("role_mapping"));
        assertFalse(broker.get(A + "/connectors/corp-idp").body().contains("upstream-s3cret"), "the secret is never returned");
        AuditEntry addedEntry = broker.lastAudit("acme", EventTypes.CONNECTOR_ADDED, null);
        assertEquals("admin:ops.lead@corp.example", ManageBroker.json(addedEntry.details()).get("actor"));
        String page = b.get(pages + "?added=corp-idp").body();
        assertTrue(page.contains("Zoë Ångström’s IdP") && page.contains("id=\"added\""), page);
        assertFalse(page.contains("upstream-s3cret"));

        // invalid forms: the API's own error on the page, the values kept (never the secret), audited, nothing added
        record Bad(Map<String, String> form, int status, String says) {
        }
        for (Bad bad : List.of(
                new Bad(without(connectorForm("corp-two", "Two", null), "issuer"), 400, "issuer"),
                new Bad(connectorForm("corp-three", "Three", "not a url"), 400, "issuer"),
                new Bad(connectorForm("corp-four", "Four", "ftp://idp.example.com"), 400, "https"),
                new Bad(connectorForm("corp.idp.eu", "Dotted", idp.issuerUrl("upstream-corp").toString()), 400, "id"),
                new Bad(connectorForm("corp-idp", "Zoë again", idp.issuerUrl("upstream-corp").toString()), 409, "exists"),
                new Bad(with(connectorForm("corp-five", "Five", idp.issuerUrl("upstream-corp").toString()), "role_mapping", "no equals sign"), 400, "role_mapping"))) {
            int n = broker.audit("acme").size();
            HttpResponse<String> r = b.postForm(pages, with(bad.form(), "_csrf", b.csrf()));
            assertEquals(bad.status(), r.statusCode(), bad + " " + r.body());
            String error = text(r.body(), "add-error");
            assertTrue(error.contains(bad.says()), error);
            assertTrue(r.body().contains("value=\"" + escape(bad.form().get("display_name")) + "\""), "the form keeps what was typed");
            assertFalse(r.body().contains("upstream-s3cret"), "never the secret");
            List<AuditEntry> audited = since("acme", n).stream().filter(e -> e.type().equals("admin.request.rejected")).toList();
            assertEquals(1, audited.size(), bad.toString());
            assertEquals(bad.status(), ((Number) ManageBroker.json(audited.get(0).details()).get("status")).intValue());
        }
        assertEquals(Map.of("display_name", "Zoë Ångström’s IdP"), Map.of("display_name",
                ManageBroker.json(broker.get(A + "/connectors/corp-idp").body()).get("display_name")), "the duplicate changed nothing");
        for (String id : List.of("corp-two", "corp-three", "corp-four", "corp.idp.eu", "corp-five")) {
            assertTrue(broker.get(A + "/connectors/" + id).statusCode() == 404, id);
        }

        // the test report: deputy connector test's checks, rendered; audited
        HttpResponse<String> report = b.postForm(pages + "/corp-idp/test", Map.of("_csrf", b.csrf()));
        assertEquals(200, report.statusCode(), report.body());
        Map<String, Object> cli = ManageBroker.json(broker.post(A + "/connectors/corp-idp/test", "").body());
        for (Object o : (List<?>) cli.get("checks")) {
            Map<?, ?> c = (Map<?, ?>) o;
            String check = row(report.body(), "data-check=\"" + c.get("name") + "\"");
            assertTrue(check.contains(String.valueOf(c.get("status")).toUpperCase()), check);
        }
        assertEquals(Boolean.TRUE.equals(cli.get("ok")) ? "OK" : "FAILED", text(report.body(), "report-result"));
        assertEquals("admin:ops.lead@corp.example", ManageBroker.json(broker.audit("acme").stream()
                .filter(e -> e.type().equals(EventTypes.CONNECTOR_TESTED)).toList().get(0).details()).get("actor"));

        // disable: a confirmation step, then the form post; enable again
        HttpResponse<String> confirm = b.get(pages + "/corp-idp/disable");
        assertEquals(200, confirm.statusCode());
        assertTrue(confirm.body().contains("id=\"confirm\"") && confirm.body().contains("name=\"_csrf\""), confirm.body());
        assertEquals(true, ManageBroker.json(broker.get(A + "/connectors/corp-idp").body()).get("enabled"), "a confirmation changes nothing");
        assertEquals(303, b.postForm(pages + "/corp-idp/disable", Map.of("_csrf", b.csrf())).statusCode());
        assertEquals(false, ManageBroker.json(broker.get(A + "/connectors/corp-idp").body()).get("enabled"));
        assertEquals("admin:ops.lead@corp.example",
                ManageBroker.json(broker.lastAudit("acme", EventTypes.CONNECTOR_DISABLED, null).details()).get("actor"));
        assertTrue(row(b.get(pages).body(), "data-connector=\"corp-idp\"").contains("/corp-idp/enable\""));
        assertEquals(303, b.postForm(pages + "/corp-idp/enable", Map.of("_csrf", b.csrf())).statusCode());
        assertEquals(true, ManageBroker.json(broker.get(A + "/connectors/corp-idp").body()).get("enabled"));
        assertEquals("admin:ops.lead@corp.example",
                ManageBroker.json(broker.lastAudit("acme", EventTypes.CONNECTOR_ENABLED, null).details()).get("actor"));
        // a config file's connector: the API's 409, as a page
        HttpResponse<String> fileOne = b.postForm(pages + "/legacy-sso/enable", Map.of("_csrf", b.csrf()));
        assertEquals(409, fileOne.statusCode(), fileOne.body());
        assertTrue(fileOne.body().contains("managed by config"), fileOne.body());
        assertEquals(404, b.postForm(pages + "/corp-idp/remove-everything", Map.of("_csrf", b.csrf())).statusCode());
    }

    @Test
    void anAuditorSeesConnectorsWithoutButtonsAndEveryPostIsRefused() {
        assertEquals(201, broker.post(A + "/connectors", connectorJson("audited-idp", "Audited")).statusCode());
        Session b = new Session();
        b.signIn("sécurité.auditor", List.of("Sicherheit & Prüfung"), true); // even with MFA
        HttpResponse<String> list = b.get("/console/t/acme/connectors");
        assertEquals(200, list.statusCode(), list.body());
        assertTrue(list.body().contains("data-connector=\"audited-idp\""));
        assertFalse(list.body().contains("method=\"post\""), "no form that changes anything");
        assertFalse(list.body().contains("/disable\""), "no disable link");
        assertFalse(b.get("/console/t/acme/connectors/audited-idp/disable").body().contains("id=\"confirm\""));
        for (String path : List.of("", "/audited-idp/test", "/audited-idp/disable", "/audited-idp/enable")) {
            HttpResponse<String> r = b.postForm("/console/t/acme/connectors" + path,
                    with(connectorForm("sneaky", "Sneaky", idp.issuerUrl("upstream-corp").toString()), "_csrf", b.csrf()));
            assertEquals(403, r.statusCode(), path + " " + r.body());
        }
        assertEquals(404, broker.get(A + "/connectors/sneaky").statusCode());
        assertEquals(true, ManageBroker.json(broker.get(A + "/connectors/audited-idp").body()).get("enabled"));
        Session other = new Session();
        other.signIn("zoë.payments", List.of("payments-ops"), true);
        assertEquals(403, other.get("/console/t/acme/connectors").statusCode(), "another tenant's admin");
        assertEquals(403, other.postForm("/console/t/acme/connectors/audited-idp/disable", Map.of("_csrf", other.csrf())).statusCode());
    }

    // ------------------------------------------------------------------------------------------ agents: rotate, CSR

    @Test
    void rotatingFromTheAgentPageNeedsConfirmationStepUpAndCsrf() {
        String id = "payments.settlement.reconciler-" + suffix();
        assertEquals(201, broker.post(A + "/agents", agentJson(id, "zoë@corp.example", null)).statusCode());
        String agent = "/console/t/acme/agents/" + id;
        Session b = new Session();
        b.signIn("jonathan.christopher.williams", List.of("acme-ops"), false);
        assertTrue(b.get(agent).body().contains("href=\"" + agent + "/rotate\""), "a Rotate button");
        HttpResponse<String> form = b.get(agent + "/rotate");
        assertEquals(200, form.statusCode());
        assertTrue(form.body().contains("id=\"rotate\"") && form.body().contains("name=\"jwks\""), form.body());
        Map<String, String> rotate = Map.of("jwks", dev.deputy.broker.admin.TestKeys.publicJwks(), "overlap", "30m");
        HttpResponse<String> needsMfa = b.postForm(agent + "/rotate", with(rotate, "_csrf", b.csrf()));
        assertEquals(401, needsMfa.statusCode(), needsMfa.body());
        assertTrue(needsMfa.body().contains("href=\"/console/step-up\""));
        assertEquals(1, credentials(id).size(), "not rotated");
        b.stepUp("jonathan.christopher.williams", List.of("acme-ops"));
        assertEquals(403, b.postForm(agent + "/rotate", rotate).statusCode(), "no CSRF token");
        HttpResponse<String> bad = b.postForm(agent + "/rotate", Map.of("_csrf", b.csrf(), "jwks", "{not json"));
        assertEquals(400, bad.statusCode(), bad.body());
        assertEquals(1, credentials(id).size());
        HttpResponse<String> done = b.postForm(agent + "/rotate", with(rotate, "_csrf", b.csrf()));
        assertEquals(303, done.statusCode(), done.body());
        List<Map<String, Object>> creds = credentials(id);
        assertEquals(2, creds.size(), creds.toString());
        assertEquals(1, creds.stream().filter(c -> c.get("valid_until") != null).count(), "the old one ends after the overlap");
        Map<String, Object> rotated = ManageBroker.json(broker.lastAudit("acme", EventTypes.AGENT_ROTATED, id).details());
        assertEquals(1800, ((Number) rotated.get("overlap_seconds")).intValue());
    }

    @Test
    void aCertificateIsIssuedFromACsrAndABadOneIsRefusedOnThePage() throws Exception {
        String id = "treasury.mtls.bot-" + suffix();
        assertEquals(201, broker.post(A + "/agents", """
                {"id":"%s","name":"Zoë's mTLS bot","owner":"zoë@corp.example","environment":"prod","auth_method":"tls_client_auth"}"""
                .formatted(id)).statusCode());
        String agent = "/console/t/acme/agents/" + id;
        Session b = new Session();
        b.signIn("jonathan.christopher.williams", List.of("acme-ops"), false);
        HttpResponse<String> form = b.get(agent + "/certificate");
        assertEquals(200, form.statusCode());
        assertTrue(form.body().contains("id=\"certificate\"") && form.body().contains("name=\"csr\""), form.body());

        java.security.KeyPair kp = TestKeys.ecKeyPair("secp256r1");
        HttpResponse<String> issued = b.postForm(agent + "/certificate", Map.of("_csrf", b.csrf(), "csr", TestKeys.csr(kp, id), "ttl", "2h"));
        assertEquals(200, issued.statusCode(), issued.body());
        assertTrue(issued.body().contains("id=\"issued\""), issued.body());
        String serial = text(issued.body(), "issued-serial");
        Matcher download = Pattern.compile("id=\"issued-download\" class=\"btn\" href=\"([^\"]+)\"").matcher(issued.body());
        assertTrue(download.find(), issued.body());
        HttpResponse<String> pem = b.get(download.group(1).replace("&amp;", "&"));
        assertEquals(200, pem.statusCode());
        assertTrue(pem.headers().firstValue("Content-Disposition").orElse("").contains("attachment"));
        X509Certificate cert = Pem.certificate(pem.body());
        assertEquals(serial, cert.getSerialNumber().toString(16));
        assertTrue(cert.getSubjectAlternativeNames().stream().map(l -> (String) l.get(1)).toList().get(0)
                .endsWith("/t/acme/agent/" + id), "the agent's own SPIFFE id");
        assertEquals(kp.getPublic(), cert.getPublicKey());
        AuditEntry ok = broker.lastAudit("acme", EventTypes.AGENT_CERTIFICATE_ISSUED, id);
        assertEquals("success", ok.outcome());
        assertEquals("jonathan.christopher.williams@corp.example", ManageBroker.json(ok.details()).get("admin"));
        int creds = credentials(id).size();

        // malformed, a weak key, another agent's SPIFFE id: the API's error on the page, audited, nothing issued
        String otherId = "spiffe://" + URI.create(broker.url()).getHost() + "/t/acme/agent/payments.settlement.reconciler";
        for (String[] bad : new String[][]{
                {"-----BEGIN CERTIFICATE REQUEST-----\nbm90IGEgY3Ny\n-----END CERTIFICATE REQUEST-----", "not a valid PKCS#10"},
                {"hello", "PEM certificate signing request"},
                {TestKeys.csr(TestKeys.keyPair("RSA", 1024), id), "RSA keys must have"},
                {TestKeys.csrAsking(kp, id, new GeneralName(GeneralName.uniformResourceIdentifier, otherId)), "payments.settlement.reconciler"}}) {
            int n = broker.audit("acme").size();
            HttpResponse<String> r = b.postForm(agent + "/certificate", Map.of("_csrf", b.csrf(), "csr", bad[0]));
            assertEquals(400, r.statusCode(), r.body());
            assertTrue(r.body().contains("invalid_request: ") && r.body().contains(bad[1]), bad[1] + ": " + r.body());
            assertFalse(r.body().contains("BEGIN CERTIFICATE-----"), "nothing issued");
            List<AuditEntry> failed = since("acme", n).stream().filter(e -> e.type().equals(EventTypes.AGENT_CERTIFICATE_ISSUED)).toList();
            assertEquals(1, failed.size());
            assertEquals("failure", failed.get(0).outcome());
        }
        assertEquals(creds, credentials(id).size(), "nothing issued");
        assertEquals(403, b.postForm(agent + "/certificate", Map.of("csr", TestKeys.csr(kp, id))).statusCode(), "no CSRF token");

        // a tls_client_auth agent rotates to a CA certificate from its CSR: step-up first
        HttpResponse<String> rotateForm = b.get(agent + "/rotate");
        assertTrue(rotateForm.body().contains("name=\"csr\""), rotateForm.body());
        java.security.KeyPair next = TestKeys.ecKeyPair("secp256r1");
        Map<String, String> rotate = Map.of("csr", TestKeys.csr(next, id), "overlap", "10m");
        assertEquals(401, b.postForm(agent + "/rotate", with(rotate, "_csrf", b.csrf())).statusCode());
        assertEquals(creds, credentials(id).size());
        b.stepUp("jonathan.christopher.williams", List.of("acme-ops"));
        HttpResponse<String> rotated = b.postForm(agent + "/rotate", with(rotate, "_csrf", b.csrf()));
        assertEquals(200, rotated.statusCode(), rotated.body());
        assertTrue(rotated.body().contains("id=\"issued\""));
        assertEquals(true, ManageBroker.json(broker.lastAudit("acme", EventTypes.AGENT_CERTIFICATE_ISSUED, id).details()).get("rotate"));

        // the auditor: no buttons, and the form posts are refused
        Session auditor = new Session();
        auditor.signIn("sécurité.auditor", List.of("Sicherheit & Prüfung"), true);
        String seen = auditor.get(agent).body();
        assertFalse(seen.contains("/rotate\"") || seen.contains("/certificate\""), "no rotate or certificate button");
        assertFalse(auditor.get(agent + "/certificate").body().contains("id=\"certificate\""));
        assertEquals(403, auditor.postForm(agent + "/certificate", Map.of("_csrf", auditor.csrf(), "csr", TestKeys.csr(kp, id))).statusCode());
        assertEquals(403, auditor.postForm(agent + "/rotate", Map.of("_csrf", auditor.csrf(), "csr", TestKeys.csr(kp, id))).statusCode());
        assertEquals(creds + 1, credentials(id).size(), "only the rotation added one");
    }

    // ------------------------------------------------------------------------------------------ helpers

    Agent agent(String id, Agent.Status status, long created, Long lastSeen) {
        return new Agent(LAB, id, "Zoë Ångström " + id, "zoë@corp.example", "prod", List.of(), Map.of(), status,
                Agent.AuthMethod.PRIVATE_KEY_JWT, "api", created, created, status == Agent.Status.ACTIVE ? null : created,
                lastSeen);
    }

    /** Appends sealed entries (type, at_ms[, connector]) to the tenant's chain; the broker's log re-reads its head. */
    void plant(String tenant, List<Object[]> entries) {
        plant(broker, tenant, entries);
    }

    static void plant(ManageBroker broker, String tenant, List<Object[]> entries) {
        // beside the audit log: no entry of the tenant sealed meanwhile, the journal settled, the head re-read after
        broker.bean(AuditLog.class).beside(tenant, () -> plantNow(broker, tenant, entries));
    }

    private static void plantNow(ManageBroker broker, String tenant, List<Object[]> entries) {
        AuditStore store = broker.bean(AuditStore.class);
        AuditEntry head = store.head(tenant).orElse(null);
        long seq = head == null ? 0 : head.seq();
        String prev = head == null ? AuditEntry.GENESIS : head.hash();
        List<AuditEntry> out = new ArrayList<>();
        for (Object[] e : entries) {
            String type = (String) e[0];
            AuditEvent.Builder ev = AuditEvent.of(tenant, type, type.equals(EventTypes.TOKEN_REJECTED)
                    ? AuditEvent.Outcome.FAILURE : AuditEvent.Outcome.SUCCESS).client("payments.settlement.reconciler");
            if (e.length > 2) {
                ev.detail("connector", e[2]);
            }
            AuditEntry sealed = AuditSeal.seal(ev.build(), ++seq, (Long) e[1], prev);
            out.add(sealed);
            prev = sealed.hash();
        }
        store.insert(out);
    }

    List<AuditEntry> since(String tenant, int before) {
        List<AuditEntry> all = broker.audit(tenant);
        return all.subList(before, all.size());
    }

    @SuppressWarnings("unchecked")
    List<Map<String, Object>> credentials(String id) {
        return (List<Map<String, Object>>) ManageBroker.json(broker.get(A + "/agents/" + id).body()).get("credentials");
    }

    String connectorJson(String id, String name) {
        return """
                {"id":"%s","type":"oidc","display_name":"%s","issuer":"%s","client_id":"deputy","client_secret":"upstream-s3cret"}"""
                .formatted(id, name, idp.issuerUrl("upstream-corp").toString());
    }

    static Map<String, String> connectorForm(String id, String name, String issuer) {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("id", id);
        f.put("display_name", name);
        f.put("type", "oidc");
        if (issuer != null) {
            f.put("issuer", issuer);
        }
        f.put("client_id", "deputy-console-upstream");
        f.put("client_secret", "upstream-s3cret");
        f.put("scopes", "openid email profile");
        f.put("email_domains", "corp.example, zoë-labs.example");
        f.put("role_mapping", "deputy-ops = deploy-reader");
        f.put("enabled", "true");
        return f;
    }

    static Map<String, String> with(Map<String, String> m, String k, String v) {
        Map<String, String> out = new LinkedHashMap<>(m);
        out.put(k, v);
        return out;
    }

    static Map<String, String> without(Map<String, String> m, String k) {
        Map<String, String> out = new LinkedHashMap<>(m);
        out.remove(k);
        return out;
    }

    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    /** The text of the element with that id (tags stripped, white space collapsed). */
    static String text(String html, String id) {
        Matcher m = Pattern.compile("<(\\w+)[^>]*\\sid=\"" + Pattern.quote(id) + "\"[^>]*>(.*?)</\\1>", Pattern.DOTALL).matcher(html);
        assertTrue(m.find(), "no element #" + id);
        return m.group(2).replaceAll("<[^>]+>", "").replaceAll("\\s+", " ").strip();
    }

    /** The table row holding that attribute. */
    static String row(String html, String attr) {
        int at = html.indexOf(attr);
        assertTrue(at >= 0, "no row with " + attr);
        int end = html.indexOf("</tr>", at);
        return html.substring(at, end).replaceAll("\\s+", " ");
    }

    static List<String> attrs(String html, String name) {
        List<String> out = new ArrayList<>();
        Matcher m = Pattern.compile(name + "=\"([^\"]+)\"").matcher(html);
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    /** The overview's hourly rows: hour start (epoch ms) → issued, refused. */
    static Map<Long, long[]> series(String html) {
        Map<Long, long[]> out = new LinkedHashMap<>();
        Matcher m = Pattern.compile("data-hour=\"([^\"]+)\".*?<span class=\"n\">(\\d+)</span>.*?<span class=\"n\">(\\d+)</span>",
                Pattern.DOTALL).matcher(html);
        while (m.find()) {
            out.put(Instant.parse(m.group(1)).toEpochMilli(), new long[]{Long.parseLong(m.group(2)), Long.parseLong(m.group(3))});
        }
        return out;
    }

    /** A browser: a cookie jar, no automatic redirects; signs in (and steps up) at the mock admin IdP. */
    final class Session {
        private final HttpClient http = HttpClient.newBuilder().cookieHandler(new CookieManager())
                .followRedirects(HttpClient.Redirect.NEVER).connectTimeout(Duration.ofSeconds(5)).build();

        HttpResponse<String> get(String path) {
            return send(HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(60)).GET());
        }

        HttpResponse<String> postForm(String path, Map<String, String> form) {
            Map<String, List<String>> p = new LinkedHashMap<>();
            form.forEach((k, v) -> p.put(k, List.of(v)));
            return send(HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(60))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString(URLUtils.serializeParameters(p))));
        }

        private URI uri(String path) {
            return URI.create(path.startsWith("http") ? path : broker.url() + path);
        }

        HttpResponse<String> send(HttpRequest.Builder r) {
            return ConsoleFixture.exchange(http, r.build());
        }

        HttpResponse<String> follow(String start) {
            HttpResponse<String> r = get(start);
            for (int i = 0; i < 10 && r.statusCode() / 100 == 3; i++) {
                r = get(r.uri().resolve(r.headers().firstValue("Location").orElseThrow()).toString());
            }
            return r;
        }

        /** Signs in; {@code mfa}: the ID token says a multi-factor sign-in just happened. */
        void signIn(String sub, List<String> groups, boolean mfa) {
            enqueue(sub, groups, mfa);
            HttpResponse<String> page = follow("/console");
            assertEquals(200, page.statusCode(), page.body());
            assertEquals("/console", page.uri().getPath(), page.uri().toString());
        }

        /** The console's step-up: a fresh sign-in at the IdP (its login form, prompt=login) with MFA. */
        void stepUp(String sub, List<String> groups) {
            Map<String, Object> claims = enqueue(sub, groups, true);
            HttpResponse<String> form = follow("/console/step-up");
            assertTrue(form.body().contains("name=\"username\""), "the IdP asks to sign in again: " + form.uri());
            HttpResponse<String> r = postForm(form.uri().toString(), Map.of("username", sub, "claims", ConsoleAdminContract.json(claims)));
            assertEquals(302, r.statusCode(), r.body());
            HttpResponse<String> page = follow(r.uri().resolve(r.headers().firstValue("Location").orElseThrow()).toString());
            assertEquals("/console", page.uri().getPath());
            assertEquals(true, ManageBroker.json(get("/admin/whoami").body()).get("privileged_now"));
        }

        private Map<String, Object> enqueue(String sub, List<String> groups, boolean mfa) {
            Map<String, Object> claims = new HashMap<>();
            claims.put("groups", groups);
            claims.put("amr", mfa ? List.of("pwd", "otp") : List.of("pwd"));
            claims.put("auth_time", System.currentTimeMillis() / 1000);
            claims.put("email", sub.equals("00u-zoe") ? ConsoleAdminContract.OWNER : sub + "@corp.example");
            claims.put("email_verified", true);
            if (mfa) {
                claims.put("acr", ConsoleAdminContract.MFA_ACR);
            }
            idp.enqueueCallback(new ConsoleFixture.IdTokenClaims(sub, claims));
            return claims;
        }

        String csrf() {
            Object t = ManageBroker.json(get("/admin/whoami").body()).get("csrf_token");
            assertNotNull(t);
            return (String) t;
        }
    }
}
