package dev.deputy.broker.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A tenant's agents, roles and resources as files: {@code agents/*.yml}, {@code roles/*.yml},
 * {@code resources/*.yml} under the tenant folder, one object per file, read strictly. Loading is
 * all-or-nothing: the first bad file stops it with path, line and reason.
 */
public record PolicyFiles(Path dir, List<Entry<AgentFile>> agents, List<Entry<RoleFile>> roles,
                          List<Entry<ResourceFile>> resources) {
    public static final List<String> FOLDERS = List.of("agents", "roles", "resources");
    /** Ids as the agent registry accepts them ({@code Agent.ID}, {@code Catalog.ROLE_NAME}, {@code Catalog.RESOURCE_ID}). */
    static final Pattern AGENT_ID = Pattern.compile("[a-z0-9][a-z0-9._-]{0,127}");
    static final Pattern ROLE_NAME = Pattern.compile("[a-z0-9][a-z0-9._:-]{0,127}");

    /** One file's object with its id (from the file, else the file name). */
    public record Entry<T>(Path file, String id, T value) {
    }

    public PolicyFiles {
        agents = List.copyOf(agents);
        roles = List.copyOf(roles);
        resources = List.copyOf(resources);
    }

    public static PolicyFiles load(Path tenantDir) {
        List<Entry<RoleFile>> roles = read(tenantDir.resolve("roles"), RoleFile.class, "name", RoleFile::name, ROLE_NAME);
        List<Entry<ResourceFile>> resources = read(tenantDir.resolve("resources"), ResourceFile.class, "id",
                ResourceFile::id, AGENT_ID);
        List<Entry<AgentFile>> agents = read(tenantDir.resolve("agents"), AgentFile.class, "id", AgentFile::id, AGENT_ID);
        Map<String, Path> uris = new HashMap<>();
        for (Entry<ResourceFile> r : resources) {
            String uri = r.value().uri().endsWith("/") ? r.value().uri().substring(0, r.value().uri().length() - 1)
                    : r.value().uri();
            Path other = uris.putIfAbsent(uri, r.file());
            if (other != null) {
                throw new ConfigException(r.file(), lineOf(r.file(), "uri"), "uri " + uri + " is also in " + other);
            }
        }
        return new PolicyFiles(tenantDir, agents, roles, resources);
    }

    /** Whether the folder holds any policy file at all. */
    public boolean isEmpty() {
        return agents.isEmpty() && roles.isEmpty() && resources.isEmpty();
    }

    private static <T> List<Entry<T>> read(Path dir, Class<T> type, String idKey,
                                           java.util.function.Function<T, String> idOf, Pattern idPattern) {
        List<Entry<T>> out = new ArrayList<>();
        Map<String, Path> seen = new HashMap<>();
        for (Path file : YamlFiles.list(dir)) {
            T value = readStrict(file, type);
            String given = idOf.apply(value);
            String id = given != null ? given : baseName(file);
            int line = given != null ? lineOf(file, idKey) : 0;
            if (!idPattern.matcher(id).matches()) {
                throw new ConfigException(file, line, (given != null ? idKey + " '" + id + "'"
                        : "the file name gives the " + idKey + " '" + id + "', which") + " must match " + idPattern.pattern());
            }
            Path other = seen.putIfAbsent(id, file);
            if (other != null) {
                throw new ConfigException(file, line, idKey + " '" + id + "' is already defined in " + other);
            }
            out.add(new Entry<>(file, id, value));
        }
        return out;
    }

    private static final Pattern UNKNOWN_KEY = Pattern.compile("^unknown key '([^']+)'");

    /**
     * {@link YamlFiles#read}, with the line of an unknown key corrected: Jackson reports where its parser
     * stopped (often the next line, or the end of the file), not where the key is.
     */
    static <T> T readStrict(Path file, Class<T> type) {
        try {
            return YamlFiles.read(file, type);
        } catch (ConfigException e) {
            String reason = PolicyApply.reason(e);
            java.util.regex.Matcher m = UNKNOWN_KEY.matcher(reason);
            if (m.find() && e.line() > 0) {
                int line = keyLineAtOrBefore(file, m.group(1), e.line());
                if (line > 0 && line != e.line()) {
                    throw new ConfigException(file, line, reason);
                }
            }
            throw e;
        }
    }

    private static int keyLineAtOrBefore(Path file, String key, int reported) {
        try {
            List<String> lines = Files.readAllLines(file);
            for (int i = Math.min(reported, lines.size()) - 1; i >= 0; i--) {
                String t = lines.get(i).trim();
                if (t.startsWith("- ")) {
                    t = t.substring(2).trim();
                }
                if (t.startsWith(key + ":") || t.startsWith("\"" + key + "\":") || t.startsWith("'" + key + "':")) {
                    return i + 1;
                }
            }
        } catch (IOException e) {
            return 0;
        }
        return 0;
    }

    static String baseName(Path file) {
        String n = file.getFileName().toString();
        return n.substring(0, n.lastIndexOf('.'));
    }

    /** The line where a top-level key starts (1-based), or 0. For reporting checks made after parsing. */
    public static int lineOf(Path file, String key) {
        try {
            List<String> lines = Files.readAllLines(file);
            for (int i = 0; i < lines.size(); i++) {
                if (lines.get(i).startsWith(key + ":")) {
                    return i + 1;
                }
            }
        } catch (IOException e) {
            return 0;
        }
        return 0;
    }
}
