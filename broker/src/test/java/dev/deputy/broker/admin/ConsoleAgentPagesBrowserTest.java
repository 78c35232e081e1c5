package dev.deputy.broker.admin;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
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
class ConsoleAgentPagesBrowserTest extends ConsoleBrowserTestBase {
    ConsoleAgentPagesBrowserTest() {
        super(false, Map.of());
    }

    @Override
    void config(Path root) {
        ConsoleFixture.write(root, "config/tenants/acme/tenant.yml", "display_name: Acme Payments\n");
        ConsoleFixture.write(root, "config/tenants/acme/roles/deploy-reader.yml", "scopes: [deploy.read]\n");
    }

    @Test
    void anAdminSuspendsAnAgentThroughTheConfirmationAndAnAuditorSeesNoButtons() {
        String id = "payments.settlement.reconciler";
        assertEquals(201, broker.post("/admin/t/acme/agents", ConsoleFixture.agentJson(id, "zoë@corp.example", "deploy-reader")).statusCode());
        assertEquals(201, broker.post("/admin/t/acme/agents", ConsoleFixture.agentJson("invoice.matcher", "jonathan.christopher.williams@corp.example", null)).statusCode());

        signIn("jonathan.christopher.williams", List.of("acme-ops"), "/console/t/acme/agents");
        assertEquals(2, h.all("tr[data-agent]").size());
        h.check("agent list", "console-agents");

        h.find("tr[data-agent='" + id + "'] a").click();
        h.awaitUrl(broker.url() + "/console/t/acme/agents/" + id);
        assertTrue(h.text("#status").startsWith("active"), h.text("#status"));
        h.check("agent detail", "console-agent");

        h.find("#actions a[href$='/suspend']").click();
        h.awaitUrl(broker.url() + "/console/t/acme/agents/" + id + "/suspend");
        h.check("confirmation", "console-agent-confirm");
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
        h.check("step-up needed", "console-step-up-needed");
        assertEquals("suspended", ManageBroker.json(broker.get("/admin/t/acme/agents/" + id).body()).get("status"));

        signIn("sécurité.auditor", List.of("Sicherheit & Prüfung"), "/console/t/acme/agents/" + id);
        assertTrue(h.all("#actions").isEmpty(), "an auditor sees no buttons");
        assertTrue(h.all("form[method=post]").isEmpty(), "and no form that changes anything");
        assertTrue(!h.all("#read-only").isEmpty());
        h.check("agent detail (auditor)", "console-agent-auditor");
    }
}
