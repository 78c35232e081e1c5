package dev.deputy.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code deputy admin-credential …} ({@code /admin/credentials}, a super admin): scoped admin credentials for automation
 * (a CI pipeline that applies one tenant's tree, an auditor's export job). The secret is shown once, at creation.
 */
@Command(name = "admin-credential", description = "Scoped admin credentials for automation: list, create (a super admin only).")
final class AdminCredentialCommand extends Group {

    @Command(name = "list", description = "List the admin credentials (never their secrets).")
    int list() {
        Map<String, Object> r = api().get("/admin/credentials");
        out().emit(r, p -> Output.columns(p, Lists.maps(r.get("credentials")), "no admin credentials", "client_id", "role",
                "tenants", "privileged", "break_glass", "enabled", "created_at", "last_used_at"));
        return 0;
    }

    @Command(name = "create", description = {"Create a credential; its client_secret is printed once (store it now).",
            "Sign in with it: DEPUTY_ADMIN_CLIENT_ID / DEPUTY_ADMIN_CLIENT_SECRET."})
    int create(@Parameters(paramLabel = "CLIENT_ID", description = "3-64 of a-z 0-9 . _ - (not admin)") String clientId,
               @Option(names = "--role", paramLabel = "ROLE", required = true,
                       description = "super_admin, tenant_admin, auditor or agent_owner") String role,
               @Option(names = "--tenants", paramLabel = "TENANT", split = ",",
                       description = "the tenants it holds the role in (repeat, or comma-separated; * for every tenant); "
                               + "required for every role but super_admin") List<String> tenants,
               @Option(names = "--privileged", description = "may make privileged changes (revoke, rotate, break-glass) "
                       + "without a step-up") boolean privileged) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("client_id", clientId);
        body.put("role", role);
        Lists.put(body, "tenants", tenants);
        body.put("privileged", privileged);
        Map<String, Object> r = api().call("POST", "/admin/credentials", body);
        out().object(r, "created admin credential " + clientId + ": store the client_secret now (it is not shown again)");
        return 0;
    }
}
