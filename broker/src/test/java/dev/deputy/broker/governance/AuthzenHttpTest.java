package dev.deputy.broker.governance;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.jwk.JWK;
import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.AgentCredential;
import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.oauth.AgentTestBroker;
import dev.deputy.broker.oauth.TestKeys;
import dev.deputy.broker.pki.Pem;
import dev.deputy.broker.token.AccessTokenSpec;
import dev.deputy.broker.token.AccessTokens;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static dev.deputy.broker.oauth.AgentTestBroker.details;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The AuthZEN decision endpoints over HTTP (issue 18): each effect, batches and their semantics, who may ask and how
 * (a decision client's own access token, scope authzen:evaluate, as {@code Authorization: Bearer}, certificate-bound
 * ones only with their certificate; or mTLS with the client id in a header or from the certificate's SPIFFE id;
 * credentials in the query string refused; others refused with the spec's 400/401/403), malformed requests (400 with
 * a message string), unicode and dotted names, one {@code policy.decision} entry per single evaluation and one per
 * group of a batch's items sharing subject, actor chain and resource (its {@code decisions}; sensitive arguments left
 * out of every item) and one {@code policy.decision.rejected} per refused request, and the PDP metadata.
 */
class AuthzenHttpTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String BANK = "https://bank.example.com/mcp";
    static final String USER = "jonathan.christopher.williams";

    @TempDir
    static Path dir;
    static AgentTestBroker broker;
    static JWK bankKey = TestKeys.ec();
    static JWK outsiderKey = TestKeys.ec();
    static KeyPair mtlsKey = TestKeys.ecKeyPair("secp256r1");
    static X509Certificate mtlsCert;

    @BeforeAll
    static void start() throws Exception {
        Path config = dir.resolve("config");
        Files.createDirectories(config.resolve("tenants/demo/policies"));
        Files.writeString(config.resolve("broker.yml"), "private_key_jwt:\n  jwks_uri_allow_private: true\n");
        Files.writeString(config.resolve("tenants/demo/tenant.yml"), "display_name: Governance\n");
        Files.writeString(config.resolve("tenants/demo/policies/tools.yml"), """
                tools:
                  default: deny
                  sensitive_arguments: [iban]
                  decision_clients: [bank-mcp, bank.mtls]
                  rules:
                    - id: balance-for-everyone
                      effect: permit
                      tools: [get_balance, "accounts.*"]
                    - id: transfers-by-payment-agents
                      effect: permit
                      tools: [transfer_funds]
                      servers: ["https://bank.example.com/*"]
                      subject: {groups: [finance]}
                      actors: {agents: ["payments.*"], environments: [prod]}
                    - id: large-transfers-need-approval
                      description: transfers above 10,000 need the user's approval
                      effect: require_approval
                      tools: [transfer_funds]
                      when: ["amount > 10000"]
                    - id: no-crypto
                      effect: deny
                      tools: [transfer_funds]
                      when: ["currency in [BTC, ETH]"]
                """);
        broker = AgentTestBroker.builder(dir).configDir(config).tls().start();
        broker.standardFixture();
        // the decision point as a resource of the tenant (its identifier, the issuer) and the role granting its scope
        broker.resource("pdp", broker.issuer(), List.of(ToolDecisions.SCOPE), false);
        broker.role("decision-client", List.of(ToolDecisions.SCOPE), List.of());
        broker.agent("bank-mcp", Agent.AuthMethod.PRIVATE_KEY_JWT, List.of("reader", "decision-client"));
        broker.credential("bank-mcp", AgentCredential.Kind.JWKS, null, TestKeys.publicJwks(bankKey));
        broker.agent("outsider", Agent.AuthMethod.PRIVATE_KEY_JWT, List.of("reader", "decision-client"));
        broker.credential("outsider", AgentCredential.Kind.JWKS, null, TestKeys.publicJwks(outsiderKey));
        broker.agent("payments.settlement.reconciler", Agent.AuthMethod.PRIVATE_KEY_JWT, List.of("reader"));
        broker.agent("payments.suspended", Agent.AuthMethod.PRIVATE_KEY_JWT, List.of("reader"));
        broker.setStatus("payments.suspended", Agent.Status.SUSPENDED);
        broker.agent("bank.mtls", Agent.AuthMethod.TLS_CLIENT_AUTH, List.of("reader", "decision-client"));
        String admin = broker.adminToken();
        String body = "{\"csr\":\"" + TestKeys.csr(mtlsKey, "bank.mtls").replace("\n", "\\n") + "\",\"ttl\":\"1h\"}";
        HttpResponse<String> r = broker.postJson("/admin/t/demo/agents/bank.mtls/certificates", admin, body);
        assertEquals(200, r.statusCode(), r.body());
        mtlsCert = Pem.certificate((String) AgentTestBroker.json(r).get("certificate"));
    }

    @AfterAll
    static void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    /** The query of the old way: a client assertion in the URL (refused now). */
    static String queryAssertion(JWK key, String client) {
        String assertion = TestKeys.sign(key, TestKeys.claims(client, broker.issuer()).build());
        return "?client_assertion_type=" + URLEncoder.encode("urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                StandardCharsets.UTF_8) + "&client_assertion=" + assertion;
    }

    /** A decision client's own token: client_credentials with private_key_jwt, for the PDP, scope authzen:evaluate. */
    static String pdpToken(JWK key, String client) {
        Map<String, String> form = TestKeys.assertionForm(TestKeys.sign(key, TestKeys.claims(client, broker.issuer()).build()));
        form.put("scope", ToolDecisions.SCOPE);
        form.put("resource", broker.issuer());
        HttpResponse<String> r = broker.post("/t/demo/token", form);
        assertEquals(200, r.statusCode(), r.body());
        return (String) AgentTestBroker.json(r).get("access_token");
    }

    static String bankToken;

    static synchronized String bankToken() {
        if (bankToken == null) {
            bankToken = pdpToken(bankKey, "bank-mcp");
        }
        return bankToken;
    }

    static HttpResponse<String> post(String base, HttpClient client, String path, String query, String json,
                                     String... headers) {
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + "/t/demo" + path + query))
                    .timeout(Duration.ofSeconds(20)).header("Content-Type", "application/json")
                    .header("X-Request-ID", java.util.UUID.randomUUID().toString());
            if (headers.length > 0) {
                b.headers(headers);
            }
            return client.send(b.POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static String[] bearer(String token) {
        return new String[]{"Authorization", "Bearer " + token};
    }

    static HttpResponse<String> evaluate(String json) {
        return post(broker.url(), HttpClient.newHttpClient(), "/access/v1/evaluation", "", json, bearer(bankToken()));
    }

    static HttpResponse<String> evaluations(String json) {
        return post(broker.url(), HttpClient.newHttpClient(), "/access/v1/evaluations", "", json, bearer(bankToken()));
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> json(HttpResponse<String> r) {
        try {
            return JSON.readValue(r.body(), Map.class);
        } catch (Exception e) {
            throw new AssertionError("not JSON (" + r.statusCode() + "): " + r.body());
        }
    }

    static String transfer(String agent, Object amount, String currency) {
        return """
                {"subject": {"type": "user", "id": "%s", "properties": {"groups": ["finance"], "department": "treasury",
                   "act": {"sub": "%s"}}},
                 "action": {"name": "transfer_funds"},
                 "resource": {"type": "mcp_server", "id": "%s"},
                 "context": {"arguments": {"amount": %s, "currency": "%s", "iban": "DE89370400440532013000"},
                             "source_ip": "10.1.2.3"}}
                """.formatted(USER, agent, BANK, amount, currency);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> ctx(Map<String, Object> decision) {
        return (Map<String, Object>) decision.get("context");
    }

    @Test
    @SuppressWarnings("unchecked")
    void permitIsTrueAndAuditedWithoutSensitiveArguments() {
        HttpResponse<String> r = evaluate(transfer("payments.settlement.reconciler", 500, "EUR"));
        assertEquals(200, r.statusCode(), r.body());
        Map<String, Object> d = json(r);
        assertEquals(true, d.get("decision"));
        assertEquals("permit", ctx(d).get("effect"));
        assertEquals("transfers-by-payment-agents", ctx(d).get("rule"));
        AuditEntry e = broker.onlyEntryOfLastRequest();
        assertBankTransferEntry(e);
        assertEquals("allow", e.outcome().toLowerCase());
        Map<String, Object> det = details(e);
        assertEquals("tool", det.get("kind"));
        assertEquals("transfer_funds", det.get("tool"));
        assertEquals("permit", det.get("effect"));
        assertEquals("transfers-by-payment-agents", det.get("rule"));
        Map<String, Object> args = (Map<String, Object>) det.get("arguments");
        assertEquals("EUR", args.get("currency"));
        assertFalse(args.containsKey("iban"), "sensitive: " + args);
        assertFalse(e.details().contains("DE89370400440532013000"));
        assertEquals(List.of("prod"), det.get("actor_environments"), "environments come from the registry");
        assertEquals(List.of("payments.settlement.reconciler"), ((Map<String, Object>) det.get("inputs")).get("actors"));
    }

    @Test
    void requireApprovalAndDenyAreFalseWithTheirRule() {
        Map<String, Object> big = json(evaluate(transfer("payments.settlement.reconciler", 25000, "EUR")));
        assertEquals(false, big.get("decision"));
        assertEquals("require_approval", ctx(big).get("effect"));
        assertEquals("large-transfers-need-approval", ctx(big).get("rule"));
        assertEquals("require_approval", details(broker.onlyEntryOfLastRequest()).get("effect"));

        Map<String, Object> crypto = json(evaluate(transfer("payments.settlement.reconciler", 25000, "BTC")));
        assertEquals(false, crypto.get("decision"));
        assertEquals("deny", ctx(crypto).get("effect"), "deny wins over require_approval");
        assertEquals("no-crypto", ctx(crypto).get("rule"));

        Map<String, Object> stranger = json(evaluate(transfer("zoë-agent", 5, "EUR")));
        assertEquals("deny", ctx(stranger).get("effect"));
        assertEquals("default", ctx(stranger).get("rule"), "an unknown agent has no environment: no permit rule");

        Map<String, Object> suspended = json(evaluate(transfer("payments.suspended", 5, "EUR")));
        assertEquals("deny", ctx(suspended).get("effect"));
        assertEquals("inactive-agent", ctx(suspended).get("rule"));
    }

    @Test
    void unicodeAndDottedNames() {
        Map<String, Object> d = json(evaluate("""
                {"subject": {"type": "user", "id": "zoë d'Artagnan-Łukasz"},
                 "action": {"name": "accounts.überweisung.list"},
                 "resource": {"type": "mcp_server", "id": "%s"}}""".formatted(BANK)));
        assertEquals(true, d.get("decision"));
        assertEquals("balance-for-everyone", ctx(d).get("rule"));
        AuditEntry e = broker.onlyEntryOfLastRequest();
        assertEquals("zoë d'Artagnan-Łukasz", e.subject());
        assertEquals("accounts.überweisung.list", details(e).get("tool"));
    }

    @Test
    @SuppressWarnings("unchecked")
    void batchesUseDefaultsAndSemantics() {
        String items = """
                "subject": {"type": "user", "id": "%s", "properties": {"groups": ["finance"], "act": {"sub": "payments.settlement.reconciler"}}},
                "resource": {"type": "mcp_server", "id": "%s"},
                "action": {"name": "transfer_funds"},
                "evaluations": [
                  {"context": {"arguments": {"amount": 10, "currency": "EUR"}}},
                  {"context": {"arguments": {"amount": 10, "currency": "ETH"}}},
                  {"action": {"name": "get_balance"}},
                  {"action": {}}
                ]""".formatted(USER, BANK);
        HttpResponse<String> r = evaluations("{" + items + "}");
        assertEquals(200, r.statusCode(), r.body());
        List<Map<String, Object>> out = (List<Map<String, Object>>) json(r).get("evaluations");
        assertEquals(4, out.size());
        assertEquals(List.of(true, false, true, false), out.stream().map(m -> m.get("decision")).toList());
        assertEquals("no-crypto", ctx(out.get(1)).get("rule"));
        Map<String, Object> err = (Map<String, Object>) ctx(out.get(3)).get("error");
        assertEquals(400, err.get("status"));
        assertTrue(err.get("message").toString().contains("action.name"), err.toString());
        List<AuditEntry> all = broker.audit();
        String corr = all.get(all.size() - 1).correlationId();
        List<AuditEntry> mine = all.stream().filter(e -> corr.equals(e.correlationId())).toList();
        assertEquals(1, mine.size(), "one subject, one actor chain, one resource: one entry for the batch");
        List<Map<String, Object>> decisions = (List<Map<String, Object>>) details(mine.get(0)).get("decisions");
        assertEquals(List.of(0, 1, 2), decisions.stream().map(m -> m.get("index")).toList());
        assertEquals(List.of("permit", "deny", "permit"), decisions.stream().map(m -> m.get("effect")).toList());
        assertEquals("deny", mine.get(0).outcome().toLowerCase(), "allow only when every decision is a permit");

        List<Map<String, Object>> stopDeny = (List<Map<String, Object>>) json(evaluations("{" + items
                + ", \"options\": {\"evaluations_semantic\": \"deny_on_first_deny\"}}")).get("evaluations");
        assertEquals(List.of(true, false), stopDeny.stream().map(m -> m.get("decision")).toList());
        List<Map<String, Object>> stopPermit = (List<Map<String, Object>>) json(evaluations("{" + items
                + ", \"options\": {\"evaluations_semantic\": \"permit_on_first_permit\"}}")).get("evaluations");
        assertEquals(List.of(true), stopPermit.stream().map(m -> m.get("decision")).toList());

        // no evaluations: the defaults are one evaluation, answered as one (AuthZEN §7.1)
        Map<String, Object> single = json(evaluations("""
                {"subject": {"type": "user", "id": "%s"}, "action": {"name": "get_balance"},
                 "resource": {"type": "mcp_server", "id": "%s"}, "evaluations": []}""".formatted(USER, BANK)));
        assertEquals(true, single.get("decision"));
        assertNull(single.get("evaluations"));

        HttpResponse<String> bad = evaluations("{" + items + ", \"options\": {\"evaluations_semantic\": \"maybe\"}}");
        assertEquals(400, bad.statusCode());
        assertTrue(bad.body().contains("evaluations_semantic"), bad.body());
    }

    /** The entries the last request wrote (by its correlation id). */
    static List<AuditEntry> entriesOfLastRequest() {
        List<AuditEntry> all = broker.audit();
        String corr = all.get(all.size() - 1).correlationId();
        return all.stream().filter(e -> corr.equals(e.correlationId())).toList();
    }

    @Test
    @SuppressWarnings("unchecked")
    void aBatchForOneSubjectIsOneEntryHoldingEveryDecisionWithoutSensitiveArguments() {
        HttpResponse<String> r = evaluations("""
                {"subject": {"type": "user", "id": "%s", "properties": {"groups": ["finance"],
                   "act": {"sub": "payments.settlement.reconciler"}}},
                 "resource": {"type": "mcp_server", "id": "%s"},
                 "evaluations": [
                   {"action": {"name": "transfer_funds"}, "context": {"arguments": {"amount": 500, "currency": "EUR",
                      "iban": "DE89370400440532013000"}}},
                   {"action": {"name": "transfer_funds"}, "context": {"arguments": {"amount": 25000, "currency": "EUR",
                      "iban": "GB33BUKB20201555555555"}}},
                   {"action": {"name": "transfer_funds"}, "context": {"arguments": {"amount": 5, "currency": "BTC",
                      "iban": "FR1420041010050500013M02606"}}},
                   {"action": {"name": "get_balance"}}
                 ]}""".formatted(USER, BANK));
        assertEquals(200, r.statusCode(), r.body());
        List<Map<String, Object>> out = (List<Map<String, Object>>) json(r).get("evaluations");
        assertEquals(List.of("permit", "require_approval", "deny", "permit"),
                out.stream().map(m -> ctx(m).get("effect")).toList());
        List<AuditEntry> mine = entriesOfLastRequest();
        assertEquals(1, mine.size(), mine.toString());
        AuditEntry e = mine.get(0);
        assertBankTransferEntry(e);
        Map<String, Object> det = details(e);
        assertEquals("tool", det.get("kind"));
        assertNull(det.get("tool"), "per-item parts are in decisions");
        assertEquals(List.of("prod"), det.get("actor_environments"));
        assertEquals(List.of("finance"), det.get("subject_groups"));
        List<Map<String, Object>> decisions = (List<Map<String, Object>>) det.get("decisions");
        assertEquals(List.of(0, 1, 2, 3), decisions.stream().map(m -> m.get("index")).toList());
        assertEquals(List.of("transfer_funds", "transfer_funds", "transfer_funds", "get_balance"),
                decisions.stream().map(m -> m.get("tool")).toList());
        assertEquals(List.of("permit", "require_approval", "deny", "permit"),
                decisions.stream().map(m -> m.get("effect")).toList());
        assertEquals(List.of("transfers-by-payment-agents", "large-transfers-need-approval", "no-crypto",
                "balance-for-everyone"), decisions.stream().map(m -> m.get("rule")).toList());
        for (int i = 0; i < 3; i++) {
            Map<String, Object> args = (Map<String, Object>) decisions.get(i).get("arguments");
            assertTrue(args.containsKey("amount") && args.containsKey("currency"), args.toString());
            assertFalse(args.containsKey("iban"), "sensitive, item " + i + ": " + args);
        }
        for (String iban : List.of("DE89370400440532013000", "GB33BUKB20201555555555", "FR1420041010050500013M02606")) {
            assertFalse(e.details().contains(iban), iban);
        }
        assertTrue(String.valueOf(decisions.get(1).get("inputs")).contains("25000"),
                "the inputs the deciding rule used, per item: " + decisions.get(1).get("inputs"));
        assertFalse(String.valueOf(decisions.get(0).get("inputs")).contains("25000"), "not another item's");
        List<AuditEntry> all = broker.audit();
        AuditEntry before = all.stream().filter(x -> x.seq() == e.seq() - 1).findFirst().orElseThrow();
        assertEquals(before.hash(), e.prevHash(), "the batched entry is in the hash chain");
    }

    @Test
    @SuppressWarnings("unchecked")
    void aBatchWithSeveralSubjectsIsOneEntryPerSubjectChainAndResource() {
        HttpResponse<String> r = evaluations("""
                {"resource": {"type": "mcp_server", "id": "%s"}, "action": {"name": "get_balance"},
                 "evaluations": [
                   {"subject": {"type": "user", "id": "alice", "properties": {"act": {"sub": "payments.settlement.reconciler"}}}},
                   {"subject": {"type": "user", "id": "bob", "properties": {"act": {"sub": "payments.settlement.reconciler"}}}},
                   {"subject": {"type": "user", "id": "alice", "properties": {"act": {"sub": "payments.settlement.reconciler"}}},
                    "action": {"name": "transfer_funds"}, "context": {"arguments": {"amount": 1, "currency": "EUR"}}},
                   {"subject": {"type": "user", "id": "alice"}},
                   {"subject": {"type": "user", "id": "alice", "properties": {"act": {"sub": "payments.settlement.reconciler"}}},
                    "resource": {"type": "mcp_server", "id": "https://other.example.com/mcp"}}
                 ]}""".formatted(BANK));
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(5, ((List<?>) json(r).get("evaluations")).size());
        List<AuditEntry> mine = entriesOfLastRequest();
        assertEquals(4, mine.size(), "alice+agent at the bank (2 items), bob, alice alone, alice elsewhere: " + mine);
        AuditEntry grouped = mine.stream().filter(x -> details(x).containsKey("decisions")).findFirst().orElseThrow();
        assertEquals("alice", grouped.subject());
        assertEquals(BANK, grouped.resource());
        assertEquals(List.of(0, 2), ((List<Map<String, Object>>) details(grouped).get("decisions")).stream()
                .map(m -> m.get("index")).toList());
        List<AuditEntry> singles = mine.stream().filter(x -> !details(x).containsKey("decisions")).toList();
        assertEquals(List.of(1, 3, 4), singles.stream().map(x -> details(x).get("batch_index")).toList(),
                "a group of one keeps the single entry's shape, with its index");
        assertEquals(List.of("bob", "alice", "alice"), singles.stream().map(AuditEntry::subject).toList());
        assertEquals("get_balance", details(singles.get(0)).get("tool"));
    }

    @Test
    void onlyAuthenticatedDecisionClientsMayAsk() {
        String body = transfer("payments.settlement.reconciler", 5, "EUR");
        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<String> none = post(broker.url(), http, "/access/v1/evaluation", "", body);
        assertEquals(401, none.statusCode());
        assertEquals("client authentication failed", none.body());
        AuditEntry e = broker.onlyEntryOfLastRequest();
        assertEquals("policy.decision.rejected", e.type());

        // a decision client's own token (client_credentials, private_key_jwt): asks, any number of times
        String token = pdpToken(bankKey, "bank-mcp");
        for (int i = 0; i < 2; i++) {
            HttpResponse<String> ok = post(broker.url(), http, "/access/v1/evaluation", "", body, bearer(token));
            assertEquals(200, ok.statusCode(), ok.body());
            assertEquals("bank-mcp", broker.onlyEntryOfLastRequest().clientId());
        }

        // an agent with the scope but not among decision_clients
        HttpResponse<String> outsider = post(broker.url(), http, "/access/v1/evaluation", "", body,
                bearer(pdpToken(outsiderKey, "outsider")));
        assertEquals(403, outsider.statusCode(), outsider.body());
        assertEquals("this client may not ask for decisions", outsider.body());
        assertEquals("not_a_decision_client", details(broker.onlyEntryOfLastRequest()).get("reason"));

        // a token for another resource (the files server's): not for the decision point
        Map<String, String> files = TestKeys.assertionForm(TestKeys.sign(bankKey, TestKeys.claims("bank-mcp",
                broker.issuer()).build()));
        String filesToken = (String) AgentTestBroker.json(broker.post("/t/demo/token", files)).get("access_token");
        HttpResponse<String> wrongAud = post(broker.url(), http, "/access/v1/evaluation", "", body, bearer(filesToken));
        assertEquals(401, wrongAud.statusCode(), wrongAud.body());
        assertEquals("Bearer error=\"invalid_token\"", wrongAud.headers().firstValue("WWW-Authenticate").orElse(""));
        assertEquals("wrong_audience", details(broker.onlyEntryOfLastRequest()).get("reason"));

        // for the decision point but without the scope (minted directly: the PDP resource offers no other scope)
        String noScope = broker.bean(AccessTokens.class).mint(new AccessTokenSpec("demo", "bank-mcp", null, List.of(),
                "bank-mcp", broker.issuer(), List.of("files:read"), null, null, Duration.ofMinutes(5), Map.of())).token();
        HttpResponse<String> scope = post(broker.url(), http, "/access/v1/evaluation", "", body, bearer(noScope));
        assertEquals(403, scope.statusCode(), scope.body());
        assertEquals("Bearer error=\"insufficient_scope\", scope=\"authzen:evaluate\"",
                scope.headers().firstValue("WWW-Authenticate").orElse(""));
        assertEquals("scope_missing", details(broker.onlyEntryOfLastRequest()).get("reason"));

        // a token acting for a user is not the client's own
        String delegated = broker.bean(AccessTokens.class).mint(new AccessTokenSpec("demo", USER, "https://idp.example.com/",
                List.of("bank-mcp"), "bank-mcp", broker.issuer(), List.of(ToolDecisions.SCOPE), null, null,
                Duration.ofMinutes(5), Map.of())).token();
        HttpResponse<String> act = post(broker.url(), http, "/access/v1/evaluation", "", body, bearer(delegated));
        assertEquals(401, act.statusCode(), act.body());
        assertEquals("delegated_token", details(broker.onlyEntryOfLastRequest()).get("reason"));

        // garbage, and a revoked token
        assertEquals(401, post(broker.url(), http, "/access/v1/evaluation", "", body, bearer("eyJ.garbage.zoë")).statusCode());
        assertEquals("policy.decision.rejected", broker.onlyEntryOfLastRequest().type());
        String revoked = pdpToken(bankKey, "bank-mcp");
        broker.bean(dev.deputy.broker.token.Revocations.class).revoke("demo", jti(revoked),
                java.time.Instant.now().plusSeconds(600));
        HttpResponse<String> rev = post(broker.url(), http, "/access/v1/evaluation", "", body, bearer(revoked));
        assertEquals(401, rev.statusCode());
        assertEquals("token_revoked", details(broker.onlyEntryOfLastRequest()).get("reason"));

        // mTLS: the registered certificate, the client id in the header
        SSLContext tls = TestKeys.clientTls(mtlsKey.getPrivate(), mtlsCert);
        HttpClient mtls = HttpClient.newBuilder().sslContext(tls).build();
        HttpResponse<String> viaTls = post(broker.httpsUrl(), mtls, "/access/v1/evaluation", "", body,
                ToolDecisions.CLIENT_ID_HEADER, "bank.mtls");
        assertEquals(200, viaTls.statusCode(), viaTls.body());
        assertEquals(true, json(viaTls).get("decision"));
        assertEquals("bank.mtls", broker.onlyEntryOfLastRequest().clientId());
        // ... or from the certificate's SPIFFE id (a Deputy-issued certificate)
        HttpResponse<String> spiffe = post(broker.httpsUrl(), mtls, "/access/v1/evaluation", "", body);
        assertEquals(200, spiffe.statusCode(), spiffe.body());
        assertEquals("bank.mtls", broker.onlyEntryOfLastRequest().clientId());
        // the header without the certificate proves nothing
        HttpResponse<String> noCert = post(broker.url(), http, "/access/v1/evaluation", "", body,
                ToolDecisions.CLIENT_ID_HEADER, "bank.mtls");
        assertEquals(401, noCert.statusCode());

        // a certificate-bound token (client_credentials over mTLS): only with its certificate
        HttpResponse<String> tr = broker.postTls(tls, "/t/demo/token", Map.of("grant_type", "client_credentials",
                "client_id", "bank.mtls", "scope", ToolDecisions.SCOPE, "resource", broker.issuer()));
        assertEquals(200, tr.statusCode(), tr.body());
        String bound = (String) AgentTestBroker.json(tr).get("access_token");
        HttpResponse<String> stolen = post(broker.url(), http, "/access/v1/evaluation", "", body, bearer(bound));
        assertEquals(401, stolen.statusCode(), stolen.body());
        assertEquals("cnf_mismatch", details(broker.onlyEntryOfLastRequest()).get("reason"));
        HttpResponse<String> held = post(broker.httpsUrl(), mtls, "/access/v1/evaluation", "", body, bearer(bound));
        assertEquals(200, held.statusCode(), held.body());
    }

    @Test
    void credentialsInTheQueryStringAreRefusedAndAudited() {
        String body = transfer("payments.settlement.reconciler", 5, "EUR");
        HttpClient http = HttpClient.newHttpClient();
        String token = bankToken(); // fetched (and its token.issued entry written) before counting
        int before = broker.audit().size();
        // the old way: a client assertion in the URL (it would end up in access logs)
        HttpResponse<String> assertion = post(broker.url(), http, "/access/v1/evaluation", queryAssertion(bankKey, "bank-mcp"), body);
        assertEquals(400, assertion.statusCode(), assertion.body());
        assertTrue(assertion.body().startsWith("client credentials are not accepted in the query string"
                + " (client_assertion, client_assertion_type)"), assertion.body());
        AuditEntry e = broker.onlyEntryOfLastRequest();
        assertEquals("policy.decision.rejected", e.type());
        assertEquals("invalid_request", details(e).get("error"));
        assertEquals("credentials_in_query", details(e).get("reason"));
        assertFalse(e.details().contains("eyJ"), "the assertion is not in the audit entry");
        // also with a valid token beside it, an access_token parameter, or a client_id over mTLS
        assertEquals(400, post(broker.url(), http, "/access/v1/evaluations", "?access_token=" + token, body).statusCode());
        assertEquals(400, post(broker.url(), http, "/access/v1/evaluation", "?client_id=bank-mcp", body,
                bearer(token)).statusCode());
        HttpClient mtls = HttpClient.newBuilder().sslContext(TestKeys.clientTls(mtlsKey.getPrivate(), mtlsCert)).build();
        assertEquals(400, post(broker.httpsUrl(), mtls, "/access/v1/evaluation", "?client_id=bank.mtls", body).statusCode());
        List<AuditEntry> after = broker.audit().subList(before, broker.audit().size());
        assertEquals(4, after.size(), "one entry per refused request");
        assertTrue(after.stream().allMatch(x -> x.type().equals("policy.decision.rejected")));
    }

    static String jti(String token) {
        try {
            return com.nimbusds.jwt.SignedJWT.parse(token).getJWTClaimsSet().getJWTID();
        } catch (java.text.ParseException ex) {
            throw new AssertionError(ex);
        }
    }

    @Test
    void malformedRequestsAre400WithAMessageAndOneEntry() {
        for (String body : List.of("not json", "[]", "{}", "{\"subject\": {\"type\": \"user\", \"id\": \"x\"}}",
                "{\"subject\": {\"type\": \"user\"}, \"action\": {\"name\": \"t\"}, \"resource\": {\"type\": \"s\", \"id\": \"r\"}}",
                "{\"subject\": {\"type\": \"user\", \"id\": \"x\"}, \"action\": {\"name\": \"t\"}, \"resource\": {\"type\": \"s\", \"id\": \"r\"}, \"context\": {\"time\": \"yesterday\"}}",
                "{\"subject\": {\"type\": \"user\", \"id\": \"x\", \"properties\": {\"act\": {\"act\": {}}}}, \"action\": {\"name\": \"t\"}, \"resource\": {\"type\": \"s\", \"id\": \"r\"}}")) {
            HttpResponse<String> r = evaluate(body);
            assertEquals(400, r.statusCode(), body + " -> " + r.body());
            assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
            assertFalse(r.body().isBlank());
            assertFalse(r.body().contains("Exception"), r.body());
            AuditEntry e = broker.onlyEntryOfLastRequest();
            assertEquals("policy.decision.rejected", e.type());
            assertEquals("invalid_request", details(e).get("error"));
        }
    }

    static HttpResponse<String> evaluateBytes(String path, byte[] body) {
        try {
            HttpRequest r = HttpRequest.newBuilder(URI.create(broker.url() + "/t/demo" + path))
                    .timeout(Duration.ofSeconds(20)).header("Content-Type", "application/json")
                    .header("Authorization", "Bearer " + bankToken())
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
            return HttpClient.newHttpClient().send(r, HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void hostileBodiesAre400AndAnswersAreEscaped() {
        // broken UTF-8, nesting past the parser's limit, a body past 256 KiB: 400 with the message, one entry each
        byte[] brokenUtf8 = ("{\"subject\": {\"type\": \"user\", \"id\": \"x\u0001\"}}").getBytes(StandardCharsets.UTF_8);
        brokenUtf8[brokenUtf8.length - 4] = (byte) 0xC3; // a two-byte sequence whose second byte is a quote
        String deep = "{\"subject\": " + "[".repeat(3000) + "]".repeat(3000) + "}";
        String big = "{\"subject\": {\"type\": \"user\", \"id\": \"" + "a".repeat(300 * 1024) + "\"}}";
        Map<byte[], String> bodies = new java.util.LinkedHashMap<>();
        bodies.put(brokenUtf8, "the request body is not valid JSON");
        bodies.put(deep.getBytes(StandardCharsets.UTF_8), "the request body is not valid JSON");
        bodies.put(big.getBytes(StandardCharsets.UTF_8), "the request body is larger than 256 KiB");
        bodies.put("{\"a\": 1} trailing".getBytes(StandardCharsets.UTF_8), "the request body is not valid JSON");
        for (Map.Entry<byte[], String> b : bodies.entrySet()) {
            for (String path : List.of("/access/v1/evaluation", "/access/v1/evaluations")) {
                HttpResponse<String> r = evaluateBytes(path, b.getKey());
                assertEquals(400, r.statusCode(), r.body());
                assertEquals(b.getValue(), r.body());
                assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
                AuditEntry e = broker.onlyEntryOfLastRequest();
                assertEquals("policy.decision.rejected", e.type());
                assertEquals("malformed_request", details(e).get("reason"));
            }
        }

        // a subject id with a quote, a backslash, a newline, a control character and an emoji: it is in the answer's
        // JSON (reason_user of require_approval) and in the entry, byte for byte
        String id = "zoë \"the\" \\ d'Artagnan\n\u0007😀";
        String json = transfer("payments.settlement.reconciler", 25000, "EUR")
                .replace("\"" + USER + "\"", JSON.valueToTree(id).toString());
        HttpResponse<String> r = evaluate(json);
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"), r.headers().toString());
        assertEquals("no-store", r.headers().firstValue("Cache-Control").orElse(""));
        Map<String, Object> d = json(r);
        assertEquals(false, d.get("decision"));
        assertEquals("require_approval", ctx(d).get("effect"));
        assertEquals(Map.of("en", "this call needs the approval of " + id), ctx(d).get("reason_user"));
        assertEquals(id, broker.onlyEntryOfLastRequest().subject());

        // a batch of unicode and dotted tool names; an item error's message is escaped too
        HttpResponse<String> batch = evaluations("""
                {"subject": {"type": "user", "id": "%s"}, "resource": {"type": "mcp_server", "id": "%s"},
                 "evaluations": [{"action": {"name": "accounts.überweisung.list"}}, {"action": {"name": "get_balance"}},
                                 {"action": {"name": "%s"}}, {"subject": {"type": "user", "id": ""}}]}"""
                .formatted(USER, BANK, "x".repeat(257)));
        assertEquals(200, batch.statusCode(), batch.body());
        List<Map<String, Object>> out = (List<Map<String, Object>>) json(batch).get("evaluations");
        assertEquals(List.of(true, true, false, false), out.stream().map(m -> m.get("decision")).toList());
        assertEquals(Map.of("status", 400, "message", "action.name is longer than 256 characters"), ctx(out.get(2)).get("error"));
        assertEquals(Map.of("status", 400, "message", "subject.id is required (a non-empty string)"), ctx(out.get(3)).get("error"));
    }

    @Test
    @SuppressWarnings("unchecked")
    void dryRunTellsWhichPastCallsWouldChange() throws Exception {
        assertEquals(true, json(evaluate(transfer("payments.settlement.reconciler", 500, "EUR"))).get("decision"));
        // and a batched entry: both of its transfers are evaluated again
        HttpResponse<String> batch = evaluations("""
                {"subject": {"type": "user", "id": "dry.run.user", "properties": {"groups": ["finance"],
                   "act": {"sub": "payments.settlement.reconciler"}}},
                 "resource": {"type": "mcp_server", "id": "%s"}, "action": {"name": "transfer_funds"},
                 "evaluations": [{"context": {"arguments": {"amount": 200, "currency": "EUR"}}},
                                 {"context": {"arguments": {"amount": 300, "currency": "EUR"}}}]}""".formatted(BANK));
        assertEquals(200, batch.statusCode(), batch.body());
        assertEquals(1, entriesOfLastRequest().size());
        long before = broker.audit().stream().filter(e -> e.type().equals("policy.decision")).count();
        String proposed = Files.readString(dir.resolve("config/tenants/demo/policies/tools.yml")) + """
                    - id: small-limit
                      effect: deny
                      tools: [transfer_funds]
                      when: ["amount > 100"]
                """;
        String admin = broker.adminToken();
        HttpResponse<String> r = broker.postJson("/admin/t/demo/policies/dry-run", admin,
                JSON.writeValueAsString(Map.of("files", Map.of("tools.yml", proposed), "since", "1h")));
        assertEquals(200, r.statusCode(), r.body());
        Map<String, Object> out = json(r);
        assertTrue((Integer) out.get("evaluated") >= 1, r.body());
        assertTrue(((Map<String, Integer>) out.get("transitions")).get("permit -> deny") >= 1, r.body());
        List<Map<String, Object>> changes = (List<Map<String, Object>>) out.get("changes");
        Map<String, Object> c = changes.stream().filter(m -> "transfer_funds".equals(m.get("tool"))).findFirst().orElseThrow();
        assertEquals(Map.of("effect", "deny", "rule", "small-limit"), c.get("after"));
        assertEquals(List.of("payments.settlement.reconciler"), c.get("actors"));
        assertEquals(2, changes.stream().filter(m -> "dry.run.user".equals(m.get("subject"))).count(),
                "each decision of a batched entry: " + changes);
        assertEquals(before, broker.audit().stream().filter(e -> e.type().equals("policy.decision")).count(),
                "a dry-run decides nothing for real");

        HttpResponse<String> bad = broker.postJson("/admin/t/demo/policies/dry-run", admin,
                JSON.writeValueAsString(Map.of("files", Map.of("tools.yml", "tools:\n  rules: [{id: x, effect: maybe, tools: [a]}]\n"))));
        assertEquals(400, bad.statusCode(), bad.body());
        assertTrue(bad.body().contains("effect"), bad.body());
    }

    @Test
    void pdpMetadataAtBothLocations() {
        for (String path : List.of("/.well-known/authzen-configuration/t/demo", "/t/demo/.well-known/authzen-configuration")) {
            HttpResponse<String> r = broker.get(path);
            assertEquals(200, r.statusCode(), r.body());
            Map<String, Object> m = json(r);
            assertEquals(broker.issuer(), m.get("policy_decision_point"));
            assertEquals(broker.issuer() + "/access/v1/evaluation", m.get("access_evaluation_endpoint"));
            assertEquals(broker.issuer() + "/access/v1/evaluations", m.get("access_evaluations_endpoint"));
            // how a PEP gets in (RFC 9728 terms): a token from this issuer, for the PDP, with the scope, in the header
            assertEquals(broker.issuer(), m.get("resource"));
            assertEquals(List.of(broker.issuer()), m.get("authorization_servers"));
            assertEquals(List.of("authzen:evaluate"), m.get("scopes_supported"));
            assertEquals(List.of("header"), m.get("bearer_methods_supported"));
            assertEquals(true, m.get("tls_client_certificate_bound_access_tokens"));
        }
        assertEquals(404, broker.get("/.well-known/authzen-configuration/t/nope").statusCode());
    }

    /** A policy.decision entry of the bank's decision client for USER acting through the payments agent. */
    private static void assertBankTransferEntry(AuditEntry e) {
        assertEquals("policy.decision", e.type());
        assertEquals(USER, e.subject());
        assertEquals("payments.settlement.reconciler", e.agentId());
        assertEquals(BANK, e.resource());
        assertEquals("bank-mcp", e.clientId());
    }
}
