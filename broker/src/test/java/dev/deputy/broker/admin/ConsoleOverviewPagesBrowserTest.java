package dev.deputy.broker.admin;

import dev.deputy.broker.audit.AuditStore;
import dev.deputy.broker.audit.EventTypes;
import dev.deputy.broker.oauth.TestKeys;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The console's Overview and Connectors pages and the agent page's rotate and certificate forms in headless Chromium
 * (Debian's), signed in through a real OpenID provider on loopback (mock-oauth2-server) with a multi-factor sign-in:
 * the overview of a tenant with planted agents and token entries; a connector form sent with a bad issuer (the API's
 * error on the page), then a good one; its test report; disabling it through the confirmation; a certificate issued
 * from a CSR pasted into the agent page; the rotate form; the auditor's connector page without buttons. axe-core on
 * every page; screenshots into docs/console/ with {@code -Ddeputy.screenshots=docs}.
 */
class ConsoleOverviewPagesBrowserTest extends ConsoleBrowserTestBase {
    ConsoleOverviewPagesBrowserTest() {
        super(true, Map.of());
    }

    @Override
    void config(Path root) {
        ConsoleFixture.write(root, "config/tenants/acme/tenant.yml", "display_name: Acme Payments\n");
        ConsoleFixture.write(root, "config/tenants/acme/roles/deploy-reader.yml", "scopes: [deploy.read]\n");
        ConsoleFixture.write(root, "config/tenants/acme/connectors/legacy-sso.yml", ConsoleFixture.LEGACY_SSO);
    }

    @Test
    void theOverviewConnectorsAndTheAgentCertificateFormsInABrowser() {
        for (String id : List.of("payments.settlement.reconciler", "invoice.matcher", "jonathan.christopher.williams.helper")) {
            assertEquals(201, broker.post("/admin/t/acme/agents", ConsoleFixture.agentJson(id, "zoë@corp.example", "deploy-reader")).statusCode());
        }
        assertEquals(200, broker.post("/admin/t/acme/agents/invoice.matcher/suspend", "{}").statusCode());
        assertEquals(201, broker.post("/admin/t/acme/agents", """
                {"id":"treasury.mtls-bot","name":"Treasury mTLS bot","owner":"zoë@corp.example","environment":"prod","auth_method":"tls_client_auth"}""").statusCode());
        long now = System.currentTimeMillis();
        long thisHour = now - Math.floorMod(now, AuditStore.HOUR_MS);
        List<Object[]> planted = new ArrayList<>();
        int[] issued = {3, 5, 8, 13, 9, 12, 20, 17, 11, 6, 4, 2, 1, 2, 5, 9, 14, 18, 22, 19, 15, 10, 7, 3};
        for (int i = 0; i < 24; i++) {
            long hour = thisHour - (23 - i) * AuditStore.HOUR_MS;
            for (int n = 0; n < issued[i]; n++) {
                planted.add(new Object[]{n % 4 == 0 ? EventTypes.TOKEN_EXCHANGED : EventTypes.TOKEN_ISSUED, hour + n});
            }
            for (int n = 0; n < (i % 7 == 3 ? 4 : i % 3 == 0 ? 1 : 0); n++) {
                planted.add(new Object[]{EventTypes.TOKEN_REJECTED, hour + 100 + n});
            }
        }
        ConsolePagesContract.plant(broker, "acme", planted);
        assertEquals(201, broker.post("/admin/t/acme/audit/checkpoints", "{}").statusCode());

        signIn("jonathan.christopher.williams", List.of("acme-ops"), "/console/t/acme");
        assertEquals("3", h.text("#count-active"), "two private_key_jwt agents and the mTLS one");
        assertEquals("1", h.text("#count-suspended"));
        assertEquals(24, h.all("#series tbody tr").size());
        h.check("overview", "console-overview");

        h.find("a[href='/console/t/acme/connectors']").click();
        h.awaitUrl(broker.url() + "/console/t/acme/connectors");
        assertTrue(h.text("tr[data-connector='legacy-sso'] .source").contains("config file"));
        h.axe("connectors");
        // a form with a bad issuer: the API's refusal on the page, the values kept
        h.find("#c-id").sendKeys("corp-okta");
        h.find("#c-name").sendKeys("Zoë Ångström’s Okta");
        h.find("#c-type option[value=oidc]").click();
        h.find("#c-issuer").sendKeys("http://idp.corp.example");
        h.find("#c-client").sendKeys("0oa-deputy");
        h.find("#c-secret").sendKeys("upstream-s3cret");
        h.find("#c-domains").sendKeys("corp.example");
        h.find("#c-roles").sendKeys("deputy-ops = deploy-reader");
        h.find("#add button[type=submit]").click();
        h.await(d -> !h.all("#add-error").isEmpty());
        assertTrue(h.text("#add-error").contains("https"), h.text("#add-error"));
        assertEquals("", h.find("#c-secret").getAttribute("value"), "the secret is never sent back");
        h.check("connector form with an error", "console-connector-add-error");
        h.find("#c-issuer").clear();
        h.find("#c-issuer").sendKeys(console.idp.issuerUrl("upstream-corp").toString());
        h.find("#c-secret").sendKeys("upstream-s3cret");
        h.find("#add button[type=submit]").click();
        h.await(d -> !h.all("#added").isEmpty());
        h.screenshot("console-connectors");

        h.find("tr[data-connector='corp-okta'] button.test").click();
        h.await(d -> !h.all("#report").isEmpty());
        assertTrue(!h.all("#report tr[data-check='discovery']").isEmpty() || h.all("#report tbody tr").size() > 1);
        h.check("connector test report", "console-connector-test");

        h.find("tr[data-connector='corp-okta'] a.disable").click();
        h.awaitUrl(broker.url() + "/console/t/acme/connectors/corp-okta/disable");
        h.check("disable confirmation", "console-connector-disable");
        h.find("#confirm button[type=submit]").click();
        h.await(d -> d.getCurrentUrl().endsWith("/connectors") && h.text("tr[data-connector='corp-okta'] .state").contains("disabled"));
        assertEquals(false, ManageBroker.json(broker.get("/admin/t/acme/connectors/corp-okta").body()).get("enabled"));

        // a certificate from a CSR pasted into the agent page
        h.open(broker.url() + "/console/t/acme/agents/treasury.mtls-bot");
        h.find("#actions a[href$='/certificate']").click();
        h.awaitUrl(broker.url() + "/console/t/acme/agents/treasury.mtls-bot/certificate");
        h.find("#c-csr").sendKeys(TestKeys.csr(TestKeys.ecKeyPair("secp256r1"), "treasury.mtls-bot"));
        h.find("#c-ttl").sendKeys("24h");
        h.check("certificate form", "console-agent-csr");
        h.find("#certificate button[type=submit]").click();
        h.await(d -> !h.all("#issued").isEmpty());
        assertTrue(h.find("#issued-pem").getAttribute("value").startsWith("-----BEGIN CERTIFICATE-----"));
        h.check("issued certificate", "console-agent-certificate");

        h.open(broker.url() + "/console/t/acme/agents/payments.settlement.reconciler/rotate");
        h.awaitUrl(broker.url() + "/console/t/acme/agents/payments.settlement.reconciler/rotate");
        h.find("#r-jwks").sendKeys(dev.deputy.broker.admin.TestKeys.publicJwks());
        h.check("rotate form", "console-agent-rotate");
        h.find("#rotate button[type=submit]").click();
        h.await(d -> d.getCurrentUrl().endsWith("/agents/payments.settlement.reconciler") && h.all("#credentials-h + table tbody tr").size() == 2);

        signIn("sécurité.auditor", List.of("Sicherheit & Prüfung"), "/console/t/acme/connectors");
        assertTrue(h.all("form[method=post]").isEmpty(), "an auditor has no form that changes anything");
        assertTrue(h.all("a.disable").isEmpty());
        assertTrue(!h.all("#read-only").isEmpty());
        h.check("connectors (auditor)", "console-connectors-auditor");
    }
}
