package dev.deputy.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The files of one tenant folder as {@code POST /admin/t/<t>/apply} takes them, and the kinds they stand for. A
 * folder with a {@code tenant.yml} is the whole tenant: every kind is planned (a connector file removed is a
 * connector deleted). A folder without one holds agents, roles and resources only (as before issue 17): the
 * tenant's other files are left alone.
 */
record TreeFiles(Path tenantDir, Map<String, String> files, List<String> kinds) {
    static final List<String> POLICY = List.of("agents", "roles", "resources");
    static final List<String> FOLDERS = List.of("connectors", "clients", "policies", "trust");

    static TreeFiles collect(Path dir, String tenant) {
        Path tenantDir = Files.isDirectory(dir.resolve("tenants").resolve(tenant)) ? dir.resolve("tenants").resolve(tenant) : dir;
        if (!Files.isDirectory(tenantDir)) {
            throw CliException.usage(dir + " is not a directory");
        }
        boolean whole = Files.isRegularFile(tenantDir.resolve("tenant.yml"));
        List<String> kinds = new ArrayList<>(POLICY);
        List<String> folders = new ArrayList<>(POLICY);
        Map<String, String> files = new TreeMap<>();
        try {
            if (whole) {
                kinds.addAll(List.of("tenant", "registration"));
                kinds.addAll(FOLDERS);
                folders.addAll(FOLDERS);
                for (String f : List.of("tenant.yml", "registration.yml")) {
                    if (Files.isRegularFile(tenantDir.resolve(f))) {
                        files.put(f, Files.readString(tenantDir.resolve(f)));
                    }
                }
            }
            for (String folder : folders) {
                Path f = tenantDir.resolve(folder);
                if (!Files.isDirectory(f)) {
                    continue;
                }
                try (Stream<Path> s = Files.list(f)) {
                    for (Path p : s.filter(p -> Files.isRegularFile(p)
                            && (p.toString().endsWith(".yml") || p.toString().endsWith(".yaml"))).toList()) {
                        files.put(folder + "/" + p.getFileName(), Files.readString(p));
                    }
                }
            }
        } catch (IOException e) {
            throw CliException.failed("cannot read " + tenantDir + ": " + e.getMessage());
        }
        return new TreeFiles(tenantDir, files, List.copyOf(kinds));
    }

    Map<String, Object> body() {
        return Map.of("files", files, "kinds", kinds);
    }

    /**
     * A refused plan's problems ({@code errors: [{file, line, reason}]} of a 400 or 409), one {@code file:line: reason}
     * each, the file in the operator's own folder (the broker names it relative to the tenant folder) and the reason as
     * written (UTF-8 intact, unlike the ASCII-only error_description).
     */
    static List<String> problems(Map<String, Object> body, Path tenantDir) {
        List<String> out = new ArrayList<>();
        for (Map<String, Object> e : Lists.maps(body.get("errors"))) {
            Object file = e.get("file");
            String where = file == null ? tenantDir.toString() : tenantDir.resolve(String.valueOf(file)).toString();
            if (e.get("line") instanceof Number n && n.intValue() > 0) {
                where += ":" + n.intValue();
            }
            out.add(where + ": " + e.get("reason"));
        }
        return out;
    }

    /**
     * A refused plan (no plan in the answer): its problems on stdout ({@code -o json|yaml}: the answer as is), the
     * one-line error on stderr; answers the exit code. Other refusals become the usual error.
     */
    static int refused(AdminApi.Response r, Path tenantDir, Deputy root) {
        Map<String, Object> body = r.json();
        List<String> problems = problems(body, tenantDir);
        if (problems.isEmpty()) {
            throw AdminApi.error(r);
        }
        root.out().emit(body, p -> problems.forEach(p::println));
        root.io.err().println("deputy: " + problems.size() + (problems.size() == 1 ? " problem" : " problems")
                + " in the files of " + tenantDir + ": nothing planned (" + body.get("error") + ", HTTP " + r.status() + ")");
        return ExitCodes.forStatus(r.status());
    }

    /** The first problem of a refused plan as written, else the broker's error_description. */
    static String firstProblem(Map<String, Object> body, Path tenantDir) {
        List<String> problems = problems(body, tenantDir);
        return problems.isEmpty() ? AdminApi.str(body.get("error_description")) : problems.get(0);
    }

    /** The plan text; at a terminal, what revokes or deletes (and what blocks) in red, what needs approval in yellow. */
    static String colour(String plan, boolean colour) {
        if (!colour) {
            return plan;
        }
        StringBuilder sb = new StringBuilder();
        boolean privileged = false;
        for (String line : plan.split("\n", -1)) {
            if (line.startsWith("  privileged")) {
                privileged = true;
            } else if (line.startsWith("  ") && !line.startsWith("      ")) {
                privileged = false;
            }
            String c = line.startsWith("  - ") || line.startsWith("  ! ") ? "\u001b[31m"
                    : line.startsWith("  + ") ? "\u001b[32m" : privileged ? "\u001b[33m" : null;
            sb.append(c == null || line.isEmpty() ? line : c + line + "\u001b[0m").append('\n');
        }
        return sb.substring(0, sb.length() - 1);
    }
}
