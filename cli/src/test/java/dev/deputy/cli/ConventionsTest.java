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
                "tenant show", "policy list", "policy show", "policy test", "policy explain", "policy dry-run", "whoami",
                "admin-credential list", "admin-credential create", "audit alarms")) {
            assertTrue(names.contains(c), c + " missing from " + names);
        }
    }

    /**
     * Every operation of the admin API's OpenAPI document (the broker's build output, on this module's test class path)
     * is reachable through a command, and every command named here exists: an operation added to the API without a
     * command, or a command renamed, fails here.
     */
    static final Map<String, String> COMMAND_OF_OPERATION = Map.ofEntries(
            Map.entry("issueAdminToken", ""), // every command signs in with it (AdminApi)
            Map.entry("whoami", "whoami"),
            Map.entry("listAdminCredentials", "admin-credential list"),
            Map.entry("createAdminCredential", "admin-credential create"),
            Map.entry("showBreakGlass", "break-glass status"),
            Map.entry("rotateBreakGlass", "break-glass rotate"),
            Map.entry("disableBreakGlass", "break-glass disable"),
            Map.entry("enableBreakGlass", "break-glass enable"),
            Map.entry("listTenants", "tenant list"),
            Map.entry("showTenant", "tenant show"),
            Map.entry("listAgents", "agent list"),
            Map.entry("createAgent", "agent create"),
            Map.entry("getAgent", "agent show"),
            Map.entry("updateAgent", "agent update"),
            Map.entry("suspendAgent", "agent suspend"),
            Map.entry("resumeAgent", "agent resume"),
            Map.entry("revokeAgent", "agent revoke"),
            Map.entry("rotateAgentCredential", "agent rotate"),
            Map.entry("addAgentCredential", "agent credential"),
            Map.entry("issueAgentCertificate", "agent cert"),
            Map.entry("agentLeastPrivilege", "agent least-privilege"),
            Map.entry("tenantLeastPrivilege", "agent least-privilege"),
            Map.entry("listRoles", "role list"),
            Map.entry("createRole", "role create"),
            Map.entry("getRole", "role show"),
            Map.entry("replaceRole", "role update"),
            Map.entry("deleteRole", "role remove"),
            Map.entry("listResources", "resource list"),
            Map.entry("createResource", "resource add"),
            Map.entry("getResource", "resource show"),
            Map.entry("replaceResource", "resource update"),
            Map.entry("deleteResource", "resource remove"),
            Map.entry("listConnectors", "connector list"),
            Map.entry("addConnector", "connector add"),
            Map.entry("getConnector", "connector show"),
            Map.entry("testConnector", "connector test"),
            Map.entry("enableConnector", "connector enable"),
            Map.entry("disableConnector", "connector disable"),
            Map.entry("removeConnector", "connector remove"),
            Map.entry("listClients", "client list"),
            Map.entry("createClient", "client create"),
            Map.entry("getClient", "client show"),
            Map.entry("updateClient", "client update"),
            Map.entry("deleteClient", "client remove"),
            Map.entry("listConsents", "consent list"),
            Map.entry("revokeConsent", "consent revoke"),
            Map.entry("listUsers", "user find"),
            Map.entry("getUser", "user show"),
            Map.entry("listSigningKeys", "key list"),
            Map.entry("rotateSigningKey", "key rotate"),
            Map.entry("applyPolicy", "apply"), // and plan (dry run)
            Map.entry("listPlans", "plan list"),
            Map.entry("showPlan", "plan show"),
            Map.entry("approvePlan", "plan approve"),
            Map.entry("listDelegationRules", "policy list"),
            Map.entry("showDelegationRule", "policy show"),
            Map.entry("dryRunToolPolicies", "policy dry-run"),
            Map.entry("queryAuditEntries", "audit query"),
            Map.entry("auditAlarms", "audit alarms"),
            Map.entry("verifyAudit", "audit verify"),
            Map.entry("auditWitness", "audit witness"),
            Map.entry("listAuditCheckpoints", "audit checkpoints"),
            Map.entry("createAuditCheckpoint", "audit checkpoint"),
            Map.entry("auditCheckpointKeys", "audit jwks"),
            Map.entry("exportAudit", "audit export"),
            Map.entry("streamAudit", "audit tail"),
            Map.entry("archiveAudit", "audit archive"),
            Map.entry("listAuditArchives", "audit archives"));

    @Test
    void everyAdminApiOperationHasACommand() throws Exception {
        com.fasterxml.jackson.databind.JsonNode doc;
        try (java.io.InputStream in = Thread.currentThread().getContextClassLoader()
                .getResourceAsStream("META-INF/swagger/deputy-admin-api.yml")) {
            assertTrue(in != null, "the broker's OpenAPI document is on the test class path");
            doc = new com.fasterxml.jackson.databind.ObjectMapper(new com.fasterxml.jackson.dataformat.yaml.YAMLFactory()).readTree(in);
        }
        java.util.Set<String> operations = new java.util.TreeSet<>();
        doc.path("paths").forEach(path -> path.forEach(op -> {
            if (op.has("operationId")) {
                operations.add(op.path("operationId").asText());
            }
        }));
        assertTrue(operations.size() > 50, operations.toString());
        java.util.Set<String> without = new java.util.TreeSet<>(operations);
        without.removeAll(COMMAND_OF_OPERATION.keySet());
        assertEquals(java.util.Set.of(), without, "admin API operations no command calls");
        java.util.Set<String> gone = new java.util.TreeSet<>(COMMAND_OF_OPERATION.keySet());
        gone.removeAll(operations);
        assertEquals(java.util.Set.of(), gone, "operations named here that the API no longer has");
        List<String> commands = paths().stream().map(p -> String.join(" ", p)).toList();
        for (String c : COMMAND_OF_OPERATION.values()) {
            assertTrue(c.isEmpty() || commands.contains(c), "no command '" + c + "'");
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

    /**
     * The completion script, loaded the way docs/cli.md says, in a real shell: it defines the completion of
     * {@code deputy} and completes a subcommand ({@code deputy agent ke} → keygen) and an option.
     */
    @Test
    void completionScriptWorksInBash(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        java.nio.file.Path script = java.nio.file.Files.writeString(tmp.resolve("deputy.bash"), cli("completion", "bash").out());
        String out = shell("bash", "--norc", "--noprofile", "-c", "source '" + script + "' || exit 3; complete -p deputy || exit 4; "
                + COMPLETE + "echo \"$agent|$opt\"");
        assertTrue(out.contains("-F _complete_deputy"), out);
        assertTrue(out.strip().endsWith("keygen|--output"), out);
    }

    /** zsh runs the same script through bashcompinit: docs/cli.md's line, in a zsh without any user configuration. */
    @Test
    void completionScriptWorksInZsh(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.isExecutable(java.nio.file.Path.of("/usr/bin/zsh")),
                "zsh is not installed (apt-get install zsh)");
        java.nio.file.Path script = java.nio.file.Files.writeString(tmp.resolve("deputy.zsh"), cli("completion", "zsh").out());
        // docs/cli.md's line as it stands (the script itself runs compinit when zsh has not yet)
        String out = shell("zsh", "-f", "-c", "autoload -U +X bashcompinit && bashcompinit && source '" + script + "' || exit 3; "
                + "(( ${+_comps[deputy]} )) || exit 4; "
                + "print -r -- \"registered: ${_comps[deputy]}\"; setopt ksharrays; " + COMPLETE + "print -r -- \"$agent|$opt\"");
        assertTrue(out.contains("registered: _bash_complete -F _complete_deputy"), out);
        // the candidates of the context: agent's subcommands, agent list's options (zsh's compadd then matches them
        // against what was typed, so bashcompinit's compgen leaves them unfiltered)
        String[] lists = out.strip().lines().reduce((a, b) -> b).orElse("").split("\\|");
        List<String> agent = List.of(lists[0].split(" "));
        List<String> options = List.of(lists[1].split(" "));
        assertTrue(agent.contains("keygen") && agent.contains("revoke") && !agent.contains("audit"), out);
        assertTrue(options.contains("--output") && options.contains("--dormant") && !options.contains("keygen"), out);
    }

    /** Completes {@code deputy agent ke} and {@code deputy agent list --outp} with the script's function (bash's variables). */
    static final String COMPLETE = "COMP_WORDS=(deputy agent ke); COMP_CWORD=2; COMP_LINE='deputy agent ke'; COMP_POINT=15; "
            + "COMPREPLY=(); _complete_deputy; agent=\"${COMPREPLY[*]}\"; "
            + "COMP_WORDS=(deputy agent list --outp); COMP_CWORD=3; COMP_LINE='deputy agent list --outp'; COMP_POINT=24; "
            + "COMPREPLY=(); _complete_deputy; opt=\"${COMPREPLY[*]}\"; ";

    static String shell(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "the shell ended");
        assertEquals(0, p.exitValue(), String.join(" ", command) + ":\n" + out);
        return out;
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
