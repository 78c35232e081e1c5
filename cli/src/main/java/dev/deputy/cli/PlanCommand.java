package dev.deputy.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

import static dev.deputy.cli.AdminApi.seg;
import static dev.deputy.cli.AdminApi.str;

/**
 * {@code deputy plan [DIR]}: what {@code deputy apply DIR} would change, changing nothing. A plan that grants a
 * privileged role is submitted for a second admin's approval and exits 5 until another admin ran
 * {@code deputy plan approve <id>}; {@code plan list} and {@code plan show} show what waits.
 */
@Command(name = "plan", description = {"Show what apply would change (a dry run of apply; DIR default: "
        + "DEPUTY_CONFIG_DIR, else ./config).",
        "A plan that grants a privileged role is submitted for approval: exit 5 until a second admin approves it "
                + "(deputy plan approve <id>)."},
        subcommands = {PlanCommand.Approve.class, PlanCommand.ListPlans.class, PlanCommand.Show.class})
final class PlanCommand implements Callable<Integer> {
    @ParentCommand
    Deputy root;

    @Parameters(paramLabel = "DIR", arity = "0..1", description = "a config tree or a tenant folder")
    Path dir;

    @Override
    public Integer call() {
        Io io = root.io;
        AdminApi api = root.api();
        Path d = dir != null ? dir : Path.of(io.env().getOrDefault("DEPUTY_CONFIG_DIR", "config"));
        TreeFiles tree = TreeFiles.collect(d, api.tenant());
        io.progress("planning " + tree.files().size() + " files for tenant " + api.tenant() + " ...");
        AdminApi.Response r = api.send("POST", api.tenantPath("/apply?dry_run=true"), tree.body());
        Map<String, Object> body = r.json();
        if (!r.ok() && !body.containsKey("plan")) {
            return TreeFiles.refused(r, tree.tenantDir(), root);
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> approval = body.get("approval") instanceof Map<?, ?> m ? (Map<String, Object>) m : null;
        String status = approval == null ? null : str(approval.get("status"));
        root.out().emit(body, p -> {
            p.print(TreeFiles.colour(str(body.get("plan")).replace(tree.tenantDir().toString(), ""), io.color()));
            if (approval != null) {
                p.println("approval: " + status + (approval.get("approved_by") != null
                        ? " (by " + approval.get("approved_by") + ", until " + approval.get("expires_at") + ")"
                        : " (submitted by " + approval.get("requested_by") + ", expires " + approval.get("expires_at") + ")"));
            }
        });
        if (!r.ok()) {
            io.err().println("deputy: the plan cannot be applied: " + TreeFiles.firstProblem(body, tree.tenantDir())
                    + " (" + str(body.get("error")) + ", HTTP " + r.status() + ")");
            return ExitCodes.forStatus(r.status());
        }
        if (approval != null && !"approved".equals(status)) {
            io.err().println("deputy: plan " + body.get("plan_id") + " grants a privileged role and needs a second admin's "
                    + "approval: another admin runs deputy plan approve " + body.get("plan_id") + " (approval_required)");
            return ExitCodes.APPROVAL_REQUIRED;
        }
        return ExitCodes.OK;
    }

    @Command(name = "approve", description = "Approve a plan another admin submitted (it grants a privileged role).")
    static final class Approve implements Callable<Integer> {
        @ParentCommand
        PlanCommand plan;

        @Parameters(paramLabel = "PLAN_ID", description = "the id deputy plan printed")
        String id;

        @Override
        public Integer call() {
            Deputy root = plan.root;
            AdminApi api = root.api();
            Map<String, Object> shown = api.get(api.tenantPath("/plans/" + seg(id)));
            root.io.err().print(str(shown.get("plan")));
            root.io.confirm(root.yes, "approve plan " + id + " submitted by " + shown.get("requested_by"));
            root.out().object(api.call("POST", api.tenantPath("/plans/" + seg(id) + "/approve"), null),
                    "approved plan " + id);
            return ExitCodes.OK;
        }
    }

    @Command(name = "list", description = "List plans that wait for (or had) a second admin's approval.")
    static final class ListPlans implements Callable<Integer> {
        @ParentCommand
        PlanCommand plan;

        @Option(names = "--status", paramLabel = "STATUS", description = "pending, approved, applied or expired")
        String status;

        @Override
        public Integer call() {
            Deputy root = plan.root;
            AdminApi api = root.api();
            Map<String, Object> q = new LinkedHashMap<>();
            if (status != null) {
                q.put("status", status);
            }
            Map<String, Object> r = api.get(api.tenantPath("/plans" + AdminApi.query(q)));
            root.out().emit(r, p -> Output.columns(p, Lists.maps(r.get("plans")), "no plans", "plan_id", "status",
                    "requested_by", "approved_by", "expires_at", "privileged"));
            return ExitCodes.OK;
        }
    }

    @Command(name = "show", description = "Show a submitted plan and its approval.")
    static final class Show implements Callable<Integer> {
        @ParentCommand
        PlanCommand plan;

        @Parameters(paramLabel = "PLAN_ID")
        String id;

        @Override
        public Integer call() {
            AdminApi api = plan.root.api();
            plan.root.out().object(api.get(api.tenantPath("/plans/" + seg(id))), null);
            return ExitCodes.OK;
        }
    }

}
