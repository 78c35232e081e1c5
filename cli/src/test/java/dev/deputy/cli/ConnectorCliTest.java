package dev.deputy.cli;

import dev.deputy.broker.federation.FedFixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code deputy connector …} against a broker with a real upstream OIDC server (mock-oauth2-server through the
 * broker's FedFixture): add from a file (secret from the environment or stdin, never printed), list, show, the
 * {@code test} report (OK and FAILED with exit 1), enable/disable, remove with confirmation, refusals.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConnectorCliTest {
    FedFixture fx;
    Path dir;
    Map<String, String> env;

    record Run(int code, String out, String err) {
    }

    Run cliIn(String stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Deputy.run(args, new Io(env, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8),
                stdin == null ? null : new BufferedReader(new StringReader(stdin)), false));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    Run cli(String... args) {
        return cliIn(null, args);
    }

    @BeforeAll
    void start() throws Exception {
        dir = Files.createTempDirectory("deputy-connector-cli");
        fx = new FedFixture(dir);
        env = new HashMap<>(Map.of("DEPUTY_DATA_DIR", dir.resolve("data").toString(), "DEPUTY_URL", fx.url(),
                "DEPUTY_TENANT", FedFixture.TENANT, "CLI_UPSTREAM_SECRET", "upstream-s3cret"));
    }

    @AfterAll
    void stop() {
        fx.close();
    }

    @Test
    void addListShowTestToggleRemove() throws Exception {
        Path file = Files.writeString(dir.resolve("cli-connector.yml"), """
                id: cli-idp
                type: oidc
                issuer: %s
                client_id: deputy
                client_secret_env: CLI_UPSTREAM_SECRET
                email_domains: [cli.example]
                """.formatted(fx.issuer("cli")));
        Run add = cli("connector", "add", "-f", file.toString());
        assertEquals(0, add.code(), add.err());
        assertTrue(add.out().contains("connector cli-idp added"), add.out());
        Run list = cli("connector", "list");
        assertTrue(list.out().contains("cli-idp") && list.out().contains("okta"), list.out());
        Run show = cli("connector", "show", "cli-idp");
        assertTrue(show.out().contains("issuer") && !show.out().startsWith("---"), show.out());
        Run test = cli("connector", "test", "cli-idp");
        assertEquals(0, test.code(), test.out() + test.err());
        assertTrue(test.out().contains("connector cli-idp: OK") && test.out().contains("discovery"), test.out());
        Run json = cli("connector", "test", "cli-idp", "-o", "json");
        assertEquals(true, AdminApi.JSON.readValue(json.out(), Map.class).get("ok"));
        for (Run r : new Run[]{add, list, show, test, json}) {
            assertFalse(r.out().contains("upstream-s3cret") || r.err().contains("upstream-s3cret"), "never the secret");
        }
        assertEquals(0, cli("connector", "disable", "cli-idp").code());
        assertEquals(0, cli("connector", "enable", "cli-idp").code());

        Run refused = cli("connector", "remove", "okta", "--yes");
        assertTrue(refused.err().contains("managed_by_config"), refused.err());
        Matcher m = Pattern.compile("HTTP (\\d{3})\\)").matcher(refused.err());
        assertTrue(m.find(), refused.err());
        assertEquals(ExitCodes.forStatus(Integer.parseInt(m.group(1))), refused.code(), refused.err());
        assertEquals(2, cli("connector", "remove", "cli-idp").code(), "no terminal, no --yes");
        assertEquals(0, cli("connector", "remove", "cli-idp", "--yes").code());
        assertEquals(3, cli("connector", "show", "cli-idp").code());
        assertEquals(2, cli("connector", "frobnicate").code());
    }

    @Test
    void brokenConnectorReportsAndExitsOne() throws Exception {
        Path file = Files.writeString(dir.resolve("broken.yml"), """
                id: broken-idp
                type: oidc
                issuer: http://127.0.0.1:9/nothing-here
                client_id: deputy
                """);
        Run add = cliIn("s3cret-from-stdin\n", "connector", "add", "-f", file.toString(), "--client-secret-stdin");
        assertEquals(0, add.code(), add.err());
        Run broken = cli("connector", "test", "broken-idp");
        assertEquals(1, broken.code());
        assertTrue(broken.out().contains("FAIL") && broken.out().contains("discovery")
                && broken.out().contains("connector broken-idp: FAILED"), broken.out());
        assertFalse(broken.out().contains("s3cret-from-stdin"));
        assertEquals(0, cli("connector", "remove", "broken-idp", "-y").code());
        // a secret in the file is refused before anything is sent
        Path leaky = Files.writeString(dir.resolve("leaky.yml"), "id: leaky\ntype: oidc\nissuer: https://x.example\nclient_id: d\nclient_secret: s\n");
        Run r = cli("connector", "add", "-f", leaky.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("do not put client_secret in a file"), r.err());
        assertEquals(2, cli("connector", "add", "-f", dir.resolve("missing.yml").toString()).code());
    }
}
