package dev.deputy.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

import static dev.deputy.cli.AdminApi.str;

/**
 * {@code deputy apply [--dry-run] DIR}: policy as code. Sends the tenant's agents/, roles/ and resources/ files to
 * {@code POST /admin/t/<t>/apply}; prints the plan. A plan that revokes or deletes is shown first and asked
 * about ({@code --yes} for CI).
 */
@Command(name = "apply", description = "Apply a config tree (DIR/tenants/<tenant>/ or a tenant folder): agents/, roles/, resources/.")
final class ApplyCommand implements Callable<Integer> {
    @ParentCommand
    Deputy root;

    @Option(names = "--dry-run", description = "print the plan, change nothing")
    boolean dryRun;

    @Parameters(paramLabel = "DIR", description = "a config tree or a tenant folder")
    Path dir;

    @Override
    public Integer call() {
        Io io = root.io;
        AdminApi api = root.api();
        Path tenantDir = Files.isDirectory(dir.resolve("tenants").resolve(api.tenant())) ? dir.resolve("tenants").resolve(api.tenant()) : dir;
        if (!Files.isDirectory(tenantDir)) {
            throw CliException.usage(dir + " is not a directory");
        }
        Map<String, String> files = new TreeMap<>();
        for (String folder : List.of("agents", "roles", "resources")) {
            Path f = tenantDir.resolve(folder);
            if (!Files.isDirectory(f)) {
                continue;
            }
            try (Stream<Path> s = Files.list(f)) {
                for (Path p : s.filter(p -> Files.isRegularFile(p)
                        && (p.toString().endsWith(".yml") || p.toString().endsWith(".yaml"))).toList()) {
                    files.put(folder + "/" + p.getFileName(), Files.readString(p));
                }
            } catch (IOException e) {
                throw CliException.failed("cannot read " + f + ": " + e.getMessage());
            }
        }
        if (files.isEmpty()) {
            io.err().println("deputy: warning: no agents/, roles/ or resources/ files in " + tenantDir
                    + " (applying removes every config-managed object)");
        }
        io.progress("planning " + files.size() + " files for tenant " + api.tenant() + " ...");
        AdminApi.Response plan = api.send("POST", api.tenantPath("/apply?dry_run=true"), Map.of("files", files));
        if (dryRun || !plan.ok()) {
            return report(plan, true, tenantDir);
        }
        List<Map<String, Object>> destructive = Lists.maps(plan.json().get("changes")).stream()
                .filter(c -> "revoke".equals(c.get("action")) || "delete".equals(c.get("action"))).toList();
        if (!destructive.isEmpty()) {
            io.err().print(str(plan.json().get("plan")).replace(tenantDir.toString(), ""));
            io.confirm(root.yes, "apply a plan that revokes or deletes " + destructive.size() + " object"
                    + (destructive.size() == 1 ? "" : "s") + " ("
                    + String.join(", ", destructive.stream().map(c -> c.get("action") + " " + c.get("kind") + " " + c.get("id")).toList()) + ")");
        }
        io.progress("applying ...");
        return report(api.send("POST", api.tenantPath("/apply?dry_run=false"), Map.of("files", files)), false, tenantDir);
    }

    private int report(AdminApi.Response r, boolean dry, Path tenantDir) {
        Map<String, Object> body = r.json();
        if (!r.ok() && !body.containsKey("plan")) {
            throw AdminApi.error(r);
        }
        root.out().emit(body, p -> {
            p.print(str(body.get("plan")).replace(tenantDir.toString(), ""));
            if (r.ok()) {
                p.println(dry ? "dry run: nothing changed" : "applied");
            }
        });
        if (r.ok()) {
            return ExitCodes.OK;
        }
        root.io.err().println("deputy: the plan cannot be applied: " + str(body.get("error_description"))
                + " (" + str(body.get("error")) + ", HTTP " + r.status() + ")");
        return ExitCodes.forStatus(r.status());
    }
}
