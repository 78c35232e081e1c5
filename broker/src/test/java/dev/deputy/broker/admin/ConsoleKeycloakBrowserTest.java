package dev.deputy.broker.admin;

import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import dev.deputy.broker.admin.signin.ConsoleSettings;
import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.console.BrowserHarness;
import dev.deputy.broker.testing.KeycloakServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebElement;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 15's console cases end to end in headless Chromium against a REAL Keycloak (the dist scripts/test unpacks):
 * a realm with the console's client (confidential, code + PKCE, a Group Membership mapper), the groups
 * {@code acme-ops} (tenant admin of acme) and {@code Sicherheit & Prüfung} (auditor), and Keycloak's step-up
 * authentication (ACR {@code silver} = password, {@code gold} = password then OTP), all made through its admin REST API.
 * The browser fills in Keycloak's own login and OTP forms.
 * <ol>
 *   <li>an admin signs in, creates an agent on the console's form, the agent gets its first token and the admin sees
 *   it on the live audit stream; revoking needs step-up: the round trip through Keycloak's OTP form, then the
 *   revocation, which appears on the live stream too;</li>
 *   <li>an auditor signed in the same way sees no change button or form on any page of the tenant, and every change
 *   route the console offers answers 403 to that session's requests carrying its valid CSRF token.</li>
 * </ol>
 * axe-core on Deputy's pages; screenshots into docs/console/ with {@code -Ddeputy.screenshots=docs}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConsoleKeycloakBrowserTest {
    static final String REALM = "deputy-console-" + Long.toString(System.nanoTime(), 36);
    static final String CLIENT_ID = "deputy-console";
    static final String CLIENT_SECRET = "kc-console-s3cret";
    static final String ADMIN_GROUP = "acme-ops";
    static final String AUDITOR_GROUP = "Sicherheit & Prüfung";
    static final String ADMIN = "jonathan.christopher.williams";
    static final String AUDITOR = "zoe.angstrom";
    static final String PASSWORD = "pw-Console-12345";
    /** The admin's TOTP secret (Keycloak's OTP secret is the raw string; its QR code shows it base32-encoded). */
    static final String TOTP_SECRET = "deputy-e2e-totp-" + Long.toString(System.nanoTime(), 36);
    static final String AGENT = "payments.settlement.reconciler";
    static final String RESOURCE = "https://mcp.acme.example/deploy";

    KeycloakServer kc;
    ManageBroker broker;
    BrowserHarness h;
    final JWK agentKey = dev.deputy.broker.oauth.TestKeys.ec();

    @BeforeAll
    void start() throws Exception {
        BrowserHarness.assumeAvailable();
        kc = KeycloakServer.sharedOrSkip();
        realm();
        Path root = ManageBroker.newRoot();
        ManageBroker.write(root.resolve("config/tenants/acme/tenant.yml"), "display_name: Acme Payments\n");
        ManageBroker.write(root.resolve("config/tenants/acme/roles/deploy-reader.yml"), "scopes: [mcp:tool:deploy.read]\n");
        ManageBroker.write(root.resolve("config/tenants/acme/resources/deploy.yml"), "uri: " + RESOURCE + "\nname: Deploy\n"
                + "scopes: [mcp:tool:deploy.read, mcp:tool:deploy.write]\ndefault: true\n");
        Map<String, String> env = new HashMap<>();
        env.put("DEPUTY_CONSOLE_ISSUER", kc.url() + "/realms/" + REALM);
        env.put("DEPUTY_CONSOLE_CLIENT_ID", CLIENT_ID);
        env.put("DEPUTY_CONSOLE_CLIENT_SECRET", CLIENT_SECRET);
        env.put("DEPUTY_CONSOLE_ROLE_MAP", ADMIN_GROUP + "=tenant_admin:acme; " + AUDITOR_GROUP + "=auditor:*");
        env.put("DEPUTY_CONSOLE_STEP_UP_ACR", "gold");
        broker = ManageBroker.start(root, false, ConsoleSettings.properties(env::get));
        client();
        h = new BrowserHarness(null);
    }

    @AfterAll
    void stop() {
        if (h != null) {
            h.close();
        }
        if (broker != null) {
            broker.close();
        }
        if (kc != null) {
            kc.deleteRealm(REALM);
        }
    }

    // ------------------------------------------------------------------------------------------ Keycloak, as its admin sets it up

    /** The realm: ACR → level of authentication map, the step-up browser flow, groups and users. */
    void realm() throws Exception {
        kc.admin("POST", "", Map.of("realm", REALM, "enabled", true,
                "attributes", Map.of("acr.loa.map", "{\"silver\":1,\"gold\":2}")));
        String r = "/" + REALM;
        // Keycloak's step-up authentication: level 1 = username and password, level 2 = an OTP on top
        String flow = "deputy-step-up";
        kc.admin("POST", r + "/authentication/flows", Map.of("alias", flow, "description", "password; OTP when gold is asked for",
                "providerId", "basic-flow", "topLevel", true, "builtIn", false));
        execution(flow, "auth-cookie", "ALTERNATIVE");
        subflow(flow, "deputy-forms", "ALTERNATIVE");
        subflow("deputy-forms", "deputy-level-1", "CONDITIONAL");
        subflow("deputy-forms", "deputy-level-2", "CONDITIONAL");
        String c1 = execution("deputy-level-1", "conditional-level-of-authentication", "REQUIRED");
        kc.admin("POST", r + "/authentication/executions/" + c1 + "/config", Map.of("alias", "deputy-loa-1",
                "config", Map.of("loa-condition-level", "1", "loa-max-age", "36000")));
        execution("deputy-level-1", "auth-username-password-form", "REQUIRED");
        String c2 = execution("deputy-level-2", "conditional-level-of-authentication", "REQUIRED");
        kc.admin("POST", r + "/authentication/executions/" + c2 + "/config", Map.of("alias", "deputy-loa-2",
                "config", Map.of("loa-condition-level", "2", "loa-max-age", "0")));
        execution("deputy-level-2", "auth-otp-form", "REQUIRED");
        kc.admin("PUT", r, Map.of("browserFlow", flow));

        String admins = KeycloakServer.createdId(kc.admin("POST", r + "/groups", Map.of("name", ADMIN_GROUP)));
        String auditors = KeycloakServer.createdId(kc.admin("POST", r + "/groups", Map.of("name", AUDITOR_GROUP)));
        Map<String, Object> otp = Map.of("type", "otp", "userLabel", "deputy e2e",
                "secretData", "{\"value\":\"" + TOTP_SECRET + "\"}",
                "credentialData", "{\"subType\":\"totp\",\"digits\":6,\"counter\":0,\"period\":30,\"algorithm\":\"HmacSHA1\"}");
        String admin = KeycloakServer.createdId(kc.admin("POST", r + "/users", Map.of("username", ADMIN, "enabled", true,
                "email", ADMIN + "@corp.example", "emailVerified", true, "firstName", "Jonathan Christopher", "lastName", "Williams",
                "credentials", List.of(Map.of("type", "password", "value", PASSWORD, "temporary", false), otp))));
        String auditor = KeycloakServer.createdId(kc.admin("POST", r + "/users", Map.of("username", AUDITOR, "enabled", true,
                "email", AUDITOR + "@corp.example", "emailVerified", true, "firstName", "Zoë", "lastName", "Ångström",
                "credentials", List.of(Map.of("type", "password", "value", PASSWORD, "temporary", false)))));
        kc.admin("PUT", r + "/users/" + admin + "/groups/" + admins, null);
        kc.admin("PUT", r + "/users/" + auditor + "/groups/" + auditors, null);
    }

    /** The console's client: confidential, code flow with PKCE, both redirect URIs, groups in the ID token. */
    void client() throws Exception {
        String b = broker.url();
        kc.admin("POST", "/" + REALM + "/clients", Map.of("clientId", CLIENT_ID, "enabled", true, "publicClient", false,
                "secret", CLIENT_SECRET, "standardFlowEnabled", true, "directAccessGrantsEnabled", false,
                "redirectUris", List.of(b + "/console/oauth/callback/console", b + "/console/oauth/callback/console-step-up"),
                "attributes", Map.of("pkce.code.challenge.method", "S256", "post.logout.redirect.uris", b + "/console/signed-out",
                        "default.acr.values", "silver"),
                "protocolMappers", List.of(Map.of("name", "groups", "protocol", "openid-connect",
                        "protocolMapper", "oidc-group-membership-mapper", "config", Map.of("claim.name", "groups",
                                "full.path", "false", "id.token.claim", "true", "access.token.claim", "false",
                                "userinfo.token.claim", "true")))));
    }

    private List<Map<String, Object>> executions(String flow) throws Exception {
        return ManageBroker.JSON.readValue(kc.admin("GET", "/" + REALM + "/authentication/flows/" + KeycloakServer.enc(flow)
                + "/executions", null).body(), new com.fasterxml.jackson.core.type.TypeReference<>() {
        });
    }

    /** Adds an authenticator to a flow with a requirement; returns the execution id. */
    private String execution(String flow, String provider, String requirement) throws Exception {
        kc.admin("POST", "/" + REALM + "/authentication/flows/" + KeycloakServer.enc(flow) + "/executions/execution",
                Map.of("provider", provider));
        return require(flow, e -> provider.equals(e.get("providerId")), requirement);
    }

    private void subflow(String parent, String alias, String requirement) throws Exception {
        kc.admin("POST", "/" + REALM + "/authentication/flows/" + KeycloakServer.enc(parent) + "/executions/flow",
                Map.of("alias", alias, "type", "basic-flow", "description", alias, "provider", "registration-page-form"));
        require(parent, e -> Boolean.TRUE.equals(e.get("authenticationFlow")) && alias.equals(e.get("displayName")), requirement);
    }

    private String require(String flow, java.util.function.Predicate<Map<String, Object>> which, String requirement) throws Exception {
        Map<String, Object> e = executions(flow).stream().filter(x -> ((Number) x.get("level")).intValue() == 0)
                .filter(which).reduce((a, b) -> b).orElseThrow(() -> new AssertionError("no such execution in " + flow));
        Map<String, Object> changed = new LinkedHashMap<>(e);
        changed.put("requirement", requirement);
        kc.admin("PUT", "/" + REALM + "/authentication/flows/" + KeycloakServer.enc(flow) + "/executions", changed);
        return (String) e.get("id");
    }

    /** RFC 6238 TOTP (HMAC-SHA1, 30 s, 6 digits) of Keycloak's raw OTP secret. */
    static String totp(String secret, long epochSeconds) {
        try {
            Mac mac = Mac.getInstance("HmacSHA1");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA1"));
            byte[] h = mac.doFinal(ByteBuffer.allocate(8).putLong(epochSeconds / 30).array());
            int o = h[h.length - 1] & 0xf;
            int bin = ((h[o] & 0x7f) << 24) | ((h[o + 1] & 0xff) << 16) | ((h[o + 2] & 0xff) << 8) | (h[o + 3] & 0xff);
            return String.format("%06d", bin % 1_000_000);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void totpMatchesRfc6238TestVector() {
        // RFC 6238 Appendix B, SHA-1, T = 59 s: 94287082 (8 digits) → the last six
        assertEquals("287082", totp("12345678901234567890", 59));
    }

    // ------------------------------------------------------------------------------------------ the browser

    private boolean atKeycloak() {
        return h.driver.getCurrentUrl().startsWith(kc.url() + "/realms/" + REALM + "/");
    }

    /**
     * Goes through whatever Keycloak asks on the way (its login form, its OTP form) until the browser is back at
     * Deputy; {@code shots} names the screenshots of Keycloak's forms (null: none).
     */
    private void throughKeycloak(String username, String shots) {
        h.await(d -> atKeycloak() || d.getCurrentUrl().startsWith(broker.url() + "/console"));
        for (int step = 0; atKeycloak(); step++) {
            assertTrue(step < 4, () -> "Keycloak keeps asking: " + h.driver.getCurrentUrl() + " " + h.find("body").getText());
            // Keycloak's next form, or the browser already on its way back to Deputy
            Object next = h.await(d -> {
                if (!atKeycloak()) {
                    return Boolean.TRUE;
                }
                List<WebElement> f = h.all("input#otp, input#password");
                return f.isEmpty() ? null : f.getFirst();
            });
            if (!(next instanceof WebElement field)) {
                break;
            }
            if ("otp".equals(field.getAttribute("id"))) {
                if (shots != null) {
                    h.screenshot(shots + "-otp");
                }
                field.sendKeys(totp(TOTP_SECRET, System.currentTimeMillis() / 1000));
            } else {
                List<WebElement> user = h.all("input#username");
                if (!user.isEmpty() && user.getFirst().isDisplayed() && user.getFirst().isEnabled()
                        && user.getFirst().getAttribute("value").isEmpty()) {
                    user.getFirst().sendKeys(username);
                }
                if (shots != null) {
                    h.screenshot(shots + "-login");
                }
                field.sendKeys(PASSWORD);
            }
            h.find("#kc-login").click();
            h.await(d -> !atKeycloak() || stale(field));
            List<WebElement> errors = atKeycloak() ? h.all("#input-error, .kc-feedback-text") : List.of();
            assertTrue(errors.stream().noneMatch(WebElement::isDisplayed),
                    () -> "Keycloak refused: " + errors.stream().map(WebElement::getText).toList());
        }
        h.await(d -> d.getCurrentUrl().startsWith(broker.url() + "/console") && !d.getCurrentUrl().contains("/oauth/"));
    }

    private static boolean stale(WebElement e) {
        try {
            e.isEnabled();
            return false;
        } catch (org.openqa.selenium.StaleElementReferenceException gone) {
            return true;
        }
    }

    /**
     * A fresh browser session, then Keycloak's sign-in. Every cookie goes (Deputy's and Keycloak's SSO cookies, which
     * live on the same host under /realms/…, out of WebDriver's deleteAllCookies' reach): Chrome DevTools' own call.
     */
    private void signIn(String username, String shots) {
        ((org.openqa.selenium.chromium.ChromiumDriver) h.driver).executeCdpCommand("Network.clearBrowserCookies", Map.of());
        h.open(broker.url() + "/console/t/acme/agents");
        throughKeycloak(username, shots);
        h.await(d -> !h.all("a[href^='/console/t/acme/agents']").isEmpty());
    }

    private void open(String path) {
        h.open(broker.url() + path);
        h.awaitUrl(broker.url() + path);
    }

    /**
     * {@code fetch()} from a console page of the tenant (same origin: the session cookie rides along; their CSP has
     * {@code connect-src 'self'}, the landing page's has none) → [status, body].
     */
    private List<Object> fetch(String method, String path, String csrf, String contentType, String body) {
        if (!h.driver.getCurrentUrl().startsWith(broker.url() + "/console/t/acme/")) {
            open("/console/t/acme/agents");
        }
        Object r = ((JavascriptExecutor) h.driver).executeAsyncScript("""
                var done = arguments[arguments.length - 1];
                var headers = {};
                if (arguments[2]) { headers['X-CSRF-Token'] = arguments[2]; }
                if (arguments[3]) { headers['Content-Type'] = arguments[3]; }
                fetch(arguments[1], { method: arguments[0], headers: headers, body: arguments[4], credentials: 'same-origin',
                                      redirect: 'manual' })
                  .then(function (res) { return res.text().then(function (t) { done([res.status, t]); }); })
                  .catch(function (e) { done([-1, String(e)]); });
                """, method, path, csrf, contentType, body);
        return (List<Object>) r;
    }

    private Map<String, Object> whoami() {
        List<Object> r = fetch("GET", "/admin/whoami", null, null, null);
        assertEquals(200L, r.get(0), String.valueOf(r.get(1)));
        return ManageBroker.json((String) r.get(1));
    }

    private String issuer() {
        return (String) ManageBroker.json(broker.send(HttpRequest.newBuilder(
                URI.create(broker.url() + "/.well-known/oauth-authorization-server/t/acme")).GET()).body()).get("issuer");
    }

    /** The agent's client_credentials request with private_key_jwt (RFC 7523 §2.2). */
    private HttpResponse<String> agentToken() {
        String assertion = dev.deputy.broker.oauth.TestKeys.sign(agentKey,
                dev.deputy.broker.oauth.TestKeys.claims(AGENT, issuer()).build());
        return broker.send(HttpRequest.newBuilder(URI.create(broker.url() + "/t/acme/token"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials&scope=" + enc("mcp:tool:deploy.read")
                        + "&client_assertion_type=" + enc("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
                        + "&client_assertion=" + assertion)));
    }

    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private void awaitLive(String type, String agent) {
        h.await(d -> !h.all("#live-entries li.audit-entry[data-type='" + type + "'][data-agent='" + agent + "']").isEmpty());
    }

    // ------------------------------------------------------------------------------------------ 1. the admin

    @Test
    @Order(1)
    void anAdminSignsInThroughKeycloakCreatesAnAgentSeesItsFirstTokenLiveAndRevokesItAfterStepUp() {
        signIn(ADMIN, "console-keycloak");
        Map<String, Object> me = whoami();
        assertEquals(ADMIN + "@corp.example", me.get("admin"));
        assertEquals("silver", me.get("acr"), "a password sign-in is Keycloak's level 1");
        assertEquals(false, me.get("privileged_now"));
        assertEquals(List.of(Map.of("role", "tenant_admin", "tenants", List.of("acme"))), me.get("grants"));
        AuditEntry login = broker.lastAudit("_broker", "admin.console.login", null);
        assertEquals("success", login.outcome());

        // the create form: bad input first (an unknown role): 400, the form again with what was typed, nothing created
        open("/console/t/acme/agents");
        h.find("#new-agent").click();
        h.awaitUrl(broker.url() + "/console/t/acme/new-agent");
        h.axe("create agent");
        h.find("#a-id").sendKeys(AGENT);
        h.find("#a-name").sendKeys("Settlement reconciler – Zoë's team");
        h.find("#a-owner").sendKeys("zoë.ångström@corp.example");
        h.find("#a-env").sendKeys("production");
        h.find("#a-roles").sendKeys("deploy-reader, payments.settlement.approvers");
        h.find("#a-jwks").sendKeys(new JWKSet(agentKey.toPublicJWK()).toString(true));
        h.screenshot("console-agent-new");
        int rejected = count("acme", "admin.request.rejected");
        h.find("#create-agent button[type=submit]").click();
        h.await(d -> !h.all("#form-error").isEmpty());
        assertTrue(h.text("#form-error").contains("unknown role 'payments.settlement.approvers'"), h.text("#form-error"));
        assertEquals(AGENT, h.find("#a-id").getAttribute("value"), "what was typed comes back");
        assertEquals("Settlement reconciler – Zoë's team", h.find("#a-name").getAttribute("value"));
        assertEquals(rejected + 1, count("acme", "admin.request.rejected"), "audited as the API's refusal");
        assertEquals(404, broker.get("/admin/t/acme/agents/" + AGENT).statusCode(), "nothing created");
        h.check("create agent (refused)", "console-agent-new-refused");

        h.find("#a-roles").clear();
        h.find("#a-roles").sendKeys("deploy-reader");
        h.find("#create-agent button[type=submit]").click();
        h.awaitUrl(broker.url() + "/console/t/acme/agents/" + AGENT);
        assertTrue(h.text("#status").startsWith("active"), h.text("#status"));
        Map<String, Object> created = ManageBroker.json(broker.get("/admin/t/acme/agents/" + AGENT).body());
        assertEquals("zoë.ångström@corp.example", created.get("owner"));
        assertEquals(List.of("deploy-reader"), created.get("roles"));
        AuditEntry e = broker.lastAudit("acme", "agent.created", AGENT);
        assertEquals("admin:" + ADMIN + "@corp.example", ManageBroker.json(e.details()).get("actor"));

        // the live stream, in a tab of its own: the agent's first token appears without a reload
        String main = h.driver.getWindowHandle();
        h.driver.switchTo().newWindow(org.openqa.selenium.WindowType.TAB);
        String live = h.driver.getWindowHandle();
        openLive();
        HttpResponse<String> token = agentToken();
        assertEquals(200, token.statusCode(), token.body());
        awaitLive("token.issued", AGENT);
        h.check("live audit stream", "console-keycloak-live-token");

        // revoking is privileged: without a recent OTP the page asks for step-up, nothing changed
        h.driver.switchTo().window(main);
        open("/console/t/acme/agents/" + AGENT + "/revoke");
        h.find("#reason").sendKeys("key leaked in a build log – rotating to a new agent");
        h.find("#confirm button[type=submit]").click();
        h.await(d -> !h.all("#refused a[href='/console/step-up']").isEmpty());
        assertEquals("active", ManageBroker.json(broker.get("/admin/t/acme/agents/" + AGENT).body()).get("status"));

        // the step-up round trip: Keycloak asks for the password again and the OTP (acr_values=gold, prompt=login)
        h.find("#refused a[href='/console/step-up']").click();
        throughKeycloak(ADMIN, "console-keycloak-step-up");
        me = whoami();
        assertEquals("gold", me.get("acr"), me.toString());
        assertEquals(true, me.get("privileged_now"), me.toString());

        // the step-up replaced the session: the live tab reconnects with the new one
        h.driver.switchTo().window(live);
        openLive();
        h.driver.switchTo().window(main);
        open("/console/t/acme/agents/" + AGENT + "/revoke");
        h.find("#reason").sendKeys("key leaked in a build log – rotating to a new agent");
        h.find("#confirm button[type=submit]").click();
        h.await(d -> d.getCurrentUrl().endsWith("/agents/" + AGENT) && h.text("#status").startsWith("revoked"));
        AuditEntry revoked = broker.lastAudit("acme", "agent.revoked", AGENT);
        assertEquals("admin:" + ADMIN + "@corp.example", ManageBroker.json(revoked.details()).get("actor"));
        HttpResponse<String> after = agentToken();
        assertEquals(401, after.statusCode(), "a revoked agent gets no token: " + after.body());

        h.driver.switchTo().window(live);
        awaitLive("agent.revoked", AGENT);
        h.screenshot("console-keycloak-live-revoked");
        h.driver.close();
        h.driver.switchTo().window(main);
    }

    /** Opens the live audit page and waits until its stream is connected. */
    private void openLive() {
        open("/console/t/acme/audit/live");
        h.await(d -> "connected".equals(h.find("#live-status").getAttribute("data-state")));
    }

    private int count(String tenant, String type) {
        return (int) broker.audit(tenant).stream().filter(x -> x.type().equals(type)).count();
    }

    // ------------------------------------------------------------------------------------------ 2. the auditor

    @Test
    @Order(2)
    void anAuditorSignedInThroughKeycloakSeesNoChangeAnywhereAndEveryChangeRouteIs403() {
        String id = "invoice.matcher";
        assertEquals(201, broker.post("/admin/t/acme/agents", """
                {"id":"%s","owner":"jonathan.christopher.williams@corp.example","environment":"production",
                 "roles":["deploy-reader"],"auth_method":"private_key_jwt","jwks":%s}"""
                .formatted(id, new JWKSet(dev.deputy.broker.oauth.TestKeys.ec().toPublicJWK()).toString(true))).statusCode());
        signIn(AUDITOR, null);
        Map<String, Object> me = whoami();
        assertEquals(AUDITOR + "@corp.example", me.get("admin"));
        String csrf = (String) me.get("csrf_token");
        assertNotNull(csrf);

        // every console page of the tenant: no change button, no form that posts (signing out is not a change)
        long seq = broker.lastAudit("acme", "agent.created", id).seq();
        List<String> pages = List.of("/console", "/console/t/acme/agents", "/console/t/acme/agents/" + id,
                "/console/t/acme/agents/" + id + "/suspend", "/console/t/acme/agents/" + id + "/revoke",
                "/console/t/acme/audit", "/console/t/acme/audit/live", "/console/t/acme/audit/verify",
                "/console/t/acme/audit/" + seq, "/console/t/acme/audit/" + seq + "/chain");
        for (String p : pages) {
            open(p);
            // (signing out and verifying the chain post, but change nothing)
            assertTrue(h.all("form[method=post]:not([action='/console/logout']):not(#verify-form)").isEmpty(),
                    p + ": a form that changes something");
            assertTrue(h.all("#actions a, #new-agent, button.danger").isEmpty(), p + ": a change button");
            if (p.startsWith("/console/t/")) {
                h.axe(p + " (auditor)");
            }
        }
        open("/console/t/acme/new-agent");
        assertTrue(h.all("#create-agent").isEmpty(), "no create form for an auditor");
        assertFalse(h.all("#refused").isEmpty());

        // the admin API and the console's own change routes, with this session's valid CSRF token: 403, nothing changed
        int before = count("acme", "admin.request.rejected");
        String json = "application/json";
        String form = "application/x-www-form-urlencoded";
        String agent = "/admin/t/acme/agents/" + id;
        List<String[]> changes = List.of(
                new String[]{"POST", "/admin/t/acme/agents", json, "{\"id\":\"sneaky.agent\",\"environment\":\"dev\",\"auth_method\":\"private_key_jwt\"}"},
                new String[]{"PATCH", agent, json, "{\"name\":\"renamed\"}"},
                new String[]{"POST", agent + "/suspend", json, "{\"reason\":\"x\"}"},
                new String[]{"POST", agent + "/resume", json, "{}"},
                new String[]{"POST", agent + "/revoke", json, "{}"},
                new String[]{"POST", agent + "/rotate", json, "{\"jwks_uri\":\"https://keys.example/jwks\"}"},
                new String[]{"POST", agent + "/credentials", json, "{\"jwks_uri\":\"https://keys.example/jwks\"}"},
                new String[]{"POST", "/console/t/acme/new-agent", form, "_csrf=" + enc(csrf) + "&id=sneaky.agent&environment=dev&auth_method=private_key_jwt"},
                new String[]{"POST", "/console/t/acme/agents/" + id + "/suspend", form, "_csrf=" + enc(csrf) + "&reason=x"},
                new String[]{"POST", "/console/t/acme/agents/" + id + "/resume", form, "_csrf=" + enc(csrf)},
                new String[]{"POST", "/console/t/acme/agents/" + id + "/revoke", form, "_csrf=" + enc(csrf)});
        for (String[] c : changes) {
            List<Object> r = fetch(c[0], c[1], csrf, c[2], c[3]);
            assertEquals(403L, r.get(0), c[0] + " " + c[1] + ": " + r.get(1));
        }
        assertEquals(before + changes.size(), count("acme", "admin.request.rejected"), "each refusal audited once");
        Map<String, Object> still = ManageBroker.json(broker.get(agent).body());
        assertEquals("active", still.get("status"), "nothing changed");
        assertEquals(id, still.get("name"));
        assertEquals(1, ((List<?>) still.get("credentials")).size());
        assertEquals(404, broker.get("/admin/t/acme/agents/sneaky.agent").statusCode());
    }
}
