package dev.deputy.broker.console;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.jwk.JWK;
import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.AgentChanges;
import dev.deputy.broker.agent.AgentCredential;
import dev.deputy.broker.agent.AgentStore;
import dev.deputy.broker.federation.FedFixture;
import dev.deputy.broker.federation.FedFixture.Browser;
import dev.deputy.broker.governance.Approvals;
import dev.deputy.broker.oauth.TestKeys;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static dev.deputy.broker.federation.FedFixture.RESOURCE;
import static dev.deputy.broker.federation.FedFixture.TENANT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The account page's "Pending approvals" section (OpenID CIBA, docs/governance.md) in a real browser: an agent asks
 * the user to approve a transfer; the user signs in to the account page, sees the transaction in words (English and
 * German), checked with axe-core and photographed, and approves it with the button; the agent then gets its token.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ApprovalsBrowserTest {
    static final String AGENT = "payments.settlement.reconciler";
    static final String SUB = "00u.jonathan.christopher.williams";
    static final String EMAIL = "jonathan.christopher.williams@okta.example";
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    FedFixture fx;
    final JWK key = TestKeys.ec();

    @BeforeAll
    void start() {
        BrowserHarness.assumeAvailable();
        fx = new FedFixture(dir, """
                approvals:
                  interval: 1s
                  clients:
                    %s: {backchannel_token_delivery_mode: poll}
                """.formatted(AGENT));
        long now = System.currentTimeMillis();
        AgentStore store = fx.bean(AgentStore.class);
        store.saveAgent(new Agent(TENANT, AGENT, "Payments reconciler", "owner@example.com", "prod", List.of(), Map.of(),
                Agent.Status.ACTIVE, Agent.AuthMethod.PRIVATE_KEY_JWT, "api", now, now, null, null));
        store.saveCredential(new AgentCredential(TENANT, "cred_" + UUID.randomUUID().toString().substring(0, 12), AGENT,
                AgentCredential.Kind.JWKS, null, null, TestKeys.publicJwks(key), null, null, null,
                AgentCredential.Status.ACTIVE, now));
        fx.bean(AgentChanges.class).changed(TENANT, AGENT);
    }

    @AfterAll
    void stop() {
        if (fx != null) {
            fx.close();
        }
    }

    HttpResponse<String> post(String path, Map<String, String> params) {
        Map<String, String> form = new LinkedHashMap<>(params);
        form.put("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
        form.put("client_assertion", TestKeys.sign(key, TestKeys.claims(AGENT, fx.issuer()).build()));
        StringBuilder body = new StringBuilder();
        form.forEach((k, v) -> body.append(body.isEmpty() ? "" : "&").append(k).append('=')
                .append(URLEncoder.encode(v, StandardCharsets.UTF_8)));
        return new Browser().send(HttpRequest.newBuilder(URI.create(fx.issuer() + path))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build());
    }

    @SuppressWarnings("unchecked")
    String ask(String amount, String payee) throws Exception {
        HttpResponse<String> r = post("/bc-authorize", Map.of("login_hint", EMAIL,
                "binding_message", "Transfer " + amount + " EUR to " + payee,
                "authorization_details", """
                        [{"type": "deputy_tool_call", "tool": "transfer_funds", "locations": ["%s"],
                          "arguments": {"amount": %s, "currency": "EUR", "payee": {"name": "%s", "iban": "DE89370400440532013000"}}}]
                        """.formatted(RESOURCE, amount, payee)));
        assertEquals(200, r.statusCode(), r.body());
        return (String) JSON.readValue(r.body(), Map.class).get("auth_req_id");
    }

    @Test
    void theUserSeesTheTransactionAndApprovesIt() throws Exception {
        try (BrowserHarness b = new BrowserHarness(null)) {
            // the user exists once they signed in; then the agent asks
            fx.enqueue("oauth2/default", SUB, Map.of("email", EMAIL, "name", "Zoë Ångström", "groups", List.of("engineers")));
            b.open(fx.issuer() + "/account");
            b.await(d -> d.getTitle().equals("Your account"));
            String authReqId = ask("25000", "Zoë Müller");
            String id = Approvals.idOf(authReqId);
            b.open(fx.issuer() + "/account");
            b.await(d -> !d.findElements(org.openqa.selenium.By.cssSelector("article.approval")).isEmpty());
            String shown = b.text("#approval-" + id);
            assertTrue(shown.contains("transfer_funds") && shown.contains("Transfer 25000 EUR to Zoë Müller")
                    && shown.contains("payee.name") && shown.contains(AGENT), shown);
            b.check("account page, pending approval (en)", "account-approval-en");

            b.open(fx.issuer() + "/account?ui_locales=de");
            b.await(d -> d.getTitle().equals("Ihr Konto"));
            assertEquals("Offene Freigaben", b.text("#approvals-h"));
            b.check("account page, pending approval (de)", "account-approval-de");

            b.find("#approval-" + id + " button[value=approve]").click();
            b.await(d -> d.findElements(org.openqa.selenium.By.cssSelector("article.approval")).isEmpty());
            HttpResponse<String> token = post("/token", Map.of("grant_type", "urn:openid:params:grant-type:ciba",
                    "auth_req_id", authReqId));
            assertEquals(200, token.statusCode(), token.body());
        }
    }
}
