package dev.deputy.broker.grant;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.AgentCredential;
import dev.deputy.broker.audit.AuditAlarms;
import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.oauth.AgentTestBroker;
import dev.deputy.broker.oauth.TestKeys;
import dev.deputy.broker.token.AccessTokenSpec;
import dev.deputy.broker.token.AccessTokens;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import static dev.deputy.broker.oauth.AgentTestBroker.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 13: upstream subjects and agent ids the former secret guard took for JWTs (three dot-separated labels of 8+
 * characters), and a unicode/space/slash sub, through token exchange (two hops), ID-JAG and client_credentials over
 * HTTP: each answer is the grant's own (never a 500), each has its audit entry, and the trail names the subject and
 * the actors byte for byte. Embedded default and MariaDB + Redis (subclasses).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class HostileIdentifiersDelegationContract {
    static final String EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";
    static final String AT = "urn:ietf:params:oauth:token-type:access_token";
    static final String AGENT_A = "payments.settlement.reconciler";
    static final String AGENT_B = "frontend.dashboard.production";
    static final String ROLE = "payments.settlement.approvers";
    static final String RESOURCE = "https://inventory.warehouse.example/mcp";
    static final List<String> SUBS = List.of("jonathan.christopher.williams", "00u/ä+ |x");
    static final String USER_ISS = "https://idp.example.com/";
    static final String IDP = "https://enterprise-idp.example.com";
    static final String MYSQL = "jdbc:mysql://127.0.0.1:3306/";

    Path dir;
    AgentTestBroker broker;
    String database;
    final Map<String, JWK> keys = new LinkedHashMap<>();
    RSAKey idpKey;
    final List<AuditAlarms.Alarm> alarms = new CopyOnWriteArrayList<>();
    AutoCloseable hook;

    abstract boolean mariadbAndRedis();

    @BeforeAll
    void start() throws Exception {
        dir = Files.createTempDirectory("deputy-hostile-delegation");
        idpKey = new RSAKeyGenerator(2048).keyID("idp-1").generate();
        Path config = dir.resolve("config");
        Files.createDirectories(config.resolve("tenants/demo/policies"));
        Files.createDirectories(config.resolve("tenants/demo/trust"));
        Files.writeString(config.resolve("broker.yml"), "default_tenant: demo\n");
        Files.writeString(config.resolve("tenants/demo/tenant.yml"), "display_name: Hostile identifiers\n");
        Files.writeString(config.resolve("tenants/demo/policies/delegation.yml"), """
                max_chain_depth: 3
                delegation:
                  - id: settlement.agents.for.everyone
                    agents: [%s, %s]
                    users: {all: true}
                    resources: ["*"]
                    scopes: ["*"]
                """.formatted(AGENT_A, AGENT_B));
        Files.writeString(config.resolve("tenants/demo/trust/idp.yml"), "issuer: " + IDP + "\n"
                + "jwks: " + new com.nimbusds.jose.jwk.JWKSet(idpKey.toPublicJWK()).toString() + "\n"
                + "grants: [id-jag]\nalgorithms: [RS256]\n");
        AgentTestBroker.Builder b = AgentTestBroker.builder(dir).configDir(config).dataDir(dir.resolve("data"));
        if (mariadbAndRedis()) {
            database = "deputy_t_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
            exec("CREATE DATABASE `" + database + "` CHARACTER SET utf8mb4");
            byte[] mk = new byte[32];
            new java.security.SecureRandom().nextBytes(mk);
            b.mysql(MYSQL + database).redis("redis://127.0.0.1:6379", "deputy_t:" + UUID.randomUUID() + ":")
                    .masterKey(Base64.getEncoder().encodeToString(mk));
        }
        broker = b.start();
        broker.role(ROLE, List.of("inventory.warehouse.read", "inventory.warehouse.write"), List.of());
        broker.resource("inventory.warehouse.example", RESOURCE, List.of("inventory.warehouse.read", "inventory.warehouse.write"), true);
        for (String id : List.of(AGENT_A, AGENT_B)) {
            JWK k = TestKeys.ec();
            keys.put(id, k);
            broker.agent(id, Agent.AuthMethod.PRIVATE_KEY_JWT, List.of(ROLE));
            broker.credential(id, AgentCredential.Kind.JWKS, null, TestKeys.publicJwks(k));
        }
        hook = AuditAlarms.listen(alarms::add);
    }

    @AfterAll
    void stop() throws Exception {
        if (hook != null) {
            hook.close();
        }
        if (broker != null) {
            broker.close();
        }
        if (database != null) {
            exec("DROP DATABASE IF EXISTS `" + database + "`");
        }
    }

    static void exec(String sql) throws Exception {
        try (Connection c = DriverManager.getConnection(MYSQL, "root", ""); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    String userToken(String sub) {
        return broker.bean(AccessTokens.class).mint(new AccessTokenSpec("demo", sub, USER_ISS, List.of(), "mcp-client",
                RESOURCE, List.of("inventory.warehouse.read"), null, null, Duration.ofMinutes(5), Map.of())).token();
    }

    Map<String, String> clientAuth(String agent) {
        Map<String, String> form = new LinkedHashMap<>();
        form.put("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
        form.put("client_assertion", TestKeys.sign(keys.get(agent), TestKeys.claims(agent, broker.issuer()).build()));
        return form;
    }

    HttpResponse<String> exchange(String agent, String subjectToken, Map<String, String> extra) {
        Map<String, String> form = clientAuth(agent);
        form.put("grant_type", EXCHANGE);
        form.put("subject_token", subjectToken);
        form.put("subject_token_type", AT);
        form.putAll(extra);
        return broker.post("/t/demo/token", form);
    }

    String idJag(String sub, String clientId) throws Exception {
        JWTClaimsSet c = new JWTClaimsSet.Builder().issuer(IDP).subject(sub).audience(broker.issuer())
                .issueTime(new Date()).expirationTime(Date.from(Instant.now().plusSeconds(120)))
                .jwtID(UUID.randomUUID().toString()).claim("client_id", clientId).claim("scope", "inventory.warehouse.read")
                .claim("resource", RESOURCE).build();
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).type(new JOSEObjectType("oauth-id-jag+jwt"))
                .keyID("idp-1").build(), c);
        jwt.sign(new RSASSASigner(idpKey));
        return jwt.serialize();
    }

    AuditEntry lastWithRequest(HttpResponse<String> r, String type) {
        String requestId = r.headers().firstValue("X-Request-Id").orElseThrow();
        return broker.audit().stream().filter(e -> e.type().equals(type) && requestId.equals(e.requestId())).findFirst()
                .orElseThrow(() -> new AssertionError("no " + type + " entry for request " + requestId));
    }

    static void assertNo500(HttpResponse<String> r) {
        assertNotEquals(500, r.statusCode(), r.body());
    }

    @Test
    void exchangeThroughTwoDottedAgentsKeepsTheHostileSubjectByteForByte() throws Exception {
        for (String sub : SUBS) {
            HttpResponse<String> first = exchange(AGENT_A, userToken(sub), Map.of());
            assertNo500(first);
            assertEquals(200, first.statusCode(), first.body());
            JWTClaimsSet c1 = SignedJWT.parse((String) json(first).get("access_token")).getJWTClaimsSet();
            assertEquals(sub, c1.getSubject());
            assertEquals(Map.of("sub", AGENT_A), c1.getClaim("act"));
            AuditEntry e1 = lastWithRequest(first, "token.exchanged");
            assertEquals(sub, e1.subject());
            assertEquals(USER_ISS, e1.subjectIss());
            assertEquals(List.of(AGENT_A), e1.actorChain());
            assertEquals(AGENT_A, e1.agentId());
            assertEquals(RESOURCE, e1.resource());
            assertEquals("settlement.agents.for.everyone", AgentTestBroker.details(e1).get("rule"));

            HttpResponse<String> second = exchange(AGENT_B, (String) json(first).get("access_token"), Map.of());
            assertNo500(second);
            assertEquals(200, second.statusCode(), second.body());
            AuditEntry e2 = lastWithRequest(second, "token.exchanged");
            assertEquals(sub, e2.subject());
            assertEquals(List.of(AGENT_B, AGENT_A), e2.actorChain());
            assertEquals(AGENT_B + " > " + AGENT_A, e2.actor());

            // a refusal with the same identifiers: the grant's own error and its entry
            HttpResponse<String> refused = exchange(AGENT_A, userToken(sub), Map.of("resource", "https://unknown.warehouse.example/"));
            assertNo500(refused);
            assertEquals(400, refused.statusCode(), refused.body());
            AuditEntry rej = lastWithRequest(refused, "token.rejected");
            assertEquals(json(refused).get("error"), AgentTestBroker.details(rej).get("error"));
            assertEquals(AGENT_A, rej.clientId());
        }
        assertEquals(List.of(), alarms, "identifiers raise no alarm");
    }

    @Test
    void idJagWithAHostileSubjectAndADottedAgent() throws Exception {
        for (String sub : SUBS) {
            Map<String, String> form = clientAuth(AGENT_A);
            form.put("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer");
            form.put("assertion", idJag(sub, AGENT_A));
            HttpResponse<String> r = broker.post("/t/demo/token", form);
            assertNo500(r);
            assertEquals(200, r.statusCode(), r.body());
            assertNull(json(r).get("refresh_token"));
            JWTClaimsSet c = SignedJWT.parse((String) json(r).get("access_token")).getJWTClaimsSet();
            assertEquals(sub, c.getSubject());
            AuditEntry e = lastWithRequest(r, "token.issued");
            assertEquals(sub, e.subject());
            assertEquals(IDP, e.subjectIss());
            assertEquals(List.of(AGENT_A), e.actorChain());
            assertEquals(AGENT_A, e.agentId());
            assertEquals("id-jag", AgentTestBroker.details(e).get("grant"));

            // the same assertion again: replay refused with its entry
            form = clientAuth(AGENT_A);
            form.put("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer");
            form.put("assertion", idJag(sub, AGENT_B)); // client_id names the other agent
            HttpResponse<String> wrong = broker.post("/t/demo/token", form);
            assertNo500(wrong);
            assertEquals(400, wrong.statusCode(), wrong.body());
            lastWithRequest(wrong, "token.rejected");
        }
        assertEquals(List.of(), alarms, "identifiers raise no alarm");
    }

    /** A sub longer than the subject column (a misbehaving IdP): the token keeps it whole, the entry its prefix and digest. */
    @Test
    void aSubLongerThanItsColumnIsShortenedInTheEntryNotRefused() throws Exception {
        String sub = "jonathan.christopher.williams/" + "ä+ |x".repeat(80);
        HttpResponse<String> r = exchange(AGENT_A, userToken(sub), Map.of());
        assertNo500(r);
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(sub, SignedJWT.parse((String) json(r).get("access_token")).getJWTClaimsSet().getSubject());
        AuditEntry e = lastWithRequest(r, "token.exchanged");
        assertEquals(255, e.subject().length());
        assertTrue(e.subject().startsWith("jonathan.christopher.williams/ä+ |x"), e.subject());
        assertTrue(e.subject().endsWith(AuditEntryDigest.of(sub)), e.subject());
        assertTrue(alarms.stream().anyMatch(a -> a.reason().equals("too_long") && a.path().equals("subject")), alarms::toString);
        alarms.clear();
        // the trail still reads and verifies (on the embedded default the entry went through the journal)
        assertTrue(broker.bean(dev.deputy.broker.audit.AuditVerifier.class).verify("demo").ok());
    }

    /** SHA-256 hex as the shortened identifier carries it. */
    static final class AuditEntryDigest {
        static String of(String s) throws Exception {
            return "…sha256:" + java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(s.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        }
    }

    @Test
    void clientCredentialsOfADottedAgentNamesItAsSubject() throws Exception {
        Map<String, String> form = clientAuth(AGENT_B);
        form.put("grant_type", "client_credentials");
        HttpResponse<String> r = broker.post("/t/demo/token", form);
        assertNo500(r);
        assertEquals(200, r.statusCode(), r.body());
        AuditEntry e = lastWithRequest(r, "token.issued");
        assertEquals(AGENT_B, e.subject(), "an agent acting alone: the subject is the agent id, as in the token");
        assertNull(e.subjectIss());
        assertEquals(AGENT_B, e.agentId());
        assertEquals(AGENT_B, SignedJWT.parse((String) json(r).get("access_token")).getJWTClaimsSet().getSubject());
        assertTrue(AgentTestBroker.details(e).containsKey("jti"));
    }
}
