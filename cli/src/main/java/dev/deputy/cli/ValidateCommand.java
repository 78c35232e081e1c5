package dev.deputy.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code deputy validate [DIR]}: checks a config tree offline (no broker, no credentials, no network), for CI.
 * Prints one {@code file:line: reason} per problem; exit 1 when there is any, 0 when the tree is clean.
 */
@Command(name = "validate", description = {"Check a config tree offline: every file against its JSON Schema "
        + "(config/schema/), the rules between values, and the references between files (roles, agents, resources, "
        + "connectors). No broker, no credentials, no network: for CI.",
        "Prints one 'file:line: reason' per problem; exit 1 when there is any, 0 when the tree is clean."})
final class ValidateCommand implements Callable<Integer> {
    @picocli.CommandLine.ParentCommand
    Deputy root;

    @Parameters(paramLabel = "DIR", arity = "0..1",
            description = "the config tree (default: DEPUTY_CONFIG_DIR, else ./config)")
    Path dir;

    @Override
    public Integer call() {
        Io io = root.io;
        Path d = dir != null ? dir : Path.of(io.env().getOrDefault("DEPUTY_CONFIG_DIR", "config"));
        if (!Files.isDirectory(d)) {
            throw CliException.usage(d + " is not a directory (give the config tree: the folder holding broker.yml and tenants/)");
        }
        if (Files.isRegularFile(d.resolve("tenant.yml"))) {
            throw CliException.usage(d + " is a tenant folder: give the config tree that holds tenants/ (e.g. "
                    + (d.getParent() != null && d.getParent().getParent() != null ? d.getParent().getParent() : "config") + ")");
        }
        ConfigCheck.Result r = ConfigCheck.check(d);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("dir", d.toString());
        body.put("files", r.files());
        body.put("valid", r.problems().isEmpty());
        body.put("problems", r.problems().stream().map(p -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("file", p.file().toString());
            m.put("line", p.line() > 0 ? p.line() : null);
            m.put("message", p.message());
            return m;
        }).toList());
        root.out().emit(body, out -> {
            for (ConfigCheck.Problem p : r.problems()) {
                out.println(p);
            }
            if (r.problems().isEmpty()) {
                out.println(d + ": ok (" + r.files() + " files)");
            }
        });
        if (!r.problems().isEmpty()) {
            long files = r.problems().stream().map(ConfigCheck.Problem::file).distinct().count();
            io.err().println("deputy: " + r.problems().size() + " problem" + (r.problems().size() == 1 ? "" : "s")
                    + " in " + files + " file" + (files == 1 ? "" : "s") + " of " + d);
            return ExitCodes.FAILED;
        }
        return ExitCodes.OK;
    }
}
