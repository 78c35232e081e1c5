package dev.deputy.broker.audit;

import com.fasterxml.jackson.core.type.TypeReference;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.oauth2.sdk.pkce.CodeChallenge;
import com.nimbusds.oauth2.sdk.pkce.CodeChallengeMethod;
import com.nimbusds.oauth2.sdk.pkce.CodeVerifier;
import com.nimbusds.oauth2.sdk.util.URLUtils;
import dev.deputy.broker.admin.DormancyJob;
import dev.deputy.broker.agent.AgentStore;
import dev.deputy.broker.federation.FedFixture;
import dev.deputy.broker.federation.FedFixture.Browser;
import dev.deputy.broker.federation.User;
import dev.deputy.broker.federation.UserStore;
import dev.deputy.broker.keys.ClockedKeys;
import dev.deputy.broker.keys.SecretBox;
import dev.deputy.broker.keys.SigningKeyStore;
import dev.deputy.broker.keys.SigningKeys;
import dev.deputy.broker.oauth.TestKeys;
import dev.deputy.broker.tenant.Tenants;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.deputy.broker.federation.FedFixture.CLIENT_REDIRECT;
import static dev.deputy.broker.federation.FedFixture.RESOURCE;
import static dev.deputy.broker.federation.FedFixture.TENANT;
import static dev.deputy.broker.federation.FedFixture.query;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The event catalogue, type by type: every type in {@link EventTypes} is caused here by the real flow behind it
 * (HTTP through the embedded broker, a real OIDC provider upstream, agents authenticating with private_key_jwt),
 * and its entry is checked for its type, outcome, tenant and the subject/agent/client it is about — and for the
 * absence of every secret the flows handled (tokens, refresh tokens, client secrets, registration access tokens,
 * assertions, the admin secret). The last steps check that every catalogued type was asserted, that nothing
 * outside the catalogue was written, and that docs/audit.md lists exactly the catalogue.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AuditCatalogueTest {
    static final String AGENT = "cat-agent";
    static final String EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";
    static final String AT_TYPE = "urn:ietf:params:oauth:token-type:access_token";

    @TempDir
    static Path dir;
    FedFixture fx;
    String admin;
    final Set<String> asserted = new TreeSet<>();
    /** Every secret value the flows handled: none may appear in any entry. */
    final Set<String> secrets = new LinkedHashSet<>();
    final JWK agentKey = TestKeys.ec();
    // state carried between the ordered steps
    String userAccessToken;
    String refreshToken;
    String exchanged;
    String userId;
    /** Alarms raised while the flows run: every detail a flow writes must be declared in AuditSchema. */
    final List<AuditAlarms.Alarm> alarms = new java.util.concurrent.CopyOnWriteArrayList<>();
    AutoCloseable alarmHook;

    @BeforeAll
    void start() throws IOException {
        alarmHook = AuditAlarms.listen(alarms::add);
        Path config = dir.resolve("config");
        Files.createDirectories(config.resolve("tenants/acme/policies"));
        Files.writeString(config.resolve("tenants/acme/policies/delegation.yml"), """
                max_chain_depth: 1
                delegation:
                  - id: catalogue-agent-for-everyone
                    agents: [cat-agent]
                    users: {all: true}
                    resources: ["*"]
                    scopes: ["*"]
                """);
        Files.writeString(config.resolve("tenants/acme/registration.yml"), """
                open: true
                redirect_uris: ["http://127.0.0.1/**"]
                auth_methods: [none]
                unused_expiry: 2s
                pending_expiry: 2s
                """);
        // console sign-in through an admin IdP on the same mock server (issuer "admins")
        fx = new FedFixture(dir, "dormancy:\n  period: 1d\n  auto_suspend: true\n"
                // an anomaly rule only the probe agent below can meet (no other flow of this test fires it)
                + "anomaly:\n  rules:\n    - {id: deep-chains, kind: delegation_depth, max_depth: 2, agents: [anomaly.probe]}\n"
                // a CIBA client for the approval.* types
                + "approvals:\n  interval: 1s\n  clients:\n    cat.approver: {backchannel_token_delivery_mode: poll}\n",
                f -> dev.deputy.broker.admin.signin.ConsoleSettings
                .properties(Map.of("DEPUTY_CONSOLE_ISSUER", f.issuer("admins"), "DEPUTY_CONSOLE_CLIENT_ID", "deputy-console",
                        "DEPUTY_CONSOLE_CLIENT_SECRET", "console-s3cret", "DEPUTY_CONSOLE_ROLE_MAP", "Deputy Admins=super_admin")::get));
        Map<String, Object> cred = AuditJson.MAPPER.readValue(dir.resolve("data/admin-credentials.json").toFile(),
                new TypeReference<>() {
                });
        String adminSecret = (String) cred.get("client_secret");
        secrets.add(adminSecret);
        secrets.add("upstream-s3cret");
        secrets.add("conf-client-s3cret");
        secrets.add("console-s3cret");
        HttpResponse<String> r = form("/admin/token", Map.of("grant_type", "client_credentials", "client_id", "admin",
                "client_secret", adminSecret));
        assertEquals(200, r.statusCode(), r.body());
        admin = (String) json(r.body()).get("access_token");
        secrets.add(admin);
    }

    @AfterAll
    void stop() throws Exception {
        alarmHook.close();
        if (fx != null) {
            fx.close();
        }
    }

    // ------------------------------------------------------------------------------------------ helpers

    static Map<String, Object> json(String s) {
        try {
            return AuditJson.MAPPER.readValue(s, new TypeReference<>() {
            });
        } catch (IOException e) {
            throw new IllegalStateException("not JSON: " + s, e);
        }
    }

    HttpResponse<String> send(HttpRequest.Builder b) {
        return new Browser().send(b.build());
    }

    HttpResponse<String> form(String path, Map<String, String> form) {
        Map<String, List<String>> p = new LinkedHashMap<>();
        form.forEach((k, v) -> p.put(k, List.of(v)));
        return send(HttpRequest.newBuilder(URI.create(fx.url() + path))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(URLUtils.serializeParameters(p))));
    }

    HttpResponse<String> adminCall(String method, String path, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(fx.url() + path)).header("Authorization", "Bearer " + admin);
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        return send(b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body)));
    }

    HttpResponse<String> adminOk(String method, String path, String body) {
        HttpResponse<String> r = adminCall(method, path, body);
        assertTrue(r.statusCode() / 100 == 2, () -> method + " " + path + " → " + r.statusCode() + " " + r.body());
        return r;
    }

    Map<String, String> agentAuth(JWK key, String agent) {
        String assertion = TestKeys.sign(key, TestKeys.claims(agent, fx.issuer()).build());
        secrets.add(assertion);
        Map<String, String> m = new LinkedHashMap<>();
        m.put("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
        m.put("client_assertion", assertion);
        return m;
    }

    List<AuditEntry> trail(String tenant) {
        return fx.bean(AuditStore.class).range(tenant, 0, 100_000);
    }

    /**
     * The last entry of {@code type} in the tenant's trail that matches {@code which}: asserts its type, tenant and
     * outcome, and that no secret is in it; records the type as asserted.
     */
    AuditEntry expect(String tenant, String type, String outcome, Predicate<AuditEntry> which) {
        List<AuditEntry> all = trail(tenant);
        AuditEntry found = null;
        for (int i = all.size() - 1; i >= 0 && found == null; i--) {
            if (all.get(i).type().equals(type) && which.test(all.get(i))) {
                found = all.get(i);
            }
        }
        assertNotNull(found, () -> "no " + type + " entry in " + tenant + "; types seen: "
                + all.stream().map(AuditEntry::type).distinct().toList());
        assertEquals(type, found.type());
        assertEquals(tenant, found.tenantId());
        assertEquals(outcome, found.outcome(), type);
        assertNoSecret(found);
        asserted.add(type);
        return found;
    }

    AuditEntry expect(String type, String outcome, Predicate<AuditEntry> which) {
        return expect(TENANT, type, outcome, which);
    }

    AuditEntry expect(String type, String outcome) {
        return expect(TENANT, type, outcome, e -> true);
    }

    void assertNoSecret(AuditEntry e) {
        String all = String.join("|", String.valueOf(e.subject()), String.valueOf(e.agentId()), String.valueOf(e.clientId()),
                String.valueOf(e.resource()), String.valueOf(e.scopes()), String.valueOf(e.details()),
                String.valueOf(e.actor()));
        for (String s : secrets) {
            assertFalse(all.contains(s), () -> e.type() + " holds a secret: " + all);
        }
        // nothing shaped like a JWT either
        assertFalse(Pattern.compile("eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}\\.").matcher(all).find(), all);
    }

    static Map<String, Object> details(AuditEntry e) {
        return json(e.details());
    }

    record Pkce(CodeVerifier verifier, String challenge) {
        static Pkce create() {
            CodeVerifier v = new CodeVerifier();
            return new Pkce(v, CodeChallenge.compute(CodeChallengeMethod.S256, v).getValue());
        }
    }

    String authorizeUrl(String clientId, Pkce pkce, String redirect) {
        Map<String, List<String>> p = new LinkedHashMap<>();
        p.put("response_type", List.of("code"));
        p.put("client_id", List.of(clientId));
        p.put("redirect_uri", List.of(redirect));
        p.put("state", List.of("st-" + UUID.randomUUID()));
        p.put("code_challenge", List.of(pkce.challenge()));
        p.put("code_challenge_method", List.of("S256"));
        p.put("scope", List.of("tools:read tools:write"));
        p.put("resource", List.of(RESOURCE));
        return fx.issuer() + "/authorize?" + URLUtils.serializeParameters(p);
    }

    static String csrf(String page) {
        Matcher m = Pattern.compile("name=\"csrf\" value=\"([^\"]+)\"").matcher(page);
        assertTrue(m.find(), page);
        return m.group(1);
    }

    // ------------------------------------------------------------------------------------------ the broker itself

    @Test
    @Order(1)
    void startUpAndAdminSignIn() {
        AuditEntry c = expect(AdminAuth_SYSTEM, EventTypes.ADMIN_CREDENTIAL_CREATED, "success", e -> true);
        assertEquals("admin", c.clientId());
        assertTrue(details(c).get("file").toString().endsWith("admin-credentials.json"));
        AuditEntry k = expect(EventTypes.KEY_CREATED, "success");
        assertNotNull(details(k).get("kid"));
        assertEquals("ES256", details(k).get("alg"));
        assertNull(details(k).get("d"), "never key material");

        AuditEntry ok = expect(AdminAuth_SYSTEM, EventTypes.ADMIN_TOKEN_ISSUE, "success", e -> true);
        assertEquals("admin", ok.clientId());
        HttpResponse<String> bad = form("/admin/token", Map.of("grant_type", "client_credentials", "client_id", "admin",
                "client_secret", "wrong-secret-value"));
        assertEquals(401, bad.statusCode(), bad.body());
        secrets.add("wrong-secret-value");
        AuditEntry failed = expect(AdminAuth_SYSTEM, EventTypes.ADMIN_TOKEN_ISSUE, "failure", e -> true);
        assertEquals("invalid_client", details(failed).get("error"));

        assertEquals(400, adminCall("POST", "/admin/t/acme/agents", "{\"id\":\"Not An Id!\"}").statusCode());
        AuditEntry rej = expect(EventTypes.ADMIN_REQUEST_REJECTED, "failure", e -> true);
        assertEquals("admin", rej.clientId());
        assertEquals("invalid_request", details(rej).get("error"));
        assertEquals(400, details(rej).get("status"));
    }

    static final String AdminAuth_SYSTEM = dev.deputy.broker.admin.AdminAuth.SYSTEM_TENANT;

    // ------------------------------------------------------------------------------------------ catalogue changes

    @Test
    @Order(2)
    void rolesAndResources() {
        adminOk("POST", "/admin/t/acme/roles", "{\"name\":\"cat-role\",\"scopes\":[\"tools:read\"]}");
        assertEquals("cat-role", details(expect(EventTypes.ROLE_CREATED, "success")).get("role"));
        adminOk("PUT", "/admin/t/acme/roles/cat-role", "{\"scopes\":[\"tools:read\",\"tools:write\"]}");
        AuditEntry u = expect(EventTypes.ROLE_UPDATED, "success");
        assertTrue(u.details().contains("before") && u.details().contains("after"), u.details());
        adminOk("DELETE", "/admin/t/acme/roles/cat-role", null);
        assertEquals("admin", expect(EventTypes.ROLE_DELETED, "success").clientId());

        adminOk("POST", "/admin/t/acme/resources", "{\"id\":\"cat-res\",\"uri\":\"https://cat.acme.test/mcp\",\"scopes\":[\"x:read\"]}");
        assertEquals("https://cat.acme.test/mcp", expect(EventTypes.RESOURCE_CREATED, "success").resource());
        adminOk("PUT", "/admin/t/acme/resources/cat-res", "{\"uri\":\"https://cat.acme.test/mcp\",\"name\":\"Cat\",\"scopes\":[\"x:read\"]}");
        assertEquals("cat-res", details(expect(EventTypes.RESOURCE_UPDATED, "success")).get("resource_id"));
        adminOk("DELETE", "/admin/t/acme/resources/cat-res", null);
        assertEquals("cat-res", details(expect(EventTypes.RESOURCE_DELETED, "success")).get("resource_id"));
    }

    @Test
    @Order(3)
    void agentLifecycle() {
        adminOk("POST", "/admin/t/acme/agents", """
                {"id":"cat-agent","environment":"production","roles":["developer"],"auth_method":"private_key_jwt",
                 "jwks":%s}""".formatted(TestKeys.publicJwks(agentKey)));
        AuditEntry c = expect(EventTypes.AGENT_CREATED, "success", e -> AGENT.equals(e.agentId()));
        assertEquals("admin", c.clientId());
        assertEquals("admin:admin", details(c).get("actor"));
        assertFalse(c.details().contains("\"d\""), "no private key material");

        adminOk("PATCH", "/admin/t/acme/agents/cat-agent", "{\"name\":\"Catalogue agent\"}");
        AuditEntry u = expect(EventTypes.AGENT_UPDATED, "success", e -> AGENT.equals(e.agentId()));
        assertEquals("Catalogue agent", ((Map<?, ?>) details(u).get("after")).get("name"));

        adminOk("POST", "/admin/t/acme/agents/cat-agent/credentials", "{\"jwks\":" + TestKeys.publicJwks(TestKeys.ec()) + "}");
        assertNotNull(details(expect(EventTypes.AGENT_CREDENTIAL_ADDED, "success", e -> AGENT.equals(e.agentId())))
                .get("credential"));
        adminOk("POST", "/admin/t/acme/agents/cat-agent/rotate", "{\"jwks\":" + TestKeys.publicJwks(TestKeys.ec()) + "}");
        assertEquals(3600, details(expect(EventTypes.AGENT_ROTATED, "success", e -> AGENT.equals(e.agentId())))
                .get("overlap_seconds"));

        adminOk("POST", "/admin/t/acme/agents/cat-agent/suspend", "{\"reason\":\"catalogue\"}");
        AuditEntry s = expect(EventTypes.AGENT_SUSPENDED, "success", e -> AGENT.equals(e.agentId()));
        assertEquals("suspended", ((Map<?, ?>) details(s).get("after")).get("status"));
        adminOk("POST", "/admin/t/acme/agents/cat-agent/resume", "{}");
        assertEquals("active", ((Map<?, ?>) details(expect(EventTypes.AGENT_RESUMED, "success",
                e -> AGENT.equals(e.agentId()))).get("after")).get("status"));

        adminOk("POST", "/admin/t/acme/agents", """
                {"id":"cat-doomed","environment":"production","auth_method":"private_key_jwt","jwks":%s}"""
                .formatted(TestKeys.publicJwks(TestKeys.ec())));
        adminOk("POST", "/admin/t/acme/agents/cat-doomed/revoke", "{\"reason\":\"leaked\"}");
        assertEquals("leaked", details(expect(EventTypes.AGENT_REVOKED, "success", e -> "cat-doomed".equals(e.agentId())))
                .get("reason"));

        adminOk("POST", "/admin/t/acme/agents", """
                {"id":"cat-dormant","environment":"production","auth_method":"private_key_jwt","jwks":%s}"""
                .formatted(TestKeys.publicJwks(TestKeys.ec())));
        fx.bean(AgentStore.class).touchLastSeen(TENANT, "cat-dormant", System.currentTimeMillis() - 3 * 86_400_000L);
        assertTrue(fx.bean(DormancyJob.class).sweep(false).get(TENANT).contains("cat-dormant"));
        AuditEntry d = expect(EventTypes.AGENT_DORMANT, "success", e -> "cat-dormant".equals(e.agentId()));
        assertEquals("system:dormancy", details(d).get("actor"));
        assertNull(d.clientId());

        adminOk("POST", "/admin/t/acme/agents", "{\"id\":\"cat-mtls\",\"environment\":\"production\",\"auth_method\":\"tls_client_auth\"}");
        KeyPair kp = TestKeys.ecKeyPair("secp256r1");
        String csr = TestKeys.csr(kp, "cat-mtls");
        HttpResponse<String> cert = adminOk("POST", "/admin/t/acme/agents/cat-mtls/certificates",
                "{\"csr\":\"" + csr.replace("\n", "\\n") + "\",\"ttl\":\"1h\"}");
        AuditEntry ci = expect(EventTypes.AGENT_CERTIFICATE_ISSUED, "success", e -> "cat-mtls".equals(e.agentId()));
        assertEquals(json(cert.body()).get("thumbprint"), details(ci).get("thumbprint"));
        assertFalse(ci.details().contains("BEGIN"), "no certificate or key PEM in the trail");
    }

    @Test
    @Order(4)
    void connectors() {
        String body = """
                {"id":"cat-idp","type":"oidc","issuer":"%s","client_id":"deputy","client_secret":"connector-secret-value",
                 "email_domains":["cat.example"]}""".formatted(fx.issuer("cat"));
        secrets.add("connector-secret-value");
        adminOk("POST", "/admin/t/acme/connectors", body);
        Predicate<AuditEntry> catIdp = e -> e.details().contains("\"cat-idp\"");
        assertEquals("admin:admin", details(expect(EventTypes.CONNECTOR_ADDED, "success", catIdp)).get("actor"));
        HttpResponse<String> test = adminOk("POST", "/admin/t/acme/connectors/cat-idp/test", null);
        AuditEntry t = expect(EventTypes.CONNECTOR_TESTED, (Boolean) json(test.body()).get("ok") ? "success" : "failure", catIdp);
        assertEquals(json(test.body()).get("ok"), details(t).get("ok"));
        adminOk("POST", "/admin/t/acme/connectors/cat-idp/disable", null);
        expect(EventTypes.CONNECTOR_DISABLED, "success", catIdp);
        adminOk("POST", "/admin/t/acme/connectors/cat-idp/enable", null);
        expect(EventTypes.CONNECTOR_ENABLED, "success", catIdp);
        adminOk("DELETE", "/admin/t/acme/connectors/cat-idp", null);
        expect(EventTypes.CONNECTOR_REMOVED, "success", catIdp);
    }

    @Test
    @Order(5)
    void clientsByAdminDcrAndCimd() throws Exception {
        adminOk("POST", "/admin/t/acme/clients", "{\"client_id\":\"cat-client\",\"redirect_uris\":[\"https://cat.example/cb\"],"
                + "\"token_endpoint_auth_method\":\"client_secret_basic\"}");
        AuditEntry c = expect(EventTypes.CLIENT_CREATED, "success", e -> "cat-client".equals(e.clientId()));
        assertEquals("admin:admin", details(c).get("actor"));
        adminOk("PATCH", "/admin/t/acme/clients/cat-client", "{\"name\":\"Cat\"}");
        expect(EventTypes.CLIENT_UPDATED, "success", e -> "cat-client".equals(e.clientId()));
        adminOk("DELETE", "/admin/t/acme/clients/cat-client", null);
        expect(EventTypes.CLIENT_DELETED, "success", e -> "cat-client".equals(e.clientId()));

        // RFC 7591 / 7592
        HttpResponse<String> reg = send(HttpRequest.newBuilder(URI.create(fx.issuer() + "/register"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
                        "{\"redirect_uris\":[\"http://127.0.0.1/cb\"],\"token_endpoint_auth_method\":\"none\"}")));
        assertEquals(201, reg.statusCode(), reg.body());
        Map<String, Object> info = json(reg.body());
        String clientId = (String) info.get("client_id");
        String rat = (String) info.get("registration_access_token");
        secrets.add(rat);
        AuditEntry r = expect(EventTypes.CLIENT_REGISTERED, "success", e -> clientId.equals(e.clientId()));
        assertEquals("dcr", details(r).get("method"));

        HttpResponse<String> badReg = send(HttpRequest.newBuilder(URI.create(fx.issuer() + "/register"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
                        "{\"redirect_uris\":[\"https://evil.example/cb\"],\"token_endpoint_auth_method\":\"none\"}")));
        assertEquals(400, badReg.statusCode(), badReg.body());
        expect(EventTypes.CLIENT_REGISTRATION_REJECTED, "failure");

        String regUri = fx.issuer() + "/register/" + clientId;
        HttpResponse<String> put = send(HttpRequest.newBuilder(URI.create(regUri)).header("Authorization", "Bearer " + rat)
                .header("Content-Type", "application/json").PUT(HttpRequest.BodyPublishers.ofString(
                        "{\"client_id\":\"" + clientId + "\",\"redirect_uris\":[\"http://127.0.0.1/cb2\"],\"token_endpoint_auth_method\":\"none\"}")));
        assertEquals(200, put.statusCode(), put.body());
        assertTrue(expect(EventTypes.CLIENT_UPDATED, "success", e -> clientId.equals(e.clientId())).details().contains("cb2"));
        HttpResponse<String> badPut = send(HttpRequest.newBuilder(URI.create(regUri)).header("Authorization", "Bearer " + rat)
                .header("Content-Type", "application/json").PUT(HttpRequest.BodyPublishers.ofString(
                        "{\"client_id\":\"someone-else\",\"redirect_uris\":[\"http://127.0.0.1/cb2\"]}")));
        assertEquals(400, badPut.statusCode(), badPut.body());
        expect(EventTypes.CLIENT_UPDATE_REJECTED, "failure", e -> clientId.equals(e.clientId()));
        HttpResponse<String> denied = send(HttpRequest.newBuilder(URI.create(regUri)).header("Authorization", "Bearer not-the-token").GET());
        assertEquals(401, denied.statusCode(), denied.body());
        assertEquals("invalid_token", details(expect(EventTypes.CLIENT_MANAGEMENT_DENIED, "deny",
                e -> clientId.equals(e.clientId()))).get("reason"));
        HttpResponse<String> del = send(HttpRequest.newBuilder(URI.create(regUri)).header("Authorization", "Bearer " + rat).DELETE());
        assertEquals(204, del.statusCode(), del.body());
        expect(EventTypes.CLIENT_DELETED, "success", e -> clientId.equals(e.clientId()) && e.details().contains("dcr"));

        // a never-used registration past the tenant's pending_expiry (2 s) is removed at the next registration
        HttpResponse<String> idle = send(HttpRequest.newBuilder(URI.create(fx.issuer() + "/register"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
                        "{\"redirect_uris\":[\"http://127.0.0.1/idle\"],\"token_endpoint_auth_method\":\"none\"}")));
        assertEquals(201, idle.statusCode(), idle.body());
        String idleId = (String) json(idle.body()).get("client_id");
        secrets.add((String) json(idle.body()).get("registration_access_token"));
        Thread.sleep(2_500);
        HttpResponse<String> next = send(HttpRequest.newBuilder(URI.create(fx.issuer() + "/register"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
                        "{\"redirect_uris\":[\"http://127.0.0.1/next\"],\"token_endpoint_auth_method\":\"none\"}")));
        assertEquals(201, next.statusCode(), next.body());
        secrets.add((String) json(next.body()).get("registration_access_token"));
        assertEquals("never_used", details(expect(EventTypes.CLIENT_EXPIRED, "info", e -> idleId.equals(e.clientId()))).get("reason"));

        // a Client ID Metadata Document at a private address is refused (SSRF) and audited
        String cimd = "https://192.168.0.1/client.json";
        HttpResponse<String> cimdPage = new Browser().get(authorizeUrl(cimd, Pkce.create(), "https://app.example/cb"));
        assertEquals(400, cimdPage.statusCode(), cimdPage.body());
        expect(EventTypes.CLIENT_CIMD_REJECTED, "failure", e -> cimd.equals(e.clientId()));
    }

    // ------------------------------------------------------------------------------------------ a human and an agent

    @Test
    @Order(6)
    void loginConsentCodeAndTokens() throws Exception {
        String sub = "00uCatalogue";
        fx.enqueue("oauth2/default", sub, Map.of("email", "cat@okta.example", "groups", List.of("engineers")));
        Browser b = new Browser();
        Pkce pkce = Pkce.create();
        HttpResponse<String> page = b.follow(authorizeUrl("ext-app", pkce, CLIENT_REDIRECT), CLIENT_REDIRECT);
        assertEquals(200, page.statusCode(), page.body());
        String iss = fx.issuer("oauth2/default");
        AuditEntry started = expect(EventTypes.LOGIN_STARTED, "info", e -> "ext-app".equals(e.clientId()));
        assertEquals(RESOURCE, started.resource());
        AuditEntry created = expect(EventTypes.USER_CREATED, "success", e -> sub.equals(e.subject()));
        assertEquals(iss, created.subjectIss());
        AuditEntry in = expect(EventTypes.LOGIN_SUCCEEDED, "success", e -> sub.equals(e.subject()));
        assertEquals(iss, in.subjectIss());
        assertEquals("ext-app", in.clientId());
        User u = fx.bean(UserStore.class).findLinked(TENANT, "okta", iss, sub).orElseThrow();
        userId = u.id();

        HttpResponse<String> allowed = b.postForm(fx.issuer() + "/consent", Map.of("csrf", csrf(page.body()), "decision", "allow"));
        assertEquals(302, allowed.statusCode(), allowed.body());
        AuditEntry granted = expect(EventTypes.CONSENT_GRANTED, "allow", e -> sub.equals(e.subject()));
        assertEquals("ext-app", granted.clientId());
        assertEquals(RESOURCE, granted.resource());
        assertEquals("tools:read tools:write", granted.scopes());
        String code = query(allowed.headers().firstValue("Location").orElseThrow()).get("code");
        secrets.add(code);
        AuditEntry issuedCode = expect(EventTypes.AUTHORIZE_CODE_ISSUED, "success", e -> sub.equals(e.subject()));
        assertEquals("ext-app", issuedCode.clientId());

        HttpResponse<String> tok = form("/t/acme/token", Map.of("grant_type", "authorization_code", "code", code,
                "redirect_uri", CLIENT_REDIRECT, "client_id", "ext-app", "code_verifier", pkce.verifier().getValue()));
        assertEquals(200, tok.statusCode(), tok.body());
        userAccessToken = (String) json(tok.body()).get("access_token");
        refreshToken = (String) json(tok.body()).get("refresh_token");
        secrets.add(userAccessToken);
        secrets.add(refreshToken);
        String jti = SignedJWT.parse(userAccessToken).getJWTClaimsSet().getJWTID();
        AuditEntry issued = expect(EventTypes.TOKEN_ISSUED, "success", e -> sub.equals(e.subject()));
        assertEquals(iss, issued.subjectIss());
        assertEquals("ext-app", issued.clientId());
        assertEquals(RESOURCE, issued.resource());
        assertEquals(jti, details(issued).get("jti"));

        HttpResponse<String> badCode = form("/t/acme/token", Map.of("grant_type", "authorization_code", "code", "never-issued",
                "redirect_uri", CLIENT_REDIRECT, "client_id", "ext-app", "code_verifier", new CodeVerifier().getValue()));
        assertEquals(400, badCode.statusCode());
        assertEquals("invalid_grant", json(badCode.body()).get("error"));
        assertEquals("ext-app", expect(EventTypes.TOKEN_REJECTED, "failure").clientId());

        // rotation: the new pair is answered only with its entry (same transaction as the rotation)
        HttpResponse<String> ref = form("/t/acme/token", Map.of("grant_type", "refresh_token", "refresh_token", refreshToken,
                "client_id", "ext-app"));
        assertEquals(200, ref.statusCode(), ref.body());
        String rt2 = (String) json(ref.body()).get("refresh_token");
        secrets.add(rt2);
        secrets.add((String) json(ref.body()).get("access_token"));
        AuditEntry refreshed = expect(EventTypes.TOKEN_REFRESHED, "success", e -> sub.equals(e.subject()));
        assertEquals("ext-app", refreshed.clientId());
        assertEquals(SignedJWT.parse((String) json(ref.body()).get("access_token")).getJWTClaimsSet().getJWTID(),
                details(refreshed).get("jti"));
        // reuse of the first refresh token: refused, the family revoked
        HttpResponse<String> reuse = form("/t/acme/token", Map.of("grant_type", "refresh_token", "refresh_token", refreshToken,
                "client_id", "ext-app"));
        assertEquals(400, reuse.statusCode());
        AuditEntry re = expect(EventTypes.TOKEN_REFRESH_REUSE, "failure", e -> "ext-app".equals(e.clientId()));
        assertEquals(2, ((Number) details(re).get("revoked_refresh_tokens")).intValue());

        // the user withdraws consent (admin API), is asked again, and denies
        adminOk("DELETE", "/admin/t/acme/consents/" + userId + "/ext-app/mcp", null);
        AuditEntry revoked = expect(EventTypes.CONSENT_REVOKED, "success", e -> "ext-app".equals(e.clientId()));
        assertEquals(userId, details(revoked).get("user_id"));
        HttpResponse<String> again = b.get(authorizeUrl("ext-app", Pkce.create(), CLIENT_REDIRECT));
        assertEquals(200, again.statusCode(), again.body());
        HttpResponse<String> denied = b.postForm(fx.issuer() + "/consent", Map.of("csrf", csrf(again.body()), "decision", "deny"));
        assertEquals("access_denied", query(denied.headers().firstValue("Location").orElseThrow()).get("error"));
        assertEquals("ext-app", expect(EventTypes.CONSENT_DENIED, "deny", e -> sub.equals(e.subject())).clientId());

        // a redirect URI that is not registered: a page, never a redirect
        HttpResponse<String> mismatch = b.get(authorizeUrl("ext-app", Pkce.create(), "https://evil.example/cb"));
        assertEquals(400, mismatch.statusCode());
        assertEquals("redirect_uri_mismatch", details(expect(EventTypes.AUTHORIZE_REJECTED, "failure",
                e -> "ext-app".equals(e.clientId()))).get("reason"));
        // a callback with a state the broker never issued
        assertEquals(400, b.get(fx.issuer() + "/callback?state=forged&code=x").statusCode());
        assertEquals("state_mismatch", details(expect(EventTypes.LOGIN_FAILED, "failure")).get("reason"));

        assertEquals(200, b.get(fx.issuer() + "/logout").statusCode());
        AuditEntry out = expect(EventTypes.LOGOUT, "success", e -> sub.equals(e.subject()));
        assertEquals(userId, details(out).get("user_id"));
    }

    /** RFC 8693 exchange of {@code subjectToken} by the catalogue agent (private_key_jwt). */
    private HttpResponse<String> exchange(String subjectToken) throws Exception {
        Map<String, String> ex = new LinkedHashMap<>(agentAuth(agentKey, AGENT));
        ex.put("grant_type", EXCHANGE);
        ex.put("subject_token", subjectToken);
        ex.put("subject_token_type", AT_TYPE);
        return form("/t/acme/token", ex);
    }

    @Test
    @Order(7)
    void exchangeToolCallsIntrospectionAndRevocation() throws Exception {
        // a fresh user token (the first family was revoked by the reuse above)
        String sub = "00uCatalogue2";
        fx.enqueue("oauth2/default", sub, Map.of("groups", List.of("engineers")));
        Pkce pkce = Pkce.create();
        HttpResponse<String> r = new Browser().follow(authorizeUrl("mcp-inspector", pkce, CLIENT_REDIRECT), CLIENT_REDIRECT);
        String code = query(r.headers().firstValue("Location").orElseThrow()).get("code");
        HttpResponse<String> tok = form("/t/acme/token", Map.of("grant_type", "authorization_code", "code", code,
                "redirect_uri", CLIENT_REDIRECT, "client_id", "mcp-inspector", "code_verifier", pkce.verifier().getValue()));
        assertEquals(200, tok.statusCode(), tok.body());
        String userToken = (String) json(tok.body()).get("access_token");
        secrets.add(userToken);
        secrets.add((String) json(tok.body()).get("refresh_token"));

        HttpResponse<String> xr = exchange(userToken);
        assertEquals(200, xr.statusCode(), xr.body());
        exchanged = (String) json(xr.body()).get("access_token");
        secrets.add(exchanged);
        // an allowed exchange is one entry, naming the rule that allowed it
        AuditEntry x = expect(EventTypes.TOKEN_EXCHANGED, "success", e -> AGENT.equals(e.agentId()));
        assertEquals(sub, x.subject());
        assertEquals(fx.issuer("oauth2/default"), x.subjectIss());
        assertEquals(List.of(AGENT), x.actorChain());
        assertEquals(RESOURCE, x.resource());
        assertEquals("catalogue-agent-for-everyone", details(x).get("rule"));
        // a refused one is a policy.decision (deny): a second hop is beyond this tenant's max_chain_depth of 1
        HttpResponse<String> refused = exchange(exchanged);
        assertEquals(400, refused.statusCode(), refused.body());
        AuditEntry decision = expect(EventTypes.POLICY_DECISION, "deny", e -> AGENT.equals(e.agentId()));
        assertEquals(sub, decision.subject());
        assertEquals("max-chain-depth", details(decision).get("rule"));

        // the MCP server reports a tool call under the exchanged token
        String trace = "4bf92f3577b34da6a3ce929d0e0e4737";
        Map<String, String> report = new LinkedHashMap<>(agentAuth(agentKey, AGENT));
        report.put("token", exchanged);
        report.put("tool", "list_files");
        report.put("arguments_sha256", "cd".repeat(32));
        report.put("status", "ok");
        HttpResponse<String> call = send(HttpRequest.newBuilder(URI.create(fx.issuer() + "/audit/tool-calls"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("traceparent", "00-" + trace + "-00f067aa0ba902b7-01")
                .POST(HttpRequest.BodyPublishers.ofString(dev.deputy.broker.oauth.AgentTestBroker.form(report))));
        assertEquals(201, call.statusCode(), call.body());
        AuditEntry tc = expect(EventTypes.TOOL_CALL, "success", e -> trace.equals(e.correlationId()));
        assertEquals(sub, tc.subject());
        assertEquals(AGENT, tc.agentId());
        assertEquals(List.of(AGENT), tc.actorChain());
        assertEquals("list_files", details(tc).get("tool"));

        // revocation by the agent that holds the token (RFC 7009)
        Map<String, String> rv = new LinkedHashMap<>(agentAuth(agentKey, AGENT));
        rv.put("token", exchanged);
        assertEquals(200, form("/t/acme/revoke", rv).statusCode());
        String xJti = SignedJWT.parse(exchanged).getJWTClaimsSet().getJWTID();
        AuditEntry rev = expect(EventTypes.TOKEN_REVOKED, "success", e -> AGENT.equals(e.clientId()));
        assertEquals(xJti, details(rev).get("jti"));
        Map<String, String> junk = new LinkedHashMap<>(agentAuth(agentKey, AGENT));
        junk.put("token", "not-a-token");
        assertEquals(200, form("/t/acme/revoke", junk).statusCode()); // RFC 7009 §2.2: 200 whatever the token
        expect(EventTypes.TOKEN_REVOCATION_IGNORED, "info", e -> AGENT.equals(e.clientId()));
        HttpResponse<String> anon = form("/t/acme/revoke", Map.of("token", exchanged));
        assertEquals(401, anon.statusCode(), anon.body());
        expect(EventTypes.REVOCATION_REJECTED, "failure");

        // the revoked token: inactive at introspection, refused for tool-call reports
        Map<String, String> in = new LinkedHashMap<>(agentAuth(agentKey, AGENT));
        in.put("token", exchanged);
        HttpResponse<String> intro = form("/t/acme/introspect", in);
        assertEquals(Map.of("active", false), json(intro.body()));
        AuditEntry inactive = expect(EventTypes.TOKEN_INTROSPECTED_INACTIVE, "info", e -> AGENT.equals(e.clientId()));
        assertEquals("revoked", details(inactive).get("reason"));
        assertEquals(xJti, details(inactive).get("jti"));
        HttpResponse<String> anonIntro = form("/t/acme/introspect", Map.of("token", exchanged));
        assertEquals(401, anonIntro.statusCode(), anonIntro.body());
        expect(EventTypes.INTROSPECTION_REJECTED, "failure");

        Map<String, String> lateReport = new LinkedHashMap<>(agentAuth(agentKey, AGENT));
        lateReport.put("token", exchanged);
        lateReport.put("tool", "list_files");
        lateReport.put("status", "ok");
        HttpResponse<String> late = form("/t/acme/audit/tool-calls", lateReport);
        assertEquals(400, late.statusCode(), late.body());
        assertEquals("invalid_token", json(late.body()).get("error"));
        AuditEntry tr = expect(EventTypes.TOOL_CALL_REJECTED, "failure", e -> AGENT.equals(e.agentId()));
        assertEquals("revoked", details(tr).get("reason"));
        assertEquals(sub, tr.subject());
    }

    @Test
    @Order(8)
    void policyAsCodeRun() {
        HttpResponse<String> r = adminOk("POST", "/admin/t/acme/apply?dry_run=true", "{\"files\":{}}");
        AuditEntry a = expect(EventTypes.CONFIG_APPLY, "success", e -> e.details().contains("\"dry_run\":true"));
        // an AuthZEN decision request without client authentication (docs/governance.md)
        HttpResponse<String> pdp = form("/t/acme/access/v1/evaluation", Map.of());
        assertEquals(401, pdp.statusCode(), pdp.body());
        AuditEntry pr = expect(EventTypes.POLICY_DECISION_REJECTED, "failure", e -> true);
        assertEquals("invalid_client", details(pr).get("error"));
        assertEquals("admin", a.clientId());
        assertNotNull(json(r.body()));

        // a plan that grants a privileged role: requested, refused to its own submitter, approved by a second admin, applied
        String files = "{\"files\":{\"roles/cat.payments.yml\":\"scopes: [tools:read]\\nprivileged: true\\n\","
                + "\"agents/cat.payments.bot.yml\":\"environment: prod\\nauth_method: tls_client_auth\\nroles: [cat.payments]\\n\"}}";
        String id = (String) json(adminOk("POST", "/admin/t/acme/apply?dry_run=true", files).body()).get("plan_id");
        assertEquals(id, details(expect(EventTypes.PLAN_APPROVAL_REQUESTED, "success", e -> e.details().contains(id))).get("plan_id"));
        assertEquals(403, adminCall("POST", "/admin/t/acme/plans/" + id + "/approve", null).statusCode());
        assertEquals("own plan", details(expect(EventTypes.PLAN_REFUSED, "failure", e -> e.details().contains(id))).get("reason"));
        String secret = "cat-second-admin-" + "x".repeat(32);
        secrets.add(secret);
        fx.bean(dev.deputy.broker.admin.AdminCredentialStore.class).createIfAbsent(new dev.deputy.broker.admin.AdminCredentialStore.AdminCredential(
                "cat.second.admin", java.util.HexFormat.of().formatHex(sha256(secret)), System.currentTimeMillis(), false,
                new dev.deputy.broker.admin.AdminCredentialStore.Scope(dev.deputy.broker.admin.AdminRole.SUPER_ADMIN, java.util.List.of(), true, false)));
        HttpResponse<String> t = form("/admin/token", Map.of("grant_type", "client_credentials", "client_id", "cat.second.admin",
                "client_secret", secret));
        assertEquals(200, t.statusCode(), t.body());
        String second = (String) json(t.body()).get("access_token");
        secrets.add(second);
        HttpResponse<String> ok = send(HttpRequest.newBuilder(URI.create(fx.url() + "/admin/t/acme/plans/" + id + "/approve"))
                .header("Authorization", "Bearer " + second).POST(HttpRequest.BodyPublishers.noBody()));
        assertEquals(200, ok.statusCode(), ok.body());
        assertEquals("cat.second.admin", expect(EventTypes.PLAN_APPROVED, "success", e -> e.details().contains(id)).clientId());
        adminOk("POST", "/admin/t/acme/apply?dry_run=false", files);
        assertEquals("cat.second.admin", details(expect(EventTypes.PLAN_APPLIED, "success", e -> e.details().contains(id)))
                .get("approved_by"));
        adminOk("POST", "/admin/t/acme/agents/cat.payments.bot/revoke", "{\"reason\":\"catalogue\"}");
    }

    static byte[] sha256(String s) {
        try {
            return java.security.MessageDigest.getInstance("SHA-256").digest(s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    @Order(9)
    void keyRotationAndRetirement() {
        SigningKeys live = fx.bean(SigningKeys.class);
        String before = live.keys(TENANT).activeKid();
        live.rotateNow(TENANT);
        String after = live.keys(TENANT).activeKid();
        assertEquals(after, details(expect(EventTypes.KEY_PUBLISHED, "success", e -> e.details().contains(after))).get("kid"));
        AuditEntry rot = expect(EventTypes.KEY_ROTATED, "success", e -> e.details().contains(after));
        assertEquals(before, details(rot).get("previous_kid"));
        // a day later the retired key's publish window (token lifetime + margin) is over: it leaves the JWKS
        ClockedKeys.tick(fx.bean(SigningKeyStore.class), fx.bean(SecretBox.class), fx.bean(Tenants.class),
                fx.bean(AuditLog.class), Clock.offset(Clock.systemUTC(), Duration.ofDays(1)), TENANT);
        assertEquals(before, details(expect(EventTypes.KEY_RETIRED, "success", e -> e.details().contains(before))).get("kid"));

    }

    /** Before the archive step removes the oldest entries: nothing outside the catalogue, no secret anywhere. */
    @Test
    @Order(10)
    void everyWrittenTypeIsCataloguedAndNoEntryHoldsASecret() {
        Set<String> seen = new TreeSet<>();
        for (String t : List.of(TENANT, AdminAuth_SYSTEM)) {
            for (AuditEntry e : trail(t)) {
                seen.add(e.type());
                assertNoSecret(e);
            }
        }
        Set<String> unknown = new TreeSet<>(seen);
        unknown.removeAll(EventTypes.ALL);
        assertEquals(Set.of(), unknown, "types written but not in EventTypes");
        // typed details: no flow wrote a key its type does not declare, or a value of the wrong kind
        assertEquals(List.of(), alarms, "every detail a flow writes is declared in AuditSchema with its kind");
        for (String t : List.of(TENANT, AdminAuth_SYSTEM)) {
            for (AuditEntry e : trail(t)) {
                assertFalse(String.valueOf(e.details()).contains("[redacted:"), e.type() + ": " + e.details());
            }
        }
    }

    @Test
    @Order(11)
    void retentionArchive() {
        long through = trail(TENANT).get(2).seq();
        HttpResponse<String> r = adminOk("POST", "/admin/t/acme/audit/archive", "{\"through_seq\":" + through + "}");
        AuditEntry a = expect(EventTypes.AUDIT_ARCHIVED, "success", e -> true);
        assertEquals(through, ((Number) details(a).get("to_seq")).longValue(), a.details());
        assertNotNull(json(r.body()));
        assertTrue(fx.bean(AuditVerifier.class).verify(TENANT).ok(), "the chain verifies from the archive's checkpoint");
    }

    /**
     * A chain the witness saw longer than the database holds it (here a tenant whose rows are gone) is refused at the
     * comparison the broker makes at start, and the refusal is recorded in the broker's own chain.
     */
    @Test
    @Order(11)
    void aChainBehindItsWitnessIsRefusedAndRecorded() {
        String ghost = "cat-ghost-" + System.nanoTime();
        AuditWitness witness = fx.bean(AuditWitness.class);
        witness.publish(new AuditCheckpoint(ghost, 5, "ab".repeat(32), System.currentTimeMillis(), "kid", "{}", "x.y.z"));
        AuditLog log = fx.bean(AuditLog.class);
        log.compareWithWitness();
        AuditEntry e = expect(AdminAuth_SYSTEM, EventTypes.AUDIT_CHAIN_REFUSED, "failure",
                x -> x.details().contains(ghost));
        assertEquals("cut", details(e).get("kind"));
        assertEquals(5, ((Number) details(e).get("witnessed_seq")).intValue());
        assertThrows(AuditWitness.ChainRefused.class,
                () -> log.append(AuditEvent.of(ghost, EventTypes.TOOL_CALL, AuditEvent.Outcome.SUCCESS).build()));
    }

    /**
     * After the archive step: re-reading the tenant's keys drops the key the day-later tick retired from this node's
     * cache, and the archive above relies on that cache (no checkpoint endorsed the retired key in the skipped day).
     */
    @Test
    @Order(12)
    void rowIntegrity() {
        // the first start adopted the (empty) database: recorded once in the broker's chain
        expect(AdminAuth_SYSTEM, EventTypes.INTEGRITY_ADOPTED, "info", e -> e.details().contains("\"rows\":[]"));
        // a key planted with plain SQL (no master key): never used, reported in the tenant's chain
        long now = System.currentTimeMillis();
        fx.bean(dev.deputy.broker.storage.Database.class).dsl().execute("INSERT INTO signing_keys (tenant_id, kid, alg, state,"
                + " public_jwk, private_enc, created_at) VALUES (?, 'planted-kid', 'ES256', 'RETIRED', ?, 'x', ?)", TENANT,
                TestKeys.ec().toPublicJWK().toJSONString(), now);
        fx.bean(SigningKeys.class).reload(TENANT);
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (trail(TENANT).stream().noneMatch(e -> e.type().equals(EventTypes.KEY_INTEGRITY_FAILED)) && System.nanoTime() < deadline) {
            java.util.concurrent.locks.LockSupport.parkNanos(20_000_000); // the alarm audits on a thread of its own
        }
        AuditEntry bad = expect(EventTypes.KEY_INTEGRITY_FAILED, "failure", e -> e.details().contains("planted-kid"));
        assertEquals("signing_keys", details(bad).get("table"));
        assertEquals("unsealed", details(bad).get("reason"));
    }

    /** Console sign-in and sign-out through the admin IdP, and the break-glass credential's use and changes. */
    @Test
    @Order(12)
    void consoleAndBreakGlass() throws Exception {
        // the set-up's token came from the break-glass (bootstrap) credential
        expect(AdminAuth_SYSTEM, EventTypes.ADMIN_BREAK_GLASS_USED, "success", e -> "admin".equals(e.clientId()));
        Map<String, Object> rescuer = json(adminCall("POST", "/admin/credentials",
                "{\"client_id\":\"ops.rescue\",\"role\":\"super_admin\",\"privileged\":true}").body());
        secrets.add((String) rescuer.get("client_secret"));
        HttpResponse<String> t = form("/admin/token", Map.of("grant_type", "client_credentials", "client_id", "ops.rescue",
                "client_secret", (String) rescuer.get("client_secret")));
        String rescue = (String) json(t.body()).get("access_token");
        secrets.add(rescue);
        AuditEntry created = expect(AdminAuth_SYSTEM, EventTypes.ADMIN_CREDENTIAL_CREATED, "success", e -> "ops.rescue".equals(e.clientId()));
        assertEquals("super_admin", details(created).get("role"));
        assertEquals(true, details(created).get("privileged"));
        Map<String, Object> rotated = json(adminCall("POST", "/admin/break-glass/rotate", "").body());
        secrets.add((String) rotated.get("client_secret"));
        assertEquals("api", details(expect(AdminAuth_SYSTEM, EventTypes.ADMIN_BREAK_GLASS_ROTATED, "success", e -> true)).get("source"));
        HttpResponse<String> off = new Browser().send(HttpRequest.newBuilder(URI.create(fx.url() + "/admin/break-glass/disable"))
                .header("Authorization", "Bearer " + rescue).POST(HttpRequest.BodyPublishers.noBody()).build());
        assertEquals(200, off.statusCode(), off.body());
        assertEquals("admin:ops.rescue", details(expect(AdminAuth_SYSTEM, EventTypes.ADMIN_BREAK_GLASS_DISABLED, "success", e -> true)).get("actor"));
        HttpResponse<String> on = new Browser().send(HttpRequest.newBuilder(URI.create(fx.url() + "/admin/break-glass/enable"))
                .header("Authorization", "Bearer " + rescue).POST(HttpRequest.BodyPublishers.noBody()).build());
        assertEquals(200, on.statusCode(), on.body());
        expect(AdminAuth_SYSTEM, EventTypes.ADMIN_BREAK_GLASS_ENABLED, "success", e -> true);

        Browser b = new Browser();
        fx.idp.enqueueCallback(new no.nav.security.mock.oauth2.token.DefaultOAuth2TokenCallback("admins", "jonathan.christopher.williams",
                "JWT", List.of("deputy-console"), Map.of("groups", List.of("Deputy Admins"), "amr", List.of("pwd", "otp"),
                "auth_time", System.currentTimeMillis() / 1000), 3600));
        HttpResponse<String> page = b.follow(fx.url() + "/console", "never://");
        assertEquals(200, page.statusCode(), page.body());
        AuditEntry in = expect(AdminAuth_SYSTEM, EventTypes.ADMIN_CONSOLE_LOGIN, "success", e -> true);
        assertEquals("jonathan.christopher.williams", in.subject());
        assertEquals(List.of("pwd", "otp"), details(in).get("amr"));
        String csrf = (String) json(b.get(fx.url() + "/admin/whoami").body()).get("csrf_token");
        assertEquals(303, b.postForm(fx.url() + "/console/logout", Map.of("_csrf", csrf)).statusCode());
        expect(AdminAuth_SYSTEM, EventTypes.ADMIN_CONSOLE_LOGOUT, "success", e -> true);
        // someone in no mapped group
        fx.idp.enqueueCallback(new no.nav.security.mock.oauth2.token.DefaultOAuth2TokenCallback("admins", "mallory",
                "JWT", List.of("deputy-console"), Map.of("groups", List.of("contractors")), 3600));
        new Browser().follow(fx.url() + "/console", "never://");
        assertEquals("not_an_admin", details(expect(AdminAuth_SYSTEM, EventTypes.ADMIN_CONSOLE_LOGIN, "failure", e -> true)).get("error"));
    }

    /** anomaly.detected: the detector sees an entry as it is committed and writes its finding (docs/governance.md). */
    @Test
    @Order(12)
    void anomalyDetected() {
        AuditEntry deep = fx.bean(AuditLog.class).append(AuditEvent.of(TENANT, EventTypes.TOKEN_EXCHANGED,
                        AuditEvent.Outcome.SUCCESS).agent("anomaly.probe").actors(List.of("anomaly.probe", "b.agent", "c.agent"))
                .subject("zoë", "https://idp.example.com/").scopes("files:read").build());
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (trail(TENANT).stream().noneMatch(e -> e.type().equals(EventTypes.ANOMALY_DETECTED)) && System.nanoTime() < deadline) {
            java.util.concurrent.locks.LockSupport.parkNanos(20_000_000); // the detector runs on a thread of its own
        }
        AuditEntry found = expect(EventTypes.ANOMALY_DETECTED, "info", e -> "anomaly.probe".equals(e.agentId()));
        assertEquals("deep-chains", details(found).get("rule"));
        assertEquals(3, ((Number) details(found).get("depth")).intValue());
        assertEquals(deep.seq(), ((Number) details(found).get("trigger_seq")).longValue());
        assertEquals(false, details(found).get("suspended"));
    }

    /** approval.*: OpenID CIBA requests by an agent, decided by the user on the account page (docs/governance.md). */
    @Test
    @Order(12)
    void approvals() throws Exception {
        JWK key = TestKeys.ec();
        adminOk("POST", "/admin/t/acme/agents", """
                {"id":"cat.approver","environment":"production","roles":[],"auth_method":"private_key_jwt","jwks":%s}"""
                .formatted(TestKeys.publicJwks(key)));
        String details = "[{\"type\":\"deputy_tool_call\",\"tool\":\"transfer_funds\",\"arguments\":{\"amount\":25000}}]";
        java.util.function.Function<Map<String, String>, HttpResponse<String>> bc = p -> {
            Map<String, String> f = new LinkedHashMap<>(p);
            f.putAll(agentAuth(key, "cat.approver"));
            return form("/t/acme/bc-authorize", f);
        };
        HttpResponse<String> bad = bc.apply(Map.of("login_hint", "00uCatalogue", "authorization_details", "not json"));
        assertEquals("invalid_authorization_details", json(bad.body()).get("error"));
        expect(EventTypes.APPROVAL_REJECTED, "failure", e -> "cat.approver".equals(e.clientId()));

        HttpResponse<String> shortLived = bc.apply(Map.of("login_hint", "00uCatalogue", "authorization_details", details,
                "requested_expiry", "1"));
        assertEquals(200, shortLived.statusCode(), shortLived.body());
        String expiring = (String) json(shortLived.body()).get("auth_req_id");
        secrets.add(expiring);
        expect(EventTypes.APPROVAL_REQUESTED, "success", e -> "00uCatalogue".equals(e.subject()));
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (trail(TENANT).stream().noneMatch(e -> e.type().equals(EventTypes.APPROVAL_EXPIRED)) && System.nanoTime() < deadline) {
            java.util.concurrent.locks.LockSupport.parkNanos(50_000_000); // the expiry timer runs on a thread of its own
        }
        expect(EventTypes.APPROVAL_EXPIRED, "info", e -> "cat.approver".equals(e.clientId()));

        fx.enqueue("oauth2/default", "00uCatalogue", Map.of("email", "cat@okta.example", "groups", List.of("engineers")));
        Browser user = new Browser();
        assertEquals(200, user.follow(fx.issuer() + "/account", "http://never/").statusCode());
        for (String decision : List.of("approve", "deny")) {
            HttpResponse<String> ok = bc.apply(Map.of("login_hint", "00uCatalogue", "authorization_details", details));
            String authReqId = (String) json(ok.body()).get("auth_req_id");
            secrets.add(authReqId);
            String page = user.get(fx.issuer() + "/account").body();
            HttpResponse<String> decided = user.postForm(fx.issuer() + "/account/approvals/decide", Map.of("csrf",
                    csrf(page), "approval", dev.deputy.broker.governance.Approvals.idOf(authReqId), "decision", decision));
            assertEquals(303, decided.statusCode(), decided.body());
        }
        expect(EventTypes.APPROVAL_GRANTED, "allow", e -> "00uCatalogue".equals(e.subject()));
        expect(EventTypes.APPROVAL_DENIED, "deny", e -> "00uCatalogue".equals(e.subject()));
    }

    @Test
    @Order(13)
    void everyCatalogueTypeWasAsserted() {
        Set<String> missing = new TreeSet<>(EventTypes.ALL);
        missing.removeAll(asserted);
        assertEquals(Set.of(), missing, "catalogue types without a flow assertion");
    }

    /** docs/audit.md's catalogue table and EventTypes list the same types, so neither can drift. */
    @Test
    void docsListExactlyTheCatalogue() throws IOException {
        Path docs = Path.of("..", "docs", "audit.md");
        if (!Files.exists(docs)) {
            docs = Path.of("docs", "audit.md");
        }
        String md = Files.readString(docs);
        int start = md.indexOf("### Event catalogue");
        assertTrue(start >= 0, "docs/audit.md has no '### Event catalogue' section");
        int end = md.indexOf("\n## ", start);
        List<String> documented = new ArrayList<>();
        for (String line : md.substring(start, end).split("\n")) {
            if (!line.startsWith("| `")) {
                continue;
            }
            String firstCell = line.substring(1, line.indexOf('|', 1));
            Matcher m = Pattern.compile("`([a-z_.]+)`").matcher(firstCell);
            while (m.find()) {
                documented.add(m.group(1));
            }
        }
        assertEquals(new TreeSet<>(EventTypes.ALL), new TreeSet<>(documented));
        assertEquals(documented.size(), new TreeSet<>(documented).size(), "a type documented twice: " + documented);
    }
}
