package dev.deputy.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import static dev.deputy.cli.AdminApi.str;

/**
 * {@code deputy apply [--dry-run] DIR}: policy as code. Sends the tenant folder's files to
 * {@code POST /admin/t/<t>/apply} (the whole tenant when the folder has a tenant.yml, else agents/, roles/ and
 * resources/ only); prints the plan. A plan that revokes or deletes is shown first and asked about ({@code --yes}
 * for CI); a plan that grants a privileged role applies only with a second admin's approval (exit 5 without).
 */
@Command(name = "apply", description = {"Apply a config tree (DIR/tenants/<tenant>/ or a tenant folder).",
        "With a tenant.yml the folder is the whole tenant: tenant.yml, registration.yml, connectors/, clients/, "
                + "policies/, trust/, agents/, roles/, resources/. Without one: agents/, roles/, resources/ only.",
        "Exit 5: the plan grants a privileged role and no second admin approved it (deputy plan approve)."})
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
        TreeFiles tree = TreeFiles.collect(dir, api.tenant());
        if (tree.files().isEmpty()) {
            io.err().println("deputy: warning: no agents/, roles/ or resources/ files in " + tree.tenantDir()
                    + " (applying removes every config-managed object)");
        }
        io.progress("planning " + tree.files().size() + " files for tenant " + api.tenant() + " ...");
        AdminApi.Response plan = api.send("POST", api.tenantPath("/apply?dry_run=true"), tree.body());
        if (dryRun || !plan.ok()) {
            return report(plan, true, tree.tenantDir());
        }
        List<Map<String, Object>> destructive = Lists.maps(plan.json().get("changes")).stream()
                .filter(c -> "revoke".equals(c.get("action")) || "delete".equals(c.get("action"))).toList();
        if (!destructive.isEmpty()) {
            io.err().print(TreeFiles.colour(str(plan.json().get("plan")).replace(tree.tenantDir().toString(), ""), io.color()));
            io.confirm(root.yes, "apply a plan that revokes or deletes " + destructive.size() + " object"
                    + (destructive.size() == 1 ? "" : "s") + " ("
                    + String.join(", ", destructive.stream().map(c -> c.get("action") + " " + c.get("kind") + " " + c.get("id")).toList()) + ")");
        }
        io.progress("applying ...");
        return report(api.send("POST", api.tenantPath("/apply?dry_run=false"), tree.body()), false, tree.tenantDir());
    }

    private int report(AdminApi.Response r, boolean dry, Path tenantDir) {
        Map<String, Object> body = r.json();
        if ("approval_required".equals(body.get("error"))) {
            root.io.err().println("deputy: " + str(body.get("error_description")) + " (approval_required, HTTP " + r.status() + ")");
            return ExitCodes.APPROVAL_REQUIRED;
        }
        if (!r.ok() && !body.containsKey("plan")) {
            return TreeFiles.refused(r, tenantDir, root);
        }
        root.out().emit(body, p -> {
            p.print(TreeFiles.colour(str(body.get("plan")).replace(tenantDir.toString(), ""), root.io.color()));
            if (r.ok()) {
                p.println(dry ? "dry run: nothing changed" : "applied");
            }
        });
        if (r.ok()) {
            return ExitCodes.OK;
        }
        root.io.err().println("deputy: the plan cannot be applied: " + TreeFiles.firstProblem(body, tenantDir)
                + " (" + str(body.get("error")) + ", HTTP " + r.status() + ")");
        return ExitCodes.forStatus(r.status());
    }
}
