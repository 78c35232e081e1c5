package dev.deputy.broker.admin;

import dev.deputy.broker.audit.AuditEntry;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.WebElement;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static dev.deputy.broker.admin.ConsoleAuditFixture.AGENT_A;
import static dev.deputy.broker.admin.ConsoleAuditFixture.AGENT_B;
import static dev.deputy.broker.admin.ConsoleAuditFixture.AGENT_C;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The console's audit pages in headless Chromium (Debian's), signed in through a real OpenID provider on loopback:
 * a tenant admin searches the trail, opens an entry of a three-hop exchange and its delegation chain, watches the live
 * page list a new token as it is issued (the static script on the admin API's SSE stream, with the session cookie),
 * and verifies the chain; an auditor's pages have no form but the read-only verify. axe-core on every page;
 * screenshots into docs/console/ with {@code -Ddeputy.screenshots=docs}.
 */
class ConsoleAuditPagesBrowserTest extends ConsoleBrowserTestBase {
    ConsoleAuditFixture fx;

    ConsoleAuditPagesBrowserTest() {
        super(false, Map.of());
    }

    @Override
    void config(Path root) {
        ConsoleAuditFixture.writeConfig(root);
    }

    @Override
    void started() {
        fx = ConsoleAuditFixture.agents(broker);
    }

    @Test
    void anAdminSearchesFollowsTheChainWatchesTheLiveStreamAndVerifies() {
        String user = "Zoë Ångström";
        AuditEntry c = fx.threeHops(user, "checkout-7f3a");

        signIn("jonathan.christopher.williams", List.of("acme-ops"), "/console/t/acme/audit");
        assertTrue(h.all("tr[data-seq]").size() >= 10, "the newest entries");
        h.find("#f-user").sendKeys(user);
        h.find("#f-type").sendKeys("token.");
        h.find("form.filters button[type=submit]").click();
        h.await(d -> d.getCurrentUrl().contains("user=") && h.all("tr[data-seq]").size() == 3);
        h.check("audit search", "console-audit");

        h.find("tr[data-seq='" + c.seq() + "'] a").click();
        h.awaitUrl(broker.url() + "/console/t/acme/audit/" + c.seq());
        assertEquals(String.valueOf(c.seq()), h.text("#f-seq"));
        assertEquals(c.hash(), h.text("#f-hash"));
        h.check("audit entry", "console-audit-entry");

        h.find("#chain-link").click();
        h.awaitUrl(broker.url() + "/console/t/acme/audit/" + c.seq() + "/chain");
        List<String> actors = h.all("#chain li.hop code.actor").stream().map(WebElement::getText).toList();
        assertEquals(List.of(AGENT_A, AGENT_B, AGENT_C), actors);
        assertEquals("files:read", h.find("#chain li.hop[data-actor='" + AGENT_C + "'] code.scopes").getText());
        assertTrue(!h.all("#chain li.tool[data-tool='transfer_funds']").isEmpty());
        h.check("delegation chain", "console-audit-chain");

        // live: a token issued now appears without a reload
        h.open(broker.url() + "/console/t/acme/audit/live");
        h.awaitUrl(broker.url() + "/console/t/acme/audit/live");
        assertEquals(200, fx.clientCredentials(AGENT_B).statusCode());
        h.await(d -> !h.all("#live-entries li.audit-entry[data-type='token.issued'][data-agent='" + AGENT_B + "']").isEmpty());
        assertEquals("connected", h.find("#live-status").getAttribute("data-state"));
        assertEquals(200, fx.clientCredentials(AGENT_C).statusCode());
        h.await(d -> !h.all("#live-entries li.audit-entry[data-agent='" + AGENT_C + "'][data-subject='" + AGENT_C + "']").isEmpty());
        h.check("live audit", "console-audit-live");

        h.open(broker.url() + "/console/t/acme/audit/verify");
        h.awaitUrl(broker.url() + "/console/t/acme/audit/verify");
        h.find("#verify-form button[type=submit]").click();
        h.await(d -> !h.all("#report[data-ok='true']").isEmpty());
        h.check("verify", "console-audit-verify");

        signIn("sécurité.auditor", List.of("Sicherheit & Prüfung"), "/console/t/acme/audit?user=" + ConsoleAuditFixture.enc(user));
        assertTrue(!h.all("#read-only").isEmpty());
        assertTrue(h.all("form[method=post]").isEmpty(), "an auditor's search page changes nothing");
        h.check("audit search (auditor)", "console-audit-auditor");
    }
}
