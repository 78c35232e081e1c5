package dev.deputy.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.LinkedHashMap;
import java.util.Map;

import static dev.deputy.cli.AdminApi.seg;

/** {@code deputy user …}: humans linked on upstream login ({@code /admin/t/<t>/users}), read-only. */
@Command(name = "user", description = "Users (linked on upstream login): find by e-mail or upstream sub, list, show.")
final class UserCommand extends Group {

    @Command(name = "find", aliases = "list", description = "Find users by e-mail (case-insensitive) or upstream subject (exact); no filter lists all.")
    int find(@Option(names = "--email", paramLabel = "EMAIL") String email,
             @Option(names = "--sub", paramLabel = "SUB", description = "the upstream sub, byte for byte") String sub,
             @Option(names = "--iss", paramLabel = "ISSUER", description = "the upstream issuer") String iss,
             @Option(names = "--connector", paramLabel = "ID") String connector) {
        Map<String, Object> q = new LinkedHashMap<>();
        q.put("email", email);
        q.put("sub", sub);
        q.put("iss", iss);
        q.put("connector", connector);
        Map<String, Object> r = api().get(api().tenantPath("/users") + AdminApi.query(q));
        out().emit(r, p -> Output.columns(p, Lists.maps(r.get("users")), "no users", "id", "email", "connector",
                "upstream_sub", "status", "roles", "last_login_at"));
        return 0;
    }

    @Command(name = "show", description = "Show a user by internal id.")
    int show(@Parameters(paramLabel = "USER_ID") String id) {
        out().object(api().get(api().tenantPath("/users/" + seg(id))), null);
        return 0;
    }
}
