package dev.deputy.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The conventions, checked on every command of picocli's tree (so a command added later is covered): --help exits 0
 * with its usage on stdout, an unknown option and an extra argument exit 2 with the one error format on stderr,
 * and every command offers -o. No broker is needed: all of it fails (or helps) before a request is made.
 */
class ConventionsTest {
    record Run(int code, String out, String err) {
    }

    static Run cli(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        // no credentials anywhere: a test that reached the network would fail with exit 1, not 0 or 2
        int code = Deputy.run(args, new Io(Map.of("DEPUTY_DATA_DIR", "/nonexistent", "DEPUTY_URL", "http://127.0.0.1:9"),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8), null, false));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** Every command path below the root: [agent], [agent, create], … */
    static List<List<String>> paths() {
        List<List<String>> out = new ArrayList<>();
        walk(Deputy.commandLine(new Io(Map.of(), System.out, System.err, null, false)), new ArrayList<>(), out);
        return out;
    }

    private static void walk(CommandLine cl, List<String> prefix, List<List<String>> out) {
        for (Map.Entry<String, CommandLine> e : cl.getSubcommands().entrySet()) {
            if (!e.getValue().getCommandName().equals(e.getKey())) {
                continue; // an alias
            }
            List<String> path = new ArrayList<>(prefix);
            path.add(e.getKey());
            out.add(path);
            walk(e.getValue(), path, out);
        }
    }

    static CommandSpec spec(List<String> path) {
        CommandLine cl = Deputy.commandLine(new Io(Map.of(), System.out, System.err, null, false));
        for (String p : path) {
            cl = cl.getSubcommands().get(p);
        }
        return cl.getCommandSpec();
    }

    /** The minimal valid arguments of a leaf: one value per positional, each required option with a value. */
    static List<String> validArgs(CommandSpec spec) {
        List<String> args = new ArrayList<>();
        for (OptionSpec o : spec.options()) {
            if (o.required()) {
                args.add(o.longestName());
                args.add(o.type().isEnum() ? String.valueOf(o.type().getEnumConstants()[0]) : "x.yml");
            }
        }
        for (PositionalParamSpec p : spec.positionalParameters()) {
            if (p.arity().max() > 0) { // optional ones too (plan [DIR], tenant show [TENANT]): else the surplus fills them
                args.add(p.type().isEnum() ? String.valueOf(p.type().getEnumConstants()[0]) : "a b.c-ü");
            }
        }
        return args;
    }

    @Test
    void treeCoversTheAdminApi() {
        List<String> names = paths().stream().map(p -> String.join(" ", p)).toList();
        for (String c : List.of("agent create", "agent list", "agent show", "agent update", "agent cert", "agent rotate",
                "agent credential", "agent keygen", "agent least-privilege", "agent suspend", "agent resume", "agent revoke", "role create",
                "role update", "role list", "role show", "role remove", "resource add", "resource update", "resource list",
                "resource show", "resource remove", "connector add", "connector list", "connector show", "connector test",
                "connector enable", "connector disable", "connector remove", "client create", "client update", "client list",
                "client show", "client remove", "consent list", "consent revoke", "audit verify", "audit query",
                "audit export", "audit tail", "audit checkpoint", "audit checkpoints", "audit jwks", "audit archive",
                "audit archives", "audit witness", "audit verify-file", "apply", "validate", "completion", "user find",
                "user show", "key list", "key rotate", "break-glass status", "break-glass rotate", "break-glass disable",
                "break-glass enable", "plan", "plan approve", "plan list", "plan show", "tenant list",
                "tenant show", "policy list", "policy show", "policy test", "policy explain", "policy dry-run")) {
            assertTrue(names.contains(c), c + " missing from " + names);
        }
    }

    @Test
    void helpOnEveryCommandExitsZero() {
        assertEquals(0, cli("--help").code());
        assertTrue(cli("--help").out().contains("Exit codes:"));
        for (List<String> path : paths()) {
            List<String> args = new ArrayList<>(path);
            args.add("--help");
            Run r = cli(args.toArray(String[]::new));
            assertEquals(0, r.code(), path + ": " + r.err());
            assertTrue(r.out().startsWith("Usage: deputy " + String.join(" ", path)), path + ": " + r.out());
            assertTrue(r.out().contains("-o, --output=FORMAT"), path + " lacks -o: " + r.out());
            assertTrue(r.err().isEmpty(), r.err());
            args.set(args.size() - 1, "-h");
            assertEquals(0, cli(args.toArray(String[]::new)).code(), path + " -h");
        }
    }

    @Test
    void unknownOptionOnEveryCommandExitsTwo() {
        for (List<String> path : paths()) {
            List<String> args = new ArrayList<>(path);
            args.addAll(validArgs(spec(path)));
            args.add("--colour=red");
            Run r = cli(args.toArray(String[]::new));
            assertEquals(2, r.code(), path + ": " + r.out() + r.err());
            assertTrue(r.err().startsWith("deputy: ") && r.err().contains("--colour"), path + ": " + r.err());
            assertFalse(r.err().contains("Exception"), r.err());
        }
    }

    @Test
    void extraArgumentOnEveryCommandExitsTwo() {
        for (List<String> path : paths()) {
            CommandSpec spec = spec(path);
            List<String> args = new ArrayList<>(path);
            args.addAll(validArgs(spec));
            args.add("sürplus arg");
            Run r = cli(args.toArray(String[]::new));
            assertEquals(2, r.code(), path + ": " + r.out() + r.err());
            assertTrue(r.err().startsWith("deputy: ") && r.err().contains("sürplus arg"), path + ": " + r.err());
        }
    }

    @Test
    void usageErrors() {
        Run r = cli();
        assertEquals(2, r.code());
        assertTrue(r.err().contains("missing command"), r.err());
        r = cli("agent");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("missing command: one of") && r.err().contains("create"), r.err());
        assertEquals(2, cli("frobnicate").code());
        assertEquals(2, cli("agent", "frobnicate", "x").code());
        assertEquals(2, cli("agent", "show").code(), "missing argument");
        assertEquals(2, cli("agent", "list", "-o", "xml").code(), "unknown format");
        assertEquals(2, cli("audit", "export", "--format", "csv").code());
        assertEquals(2, cli("audit", "archive").code());
        assertEquals(2, cli("agent", "keygen", "k", "--alg", "HS256", "--out", "/nonexistent-dir").code());
    }

    @Test
    void brokerUnreachableIsFailedNotAStackTrace() {
        Run r = cliWith(Map.of("DEPUTY_URL", "http://127.0.0.1:9", "DEPUTY_ADMIN_CLIENT_ID", "a", "DEPUTY_ADMIN_CLIENT_SECRET", "b"),
                "agent", "list");
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("deputy: cannot reach the broker at http://127.0.0.1:9"), r.err());
        assertFalse(r.err().contains("java."), r.err());
    }

    static Run cliWith(Map<String, String> env, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Deputy.run(args, new Io(env, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), null, false));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void versionAndCompletion() {
        Run r = cli("--version");
        assertEquals(0, r.code());
        assertTrue(r.out().startsWith("deputy 0."), r.out());
        r = cli("completion", "bash");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("complete -F") && r.out().contains("keygen") && r.out().contains("verify-file"), r.out());
        assertEquals(0, cli("completion", "zsh").code());
        assertEquals(2, cli("completion", "fish").code());
    }
}
