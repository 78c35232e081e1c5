package dev.deputy.broker.admin;

import dev.deputy.broker.agent.ClientStore;
import dev.deputy.broker.agent.OAuthClient;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditLog;
import dev.deputy.broker.authorize.Consent;
import dev.deputy.broker.authorize.ConsentStore;
import dev.deputy.broker.federation.User;
import dev.deputy.broker.federation.UserStore;
import dev.deputy.broker.registration.ClientActivityStore;
import dev.deputy.broker.registration.Registration;
import dev.deputy.broker.registration.RegistrationStore;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.WebElement;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The console's clients, resources and roles, consents and delegation-policy pages in headless Chromium (Debian's),
 * signed in through a real OpenID provider on loopback: a tenant admin opens each page, marks a client internal through
 * the confirmation step, opens a role's form, a consent's revocation step, and runs a dry-run of a tightened rule (and of
 * a malformed file); an auditor's pages have no buttons. axe-core on every page; screenshots into docs/console/ with
 * {@code -Ddeputy.screenshots=docs}.
 */
class ConsoleCatalogPagesBrowserTest extends ConsoleBrowserTestBase {
    static final String ISS = "https://login.corp.example/oauth2/default";
    static final String LEDGER = "https://ledger.acme.example/mcp";

    ConsoleCatalogPagesBrowserTest() {
        super(false, Map.of("DEPUTY_CONSOLE_PRIVILEGED_ROLES", "prod-deployer"));
    }

    @Override
    void config(Path root) {
        ConsoleFixture.write(root, "config/tenants/acme/tenant.yml", "display_name: Acme Payments\n");
        ConsoleFixture.write(root, "config/tenants/acme/roles/ledger-reader.yml", "description: Reads the ledger\nscopes: [ledger.read]\n");
        ConsoleFixture.write(root, "config/tenants/acme/roles/prod-deployer.yml", "scopes: [deploy.write]\n");
        ConsoleFixture.write(root, "config/tenants/acme/resources/ledger.yml", """
                uri: https://ledger.acme.example/mcp
                name: Settlement ledger
                scopes: [ledger.read, ledger.write]
                scope_descriptions:
                  ledger.read: Read the settlement ledger
                  ledger.write: Book and correct settlement entries
                """);
        ConsoleFixture.write(root, "config/tenants/acme/clients/treasury.desk.yml", """
                client_id: treasury.desk
                name: Treasury desk
                redirect_uris: ["https://treasury.acme.example/callback"]
                internal: true
                """);
        ConsoleFixture.write(root, "config/tenants/acme/policies/delegation.yml", """
                max_chain_depth: 3
                delegation:
                  - id: reconciler-for-finance
                    description: The reconciler books for finance and treasury
                    agents: [payments.settlement.reconciler]
                    users: {groups: [finance, treasury]}
                    resources: ["https://ledger.acme.example/mcp"]
                    scopes: ["*"]
                """);
    }

    private void plant() {
        assertEquals(201, broker.post("/admin/t/acme/agents", ConsoleFixture.agentJson("payments.settlement.reconciler",
                "zoë@corp.example", "ledger-reader")).statusCode());
        assertEquals(201, broker.post("/admin/t/acme/clients", """
                {"client_id":"payments.settlement.dashboard","name":"Zoë Ångström’s settlement dashboard","redirect_uris":["https://dash.acme.example/cb"]}""").statusCode());
        long now = System.currentTimeMillis();
        broker.bean(ClientStore.class).save(new OAuthClient("acme", "dcr.jonathan-cli", "Jonathan’s CLI",
                List.of("http://127.0.0.1/callback"), false, "none", null, "dcr", now, now));
        broker.bean(RegistrationStore.class).save(new Registration("acme", "dcr.jonathan-cli",
                "{\"grant_types\":[\"authorization_code\",\"refresh_token\"]}", "0".repeat(64), now, now - 600_000, "198.51.100.7"));
        String cimd = "https://apps.example.org/zoë-notes/client.json";
        broker.bean(ClientActivityStore.class).record("acme", cimd, now - 90_000);
        broker.bean(ClientActivityStore.class).record("acme", "payments.settlement.dashboard", now - 30_000);
        UserStore users = broker.bean(UserStore.class);
        User zoe = new User("acme", "usr_01JH5Q8M3N2ZP9T4V6W7X8Y9Z0", "okta", ISS, "00u-zoë", "zoë.ångström@corp.example",
                "Zoë Ångström", List.of("finance"), List.of(), User.Status.ACTIVE, now, now);
        User jon = new User("acme", "usr_01JH5Q8M3N2ZP9T4V6W7X8Y9Z1", "okta", ISS, "00u-jonathan",
                "jonathan.christopher.williams@corp.example", "Jonathan Christopher Williams", List.of("treasury"),
                List.of(), User.Status.ACTIVE, now, now);
        users.insert(zoe);
        users.insert(jon);
        ConsentStore consents = broker.bean(ConsentStore.class);
        consents.save(new Consent("acme", zoe.id(), "payments.settlement.dashboard", "ledger", List.of("ledger.read"), now - 86_400_000));
        consents.save(new Consent("acme", zoe.id(), cimd, "ledger", List.of("ledger.read", "ledger.write"), now - 3_600_000));
        consents.save(new Consent("acme", jon.id(), "payments.settlement.dashboard", "ledger", List.of("ledger.read"), now - 60_000));
        AuditLog log = broker.bean(AuditLog.class);
        for (User u : List.of(zoe, zoe, jon)) {
            log.append(AuditEvent.of("acme", "token.exchanged", AuditEvent.Outcome.SUCCESS).subject(u.upstreamSub(), ISS)
                    .actors(List.of("payments.settlement.reconciler")).agent("payments.settlement.reconciler")
                    .client("payments.settlement.reconciler").resource(LEDGER).scopes("ledger.read")
                    .detail("requested", "ledger.read").detail("rule", "reconciler-for-finance").build());
        }
    }

    @Test
    void anAdminWalksTheCatalogPagesAndAnAuditorSeesNoButtons() {
        plant();
        signIn("jonathan.christopher.williams", List.of("acme-ops"), "/console/t/acme/clients");
        assertEquals(4, h.all("tr[data-client]").size());
        assertTrue(!h.text("tr[data-client='dcr.jonathan-cli']").contains("never"), "a DCR client's last use from its registration");
        h.check("clients", "console-clients");

        h.find("tr[data-client='payments.settlement.dashboard'] a").click();
        h.awaitUrl(broker.url() + "/console/t/acme/clients/show");
        h.find("#actions a[href$='internal']").click();
        h.await(d -> !h.all("#confirm").isEmpty());
        h.check("client confirmation", "console-client-confirm");
        h.find("#confirm button[type=submit]").click();
        h.await(d -> h.all("#confirm").isEmpty() && h.text("#audience").startsWith("Internal"));
        assertEquals(true, ManageBroker.json(broker.get("/admin/t/acme/clients/payments.settlement.dashboard").body()).get("internal"));

        h.open(broker.url() + "/console/t/acme/resources");
        h.awaitUrl(broker.url() + "/console/t/acme/resources");
        assertTrue(h.text("tr[data-role='ledger-reader']").contains("payments.settlement.reconciler"));
        assertTrue(h.text("tr[data-role='prod-deployer']").contains("privileged"));
        h.check("resources and roles", "console-resources");
        h.find("tr[data-role='prod-deployer'] a[href*='/role?']").click();
        h.await(d -> !h.all("#edit").isEmpty());
        assertTrue(!h.all("#privileged-note").isEmpty());
        h.check("role form", "console-role-form");

        h.open(broker.url() + "/console/t/acme/consents");
        h.awaitUrl(broker.url() + "/console/t/acme/consents");
        assertEquals(3, h.all("tr[data-consent]").size());
        h.check("consents", "console-consents");
        h.find("#f-user").sendKeys("Zoë");
        h.find("form.filters button[type=submit]").click();
        h.await(d -> h.all("tr[data-consent]").size() == 2);
        h.all("tr[data-consent] a.btn").get(0).click();
        h.await(d -> !h.all("#confirm").isEmpty());
        h.check("consent revocation", "console-consent-revoke");

        h.open(broker.url() + "/console/t/acme/policy");
        h.awaitUrl(broker.url() + "/console/t/acme/policy");
        assertEquals(1, h.all("tr[data-rule]").size());
        h.check("delegation policy", "console-policy");
        WebElement text = h.find("#p-text");
        String tightened = text.getAttribute("value").replace("groups: [finance, treasury]", "groups: [treasury]");
        text.clear();
        text.sendKeys(tightened);
        h.find("#dry-run button[type=submit]").click();
        h.await(d -> !h.all("#result").isEmpty());
        assertTrue(h.text("#denied-now").startsWith("2 "), h.text("#denied-now"));
        assertEquals(2, h.all("#exchange-changes tr[data-seq]").size());
        assertTrue(!h.all("#exchange-changes a[href^='/console/t/acme/audit/']").isEmpty());
        h.check("dry-run result", "console-policy-dry-run");
        text = h.find("#p-text");
        text.sendKeys("\n    max_dept: 2\n");
        h.find("#dry-run button[type=submit]").click();
        h.await(d -> !h.all("#errors").isEmpty());
        assertTrue(h.text("#errors").contains("delegation.yml:"), h.text("#errors"));
        h.check("invalid policy", "console-policy-invalid");

        signIn("sécurité.auditor", List.of("Sicherheit & Prüfung"), "/console/t/acme/clients/show?id=dcr.jonathan-cli");
        assertTrue(h.all("#actions").isEmpty(), "an auditor sees no buttons");
        assertTrue(h.all("form[method=post]").isEmpty(), "and no form that changes anything");
        assertTrue(!h.all("#read-only").isEmpty());
        h.check("client (auditor)", "console-client-auditor");
        h.open(broker.url() + "/console/t/acme/policy");
        h.awaitUrl(broker.url() + "/console/t/acme/policy");
        assertTrue(h.all("#dry-run").isEmpty());
        h.axe("delegation policy (auditor)");
    }
}
