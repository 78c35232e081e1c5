package dev.deputy.broker.admin;

import com.fasterxml.jackson.core.type.TypeReference;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.token.AccessTokenSpec;
import dev.deputy.broker.token.AccessTokens;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The audit pages' fixture: tenant {@code acme} with a files resource, a role with its scopes, a delegation policy for
 * a chain of three agents (and a fourth, refused by {@code max_chain_depth: 3}), and the agents themselves (created
 * through the admin API, private_key_jwt with keys held here); token exchanges through the real token endpoint and a
 * tool call reported by the files server, as the exchange tests do.
 */
final class ConsoleAuditFixture {
    static final String EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";
    static final String AT = "urn:ietf:params:oauth:token-type:access_token";
    static final String RESOURCE = "https://files.example.com/mcp";
    static final String AGENT_A = "payments.settlement.reconciler";
    static final String AGENT_B = "invoice.matcher";
    static final String AGENT_C = "ledger.poster.eu";
    static final String AGENT_D = "archive.sweeper";
    static final String SERVER = "files.mcp.server";
    static final String RULE = "settlement.chain.for.everyone";
    static final String USER_ISS = "https://login.corp.example/";
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    final ManageBroker broker;
    final Map<String, JWK> keys = new LinkedHashMap<>();

    private ConsoleAuditFixture(ManageBroker broker) {
        this.broker = broker;
    }

    /** The config files (before the broker starts). */
    static void writeConfig(Path root) {
        ManageBroker.write(root.resolve("config/tenants/acme/tenant.yml"), "display_name: Acme Payments\n");
        ManageBroker.write(root.resolve("config/tenants/acme/roles/files-all.yml"),
                "scopes: [files:read, files:list, files:write]\n");
        ManageBroker.write(root.resolve("config/tenants/acme/resources/files.yml"), """
                uri: %s
                name: Files
                scopes: [files:read, files:list, files:write]
                default: true
                """.formatted(RESOURCE));
        ManageBroker.write(root.resolve("config/tenants/acme/policies/delegation.yml"), """
                max_chain_depth: 3
                delegation:
                  - id: %s
                    agents: [%s, %s, %s, %s]
                    users: {all: true}
                    resources: ["*"]
                    scopes: ["*"]
                """.formatted(RULE, AGENT_A, AGENT_B, AGENT_C, AGENT_D));
    }

    /** The agents, through the admin API. */
    static ConsoleAuditFixture agents(ManageBroker broker) {
        ConsoleAuditFixture f = new ConsoleAuditFixture(broker);
        for (String id : List.of(AGENT_A, AGENT_B, AGENT_C, AGENT_D, SERVER)) {
            JWK k = dev.deputy.broker.oauth.TestKeys.ec();
            f.keys.put(id, k);
            String roles = id.equals(SERVER) ? "" : "\"roles\":[\"files-all\"],";
            HttpResponse<String> r = broker.post("/admin/t/acme/agents", """
                    {"id":"%s","name":"Bot %s","owner":"zoë.müller@corp.example","environment":"production",%s"auth_method":"private_key_jwt","jwks":%s}"""
                    .formatted(id, id, roles, new JWKSet(k.toPublicJWK()).toString()));
            assertEquals(201, r.statusCode(), r.body());
        }
        return f;
    }

    /** A Deputy access token for the user (as the exchange tests mint it). */
    String userToken(String sub) {
        return broker.bean(AccessTokens.class).mint(new AccessTokenSpec("acme", sub, USER_ISS, List.of(), "mcp-client",
                RESOURCE, List.of("files:read", "files:list", "files:write"), null, null, Duration.ofMinutes(5),
                Map.of())).token();
    }

    /** RFC 8693 exchange at the token endpoint by {@code agent} (private_key_jwt); the response. */
    HttpResponse<String> exchange(String agent, String subjectToken, String scope, String correlation) {
        Map<String, String> form = new LinkedHashMap<>(as(agent));
        form.put("grant_type", EXCHANGE);
        form.put("subject_token", subjectToken);
        form.put("subject_token_type", AT);
        form.put("resource", RESOURCE);
        if (scope != null) {
            form.put("scope", scope);
        }
        return post("/t/acme/token", form, correlation);
    }

    String exchanged(String agent, String subjectToken, String scope, String correlation) {
        HttpResponse<String> r = exchange(agent, subjectToken, scope, correlation);
        assertEquals(200, r.statusCode(), () -> r.body() + " " + refusal());
        return (String) ManageBroker.json(r.body()).get("access_token");
    }

    /** A client_credentials token for the agent (a token.issued entry). */
    HttpResponse<String> clientCredentials(String agent) {
        Map<String, String> form = new LinkedHashMap<>(as(agent));
        form.put("grant_type", "client_credentials");
        form.put("resource", RESOURCE);
        return post("/t/acme/token", form, null);
    }

    /** The files server reports a tool call made with {@code token}. */
    void toolCall(String token, String tool, String correlation) {
        Map<String, String> form = new LinkedHashMap<>(as(SERVER));
        form.put("token", token);
        form.put("tool", tool);
        form.put("status", "ok");
        form.put("resource", RESOURCE);
        form.put("arguments_sha256", "a".repeat(64));
        HttpResponse<String> r = post("/t/acme/audit/tool-calls", form, correlation);
        assertEquals(2, r.statusCode() / 100, r.body());
    }

    /** user → A → B → C, each through the token endpoint, and a tool call with C's token: C's exchange entry. */
    AuditEntry threeHops(String user, String correlation) {
        String a = exchanged(AGENT_A, userToken(user), "files:read files:list files:write", correlation);
        String b = exchanged(AGENT_B, a, "files:read files:list", correlation);
        String c = exchanged(AGENT_C, b, "files:read", correlation);
        toolCall(c, "transfer_funds", correlation);
        return lastOf("token.exchanged", AGENT_C, user);
    }

    /** The last refusal at the token endpoint, for a failing test's message. */
    String refusal() {
        List<AuditEntry> all = broker.audit("acme");
        for (int i = all.size() - 1; i >= 0; i--) {
            if (all.get(i).type().equals("token.rejected")) {
                return all.get(i).details();
            }
        }
        return "(no token.rejected entry)";
    }

    AuditEntry lastOf(String type, String agent, String subject) {
        List<AuditEntry> all = broker.audit("acme");
        for (int i = all.size() - 1; i >= 0; i--) {
            AuditEntry e = all.get(i);
            if (e.type().equals(type) && (agent == null || agent.equals(e.agentId()))
                    && (subject == null || subject.equals(e.subject()))) {
                return e;
            }
        }
        throw new AssertionError("no " + type + " of " + agent + " for " + subject);
    }

    /** The tenant's issuer (the assertion's audience). */
    String issuer() {
        return broker.bean(dev.deputy.broker.oauth.Endpoints.class).issuer("acme");
    }

    private Map<String, String> as(String agent) {
        Map<String, String> form = new LinkedHashMap<>();
        form.put("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
        form.put("client_assertion", dev.deputy.broker.oauth.TestKeys.sign(keys.get(agent),
                dev.deputy.broker.oauth.TestKeys.claims(agent, issuer()).build()));
        return form;
    }

    private HttpResponse<String> post(String path, Map<String, String> form, String correlation) {
        String body = form.entrySet().stream().map(e -> enc(e.getKey()) + "=" + enc(e.getValue()))
                .collect(Collectors.joining("&"));
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(broker.url() + path)).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString(body));
        if (correlation != null) {
            b.header("X-Request-Id", correlation);
        }
        try {
            return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    static Map<String, Object> details(AuditEntry e) {
        try {
            return ManageBroker.JSON.readValue(e.details(), new TypeReference<>() {
            });
        } catch (Exception x) {
            throw new IllegalStateException(x);
        }
    }
}
