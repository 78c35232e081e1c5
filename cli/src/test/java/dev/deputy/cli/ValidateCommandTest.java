package dev.deputy.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.deputy.cli.ConfigCheck.Kind;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code deputy validate} over whole trees, through the command line: a copy of the shipped config/ with one thing
 * broken per test, and the exact {@code file:line: reason} it must print. Offline: the environment names no broker
 * and no credentials (a command that tried the network would fail differently).
 */
class ValidateCommandTest {
    @TempDir
    Path tmp;
    Path config;
    Path demo;

    record Run(int code, String out, String err) {
        List<String> lines() {
            return out.lines().toList();
        }
    }

    static Run cli(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Deputy.run(args, new Io(Map.of("DEPUTY_DATA_DIR", "/nonexistent", "DEPUTY_URL", "http://127.0.0.1:9"),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8), null, false));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @BeforeEach
    void copyShippedConfig() throws IOException {
        config = tmp.resolve("config");
        Path shipped = Path.of("..", "config");
        try (Stream<Path> s = Files.walk(shipped)) {
            for (Path p : s.toList()) {
                Path to = config.resolve(shipped.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(to);
                } else {
                    Files.copy(p, to);
                }
            }
        }
        demo = config.resolve("tenants/demo");
    }

    private Run validate() {
        return cli("validate", config.toString());
    }

    /** The run fails (exit 1) and prints exactly {@code expected} (paths relative to the tree), one line each. */
    private void expect(String... expected) {
        Run r = validate();
        List<String> want = new ArrayList<>();
        for (String e : expected) {
            want.add(config + "/" + e);
        }
        assertEquals(want, r.lines(), r.err());
        assertEquals(1, r.code(), r.out() + r.err());
        assertTrue(r.err().startsWith("deputy: " + expected.length + " problem"), r.err());
    }

    private void write(String rel, String text) throws IOException {
        Path p = demo.resolve(rel);
        Files.createDirectories(p.getParent());
        Files.writeString(p, text);
    }

    @Test
    void theShippedTreeIsClean() {
        Run r = cli("validate", Path.of("..", "config").toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertEquals(List.of(Path.of("..", "config") + ": ok (10 files)"), r.lines());
        assertEquals("", r.err());
    }

    @Test
    void defaultDirIsDeputyConfigDir() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int code = Deputy.run(new String[]{"validate"}, new Io(Map.of("DEPUTY_CONFIG_DIR", config.toString()),
                new PrintStream(out, true, StandardCharsets.UTF_8), System.err, null, false));
        assertEquals(0, code);
        assertTrue(out.toString(StandardCharsets.UTF_8).startsWith(config + ": ok"), out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void unknownKeyWithTheNearestKnownOne() throws IOException {
        write("connectors/mock-idp.yml", Files.readString(demo.resolve("connectors/mock-idp.yml")).replace("role_mapping:", "rol_mapping:"));
        int line = lineOf(demo.resolve("connectors/mock-idp.yml"), "rol_mapping:");
        expect("tenants/demo/connectors/mock-idp.yml:" + line + ": unknown key 'rol_mapping' (did you mean 'role_mapping'?)");
    }

    @Test
    void typoInARequiredKeyIsOneProblemWithTheSuggestion() throws IOException {
        write("tenant.yml", "dispaly_name: Demo\n");
        write("agents/deploy-bot.yml", "environment: production\nauth_methd: tls_client_auth\n");
        expect("tenants/demo/agents/deploy-bot.yml:2: unknown key 'auth_methd' (did you mean 'auth_method'?)",
                "tenants/demo/tenant.yml:1: unknown key 'dispaly_name' (did you mean 'display_name'?)");
    }

    @Test
    void unknownNestedKeyNamesItsPath() throws IOException {
        write("tenant.yml", "display_name: Demo\nrate_limits:\n  tenant: 100/1s\n  token_per_clinet: 6000/1m\n");
        expect("tenants/demo/tenant.yml:4: unknown key 'rate_limits.token_per_clinet' (did you mean 'token_per_client'?)");
    }

    @Test
    void wrongType() throws IOException {
        write("agents/deploy-bot.yml", "environment: production\nauth_method: tls_client_auth\nroles: deploy-reader\n");
        expect("tenants/demo/agents/deploy-bot.yml:3: 'roles' must be a list (the roles the agent holds), not the string 'deploy-reader'");
    }

    @Test
    void missingRequiredKey() throws IOException {
        write("tenant.yml", "# the demo\nsigning_alg: ES256\naccess_token_ttl: 5m\n");
        expect("tenants/demo/tenant.yml:2: missing required key 'display_name': the tenant's human-readable name");
    }

    @Test
    void badYamlSyntaxWithFileAndLine() throws IOException {
        write("roles/deploy-reader.yml", "description: Read\nscopes:\n  - mcp:tool:deploy.read\n    bad: indent\n");
        Run r = validate();
        assertEquals(1, r.code());
        // the broken role still defines nothing else: only the syntax error is reported, not the agents that hold it
        assertEquals(1, r.lines().size(), r.out());
        assertTrue(r.lines().get(0).startsWith(config + "/tenants/demo/roles/deploy-reader.yml:4: YAML syntax: "), r.out());
        assertFalse(r.out().contains("Exception") || r.out().contains("snakeyaml"), r.out());
    }

    @Test
    void everyProblemIsReportedNotJustTheFirst() throws IOException {
        write("tenant.yml", "display_name: Demo\nsigning_alg: HS256\naccess_token_ttl: 5 minutes\ncolour: blue\n");
        write("roles/deploy-reader.yml", "scopes: []\n");
        expect("tenants/demo/roles/deploy-reader.yml:1: 'scopes' must not be empty (the scopes the role grants)",
                "tenants/demo/tenant.yml:2: 'signing_alg' must be one of ES256, RS256, EdDSA, not 'HS256'",
                "tenants/demo/tenant.yml:3: 'access_token_ttl': '5 minutes' is not valid (expected a duration such as 300s, 5m, 24h, 30d or PT5M)",
                "tenants/demo/tenant.yml:4: unknown key 'colour' (known keys: display_name, signing_alg, access_token_ttl, "
                        + "key_rotation_period, key_prepublish, client_assertion_audience, introspection, dormancy, rate_limits, branding, anomaly, "
                        + "approvals, tool_reports)");
    }

    /** A value quoted in a reason keeps its § and typographic quotes (UTF-8 out, whatever the locale). */
    @Test
    void aQuotedValueKeepsItsParagraphSignAndQuotes() throws IOException {
        write("tenant.yml", "display_name: \"Zoë's tenant\"\nsigning_alg: \"HS256 § “x”\"\n");
        write("roles/deploy-reader.yml", "description: \"Read § 4\"\nscopes: [mcp:tool:deploy.read]\nenvironments: [\"prod § “eu”\"]\n");
        Run r = validate();
        assertEquals(1, r.code(), r.out() + r.err());
        assertTrue(r.lines().contains(config + "/tenants/demo/tenant.yml:2: 'signing_alg' must be one of ES256, RS256, EdDSA, "
                + "not 'HS256 § “x”'"), r.out());
        assertTrue(r.lines().stream().anyMatch(l -> l.startsWith(config + "/tenants/demo/roles/deploy-reader.yml:3: ")
                && l.contains("'prod § “eu”'")), r.out());
    }

    @Test
    void danglingRoleInRoleMapping() throws IOException {
        write("connectors/mock-idp.yml", Files.readString(demo.resolve("connectors/mock-idp.yml"))
                .replace("demo-users: deploy-reader", "demo-users: [deploy-reader, developer]\n  admins: deploy-raeder"));
        Path f = demo.resolve("connectors/mock-idp.yml");
        expect("tenants/demo/connectors/mock-idp.yml:" + lineOf(f, "demo-users:") + ": role_mapping: group 'demo-users' maps to role "
                        + "'developer', which is not defined (no roles/developer.yml)",
                "tenants/demo/connectors/mock-idp.yml:" + lineOf(f, "admins:") + ": role_mapping: group 'admins' maps to role "
                        + "'deploy-raeder', which is not defined (no roles/deploy-raeder.yml) (did you mean 'deploy-reader'?)");
    }

    @Test
    void danglingAgentRole() throws IOException {
        write("agents/deploy-bot.yml", "environment: production\nauth_method: tls_client_auth\nroles:\n  - deploy-reader\n  - deployer\n");
        expect("tenants/demo/agents/deploy-bot.yml:5: role 'deployer' is not defined (no roles/deployer.yml)");
    }

    @Test
    void danglingAgentAndResourceInAPolicy() throws IOException {
        write("policies/delegation.yml", "delegation:\n  - id: r1\n    agents: [billing-bot, biling-bot]\n    users: {all: true}\n"
                + "    resources:\n      - https://mcp.example.com/deploy/\n      - https://mcp.example.com/billing\n      - deploy\n"
                + "    agent_roles: [ghost-role]\n");
        expect("tenants/demo/policies/delegation.yml:3: agents: agent 'biling-bot' is not defined (no agents/biling-bot.yml) "
                        + "(did you mean 'billing-bot'?)",
                "tenants/demo/policies/delegation.yml:7: rule 'r1': resource https://mcp.example.com/billing is not defined in resources/",
                "tenants/demo/policies/delegation.yml:8: rule 'r1': resource deploy is not defined in resources/ (rules name a "
                        + "resource by its URI: https://mcp.example.com/deploy)",
                "tenants/demo/policies/delegation.yml:9: agent_roles: role 'ghost-role' is not defined (no roles/ghost-role.yml)");
    }

    @Test
    void twoDefaultConnectors() throws IOException {
        write("connectors/mock-idp.yml", Files.readString(demo.resolve("connectors/mock-idp.yml")).replace("enabled: false", "enabled: true"));
        write("connectors/okta.yml", "id: okta\ntype: okta\nissuer: https://acme.okta.com/oauth2/default\nclient_id: deputy\n"
                + "client_secret_env: OKTA_CLIENT_SECRET\ndefault: true\n");
        expect("tenants/demo/connectors/okta.yml:6: connector 'mock-idp' is already the default: exactly one enabled connector "
                + "per tenant has default: true");
    }

    @Test
    void zeroDefaultConnectorsWhereOneIsNeeded() throws IOException {
        // one enabled connector needs no default (it is the only choice); two do
        write("connectors/okta.yml", "id: okta\ntype: okta\nissuer: https://acme.okta.com/oauth2/default\nclient_id: deputy\n"
                + "client_secret_env: OKTA_CLIENT_SECRET\n");
        assertEquals(0, validate().code(), validate().out());
        write("connectors/entra.yml", "id: entra\ntype: entra\nclient_id: 6731de76-14a6-49ae-97bc-6eba6914391e\n"
                + "client_secret_env: ENTRA_CLIENT_SECRET\nentra: {tenant: 72f988bf-86f1-41af-91ab-2d7cd011db47}\n");
        expect("tenants/demo/connectors: 2 enabled connectors (entra, okta) and none has default: true: mark exactly one as "
                + "the tenant's default for home-realm discovery");
    }

    @Test
    void inlineSecretAndMalformedVariableName() throws IOException {
        write("connectors/mock-idp.yml", Files.readString(demo.resolve("connectors/mock-idp.yml"))
                .replace("client_secret_env: DEMO_IDP_SECRET", "client_secret: s3cr3t-value"));
        write("clients/portal.yml", "client_id: portal\nredirect_uris: [https://portal.example.com/cb]\n"
                + "token_endpoint_auth_method: client_secret_basic\nclient_secret_env: \"s3cr3t value\"\n");
        Path f = demo.resolve("connectors/mock-idp.yml");
        Run r = validate();
        assertEquals(List.of(
                config + "/tenants/demo/clients/portal.yml:4: 'client_secret_env': 's3cr3t value' is not valid (expected the name of "
                        + "an environment variable (letters, digits and '_') that holds the secret on the broker)",
                config + "/tenants/demo/connectors/mock-idp.yml:" + lineOf(f, "client_secret:") + ": do not put client_secret in a "
                        + "file: name the environment variable that holds it with client_secret_env (or set it through the admin API)"),
                r.lines());
        assertEquals(1, r.code());
    }

    @Test
    void anEnabledConnectorMustNameItsSecretsVariableButNeedNotHaveItSet() throws IOException {
        // DEMO_IDP_SECRET is not set here: validate runs in CI, where the broker's secrets are not
        write("connectors/mock-idp.yml", Files.readString(demo.resolve("connectors/mock-idp.yml")).replace("enabled: false", "enabled: true"));
        assertEquals(0, validate().code(), validate().out());
        write("connectors/mock-idp.yml", Files.readString(demo.resolve("connectors/mock-idp.yml"))
                .replace("client_secret_env: DEMO_IDP_SECRET\n", ""));
        expect("tenants/demo/connectors/mock-idp.yml:" + lineOf(demo.resolve("connectors/mock-idp.yml"), "id:")
                + ": connector 'mock-idp' is enabled and needs client_secret_env: the name of the environment variable that "
                + "holds the upstream client secret on the broker (or client_auth: private_key_jwt)");
    }

    @Test
    void badResourceUriWithItsLine() throws IOException {
        write("resources/deploy.yml", "# the deploy server\nname: Deploy\nuri: http://mcp.example.com/deploy\n");
        expect("tenants/demo/resources/deploy.yml:3: uri 'http://mcp.example.com/deploy' must use https (http only on loopback)");
        write("resources/deploy.yml", "name: Deploy\nuri: \"https://mcp.example.com/deploy#tools\"\n");
        expect("tenants/demo/resources/deploy.yml:2: 'uri': 'https://mcp.example.com/deploy#tools' is not valid (expected an "
                + "absolute https URL without user info or fragment (RFC 8707 §2; http only on loopback))");
    }

    @Test
    void dottedAndUnicodeIdentifiersThatAreValidPass() throws IOException {
        write("roles/payments.settlement.reconciler.yml", "description: \"Zoë's § 4 “settlement” role\"\nscopes: [\"payments:settle\"]\n");
        write("agents/payments.settlement.reconciler.yml", "name: \"Zoë's reconciler — § 4\"\nowner: jonathan.christopher.williams@example.com\n"
                + "environment: production\nauth_method: tls_client_auth\nroles: [payments.settlement.reconciler]\n"
                + "metadata: {team: zoë-agent}\n");
        write("resources/ledger.yml", "id: ledger.mcp\nuri: https://ledger.example.com/mcp\nname: \"Grand-livre § 2\"\n");
        write("policies/payments.yml", "delegation:\n  - id: payments.settlement.reconciler\n    agents: [payments.settlement.reconciler]\n"
                + "    users: {groups: [zoë-team, \"Finance § 4\"]}\n    resources: [\"https://ledger.example.com/mcp\"]\n");
        write("connectors/mock-idp.yml", Files.readString(demo.resolve("connectors/mock-idp.yml"))
                .replace("demo-users: deploy-reader", "demo-users: deploy-reader\n  \"Zoë § Finance\": [payments.settlement.reconciler]"));
        Run r = validate();
        assertEquals(0, r.code(), r.out() + r.err());
        assertEquals(List.of(config + ": ok (14 files)"), r.lines());
    }

    @Test
    void aUnicodeAgentIdIsRefusedAsTheBrokerRefusesIt() throws IOException {
        write("agents/zoë-agent.yml", "environment: production\nauth_method: tls_client_auth\n");
        expect("tenants/demo/agents/zoë-agent.yml: the file name gives the id 'zoë-agent', which must match "
                + "[a-z0-9][a-z0-9._-]{0,127} (or set id: in the file)");
    }

    @Test
    void typoedFolderAndMissingTenantFile() throws IOException {
        Files.createDirectories(demo.resolve("agent"));
        Files.createDirectories(config.resolve("tenants/acme/roles"));
        expect("tenants/acme/tenant.yml: missing: every tenant folder needs a tenant.yml (display_name at least)",
                "tenants/demo/agent: unknown folder 'agent' (did you mean 'agents'?): its files would be ignored");
    }

    @Test
    void jsonOutputForMachines() throws IOException {
        write("tenant.yml", "display_name: Demo\ncolour: blue\n");
        Run r = cli("validate", "-o", "json", config.toString());
        assertEquals(1, r.code());
        JsonNode body = new ObjectMapper().readTree(r.out());
        assertFalse(body.path("valid").asBoolean(true));
        assertEquals(10, body.path("files").asInt());
        assertEquals(1, body.path("problems").size());
        JsonNode p = body.path("problems").get(0);
        assertEquals(config.resolve("tenants/demo/tenant.yml").toString(), p.path("file").asText());
        assertEquals(2, p.path("line").asInt());
        assertTrue(p.path("message").asText().startsWith("unknown key 'colour'"), p.toString());
        Run clean = cli("validate", "-o", "json", Path.of("..", "config").toString());
        assertEquals(0, clean.code());
        assertTrue(new ObjectMapper().readTree(clean.out()).path("valid").asBoolean());
    }

    @Test
    void usage() {
        Run help = cli("validate", "--help");
        assertEquals(0, help.code());
        assertTrue(help.out().startsWith("Usage: deputy validate") && help.out().contains("[DIR]"), help.out());
        Run unknown = cli("validate", "--strict", config.toString());
        assertEquals(2, unknown.code());
        assertTrue(unknown.err().startsWith("deputy: Unknown option: '--strict'"), unknown.err());
        Run extra = cli("validate", config.toString(), "more");
        assertEquals(2, extra.code());
        Run missing = cli("validate", tmp.resolve("nope").toString());
        assertEquals(2, missing.code());
        assertTrue(missing.err().startsWith("deputy: " + tmp.resolve("nope") + " is not a directory"), missing.err());
        Run tenantFolder = cli("validate", demo.toString());
        assertEquals(2, tenantFolder.code());
        assertTrue(tenantFolder.err().contains("is a tenant folder"), tenantFolder.err());
    }

    // ------------------------------------------------------------------------------------------ the docs' examples

    /** Each ```yaml block of the docs, by file and position, with the kind of file it shows (null: not a Deputy file). */
    static final Map<String, Kind> DOC_EXAMPLES = Map.ofEntries(
            Map.entry("config/README.md#1", Kind.BROKER),
            Map.entry("config/README.md#2", Kind.TENANT),
            Map.entry("config/README.md#3", Kind.TENANT),
            Map.entry("config/README.md#4", Kind.ROLE),
            Map.entry("config/README.md#5", Kind.TENANT),
            Map.entry("docs/console.md#1", Kind.TENANT),
            Map.entry("docs/console.md#2", Kind.RESOURCE),
            Map.entry("docs/agents-auth.md#1", Kind.BROKER),
            Map.entry("docs/agents.md#1", Kind.TENANT),
            Map.entry("docs/agents.md#2", Kind.ROLE),
            Map.entry("docs/agents.md#3", Kind.RESOURCE),
            Map.entry("docs/agents.md#4", Kind.AGENT),
            Map.entry("docs/connectors.md#1", Kind.CONNECTOR),
            Map.entry("docs/connectors.md#2", Kind.CONNECTOR),
            Map.entry("docs/connectors.md#3", Kind.CONNECTOR),
            Map.entry("docs/connectors.md#4", Kind.CONNECTOR),
            Map.entry("docs/connectors.md#5", Kind.CONNECTOR),
            Map.entry("docs/connectors.md#6", Kind.CLIENT),
            Map.entry("docs/delegation.md#1", Kind.CONNECTOR),
            Map.entry("docs/governance.md#4", Kind.TENANT),
            Map.entry("docs/governance.md#5", Kind.TENANT),
            Map.entry("docs/delegation.md#2", Kind.TRUST),
            Map.entry("docs/delegation.md#3", Kind.POLICY),
            Map.entry("docs/governance.md#1", Kind.POLICY),
            Map.entry("docs/mcp.md#1", Kind.CLIENT),
            Map.entry("docs/mcp.md#2", Kind.REGISTRATION),
            Map.entry("docs/security.md#1", Kind.TENANT));
    static final List<String> NOT_DEPUTY_FILES = List.of("docs/observability.md#1", "docs/observability.md#2", // Prometheus scrape configs
            "docs/governance.md#2", "docs/governance.md#3");   // a decision input and a policy fixture (deputy policy test)

    @Test
    void everyYamlExampleInTheDocsValidates() throws IOException {
        Path repo = Path.of("..");
        List<Path> docs = new ArrayList<>();
        docs.add(repo.resolve("README.md"));
        docs.add(repo.resolve("config/README.md"));
        try (Stream<Path> s = Files.list(repo.resolve("docs"))) {
            s.filter(p -> p.toString().endsWith(".md")).sorted(Comparator.naturalOrder()).forEach(docs::add);
        }
        Pattern block = Pattern.compile("```yaml\\n(.*?)```", Pattern.DOTALL);
        List<String> failures = new ArrayList<>();
        int checked = 0;
        for (Path doc : docs) {
            Matcher m = block.matcher(Files.readString(doc));
            int n = 0;
            while (m.find()) {
                String key = repo.relativize(doc).toString() + "#" + ++n;
                if (NOT_DEPUTY_FILES.contains(key)) {
                    continue;
                }
                Kind kind = DOC_EXAMPLES.get(key);
                if (kind == null) {
                    failures.add(key + ": a new YAML example: add it to DOC_EXAMPLES with its kind");
                    continue;
                }
                String yaml = m.group(1);
                // a tenant.yml excerpt (one section) stands for a whole file with its required display_name
                if (kind == Kind.TENANT && !yaml.contains("display_name:")) {
                    yaml = "display_name: Excerpt\n" + yaml;
                }
                Path f = Files.createDirectories(tmp.resolve("docs").resolve(key.replaceAll("[^a-z0-9]", "-"))).resolve("x.yml");
                Files.writeString(f, yaml);
                List<ConfigCheck.Problem> problems = ConfigCheck.checkFile(f, kind);
                if (!problems.isEmpty()) {
                    failures.add(key + " (" + kind + "): " + problems);
                }
                checked++;
            }
        }
        assertTrue(failures.isEmpty(), String.join("\n", failures));
        assertEquals(DOC_EXAMPLES.size(), checked);
    }

    private static int lineOf(Path file, String prefix) throws IOException {
        List<String> lines = Files.readAllLines(file);
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).strip().startsWith(prefix)) {
                return i + 1;
            }
        }
        throw new AssertionError(prefix + " not in " + file);
    }
}
