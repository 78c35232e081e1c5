package dev.deputy.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import dev.deputy.policy.NearestName;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * {@code deputy validate}: checks a config tree offline. Each file against its kind's JSON Schema
 * ({@code config/schema/*.schema.json}, packaged in the jar), then the rules a schema cannot say (value relations,
 * ids from file names), then the cross-references inside each tenant (roles, agents, resources, connectors).
 * Every problem is reported with its file and line; nothing stops at the first.
 */
public final class ConfigCheck {

    /** One problem: {@code file:line: message} ({@code line} 0 when it is about the file or folder as a whole). */
    public record Problem(Path file, int line, String message) {
        @Override
        public String toString() {
            return file + (line > 0 ? ":" + line : "") + ": " + message;
        }
    }

    /** What was checked and what was found. */
    public record Result(Path dir, int files, List<Problem> problems) {
    }

    /** The kinds of file in the tree, each with its schema. */
    public enum Kind {
        BROKER("broker"), TENANT("tenant"), REGISTRATION("registration"), CONNECTOR("connector"), CLIENT("client"),
        POLICY("policy"), TRUST("trust"), AGENT("agent"), ROLE("role"), RESOURCE("resource");

        final String schema;

        Kind(String schema) {
            this.schema = schema;
        }
    }

    /** The per-tenant folders and the kind of their files. */
    static final Map<String, Kind> FOLDERS = new LinkedHashMap<>();

    static {
        FOLDERS.put("connectors", Kind.CONNECTOR);
        FOLDERS.put("agents", Kind.AGENT);
        FOLDERS.put("roles", Kind.ROLE);
        FOLDERS.put("resources", Kind.RESOURCE);
        FOLDERS.put("clients", Kind.CLIENT);
        FOLDERS.put("policies", Kind.POLICY);
        FOLDERS.put("trust", Kind.TRUST);
    }

    static final Pattern TENANT_ID = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
    static final Pattern AGENT_ID = Pattern.compile("[a-z0-9][a-z0-9._-]{0,127}");
    static final Pattern ROLE_NAME = Pattern.compile("[a-z0-9][a-z0-9._:-]{0,127}");
    static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,127}");
    private static final Set<String> PRIVATE_JWK_MEMBERS = Set.of("d", "p", "q", "dp", "dq", "qi", "k");
    private static final ObjectMapper JSON = new ObjectMapper();

    private static final Map<Kind, Schema> SCHEMAS = new EnumMap<>(Kind.class);
    private static final Map<Kind, JsonNode> SCHEMA_NODES = new EnumMap<>(Kind.class);

    /** The schema of a kind, as shipped ({@code /schema/<kind>.schema.json} in the jar). */
    static synchronized JsonNode schemaNode(Kind kind) {
        return SCHEMA_NODES.computeIfAbsent(kind, k -> {
            try (InputStream in = ConfigCheck.class.getResourceAsStream("/schema/" + k.schema + ".schema.json")) {
                if (in == null) {
                    throw new IllegalStateException("schema " + k.schema + ".schema.json is missing from the jar");
                }
                return JSON.readTree(in);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    static synchronized Schema schema(Kind kind) {
        return SCHEMAS.computeIfAbsent(kind, k -> SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12)
                .getSchema(schemaNode(k)));
    }

    // ------------------------------------------------------------------------------------------ one run

    private final Path dir;
    private final List<Problem> problems = new ArrayList<>();
    private int files;

    private ConfigCheck(Path dir) {
        this.dir = dir;
    }

    /** Checks the tree at {@code dir} (a config folder: broker.yml, tenants/…). */
    public static Result check(Path dir) {
        ConfigCheck c = new ConfigCheck(dir);
        c.tree();
        List<Problem> sorted = new ArrayList<>(c.problems);
        sorted.sort(Comparator.comparing((Problem p) -> p.file().toString()).thenComparingInt(Problem::line));
        return new Result(dir, c.files, List.copyOf(sorted));
    }

    /** Checks one file of a kind alone: its schema and its own rules, no cross-references (the agreement tests). */
    public static List<Problem> checkFile(Path file, Kind kind) {
        ConfigCheck c = new ConfigCheck(file.getParent());
        Doc d = c.read(file, kind);
        if (d != null && d.schemaValid) {
            c.rules(d, kind);
        }
        return List.copyOf(c.problems);
    }

    private void problem(Path file, int line, String message) {
        problems.add(new Problem(file, line, message));
    }

    /** A parsed file with its lines; {@code schemaValid} when the schema found nothing. */
    private record Doc(Path file, YamlDoc yaml, boolean schemaValid) {
        JsonNode root() {
            return yaml.root();
        }

        int line(String pointer) {
            return yaml.line(pointer);
        }
    }

    private void tree() {
        Path brokerYml = dir.resolve("broker.yml");
        Doc broker = Files.exists(brokerYml) ? read(brokerYml, Kind.BROKER) : null;
        if (broker != null && broker.schemaValid) {
            rules(broker, Kind.BROKER);
        }
        Path tenantsDir = dir.resolve("tenants");
        List<Path> tenants = entries(tenantsDir).stream().filter(Files::isDirectory).toList();
        if (tenants.isEmpty()) {
            problem(tenantsDir, 0, "no tenants: create tenants/<id>/tenant.yml");
        }
        for (Path t : tenants) {
            tenant(t);
        }
    }

    // ------------------------------------------------------------------------------------------ a tenant

    /** What a tenant's files define, for the cross-references. */
    private static final class Defined {
        final Map<String, Doc> roles = new LinkedHashMap<>();
        final Map<String, Doc> agents = new LinkedHashMap<>();
        final Map<String, Doc> resources = new LinkedHashMap<>();
        final Map<String, String> resourceUris = new LinkedHashMap<>();   // canonical URI → id
        final Map<String, Doc> connectors = new LinkedHashMap<>();
        final List<Doc> all = new ArrayList<>();
    }

    private void tenant(Path t) {
        String id = t.getFileName().toString();
        if (!TENANT_ID.matcher(id).matches()) {
            problem(t, 0, "tenant folder name '" + id + "' must match " + TENANT_ID.pattern()
                    + " (lower-case letters, digits and '-')");
        }
        Path tenantYml = t.resolve("tenant.yml");
        if (!Files.exists(tenantYml)) {
            problem(tenantYml, 0, "missing: every tenant folder needs a tenant.yml (display_name at least)");
        } else {
            Doc d = read(tenantYml, Kind.TENANT);
            if (d != null && d.schemaValid) {
                rules(d, Kind.TENANT);
            }
        }
        Path registration = t.resolve("registration.yml");
        if (Files.exists(registration)) {
            Doc d = read(registration, Kind.REGISTRATION);
            if (d != null && d.schemaValid) {
                rules(d, Kind.REGISTRATION);
            }
        }
        for (Path p : entries(t)) {
            String name = p.getFileName().toString();
            if (Files.isDirectory(p) && !FOLDERS.containsKey(name)) {
                problem(p, 0, "unknown folder '" + name + "'" + suggest(name, FOLDERS.keySet())
                        + ": its files would be ignored");
            } else if (Files.isRegularFile(p) && isYaml(p) && !name.equals("tenant.yml") && !name.equals("registration.yml")) {
                problem(p, 0, "unknown file '" + name + "'" + suggest(baseName(p), List.of("tenant", "registration"))
                        + ": a tenant folder holds tenant.yml, registration.yml and the folders "
                        + String.join(", ", FOLDERS.keySet()));
            }
        }
        Defined def = new Defined();
        Map<Kind, List<Doc>> byKind = new EnumMap<>(Kind.class);
        for (Map.Entry<String, Kind> folder : FOLDERS.entrySet()) {
            List<Doc> docs = new ArrayList<>();
            for (Path f : entries(t.resolve(folder.getKey()))) {
                if (!Files.isRegularFile(f) || !isYaml(f)) {
                    continue;
                }
                Doc d = read(f, folder.getValue());
                if (d == null) {
                    // unreadable (syntax, empty): it still stands for the id its file name gives, so that what refers
                    // to it is not reported a second time
                    d = new Doc(f, new YamlDoc(com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode(),
                            Map.of(), Map.of(), List.of()), false);
                }
                {
                    // a file with schema problems still defines its id (no second report where it is referenced);
                    // its own rules and references are checked once the schema problems are fixed
                    if (d.schemaValid) {
                        rules(d, folder.getValue());
                    }
                    docs.add(d);
                }
            }
            byKind.put(folder.getValue(), docs);
        }
        ids(byKind.get(Kind.ROLE), "name", ROLE_NAME, def.roles);
        ids(byKind.get(Kind.AGENT), "id", AGENT_ID, def.agents);
        ids(byKind.get(Kind.RESOURCE), "id", AGENT_ID, def.resources);
        resources(def);
        connectors(byKind.get(Kind.CONNECTOR), def);
        clients(byKind.get(Kind.CLIENT));
        trust(byKind.get(Kind.TRUST));
        agentRoles(def);
        policies(byKind.get(Kind.POLICY), def);
    }

    /** Ids from the file or the file name: valid and unique. */
    private void ids(List<Doc> docs, String key, Pattern pattern, Map<String, Doc> into) {
        for (Doc d : docs) {
            JsonNode given = d.root().get(key);
            String id = given != null && given.isTextual() ? given.asText() : baseName(d.file());
            if (given == null && !pattern.matcher(id).matches()) {
                problem(d.file(), 0, "the file name gives the " + key + " '" + id + "', which must match "
                        + pattern.pattern() + " (or set " + key + ": in the file)");
                continue;
            }
            Doc other = into.putIfAbsent(id, d);
            if (other != null) {
                problem(d.file(), given != null ? d.line("/" + key) : 0, key + " '" + id + "' is already defined in "
                        + other.file().getFileName());
            }
        }
    }

    private void resources(Defined def) {
        String defaultId = null;
        for (Map.Entry<String, Doc> e : def.resources.entrySet()) {
            Doc d = e.getValue();
            if (!d.schemaValid) {
                continue;
            }
            String uri = canonical(d.root().path("uri").asText());
            String other = def.resourceUris.putIfAbsent(uri, e.getKey());
            if (other != null) {
                problem(d.file(), d.line("/uri"), "uri " + uri + " is also the uri of resource '" + other + "'");
            }
            if (d.root().path("default").asBoolean(false)) {
                if (defaultId != null) {
                    problem(d.file(), d.line("/default"), "resource '" + defaultId
                            + "' is already the default: at most one resource per tenant has default: true");
                } else {
                    defaultId = e.getKey();
                }
            }
        }
    }

    private void connectors(List<Doc> docs, Defined def) {
        List<Doc> enabled = new ArrayList<>();
        List<Doc> defaults = new ArrayList<>();
        Map<String, String> domains = new HashMap<>();
        for (Doc d : docs) {
            String id = d.root().path("id").asText(baseName(d.file()));
            Doc other = def.connectors.putIfAbsent(id, d);
            if (other != null) {
                problem(d.file(), d.line("/id"), "connector id '" + id + "' is already used by " + other.file().getFileName());
            }
            if (!d.schemaValid) {
                continue;
            }
            boolean on = d.root().path("enabled").asBoolean(true);
            if (on) {
                enabled.add(d);
                if (d.root().path("default").asBoolean(false)) {
                    defaults.add(d);
                }
                for (String dom : strings(d.root().get("email_domains"))) {
                    String was = domains.putIfAbsent(dom.toLowerCase(Locale.ROOT), id);
                    if (was != null && !was.equals(id)) {
                        problem(d.file(), d.line("/email_domains"), "e-mail domain '" + dom + "' is claimed by connector '"
                                + was + "' too");
                    }
                }
            }
            JsonNode mapping = d.root().get("role_mapping");
            if (mapping != null && mapping.isObject()) {
                for (Iterator<Map.Entry<String, JsonNode>> it = mapping.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> m = it.next();
                    for (String role : strings(m.getValue())) {
                        if (!def.roles.containsKey(role)) {
                            problem(d.file(), d.line("/role_mapping/" + escape(m.getKey())), "role_mapping: group '"
                                    + m.getKey() + "' maps to role '" + role + "', which is not defined (no roles/"
                                    + role + ".yml)" + suggest(role, def.roles.keySet()));
                        }
                    }
                }
            }
        }
        if (defaults.size() > 1) {
            for (Doc d : defaults.subList(1, defaults.size())) {
                problem(d.file(), d.line("/default"), "connector '" + defaults.get(0).root().path("id").asText()
                        + "' is already the default: exactly one enabled connector per tenant has default: true");
            }
        } else if (defaults.isEmpty() && enabled.size() > 1) {
            problem(enabled.get(0).file().getParent(), 0, enabled.size() + " enabled connectors ("
                    + String.join(", ", enabled.stream().map(d -> d.root().path("id").asText()).toList())
                    + ") and none has default: true: mark exactly one as the tenant's default for home-realm discovery");
        }
    }

    private void clients(List<Doc> docs) {
        Map<String, Path> seen = new HashMap<>();
        for (Doc d : valid(docs)) {
            String id = d.root().path("client_id").asText();
            Path other = seen.putIfAbsent(id, d.file());
            if (other != null) {
                problem(d.file(), d.line("/client_id"), "duplicate client_id '" + id + "' (also in " + other.getFileName() + ")");
            }
        }
    }

    private void trust(List<Doc> docs) {
        Map<String, Path> seen = new HashMap<>();
        for (Doc d : valid(docs)) {
            String iss = d.root().path("issuer").asText();
            Path other = seen.putIfAbsent(iss, d.file());
            if (other != null) {
                problem(d.file(), d.line("/issuer"), "issuer " + iss + " is trusted twice (also in " + other.getFileName() + ")");
            }
        }
    }

    private void agentRoles(Defined def) {
        for (Doc d : valid(def.agents.values())) {
            JsonNode roles = d.root().get("roles");
            for (int i = 0; roles != null && i < roles.size(); i++) {
                String role = roles.get(i).asText();
                Doc r = def.roles.get(role);
                if (r == null) {
                    problem(d.file(), d.line("/roles/" + i), "role '" + role + "' is not defined (no roles/" + role + ".yml)"
                            + suggest(role, def.roles.keySet()));
                    continue;
                }
                JsonNode envs = r.schemaValid() ? r.root().get("environments") : null;
                String env = d.root().path("environment").asText();
                if (envs != null && !envs.isEmpty() && !strings(envs).contains(env)) {
                    problem(d.file(), d.line("/roles/" + i), "role '" + role + "' applies only in " + strings(envs)
                            + ", not in this agent's environment '" + env + "'");
                }
            }
        }
    }

    /**
     * The {@code tools:} sections of a tenant's policy files, compiled by the broker's own policy engine (module
     * policy-engine): conditions, globs, time windows, addresses, duplicate ids and a differing {@code default}
     * across files are reported as the broker would refuse them at start (the first problem; docs/governance.md).
     */
    private void toolRules(List<Doc> docs) {
        Map<String, String> texts = new java.util.LinkedHashMap<>();
        Map<String, Path> paths = new HashMap<>();
        for (Doc d : valid(docs)) {
            if (d.root() != null && d.root().has("tools")) {
                try {
                    texts.put(d.file().toString(), java.nio.file.Files.readString(d.file()));
                    paths.put(d.file().toString(), d.file());
                } catch (java.io.IOException e) {
                    problem(d.file(), 0, "cannot read: " + e.getMessage());
                }
            }
        }
        if (texts.isEmpty()) {
            return;
        }
        for (Map.Entry<String, String> t : texts.entrySet()) {
            try {
                dev.deputy.policy.PolicyReader.compile(Map.of(t.getKey(), t.getValue()));
            } catch (dev.deputy.policy.PolicyException e) {
                return; // reported with the file itself (toolRulesOf)
            }
        }
        try {
            dev.deputy.policy.PolicyReader.compile(texts);
        } catch (dev.deputy.policy.PolicyException e) {
            String prefix = e.file() + (e.line() > 0 ? ":" + e.line() : "") + ": ";
            String reason = e.getMessage().startsWith(prefix) ? e.getMessage().substring(prefix.length()) : e.getMessage();
            Path file = paths.getOrDefault(e.file(), valid(docs).get(0).file());
            problem(file, e.line(), reason);
        }
    }

    /** One file's {@code tools:} section, compiled alone: its first problem, with its line. */
    private void toolRulesOf(Path file) {
        try {
            dev.deputy.policy.PolicyReader.compile(Map.of(file.toString(), java.nio.file.Files.readString(file)));
        } catch (dev.deputy.policy.PolicyException e) {
            String prefix = e.file() + (e.line() > 0 ? ":" + e.line() : "") + ": ";
            problem(file, e.line(), e.getMessage().startsWith(prefix) ? e.getMessage().substring(prefix.length()) : e.getMessage());
        } catch (java.io.IOException e) {
            problem(file, 0, "cannot read: " + e.getMessage());
        }
    }

    private void policies(List<Doc> docs, Defined def) {
        toolRules(docs);
        Map<String, Path> ruleIds = new HashMap<>();
        Integer depth = null;
        Path depthFile = null;
        for (Doc d : valid(docs)) {
            JsonNode mcd = d.root().get("max_chain_depth");
            if (mcd != null && mcd.isIntegralNumber()) {
                if (depth != null && depth != mcd.asInt()) {
                    problem(d.file(), d.line("/max_chain_depth"), "max_chain_depth is " + depth + " in "
                            + depthFile.getFileName() + ": set it once, or the same in every policy file");
                } else {
                    depth = mcd.asInt();
                    depthFile = d.file();
                }
            }
            JsonNode rules = d.root().get("delegation");
            for (int i = 0; rules != null && i < rules.size(); i++) {
                JsonNode r = rules.get(i);
                String at = "/delegation/" + i;
                String rid = r.path("id").asText();
                Path other = ruleIds.putIfAbsent(rid, d.file());
                if (other != null && !other.equals(d.file())) {   // (twice in one file: reported with the file's rules)
                    problem(d.file(), d.line(at + "/id"), "duplicate rule id '" + rid + "'"
                            + (other.equals(d.file()) ? "" : " (also in " + other.getFileName() + ")"));
                }
                refs(d, r, at, "agents", def.agents.keySet(), "agent", "agents/%s.yml");
                refs(d, r, at, "agent_roles", def.roles.keySet(), "role", "roles/%s.yml");
                refs(d, r.path("users"), at + "/users", "roles", def.roles.keySet(), "role", "roles/%s.yml");
                refs(d, r.path("users"), at + "/users", "connectors", def.connectors.keySet(), "connector", "connectors/%s.yml");
                JsonNode res = r.get("resources");
                for (int j = 0; res != null && j < res.size(); j++) {
                    String uri = res.get(j).asText();
                    if (uri.equals("*") || def.resourceUris.containsKey(canonical(uri))) {
                        continue;
                    }
                    String hint = def.resources.containsKey(uri)
                            ? " (rules name a resource by its URI: " + def.resources.get(uri).root().path("uri").asText() + ")"
                            : suggest(uri, def.resourceUris.keySet());
                    problem(d.file(), d.line(at + "/resources/" + j), "rule '" + rid + "': resource " + uri
                            + " is not defined in resources/" + hint);
                }
            }
        }
    }

    private void refs(Doc d, JsonNode rule, String at, String key, Set<String> known, String what, String where) {
        JsonNode list = rule.get(key);
        for (int j = 0; list != null && j < list.size(); j++) {
            String v = list.get(j).asText();
            if (v.equals("*") || known.contains(v)) {
                continue;
            }
            problem(d.file(), d.line(at + "/" + key + "/" + j), key + ": " + what + " '" + v + "' is not defined (no "
                    + where.formatted(v) + ")" + suggest(v, known));
        }
    }

    // ------------------------------------------------------------------------------------------ one file

    /** Reads and schema-checks one file; null when it cannot be read or parsed (the problem is recorded). */
    private Doc read(Path file, Kind kind) {
        files++;
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(file))).toString();
        } catch (CharacterCodingException e) {
            problem(file, 0, "not UTF-8 text");
            return null;
        } catch (IOException e) {
            problem(file, 0, "cannot read: " + e.getMessage());
            return null;
        }
        YamlDoc yaml = YamlDoc.parse(text);
        for (YamlDoc.Issue i : yaml.syntax()) {
            problem(file, i.line(), i.message());
        }
        if (yaml.root() == null) {
            if (yaml.syntax().isEmpty()) {
                problem(file, 0, "the file is empty");
            }
            return null;
        }
        if (!yaml.root().isObject()) {
            problem(file, 1, "expected a mapping of keys (key: value), not " + kind(yaml.root()));
            return null;
        }
        int before = problems.size();
        List<Error> errors = schema(kind).validate(yaml.root());
        // a typo in a required key (dispaly_name) is one problem, the unknown key with its suggestion, not also a
        // missing required key
        Set<String> suggested = new java.util.HashSet<>();
        for (Error e : errors) {
            JsonNode sn = "additionalProperties".equals(e.getKeyword()) ? schemaAt(kind, e) : null;
            if (sn != null) {
                List<String> known = new ArrayList<>();
                sn.path("properties").fieldNames().forEachRemaining(known::add);
                String best = nearest(e.getProperty(), known);
                if (best != null) {
                    suggested.add(pointer(e.getInstanceLocation()) + "/" + escape(best));
                }
            }
        }
        Set<String> seen = new LinkedHashSet<>();
        for (Error e : errors) {
            if ("required".equals(e.getKeyword())
                    && suggested.contains(pointer(e.getInstanceLocation()) + "/" + escape(e.getProperty()))) {
                continue;
            }
            Problem p = describe(file, yaml, kind, e);
            if (p != null && seen.add(p.line() + "\u0000" + p.message())) {
                problems.add(p);
            }
        }
        return new Doc(file, yaml, problems.size() == before && yaml.syntax().isEmpty());
    }

    /** A schema error in plain words, at the line of its key. */
    private static Problem describe(Path file, YamlDoc yaml, Kind kind, Error e) {
        String at = pointer(e.getInstanceLocation());
        String key = dotted(at);
        String keyword = e.getKeyword() == null ? "" : e.getKeyword();
        JsonNode schemaNode = schemaAt(kind, e);
        JsonNode value = yaml.root().at(at);
        String hint = schemaNode != null && schemaNode.has("description") ? schemaNode.get("description").asText() : null;
        switch (keyword) {
            case "additionalProperties", "unevaluatedProperties" -> {
                String prop = e.getProperty();
                String child = at + "/" + escape(prop);
                Set<String> known = new LinkedHashSet<>();
                if (schemaNode != null) {
                    schemaNode.path("properties").fieldNames().forEachRemaining(known::add);
                }
                if (prop.equals("client_secret") && (kind == Kind.CONNECTOR || kind == Kind.CLIENT)) {
                    return new Problem(file, yaml.line(child), "do not put client_secret in a file: name the environment "
                            + "variable that holds it with client_secret_env (or set it through the admin API)");
                }
                String s = suggest(prop, known);
                return new Problem(file, yaml.line(child), "unknown key '" + (key.isEmpty() ? "" : key + ".") + prop + "'"
                        + (s.isEmpty() ? known.isEmpty() ? "" : " (known keys: " + String.join(", ", known) + ")" : s));
            }
            case "required" -> {
                String prop = e.getProperty();
                JsonNode ps = schemaNode == null ? null : schemaNode.path("properties").path(prop);
                String what = ps != null && ps.has("description") ? ": " + ps.get("description").asText() : "";
                return new Problem(file, yaml.start(at), "missing required key '" + (key.isEmpty() ? "" : key + ".")
                        + prop + "'" + what);
            }
            case "type" -> {
                return new Problem(file, yaml.line(at), "'" + key + "' must be " + types(schemaNode) + ", not " + kind(value));
            }
            case "enum" -> {
                List<String> allowed = new ArrayList<>();
                schemaNode.path("enum").forEach(v -> allowed.add(v.asText()));
                return new Problem(file, yaml.line(at), "'" + key + "' must be one of " + String.join(", ", allowed)
                        + ", not " + shown(value));
            }
            case "false" -> {
                if (PRIVATE_JWK_MEMBERS.contains(last(at))) {
                    return new Problem(file, yaml.line(at), "'" + dotted(parent(at)) + "' holds a private key (member '"
                            + last(at) + "'): give the public key only; the private part never leaves its owner");
                }
                return new Problem(file, yaml.line(at), "'" + key + "' is not allowed here");
            }
            case "minItems" -> {
                int min = schemaNode.path("minItems").asInt();
                return new Problem(file, yaml.line(at), "'" + key + "' " + (min <= 1 ? "must not be empty"
                        : "needs at least " + min + " entries") + (hint != null ? " (" + hint + ")" : ""));
            }
            case "maxItems" -> {
                return new Problem(file, yaml.line(at), "'" + key + "' has more than " + schemaNode.path("maxItems").asInt()
                        + " entries");
            }
            case "minLength" -> {
                return new Problem(file, yaml.line(at), "'" + key + "' must not be empty");
            }
            case "maxLength" -> {
                return new Problem(file, yaml.line(at), "'" + key + "' is longer than " + schemaNode.path("maxLength").asInt()
                        + " characters");
            }
            case "minimum", "maximum" -> {
                boolean rate = hint != null && hint.startsWith("a rate");
                if (rate) {
                    return new Problem(file, yaml.line(at), "'" + key + "': " + shown(value) + " is not valid (expected " + hint + ")");
                }
                JsonNode min = schemaNode.get("minimum");
                JsonNode max = schemaNode.get("maximum");
                String range = min != null && max != null ? "between " + min + " and " + max
                        : min != null ? "at least " + min : "at most " + max;
                return new Problem(file, yaml.line(at), "'" + key + "' must be " + range + ", not " + shown(value));
            }
            case "contains" -> {
                return new Problem(file, yaml.line(at), "'" + key + "' must include "
                        + schemaNode.path("contains").path("const").asText() + (hint != null ? " (" + hint + ")" : ""));
            }
            case "dependentRequired" -> {
                return new Problem(file, yaml.line(at + "/" + escape(e.getProperty())), "'" + (key.isEmpty() ? "" : key + ".")
                        + e.getProperty() + "' needs " + dependents(schemaNode, e.getProperty(), key));
            }
            case "oneOf" -> {
                List<String> one = new ArrayList<>();
                schemaNode.path("oneOf").forEach(b -> b.path("required").forEach(r -> one.add(r.asText())));
                return new Problem(file, yaml.start(at), "give exactly one of " + String.join(", ", one));
            }
            default -> {
                // pattern, const, not, format…: the schema's own description says what is expected
                if (hint != null) {
                    return new Problem(file, yaml.line(at), "'" + key + "': " + shown(value) + " is not valid (expected "
                            + hint + ")");
                }
                return new Problem(file, yaml.line(at), "'" + key + "': " + plain(e.getMessage()));
            }
        }
    }

    /** The schema object an error is about: the one holding the failed keyword. */
    private static JsonNode schemaAt(Kind kind, Error e) {
        if (e.getSchemaLocation() == null || e.getSchemaLocation().getFragment() == null) {
            return null;
        }
        String fragment = e.getSchemaLocation().getFragment().toString();
        if (fragment.startsWith("#")) {
            fragment = fragment.substring(1);
        }
        JsonNode root = schemaNode(kind);
        JsonNode at = root.at(fragment);
        String kw = e.getKeyword();
        // the location names the keyword (…/additionalProperties, …/pattern): its parent is the schema object
        if (kw != null && fragment.endsWith("/" + kw)) {
            return root.at(fragment.substring(0, fragment.length() - kw.length() - 1));
        }
        if ("false".equals(kw)) {
            return at;
        }
        return at.isMissingNode() ? null : at;
    }

    private static String dependents(JsonNode schemaNode, String prop, String key) {
        List<String> need = new ArrayList<>();
        schemaNode.path("dependentRequired").path(prop).forEach(n -> need.add("'" + (key.isEmpty() ? "" : key + ".") + n.asText() + "'"));
        return String.join(" and ", need);
    }

    private static String types(JsonNode schemaNode) {
        JsonNode t = schemaNode == null ? null : schemaNode.get("type");
        if (t == null) {
            return "something else";
        }
        List<String> out = new ArrayList<>();
        if (t.isArray()) {
            t.forEach(x -> out.add(typeWord(x.asText())));
        } else {
            out.add(typeWord(t.asText()));
        }
        String desc = schemaNode.has("description") ? " (" + schemaNode.get("description").asText() + ")" : "";
        return String.join(" or ", out) + desc;
    }

    private static String typeWord(String t) {
        return switch (t) {
            case "object" -> "a mapping (key: value)";
            case "array" -> "a list";
            case "string" -> "a string";
            case "integer" -> "a whole number";
            case "number" -> "a number";
            case "boolean" -> "true or false";
            default -> t;
        };
    }

    /** What a value is, in words (for "must be X, not Y"). */
    static String kind(JsonNode v) {
        if (v == null || v.isMissingNode() || v.isNull()) {
            return "empty";
        }
        if (v.isObject()) {
            return "a mapping";
        }
        if (v.isArray()) {
            return "a list";
        }
        if (v.isBoolean()) {
            return v.asText();
        }
        if (v.isNumber()) {
            return "the number " + v.asText();
        }
        return "the string " + shown(v);
    }

    private static String shown(JsonNode v) {
        if (v == null || v.isMissingNode() || v.isNull()) {
            return "empty";
        }
        if (v.isTextual()) {
            String s = v.asText().replaceAll("\\p{Cntrl}", "?");
            return "'" + (s.length() > 80 ? s.substring(0, 80) + "…" : s) + "'";
        }
        if (v.isContainerNode()) {
            return kind(v);
        }
        return v.asText();
    }

    /** A library message without its leading instance location ({@code /a/b: }). */
    private static String plain(String m) {
        if (m == null) {
            return "not valid";
        }
        int i = m.indexOf(": ");
        return m.startsWith("/") || m.startsWith("$") ? (i > 0 ? m.substring(i + 2) : m) : m;
    }

    private static String pointer(Object nodePath) {
        // NodePath prints as $.a.b[0] (or /a/b/0 in JSON-pointer mode): rebuild a JSON pointer from its parts
        if (!(nodePath instanceof com.networknt.schema.path.NodePath p)) {
            return "";
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < p.getNameCount(); i++) {
            Object el = p.getElement(i);
            sb.append('/').append(escape(String.valueOf(el)));
        }
        return sb.toString();
    }

    /** {@code /delegation/0/agents} → {@code delegation[0].agents}. */
    static String dotted(String pointer) {
        StringBuilder sb = new StringBuilder();
        for (String part : pointer.split("/")) {
            if (part.isEmpty()) {
                continue;
            }
            String k = part.replace("~1", "/").replace("~0", "~");
            if (k.chars().allMatch(Character::isDigit)) {
                sb.append('[').append(k).append(']');
            } else {
                if (!sb.isEmpty()) {
                    sb.append('.');
                }
                sb.append(k);
            }
        }
        return sb.toString();
    }

    private static String parent(String pointer) {
        return pointer.substring(0, Math.max(0, pointer.lastIndexOf('/')));
    }

    private static String last(String pointer) {
        return pointer.substring(pointer.lastIndexOf('/') + 1).replace("~1", "/").replace("~0", "~");
    }

    static String escape(String key) {
        return key.replace("~", "~0").replace("/", "~1");
    }

    // ------------------------------------------------------------------------------------------ rules a schema cannot say

    private void rules(Doc d, Kind kind) {
        JsonNode r = d.root();
        switch (kind) {
            case BROKER -> {
                JsonNode def = r.path("defaults");
                Duration ttl = duration(def, "access_token_ttl", Duration.ofMinutes(5));
                if (ttl.isZero() || ttl.compareTo(Duration.ofHours(24)) > 0) {
                    problem(d.file(), d.line("/defaults/access_token_ttl"), "defaults.access_token_ttl must be between 1s and 24h");
                }
                if (duration(def, "key_prepublish", Duration.ofDays(1))
                        .compareTo(duration(def, "key_rotation_period", Duration.ofDays(30))) >= 0) {
                    problem(d.file(), d.line("/defaults/key_prepublish"), "defaults.key_prepublish must be shorter than key_rotation_period");
                }
                Duration life = duration(r.path("private_key_jwt"), "max_lifetime", Duration.ofMinutes(5));
                if (life.isZero() || life.compareTo(Duration.ofHours(1)) > 0) {
                    problem(d.file(), d.line("/private_key_jwt/max_lifetime"), "private_key_jwt.max_lifetime must be between 1s and 1h");
                }
                Duration cert = duration(r.path("agent_ca"), "certificate_ttl", Duration.ofHours(24));
                if (cert.isZero() || cert.compareTo(duration(r.path("agent_ca"), "max_certificate_ttl", Duration.ofDays(30))) > 0) {
                    problem(d.file(), d.line("/agent_ca/certificate_ttl"), "agent_ca.certificate_ttl must be positive and at most max_certificate_ttl");
                }
                rate(d, "/rate_limits/admin_token_per_source");
            }
            case TENANT -> {
                for (String k : List.of("token_per_client", "tenant", "authorize_per_source", "failed_client_auth_per_source")) {
                    rate(d, "/rate_limits/" + k);
                }
                if (r.path("dormancy").has("period") && duration(r.path("dormancy"), "period", Duration.ofDays(90)).isZero()) {
                    problem(d.file(), d.line("/dormancy/period"), "dormancy.period must be positive");
                }
            }
            case REGISTRATION -> {
                for (String k : List.of("unused_expiry", "pending_expiry", "rate_window")) {
                    if (r.has(k) && duration(r, k, Duration.ofHours(1)).isZero()) {
                        problem(d.file(), d.line("/" + k), k + " must be positive");
                    }
                }
                Duration window = duration(r, "rate_window", Duration.ofHours(1));
                if (r.path("rate_per_source").asLong(30) > 0 && !window.isZero()
                        && (window.compareTo(Duration.ofDays(1)) > 0 || window.toMillis() % 1000 != 0)) {
                    problem(d.file(), d.line("/rate_window"), "rate_window must be whole seconds, from 1s to 1d");
                }
            }
            case CLIENT -> {
                String method = r.path("token_endpoint_auth_method").asText("none");
                if (!method.equals("none") && !r.hasNonNull("client_secret_env")) {
                    problem(d.file(), d.line("/token_endpoint_auth_method"), "client_secret_env is required for " + method
                            + ": name the environment variable that holds the secret");
                }
                if (method.equals("none") && r.has("client_secret_env")) {
                    problem(d.file(), d.line("/client_secret_env"), "a public client (token_endpoint_auth_method: none) has no "
                            + "secret: remove client_secret_env");
                }
                JsonNode uris = r.path("redirect_uris");
                for (int i = 0; i < uris.size(); i++) {
                    String why = redirectProblem(uris.get(i).asText());
                    if (why != null) {
                        problem(d.file(), d.line("/redirect_uris/" + i), "redirect_uris: '" + uris.get(i).asText() + "' " + why);
                    }
                }
            }
            case CONNECTOR -> connector(d);
            case POLICY -> {
                if (r.has("tools")) {
                    toolRulesOf(d.file()); // compiled as the broker compiles them (docs/governance.md)
                }
                JsonNode rules = r.path("delegation");
                Set<String> ids = new java.util.HashSet<>();
                for (int i = 0; i < rules.size(); i++) {
                    JsonNode rule = rules.get(i);
                    String at = "/delegation/" + i;
                    String id = rule.path("id").asText();
                    if (!ids.add(id)) {
                        problem(d.file(), d.line(at + "/id"), "duplicate rule id '" + id + "'");
                    }
                    if (rule.path("agents").isEmpty() && rule.path("agent_roles").isEmpty()) {
                        problem(d.file(), d.line(at + "/id"), "rule " + id + ": name the agents (or agent_roles) it applies to");
                    }
                    boolean deny = rule.path("effect").asText("allow").equalsIgnoreCase("deny");
                    if (!deny && !rule.has("users")) {
                        problem(d.file(), d.line(at + "/id"), "rule " + id + ": name the users it covers (users: {all: true} for everyone)");
                    }
                }
            }
            case TRUST -> {
                if (r.has("max_lifetime") && duration(r, "max_lifetime", Duration.ofMinutes(10)).isZero()) {
                    problem(d.file(), d.line("/max_lifetime"), "max_lifetime must be positive");
                }
            }
            case AGENT -> {
                String m = r.path("auth_method").asText();
                int creds = (r.has("jwks") ? 1 : 0) + (r.has("jwks_uri") ? 1 : 0) + (r.has("certificate") ? 1 : 0);
                String credKey = r.has("jwks") ? "/jwks" : r.has("jwks_uri") ? "/jwks_uri" : "/certificate";
                if (creds > 1) {
                    problem(d.file(), d.line(credKey), "give at most one of jwks, jwks_uri, certificate");
                } else if (m.equals("tls_client_auth") && creds > 0) {
                    problem(d.file(), d.line(credKey), "tls_client_auth agents get certificates from the tenant's agent CA "
                            + "(deputy agent cert); remove " + credKey.substring(1));
                } else if (m.equals("private_key_jwt") && r.has("certificate")) {
                    problem(d.file(), d.line("/certificate"), "private_key_jwt agents take jwks or jwks_uri, not a certificate");
                } else if (m.equals("self_signed_tls_client_auth") && (r.has("jwks") || r.has("jwks_uri"))) {
                    problem(d.file(), d.line(credKey), "self_signed_tls_client_auth agents take a certificate, not keys");
                }
                if (r.has("name") && r.path("name").asText().chars().anyMatch(Character::isISOControl)) {
                    problem(d.file(), d.line("/name"), "name must be printable characters");
                }
                if (r.has("owner") && r.path("owner").asText().chars().anyMatch(Character::isISOControl)) {
                    problem(d.file(), d.line("/owner"), "owner must be printable characters");
                }
                metadataNulls(d, r.path("metadata"), "/metadata");
            }
            case ROLE -> {
                if (r.has("description") && r.path("description").asText().chars().anyMatch(c -> c != '\n' && Character.isISOControl(c))) {
                    problem(d.file(), d.line("/description"), "description must be printable characters");
                }
            }
            case RESOURCE -> {
                String why = resourceUriProblem(r.path("uri").asText());
                if (why != null) {
                    problem(d.file(), d.line("/uri"), "uri '" + r.path("uri").asText() + "' " + why);
                }
                // ResourceFile: each scope_descriptions key is one of scopes
                java.util.Set<String> scopes = new java.util.HashSet<>();
                r.path("scopes").forEach(n -> scopes.add(n.asText()));
                r.path("scope_descriptions").fieldNames().forEachRemaining(k -> {
                    if (!scopes.contains(k)) {
                        problem(d.file(), d.line("/scope_descriptions/" + k.replace("~", "~0").replace("/", "~1")),
                                "scope_descriptions: " + k + " is not one of scopes");
                    }
                });
            }
        }
    }

    private void metadataNulls(Doc d, JsonNode m, String at) {
        for (Iterator<Map.Entry<String, JsonNode>> it = m.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getValue().isNull()) {
                problem(d.file(), d.line(at + "/" + escape(e.getKey())), "metadata." + e.getKey() + " is empty: give a value or remove it");
            }
        }
    }

    private void connector(Doc d) {
        JsonNode r = d.root();
        String id = r.path("id").asText();
        String type = r.path("type").asText().toLowerCase(Locale.ROOT);
        String auth = r.path("client_auth").asText("client_secret_basic").toLowerCase(Locale.ROOT);
        boolean enabled = r.path("enabled").asBoolean(true);
        if (auth.equals("private_key_jwt")) {
            String why = privateJwkProblem(r.get("private_jwk"));
            if (why != null) {
                problem(d.file(), r.has("private_jwk") ? d.line("/private_jwk") : d.line("/client_auth"), "private_jwk " + why);
            }
        } else if (enabled && !r.has("client_secret_env")) {
            problem(d.file(), d.line("/id"), "connector '" + id
                    + "' is enabled and needs client_secret_env: the name of the environment variable that holds the "
                    + "upstream client secret on the broker (or client_auth: private_key_jwt)");
        }
        JsonNode scopes = r.get("scopes");
        if (scopes != null && scopes.isTextual() && !List.of(scopes.asText().trim().split("\\s+")).contains("openid")) {
            problem(d.file(), d.line("/scopes"), "'scopes' must include openid");
        }
        JsonNode algs = r.get("allowed_algs");
        if (algs != null && algs.isTextual()) {
            for (String a : algs.asText().trim().split("\\s+")) {
                if (!a.isEmpty() && !Set.of("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512",
                        "EdDSA", "Ed25519").contains(a)) {
                    problem(d.file(), d.line("/allowed_algs"), "allowed_algs: '" + a + "' is not an allowed asymmetric algorithm");
                }
            }
        }
        String issuer = r.path("issuer").asText(null);
        int issLine = d.line("/issuer");
        switch (type) {
            case "entra" -> {
                String tenant = r.path("entra").path("tenant").asText(null);
                if (tenant == null) {
                    problem(d.file(), d.line("/entra"), "missing required key 'entra.tenant': a tenant GUID, or common / organizations / consumers");
                    return;
                }
                if (issuer != null && !issuer.endsWith("/" + tenant + "/v2.0")) {
                    problem(d.file(), issLine, "issuer must be the v2.0 issuer of tenant '" + tenant + "' (…/" + tenant + "/v2.0)");
                }
                boolean multi = Set.of("common", "organizations", "consumers").contains(tenant);
                List<String> allowed = strings(r.path("entra").get("allowed_tenants"));
                if (multi && allowed.isEmpty()) {
                    problem(d.file(), d.line("/entra/tenant"), "entra.allowed_tenants is required when tenant is '" + tenant + "' (multi-tenant)");
                }
                if (!multi && !allowed.isEmpty() && !allowed.equals(List.of(tenant))) {
                    problem(d.file(), d.line("/entra/allowed_tenants"), "entra.allowed_tenants: a single-tenant connector only admits its own tenant");
                }
                return;
            }
            default -> {
                if (issuer == null) {
                    problem(d.file(), d.yaml().start(""), "missing required key 'issuer': the IdP's exact issuer URL");
                    return;
                }
            }
        }
        URI iss;
        try {
            iss = new URI(issuer);
        } catch (Exception e) {
            problem(d.file(), issLine, "issuer is not a valid URL");
            return;
        }
        if (iss.getHost() == null) {
            problem(d.file(), issLine, "issuer must be an absolute URL");
            return;
        }
        switch (type) {
            case "auth0" -> {
                if (!issuer.endsWith("/")) {
                    problem(d.file(), issLine, "issuer must end with '/' as Auth0 issuers do (e.g. https://tenant.auth0.com/)");
                }
            }
            case "keycloak" -> {
                if (iss.getPath() == null || !iss.getPath().matches(".*/realms/[^/]+")) {
                    problem(d.file(), issLine, "issuer must be a realm issuer (https://host/realms/{realm})");
                }
            }
            case "okta" -> {
                boolean custom = iss.getPath() != null && iss.getPath().matches("/oauth2/[^/]+/?");
                String kindOf = r.path("okta").path("authorization_server").asText(null);
                if (kindOf != null && !kindOf.equals(custom ? "custom" : "org")) {
                    problem(d.file(), d.line("/okta/authorization_server"), "okta.authorization_server is '" + kindOf
                            + "' but the issuer is the " + (custom ? "custom" : "org") + " authorization server");
                }
            }
            default -> {
            }
        }
    }

    private static String privateJwkProblem(JsonNode v) {
        if (v == null) {
            return "is required for client_auth: private_key_jwt";
        }
        JsonNode jwk = v;
        if (v.isTextual()) {
            try {
                jwk = JSON.readTree(v.asText());
            } catch (IOException e) {
                return "is not a valid JWK";
            }
        }
        if (jwk == null || !jwk.isObject()) {
            return "is not a valid JWK";
        }
        String kty = jwk.path("kty").asText();
        if (!kty.equals("RSA") && !kty.equals("EC")) {
            return "must be an RSA or EC key";
        }
        if (!jwk.has("d")) {
            return "must contain the private key";
        }
        if (!jwk.has("kid")) {
            return "must have a kid";
        }
        return null;
    }

    /** OAuth 2.1 §2.3.1 / RFC 8252: absolute, no fragment; https, loopback http or a reverse-domain native scheme. */
    static String redirectProblem(String r) {
        URI u;
        try {
            u = new URI(r);
        } catch (Exception e) {
            return "is not a URI";
        }
        if (!u.isAbsolute() || u.getRawFragment() != null) {
            return "must be absolute and have no fragment";
        }
        String scheme = u.getScheme().toLowerCase(Locale.ROOT);
        String host = u.getHost();
        boolean loopback = "127.0.0.1".equals(host) || "[::1]".equals(host) || "localhost".equals(host);
        if (scheme.equals("http") && !loopback) {
            return "must use https (http only for loopback: 127.0.0.1, [::1], localhost)";
        }
        if (!scheme.equals("http") && !scheme.equals("https") && !scheme.contains(".")) {
            return "has a native app scheme that is not a reverse domain name (RFC 8252 §7.1, e.g. com.example.app:/cb)";
        }
        return null;
    }

    /** RFC 8707 §2: an absolute http(s) URL, no user info, no fragment; https except on loopback. */
    static String resourceUriProblem(String uri) {
        URI u;
        try {
            u = new URI(uri.trim());
        } catch (Exception e) {
            return "is not a valid URI";
        }
        String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
        if (!(scheme.equals("https") || scheme.equals("http")) || u.getHost() == null || u.getRawFragment() != null
                || u.getRawUserInfo() != null || uri.length() > 512) {
            return "must be an absolute https URL without user info or fragment (RFC 8707 §2)";
        }
        String h = u.getHost();
        if (scheme.equals("http") && !(h.equals("localhost") || h.equals("[::1]") || h.startsWith("127."))) {
            return "must use https (http only on loopback)";
        }
        return null;
    }

    static String canonical(String uri) {
        String u = uri.trim();
        return u.endsWith("/") ? u.substring(0, u.length() - 1) : u;
    }

    private void rate(Doc d, String pointer) {
        JsonNode v = d.root().at(pointer);
        if (!v.isTextual()) {
            return;
        }
        String t = v.asText().strip();
        if (t.equalsIgnoreCase("off") || t.equals("0")) {
            return;
        }
        int slash = t.indexOf('/');
        try {
            long n = Long.parseLong(t.substring(0, slash).strip());
            Duration p = parseDuration(t.substring(slash + 1).strip());
            if (n > 1_000_000_000L) {
                problem(d.file(), d.line(pointer), dotted(pointer) + ": the request count must be at most 1000000000");
            } else if (n > 0 && (p.compareTo(Duration.ofSeconds(1)) < 0 || p.compareTo(Duration.ofDays(1)) > 0
                    || p.toMillis() % 1000 != 0)) {
                problem(d.file(), d.line(pointer), dotted(pointer) + ": the period must be whole seconds, from 1s to 1d (e.g. 300/1m)");
            }
        } catch (RuntimeException e) {
            problem(d.file(), d.line(pointer), dotted(pointer) + ": '" + t + "' is not a rate such as 300/1m, or off");
        }
    }

    private static Duration duration(JsonNode parent, String key, Duration dflt) {
        JsonNode v = parent.get(key);
        if (v == null || !v.isTextual()) {
            return dflt;
        }
        try {
            return parseDuration(v.asText());
        } catch (RuntimeException e) {
            return dflt;
        }
    }

    /** The broker's durations: {@code 300s}, {@code 5m}, {@code 24h}, {@code 30d}, or ISO-8601. */
    static Duration parseDuration(String text) {
        String t = text.trim();
        if (t.startsWith("P") || t.startsWith("p")) {
            try {
                return Duration.parse(t);
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException("not a duration: '" + t + "'");
            }
        }
        long n = Long.parseLong(t.substring(0, t.length() - 1));
        return switch (t.charAt(t.length() - 1)) {
            case 's' -> Duration.ofSeconds(n);
            case 'm' -> Duration.ofMinutes(n);
            case 'h' -> Duration.ofHours(n);
            case 'd' -> Duration.ofDays(n);
            default -> throw new IllegalArgumentException("unknown duration unit in '" + t + "'");
        };
    }

    // ------------------------------------------------------------------------------------------ helpers

    private static List<Doc> valid(Collection<Doc> docs) {
        return docs.stream().filter(Doc::schemaValid).toList();
    }

    private static List<String> strings(JsonNode v) {
        if (v == null || v.isNull()) {
            return List.of();
        }
        if (v.isTextual()) {
            return List.of(v.asText().trim().split("\\s+")).stream().filter(s -> !s.isEmpty()).toList();
        }
        List<String> out = new ArrayList<>();
        v.forEach(x -> out.add(x.asText()));
        return out;
    }

    private static List<Path> entries(Path dir) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> !p.getFileName().toString().startsWith(".")).sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static boolean isYaml(Path p) {
        String n = p.getFileName().toString();
        return n.endsWith(".yml") || n.endsWith(".yaml");
    }

    private static String baseName(Path file) {
        String n = file.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot > 0 ? n.substring(0, dot) : n;
    }

    /** {@code " (did you mean 'x'?)"} for the nearest known name, else "" (the rule shared with the broker). */
    static String suggest(String given, Collection<String> known) {
        return NearestName.suggest(given, known);
    }

    /** The known name a typo most likely meant, or null ({@link NearestName}, as the broker's config messages). */
    static String nearest(String given, Collection<String> known) {
        return NearestName.nearest(given, known);
    }
}
