package dev.deputy.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code deputy whoami} ({@code GET /admin/whoami}): who the CLI signs in as, its role grants, privileged or not. */
@Command(name = "whoami", description = "Who the CLI signs in as: the admin, its kind, its role grants and whether it may "
        + "make privileged changes now.")
final class WhoamiCommand implements Callable<Integer> {
    @ParentCommand
    Deputy root;

    @Override
    public Integer call() {
        AdminApi api = root.api();
        Map<String, Object> r = api.get("/admin/whoami");
        root.out().emit(r, p -> {
            List<String> grants = new ArrayList<>();
            for (Map<String, Object> g : Lists.maps(r.get("grants"))) {
                grants.add(g.get("role") + " " + String.join(",", Lists.strings(g.get("tenants"))));
            }
            p.printf("%-15s %s%n", "admin", r.get("admin"));
            p.printf("%-15s %s%n", "kind", r.get("kind"));
            p.printf("%-15s %s%n", "grants", grants.isEmpty() ? "none" : String.join("; ", grants));
            p.printf("%-15s %s%n", "privileged now", Output.cell(r.get("privileged_now")));
            p.printf("%-15s %s%n", "broker", api.base());
        });
        return ExitCodes.OK;
    }
}
