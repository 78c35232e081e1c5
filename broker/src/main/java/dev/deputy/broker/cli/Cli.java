package dev.deputy.broker.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * {@code deputy}: the command line over the admin API. Plain Java (java.net.http + Jackson + BouncyCastle for
 * CSRs), no Micronaut context. Exit codes: 0 ok, 1 error (the broker refused, or it is unreachable), 2 usage.
 * Never prints a secret or a token; the only private material it writes is the key file {@code agent cert} makes.
 */
public final class Cli {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    static final Set<String> FLAGS = Set.of("json", "dormant", "default", "dry-run", "help", "rotate");
    static final Set<String> OPTIONS = Set.of("url", "tenant", "name", "env", "owner", "role", "auth-method", "jwks",
            "jwks-uri", "cert", "metadata", "status", "reason", "out", "ttl", "overlap", "key-type", "scope",
            "description", "id", "environment");

    private final Map<String, String> env;
    private final PrintStream out;
    private final PrintStream err;

    Cli(Map<String, String> env, PrintStream out, PrintStream err) {
        this.env = env;
        this.out = out;
        this.err = err;
    }

    public static void main(String[] args) {
        System.exit(run(args, System.getenv(), System.out, System.err));
    }

    /** Runs one command; returns the exit code. */
    public static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
        return new Cli(env, out, err).run(args);
    }

    static final class Usage extends RuntimeException {
        Usage(String m) {
            super(m);
        }
    }

    static final class Failed extends RuntimeException {
        Failed(String m) {
            super(m);
        }
    }

    /** Positional words and options ({@code --x v}, {@code --x=v}, repeatable; flags take no value). */
    record Args(List<String> words, Map<String, List<String>> opts) {
        String opt(String name) {
            List<String> v = opts.get(name);
            return v == null || v.isEmpty() ? null : v.get(v.size() - 1);
        }

        List<String> all(String name) {
            return opts.getOrDefault(name, List.of());
        }

        boolean flag(String name) {
            return opts.containsKey(name);
        }

        String word(int i, String what) {
            if (words.size() <= i) {
                throw new Usage("missing " + what);
            }
            return words.get(i);
        }

        static Args parse(String[] argv) {
            List<String> words = new ArrayList<>();
            Map<String, List<String>> opts = new LinkedHashMap<>();
            for (int i = 0; i < argv.length; i++) {
                String a = argv[i];
                if (a.equals("-h")) {
                    a = "--help";
                }
                if (a.startsWith("--") && a.length() > 2) {
                    String name = a.substring(2);
                    String value = null;
                    int eq = name.indexOf('=');
                    if (eq > 0) {
                        value = name.substring(eq + 1);
                        name = name.substring(0, eq);
                    }
                    if (FLAGS.contains(name)) {
                        if (value != null) {
                            throw new Usage("--" + name + " takes no value");
                        }
                        opts.computeIfAbsent(name, k -> new ArrayList<>());
                    } else if (OPTIONS.contains(name)) {
                        if (value == null) {
                            if (i + 1 >= argv.length) {
                                throw new Usage("--" + name + " needs a value");
                            }
                            value = argv[++i];
                        }
                        opts.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
                    } else {
                        throw new Usage("unknown option --" + name);
                    }
                } else {
                    words.add(a);
                }
            }
            return new Args(words, opts);
        }
    }

    int run(String[] argv) {
        // the group word may follow global options: deputy --url U --tenant T audit verify
        for (int i = 0; i < argv.length; i++) {
            String w = argv[i];
            if (w.equals("--url") || w.equals("--tenant")) {
                i++;
                continue;
            }
            if (w.startsWith("--")) {
                continue;
            }
            if (w.equals("audit") || w.equals("connector")) {
                List<String> reordered = new ArrayList<>();
                reordered.add(w);
                for (int j = 0; j < argv.length; j++) {
                    if (j != i) {
                        reordered.add(argv[j]);
                    }
                }
                return delegate(reordered.toArray(String[]::new));
            }
            break;
        }
        Args a;
        try {
            a = Args.parse(argv);
            if (a.words().isEmpty() || a.flag("help")) {
                out.print(USAGE);
                return a.words().isEmpty() && !a.flag("help") ? 2 : 0;
            }
            return dispatch(a);
        } catch (Usage u) {
            err.println("deputy: " + u.getMessage());
            err.println("run 'deputy --help' for usage");
            return 2;
        } catch (Failed f) {
            err.println("deputy: " + f.getMessage());
            return 1;
        }
    }

    private int dispatch(Args a) {
        String group = a.words().get(0);
        String cmd = a.words().size() > 1 ? a.words().get(1) : null;
        switch (group) {
            case "agent" -> {
                if (cmd == null) {
                    throw new Usage("agent needs a command: create, list, show, cert, rotate, suspend, resume, revoke");
                }
                return switch (cmd) {
                    case "create" -> agentCreate(a);
                    case "list" -> agentList(a);
                    case "show" -> agentShow(a);
                    case "cert" -> agentCert(a, false);
                    case "rotate" -> agentRotate(a);
                    case "suspend", "resume", "revoke" -> agentStatus(a, cmd);
                    default -> throw new Usage("unknown agent command '" + cmd + "'");
                };
            }
            case "role" -> {
                if (cmd == null) {
                    throw new Usage("role needs a command: create, list, show, update, remove");
                }
                return switch (cmd) {
                    case "create", "add" -> roleCreate(a);
                    case "list" -> simpleList(a, "roles", "roles");
                    case "show" -> show(a, "/roles/" + seg(a.word(2, "role name")));
                    case "update" -> roleUpdate(a);
                    case "remove", "delete" -> remove(a, "/roles/" + seg(a.word(2, "role name")), "role");
                    default -> throw new Usage("unknown role command '" + cmd + "'");
                };
            }
            case "resource" -> {
                if (cmd == null) {
                    throw new Usage("resource needs a command: add, list, show, remove");
                }
                return switch (cmd) {
                    case "add", "create" -> resourceAdd(a);
                    case "list" -> simpleList(a, "resources", "resources");
                    case "show" -> show(a, "/resources/" + seg(a.word(2, "resource id")));
                    case "remove", "delete" -> remove(a, "/resources/" + seg(a.word(2, "resource id")), "resource");
                    default -> throw new Usage("unknown resource command '" + cmd + "'");
                };
            }
            case "apply" -> {
                return apply(a);
            }
            default -> throw new Usage("unknown command '" + group + "'");
        }
    }

    // ---- agents

    private int agentCreate(Args a) {
        String id = a.word(2, "agent id");
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("id", id);
        put(body, "name", a.opt("name"));
        put(body, "owner", a.opt("owner"));
        put(body, "environment", a.opt("env") != null ? a.opt("env") : a.opt("environment"));
        body.put("auth_method", a.opt("auth-method") != null ? a.opt("auth-method") : "tls_client_auth");
        if (!a.all("role").isEmpty()) {
            body.put("roles", splitAll(a.all("role")));
        }
        if (!a.all("metadata").isEmpty()) {
            body.put("metadata", keyValues(a.all("metadata")));
        }
        credential(a, body);
        Api api = api(a);
        Map<String, Object> agent = api.call("POST", api.tenantPath("/agents"), body);
        return printAgent(a, agent, "created agent " + id);
    }

    private int agentList(Args a) {
        Api api = api(a);
        StringBuilder q = new StringBuilder();
        if (a.opt("status") != null) {
            q.append("status=").append(URLEncoder.encode(a.opt("status"), StandardCharsets.UTF_8));
        }
        if (a.flag("dormant")) {
            q.append(q.isEmpty() ? "" : "&").append("dormant=true");
        }
        Map<String, Object> r = api.call("GET", api.tenantPath("/agents") + (q.isEmpty() ? "" : "?" + q), null);
        if (a.flag("json")) {
            return printJson(r);
        }
        List<Map<String, Object>> agents = list(r.get("agents"));
        if (agents.isEmpty()) {
            out.println(a.flag("dormant") ? "no dormant agents" : "no agents");
            return 0;
        }
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[]{"ID", "STATUS", "AUTH", "ENV", "ROLES", "LAST ACTIVITY", "DORMANT", "MANAGED BY"});
        for (Map<String, Object> ag : agents) {
            rows.add(new String[]{str(ag.get("id")), str(ag.get("status")), str(ag.get("auth_method")),
                    str(ag.get("environment")), String.join(",", strings(ag.get("roles"))), str(ag.get("last_activity_at")),
                    Boolean.TRUE.equals(ag.get("dormant")) ? "yes" : "no", str(ag.get("managed_by"))});
        }
        table(rows);
        return 0;
    }

    private int agentShow(Args a) {
        Api api = api(a);
        Map<String, Object> agent = api.call("GET", api.tenantPath("/agents/" + seg(a.word(2, "agent id"))), null);
        return printAgent(a, agent, null);
    }

    private int agentStatus(Args a, String action) {
        Api api = api(a);
        String id = a.word(2, "agent id");
        Map<String, Object> body = new LinkedHashMap<>();
        put(body, "reason", a.opt("reason"));
        Map<String, Object> agent = api.call("POST", api.tenantPath("/agents/" + seg(id) + "/" + action), body);
        return printAgent(a, agent, switch (action) {
            case "suspend" -> "suspended agent " + id;
            case "resume" -> "resumed agent " + id;
            default -> "revoked agent " + id + " (its credentials no longer work; the record and audit trail stay)";
        });
    }

    private int agentRotate(Args a) {
        Api api = api(a);
        String id = a.word(2, "agent id");
        Map<String, Object> agent = api.call("GET", api.tenantPath("/agents/" + seg(id)), null);
        if ("tls_client_auth".equals(agent.get("auth_method"))) {
            return agentCert(a, true);
        }
        Map<String, Object> body = new LinkedHashMap<>();
        credential(a, body);
        if (body.isEmpty()) {
            throw new Usage("rotate of a " + agent.get("auth_method") + " agent needs "
                    + ("private_key_jwt".equals(agent.get("auth_method")) ? "--jwks FILE or --jwks-uri URL" : "--cert FILE"));
        }
        put(body, "overlap", a.opt("overlap"));
        Map<String, Object> after = api.call("POST", api.tenantPath("/agents/" + seg(id) + "/rotate"), body);
        return printAgent(a, after, "rotated credentials of agent " + id + "; the previous ones keep working for "
                + (a.opt("overlap") == null ? "1h" : a.opt("overlap")));
    }

    /** Key pair here, CSR to the tenant's agent CA, key + certificate + CA certificate to --out. */
    private int agentCert(Args a, boolean rotate) {
        String id = a.word(2, "agent id");
        Path dir = Path.of(a.opt("out") == null ? "." : a.opt("out"));
        String keyType = a.opt("key-type") == null ? "ec" : a.opt("key-type");
        KeyPair kp = generate(keyType);
        String csr = csr(id, kp, keyType);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("csr", csr);
        put(body, "ttl", a.opt("ttl"));
        body.put("rotate", rotate || a.flag("rotate"));
        put(body, "overlap", a.opt("overlap"));
        Api api = api(a);
        Map<String, Object> r = api.call("POST", api.tenantPath("/agents/" + seg(id) + "/certificates"), body);
        String cert = str(r.get("certificate"));
        String ca = str(r.get("ca"));
        if (cert.isEmpty()) {
            throw new Failed("the broker answered without a certificate");
        }
        try {
            Files.createDirectories(dir);
            Path key = dir.resolve(id + ".key");
            writePrivate(key, pem("PRIVATE KEY", kp.getPrivate().getEncoded()));
            Files.writeString(dir.resolve(id + ".crt"), cert.endsWith("\n") ? cert : cert + "\n");
            if (!ca.isEmpty()) {
                Files.writeString(dir.resolve("ca.crt"), ca.endsWith("\n") ? ca : ca + "\n");
            }
        } catch (IOException e) {
            throw new Failed("cannot write to " + dir + ": " + e.getMessage());
        }
        if (a.flag("json")) {
            Map<String, Object> shown = new LinkedHashMap<>(r);
            shown.put("key_file", dir.resolve(id + ".key").toString());
            shown.put("certificate_file", dir.resolve(id + ".crt").toString());
            shown.put("ca_file", dir.resolve("ca.crt").toString());
            return printJson(shown);
        }
        out.println((rotate ? "rotated certificate of agent " : "issued certificate for agent ") + id);
        out.println("  key          " + dir.resolve(id + ".key") + " (0600)");
        out.println("  certificate  " + dir.resolve(id + ".crt"));
        out.println("  CA           " + dir.resolve("ca.crt"));
        out.println("  serial       " + str(r.get("serial")));
        out.println("  x5t#S256     " + str(r.get("thumbprint")));
        out.println("  not after    " + str(r.get("not_after")));
        return 0;
    }

    private void credential(Args a, Map<String, Object> body) {
        int n = (a.opt("jwks") != null ? 1 : 0) + (a.opt("jwks-uri") != null ? 1 : 0) + (a.opt("cert") != null ? 1 : 0);
        if (n > 1) {
            throw new Usage("give at most one of --jwks, --jwks-uri, --cert");
        }
        if (a.opt("jwks") != null) {
            String text = read(Path.of(a.opt("jwks")));
            try {
                body.put("jwks", JSON.readValue(text, new TypeReference<Map<String, Object>>() {
                }));
            } catch (IOException e) {
                throw new Usage(a.opt("jwks") + " is not a JSON JWK Set");
            }
        }
        put(body, "jwks_uri", a.opt("jwks-uri"));
        if (a.opt("cert") != null) {
            body.put("certificate", read(Path.of(a.opt("cert"))));
        }
    }

    private int printAgent(Args a, Map<String, Object> ag, String headline) {
        if (a.flag("json")) {
            return printJson(ag);
        }
        if (headline != null) {
            out.println(headline);
        }
        out.println("id            " + str(ag.get("id")));
        out.println("name          " + str(ag.get("name")));
        out.println("status        " + str(ag.get("status")));
        out.println("auth method   " + str(ag.get("auth_method")));
        out.println("environment   " + str(ag.get("environment")));
        out.println("owner         " + str(ag.get("owner")));
        out.println("roles         " + String.join(", ", strings(ag.get("roles"))));
        out.println("managed by    " + str(ag.get("managed_by")));
        out.println("created       " + str(ag.get("created_at")));
        out.println("last seen     " + (ag.get("last_seen_at") == null ? "never" : str(ag.get("last_seen_at"))));
        out.println("dormant       " + (Boolean.TRUE.equals(ag.get("dormant")) ? "yes" : "no"));
        Object md = ag.get("metadata");
        if (md instanceof Map<?, ?> m && !m.isEmpty()) {
            out.println("metadata      " + m);
        }
        List<Map<String, Object>> creds = list(ag.get("credentials"));
        if (!creds.isEmpty()) {
            out.println("credentials");
            for (Map<String, Object> c : creds) {
                StringBuilder sb = new StringBuilder("  ").append(str(c.get("id"))).append("  ").append(str(c.get("kind")))
                        .append("  ").append(str(c.get("status")));
                sb.append(Boolean.TRUE.equals(c.get("usable")) ? " (usable)" : " (not usable)");
                if (c.get("x5t#S256") != null) {
                    sb.append("  x5t#S256=").append(c.get("x5t#S256"));
                }
                if (c.get("jwks_uri") != null) {
                    sb.append("  ").append(c.get("jwks_uri"));
                }
                if (c.get("keys") != null) {
                    sb.append("  kids=").append(list(c.get("keys")).stream().map(k -> str(k.get("kid"))).toList());
                }
                if (c.get("valid_until") != null) {
                    sb.append("  valid until ").append(c.get("valid_until"));
                } else if (c.get("not_after") != null) {
                    sb.append("  not after ").append(c.get("not_after"));
                }
                out.println(sb);
            }
        }
        return 0;
    }

    // ---- roles and resources

    private int roleCreate(Args a) {
        String name = a.word(2, "role name");
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("name", name);
        put(body, "description", a.opt("description"));
        body.put("scopes", splitAll(a.all("scope")));
        body.put("environments", splitAll(a.all("env")));
        Api api = api(a);
        Map<String, Object> r = api.call("POST", api.tenantPath("/roles"), body);
        return printObject(a, r, "created role " + name);
    }

    private int roleUpdate(Args a) {
        String name = a.word(2, "role name");
        Map<String, Object> body = new LinkedHashMap<>();
        put(body, "description", a.opt("description"));
        body.put("scopes", splitAll(a.all("scope")));
        body.put("environments", splitAll(a.all("env")));
        Api api = api(a);
        Map<String, Object> r = api.call("PUT", api.tenantPath("/roles/" + seg(name)), body);
        return printObject(a, r, "updated role " + name);
    }

    private int resourceAdd(Args a) {
        String uri = a.word(2, "resource URI");
        Map<String, Object> body = new LinkedHashMap<>();
        put(body, "id", a.opt("id"));
        body.put("uri", uri);
        put(body, "name", a.opt("name"));
        body.put("scopes", splitAll(a.all("scope")));
        body.put("default", a.flag("default"));
        Api api = api(a);
        Map<String, Object> r = api.call("POST", api.tenantPath("/resources"), body);
        return printObject(a, r, "added resource " + r.get("id"));
    }

    private int simpleList(Args a, String path, String key) {
        Api api = api(a);
        Map<String, Object> r = api.call("GET", api.tenantPath("/" + path), null);
        if (a.flag("json")) {
            return printJson(r);
        }
        List<Map<String, Object>> items = list(r.get(key));
        if (items.isEmpty()) {
            out.println("no " + key);
            return 0;
        }
        List<String[]> rows = new ArrayList<>();
        if (key.equals("roles")) {
            rows.add(new String[]{"NAME", "SCOPES", "ENVIRONMENTS", "MANAGED BY"});
            for (Map<String, Object> i : items) {
                rows.add(new String[]{str(i.get("name")), String.join(" ", strings(i.get("scopes"))),
                        strings(i.get("environments")).isEmpty() ? "(all)" : String.join(",", strings(i.get("environments"))),
                        str(i.get("managed_by"))});
            }
        } else {
            rows.add(new String[]{"ID", "URI", "DEFAULT", "SCOPES", "MANAGED BY"});
            for (Map<String, Object> i : items) {
                rows.add(new String[]{str(i.get("id")), str(i.get("uri")), Boolean.TRUE.equals(i.get("default")) ? "yes" : "",
                        String.join(" ", strings(i.get("scopes"))), str(i.get("managed_by"))});
            }
        }
        table(rows);
        return 0;
    }

    private int show(Args a, String path) {
        Api api = api(a);
        return printObject(a, api.call("GET", api.tenantPath(path), null), null);
    }

    private int remove(Args a, String path, String what) {
        Api api = api(a);
        api.call("DELETE", api.tenantPath(path), null);
        if (a.flag("json")) {
            return printJson(Map.of("removed", a.words().get(2)));
        }
        out.println("removed " + what + " " + a.words().get(2));
        return 0;
    }

    private int printObject(Args a, Map<String, Object> r, String headline) {
        if (a.flag("json")) {
            return printJson(r);
        }
        if (headline != null) {
            out.println(headline);
        }
        for (Map.Entry<String, Object> e : r.entrySet()) {
            Object v = e.getValue();
            String s = v instanceof List<?> l ? String.join(" ", l.stream().map(String::valueOf).toList()) : str(v);
            out.printf("%-13s %s%n", e.getKey().replace('_', ' '), s);
        }
        return 0;
    }

    // ---- apply

    private int apply(Args a) {
        Path dir = Path.of(a.word(1, "directory (a config tree or a tenant folder)"));
        Api api = api(a);
        Path tenantDir = Files.isDirectory(dir.resolve("tenants").resolve(api.tenant))
                ? dir.resolve("tenants").resolve(api.tenant) : dir;
        if (!Files.isDirectory(tenantDir)) {
            throw new Usage(dir + " is not a directory");
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
                throw new Failed("cannot read " + f + ": " + e.getMessage());
            }
        }
        if (files.isEmpty()) {
            err.println("deputy: warning: no agents/, roles/ or resources/ files in " + tenantDir
                    + " (applying removes every config-managed object)");
        }
        boolean dry = a.flag("dry-run");
        Api.Result r = api.send("POST", api.tenantPath("/apply?dry_run=" + dry), Map.of("files", files));
        Map<String, Object> body = r.json();
        if (r.status() == 200 || body.containsKey("plan")) {
            if (a.flag("json")) {
                printJson(body);
            } else {
                out.print(str(body.get("plan")).replace(tenantDir.toString(), ""));
                if (r.status() == 200) {
                    out.println(dry ? "dry run: nothing changed" : "applied");
                }
            }
            if (r.status() == 200) {
                return 0;
            }
            err.println("deputy: the plan cannot be applied: " + str(body.get("error_description")));
            return 1;
        }
        throw new Failed(describe(r));
    }

    // ---- command groups with their own parsers (audit, connector)

    /**
     * {@code deputy audit …} and {@code deputy connector …}: the global options ({@code --url}, {@code --tenant},
     * {@code --json}) are taken here, the rest goes to the group's own parser.
     */
    private int delegate(String[] argv) {
        List<String> rest = new ArrayList<>();
        Map<String, List<String>> global = new LinkedHashMap<>();
        boolean json = false;
        for (int i = 1; i < argv.length; i++) {
            String w = argv[i];
            if (w.equals("--json")) {
                json = true;
            } else if ((w.equals("--url") || w.equals("--tenant")) && i + 1 < argv.length) {
                global.put(w.substring(2), List.of(argv[++i]));
            } else if (w.startsWith("--url=") || w.startsWith("--tenant=")) {
                int eq = w.indexOf('=');
                global.put(w.substring(2, eq), List.of(w.substring(eq + 1)));
            } else {
                rest.add(w);
            }
        }
        String[] args = rest.toArray(String[]::new);
        boolean offline = argv[0].equals("audit") && args.length > 0 && args[0].equals("verify-file");
        try {
            Api api = offline ? null : api(new Args(List.of(), global));
            String base = api == null ? null : api.base;
            String tenant = api == null ? global.getOrDefault("tenant", List.of("demo")).get(0) : api.tenant;
            String token = api == null || args.length == 0 || args[0].equals("help") || args[0].equals("--help")
                    ? null : api.token();
            if (argv[0].equals("audit")) {
                return AuditCommands.run(args, new AuditCommands.Context(base, token, tenant, json, out, err));
            }
            return ConnectorCommands.run(args, base, token, tenant, json, out, err);
        } catch (Failed f) {
            err.println("deputy: " + f.getMessage());
            return 1;
        }
    }

    // ---- plumbing

    Api api(Args a) {
        String tenant = a.opt("tenant") != null ? a.opt("tenant") : env.getOrDefault("DEPUTY_TENANT", "demo");
        String id = env.get("DEPUTY_ADMIN_CLIENT_ID");
        String secret = env.get("DEPUTY_ADMIN_CLIENT_SECRET");
        String fileUrl = null;
        if (id == null || id.isBlank() || secret == null || secret.isBlank()) {
            Path dataDir = Path.of(env.getOrDefault("DEPUTY_DATA_DIR", "./data"));
            Path file = dataDir.resolve("admin-credentials.json");
            if (!Files.isReadable(file)) {
                throw new Failed("no admin credentials: set DEPUTY_ADMIN_CLIENT_ID and DEPUTY_ADMIN_CLIENT_SECRET, or "
                        + "DEPUTY_DATA_DIR to the broker's data dir (looked for " + file + ")");
            }
            try {
                Map<String, String> c = JSON.readValue(file.toFile(), new TypeReference<>() {
                });
                id = c.get("client_id");
                secret = c.get("client_secret");
                fileUrl = c.get("url");
            } catch (IOException e) {
                throw new Failed("cannot read " + file + ": " + e.getMessage());
            }
        }
        String url = a.opt("url") != null ? a.opt("url") : env.get("DEPUTY_URL") != null && !env.get("DEPUTY_URL").isBlank()
                ? env.get("DEPUTY_URL") : fileUrl != null ? fileUrl : "http://localhost:8080";
        return new Api(url.endsWith("/") ? url.substring(0, url.length() - 1) : url, tenant, id, secret);
    }

    final class Api {
        private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        final String base;
        final String tenant;
        private final String clientId;
        private final String clientSecret;
        private String token;

        Api(String base, String tenant, String clientId, String clientSecret) {
            this.base = base;
            this.tenant = tenant;
            this.clientId = clientId;
            this.clientSecret = clientSecret;
        }

        record Result(int status, String body) {
            @SuppressWarnings("unchecked")
            Map<String, Object> json() {
                try {
                    return body == null || body.isBlank() ? Map.of() : JSON.readValue(body, Map.class);
                } catch (IOException e) {
                    return Map.of();
                }
            }
        }

        String tenantPath(String rest) {
            return "/admin/t/" + seg(tenant) + rest;
        }

        private String token() {
            if (token == null) {
                String basic = Base64.getEncoder().encodeToString((URLEncoder.encode(clientId, StandardCharsets.UTF_8) + ":"
                        + URLEncoder.encode(clientSecret, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8));
                Result r = exchange(HttpRequest.newBuilder(URI.create(base + "/admin/token"))
                        .header("Authorization", "Basic " + basic)
                        .header("Content-Type", "application/x-www-form-urlencoded")
                        .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials")));
                if (r.status() != 200) {
                    throw new Failed("admin login failed at " + base + ": " + describe(r));
                }
                token = str(r.json().get("access_token"));
            }
            return token;
        }

        Result send(String method, String path, Object body) {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path))
                    .header("Authorization", "Bearer " + token()).header("Accept", "application/json");
            try {
                if (body == null) {
                    b.method(method, HttpRequest.BodyPublishers.noBody());
                } else {
                    b.header("Content-Type", "application/json")
                            .method(method, HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
                }
            } catch (IOException e) {
                throw new Failed(e.getMessage());
            }
            return exchange(b);
        }

        Map<String, Object> call(String method, String path, Object body) {
            Result r = send(method, path, body);
            if (r.status() / 100 != 2) {
                throw new Failed(describe(r));
            }
            return r.json();
        }

        private Result exchange(HttpRequest.Builder b) {
            try {
                HttpResponse<String> r = http.send(b.timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
                return new Result(r.statusCode(), r.body());
            } catch (IOException e) {
                throw new Failed("cannot reach the broker at " + base + ": " + e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Failed("interrupted");
            }
        }
    }

    static String describe(Api.Result r) {
        Map<String, Object> j = r.json();
        if (j.get("error") != null) {
            return str(j.get("error_description")).isEmpty() ? str(j.get("error")) + " (HTTP " + r.status() + ")"
                    : j.get("error_description") + " (" + j.get("error") + ", HTTP " + r.status() + ")";
        }
        return "HTTP " + r.status();
    }

    private int printJson(Object o) {
        try {
            out.println(JSON.writeValueAsString(o));
        } catch (IOException e) {
            throw new Failed(e.getMessage());
        }
        return 0;
    }

    private void table(List<String[]> rows) {
        int[] w = new int[rows.get(0).length];
        for (String[] r : rows) {
            for (int i = 0; i < r.length; i++) {
                w[i] = Math.max(w[i], r[i].length());
            }
        }
        for (String[] r : rows) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < r.length; i++) {
                sb.append(i == r.length - 1 ? r[i] : String.format("%-" + (w[i] + 2) + "s", r[i]));
            }
            out.println(sb.toString().stripTrailing());
        }
    }

    static KeyPair generate(String type) {
        try {
            switch (type) {
                case "ec", "p256", "ec-p256" -> {
                    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
                    g.initialize(new ECGenParameterSpec("secp256r1"));
                    return g.generateKeyPair();
                }
                case "rsa", "rsa2048" -> {
                    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
                    g.initialize(2048);
                    return g.generateKeyPair();
                }
                default -> throw new Usage("--key-type must be ec or rsa");
            }
        } catch (java.security.GeneralSecurityException e) {
            throw new Failed("cannot generate a key: " + e.getMessage());
        }
    }

    static String csr(String id, KeyPair kp, String type) {
        try {
            String alg = type.startsWith("rsa") ? "SHA256withRSA" : "SHA256withECDSA";
            PKCS10CertificationRequest req = new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=" + id), kp.getPublic())
                    .build(new JcaContentSignerBuilder(alg).build(kp.getPrivate()));
            return pem("CERTIFICATE REQUEST", req.getEncoded());
        } catch (Exception e) {
            throw new Failed("cannot build the CSR: " + e.getMessage());
        }
    }

    static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    static void writePrivate(Path file, String content) throws IOException {
        Files.deleteIfExists(file);
        try {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) {
            Files.createFile(file);
        }
        Files.writeString(file, content, StandardOpenOption.TRUNCATE_EXISTING);
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            throw new Usage("cannot read " + p + ": " + e.getMessage());
        }
    }

    static void put(Map<String, Object> m, String k, Object v) {
        if (v != null) {
            m.put(k, v);
        }
    }

    static List<String> splitAll(List<String> values) {
        List<String> out = new ArrayList<>();
        for (String v : values) {
            for (String s : v.split("[,\\s]+")) {
                if (!s.isEmpty()) {
                    out.add(s);
                }
            }
        }
        return out;
    }

    static Map<String, Object> keyValues(List<String> pairs) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (String p : pairs) {
            int eq = p.indexOf('=');
            if (eq <= 0) {
                throw new Usage("--metadata takes key=value, not '" + p + "'");
            }
            m.put(p.substring(0, eq), p.substring(eq + 1));
        }
        return m;
    }

    static String seg(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    static String str(Object o) {
        return o == null ? "" : String.valueOf(o);
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> list(Object o) {
        return o instanceof List<?> l ? (List<Map<String, Object>>) l : List.of();
    }

    static List<String> strings(Object o) {
        return o instanceof List<?> l ? l.stream().map(String::valueOf).toList() : List.of();
    }

    static final String USAGE = """
            usage: deputy [--url URL] [--tenant T] [--json] COMMAND ...

            Talks to the broker's admin API. URL: --url, else DEPUTY_URL, else the url in the credentials file.
            Admin credentials: DEPUTY_ADMIN_CLIENT_ID / DEPUTY_ADMIN_CLIENT_SECRET, else
            <DEPUTY_DATA_DIR or ./data>/admin-credentials.json. Tenant: --tenant, default demo.

            agents
              agent create ID --env ENV [--name N] [--owner O] [--role R]... [--metadata k=v]...
                              [--auth-method tls_client_auth|self_signed_tls_client_auth|private_key_jwt]
                              [--jwks FILE | --jwks-uri URL | --cert FILE]
              agent list [--status active|suspended|revoked] [--dormant]
              agent show ID
              agent cert ID [--out DIR] [--ttl 24h] [--key-type ec|rsa]
                  key pair made here; writes DIR/ID.key (0600), DIR/ID.crt and DIR/ca.crt
              agent rotate ID [--overlap 1h] [--jwks FILE | --jwks-uri URL | --cert FILE] [--out DIR]
                  tls_client_auth agents get a new CA certificate; others register the given key or certificate
              agent suspend|resume|revoke ID [--reason TEXT]
            roles
              role create NAME --scope S... [--env ENV]... [--description D]
              role update NAME --scope S... [--env ENV]... [--description D]
              role list | role show NAME | role remove NAME
            resources
              resource add URI [--id ID] [--name N] [--scope S]... [--default]
              resource list | resource show ID | resource remove ID
            policy as code
              apply [--dry-run] DIR     DIR: a config tree (uses tenants/<tenant>/) or a tenant folder
            connectors (upstream IdPs)
              connector add|list|show|test|enable|disable|remove ...   (deputy connector --help)
            audit
              audit verify|query|checkpoint|checkpoints|export|jwks|tail|archive|archives|verify-file ...
                                                                        (deputy audit --help)

            exit codes: 0 ok, 1 error, 2 usage
            """;
}
