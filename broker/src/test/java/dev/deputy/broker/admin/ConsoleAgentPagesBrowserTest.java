package dev.deputy.broker.admin;

import dev.deputy.broker.admin.signin.ConsoleSettings;
import dev.deputy.broker.console.BrowserHarness;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The console's agent pages in headless Chromium (Debian's), signed in through a real OpenID provider on loopback
 * (mock-oauth2-server): a tenant admin opens the list, the agent, suspends it through the confirmation step and sees
 * the new status; revoking without a multi-factor sign-in shows the step-up page; an auditor's agent page has no
 * buttons. axe-core on every page; screenshots into docs/console/ with {@code -Ddeputy.screenshots=docs}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConsoleAgentPagesBrowserTest {
    MockOAuth2Server idp;
    ManageBroker broker;
    BrowserHarness h;

    @BeforeAll
    void start() {
        BrowserHarness.assumeAvailable();
        idp = new MockOAuth2Server();
        idp.start();
        Path root = ManageBroker.newRoot();
        ManageBroker.write(root.resolve("config/tenants/acme/tenant.yml"), "display_name: Acme Payments\n");
        ManageBroker.write(root.resolve("config/tenants/acme/roles/deploy-reader.yml"), "scopes: [deploy.read]\n");
        Map<String, String> env = new HashMap<>();
        env.put("DEPUTY_CONSOLE_ISSUER", idp.issuerUrl("corp-admins").toString());
        env.put("DEPUTY_CONSOLE_CLIENT_ID", ConsoleAdminContract.CLIENT_ID);
        env.put("DEPUTY_CONSOLE_CLIENT_SECRET", "console-s3cret");
        env.put("DEPUTY_CONSOLE_ROLE_MAP", "acme-ops=tenant_admin:acme; Sicherheit & Prüfung=auditor:*");
        env.put("DEPUTY_CONSOLE_STEP_UP_ACR", ConsoleAdminContract.MFA_ACR);
        broker = ManageBroker.start(root, false, ConsoleSettings.properties(env::get));
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
        if (idp != null) {
            idp.shutdown();
        }
    }

    private void signIn(String sub, List<String> groups, String path) {
        h.driver.manage().deleteAllCookies();
        Map<String, Object> claims = new HashMap<>();
        claims.put("groups", groups);
        claims.put("amr", List.of("pwd"));
        claims.put("auth_time", System.currentTimeMillis() / 1000);
        claims.put("email", sub + "@corp.example");
        claims.put("email_verified", true);
        idp.enqueueCallback(new ConsoleAdminContract.IdTokenClaims(sub, claims));
        h.open(broker.url() + "/console");
        h.await(d -> d.getCurrentUrl().equals(broker.url() + "/console") && !h.all("a[href^='/console/t/acme/agents']").isEmpty());
        h.open(broker.url() + path);
        h.awaitUrl(broker.url() + path);
    }

    @Test
    void anAdminSuspendsAnAgentThroughTheConfirmationAndAnAuditorSeesNoButtons() {
        String id = "payments.settlement.reconciler";
        assertEquals(201, broker.post("/admin/t/acme/agents", ConsoleAdminContract.agentJson(id, "zoë@corp.example", "deploy-reader")).statusCode());
        assertEquals(201, broker.post("/admin/t/acme/agents", ConsoleAdminContract.agentJson("invoice.matcher", "jonathan.christopher.williams@corp.example", null)).statusCode());

        signIn("jonathan.christopher.williams", List.of("acme-ops"), "/console/t/acme/agents");
        assertEquals(2, h.all("tr[data-agent]").size());
        h.axe("agent list");
        h.screenshot("console-agents");

        h.find("tr[data-agent='" + id + "'] a").click();
        h.awaitUrl(broker.url() + "/console/t/acme/agents/" + id);
        assertTrue(h.text("#status").startsWith("active"), h.text("#status"));
        h.axe("agent detail");
        h.screenshot("console-agent");

        h.find("#actions a[href$='/suspend']").click();
        h.awaitUrl(broker.url() + "/console/t/acme/agents/" + id + "/suspend");
        h.axe("confirmation");
        h.screenshot("console-agent-confirm");
        h.find("#reason").sendKeys("rotating its keys – zoë is away");
        h.find("#confirm button[type=submit]").click();
        h.await(d -> d.getCurrentUrl().endsWith("/agents/" + id) && h.text("#status").startsWith("suspended"));
        assertEquals("suspended", ManageBroker.json(broker.get("/admin/t/acme/agents/" + id).body()).get("status"));

        // revoking needs a recent multi-factor sign-in: the step-up page
        h.find("#actions a[href$='/revoke']").click();
        h.awaitUrl(broker.url() + "/console/t/acme/agents/" + id + "/revoke");
        h.find("#confirm button[type=submit]").click();
        h.await(d -> !h.all("#refused").isEmpty());
        assertTrue(!h.all("#refused a[href='/console/step-up']").isEmpty());
        h.axe("step-up needed");
        h.screenshot("console-step-up-needed");
        assertEquals("suspended", ManageBroker.json(broker.get("/admin/t/acme/agents/" + id).body()).get("status"));

        signIn("sécurité.auditor", List.of("Sicherheit & Prüfung"), "/console/t/acme/agents/" + id);
        assertTrue(h.all("#actions").isEmpty(), "an auditor sees no buttons");
        assertTrue(h.all("form[method=post]").isEmpty(), "and no form that changes anything");
        assertTrue(!h.all("#read-only").isEmpty());
        h.axe("agent detail (auditor)");
        h.screenshot("console-agent-auditor");
    }
}
