package dev.deputy.broker.ops;

import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Structural checks of what ships for operators (deploy/kubernetes, deploy/systemd, the image's entrypoint in
 * broker/pom.xml): probes on the right endpoints, secrets only by reference, non-root, a PodDisruptionBudget that
 * matches the broker's pods, services that select something, a stop timeout longer than the drain, and the same JVM
 * memory flags everywhere (scripts/lib/common.sh is the source). scripts/test also renders the manifests with
 * {@code kubectl kustomize} and runs {@code systemd-analyze verify} on the unit where those tools exist.
 */
class DeploymentFilesTest {
    static final Path ROOT = Files.exists(Path.of("..", "deploy")) ? Path.of("..") : Path.of(".");
    static final Set<String> SECRET_VARS = Set.of("DEPUTY_MASTER_KEY", "DEPUTY_MYSQL_PASSWORD", "DEPUTY_ADMIN_BOOTSTRAP_SECRET",
            "MARIADB_PASSWORD", "MARIADB_ROOT_PASSWORD");

    static List<String> memoryDefaults() throws IOException {
        Matcher m = Pattern.compile("DEPUTY_JVM_MEMORY_DEFAULTS=\"([^\"]+)\"").matcher(Files.readString(ROOT.resolve("scripts/lib/common.sh")));
        assertTrue(m.find(), "no DEPUTY_JVM_MEMORY_DEFAULTS in scripts/lib/common.sh");
        return List.of(m.group(1).trim().split("\\s+"));
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> manifests() throws IOException {
        List<Map<String, Object>> docs = new ArrayList<>();
        try (Stream<Path> files = Files.list(ROOT.resolve("deploy/kubernetes"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
                if (f.getFileName().toString().equals("kustomization.yaml")) {
                    continue;
                }
                for (Object o : new Yaml(new SafeConstructor(new LoaderOptions())).loadAll(Files.readString(f))) {
                    if (o != null) {
                        docs.add((Map<String, Object>) o);
                    }
                }
            }
        }
        return docs;
    }

    @SuppressWarnings("unchecked")
    static <T> T at(Object node, String... path) {
        Object n = node;
        for (String p : path) {
            if (n instanceof Map<?, ?> m) {
                n = m.get(p);
            } else if (n instanceof List<?> l) {
                n = l.get(Integer.parseInt(p));
            } else {
                return null;
            }
        }
        return (T) n;
    }

    static Map<String, Object> one(List<Map<String, Object>> docs, String kind, String name) {
        return docs.stream().filter(d -> kind.equals(d.get("kind")) && name.equals(at(d, "metadata", "name"))).findFirst()
                .orElseThrow(() -> new AssertionError("no " + kind + " " + name));
    }

    @Test
    @SuppressWarnings("unchecked")
    void kubernetesBrokerProbesSecretsUserAndDisruptionBudget() throws IOException {
        List<Map<String, Object>> docs = manifests();
        assertFalse(docs.stream().anyMatch(d -> "Secret".equals(d.get("kind"))), "no Secret is shipped with values");
        Map<String, Object> dep = one(docs, "Deployment", "deputy");
        int replicas = at(dep, "spec", "replicas");
        assertTrue(replicas >= 2, "several stateless nodes");
        Map<String, Object> pod = at(dep, "spec", "template");
        Map<String, Object> labels = at(pod, "metadata", "labels");
        assertEquals(labels, at(dep, "spec", "selector", "matchLabels"));
        Map<String, Object> c = at(pod, "spec", "containers", "0");
        assertEquals("/health/ready", at(c, "readinessProbe", "httpGet", "path"));
        assertEquals("/health/live", at(c, "livenessProbe", "httpGet", "path"));
        assertEquals(Boolean.TRUE, at(pod, "spec", "securityContext", "runAsNonRoot"));
        assertTrue((Integer) at(pod, "spec", "securityContext", "runAsUser") > 0);
        assertEquals(Boolean.FALSE, at(c, "securityContext", "allowPrivilegeEscalation"));

        Map<String, Object> env = new LinkedHashMap<>();
        for (Map<String, Object> e : (List<Map<String, Object>>) c.get("env")) {
            env.put((String) e.get("name"), e.containsKey("value") ? e.get("value") : e.get("valueFrom"));
        }
        for (String v : List.of("DEPUTY_MASTER_KEY", "DEPUTY_MYSQL_PASSWORD", "DEPUTY_ADMIN_BOOTSTRAP_SECRET")) {
            assertEquals("deputy-secrets", at(env.get(v), "secretKeyRef", "name"), v + " from the Secret");
        }
        assertTrue(String.valueOf(env.get("DEPUTY_MYSQL_URL")).startsWith("jdbc:mysql://deputy-mysql:3306/"));
        assertTrue(String.valueOf(env.get("DEPUTY_REDIS_URI")).startsWith("redis://deputy-redis:6379"));
        // every DEPUTY_ variable is one the README documents
        List<String> rows = Files.readAllLines(ROOT.resolve("README.md")).stream().filter(l -> l.startsWith("| `DEPUTY_")).toList();
        for (String v : env.keySet()) {
            assertTrue(rows.stream().anyMatch(r -> r.contains("`" + v + "`")), v + " is not in README's environment table");
        }
        // the stop timeout covers the drain delay and the shutdown grace
        int grace = at(pod, "spec", "terminationGracePeriodSeconds");
        int drain = seconds(env.get("DEPUTY_DRAIN_DELAY")) + seconds(env.get("DEPUTY_SHUTDOWN_GRACE"));
        assertTrue(grace > drain, "terminationGracePeriodSeconds " + grace + " <= drain " + drain);
        // the JVM flags are the image's and scripts/run's
        List<String> command = (List<String>) c.get("command");
        assertTrue(command.containsAll(memoryDefaults()), "memory flags " + memoryDefaults() + " not in " + command);
        assertEquals(imageEntrypoint(), command, "the manifest's command is the image's entrypoint");

        Map<String, Object> pdb = one(docs, "PodDisruptionBudget", "deputy");
        assertEquals(labels, at(pdb, "spec", "selector", "matchLabels"));
        int minAvailable = at(pdb, "spec", "minAvailable");
        assertTrue(minAvailable >= 1 && minAvailable < replicas, "a drain can proceed and keeps nodes serving");
    }

    @Test
    @SuppressWarnings("unchecked")
    void everyServiceSelectsPodsAndDependenciesTakeSecretsByReference() throws IOException {
        List<Map<String, Object>> docs = manifests();
        List<Map<String, Object>> templates = docs.stream().filter(d -> Set.of("Deployment", "StatefulSet").contains(d.get("kind")))
                .map(d -> (Map<String, Object>) at(d, "spec", "template")).toList();
        for (Map<String, Object> svc : docs.stream().filter(d -> "Service".equals(d.get("kind"))).toList()) {
            Map<String, Object> sel = at(svc, "spec", "selector");
            assertNotNull(sel);
            assertTrue(templates.stream().anyMatch(t -> ((Map<String, Object>) at(t, "metadata", "labels")).entrySet().containsAll(sel.entrySet())),
                    "Service " + at(svc, "metadata", "name") + " selects no pods");
        }
        for (Map<String, Object> t : templates) {
            for (Map<String, Object> c : (List<Map<String, Object>>) at(t, "spec", "containers")) {
                assertNotNull(c.get("readinessProbe"), c.get("name") + " has a readiness probe");
                for (Map<String, Object> e : (List<Map<String, Object>>) c.getOrDefault("env", List.of())) {
                    if (SECRET_VARS.contains(e.get("name"))) {
                        assertFalse(e.containsKey("value"), e.get("name") + " must come from a Secret");
                        assertEquals("deputy-secrets", at(e, "valueFrom", "secretKeyRef", "name"));
                    }
                }
            }
        }
    }

    @Test
    void systemdUnitDrainsRunsUnprivilegedAndKeepsSecretsOut() throws IOException {
        String unit = Files.readString(ROOT.resolve("deploy/systemd/deputy.service")).replace("\\\n", " ");
        Map<String, List<String>> keys = new LinkedHashMap<>();
        for (String line : unit.split("\n")) {
            int eq = line.indexOf('=');
            if (!line.startsWith("#") && !line.startsWith("[") && eq > 0) {
                keys.computeIfAbsent(line.substring(0, eq).trim(), k -> new ArrayList<>()).add(line.substring(eq + 1).trim());
            }
        }
        assertEquals(List.of("yes"), keys.get("DynamicUser"));
        assertEquals(List.of("yes"), keys.get("NoNewPrivileges"));
        assertEquals(List.of("SIGTERM"), keys.get("KillSignal"));
        assertEquals(List.of("2"), keys.get("RestartPreventExitStatus"), "a bad configuration is not restarted");
        assertTrue(keys.get("EnvironmentFile").get(0).endsWith("/etc/deputy/deputy.env"));
        for (String e : keys.getOrDefault("Environment", List.of())) {
            for (String s : SECRET_VARS) {
                assertFalse(e.startsWith(s + "="), s + " is set in the unit itself");
            }
        }
        int grace = seconds(keys.get("Environment").stream().filter(e -> e.startsWith("DEPUTY_SHUTDOWN_GRACE=")).findFirst()
                .orElseThrow().substring("DEPUTY_SHUTDOWN_GRACE=".length()));
        assertTrue(Integer.parseInt(keys.get("TimeoutStopSec").get(0)) > grace, "TimeoutStopSec covers the drain");
        List<String> exec = Arrays.asList(keys.get("ExecStart").get(0).split("\\s+"));
        assertTrue(exec.containsAll(memoryDefaults()), "memory flags " + memoryDefaults() + " not in " + exec);
    }

    @Test
    void imageEntrypointUsesTheMemoryDefaultsAndTheNonRootUser() throws IOException {
        List<String> entry = imageEntrypoint();
        assertEquals("/opt/java/bin/java", entry.get(0));
        assertTrue(entry.containsAll(memoryDefaults()), "memory flags " + memoryDefaults() + " not in " + entry);
        assertEquals("dev.deputy.broker.Application", entry.get(entry.size() - 1));
        String pom = Files.readString(ROOT.resolve("broker/pom.xml"));
        assertTrue(pom.contains("<user>65532:65532</user>"));
        assertTrue(pom.contains("<version>3.5.2</version>") && pom.contains("<artifactId>jib-maven-plugin</artifactId>"));
        for (String s : SECRET_VARS) {
            assertFalse(pom.contains("<" + s + ">"), s + " baked into the image");
        }
    }

    static List<String> imageEntrypoint() throws IOException {
        String pom = Files.readString(ROOT.resolve("broker/pom.xml"));
        Matcher block = Pattern.compile("<entrypoint>(.*?)</entrypoint>", Pattern.DOTALL).matcher(pom);
        assertTrue(block.find(), "no <entrypoint> in broker/pom.xml");
        List<String> args = new ArrayList<>();
        Matcher a = Pattern.compile("<arg>(.*?)</arg>").matcher(block.group(1));
        while (a.find()) {
            args.add(a.group(1));
        }
        return args;
    }

    static int seconds(Object v) {
        String s = String.valueOf(v).trim();
        return Integer.parseInt(s.endsWith("s") ? s.substring(0, s.length() - 1) : s);
    }

    @Test
    void readmeEnvironmentTableHasNoDuplicates() throws IOException {
        Set<String> seen = new TreeSet<>();
        Matcher m = Pattern.compile("(?m)^\\| `(DEPUTY_[A-Z_]+)`").matcher(Files.readString(ROOT.resolve("README.md")));
        while (m.find()) {
            assertTrue(seen.add(m.group(1)), "twice in README: " + m.group(1));
        }
    }
}
