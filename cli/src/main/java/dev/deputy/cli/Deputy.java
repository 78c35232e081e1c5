package dev.deputy.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Properties;

/**
 * {@code deputy}: the command line over the broker's admin API. Root of the picocli command tree; each command
 * group is one class ({@link AgentCommand}, {@link AuditCommand}, …). The options here are inherited by every
 * subcommand, so {@code deputy agent list -o json} and {@code deputy -o json agent list} are the same.
 */
@Command(name = "deputy", scope = ScopeType.INHERIT, mixinStandardHelpOptions = true, versionProvider = Deputy.Version.class,
        sortOptions = false, usageHelpAutoWidth = true,
        description = {"The command line over the Deputy broker's admin API.", "",
                "URL: --url, else DEPUTY_URL, else the url in the credentials file, else http://localhost:8080.",
                "Admin credentials: DEPUTY_ADMIN_CLIENT_ID / DEPUTY_ADMIN_CLIENT_SECRET, else "
                        + "<DEPUTY_DATA_DIR or ./data>/admin-credentials.json.",
                "Tenant: --tenant, else DEPUTY_TENANT, else demo."},
        subcommands = {AgentCommand.class, RoleCommand.class, ResourceCommand.class, ConnectorCommand.class,
                ClientCommand.class, ConsentCommand.class, UserCommand.class, KeyCommand.class, AuditCommand.class,
                ApplyCommand.class, PlanCommand.class, ValidateCommand.class, TenantCommand.class, PolicyCommand.class,
                BreakGlassCommand.class, AdminCredentialCommand.class, WhoamiCommand.class, CompletionCommand.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:ok", "1:failed (the broker refused, a check or verification failed, or it is unreachable)",
                "2:usage (unknown command or option, missing or extra argument, no --yes without a terminal)",
                "3:not found", "4:conflict",
                "5:approval required (a plan grants a privileged role and no second admin approved it)"})
public final class Deputy implements Runnable {
    @Spec
    CommandSpec spec;

    @Option(names = "--url", paramLabel = "URL", scope = ScopeType.INHERIT, description = "the broker's base URL")
    String url;

    @Option(names = "--tenant", paramLabel = "TENANT", scope = ScopeType.INHERIT, description = "the tenant (default: demo)")
    String tenant;

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", scope = ScopeType.INHERIT,
            description = "table (default), json or yaml")
    Output.Format output;

    @Option(names = "--json", scope = ScopeType.INHERIT, description = "same as -o json")
    boolean json;

    @Option(names = {"-y", "--yes"}, scope = ScopeType.INHERIT,
            description = "answer yes to confirmations (revoke, remove, an apply that revokes or deletes); for CI")
    boolean yes;

    Io io;
    private AdminApi api;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "missing command");
    }

    /** The admin API client, signed in on first use. */
    AdminApi api() {
        if (api == null) {
            api = AdminApi.connect(io.env(), url, tenant);
        }
        return api;
    }

    /** The tenant without connecting (offline commands). */
    String tenantName() {
        return tenant != null ? tenant : io.env().getOrDefault("DEPUTY_TENANT", "demo");
    }

    Output out() {
        return new Output(output != null ? output : json ? Output.Format.json : Output.Format.table, io.out());
    }

    public static void main(String[] args) {
        // the schema validator (deputy validate) logs through SLF4J; the CLI has no logger and wants no warning about it
        if (System.getProperty("slf4j.provider") == null) {
            System.setProperty("slf4j.provider", "org.slf4j.helpers.NOP_FallbackServiceProvider");
            System.setProperty("slf4j.internal.verbosity", "ERROR");
        }
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        // UTF-8 out and err whatever the locale: names, reasons and file contents keep their § and ë
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
        PrintStream err = new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8);
        System.exit(run(args, new Io(System.getenv(), out, err, in, System.console() != null)));
    }

    /** Runs one command line; answers the exit code. Tests call this with their own {@link Io}. */
    public static int run(String[] args, Io io) {
        return commandLine(io).execute(args);
    }

    /** The whole command tree, wired to {@code io} (also used to generate completion scripts). */
    public static CommandLine commandLine(Io io) {
        Deputy root = new Deputy();
        root.io = io;
        CommandLine cl = new CommandLine(root);
        cl.setOut(new PrintWriter(io.out(), true, StandardCharsets.UTF_8));
        cl.setErr(new PrintWriter(io.err(), true, StandardCharsets.UTF_8));
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setParameterExceptionHandler(Deputy::usageError);
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            if (ex instanceof CliException c) {
                io.err().println("deputy: " + c.getMessage());
                return c.code();
            }
            if (ex instanceof ParameterException p) {
                return usageError(p, new String[0]);
            }
            io.err().println("deputy: " + (ex.getMessage() == null ? "failed" : ex.getMessage()));
            return ExitCodes.FAILED;
        });
        return cl;
    }

    private static int usageError(ParameterException ex, String[] args) {
        CommandLine cmd = ex.getCommandLine();
        PrintWriter err = cmd.getErr();
        err.println("deputy: " + ex.getMessage());
        err.println("run '" + cmd.getCommandSpec().qualifiedName() + " --help' for usage");
        err.flush();
        return ExitCodes.USAGE;
    }

    /** {@code --version}: the build's version. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            Properties p = new Properties();
            try (InputStream in = Deputy.class.getResourceAsStream("/deputy-cli.properties")) {
                if (in != null) {
                    p.load(in);
                }
            } catch (IOException ignored) {
                // unknown version
            }
            return new String[]{"deputy " + p.getProperty("version", "unknown") + " (Java " + Runtime.version() + ")"};
        }
    }

}
