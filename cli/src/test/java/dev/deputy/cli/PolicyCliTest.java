package dev.deputy.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code deputy policy test} and {@code explain}: offline, no broker (the CI use). */
class PolicyCliTest {
    record Run(int code, String out, String err) {
    }

    static Run cli(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        // a broker that is not there: offline commands must not need one
        int code = Deputy.run(args, new Io(Map.of("DEPUTY_DATA_DIR", "/nonexistent", "DEPUTY_URL", "http://127.0.0.1:9"),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8), null, false));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static final String POLICY = """
            tools:
              default: deny
              rules:
                - id: transfers-by-payment-agents
                  effect: permit
                  tools: [transfer_funds]
                  actors: {agents: ["payments.*"]}
                - id: large-transfers-need-approval
                  effect: require_approval
                  tools: [transfer_funds]
                  when: ["amount > 10000"]
            """;

    @Test
    void testRunsFixturesAndFailsWithAnExplanation(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("policies"));
        Files.writeString(dir.resolve("policies/tools.yml"), POLICY);
        Path fx = dir.resolve("bank.yml");
        Files.writeString(fx, """
                policies: policies
                cases:
                  - name: zoë's agent moves a small amount
                    input: {subject: {id: zoë}, actors: [payments.settlement.reconciler], tool: transfer_funds,
                            arguments: {amount: 20}}
                    expect: permit
                  - name: a large amount needs approval
                    input: {subject: {id: zoë}, actors: [payments.settlement.reconciler], tool: transfer_funds,
                            arguments: {amount: 20000}}
                    expect: {effect: require_approval, rule: large-transfers-need-approval}
                """);
        Run ok = cli("policy", "test", fx.toString());
        assertEquals(0, ok.code(), ok.out() + ok.err());
        assertTrue(ok.out().contains("2 case(s), 0 failed"), ok.out());

        Files.writeString(fx, Files.readString(fx).replace("expect: permit", "expect: deny"));
        Run failed = cli("policy", "test", fx.toString());
        assertEquals(1, failed.code(), failed.out());
        assertTrue(failed.out().contains("FAIL  " + fx + ": zoë's agent moves a small amount: expected deny, got permit (transfers-by-payment-agents)"),
                failed.out());
        assertTrue(failed.out().contains("* transfers-by-payment-agents [permit] matched"), failed.out());

        Run json = cli("policy", "test", fx.toString(), "-o", "json");
        assertTrue(json.out().contains("\"failed\" : 1") || json.out().contains("\"failed\":1"), json.out());

        Files.writeString(dir.resolve("policies/tools.yml"), POLICY.replace("amount > 10000", "amount >> 10000"));
        Run bad = cli("policy", "test", fx.toString());
        assertEquals(2, bad.code());
        assertTrue(bad.err().startsWith("deputy: ") && bad.err().contains("tools.yml:8: rule large-transfers-need-approval"), bad.err());
        assertFalse(bad.err().contains("Exception"), bad.err());
    }

    @Test
    void explainShowsEveryRuleAndInput(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("tools.yml"), POLICY);
        Path in = dir.resolve("in.json");
        Files.writeString(in, """
                {"subject": {"id": "jonathan.christopher.williams"}, "actors": [{"id": "zoë-agent"}],
                 "tool": "transfer_funds", "arguments": {"amount": 25000}}""");
        Run r = cli("policy", "explain", in.toString(), "--policies", dir.resolve("tools.yml").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("decision: require_approval (rule large-transfers-need-approval)"), r.out());
        assertTrue(r.out().contains("FAIL actors = [zoë-agent]  (expected some agent is payments.*)"), r.out());
        assertTrue(r.out().contains("ok   arguments.amount = 25000  (expected amount > 10000)"), r.out());
        Files.writeString(in, "{\"tool\": \"x\"}");
        Run bad = cli("policy", "explain", in.toString(), "--policies", dir.resolve("tools.yml").toString());
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("subject"), bad.err());
    }
}
